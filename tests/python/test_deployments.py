"""The deployments against a real Prefect server: the session's `prefect server start` on loopback
(conftest.py `prefect_api`, its own PREFECT_HOME), `python -m flows serve` in a subprocess, runs
triggered through the API.

One serving process and one copy of the session's run are shared by the module; the serving process
is stopped in teardown.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from flows.config import Paths
from tests.python.conftest import PROJECT_DIR, copy_paths

pytestmark = pytest.mark.e2e

FLOW = "customer-value-pipeline"
DEPLOYMENTS = ("nightly", "intraday", "full-refresh")
RUN_TIMEOUT = 300


@pytest.fixture(scope="module")
def sample(sample_run: Paths, tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """A copy of the session's run, published: the served runs load nothing new; the full-refresh one
    rebuilds on the same code (no unit tests), validates and publishes, the nightly one finds its
    publication current (before or after the full refresh, whichever runs first) and stops after the
    load. So the pair costs one build, whatever order the writer slot gives them."""
    paths = copy_paths(sample_run, tmp_path_factory.mktemp("deployments"))
    # scheduled deployments wait until files are 10 s old: these were written long before
    past = time.time() - 60
    for path in paths.exports.iterdir():
        os.utime(path, (past, past))
    return paths


@pytest.fixture(scope="module")
def api(prefect_api: str, monkeypatch_module: pytest.MonkeyPatch) -> Iterator[str]:
    """This process talks to the session's server (settings are read when used, so patch env and settings)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch_module.setenv("PREFECT_API_URL", prefect_api)
    with temporary_settings(updates={PREFECT_API_URL: prefect_api}):
        yield prefect_api


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def served(api: str, sample: Paths, tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen]:
    """`python -m flows serve` against the test server, until every deployment is registered."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    root = tmp_path_factory.mktemp("serve")
    log = (root / "serve.log").open("wb")
    env = {
        **os.environ,
        "PREFECT_API_URL": api,
        "PREFECT_HOME": str(root / "home"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",  # pick up triggered runs quickly
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows",
            "serve",
            "--exports",
            str(sample.exports),
            "--warehouse",
            str(sample.warehouse),
            "--published",
            str(sample.published),
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        with get_client(sync_client=True) as client:
            while True:
                assert process.poll() is None, (root / "serve.log").read_text()[-3000:]
                try:
                    for name in DEPLOYMENTS:
                        client.read_deployment_by_name(f"{FLOW}/{name}")
                    break
                except ObjectNotFound:
                    assert time.monotonic() < deadline, "deployments not registered within 120 s"
                    time.sleep(1)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()  # the runner shuts down gracefully on SIGTERM (SIGINT may be ignored in CI)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        log.close()


def wait_for_final(flow_run_ids: list, timeout: float = RUN_TIMEOUT) -> list:
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = [client.read_flow_run(i) for i in flow_run_ids]
            if all(r.state is not None and r.state.is_final() for r in runs):
                return runs
            assert time.monotonic() < deadline, [(r.name, r.state_name) for r in runs]
            time.sleep(2)


def api_post(api: str, path: str, body: dict) -> list[dict]:
    """POST a filter to the API (the sync client's read_task_runs/read_artifacts send nulls the server rejects)."""
    import httpx

    response = httpx.post(f"{api}{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def writing_interval(api: str, flow_run_id) -> tuple[datetime, datetime]:
    """From the first task's start to the last task's end: when the run loaded, built, validated, published
    (each run writes the warehouse from its first task to its last)."""
    tasks = api_post(api, "/task_runs/filter", {"flow_runs": {"id": {"any_": [str(flow_run_id)]}}, "limit": 50})
    # (a run that finds nothing new since the last publication stops after loading)
    assert "load exports" in {t["name"].rsplit("-", 1)[0] for t in tasks}
    return (
        min(datetime.fromisoformat(t["start_time"]) for t in tasks),
        max(datetime.fromisoformat(t["end_time"]) for t in tasks),
    )


def run_artifact(api: str, flow_run_id) -> str:
    """The run summary artifact of a flow run."""
    artifacts = api_post(
        api,
        "/artifacts/filter",
        {"artifacts": {"flow_run_id": {"any_": [str(flow_run_id)]}, "key": {"any_": ["customer-value-run"]}}},
    )
    assert len(artifacts) == 1, artifacts
    return str(artifacts[0]["data"])


def test_the_three_deployments_are_registered_with_their_schedules(served: subprocess.Popen, sample: Paths) -> None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        nightly, intraday, full = (client.read_deployment_by_name(f"{FLOW}/{name}") for name in DEPLOYMENTS)
    assert [(s.schedule.cron, s.schedule.timezone) for s in nightly.schedules] == [("0 2 * * *", "Europe/Amsterdam")]
    assert [(s.schedule.cron, s.schedule.timezone) for s in intraday.schedules] == [
        ("*/15 * * * *", "Europe/Amsterdam")
    ]
    assert full.schedules == []
    assert nightly.parameters["full_refresh"] is False and full.parameters["full_refresh"] is True
    assert nightly.parameters["warehouse"] == str(sample.warehouse)
    assert intraday.global_concurrency_limit.limit == 1
    assert intraday.concurrency_options.collision_strategy == "CANCEL_NEW"
    # typed, documented parameters
    properties = nightly.parameter_openapi_schema["properties"]
    assert properties["full_refresh"]["type"] == "boolean"
    assert "export files" in properties["exports"]["description"]


def wait_until_writing(api: str, flow_run_id, timeout: float = RUN_TIMEOUT) -> None:
    """Until the flow run's first task has started: it then holds the writer slot (flows/locking.py)."""
    deadline = time.monotonic() + timeout
    while not api_post(api, "/task_runs/filter", {"flow_runs": {"id": {"any_": [str(flow_run_id)]}}, "limit": 1}):
        assert time.monotonic() < deadline, "the full refresh never started a task"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def colliding_runs(served: subprocess.Popen, api: str) -> list:
    """The nightly deployment triggered while the full-refresh deployment writes the warehouse, both
    waited for: the collision the writer slot is for. (Triggering both at the same moment would leave
    it to the runner's start-up which runs first; a nightly that runs first finds nothing new and is
    done in seconds, before the other has even started, and then nothing was kept apart. Shared by the
    tests below: the full refresh builds the whole warehouse, so one pair keeps the module short.)"""
    from prefect.deployments import run_deployment

    full_refresh = run_deployment(f"{FLOW}/full-refresh", timeout=0)
    wait_until_writing(api, full_refresh.id)
    nightly = run_deployment(f"{FLOW}/nightly", timeout=0)
    return wait_for_final([nightly.id, full_refresh.id])


def test_a_triggered_deployment_run_publishes_the_marts(colliding_runs: list, sample: Paths, api: str) -> None:
    markdown = {}
    for run in colliding_runs:
        assert run.state.is_completed(), f"{run.name}: {run.state.message}"
        markdown[run.id] = run_artifact(api, run.id)
        assert f"run {run.id}: succeeded" in markdown[run.id]
    by_kind = {bool(run.parameters.get("full_refresh")): run for run in colliding_runs}
    full_refresh, nightly = by_kind[True], by_kind[False]
    assert "**Marts published:** yes" in markdown[full_refresh.id]
    # same files, same code: the copy's publication (or the full refresh's) is current
    assert "**Marts published:** no: nothing new since the last publication" in markdown[nightly.id]
    with duckdb.connect(str(sample.published), read_only=True) as con:
        assert con.execute("select count(*) from marts.customers").fetchone()[0] > 0
        assert con.execute("select run_id from marts._publication").fetchone()[0] == str(full_refresh.id)


def test_a_run_triggered_while_another_writes_waits_for_it(colliding_runs: list, api: str) -> None:
    (start_a, end_a), (start_b, end_b) = sorted(writing_interval(api, r.id) for r in colliding_runs)
    assert end_a <= start_b, f"the runs overlapped: {start_a}-{end_a} and {start_b}-{end_b}"
    # both flow runs were running at the same time (one holding, one waiting for the writer slot):
    # the global concurrency limit, not the runner, kept them apart
    a, b = colliding_runs
    assert max(a.start_time, b.start_time) < min(a.end_time, b.end_time)


def test_deploy_registers_the_deployments_for_a_work_pool(colliding_runs: list, api: str, tmp_path: Path) -> None:
    """`python -m flows deploy --pool`: the same deployments, run by the pool's workers from this checkout.
    (Uses colliding_runs so that it re-registers the served deployments only after their runs ended. The
    time zone is given: its default comes from a `dbt parse`, which `serve` above already resolves and
    test_the_three_deployments_are_registered_with_their_schedules checks.)"""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="warehouse-host", type="process"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "flows",
            "deploy",
            "--pool",
            "warehouse-host",
            "--intraday-cron",
            "*/30 6-22 * * *",
            "--timezone",
            "Europe/Amsterdam",
            "--exports",
            str(tmp_path / "exports"),
            "--warehouse",
            str(tmp_path / "w.duckdb"),
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, "PREFECT_API_URL": api, "PREFECT_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=600,  # a guard against a hang, not a time limit (a loaded machine took over 120 s)
    )
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    assert "deployed customer-value-pipeline/full-refresh to work pool warehouse-host" in result.stdout
    with get_client(sync_client=True) as client:
        deployments = {name: client.read_deployment_by_name(f"{FLOW}/{name}") for name in DEPLOYMENTS}
    assert {d.work_pool_name for d in deployments.values()} == {"warehouse-host"}
    assert {d.entrypoint for d in deployments.values()} == {"flows/pipeline.py:customer_value_pipeline"}
    assert deployments["nightly"].pull_steps == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(PROJECT_DIR)}}
    ]
    assert [(s.schedule.cron, s.schedule.timezone) for s in deployments["intraday"].schedules] == [
        ("*/30 6-22 * * *", "Europe/Amsterdam")
    ]
    assert deployments["full-refresh"].parameters["warehouse"] == str(tmp_path / "w.duckdb")


