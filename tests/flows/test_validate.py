import json
from pathlib import Path

import pandas as pd
import pytest

from flows.validate import Validator


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> Validator:
    return Validator(docs_dir=tmp_path_factory.mktemp("docs"))


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
    result = validator.validate("stg_registry__partners", _partners())
    assert result.failures == [] and len(result.quarantined) == 0
    assert len(result.passed) == 3


def test_bad_rows_are_quarantined_with_expectation_and_reason(validator: Validator) -> None:
    frame = _partners(country_iso3=["DEU", "gb", "DEU"], cik=[None, "12", None])
    result = validator.validate("stg_registry__partners", frame)
    assert not result.stops_load
    assert list(result.passed["partner_id"]) == ["sap", "x"]
    quarantined = result.quarantined
    assert set(quarantined["row_index"]) == {1}
    assert set(quarantined["expectation"]) == {"expect_column_values_to_match_regex"}
    reasons = " ".join(quarantined["reason"])
    assert "country_iso3" in reasons and "'gb'" in reasons and "'12'" in reasons
    row = json.loads(quarantined.iloc[0]["row_json"])
    assert row["partner_id"] == "shell"


def test_schema_change_is_table_level_and_stops_the_load(validator: Validator) -> None:
    result = validator.validate("stg_registry__partners", _partners().drop(columns=["cik"]))
    assert result.stops_load
    assert any("expect_table_columns_to_match_set" in f for f in result.failures)


def test_empty_batch_fails_the_row_count_minimum(validator: Validator) -> None:
    result = validator.validate("stg_registry__partners", _partners().iloc[0:0])
    assert result.stops_load
    assert any("expect_table_row_count_to_be_between" in f for f in result.failures)


def test_row_count_far_above_maximum_only_warns(validator: Validator) -> None:
    frame = pd.concat([_partners()] * 4000, ignore_index=True)
    frame["partner_id"] = [f"p{i}" for i in range(len(frame))]
    result = validator.validate("stg_registry__partners", frame)
    assert not result.stops_load
    assert any("row_count" in w for w in result.warnings)


def test_every_suite_in_expectations_dir_loads(validator: Validator) -> None:
    suites = sorted(Path("expectations").glob("*.json"))
    assert suites
    for path in suites:
        document = json.loads(path.read_text())
        assert document["name"] == path.stem
        assert any(
            e["type"] == "expect_table_row_count_to_be_between" for e in document["expectations"]
        )
