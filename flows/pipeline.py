"""The Prefect flow: load exports, build with dbt, validate with Great Expectations, publish.

Write-audit-publish: dbt builds into the build warehouse; Great Expectations validates the
marts there; only when every expectation passes are the marts copied to the published
file that BI tools read. Tasks are thin: the logic lives in plain modules that the tests
call directly (ingest, transform, validation, publish). Every step that opens the build warehouse
waits while another process holds it (flows/file_lock.py); the load retries an export file still
being written (flows/resilience.py); everything else fails fast.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from flows import dbt_artifacts, file_lock, freshness, ingest, locking, publish, resilience, transform, validation
from flows.config import Paths, settings
from flows.errors import one_line
from flows.summary.artifact import publish_run_artifact
from flows.summary.report import RunReport, build_run_report


@dataclass
class RunSummary:
    run_id: str
    paths: Paths
    #: dbt vars of this run on top of dbt_project.yml's (`--vars`): dbt, fingerprint, GX and publication use them
    dbt_vars: dict[str, Any] = field(default_factory=dict)
    load: ingest.LoadReport | None = None
    dbt: transform.DbtResult | None = None
    validation: validation.ValidationReport | None = None
    published: bool = False
    #: the release folder this run published (flows/release.py), or None
    release: Path | None = None
    #: True when nothing changed since the last publication: build, validation and publish skipped
    up_to_date: bool = False
    error: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    #: export entities whose newest load is older than their freshness vars (flows/freshness.py)
    stale: list[freshness.EntityFreshness] = field(default_factory=list)
    #: what the run ends with, built once by the flow (the artifact; `python -m flows run` prints it)
    report: RunReport | None = None


@task(name="load exports", retries=3, retry_delay_seconds=[10, 30, 60], retry_condition_fn=resilience.retry_condition)
def load_task(
    paths: Paths, run_id: str, settle_seconds: float = 0.0, dbt_vars: dict[str, Any] | None = None
) -> ingest.LoadReport:
    """The load, with the plausibility window of the run's dbt vars (dbt_project.yml and --vars, as dbt
    resolves them: the last build's manifest when it is current, else a `dbt parse`) and today."""
    resilience.ensure_exports_settled(paths.exports, settle_seconds)
    ingest.discover_exports(paths.exports)  # a missing folder fails here, before dbt resolves the vars
    window = ingest.PlausibleWindow.from_vars(
        dbt_artifacts.project_vars(dbt_vars, paths.dbt_target, warehouse=paths.warehouse), date.today()
    )
    logger = get_run_logger()
    report = file_lock.run_when_free(
        lambda: ingest.load_exports(paths.warehouse, paths.exports, run_id=run_id, window=window),
        paths.warehouse,
        _say(logger),
    )
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
    if report.not_exported:
        logger.info("no exports of %s: the marts built from them are published empty", ", ".join(report.not_exported))
    return report


@task(name="dbt build", retries=2, retry_delay_seconds=[15, 60], retry_condition_fn=resilience.retry_condition)
def build_task(paths: Paths, full_refresh: bool, dbt_vars: dict[str, Any]) -> transform.DbtResult:
    def build() -> transform.DbtResult:
        resilience.ensure_warehouse_writable(paths.warehouse)  # rather than a dbt start that cannot open it
        return transform.build(paths.warehouse, paths.dbt_target, full_refresh=full_refresh, dbt_vars=dbt_vars)

    return file_lock.run_when_free(build, paths.warehouse, _say(get_run_logger()))


@task(name="validate marts", retries=2, retry_delay_seconds=[10, 30], retry_condition_fn=resilience.retry_condition)
def validate_task(paths: Paths) -> validation.ValidationReport:
    """The GX suites, on the parameters the build used (its intermediate.int_run_parameters, never
    dbt_project.yml)."""
    return file_lock.run_when_free(
        lambda: validation.validate_warehouse(paths.warehouse, paths.output / "data_docs"),
        paths.warehouse,
        _say(get_run_logger()),
        read_only=True,
    )


