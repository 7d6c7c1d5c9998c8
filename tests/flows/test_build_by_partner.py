"""A model partitioned by partner_id over staging tables and marts computes only the
partners whose input rows a build changed (flows/build.py: each build in place records
the key values of the rows it changed; a lei-keyed input reaches partners through their
identifiers), and ends exactly as a whole build; an input rewritten whole, a change of
configuration or of the model's code makes it compute every partner again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from connectors.config import for_every_source, load_settings
from flows import build
from flows import db as database
from flows.db import open_work, publish
from flows.models import PythonModel
from flows.validate import Validator

CHECKS = """
stg_names:
  rows: {min: 1}
  checks:
    lei: not_null
partner_facts:
  rows: {min: 1}
  checks:
    partner_id: not_null
partner_scores:
  rows: {min: 1}
  checks:
    partner_id: unique
    total: {between: {min: 0, max: 1000}}
"""
PARTNERS = {f"p{i}": f"LEI{i:017d}" for i in range(1, 11)}


@dataclass(frozen=True)
class _Model(PythonModel):
    reads: tuple[str, ...] = ()

    @property
    def inputs(self) -> tuple[str, ...]:
        return self.reads


class _Upstream:
    def __init__(self) -> None:
        self.facts = {p: [1.0, 2.0, 3.0] for p in PARTNERS}
        self.names = {lei: f"name of {lei}" for lei in PARTNERS.values()}
        self.asked: list[list[str] | None] = []

    def models(self) -> list[PythonModel]:
        def facts(con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
            rows = [(p, v) for p, values in self.facts.items() for v in values]
            return pd.DataFrame(rows, columns=["partner_id", "value"])

        def names(con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
            return pd.DataFrame(list(self.names.items()), columns=["lei", "name"])

        def scores(con: duckdb.DuckDBPyConnection, context: dict[str, Any]) -> pd.DataFrame:
            keys = context.get("partition_keys")
            only = "true" if keys is None else f"f.partner_id in (select key from {keys})"  # noqa: S608
            if keys is not None:
                self.asked.append(sorted(k for (k,) in con.execute(f"from {keys}").fetchall()))
            else:
                self.asked.append(None)
            return con.execute(
                "select f.partner_id, sum(f.value) as total, any_value(n.name) as name "  # noqa: S608
                "from marts.partner_facts as f "
                "join staging.stg_resolution__identifiers as i "
                "on i.partner_id = f.partner_id and i.scheme = 'lei' "
                f"left join staging.stg_names as n on n.lei = i.value where {only} "
                "group by f.partner_id"
            ).df()

        return [
            _Model("stg_names", names, layer="staging", reads=("ops.runs",)),
            _Model("partner_facts", facts, reads=("ops.runs",)),
            _Model(
                "partner_scores",
                scores,
                partition="partner_id",
                keyed_by=(("staging.stg_names", "lei"),),
                reads=("marts.partner_facts", "staging.stg_names"),
            ),
        ]


def _night(
    con: duckdb.DuckDBPyConnection,
    validator: Validator,
    upstream: _Upstream,
    run: str,
    config: str = "c1",
) -> dict[str, build.ModelOutcome]:
    con.execute(
        "insert into ops.runs (run_id, started_at, status, partners) values (?, ?, 'running', 10)",
        [run, datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=len(upstream.asked))],
    )
    outcomes = {}
    for model in upstream.models():
        outcomes[model.name] = build.build_model(con, validator, model, {}, {}, run, config)
        build.drop_scratch(con)
    return outcomes


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    path.mkdir()
    con = open_work(path, {})
    con.execute("create schema if not exists staging")
    con.execute(
        "create table staging.stg_resolution__identifiers as select partner_id, 'lei' as scheme, "
        "lei as value from (select unnest($p) as partner_id, unnest($l) as lei)",
        {"p": list(PARTNERS), "l": list(PARTNERS.values())},
    )
    return con


def _scores(con: duckdb.DuckDBPyConnection) -> list[Any]:
    return [
        con.execute(sql).fetchall()
        for sql in (
            "select * from marts.partner_scores order by all",
            "select * exclude (run_from, run_to) from history.partner_scores order by all",
        )
    ]


def _published(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[list[Any], list[Any]]:
    """Publish; the published and the writer's partner_scores with its history."""
    publish(con, path, keep=0)
    writer = con.execute("select current_database()").fetchall()[0][0]
    con.execute("attach ? as pub_check (read_only)", [str(path)])
    try:
        sides = tuple(
            [
                con.execute(f"select * from {side}.{table} order by all").fetchall()  # noqa: S608
                for table in ("marts.partner_scores", "history.partner_scores")
            ]
            for side in ("pub_check", writer)
        )
    finally:
        con.execute("detach pub_check")
    return sides[0], sides[1]


