"""DuckDB's file lock: who holds the warehouse, and waiting until they let go.

DuckDB lets one process write a file; while it does, other processes cannot open it at all, not
even read-only. A step of a run that opens the build warehouse (the load, the up-to-date check, the
dbt build, validation, the publication's read, an erasure) and finds it held by another process (a
second run, a dbt invocation by hand, a SQL client with the file open) waits instead of failing
(`run_when_free`): it logs the file and the holder (PID, command line, start time), polls the lock
every second (POLL_SECONDS), logs again every 30 s (LOG_EVERY_SECONDS), and runs the step once the
holder has let go. After `$CVW_LOCK_TIMEOUT_SECONDS` (default 6 h) of waiting it gives up with one
line naming the holder (WarehouseLockTimeout, not retried: the waiting is done):

    warehouse /x/build.duckdb is being written by PID 1234 (python -m flows run ..., started
    2026-12-01 12:03:04 UTC); gave up after 600 s

DuckDB's lock error names the holder's executable and PID (`Conflicting lock is held in <exe> (PID
n)`). Its command line and start time come from /proc/<pid>, and whether it writes or reads from
/proc/locks (Linux). Elsewhere, or when that PID is not the process DuckDB named (a holder in
another container or on another machine sharing the file), the message says what DuckDB says.
"""

from __future__ import annotations

import os
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import duckdb

from flows.duckdb_connection import connect
from flows.errors import is_lock_message

T = TypeVar("T")

#: How often a waiting step tries the lock again, and how often it says that it still waits.
POLL_SECONDS = 1.0
LOG_EVERY_SECONDS = 30.0
#: The longest command line a message shows.
COMMAND_CHARS = 100

_HOLDER = re.compile(r"Conflicting lock is held in (?P<executable>.*?) \(PID (?P<pid>\d+)\)")
PROC = Path("/proc")


@dataclass(frozen=True)
class LockHolder:
    """The process that holds a DuckDB file's lock, as far as it can be known."""

    pid: int | None = None
    executable: str = ""  # as DuckDB names it
    command: str = ""  # its command line, shortened (from /proc)
    started: datetime | None = None  # (from /proc)
    mode: str = ""  # "write" or "read" (from /proc/locks), "" when unknown

    def describe(self) -> str:
        """`PID 1234 (python -m flows run ..., started 2026-12-01 12:03:04 UTC)`."""
        if self.pid is None:
            return "another process"
        details = [self.command or self.executable]
        if self.started is not None:
            details.append(f"started {self.started:%Y-%m-%d %H:%M:%S} UTC")
        shown = ", ".join(d for d in details if d)
        return f"PID {self.pid}" + (f" ({shown})" if shown else "")

    def holds(self, warehouse: Path) -> str:
        """`warehouse X is being written by PID ...` (read by, when it holds a shared lock)."""
        verb = {"write": "is being written by", "read": "is being read by"}.get(self.mode, "is in use by")
        return f"warehouse {warehouse} {verb} {self.describe()}"


class WarehouseLockTimeout(RuntimeError):
    """Another process held the warehouse for longer than a run waits for it."""

    def __init__(self, warehouse: Path, holder: LockHolder, timeout_seconds: float) -> None:
        super().__init__(f"{holder.holds(warehouse)}; gave up after {timeout_seconds:g} s")
        self.warehouse = warehouse
        self.holder = holder


def lock_error_text(exc: BaseException) -> str | None:
    """DuckDB's lock error in `exc` or its causes (a WarehouseLocked carries it too), else None."""
    seen: BaseException | None = exc
    while seen is not None:
        if is_lock_message(str(seen)):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return None