@task(name="publish marts", retries=2, retry_delay_seconds=[5, 15], retry_condition_fn=resilience.retry_condition)
def publish_task(
    paths: Paths, run_id: str, state: str, dbt_vars: dict[str, Any], csv: publish.CsvFormat | None = None
) -> Path:
    return file_lock.run_when_free(
        lambda: publish.publish_marts(
            paths.warehouse,
            paths.published,
            run_id=run_id,
            state=state,
            dbt_vars=dbt_vars,
            csv=csv,
            writers=release_writers(paths),
            keep=settings().keep_releases,
        ),
        paths.warehouse,
        _say(get_run_logger()),
        read_only=True,
    )


def _say(logger: logging.Logger | logging.LoggerAdapter) -> Callable[[str], None]:
    """A run logger's info as a function of one message (a % in a path is no format)."""
    return lambda message: logger.info("%s", message)


def release_writers(paths: Paths) -> list[publish.ReleaseWriter]:
    """What a publication writes into its release folder besides the marts as DuckDB, Parquet and CSV
    (each `writer(release_folder)` runs before the release is switched in; the manifest lists their files):
    the customer report, `report/index.html`, written from the release's own DuckDB file, so that it never
    describes another run's figures."""

    def customer_report(release: Path) -> None:
        from flows.release import Layout
        from flows.report import REPORT_FOLDER, write_report

        manifest = paths.dbt_target / "manifest.json"
        write_report(
            release / Layout.of(paths.published).duckdb_name,
            release / REPORT_FOLDER,
            dbt_manifest=manifest if manifest.is_file() else None,
            build_vars=dbt_artifacts.manifest_vars(paths.dbt_target),
        )

    return [customer_report]


def run_pipeline(
    paths: Paths,
    full_refresh: bool = False,
    run_id: str | None = None,
    summary: RunSummary | None = None,
    settle_seconds: float = 0.0,
    dbt_vars: dict[str, Any] | None = None,
    csv: bool | None = None,
) -> RunSummary:
    """The pipeline's steps in order; fails (raises) at the first failing step, naming the cause.
    Pass `summary` to keep what was done before a failure (the flow reports it in an artifact).
    `csv`: publish CSV files too (None: `$CVW_CSV`)."""
    summary = summary or RunSummary(run_id=run_id or uuid.uuid4().hex[:12], paths=paths, dbt_vars=dict(dbt_vars or {}))
    started = time.perf_counter()
    summary.load = load_task(paths, summary.run_id, settle_seconds, summary.dbt_vars)
    summary.seconds["load"] = time.perf_counter() - started

    # No new export file, the same dbt code, vars and suites as the last publication (which holds
    # the CSV files if asked for): the marts would come out the same, so the (frequent, intraday)
    # run stops here.
    state = file_lock.run_when_free(
        lambda: publish.source_state(paths.warehouse, summary.dbt_vars),
        paths.warehouse,
        _say(get_run_logger()),
        read_only=True,
    )
    csv_format = publish.csv_format(csv)
    if not full_refresh and publish.is_current(paths.published, state, csv_format):
        summary.up_to_date = True
        return summary

    started = time.perf_counter()
    try:
        summary.dbt = build_task(paths, full_refresh, summary.dbt_vars)
    except transform.DbtError as exc:
        summary.dbt = exc.result
        raise
    summary.seconds["dbt build"] = time.perf_counter() - started

    started = time.perf_counter()
    summary.validation = validate_task(paths)
    summary.seconds["validate"] = time.perf_counter() - started
    if not summary.validation.success:
        raise validation.ValidationError(summary.validation)

    started = time.perf_counter()
    summary.release = publish_task(paths, summary.run_id, state, summary.dbt_vars, csv_format)
    summary.published = True
    summary.seconds["publish"] = time.perf_counter() - started
    return summary


