import json
from pathlib import Path

import pandas as pd
import pytest

from flows.checks import ChecksError
from flows.validate import Validator

PARAMS = {
    "partners": 3,
    "partners_with_lei": 2,
    "partners_with_cik": 1,
    "partners_with_website": 0,
    "index_files": 0,
    "current_year": 2026,
}

# One model with every kind of check the YAML offers.
KINDS = """
stg_kinds:
  rows: {min: partners, max: 50, warn_min: 3, warn_max: 40}
  columns: [id]
  unique_combination: [code, kind]
  checks:
    id: [not_null, unique]
    kind: {accepted_values: [a, b]}
    amount: {between: {min: 0, max: 100}, where: 'kind=="a"'}
    value: numeric
    code: {regex: '^[A-Z]{2}$'}
    year: {between: {min: 1990, max: current_year}}
    total: {at_least_column: part, severity: warn, note: the part is in the total}
    part: {not_null: true, where: 'kind=="b"'}
"""


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    return Validator(docs_dir=tmp_path_factory.mktemp("docs"))


@pytest.fixture(scope="module")
def kinds(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    directory = tmp_path_factory.mktemp("checks")
    (directory / "staging.yml").write_text(KINDS, encoding="utf-8")
    return Validator(expectations_dir=directory)


def _kinds_frame(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": list(range(1, n + 1)),
            "kind": ["a", "b"] * (n // 2) + ["a"] * (n % 2),
            "amount": [1.0] * n,
            "value": [1.5] * n,
            "code": [f"{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}" for i in range(n)],
            "year": [2020] * n,
            "total": [5] * n,
            "part": [1] * n,
        }
    )


def _partners(**overrides: list) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "partner_id": ["sap", "shell", "x"],
            "name": ["SAP SE", "Shell plc", "X"],
            "country_iso3": ["DEU", "GBR", "DEU"],
            "country_iso2": ["DE", "GB", "DE"],
            "website": [None, None, None],
            "lei": ["529900D6BF99LW9R2E68", "21380068P1DRHMJ8KU70", None],
            "cik": [None, "0001306965", None],
            "registry_line": [2, 3, 4],
            "registry_path": ["r.csv"] * 3,
            "loaded_at": pd.Timestamp("2026-11-23", tz="UTC"),
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


def test_good_batch_passes_whole(validator: Validator) -> None:
    result = validator.validate("stg_registry__partners", _partners(), PARAMS)
    assert result.failures == [] and result.warnings == [] and len(result.quarantined) == 0
    assert len(result.passed) == 3


def test_bad_rows_are_quarantined_with_expectation_and_reason(validator: Validator) -> None:
    frame = _partners(country_iso3=["DEU", "gb", "DEU"], cik=[None, "12", None])
    result = validator.validate("stg_registry__partners", frame, PARAMS)
    assert not result.stops_load
    assert list(result.passed["partner_id"]) == ["sap", "x"]
    quarantined = result.quarantined
    assert set(quarantined["row_index"]) == {1}
    assert set(quarantined["expectation"]) == {"expect_column_values_to_match_regex"}
    assert set(quarantined["reason"]) == {
        "expect_column_values_to_match_regex(column='country_iso3', regex='^[A-Z]{3}$') "
        "rejected value 'gb'",
        "expect_column_values_to_match_regex(column='cik', regex='^[0-9]{10}$') "
        "rejected value '12'",
    }
    row = json.loads(quarantined.iloc[0]["row_json"])
    assert row["partner_id"] == "shell"


def test_schema_change_is_table_level_and_stops_the_load(validator: Validator) -> None:
    result = validator.validate("stg_registry__partners", _partners().drop(columns=["cik"]), PARAMS)
    assert result.stops_load
    assert any("expect_table_columns_to_match_set" in f for f in result.failures)


def test_empty_batch_fails_the_row_count_minimum(validator: Validator) -> None:
    result = validator.validate("stg_registry__partners", _partners().iloc[0:0], PARAMS)
    assert result.stops_load
    assert any("expect_table_row_count_to_be_between" in f for f in result.failures)


def test_row_count_far_above_maximum_only_warns(validator: Validator) -> None:
    frame = pd.concat([_partners()] * 6667, ignore_index=True)  # 20,001 > warn_max 20,000
    frame["partner_id"] = [f"p{i}" for i in range(len(frame))]
    result = validator.validate("stg_registry__partners", frame, PARAMS)
    assert not result.stops_load
    assert result.warnings == [
        "expect_table_row_count_to_be_between(max_value=20000): observed 20001"
    ]


def _lei_records(n: int) -> pd.DataFrame:
    lei = "529900D6BF99LW9R2E68"
    return pd.DataFrame(
        {
            "lei": [lei[:-2] + f"{i:02d}" for i in range(n)],
            "lei_check_ok": [True] * n,
            "legal_name": ["SAP SE"] * n,
            "legal_address_country": ["DE"] * n,
            "registration_status": ["ISSUED"] * n,
        }
    )


def test_a_parameter_bound_fails_when_the_run_had_data(validator: Validator) -> None:
    # min 0.5 * partners_with_lei, rounded down: 2 records for 7 LEIs are too few
    params = {**PARAMS, "partners_with_lei": 7}
    result = validator.validate("stg_gleif__lei_records", _lei_records(2), params)
    assert result.failures == [
        "expect_table_row_count_to_be_between(min_value=0.5 * partners_with_lei = 3): observed 2"
    ]
    assert validator.validate("stg_gleif__lei_records", _lei_records(3), params).failures == []
    # one LEI whose record did not arrive is one failed partner, logged per partner
    params = {**PARAMS, "partners_with_lei": 1}
    assert validator.validate("stg_gleif__lei_records", _lei_records(0), params).failures == []


def test_a_batch_of_changed_rows_leaves_row_counts_to_the_merged_table(
    validator: Validator,
) -> None:
    params = {**PARAMS, "partners_with_lei": 6}
    batch = validator.validate("stg_gleif__lei_records", _lei_records(1), params, whole_table=False)
    assert batch.failures == [] and len(batch.passed) == 1
    whole = validator.validate("stg_gleif__lei_records", _lei_records(1), params)
    # the merged table's count, checked apart, says the same as a whole-table validation
    assert validator.check_row_count("stg_gleif__lei_records", 1, params) == (whole.failures, [])
    assert validator.check_row_count("stg_gleif__lei_records", 3, params) == ([], [])
    failures, warnings = validator.check_row_count("stg_registry__partners", 20001, params)
    assert failures == [] and warnings == [
        "expect_table_row_count_to_be_between(max_value=20000): observed 20001"
    ]


def test_column_checks_still_quarantine_in_a_batch(validator: Validator) -> None:
    frame = _lei_records(2).assign(legal_address_country=["DE", "Germany"])
    result = validator.validate("stg_gleif__lei_records", frame, PARAMS, whole_table=False)
    assert list(result.quarantined["row_index"]) == [1] and not result.stops_load


def test_missing_run_parameters_are_an_error_not_zero(validator: Validator) -> None:
    with pytest.raises(ValueError, match=r"stg_gleif__lei_records .*\['partners_with_lei'\]"):
        validator.validate("stg_gleif__lei_records", _lei_records(1), {"partners": 1})


def test_a_table_without_checks_is_a_clear_error(validator: Validator) -> None:
    with pytest.raises(ChecksError, match=r"no checks for table stg_nothing: .*staging\.yml"):
        validator.validate("stg_nothing", _partners(), PARAMS)


@pytest.mark.parametrize(
    "change, rejected, expectation",
    [
        ({"id": [1, None, 3, 4]}, {1}, "expect_column_values_to_not_be_null"),
        ({"id": [1, 1, 3, 4]}, {0, 1}, "expect_column_values_to_be_unique"),
        ({"kind": ["a", "b", "z", "b"]}, {2}, "expect_column_values_to_be_in_set"),
        ({"amount": [500.0, 500.0, 1.0, 1.0]}, {0}, "expect_column_values_to_be_between"),
        ({"value": [1.5, "2 EUR", 1.5, 1.5]}, {1}, "expect_column_values_to_be_in_type_list"),
        ({"code": ["AA", "AB", "x1", "AD"]}, {2}, "expect_column_values_to_match_regex"),
        ({"year": [2020, 2020, 2020, 2999]}, {3}, "expect_column_values_to_be_between"),
        ({"part": [None, None, 1, 1]}, {1}, "expect_column_values_to_not_be_null"),
        ({"code": ["AA", "AB", "AA", "AD"]}, {0, 2}, "expect_compound_columns_to_be_unique"),
    ],
)
def test_each_column_check_quarantines_the_rows_it_rejects(
    kinds: Validator, change: dict, rejected: set[int], expectation: str
) -> None:
    frame = _kinds_frame()
    for column, values in change.items():
        frame[column] = values
    result = kinds.validate("stg_kinds", frame, PARAMS)
    assert result.failures == [] and result.warnings == []
    assert set(result.quarantined["row_index"]) == rejected
    assert set(result.quarantined["expectation"]) == {expectation}
    assert len(result.passed) == 4 - len(rejected)


def test_a_parameter_in_a_column_check_is_shown_with_its_value(kinds: Validator) -> None:
    frame = _kinds_frame().assign(year=[2020, 2020, 2020, 2999])
    (reason,) = kinds.validate("stg_kinds", frame, PARAMS).quarantined["reason"]
    assert reason == (
        "expect_column_values_to_be_between(column='year', min_value=1990, "
        "max_value=current_year = 2026) rejected value 2999"
    )


def test_a_warn_check_only_warns(kinds: Validator) -> None:
    result = kinds.validate("stg_kinds", _kinds_frame().assign(total=[5, 0, 5, 5]), PARAMS)
    assert len(result.quarantined) == 0 and result.failures == []
    assert [w.split("(")[0] for w in result.warnings] == [
        "expect_column_pair_values_a_to_be_greater_than_b"
    ]


def test_a_missing_column_stops_the_load(kinds: Validator) -> None:
    result = kinds.validate("stg_kinds", _kinds_frame().drop(columns=["id"]), PARAMS)
    assert result.stops_load
    assert any(
        f.startswith("expect_table_columns_to_match_set(") and f.endswith("missing columns ['id']")
        for f in result.failures
    ), result.failures


@pytest.mark.parametrize(
    "rows, failures, warnings",
    [
        (2, ["min_value=partners = 3"], ["min_value=3"]),
        (3, [], []),
        (41, [], ["max_value=40"]),
        (51, ["max_value=50"], ["max_value=40"]),
    ],
)
def test_each_row_bound_can_fail(
    kinds: Validator, rows: int, failures: list[str], warnings: list[str]
) -> None:
    result = kinds.validate("stg_kinds", _kinds_frame(rows), PARAMS)
    assert len(result.failures) == len(failures) and len(result.warnings) == len(warnings)
    for expected, got in zip(failures + warnings, result.failures + result.warnings, strict=True):
        assert expected in got and got.endswith(f"observed {rows}")
    assert kinds.check_row_count("stg_kinds", rows, PARAMS) == (result.failures, result.warnings)


def test_data_docs_are_built_once_at_the_end(tmp_path: Path) -> None:
    validator = Validator(docs_dir=tmp_path)
    validator.validate("stg_registry__partners", _partners(), PARAMS)
    assert not (tmp_path / "index.html").exists()
    index = validator.finish()
    assert index == tmp_path / "index.html"
    assert "stg_registry__partners" in index.read_text(encoding="utf-8")