def short_command(argv: list[str], limit: int = COMMAND_CHARS) -> str:
    """A command line as a person reads it: programs by their name, not their path
    (`/venv/bin/python3.11 /venv/bin/dbt build` -> `python3.11 dbt build`), cut at `limit` characters."""
    args = list(argv)
    if not args:
        return ""
    args[0] = os.path.basename(args[0])
    if args[0].startswith("python") and len(args) > 1 and args[1].startswith("/"):
        args[1] = os.path.basename(args[1])  # a script: dbt, prefect
    text = shlex.join(args)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _boot_time() -> float:
    for line in (PROC / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def _start_time(pid: int) -> datetime:
    """When process `pid` started: field 22 of /proc/<pid>/stat, in clock ticks after boot."""
    stat = (PROC / str(pid) / "stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces
    ticks = int(fields[19])
    return datetime.fromtimestamp(_boot_time() + ticks / os.sysconf("SC_CLK_TCK"), UTC)


def _lock_mode(path: Path, pid: int) -> str:
    """The POSIX lock `pid` holds on `path` (/proc/locks): "write", "read", or "" when none is listed."""
    try:
        stat = path.stat()
        lines = (PROC / "locks").read_text().splitlines()
    except OSError:
        return ""
    file_id = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    for line in lines:
        # 1: POSIX  ADVISORY  WRITE 1234 08:01:5678 0 EOF   (with "->" for a blocked waiter)
        parts = line.split()
        if "->" in parts or len(parts) < 6:
            continue
        if parts[4] == str(pid) and parts[5] == file_id:
            return {"WRITE": "write", "READ": "read"}.get(parts[3], "")
    return ""


def lock_holder(message: str, path: Path | None = None) -> LockHolder:
    """The holder named by DuckDB's lock error `message`, with what /proc tells about it."""
    match = _HOLDER.search(message)
    if match is None:
        return LockHolder()
    pid, executable = int(match["pid"]), match["executable"]
    holder = LockHolder(pid=pid, executable=executable)
    proc = PROC / str(pid)
    try:
        running = os.path.realpath(os.readlink(proc / "exe"))
    except OSError:  # gone, or not ours to read: keep to what is readable
        running = None
    if running is not None and running.removesuffix(" (deleted)") != os.path.realpath(executable):
        return holder  # that PID is another process here: the holder lives in another PID namespace
    try:
        argv = [a.decode(errors="replace") for a in (proc / "cmdline").read_bytes().split(b"\0") if a]
        started = _start_time(pid)
    except (OSError, ValueError, IndexError):
        return holder
    mode = _lock_mode(path, pid) if path is not None else ""
    return LockHolder(pid=pid, executable=executable, command=short_command(argv), started=started, mode=mode)


def current_holder(warehouse: Path, read_only: bool = False) -> LockHolder | None:
    """Who keeps `warehouse` from being opened (for writing, or read-only), or None when it opens."""
    if not warehouse.exists():
        return None
    try:
        connect(str(warehouse), read_only=read_only).close()
    except duckdb.Error as exc:
        if is_lock_message(str(exc)):
            return lock_holder(str(exc), warehouse)
        return None  # another trouble: the step meets it and says so
    return None


def run_when_free(
    step: Callable[[], T],
    warehouse: Path,
    log: Callable[[str], object],
    read_only: bool = False,
    timeout_seconds: float | None = None,
) -> T:
    """`step()`; when it fails because another process holds `warehouse`, wait until that process lets
    go (see the module docstring) and run it again. `read_only`: the step only reads (then a reader
    holding the file is no obstacle). Raises WarehouseLockTimeout after `timeout_seconds` (default
    `$CVW_LOCK_TIMEOUT_SECONDS`) of waiting. A step that fails on the lock has changed nothing, so
    running it again is safe."""
    if timeout_seconds is None:
        from flows.config import settings

        timeout_seconds = settings().lock_timeout_seconds
    waited_for: LockHolder | None = None
    since = 0.0
    while True:
        try:
            result = step()
        except Exception as exc:
            message = lock_error_text(exc)
            if message is None:
                raise
        else:
            if waited_for is not None:
                log(
                    f"waited {time.monotonic() - since:.0f} s for warehouse {warehouse}, held by "
                    f"{waited_for.describe()}; it is free now: going on"
                )
            return result
        # outside the except block: a timeout's traceback is not "during handling of" DuckDB's error
        if waited_for is None:
            since = time.monotonic()
        waited_for = _wait(warehouse, lock_holder(message, warehouse), log, since, timeout_seconds, read_only)


def _wait(
    warehouse: Path, holder: LockHolder, log: Callable[[str], object], since: float, timeout: float, read_only: bool
) -> LockHolder:
    """Poll until no other process holds `warehouse`; the holder waited for. Raises WarehouseLockTimeout."""
    log(f"{holder.holds(warehouse)}: waiting for it to let go (at most {timeout:g} s, $CVW_LOCK_TIMEOUT_SECONDS)")
    next_log = time.monotonic() + LOG_EVERY_SECONDS
    while True:
        now = time.monotonic()
        if now - since >= timeout:
            raise WarehouseLockTimeout(warehouse, holder, timeout)
        time.sleep(max(0.0, min(POLL_SECONDS, since + timeout - now)))
        current = current_holder(warehouse, read_only)
        if current is None:
            return holder
        now = time.monotonic()
        if current.pid != holder.pid:
            holder = current
            log(f"{holder.holds(warehouse)} now: still waiting ({now - since:.0f} s of at most {timeout:g} s)")
            next_log = now + LOG_EVERY_SECONDS
        elif now >= next_log:
            log(f"still waiting: {holder.holds(warehouse)} ({now - since:.0f} s of at most {timeout:g} s)")
            next_log = now + LOG_EVERY_SECONDS
