"""What a run retries and what it fails fast on (flows/resilience.py), and the run summary that every
run leaves as a Prefect artifact (flows/summary/markdown.py). Plain functions, real files and DuckDB locks.
How a run waits for a warehouse another process holds: test_concurrent_runs.py."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest

from flows import resilience
from flows.config import Paths
from flows.file_lock import LockHolder, WarehouseLockTimeout
from flows.ingest import FileResult, LoadReport
from flows.pipeline import RunSummary, build_task, load_task, publish_task, validate_task
from flows.summary.markdown import render_markdown
from flows.summary.report import build_run_report
from flows.transform import DbtError, DbtResult, NodeResult
from flows.validation import FailedExpectation, SuiteResult, ValidationError, ValidationReport
from tests.python.conftest import flow_options_of_cli_runs, hold_write_lock

# --------------------------------------------------------------------------- files still being written


def test_a_file_modified_within_the_settle_period_is_not_loaded_yet(exports: Path) -> None:
    old = exports / "orders_2025-01-01.csv"
    new = exports / "orders_2025-01-02.csv"
    hidden = exports / ".orders_2025-01-03.csv.part"
    for path in (old, new, hidden):
        path.write_text("order_id\n")
    now = time.time()
    os.utime(old, (now - 60, now - 60))
    os.utime(new, (now - 3, now - 3))
    assert resilience.unsettled_files(exports, settle=10, now=now) == [new]
    with pytest.raises(
        resilience.ExportsStillBeingWritten,
        match=r"1 export file\(s\) changed in the last 10 s .*orders_2025-01-02.csv",
    ):
        resilience.ensure_exports_settled(exports, 10, now=now)
    # once the file has been quiet for the settle period it loads; 0 disables the check
    resilience.ensure_exports_settled(exports, 10, now=now + 8)
    resilience.ensure_exports_settled(exports, 0, now=now)


def test_a_file_still_growing_is_caught_on_every_write(exports: Path) -> None:
    growing = exports / "survey_responses_2025-01-01.csv"
    growing.write_text("response_id\n")
    os.utime(growing, (time.time() - 60, time.time() - 60))
    assert resilience.unsettled_files(exports, settle=10) == []
    with growing.open("a") as handle:  # the upload goes on
        handle.write("r1\n")
    assert resilience.unsettled_files(exports, settle=10) == [growing]


# --------------------------------------------------------------------------- a locked warehouse


def test_a_warehouse_locked_by_another_process_is_a_transient_error(warehouse: Path) -> None:
    holder = hold_write_lock(warehouse)
    try:
        with pytest.raises(resilience.WarehouseLocked, match="in use by another process: .*lock"):
            resilience.ensure_warehouse_writable(warehouse)
        with pytest.raises(duckdb.Error) as raised:
            duckdb.connect(str(warehouse))
        assert resilience.is_lock_error(raised.value)
        assert resilience.is_retryable(raised.value)
    finally:
        holder.communicate("")
    resilience.ensure_warehouse_writable(warehouse)  # free again


@pytest.mark.integration
def test_a_dbt_build_on_a_warehouse_another_process_writes_is_a_transient_error_naming_the_holder(
    warehouse: Path, tmp_path: Path
) -> None:
    """Two real processes: dbt cannot open a file another process writes (the check before dbt can
    lose that race). dbt says so only in its log and exits with 2; the build raises WarehouseLocked,
    which the task retries, naming the holder's PID instead of 'dbt exited with code 2'."""
    from flows import transform

    holder = hold_write_lock(warehouse)
    try:
        with pytest.raises(resilience.WarehouseLocked) as raised:
            transform.build(warehouse, tmp_path / "target", unit_tests=False, quiet=True)
    finally:
        holder.communicate("")
    assert f"(PID {holder.pid})" in str(raised.value) and "in use by another process" in str(raised.value)
    assert resilience.is_retryable(raised.value)


# --------------------------------------------------------------------------- retry or fail fast


def failed_state(exc: BaseException) -> SimpleNamespace:
    return SimpleNamespace(data=exc)


