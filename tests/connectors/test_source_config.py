"""Settings have one default, declared with each source; a user's sources.toml changes only
what it names, a setting no source declares is refused, and PARTNERDD_* wins over both."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.config import ConfigError, load_settings
from connectors.gleif.source import SPEC as GLEIF


def test_defaults_are_the_declarations() -> None:
    settings = load_settings({})
    assert settings.source("gleif") == dict(GLEIF.config["gleif"])
    assert settings.http["retries"] == 3  # config/sources.toml [http]


def test_a_users_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_text("[sources.gleif]\nrate_per_second = 2.0\n")
    settings = load_settings({"PARTNERDD_CONFIG": str(tmp_path)})
    assert settings.source("gleif") == {**GLEIF.config["gleif"], "rate_per_second": 2.0}
    assert settings.http == load_settings({}).http
    env = {"PARTNERDD_CONFIG": str(tmp_path), "PARTNERDD_GLEIF_RATE_PER_SECOND": "0.5"}
    assert load_settings(env).source("gleif")["rate_per_second"] == 0.5


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[sources.gleif]\nrate_per_secnd = 2.0\n", r"\[sources.gleif\] rate_per_secnd is not"),
        ("[sources.nope]\nurl = 'x'\n", r"known: none: no such source"),
    ],
)
def test_a_setting_no_source_declares_is_refused(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "sources.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings({"PARTNERDD_CONFIG": str(tmp_path)})