@flow(name="customer-value-pipeline", log_prints=True)
def customer_value_pipeline(
    exports: str | None = None,
    warehouse: str | None = None,
    published: str | None = None,
    full_refresh: bool = False,
    settle_seconds: float = 0.0,
    dbt_vars: dict[str, Any] | None = None,
    csv: bool | None = None,
) -> RunSummary:
    """Load the exports folder into the warehouse, build and validate the marts, and publish them.

    Against a Prefect server the run first takes the warehouse writer slot (one run at a time,
    see flows/locking.py); every run, successful or not, leaves its summary as a markdown artifact.

    Args:
        exports: folder of export files (default: $CVW_EXPORTS or data/exports).
        warehouse: build warehouse DuckDB file (default: $CVW_WAREHOUSE or warehouse/customer_value.duckdb).
        published: DuckDB file BI tools read (default: $CVW_PUBLISHED or beside the warehouse); the
            release it links into also holds the marts as Parquet (and CSV) and manifest.json.
        full_refresh: rebuild incremental models from all history.
        settle_seconds: an export file modified less than this many seconds ago may still be being
            written: the load waits and retries (scheduled deployments use 10; 0 loads what is there).
        dbt_vars: dbt vars on top of dbt_project.yml's, as `dbt --vars` takes them (e.g.
            {"churn_window_days": 180}); the build, its fingerprint, the GX suites and the
            publication's recorded state all use them.
        csv: also publish every mart as CSV for spreadsheets (`;`, UTF-8 with BOM, decimal comma;
            empty: $CVW_CSV, default no).
    """
    paths = Paths.resolve(
        exports=Path(exports) if exports else None,
        warehouse=Path(warehouse) if warehouse else None,
        published=Path(published) if published else None,
    )
    summary = RunSummary(
        run_id=str(flow_run.get_id() or uuid.uuid4().hex[:12]), paths=paths, dbt_vars=dict(dbt_vars or {})
    )
    try:
        with locking.warehouse_lock(get_run_logger()):
            try:
                run_pipeline(paths, full_refresh=full_refresh, summary=summary, settle_seconds=settle_seconds, csv=csv)
            finally:
                check_freshness(summary, get_run_logger())
    except Exception as exc:
        summary.error = one_line(exc, with_type=True)
        _report(summary)
        raise
    _report(summary)
    return summary


def check_freshness(summary: RunSummary, logger: Any) -> None:
    """Which export entities are stale (summary.stale, logged), with the freshness vars of the last
    build (none before the first build); never fails the run."""
    built_vars = dbt_artifacts.manifest_vars(summary.paths.dbt_target) or {}
    try:
        summary.stale = freshness.stale_entities(summary.paths.warehouse, built_vars)
    except duckdb.Error as exc:
        logger.warning("could not check the freshness of the exports: %s", exc)
        return
    for entity in summary.stale:
        logger.warning(entity.describe())


def _report(summary: RunSummary) -> None:
    """The run report, kept on the summary and left as a Prefect artifact; a failure to write it never
    hides the run's own outcome."""
    # the currency of the build's vars, from dbt's manifest (no symbol when there was no build yet)
    built_vars = dbt_artifacts.manifest_vars(summary.paths.dbt_target) or {}
    reporting_currency = str(built_vars.get("reporting_currency") or "")
    try:
        summary.report = build_run_report(summary, summary.paths.published, reporting_currency)
    except duckdb.Error as exc:  # the published file could not be read: report the run without its headlines
        get_run_logger().warning("could not read the headline figures of %s: %s", summary.paths.published, exc)
        summary.report = build_run_report(summary, None, reporting_currency)
    try:
        publish_run_artifact(summary.report)
    except Exception as exc:  # pragma: no cover - the API went away mid-run
        get_run_logger().warning("could not write the run summary artifact: %s", exc)
