"""Great Expectations validation of each batch, with quarantine of rejected rows.

Checks are written per model in expectations/<layer>.yml (see flows/checks.py) and compiled
to GX suites once per Validator. A failed column-map expectation (one that reports
unexpected row indexes) quarantines just those rows with the expectation and the reason;
any other failed critical expectation (columns, row count) is table-level and stops the
load. Expectations with severity "warning" only warn.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from connectors.config import resource_dir
from flows.checks import ModelChecks, checks_for, describe, load_checks

EXPECTATIONS_DIR = resource_dir("expectations")
QUARANTINE_COLUMNS = ["row_index", "expectation", "column_name", "reason", "row_json"]


@dataclass
class TableValidation:
    table: str
    rows_in: int
    passed: pd.DataFrame
    quarantined: pd.DataFrame
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    success: bool = True

    @property
    def stops_load(self) -> bool:
        return bool(self.failures)


def row_json(row: pd.Series) -> str:
    return json.dumps(
        {
            k: (None if pd.isna(v) else v) if not isinstance(v, (list, dict)) else v
            for k, v in row.to_dict().items()
        },
        default=str,
    )


def _observed(detail: Mapping[str, Any]) -> str:
    """What a failed table-level expectation saw; for a column set, the missing columns."""
    mismatched = (detail.get("details") or {}).get("mismatched") or {}
    if mismatched.get("missing"):
        return f"missing columns {sorted(mismatched['missing'])!r}"
    return f"observed {detail.get('observed_value')!r}"


class Validator:
    """One ephemeral GX context per refresh. Each table's suite and validation definition
    are added once and reused; Data Docs are written to docs_dir by finish()."""

    def __init__(
        self, docs_dir: Path | None = None, expectations_dir: Path = EXPECTATIONS_DIR
    ) -> None:
        import great_expectations as gx  # slow import (~3 s): only where validation runs
        from great_expectations.data_context.types.base import ProgressBarsConfig

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self._gx = gx
        self.expectations_dir = expectations_dir
        self.checks = load_checks(expectations_dir)
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        self.source = self.context.data_sources.add_pandas("partnerdd")
        self._definitions: dict[str, Any] = {}
        # one dataframe asset for every table (the suite names the table): adding an asset
        # re-serialises the context's whole configuration, ~30 ms a table at a demo run's 35
        asset = self.source.add_dataframe_asset("batches")
        self._batch = asset.add_batch_definition_whole_dataframe("whole")
        self._written: dict[str, dict[str, Any]] = {}  # expectation id -> config as written
        self.docs_dir = docs_dir
        if docs_dir is not None:
            docs_dir.mkdir(parents=True, exist_ok=True)
            self.context.add_data_docs_site(
                site_name="partnerdd",
                site_config={
                    "class_name": "SiteBuilder",
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs_dir),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )

    def model_checks(self, table: str) -> ModelChecks:
        return checks_for(self.checks, table, self.expectations_dir)

    def _definition(self, checks: ModelChecks, whole_table: bool) -> Any:
        name = checks.name if whole_table else f"{checks.name}__changed_rows"
        if name not in self._definitions:
            gx = self._gx
            configs = checks.suite(whole_table)
            suite = self.context.suites.add(gx.ExpectationSuite(name=name, expectations=configs))
            # GX reports parameters already substituted; reasons name the expression too
            for added, config in zip(suite.expectations, configs, strict=True):
                self._written[str(added.id)] = config
            self._definitions[name] = self.context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=self._batch, suite=suite)
            )
        return self._definitions[name]

    def validate(
        self,
        table: str,
        frame: pd.DataFrame,
        params: Mapping[str, float] | None = None,
        whole_table: bool = True,
    ) -> TableValidation:
        """Validate `frame` against the table's checks. With whole_table=False the frame is
        a batch of changed rows: its row-count bounds are left to check_row_count() on the
        merged table. `params` are the run parameters (flows.checks.run_params)."""
        checks = self.model_checks(table)
        values = checks.parameters(params, whole_table)
        frame = frame.reset_index(drop=True)
        definition = self._definition(checks, whole_table)
        # BASIC (observed values, a sample of unexpected ones) costs about half of COMPLETE;
        # only a batch that fails needs COMPLETE's row indexes, for quarantine.
        for result_format in ("BASIC", "COMPLETE"):
            result = definition.run(
                batch_parameters={"dataframe": frame},
                expectation_parameters=values,
                result_format=result_format,
            )
            if result.success:
                break
        self._forget_batch()
        return self._split(table, frame, result, values)

    def _forget_batch(self) -> None:
        """GX's pandas engine keeps the last batch of every asset (one per model) for the
        whole run: up to the largest chunk of every model validated, ~170 MB at the peak of a
        1,000-partner refresh. Nothing reads them after the run's validation."""
        manager = self.source.get_execution_engine().batch_manager
        manager._batch_data_cache.clear()
        manager.reset_batch_cache()

    def check_row_count(
        self, table: str, n_rows: int, params: Mapping[str, float]
    ) -> tuple[list[str], list[str]]:
        """(failures, warnings) of the table's row-count bounds for n_rows rows, e.g. of the
        merged table counted in SQL after a batch was validated with whole_table=False."""
        return self.model_checks(table).row_count_problems(n_rows, params)

    def finish(self) -> Path | None:
        """Build Data Docs once for every validation of this run; the index path."""
        if self.docs_dir is None:
            return None
        self.context.build_data_docs(site_names=["partnerdd"])
        return self.docs_dir / "index.html"

    def _split(
        self, table: str, frame: pd.DataFrame, result: Any, params: Mapping[str, float]
    ) -> TableValidation:
        failures: list[str] = []
        warnings: list[str] = []
        rejected: list[dict[str, Any]] = []
        for outcome in result.results:
            if outcome.success:
                continue
            config = outcome.expectation_config
            written = self._written.get(str(config.id), {"type": config.type, "kwargs": {}})
            description = describe(written, params)
            severity = str(getattr(config, "severity", "critical")).lower().split(".")[-1]
            detail = outcome.result or {}
            if outcome.exception_info and outcome.exception_info.get("raised_exception"):
                message = outcome.exception_info.get("exception_message")
                failures.append(f"{description} could not run: {message}")
                continue
            indexes = detail.get("unexpected_index_list")
            if severity != "critical":
                warnings.append(f"{description}: {_observed(detail)}")
            elif indexes is None:
                failures.append(f"{description}: {_observed(detail)}")
            else:
                column = config.kwargs.get("column") or ",".join(
                    config.kwargs.get("column_list", [])
                )
                for index in indexes:
                    i = int(index) if not isinstance(index, dict) else int(index.get("index", -1))
                    value = frame.at[i, column] if column in frame.columns else None
                    if isinstance(value, np.generic):  # 2999, not np.int64(2999)
                        value = value.item()
                    rejected.append(
                        {
                            "row_index": i,
                            "expectation": config.type,
                            "column_name": column,
                            "reason": f"{description} rejected value {value!r}",
                            "row_json": row_json(frame.iloc[i]),
                        }
                    )
        quarantined = pd.DataFrame(rejected, columns=QUARANTINE_COLUMNS)
        bad = set(quarantined["row_index"].tolist())
        passed = frame.drop(index=sorted(bad)).reset_index(drop=True) if bad else frame
        return TableValidation(
            table=table,
            rows_in=len(frame),
            passed=passed,
            quarantined=quarantined,
            failures=failures,
            warnings=warnings,
            success=bool(result.success),
        )
