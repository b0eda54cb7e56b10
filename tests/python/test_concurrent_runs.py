"""Two processes on one warehouse (flows/file_lock.py). A step that finds the build warehouse held by
another process waits, saying what it waits for (the file, the holder's PID, command line and start
time), and goes on once the holder lets go; or it gives up after $CVW_LOCK_TIMEOUT_SECONDS with one
line naming the holder. Real processes throughout: a holder with a DuckDB connection, and
`python -m flows run` on a copy of the session run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from flows import file_lock
from flows.config import Paths
from flows.file_lock import LockHolder, WarehouseLockTimeout, run_when_free
from tests.python.conftest import hold_write_lock, start_on

PYTHON = os.path.basename(sys.executable)


def lock_message(pid: int, executable: str) -> str:
    return (
        f'IO Error: Could not set lock on file "/x/w.duckdb": Conflicting lock is held in {executable} '
        f"(PID {pid}). See also https://duckdb.org/docs/current/connect/concurrency"
    )


def started_between(text: str, before: datetime, after: datetime) -> bool:
    """Whether the `started YYYY-MM-DD HH:MM:SS UTC` in `text` lies between `before` and `after`
    (to the second; /proc counts from the boot time, which it gives in whole seconds)."""
    match = re.search(r"started (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", text)
    assert match, text
    started = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return before - timedelta(seconds=2) <= started <= after


# --------------------------------------------------------------------------- who holds the file


def test_a_command_line_is_shown_with_program_names_not_paths() -> None:
    assert file_lock.short_command(["/v/bin/python3.11", "-m", "flows", "run"]) == "python3.11 -m flows run"
    assert file_lock.short_command(["/v/bin/python3.11", "/v/bin/dbt", "build"]) == "python3.11 dbt build"
    assert file_lock.short_command(["/usr/bin/duckdb", "my file.duckdb"]) == "duckdb 'my file.duckdb'"
    assert file_lock.short_command(["python", "-c", "x" * 200], limit=20) == "python -c xxxxxxx..."  # 20 characters


def test_the_holder_of_a_write_lock_is_named_with_its_command_line_and_start_time(warehouse: Path) -> None:
    before = datetime.now(UTC)
    holder = hold_write_lock(warehouse)
    after = datetime.now(UTC)
    try:
        found = file_lock.current_holder(warehouse)
        assert found is not None and found.pid == holder.pid and found.mode == "write"
        assert found.command.startswith(f"{PYTHON} -c 'import duckdb, sys; c = duckdb.connect(")
        assert found.started is not None and before - timedelta(seconds=2) <= found.started <= after
        assert found.holds(warehouse) == (
            f"warehouse {warehouse} is being written by PID {holder.pid} "
            f"({found.command}, started {found.started:%Y-%m-%d %H:%M:%S} UTC)"
        )
    finally:
        holder.communicate("")
    assert file_lock.current_holder(warehouse) is None


def test_a_reader_keeps_writers_out_but_not_other_readers(warehouse: Path) -> None:
    duckdb.connect(str(warehouse)).close()
    reader = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(warehouse)!r}, read_only=True); "
         "print('ok', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "ok"
        found = file_lock.current_holder(warehouse)
        assert found is not None and found.pid == reader.pid and found.mode == "read"
        assert found.holds(warehouse).startswith(f"warehouse {warehouse} is being read by PID {reader.pid} (")
        assert file_lock.current_holder(warehouse, read_only=True) is None
    finally:
        reader.communicate("")


def test_a_pid_that_is_another_program_here_is_not_described_as_the_holder() -> None:
    """DuckDB names the holder's executable: a PID of another PID namespace (another container or
    machine sharing the file) that means some other process here gets only what DuckDB says."""
    holder = file_lock.lock_holder(lock_message(os.getpid(), "/opt/elsewhere/bin/duckdb"))
    assert holder == LockHolder(pid=os.getpid(), executable="/opt/elsewhere/bin/duckdb")
    assert holder.describe() == f"PID {os.getpid()} (/opt/elsewhere/bin/duckdb)"
    assert file_lock.lock_holder("IO Error: Could not set lock on file").describe() == "another process"


# --------------------------------------------------------------------------- waiting


def open_for_writing(warehouse: Path, attempts: list[int]) -> Callable[[], str]:
    def step() -> str:
        attempts.append(1)
        with duckdb.connect(str(warehouse)) as con:
            con.execute("create or replace table t as select 1 as i")
        return "done"

    return step


def test_a_step_waits_for_the_holder_and_goes_on_when_it_lets_go(warehouse: Path) -> None:
    holder = hold_write_lock(warehouse)
    messages: list[str] = []

    def log(message: str) -> None:
        messages.append(message)
        if holder.poll() is None:
            holder.communicate("")  # the other process finishes while we wait

    attempts: list[int] = []
    try:
        assert run_when_free(open_for_writing(warehouse, attempts), warehouse, log, timeout_seconds=60) == "done"
    finally:
        if holder.poll() is None:
            holder.communicate("")
    assert len(attempts) == 2
    assert len(messages) == 2
    assert messages[0].startswith(f"warehouse {warehouse} is being written by PID {holder.pid} ({PYTHON} -c ")
    assert messages[0].endswith(": waiting for it to let go (at most 60 s, $CVW_LOCK_TIMEOUT_SECONDS)")
    assert re.fullmatch(
        rf"waited \d+ s for warehouse {re.escape(str(warehouse))}, held by PID {holder.pid} \(.*, started .* UTC\); "
        "it is free now: going on",
        messages[1],
    )


def test_a_step_gives_up_after_the_timeout_in_one_line_naming_the_holder(warehouse: Path) -> None:
    before = datetime.now(UTC)
    holder = hold_write_lock(warehouse)
    after = datetime.now(UTC)
    attempts: list[int] = []
    try:
        with pytest.raises(WarehouseLockTimeout) as raised:
            run_when_free(open_for_writing(warehouse, attempts), warehouse, lambda _: None, timeout_seconds=1)
    finally:
        holder.communicate("")
    message = str(raised.value)
    assert re.fullmatch(
        rf"warehouse {re.escape(str(warehouse))} is being written by PID {holder.pid} \({PYTHON} -c .*, "
        r"started [-\d]+ [:\d]+ UTC\); gave up after 1 s",
        message,
    )
    assert started_between(message, before, after)
    assert attempts == [1]  # polled, not retried


def test_other_errors_are_not_waited_for(warehouse: Path) -> None:
    def step() -> None:
        with duckdb.connect(str(warehouse)) as con:
            con.execute("select * from no_such_table")

    started = time.monotonic()
    with pytest.raises(duckdb.CatalogException):
        run_when_free(step, warehouse, lambda _: None, timeout_seconds=60)
    assert time.monotonic() - started < 30


@pytest.mark.integration
@pytest.mark.parametrize("step", ["load exports", "dbt build", "validate marts", "publish marts"])
def test_every_step_that_opens_the_warehouse_waits_for_it(
    prefect_harness: None, step: str, exports: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a real (in-process) flow run: each task waits for the holder and gives up after
    $CVW_LOCK_TIMEOUT_SECONDS naming it (not 'dbt exited with code 2', not DuckDB's error)."""
    from prefect import flow

    from flows.pipeline import build_task, load_task, publish_task, validate_task

    monkeypatch.setenv("CVW_LOCK_TIMEOUT_SECONDS", "1")
    paths = Paths.resolve(exports=exports, warehouse=warehouse, published=warehouse.with_name("published.duckdb"))
    run_step = {
        "load exports": lambda: load_task.fn(paths, "run-1", 0.0),
        "dbt build": lambda: build_task.fn(paths, False, {}),
        "validate marts": lambda: validate_task.fn(paths),
        "publish marts": lambda: publish_task.fn(paths, "run-1", "state", {}),
    }[step]

    @flow(name="one-step")
    def one_step() -> object:
        return run_step()

    holder = hold_write_lock(warehouse)
    try:
        with pytest.raises(WarehouseLockTimeout, match=rf"being written by PID {holder.pid} .*; gave up after 1 s$"):
            one_step()
    finally:
        holder.communicate("")


