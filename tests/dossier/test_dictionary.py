"""The committed data dictionary is the one the model declarations generate today."""

from __future__ import annotations

from connectors.config import PROJECT_ROOT
from flows import models
from flows.dictionary import build_dictionary


def test_data_dictionary_is_current_and_complete() -> None:
    generated = build_dictionary()
    committed = (PROJECT_ROOT / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    assert committed == generated, (
        "regenerate: python -m flows.dictionary > docs/data_dictionary.md"
    )
    for name in [m.name for m in models.MARTS] + list(models.VIEWS):
        assert f"\n## marts.{name}\n" in generated
    assert "| `overall_if_high` | DOUBLE |" in generated
    assert "| `tier` | VARCHAR |" in generated
