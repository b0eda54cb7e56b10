"""Shared fixtures. Expensive things are made once per session and shared:

- `sample_cli_run` / `sample_run`: one generated sample run through the user's path,
  `python -m flows run` (load, dbt build with its unit tests, Great Expectations, publish). It is
  the only build of the session that runs dbt's unit tests; every other build in the suite reuses
  its code fingerprint (`copy_run`) or turns them off, because their outcome depends on the code only.
- `copy_run`: a private copy of that run (exports, build warehouse, published file, dbt target)
  for tests that change it; the session's files are never written.
- `prefect_harness`: one temporary Prefect server for every in-process flow call of the session.

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
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from flows.config import Paths, configure_prefect_defaults
from tests.python import parse_state

PROJECT_DIR = Path(__file__).resolve().parents[2]
configure_prefect_defaults()

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


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the in-process flow calls of the whole session, stopped at
    session end. (Left to itself, Prefect starts one on the first flow call and stops it at
    interpreter exit, after pytest has closed its output streams: its "Stopping temporary server"
    log line then ends the run with a `--- Logging error ---` traceback.)"""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=None):
        yield


@pytest.fixture(scope="session")
def prefect_api(prefect_harness: None) -> str:
    """The API URL of the session's Prefect server (`prefect_harness`), for CLI runs in a subprocess:
    they then start no temporary server of their own (seconds per run). They take the warehouse writer
    slot of that server as served deployments do; a worker runs one test at a time, so no two of them
    wait for each other. The session's sample run keeps the user's path (its own temporary server)."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url, "the Prefect test harness set no API URL"
    return url


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