@pytest.mark.parametrize(
    "exc, retried",
    [
        (resilience.ExportsStillBeingWritten([Path("orders.csv")], 10), True),
        (resilience.WarehouseLocked(Path("w.duckdb"), "IO Error: Could not set lock on file"), True),
        # the step waited for the lock already: retrying would wait as long again
        (WarehouseLockTimeout(Path("w.duckdb"), LockHolder(pid=12), 600), False),
        (duckdb.IOException('IO Error: Could not set lock on file "w.duckdb": Conflicting lock is held'), True),
        (ValueError("--vars must be a mapping of var names to values"), False),
        (
            DbtError(
                DbtResult(["dbt", "build"], 1, [NodeResult("unique_orders_order_id", "test", "fail", failures=2)])
            ),
            False,
        ),
        (ValidationError(ValidationReport(success=False)), False),
        (duckdb.CatalogException("Table with name orders does not exist"), False),
        (FileNotFoundError("exports folder does not exist"), False),
    ],
)
def test_retry_only_what_waiting_can_cure(exc: BaseException, retried: bool) -> None:
    assert resilience.retry_condition(None, None, failed_state(exc)) is retried


def test_the_tasks_retry_transient_errors_only() -> None:
    for task in (load_task, build_task, validate_task, publish_task):
        assert task.retry_condition_fn is resilience.retry_condition, task.name
        assert task.retries >= 2, task.name


# --------------------------------------------------------------------------- the run summary artifact


def paths() -> Paths:
    return Paths.resolve(
        exports=Path("/data/exports"), warehouse=Path("/w/build.duckdb"), published=Path("/w/published.duckdb")
    )


def load_report() -> LoadReport:
    return LoadReport(
        files=[
            FileResult("orders_2025-01-02.csv", "orders", "loaded", 10, 8, 2, load_id=3),
            FileResult(
                "customers_2025-01-02.csv",
                "customers",
                "rejected",
                4,
                0,
                4,
                "file rejected: missing required column customer_id",
            ),
            FileResult(
                "orders_2025-01-01.csv", "orders", "skipped", message="same content as orders_2025-01-01.csv (loaded)"
            ),
        ]
    )


def artifact_markdown(summary: RunSummary) -> str:
    """The artifact's text: the run report (no published file, so no headline figures) as Markdown."""
    return render_markdown(build_run_report(summary, None, reporting_currency="EUR"))


def test_the_artifact_of_a_run_failed_on_a_dbt_test_names_the_test_and_says_nothing_was_published() -> None:
    summary = RunSummary(run_id="run-1", paths=paths(), load=load_report())
    summary.dbt = DbtResult(
        ["dbt", "build"],
        1,
        [
            NodeResult("customers", "model", "success"),
            NodeResult("unique_orders_order_id", "test", "fail", "Got 2 results", 2),
            NodeResult("not_null_orders_customer_id", "test", "pass"),
        ],
    )
    summary.error = "DbtError: dbt: 1 failed: unique_orders_order_id (fail, 2 rows)"
    markdown = artifact_markdown(summary)
    assert markdown.startswith("# Customer-value pipeline run run-1: failed\n")
    assert "**Error:** DbtError: dbt: 1 failed: unique_orders_order_id (fail, 2 rows)" in markdown
    assert "**Marts published:** no (the previous publication is unchanged)" in markdown
    assert "Files loaded: 1, skipped (already loaded): 1, rejected: 1, ignored: 0." in markdown
    assert "Rows read 14 = loaded 8 + quarantined 6 (reasons in table `raw.quarantine`)." in markdown
    assert "| orders_2025-01-02.csv | orders | loaded | 10 | 8 | 2 |  |" in markdown
    assert (
        "| customers_2025-01-02.csv | customers | rejected | 4 | 0 | 4 | file rejected: missing required column customer_id |"
        in markdown
    )
    assert "orders_2025-01-01.csv |" not in markdown  # skipped files are counted, not listed
    assert "1 models built, 1 tests passed, 0 warned, 1 failed (exit code 1)." in markdown
    assert "- `unique_orders_order_id` (test, fail, 2 rows): Got 2 results" in markdown
    assert "## Great Expectations\n\nNot reached." in markdown


def test_the_artifact_of_a_run_failed_on_an_expectation_names_the_expectation() -> None:
    failed = FailedExpectation("expect_column_values_to_be_between", ("nps",), "failed on 3 rows", 3)
    summary = RunSummary(run_id="run-2", paths=paths(), load=LoadReport(), dbt=DbtResult(["dbt", "build"], 0))
    summary.validation = ValidationReport(
        success=False, results=[SuiteResult("nps_suite", "nps", evaluated=5, failed=[failed])]
    )
    summary.error = "ValidationError: nps: expect_column_values_to_be_between(nps) failed on 3 rows"
    markdown = artifact_markdown(summary)
    assert "Failed: 5 expectations evaluated in 1 suites, 1 failed." in markdown
    assert "- `nps`: expect_column_values_to_be_between(nps) failed on 3 rows" in markdown
    assert "**Marts published:** no" in markdown
    assert "Rows read 0 = loaded 0 + quarantined 0." in markdown


