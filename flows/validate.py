"""Great Expectations validation of each batch, with quarantine of rejected rows.

Suites live in expectations/<table>.json. A failed column-map expectation (one that
reports unexpected row indexes) quarantines just those rows with the expectation and the
reason; any other failed critical expectation (schema, row count) is table-level and
stops the load. Expectations with severity "warning" only warn.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from connectors.config import PROJECT_ROOT

EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
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


def load_suite_document(table: str, directory: Path = EXPECTATIONS_DIR) -> dict[str, Any]:
    path = directory / f"{table}.json"
    if not path.exists():
        raise FileNotFoundError(f"no expectation suite for {table}: expected {path}")
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _describe(config: Any) -> str:
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "result_format")}
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"{config.type}({args})"


def _json_row(row: pd.Series) -> str:
    return json.dumps(
        {
            k: (None if pd.isna(v) else v) if not isinstance(v, (list, dict)) else v
            for k, v in row.to_dict().items()
        },
        default=str,
    )


class Validator:
    """One ephemeral GX context per refresh; Data Docs written to docs_dir when given."""

    def __init__(
        self, docs_dir: Path | None = None, expectations_dir: Path = EXPECTATIONS_DIR
    ) -> None:
        import great_expectations as gx  # slow import (~3 s): only where validation runs
        from great_expectations.data_context.types.base import ProgressBarsConfig

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self._gx = gx
        self.expectations_dir = expectations_dir
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        self.source = self.context.data_sources.add_pandas("partnerdd")
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

    def validate(self, table: str, frame: pd.DataFrame) -> TableValidation:
        gx = self._gx
        frame = frame.reset_index(drop=True)
        document = load_suite_document(table, self.expectations_dir)
        suite = self.context.suites.add_or_update(
            gx.ExpectationSuite(
                name=table, expectations=document["expectations"], meta=document.get("meta", {})
            )
        )
        asset = self.source.add_dataframe_asset(f"{table}-{len(self.source.assets)}")
        batch = asset.add_batch_definition_whole_dataframe("whole")
        definition = self.context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=table, data=batch, suite=suite)
        )
        actions = []
        if self.docs_dir is not None:
            actions.append(
                gx.checkpoint.UpdateDataDocsAction(name="docs", site_names=["partnerdd"])
            )
        checkpoint = self.context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"check-{table}",
                validation_definitions=[definition],
                actions=actions,
                result_format="COMPLETE",
            )
        )
        run = checkpoint.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters={"current_year": datetime.now(UTC).year},
        )
        result = next(iter(run.run_results.values()))
        return self._split(table, frame, result)

    def _split(self, table: str, frame: pd.DataFrame, result: Any) -> TableValidation:
        failures: list[str] = []
        warnings: list[str] = []
        rejected: list[dict[str, Any]] = []
        for outcome in result.results:
            if outcome.success:
                continue
            config = outcome.expectation_config
            description = _describe(config)
            severity = str(getattr(config, "severity", "critical")).lower().split(".")[-1]
            detail = outcome.result or {}
            if outcome.exception_info and outcome.exception_info.get("raised_exception"):
                message = outcome.exception_info.get("exception_message")
                failures.append(f"{description} could not run: {message}")
                continue
            indexes = detail.get("unexpected_index_list")
            if severity != "critical":
                warnings.append(f"{description}: observed {detail.get('observed_value')!r}")
            elif indexes is None:
                failures.append(f"{description}: observed {detail.get('observed_value')!r}")
            else:
                column = config.kwargs.get("column") or ",".join(
                    config.kwargs.get("column_list", [])
                )
                for index in indexes:
                    i = int(index) if not isinstance(index, dict) else int(index.get("index", -1))
                    value = frame.at[i, column] if column in frame.columns else None
                    rejected.append(
                        {
                            "row_index": i,
                            "expectation": config.type,
                            "column_name": column,
                            "reason": f"{description} rejected value {value!r}",
                            "row_json": _json_row(frame.iloc[i]),
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
