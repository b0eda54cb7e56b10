"""Shared fixtures. Expensive things are made once per session and shared:

- `sample_cli_run` / `sample_run`: one generated sample run through the user's path,
  `python -m flows run` (load, dbt build with its unit tests, Great Expectations, publish). It is
  the only build of the session that runs dbt's unit tests; every other build in the suite reuses
  its code fingerprint (`copy_run`) or turns them off, because their outcome depends on the code only.
- `copy_run`: a private copy of that run (exports, build warehouse, published file, dbt target)
  for tests that change it; the session's files are never written.
- `prefect_harness` / `prefect_api`: one Prefect server (`prefect server start`) for the whole
  session, shared by every pytest-xdist worker: their in-process flow calls, the CLI runs given its
  URL and the served deployments. Each worker takes a writer slot of its own ($CVW_LOCK_NAME), so
  runs of different workers never wait for each other's slot.

Markers (`make test-fast` runs the unit tests alone): `unit` (no dbt, GX or Prefect), `integration`
(dbt, GX or an in-process Prefect flow on generated data), `e2e` (the CLI in a subprocess, a real
Prefect server, served deployments).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from flows.config import Paths, configure_prefect_defaults
from flows.local_server import free_port, is_healthy, start_local_server
from tests.python import parse_state

PROJECT_DIR = Path(__file__).resolve().parents[2]
configure_prefect_defaults()

#: The session's Prefect server (fixture `prefect_harness`): its folder and API URL are chosen once, by
#: the process that starts the session (pytest-xdist's controller, or pytest alone), before any worker
#: starts, so that every worker inherits them; the first worker that needs the server starts it, and the
#: controller stops it at the end (`pytest_unconfigure`). PREFECT_API_URL is set before Prefect is
#: imported, so every in-process flow call of the session talks to that server.
SERVER_DIR, SERVER_URL = "CVW_TEST_PREFECT_DIR", "CVW_TEST_PREFECT_API_URL"
if not os.environ.get("PYTEST_XDIST_WORKER") and SERVER_DIR not in os.environ:
    os.environ[SERVER_DIR] = tempfile.mkdtemp(prefix="cvw-test-prefect-")
    os.environ[SERVER_URL] = f"http://127.0.0.1:{free_port()}/api"
os.environ["PREFECT_API_URL"] = os.environ[SERVER_URL]
if os.environ.get("PYTEST_XDIST_WORKER"):
    # a writer slot per worker (flows/locking.py): a worker runs one test at a time, as with a server each
    os.environ["CVW_LOCK_NAME"] = f"cvw-warehouse-writer-{os.environ['PYTEST_XDIST_WORKER']}"

#: The session's sample: realistic, deterministic (tests/python/fixtures/published_marts_baseline.json
#: holds what its published marts must be).
SAMPLE = {"customers": 3000, "seed": 11, "start": date(2022, 1, 1), "end": date(2025, 12, 31)}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args: str, timeout: float = 900, api_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m flows ARGS` from the project directory, as a user runs it: with a temporary Prefect
    server of its own, or against the server at `api_url` (fixture `prefect_api`)."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return subprocess.run(
        [sys.executable, "-m", "flows", *args], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=timeout,
        env=env,
    )  # fmt: skip


def on_paths(command: str, paths: Paths, *extra: str) -> list[str]:
    """The arguments of `python -m flows COMMAND` on a run's exports, build warehouse and published file."""
    return [
        command, "--exports", str(paths.exports), "--warehouse", str(paths.warehouse),
        "--published", str(paths.published), *extra,
    ]  # fmt: skip


