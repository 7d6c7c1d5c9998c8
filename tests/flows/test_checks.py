"""The checks YAML loader: what it accepts, what it refuses and how it says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.config import load_settings
from flows import models
from flows.checks import (
    PARAMS,
    ChecksError,
    checks_for,
    load_checks,
    parse_bound,
    run_params,
)
from flows.offline import source_overrides
from flows.registry import Partner
from flows.validate import EXPECTATIONS_DIR

GOOD = """
stg_things:
  rows: {min: 2 * partners, warn_max: 100}
  columns: [a, b]
  checks:
    a: [not_null, unique]
"""


def _write(tmp_path: Path, text: str, name: str = "staging.yml") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(ChecksError) as caught:
        load_checks(_write(tmp_path, text))
    return str(caught.value)


def test_a_compact_model_becomes_gx_expectations(tmp_path: Path) -> None:
    checks = load_checks(_write(tmp_path, GOOD))["stg_things"]
    kinds = [(e["type"], e["kwargs"], e["severity"]) for e in checks.suite(whole_table=True)]
    assert kinds == [
        ("expect_table_row_count_to_be_between", {"min_value": {"$PARAMETER": "2 * partners"}},
         "critical"),
        ("expect_table_row_count_to_be_between", {"max_value": 100}, "warning"),
        ("expect_table_columns_to_match_set", {"column_set": ["a", "b"], "exact_match": False},
         "critical"),
        ("expect_column_values_to_not_be_null", {"column": "a"}, "critical"),
        ("expect_column_values_to_be_unique", {"column": "a"}, "critical"),
    ]  # fmt: skip
    # a batch of changed rows says nothing about the table's size
    assert all("row_count" not in e["type"] for e in checks.suite(whole_table=False))


def test_unknown_model_key_names_file_and_model(tmp_path: Path) -> None:
    message = _refused(tmp_path, GOOD + "  colums: [c]\n")
    assert "staging.yml" in message and "model stg_things" in message and "'colums'" in message


def test_unknown_test_names_file_model_and_column(tmp_path: Path) -> None:
    message = _refused(tmp_path, GOOD + "    b: {not_empty: true}\n")
    assert "staging.yml: model stg_things, column b" in message and "'not_empty'" in message


def test_unknown_modifier_and_severity_are_refused(tmp_path: Path) -> None:
    assert "severity 'fatal'" in _refused(
        tmp_path, GOOD + "    b: {unique: true, severity: fatal}\n"
    )
    assert "'min_value'" in _refused(tmp_path, GOOD + "    b: {between: {min_value: 1}}\n")


@pytest.mark.parametrize(
    "rows, says",
    [
        ("{min: 0, warn_max: 10}", "can never fail"),
        ("{min: 0 * partners}", "can never fail"),
        ("{warn_max: 10}", "either a 'min' or 'empty_ok"),
        ("{min: 1, empty_ok: why}", "either a 'min' or 'empty_ok"),
        ("{min: partners + 1}", "is not <number>, <param> or <number> * <param>"),
        ("{min: \"__import__('os')\"}", "is not <number>, <param> or <number> * <param>"),
        ("{min: 2 * shareholders}", "is not <number>, <param> or <number> * <param>"),
        ("{min: 1, most: 5}", "unknown key 'most'"),
        ("{empty_ok: true, warn_max: 5}", "empty_ok takes the reason"),
    ],
)
def test_bounds_that_cannot_fail_or_cannot_be_parsed_are_refused(
    tmp_path: Path, rows: str, says: str
) -> None:
    message = _refused(tmp_path, f"stg_things:\n  rows: {rows}\n")
    assert "model stg_things, rows" in message and says in message


def test_a_model_in_two_files_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "marts.yml")
    assert "already has checks in" in _refused(tmp_path, GOOD)


def test_a_table_without_checks_names_the_table_and_its_file(tmp_path: Path) -> None:
    loaded = load_checks(_write(tmp_path, GOOD))
    with pytest.raises(ChecksError, match=r"no checks for table stg_other: .*staging\.yml"):
        checks_for(loaded, "stg_other", tmp_path)
    with pytest.raises(ChecksError, match=r"no checks for table partner_x: .*marts\.yml"):
        checks_for(loaded, "partner_x", tmp_path)


def test_bounds_scale_with_the_run(tmp_path: Path) -> None:
    bound = parse_bound("0.5 * partners_with_lei", "here")
    assert bound.value({"partners_with_lei": 7}) == 3.5
    assert bound.value({"partners_with_lei": 0}) == 0  # 0 only when the parameter is 0
    assert parse_bound("partners", "here").value({"partners": 9}) == 9
    assert parse_bound(28000, "here").value({}) == 28000
    # a fractional minimum is rounded down: one failed partner of one is not a failed source
    checks = load_checks(_write(tmp_path, "stg_things:\n  rows: {min: 0.5 * partners_with_lei}\n"))
    problems = checks["stg_things"].row_count_problems
    assert problems(0, {"partners_with_lei": 1}) == ([], [])
    assert problems(2, {"partners_with_lei": 7}) == (
        ["expect_table_row_count_to_be_between(min_value=0.5 * partners_with_lei = 3): observed 2"],
        [],
    )


def test_every_model_in_the_build_has_checks_and_every_check_a_model() -> None:
    loaded = load_checks(EXPECTATIONS_DIR)
    built = {m.name for m in (*models.STAGING, *models.MARTS)}
    assert built == set(loaded)
    for model in models.STAGING:
        assert loaded[model.name].path.name == "staging.yml"


def test_every_row_bound_can_fail() -> None:
    """In a run that had data (every count parameter 10), an empty table fails each model's
    minimum and a huge one trips each maximum."""
    params = {**dict.fromkeys(PARAMS, 10), "current_year": 2026}
    for name, checks in load_checks(EXPECTATIONS_DIR).items():
        if "min" in checks.rows:
            failures, _ = checks.row_count_problems(0, params)
            assert failures, name
        failures, warnings = checks.row_count_problems(10**9, params)
        assert failures or warnings, name


def _partner(pid: str, lei: str | None, cik: str | None, website: str | None) -> Partner:
    return Partner(pid, pid, "DEU", "DE", website=website, lei=lei, cik=cik)


def test_run_params_count_what_the_run_fetches() -> None:
    partners = [
        _partner("a", "529900D6BF99LW9R2E68", "0001000184", "https://a.example"),
        _partner("b", None, "0000789019", "https://b.example"),
        _partner("c", None, None, None),
    ]
    live = run_params(partners, load_settings({}))
    assert {k: v for k, v in live.items() if k != "current_year"} == {
        "partners": 3,
        "partners_with_lei": 1,
        "partners_with_cik": 2,
        "partners_with_website": 2,
        "index_files": 3,
    }
    # the offline demo crawls no site; it serves the three bundled index files
    offline = run_params(partners, load_settings(source_overrides("http://127.0.0.1:9")))
    assert offline["partners_with_website"] == 0 and offline["index_files"] == 3
    skipping = run_params(partners, load_settings({"PARTNERDD_INDICES_OFFLINE_SKIP": "cpi"}))
    assert skipping["index_files"] == 2
