"""The Prefect flow: load exports, build with dbt, validate with Great Expectations, publish.

Write-audit-publish: dbt builds into the build warehouse; Great Expectations validates the
marts there; only when every expectation passes are the marts copied to the published
file that BI tools read. Tasks are thin: the logic lives in plain modules that the tests
call directly (ingest, transform, validate, publish).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from flows import ingest, publish, transform, validate
from flows.config import Paths


@dataclass
class RunSummary:
    run_id: str
    paths: Paths
    load: ingest.LoadReport | None = None
    dbt: transform.DbtResult | None = None
    validation: validate.ValidationReport | None = None
    published: bool = False
    error: str = ""
    seconds: dict[str, float] = field(default_factory=dict)


@task(name="load exports", retries=2, retry_delay_seconds=5)
def load_task(paths: Paths, run_id: str) -> ingest.LoadReport:
    report = ingest.load_exports(paths.warehouse, paths.exports, run_id=run_id)
    logger = get_run_logger()
    logger.info(
        "read %s rows: %s loaded, %s quarantined; %s files loaded, %s skipped, %s rejected",
        report.rows_read,
        report.rows_loaded,
        report.rows_quarantined,
        len(report.by_status("loaded")),
        len(report.by_status("skipped")),
        len(report.by_status("rejected")),
    )
    for rejected in report.by_status("rejected"):
        logger.warning("%s rejected: %s", rejected.file_name, rejected.message)
    return report


@task(name="dbt build")
def build_task(paths: Paths, full_refresh: bool) -> transform.DbtResult:
    return transform.build(paths.warehouse, paths.output / "dbt", full_refresh=full_refresh)


@task(name="validate marts")
def validate_task(paths: Paths) -> validate.ValidationReport:
    return validate.validate_warehouse(paths.warehouse, paths.output / "data_docs")


@task(name="publish marts", retries=2, retry_delay_seconds=2)
def publish_task(paths: Paths, run_id: str) -> Path:
    return publish.publish_marts(paths.warehouse, paths.published, run_id=run_id)


def run_pipeline(
    paths: Paths,
    full_refresh: bool = False,
    run_id: str | None = None,
) -> RunSummary:
    """The pipeline's steps in order; fails (raises) at the first failing step, naming the cause."""
    summary = RunSummary(run_id=run_id or uuid.uuid4().hex[:12], paths=paths)
    started = time.perf_counter()
    summary.load = load_task(paths, summary.run_id)
    summary.seconds["load"] = time.perf_counter() - started

    started = time.perf_counter()
    summary.dbt = build_task(paths, full_refresh)
    summary.seconds["dbt build"] = time.perf_counter() - started

    started = time.perf_counter()
    summary.validation = validate_task(paths)
    summary.seconds["validate"] = time.perf_counter() - started
    if not summary.validation.success:
        raise validate.ValidationError(summary.validation)

    started = time.perf_counter()
    publish_task(paths, summary.run_id)
    summary.published = True
    summary.seconds["publish"] = time.perf_counter() - started
    return summary


@flow(name="customer-value-pipeline", log_prints=True)
def customer_value_pipeline(
    exports: str | None = None,
    warehouse: str | None = None,
    published: str | None = None,
    full_refresh: bool = False,
) -> RunSummary:
    """Load the exports folder into the warehouse, build and validate the marts, and publish them.

    Args:
        exports: folder of export files (default: $CVW_EXPORTS or data/exports).
        warehouse: build warehouse DuckDB file (default: $CVW_WAREHOUSE or warehouse/customer_value.duckdb).
        published: DuckDB file BI tools read (default: $CVW_PUBLISHED or beside the warehouse).
        full_refresh: rebuild incremental models from all history.
    """
    paths = Paths.resolve(
        exports=Path(exports) if exports else None,
        warehouse=Path(warehouse) if warehouse else None,
        published=Path(published) if published else None,
    )
    run_id = str(flow_run.get_id() or uuid.uuid4().hex[:12])
    return run_pipeline(paths, full_refresh=full_refresh, run_id=run_id)