def run_on(
    command: str, paths: Paths, *extra: str, timeout: float = 900, api_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m flows COMMAND` on a run's exports, build warehouse and published file (and `extra` options)."""
    return run_cli(*on_paths(command, paths, *extra), timeout=timeout, api_url=api_url)


def start_on(
    command: str, paths: Paths, *extra: str, api_url: str | None = None, **popen: Any
) -> subprocess.Popen[str]:
    """`run_on` without waiting for it: the process (its output merged into `stdout`, a pipe, unless
    `popen` says otherwise; with `api_url`, against that Prefect server, see `prefect_api`)."""
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, **popen}
    if api_url:
        options["env"] = {**options.get("env", os.environ), "PREFECT_API_URL": api_url}
    return subprocess.Popen(
        [sys.executable, "-m", "flows", *on_paths(command, paths, *extra)], cwd=PROJECT_DIR, text=True, **options
    )


def hold_write_lock(warehouse: Path) -> subprocess.Popen[str]:
    """Another process with the warehouse open for writing (as a running dbt or a second run), until
    `.communicate("")` lets it go."""
    import duckdb

    duckdb.connect(str(warehouse)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(warehouse)!r}); print('ok', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
    return holder


def flow_options_of_cli_runs(
    monkeypatch: pytest.MonkeyPatch, exports: Path, *runs: list[str]
) -> list[dict[str, object]]:
    """The options `python -m flows run --exports EXPORTS ...` gives the flow, for each of `runs` (the extra
    arguments), in-process; the flow is stopped before it starts."""
    from typer.testing import CliRunner

    from flows import cli, pipeline

    calls: list[dict[str, object]] = []

    def no_run(**options: object) -> object:
        calls.append(options)
        raise RuntimeError("stopped before the run")

    monkeypatch.setattr(pipeline, "customer_value_pipeline", no_run)
    exports.mkdir(parents=True, exist_ok=True)
    for extra in runs:
        CliRunner().invoke(cli.app, ["run", "--exports", str(exports), *extra])
    return calls


def skip_unit_tests_of_this_code(target_path: Path) -> None:
    """Builds in the dbt target folder `target_path` skip dbt's unit tests, as after a build of this very
    code with unit tests: its code fingerprint (flows/transform.py, without vars) is written there. Their
    outcome depends on the code only, and the session's run passes them on this code (checked by
    test_pipeline.py and test_incremental.py), so a scenario on other data need not wait for that run."""
    from flows.transform import LAST_BUILD_FINGERPRINT, code_fingerprint

    target_path.mkdir(parents=True, exist_ok=True)
    (target_path / LAST_BUILD_FINGERPRINT).write_text(code_fingerprint() + "\n")


@pytest.fixture()
def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@dataclass(frozen=True)
class CliRun:
    paths: Paths
    completed: subprocess.CompletedProcess[str]


@contextlib.contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_file` (the pytest-xdist workers of `make test` share one sample run)."""
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shared_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder shared by every worker of this session (the base folder without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def sample_cli_run(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """The session's sample (SAMPLE) through `python -m flows run`, made once for all workers; the run
    must have succeeded. Tests read it and never write to it (take `copy_run` to change something)."""
    from flows.sample_data import generate_exports

    root = shared_temp(tmp_path_factory) / "sample_run"
    paths = Paths.resolve(
        exports=root / "exports", warehouse=root / "build.duckdb", published=root / "published.duckdb"
    )
    outcome = root / "cli_run.json"
    with exclusive(shared_temp(tmp_path_factory) / "sample_run.lock"):
        if not outcome.exists():
            shutil.rmtree(root, ignore_errors=True)
            generate_exports(paths.exports, **SAMPLE)
            # the files were written a moment ago, completely: no settle time
            run = run_on("run", paths, "--settle-seconds", "0", timeout=1200)
            outcome.write_text(json.dumps({"returncode": run.returncode, "stdout": run.stdout, "stderr": run.stderr}))
        recorded = json.loads(outcome.read_text())
    completed = subprocess.CompletedProcess(["python", "-m", "flows", "run"], **recorded)
    assert completed.returncode == 0, completed.stderr[-3000:] + completed.stdout[-3000:]
    return CliRun(paths, completed)


@pytest.fixture(scope="session")
def sample_run(sample_cli_run: CliRun) -> Paths:
    """The Paths of the session's sample run (see `sample_cli_run`)."""
    return sample_cli_run.paths


def copy_paths(source: Paths, root: Path) -> Paths:
    """A copy of a run's exports, build warehouse, published file and output (dbt target with its
    code fingerprint and manifest) under `root`: builds on it are incremental and skip unit tests.
    The published DuckDB file is copied as one plain file, the layout before releases (flows/release.py):
    the copy's next publication replaces it by the link into its first release."""
    root.mkdir(parents=True, exist_ok=True)
    target = Paths.resolve(
        exports=root / "exports", warehouse=root / "build.duckdb", published=root / "published.duckdb"
    )
    shutil.copytree(source.exports, target.exports)
    shutil.copy(source.warehouse, target.warehouse)
    if source.published.exists():
        shutil.copy(source.published, target.published)
    if source.output.exists():
        shutil.copytree(source.output, target.output, ignore=shutil.ignore_patterns("data_docs"))
        # dbt's saved parse state names the warehouse path: made the copy's, its first dbt command
        # parses only what changed instead of the whole project (tests/python/parse_state.py)
        parse_state.retarget(target.dbt_target, source.warehouse, target.warehouse)
    if target.published.exists():
        # the publication records the state it stands on, which names the warehouse's path: the copy
        # stands on the same loads, code and vars, so it records the copy's state
        import duckdb

        from flows.publish import source_state

        with duckdb.connect(str(target.published)) as con:
            con.execute("update marts._publication set source_state = ?", [source_state(target.warehouse)])
    return target


@pytest.fixture()
def copy_run(sample_run: Paths, tmp_path: Path) -> Callable[..., Paths]:
    """copy_run(published=True) -> Paths of a private copy of the session's sample run."""

    def make(published: bool = True, name: str = "copy") -> Paths:
        paths = copy_paths(sample_run, tmp_path / name)
        if not published:
            paths.published.unlink(missing_ok=True)
        return paths

    return make


_started_server: list[subprocess.Popen] = []  # the server, in the process that started it


def _server_pid_file() -> Path:
    return Path(os.environ[SERVER_DIR]) / "server.pid"


def _running(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie (the server's parent may be another worker)."""
    for process in _started_server:
        process.poll()  # reaps it when it ended
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.fixture(scope="session")
def prefect_harness() -> None:
    """The session's Prefect server (`prefect server start` on loopback, its own PREFECT_HOME), started
    by the first worker that needs it and healthy when this returns. (One server instead of one
    `prefect_test_harness` per worker: each start costs about 16 s of CPU, 4 in the process and 12 in
    the server.)"""
    root, url = Path(os.environ[SERVER_DIR]), os.environ[SERVER_URL]
    with exclusive(root / "server.lock"):
        if not _server_pid_file().exists():
            port = int(url.rsplit(":", 1)[1].split("/")[0])
            with pytest.MonkeyPatch.context() as patch:
                # no scheduler service: the served deployments' schedules (intraday every 15 minutes)
                # never start a run of their own in the middle of a test; tests trigger their runs
                patch.setenv("PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED", "false")
                server = start_local_server(
                    port=port, prefect_home=root / "home", log_path=root / "server.log", ui=False, wait=False
                )
            _started_server.append(server.process)
            _server_pid_file().write_text(str(server.process.pid))
    pid = int(_server_pid_file().read_text())
    deadline = time.monotonic() + 600  # a guard against a hang, not a time limit
    while not is_healthy(url):
        assert _running(pid), "the Prefect server exited: " + (root / "server.log").read_text()[-3000:]
        assert time.monotonic() < deadline, f"the Prefect server on {url} is not healthy after 600 s"
        time.sleep(0.5)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The session's end (pytest-xdist's controller after every worker, or pytest alone): the Prefect
    server stopped (its whole process group) and its folder removed."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    pid_file = _server_pid_file()
    if pid_file.exists():
        pid = int(pid_file.read_text())
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, sig)
            deadline = time.monotonic() + 30
            while _running(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if not _running(pid):
                break
    shutil.rmtree(os.environ[SERVER_DIR], ignore_errors=True)


@pytest.fixture(scope="session")
def prefect_api(prefect_harness: None) -> str:
    """The API URL of the session's Prefect server (`prefect_harness`), for CLI runs in a subprocess:
    they then start no temporary server of their own (seconds per run). They take the worker's writer
    slot as served deployments do; a worker runs one test at a time, so no two of them wait for each
    other. The session's sample run keeps the user's path (its own temporary server: `run_cli` drops
    PREFECT_API_URL unless given one)."""
    return os.environ[SERVER_URL]


#: Fixtures that make a test an integration test (they build, validate or start Prefect).
INTEGRATION_FIXTURES = {"sample_cli_run", "sample_run", "copy_run", "prefect_harness", "prefect_api", "prefect_server"}
KINDS = ("unit", "integration", "e2e")


#: The order `make test` hands test files to its workers: longest first, so that no long file starts
#: last. It takes effect because pytest-xdist's own reordering (files with the most tests first, which
#: put the one-test kill -9 file last) is off: `--no-loadscope-reorder` in pyproject.toml's addopts.
#: The first file builds the session's sample at once (test_pipeline needs it in its first test) while
#: the next two, which need no sample run, build their own small ones; the rest follow by their
#: measured duration (README "Tests").
FILE_ORDER = (
    "test_pipeline.py",
    "test_partial_exports.py",
    "test_incremental.py",
    "test_vars.py",
    "test_deployments.py",
    "test_erasure.py",
    "test_ingest.py",
    "test_retries_and_artifacts.py",
    "test_crash_recovery.py",
    "test_personas_and_value.py",
    "test_voice_suites.py",
    "test_concurrent_runs.py",
    "test_freshness.py",
    "test_duckdb_settings.py",
    "test_clv_cdnow.py",
    "test_report.py",
    "test_runner.py",
    "test_generate.py",
    "test_plausibility_gates.py",
)


def _file_rank(item: pytest.Item) -> int:
    name = item.path.name
    return FILE_ORDER.index(name) if name in FILE_ORDER else len(FILE_ORDER)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files in FILE_ORDER (the tests of a file keep their order). A test without a kind marker is an
    integration test when it takes one of INTEGRATION_FIXTURES, else a unit test; so `-m unit` never
    starts a build by accident."""
    items.sort(key=_file_rank)
    for item in items:
        if not any(item.get_closest_marker(kind) for kind in KINDS):
            item.add_marker("integration" if INTEGRATION_FIXTURES & set(item.fixturenames) else "unit")