def test_the_artifact_of_a_successful_run_says_where_the_marts_were_published() -> None:
    summary = RunSummary(
        run_id="run-3",
        paths=paths(),
        load=load_report(),
        dbt=DbtResult(["dbt", "build"], 0),
        validation=ValidationReport(success=True, results=[SuiteResult("s", "customers", evaluated=7)]),
        published=True,
        seconds={"load": 1.25, "dbt build": 20.0},
    )
    markdown = artifact_markdown(summary)
    assert markdown.startswith("# Customer-value pipeline run run-3: succeeded\n")
    assert "**Error:**" not in markdown
    assert "**Marts published:** yes (`/w/published.duckdb`)" in markdown
    assert "Passed: 7 expectations evaluated in 1 suites, 0 failed." in markdown
    assert "load 1.2 s, dbt build 20.0 s" in markdown


def test_the_artifact_of_a_run_that_failed_before_loading_says_so() -> None:
    summary = RunSummary(run_id="run-4", paths=paths(), error="ExportsStillBeingWritten: 1 export file(s) changed | x")
    markdown = artifact_markdown(summary)
    assert "**Error:** ExportsStillBeingWritten: 1 export file(s) changed \\| x" in markdown
    assert markdown.count("Not reached.") == 3


# --------------------------------------------------------------------------- the retries in a real Prefect run


@pytest.fixture()
def prefect_server(prefect_harness: None) -> None:
    """The session's temporary Prefect server, for the in-process flow runs below."""


def load_attempts(paths: Paths) -> tuple[bool, Any, int]:
    """Run the load task in a flow (retry delay 1 s). Returns whether it completed, its result (the
    exception when it failed) and how often it ran."""
    from prefect import flow
    from prefect.client.orchestration import get_client

    quick_load = load_task.with_options(retry_delay_seconds=1)

    @flow(name="load-with-retries")
    def load_flow() -> tuple[bool, Any, Any]:
        state = quick_load(paths, "test-run", return_state=True)
        return state.is_completed(), state.result(raise_on_failure=False), state.state_details.task_run_id

    completed, result, task_run_id = load_flow()
    with get_client(sync_client=True) as client:
        runs = client.read_task_run(task_run_id).run_count
    return completed, result, runs


@pytest.mark.integration
def test_a_missing_exports_folder_fails_at_once(prefect_server: None, tmp_path: Path, warehouse: Path) -> None:
    completed, error, runs = load_attempts(Paths.resolve(exports=tmp_path / "nope", warehouse=warehouse))
    assert not completed
    assert runs == 1
    assert isinstance(error, FileNotFoundError) and "does not exist" in str(error)


@pytest.mark.parametrize(
    ("unique_id", "name"),
    [
        ("model.customer_value.orders", "orders"),
        ("test.customer_value.unique_orders_order_id.eb544cb895", "unique_orders_order_id"),
        ("test.customer_value.assert_customer_audit_figures_balance", "assert_customer_audit_figures_balance"),
        ("unit_test.customer_value.orders.completed_orders_are_numbered", "orders.completed_orders_are_numbered"),
        ("seed.customer_value.currency_rates", "currency_rates"),
    ],
)
def test_failing_dbt_nodes_are_named_as_people_know_them_not_by_hash(unique_id: str, name: str) -> None:
    from flows.transform import node_name

    assert node_name(unique_id) == name


def test_the_cli_waits_for_files_still_being_written_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m flows run` gives the flow the deployments' settle time (10 s) unless --settle-seconds
    says otherwise; the waiting itself (a file modified within it is retried) is tested above."""
    from flows.config import DEFAULT_SETTLE_SECONDS

    calls = flow_options_of_cli_runs(monkeypatch, tmp_path / "exports", [], ["--settle-seconds", "0"])
    assert [c["settle_seconds"] for c in calls] == [DEFAULT_SETTLE_SECONDS, 0.0]
    assert DEFAULT_SETTLE_SECONDS == 10.0  # the deployments' settle time too (test_deployments)