def test_a_bad_schedule_is_refused_with_a_one_line_cause() -> None:
    """The CLI in-process (Typer's runner): the schedule is checked before anything is served. The time
    zone is given, so no `dbt parse` runs for its default."""
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(app, ["serve", "--nightly-cron", "0 25 * * *", "--timezone", "Europe/Amsterdam"])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().startswith("error: nightly schedule '0 25 * * *' in 'Europe/Amsterdam': ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_deployments_are_defined_once_with_schedules_limits_and_parameters() -> None:
    """flows/serve.py is the one definition of the deployments (serve and deploy use it; there is no
    prefect.yaml, whose `prefect deploy` the pinned Prefect cannot run): names, entrypoint, schedules
    in the given time zone, the intraday concurrency limit, and the parameters including --vars."""
    from flows.config import DEFAULT_INTRADAY_CRON, DEFAULT_NIGHTLY_CRON, DEFAULT_SETTLE_SECONDS
    from flows.serve import ENTRYPOINT, ServeSettings, build_deployments

    settings = ServeSettings.resolve(timezone="Europe/Amsterdam", dbt_vars={"churn_window_days": 180})
    by_name = {d.name: d for d in build_deployments(settings)}
    assert list(by_name) == list(DEPLOYMENTS)
    assert {d.entrypoint for d in by_name.values()} == {ENTRYPOINT}
    schedules = {name: [(s.schedule.cron, s.schedule.timezone) for s in d.schedules] for name, d in by_name.items()}
    assert schedules == {
        "nightly": [(DEFAULT_NIGHTLY_CRON, "Europe/Amsterdam")],
        "intraday": [(DEFAULT_INTRADAY_CRON, "Europe/Amsterdam")],
        "full-refresh": [],
    }
    assert by_name["intraday"].concurrency_limit == 1
    assert by_name["intraday"].concurrency_options.collision_strategy.value == "CANCEL_NEW"
    assert by_name["nightly"].concurrency_limit is None and by_name["full-refresh"].concurrency_limit is None
    assert [by_name[n].parameters["full_refresh"] for n in DEPLOYMENTS] == [False, False, True]
    assert {by_name[n].parameters["settle_seconds"] for n in DEPLOYMENTS} == {DEFAULT_SETTLE_SECONDS}
    assert all(by_name[n].parameters["dbt_vars"] == {"churn_window_days": 180} for n in DEPLOYMENTS)
