"""The model graph is read off the files: every SQL model and Python mart module is a model,
each is built after the models it reads, and a cycle is refused with its models named."""

from __future__ import annotations

import pkgutil
from dataclasses import dataclass

import pytest

from flows import marts, models
from flows.db import SQL_DIR


def test_every_model_file_is_in_the_graph_once() -> None:
    files = {p.stem for layer in models.LAYERS for p in (SQL_DIR / layer).glob("*.sql")}
    python = {m.name for m in pkgutil.iter_modules(marts.__path__)}
    names = [m.name for m in models.ORDER]
    assert len(names) == len(set(names))
    assert set(names) == (files - set(models.VIEWS)) | python
    assert {m.name for m in models.ORDER if isinstance(m, models.PythonModel)} == python


def test_each_model_is_built_after_the_models_it_reads() -> None:
    position = {f"{m.layer}.{m.name}": i for i, m in enumerate(models.ORDER)}
    for i, model in enumerate(models.ORDER):
        for table in model.inputs:
            assert position.get(table, -1) < i, (model.name, table)
    # A Python mart's inputs include what the flows modules it calls read.
    evidence = next(m for m in models.ORDER if m.name == "partner_fit_evidence")
    assert "marts.partner_profile" in evidence.inputs


@dataclass(frozen=True)
class Node:
    name: str
    inputs: tuple[str, ...]
    layer: str = "marts"


def test_a_cycle_is_refused_with_its_models() -> None:
    nodes = (Node("a", ("marts.b",)), Node("b", ("marts.a",)), Node("c", ()))
    with pytest.raises(ValueError, match="cycle: a, b"):
        models.build_order(nodes)  # type: ignore[arg-type]
    chain = (Node("z", ("marts.y",)), Node("y", ("staging.x",)), Node("x", (), "staging"))
    assert [n.name for n in models.build_order(chain)] == ["x", "y", "z"]  # type: ignore[arg-type]