def test_only_the_partners_whose_inputs_changed_are_computed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "marts.yml").write_text(CHECKS)
    validator = Validator(expectations_dir=tmp_path / "checks")
    upstream = _Upstream()
    con = _open(tmp_path / "nightly")
    _night(con, validator, upstream, "r1")
    published, writer = _published(con, tmp_path / "published.duckdb")
    assert published == writer
    by_keys: list[str] = []
    publish_keys = database._publish_keys

    def spy(con: duckdb.DuckDBPyConnection, name: str, *args: Any) -> bool:
        done = publish_keys(con, name, *args)
        by_keys.extend([name] if done else [])
        return done

    monkeypatch.setattr(database, "_publish_keys", spy)
    upstream.facts["p2"] = [1.0, 2.0, 5.0]  # a fact of p2 changed
    upstream.names[PARTNERS["p7"]] = "renamed"  # p7's name, by its LEI
    upstream.facts["p11"] = [4.0]  # a partner without identifiers: never scored
    outcomes = _night(con, validator, upstream, "r2")
    assert upstream.asked == [None, ["p11", "p2", "p7"]]
    assert outcomes["partner_scores"].history == {"opened": 2, "closed": 2}
    keys = con.execute(
        "select table_name, list(key order by key) from ops.landed_keys "
        "where table_name like 'marts.partner_scores%' group by all"
    ).fetchall()
    assert keys == [("marts.partner_scores(partner_id)", ["p2", "p7"])]

    published, writer = _published(con, tmp_path / "published.duckdb")
    assert published == writer
    assert 'marts."partner_scores"' in by_keys and 'history."partner_scores"' in by_keys

    whole = _open(tmp_path / "whole")  # the same upstream in one build
    assert _night(whole, validator, upstream, "w1")["partner_scores"].status == "built"
    assert _scores(con)[0] == _scores(whole)[0]
    open_rows = [r for r in _scores(con)[1] if r[-1] is None]
    assert sorted(r[:3] for r in open_rows) == sorted(_scores(whole)[0])

    upstream.names = {lei: "all renamed" for lei in upstream.names}  # rewritten whole
    _night(con, validator, upstream, "r3")
    _night(con, validator, upstream, "r4", config="c2")  # another configuration
    assert upstream.asked[-2:] == [None, None]
    monkeypatch.setattr(build, "code_digest", lambda model: "edited")  # the model's code
    computed = len(upstream.asked)
    _night(con, validator, upstream, "r5", config="c2")  # nothing else changed
    assert upstream.asked[computed:] == [None]


def test_fetch_settings_leave_the_configuration_a_build_records_unchanged() -> None:
    """A revalidating run (max ages 0), lifted rate limits or other URLs fetch differently but
    compute the marts the same: they must not make the next build compute every partner;
    a setting a mart reads (the sanctions threshold, the news as-of date) must."""
    env: dict[str, str] = {}

    def fingerprint(extra: dict[str, str]) -> str:
        return build.config_fingerprint(load_settings({**env, **extra}), {**env, **extra})

    nightly = fingerprint({})
    fetching = {
        **for_every_source("max_age_hours", "0"),
        **for_every_source("rate_per_second", "0"),
        **for_every_source("time_budget_seconds", "60"),
        "PARTNERDD_SEC_URL": "http://127.0.0.1:9/sec",
        "PARTNERDD_SANCTIONS_UN_SC_URL": "http://127.0.0.1:9/un.xml",
    }
    assert fingerprint(fetching) == nightly
    assert fingerprint({"PARTNERDD_SANCTIONS_THRESHOLD": "80"}) != nightly
    assert fingerprint({"PARTNERDD_NEWS_AS_OF": "2026-01-31"}) != nightly