def test_erase_waits_for_the_warehouse_and_gives_up_in_one_line(
    exports: Path, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from flows import cli

    monkeypatch.setenv("CVW_LOCK_TIMEOUT_SECONDS", "1")
    holder = hold_write_lock(warehouse)
    try:
        result = CliRunner().invoke(
            cli.app, ["erase", "--customer", "C1", "--exports", str(exports), "--warehouse", str(warehouse)]
        )
    finally:
        holder.communicate("")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"warehouse {warehouse} is being written by PID {holder.pid} (")
    assert lines[-1].startswith(f"error: warehouse {warehouse} is being written by PID {holder.pid} (")
    assert lines[-1].endswith("; gave up after 1 s")


# --------------------------------------------------------------------------- two processes: the CLI


@dataclass
class Outcome:
    paths: Paths
    holder_pid: int
    output: str
    returncode: int
    holder_started_between: tuple[datetime, datetime]


@pytest.fixture(scope="module")
def cli_runs(sample_run: Paths, tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> dict[str, Outcome]:
    """`python -m flows run` twice at once, each on its own copy of the session run held by another
    process: one with $CVW_LOCK_TIMEOUT_SECONDS=5 whose holder never lets go ("gives up"), one whose
    holder lets go once the run says it waits ("waits"). Both at once, against the session's Prefect
    server (no temporary server each), each with a writer slot of its own ($CVW_LOCK_NAME): what they
    wait for is DuckDB's lock on their warehouse, not each other's slot."""
    from tests.python.conftest import copy_paths

    root = tmp_path_factory.mktemp("concurrent")
    runs: dict[str, Outcome] = {}
    started: dict[str, tuple[subprocess.Popen[str], subprocess.Popen[str], Paths, tuple[datetime, datetime]]] = {}
    for name, timeout in (("gives up", "5"), ("waits", "300")):
        paths = copy_paths(sample_run, root / name.replace(" ", "_"))
        before = datetime.now(UTC)
        holder = hold_write_lock(paths.warehouse)
        window = (before, datetime.now(UTC))
        env = {**os.environ, "CVW_LOCK_TIMEOUT_SECONDS": timeout, "CVW_LOCK_NAME": f"concurrent-{name}"}
        # "gives up" writes to a file: its output is read after the other run's, a pipe could fill meanwhile
        output = {"stdout": (root / "gives_up.log").open("w")} if name == "gives up" else {}
        run = start_on("run", paths, "--settle-seconds", "0", api_url=prefect_api, env=env, **output)
        for handle in output.values():
            handle.close()  # the run has its own descriptor
        started[name] = (holder, run, paths, window)
    try:
        holder, run, paths, window = started["waits"]
        lines = []
        assert run.stdout is not None
        for line in run.stdout:  # the holder lets go once the run says what it waits for
            lines.append(line)
            if "waiting for it to let go" in line and holder.poll() is None:
                holder.communicate("")
        run.wait(timeout=300)
        runs["waits"] = Outcome(paths, holder.pid, "".join(lines), run.returncode, window)
        holder, run, paths, window = started["gives up"]
        run.wait(timeout=300)
        runs["gives up"] = Outcome(paths, holder.pid, (root / "gives_up.log").read_text(), run.returncode, window)
    finally:
        for holder, run, _, _ in started.values():
            if run.poll() is None:
                run.kill()
            if holder.poll() is None:
                holder.communicate("")
    return runs


@pytest.mark.e2e
def test_a_second_run_on_a_held_warehouse_gives_up_in_one_line_naming_the_holder(
    cli_runs: dict[str, Outcome],
) -> None:
    outcome = cli_runs["gives up"]
    assert outcome.returncode == 1, outcome.output[-3000:]
    errors = [line for line in outcome.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, outcome.output[-3000:]
    assert re.fullmatch(
        rf"error: warehouse {re.escape(str(outcome.paths.warehouse))} is being written by PID {outcome.holder_pid} "
        rf"\({PYTHON} -c .*, started [-\d]+ [:\d]+ UTC\); gave up after 5 s",
        errors[0],
    )
    assert started_between(errors[0], *outcome.holder_started_between)
    assert "waiting for it to let go (at most 5 s, $CVW_LOCK_TIMEOUT_SECONDS)" in outcome.output
    assert "dbt exited with code" not in outcome.output


@pytest.mark.e2e
def test_a_second_run_on_a_held_warehouse_waits_says_so_and_goes_on(cli_runs: dict[str, Outcome]) -> None:
    outcome = cli_runs["waits"]
    assert outcome.returncode == 0, outcome.output[-3000:]
    warehouse = re.escape(str(outcome.paths.warehouse))
    assert re.search(
        rf"warehouse {warehouse} is being written by PID {outcome.holder_pid} \({PYTHON} -c .*, started .* UTC\): "
        r"waiting for it to let go \(at most 300 s",
        outcome.output,
    )
    assert re.search(
        rf"waited \d+ s for warehouse {warehouse}, held by PID {outcome.holder_pid} .*; it is free now: going on",
        outcome.output,
    )
    # the copy is up to date: once loaded (nothing new), the run says so and ends well
    assert "Nothing new since the last publication" in outcome.output
