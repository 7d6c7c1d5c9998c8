"""Checks beside the models: expectations/<layer>.yml, compiled to Great Expectations suites.

Each YAML file maps a model (a staging table or mart) to its checks:

    stg_example:
      rows: {min: 0.5 * partners_with_lei, warn_max: 50 * partners}
      columns: [id, name, country]         # these columns must exist (others may too)
      exact_columns: [id, name, country]   # or: exactly this column set
      unique_combination: [id, year]       # or {columns: [...], severity: warn, note: ...}
      checks:                              # per column, one test or a list of tests
        id: [not_null, unique]
        country: {regex: '^[A-Z]{3}$'}
        reason: {not_null: true, where: 'outcome!="ok"', note: a failed fetch says why}

Row bounds: `min` and `max` stop the load, `warn_min` and `warn_max` only warn. A bound is
`<number>`, `<param>` or `<number> * <param>` over the run parameters (PARAMS), so bounds
scale with the run. A fractional minimum is rounded down: `0.5 * partners_with_lei` asks
3 rows for 7 LEIs and none for 1, as a per-partner source may fail for one partner of a
small registry. Every model has a `min` that can fail in a run with data, or says with
`empty_ok: <reason>` why no row-count minimum holds in every healthy run.

Column tests: not_null, unique, numeric, accepted_values: [...], between: {min, max} (bounds
as above), regex: <pattern>, at_least_column: <other column>. A test written as a mapping may
add `severity: warn` (only warns), `where: <pandas row condition>` and `note: <text>`.
Columns, column set and row counts are table-level (a failure stops the load); a failed
column test quarantines the rows it rejects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.config import ConfigError, Settings
from connectors.indices.source import INDEX_SOURCES
from flows.registry import Partner

PARAMS = (
    "partners",
    "partners_with_lei",
    "partners_with_cik",
    "partners_with_website",
    "index_files",
    "current_year",
)
ROW_COUNT = "expect_table_row_count_to_be_between"
NUMERIC_TYPES = ["float64", "Float64", "int64", "Int64", "float", "int"]

_MODEL_KEYS = ("rows", "columns", "exact_columns", "unique_combination", "checks")
_ROW_KEYS = ("min", "max", "warn_min", "warn_max", "empty_ok")
_MODIFIERS = ("severity", "where", "note")
_FLAG_TESTS = {
    "not_null": "expect_column_values_to_not_be_null",
    "unique": "expect_column_values_to_be_unique",
    "numeric": "expect_column_values_to_be_in_type_list",
}
_VALUE_TESTS = {
    "accepted_values": "expect_column_values_to_be_in_set",
    "between": "expect_column_values_to_be_between",
    "regex": "expect_column_values_to_match_regex",
    "at_least_column": "expect_column_pair_values_a_to_be_greater_than_b",
}
_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_BOUND = re.compile(rf"^\s*(?:(?P<factor>{_NUMBER})\s*\*\s*)?(?P<param>[a-z_]+)\s*$")
_IDENTIFIERS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # column names in a row condition
# Column tests that read a value only as null or not, in a set or not (or only that the
# column is there).
_BY_IDENTITY = frozenset(
    {
        "expect_column_to_exist",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_in_set",
    }
)
_ROUNDED_DOWN = re.compile(r"^trunc\((?P<bound>.*)\)$")  # GX's own expression syntax


class ChecksError(ConfigError):
    """The checks YAML is malformed, or a table has no checks; the message names file and model."""


def run_params(
    partners: Iterable[Partner], settings: Settings, now: datetime | None = None
) -> dict[str, int]:
    """The run parameters the row-count bounds scale with, from the resolved partners and
    what the run is configured to fetch: partners_with_website counts the sites this run
    crawls (none when the web source is offline, as in the demo), index_files the country
    index files it downloads (none in the offline demo, which does not bundle them)."""
    listed = list(partners)
    crawls = not settings.sources.get("web", {}).get("offline", False)
    skipped = str(settings.sources.get("indices", {}).get("offline_skip", "")).split(",")
    return {
        "partners": len(listed),
        "partners_with_lei": sum(1 for p in listed if p.lei),
        "partners_with_cik": sum(1 for p in listed if p.cik),
        "partners_with_website": sum(1 for p in listed if p.website) if crawls else 0,
        "index_files": len(set(INDEX_SOURCES) - set(skipped)),
        "current_year": (now or datetime.now(UTC)).year,
    }


@dataclass(frozen=True)
class Bound:
    """`<number>`, `<param>` or `<number> * <param>`; parsed without eval."""

    factor: float
    param: str | None = None

    def value(self, params: Mapping[str, float], round_down: bool = False) -> float:
        value = self.factor * params[self.param] if self.param else self.factor
        return math.floor(value) if round_down else value

    def as_kwarg(self, round_down: bool = False) -> Any:
        """A literal, or a GX $PARAMETER whose expression GX evaluates from the run params."""
        if self.param is None:
            return self.factor
        if round_down and self.factor != int(self.factor):
            return {"$PARAMETER": f"trunc({self})"}
        return {"$PARAMETER": str(self)}

    def __str__(self) -> str:
        if self.param is None:
            return f"{self.factor:g}"
        return self.param if self.factor == 1 else f"{self.factor:g} * {self.param}"


def parse_bound(raw: Any, where: str) -> Bound:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return Bound(raw)
    match = _BOUND.match(raw) if isinstance(raw, str) else None
    if match is None or match["param"] not in PARAMS:
        raise ChecksError(
            f"{where}: bound {raw!r} is not <number>, <param> or <number> * <param> "
            f"(params: {', '.join(PARAMS)})"
        )
    factor = match["factor"] or "1"
    return Bound(float(factor) if "." in factor else int(factor), match["param"])


@dataclass(frozen=True)
class ModelChecks:
    name: str
    path: Path
    rows: dict[str, Bound]
    expectations: tuple[dict[str, Any], ...]  # every check except the row counts

    def suite(self, whole_table: bool) -> list[dict[str, Any]]:
        """GX expectation configs; the row-count bounds only for a whole table (a batch of
        changed rows says nothing about the table's size)."""
        return (
            [*self.row_count_expectations(), *self.expectations]
            if whole_table
            else list(self.expectations)
        )

    def columns_read(self, available: list[str]) -> tuple[list[str], list[str]]:
        """The columns of `available` the checks look at, in table order (all of them when
        the checks fix the exact column set), and of those the ones whose values they read
        (not only their names, as a column-set check does). Validating only these, and the
        others as names only, keeps the batch small."""
        named: set[str] = set()
        valued: set[str] = set()
        for config in self.expectations:
            kwargs = config["kwargs"]
            if config["type"] == "expect_table_columns_to_match_set" and kwargs["exact_match"]:
                named.update(available)
            named.update(kwargs.get("column_set", []))
            valued.update(kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs)
            valued.update(kwargs.get("column_list", []))
            valued.update(_IDENTIFIERS.findall(kwargs.get("row_condition", "")))
        read = [c for c in available if c in named | valued]
        return read, [c for c in read if c in valued]

    def categorical_columns(self, candidates: Iterable[str]) -> list[str]:
        """Of `candidates`, the columns whose every check asks only whether a value is null
        or in a set (not_null, accepted_values) and that no row condition names: a pandas
        categorical of the same values gets the same answers from those checks, from codes
        instead of one Python string per row."""
        tests: dict[str, set[str]] = {}
        named: set[str] = set()
        for config in self.expectations:
            kwargs = config["kwargs"]
            named.update(_IDENTIFIERS.findall(kwargs.get("row_condition", "")))
            named.update(kwargs.get("column_list", []))
            named.update(kwargs[k] for k in ("column_A", "column_B") if k in kwargs)
            if "column" in kwargs:
                tests.setdefault(kwargs["column"], set()).add(config["type"])
        return [c for c in candidates if c in tests and tests[c] <= _BY_IDENTITY and c not in named]

    def row_count_expectations(self) -> list[dict[str, Any]]:
        out = []
        for severity, low, high in (
            ("critical", "min", "max"),
            ("warning", "warn_min", "warn_max"),
        ):
            kwargs = {
                f"{side}_value": self.rows[key].as_kwarg(round_down=side == "min")
                for side, key in (("min", low), ("max", high))
                if key in self.rows
            }
            if kwargs:
                out.append({"type": ROW_COUNT, "kwargs": kwargs, "severity": severity})
        return out

    def parameters(self, params: Mapping[str, float] | None, whole_table: bool) -> dict[str, float]:
        """The run parameters this table's suite needs; a missing one is an error, not 0."""
        needed = sorted(_parameters_in(self.suite(whole_table)))
        given = params or {}
        missing = [p for p in needed if p not in given]
        if missing:
            raise ValueError(
                f"checks of {self.name} ({self.path.name}) need run parameters {missing}: "
                "pass params (flows.checks.run_params)"
            )
        return {p: given[p] for p in needed}

    def row_count_problems(
        self, n_rows: int, params: Mapping[str, float]
    ) -> tuple[list[str], list[str]]:
        """(failures, warnings) of the row-count bounds for a table of n_rows rows."""
        failures: list[str] = []
        warnings: list[str] = []
        values = self.parameters(params, whole_table=True)
        for config in self.row_count_expectations():
            low_value = _value(config["kwargs"].get("min_value"), values)
            high_value = _value(config["kwargs"].get("max_value"), values)
            if (low_value is not None and n_rows < low_value) or (
                high_value is not None and n_rows > high_value
            ):
                message = f"{describe(config, values)}: observed {n_rows}"
                (failures if config["severity"] == "critical" else warnings).append(message)
        return failures, warnings


def _parameter(kwarg: Any) -> tuple[Bound, bool] | None:
    """(bound, rounded down) of a GX $PARAMETER kwarg; None for a literal."""
    if not (isinstance(kwarg, dict) and "$PARAMETER" in kwarg):
        return None
    text = kwarg["$PARAMETER"]
    rounded = _ROUNDED_DOWN.match(text)
    return parse_bound(rounded["bound"] if rounded else text, "run"), rounded is not None


def _parameters_in(configs: Iterable[Mapping[str, Any]]) -> set[str]:
    return {
        found[0].param or ""
        for config in configs
        for kwarg in config["kwargs"].values()
        if (found := _parameter(kwarg))
    }


def _value(kwarg: Any, params: Mapping[str, float]) -> Any:
    found = _parameter(kwarg)
    return kwarg if found is None else found[0].value(params, round_down=found[1])


def describe(config: Mapping[str, Any], params: Mapping[str, float]) -> str:
    """`expect_x(column='c', min_value=0.5 * partners_with_lei = 3)`: how reasons and
    failures name an expectation, with each parameter expression and its value."""
    parts = []
    for key, value in config["kwargs"].items():
        if key in ("batch_id", "result_format"):
            continue
        found = _parameter(value)
        if found is not None:
            bound, rounded = found
            shown = f" = {bound.value(params, rounded):g}" if bound.param in params else ""
            parts.append(f"{key}={bound}{shown}")
        else:
            parts.append(f"{key}={value!r}")
    return f"{config['type']}({', '.join(parts)})"


# --- loading ---------------------------------------------------------------------------


def _layer_file(table: str, directory: Path) -> Path:
    return directory / ("staging.yml" if table.startswith("stg_") else "marts.yml")


def load_checks(directory: Path) -> dict[str, ModelChecks]:
    """Every model's checks from the *.yml files in `directory`."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="safe")
    models: dict[str, ModelChecks] = {}
    for path in sorted(directory.glob("*.yml")):
        try:
            document = yaml.load(path.read_text(encoding="utf-8")) or {}
        except YAMLError as exc:
            raise ChecksError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(document, dict):
            raise ChecksError(f"{path}: expected a mapping of model name to checks")
        for name, spec in document.items():
            if name in models:
                raise ChecksError(f"{path}: model {name} already has checks in {models[name].path}")
            models[name] = _model(name, spec, path)
    return models


def checks_for(models: Mapping[str, ModelChecks], table: str, directory: Path) -> ModelChecks:
    if table not in models:
        raise ChecksError(
            f"no checks for table {table}: add them under '{table}:' in "
            f"{_layer_file(table, directory)}"
        )
    return models[table]


def _model(name: str, spec: Any, path: Path) -> ModelChecks:
    where = f"{path}: model {name}"
    if not isinstance(spec, dict):
        raise ChecksError(f"{where}: expected a mapping with keys {', '.join(_MODEL_KEYS)}")
    _known(spec, _MODEL_KEYS, where)
    if "rows" not in spec:
        raise ChecksError(f"{where}: 'rows' is required (row-count bounds or empty_ok)")
    rows = _rows(spec["rows"], f"{where}, rows")
    expectations: list[dict[str, Any]] = []
    if "exact_columns" in spec:
        kwargs = {"column_set": _names(spec["exact_columns"], where), "exact_match": True}
        expectations.append(_config("expect_table_columns_to_match_set", kwargs))
    if "columns" in spec:  # one expectation for the set: GX's cost is per expectation
        kwargs = {"column_set": _names(spec["columns"], where), "exact_match": False}
        expectations.append(_config("expect_table_columns_to_match_set", kwargs))
    if "unique_combination" in spec:
        expectations.append(_unique_combination(spec["unique_combination"], where))
    checks = spec.get("checks", {})
    if not isinstance(checks, dict):
        raise ChecksError(f"{where}: 'checks' maps a column to its tests")
    for column, tests in checks.items():
        for test in tests if isinstance(tests, list) else [tests]:
            expectations.append(_column_test(str(column), test, f"{where}, column {column}"))
    return ModelChecks(name, path, rows, tuple(expectations))


def _known(spec: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(spec) - set(allowed))
    if unknown:
        raise ChecksError(
            f"{where}: unknown key {', '.join(map(repr, unknown))} (known: {', '.join(allowed)})"
        )


def _names(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
        raise ChecksError(f"{where}: expected a list of column names, got {value!r}")
    return list(value)


def _rows(spec: Any, where: str) -> dict[str, Bound]:
    if not isinstance(spec, dict):
        raise ChecksError(f"{where}: expected a mapping with keys {', '.join(_ROW_KEYS)}")
    _known(spec, _ROW_KEYS, where)
    bounds = {k: parse_bound(v, f"{where}.{k}") for k, v in spec.items() if k != "empty_ok"}
    low = bounds.get("min")
    if low is not None and low.factor <= 0:
        raise ChecksError(f"{where}: min {low} can never fail; give a bound above 0")
    if "empty_ok" in spec and not (isinstance(spec["empty_ok"], str) and spec["empty_ok"]):
        raise ChecksError(f"{where}: empty_ok takes the reason an empty table is healthy")
    if (low is None) == ("empty_ok" not in spec):
        raise ChecksError(
            f"{where}: give either a 'min' or 'empty_ok: <why an empty table is healthy>'"
        )
    if not bounds:
        raise ChecksError(f"{where}: no bound at all; add at least a warn_max")
    return bounds


def _config(
    kind: str, kwargs: dict[str, Any], severity: str = "critical", note: str | None = None
) -> dict[str, Any]:
    config: dict[str, Any] = {"type": kind, "kwargs": kwargs, "severity": severity}
    if note is not None:
        config["meta"] = {"notes": note}
    return config


def _modifiers(spec: Mapping[str, Any], where: str) -> tuple[str, str | None, str | None]:
    severity = spec.get("severity", "critical")
    if severity not in ("critical", "warn"):
        raise ChecksError(f"{where}: severity {severity!r} is not 'warn' (default critical)")
    return ("warning" if severity == "warn" else "critical"), spec.get("where"), spec.get("note")


def _unique_combination(spec: Any, where: str) -> dict[str, Any]:
    where = f"{where}, unique_combination"
    if isinstance(spec, dict):
        _known(spec, ("columns", "severity", "note"), where)
        severity, _, note = _modifiers(spec, where)
        columns = _names(spec.get("columns"), where)
    else:
        severity, note, columns = "critical", None, _names(spec, where)
    return _config("expect_compound_columns_to_be_unique", {"column_list": columns}, severity, note)


def _column_test(column: str, test: Any, where: str) -> dict[str, Any]:
    spec = {test: True} if isinstance(test, str) else test
    if not isinstance(spec, dict):
        raise ChecksError(f"{where}: a test is a name or a mapping, got {test!r}")
    names = [k for k in spec if k not in _MODIFIERS]
    if len(names) != 1 or names[0] not in {**_FLAG_TESTS, **_VALUE_TESTS}:
        raise ChecksError(
            f"{where}: unknown test {', '.join(map(repr, names)) or '(none)'} (known: "
            f"{', '.join([*_FLAG_TESTS, *_VALUE_TESTS])}; modifiers: {', '.join(_MODIFIERS)})"
        )
    name, value = names[0], spec[names[0]]
    severity, condition, note = _modifiers(spec, where)
    kwargs: dict[str, Any] = {"column": column}
    if name in _FLAG_TESTS:
        if value is not True:
            raise ChecksError(f"{where}: {name} takes no value (write `{name}: true`)")
        if name == "numeric":
            kwargs["type_list"] = NUMERIC_TYPES
    elif name == "accepted_values":
        if not isinstance(value, list) or not value:
            raise ChecksError(f"{where}: accepted_values takes a list of values")
        kwargs["value_set"] = value
    elif name == "between":
        if not isinstance(value, dict) or not value:
            raise ChecksError(f"{where}: between takes {{min, max}}")
        _known(value, ("min", "max"), f"{where}, between")
        for side in ("min", "max"):
            if side in value:
                kwargs[f"{side}_value"] = parse_bound(value[side], f"{where}, between").as_kwarg()
    elif name == "regex":
        if not isinstance(value, str):
            raise ChecksError(f"{where}: regex takes a pattern")
        kwargs["regex"] = value
    else:  # at_least_column
        if not isinstance(value, str):
            raise ChecksError(f"{where}: at_least_column takes the other column's name")
        kwargs = {
            "column_A": column,
            "column_B": value,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        }
    if condition is not None:
        kwargs.update(row_condition=condition, condition_parser="pandas")
    return _config(_FLAG_TESTS.get(name) or _VALUE_TESTS[name], kwargs, severity, note)
