"""Which failures a retry can cure, and which it cannot.

A scheduled run meets two passing troubles that go away if it waits a little:

- an export file that is still being written (an upload or a copy in progress): its
  modification time is within the last `settle_seconds` (a flow parameter; the scheduled
  deployments and `python -m flows run` use 10 s, 0 loads what is there);
- a locked warehouse: another process (a run, a dbt invocation, a client) has the DuckDB
  file open, and DuckDB raises `IOException: Could not set lock on file`.

Both raise a `TransientError` subclass (or DuckDB's lock error). The load task retries a file
still being written (`retry_condition`); a locked warehouse is waited for inside the step that
meets it, polling the lock and naming the holder (flows/file_lock.py), so a lock error reaches
Prefect's retries only if a step forgot to wait. Everything else fails fast: a contract
violation, a dbt test failure or a failed expectation gives the same answer however often it is
retried.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb

from flows.duckdb_connection import connect
from flows.errors import first_line, is_lock_message


class TransientError(RuntimeError):
    """A failure that a later attempt can cure (the task retries it)."""


class ExportsStillBeingWritten(TransientError):
    """Export files changed within the settle period: they may still be being written."""

    def __init__(self, files: list[Path], settle_seconds: float) -> None:
        names = ", ".join(p.name for p in files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        super().__init__(
            f"{len(files)} export file(s) changed in the last {settle_seconds:g} s and may still be being written: {names}"
        )
        self.files = files


class WarehouseLocked(TransientError):
    """Another process holds the DuckDB file's write lock."""

    def __init__(self, warehouse: Path, cause: BaseException | str) -> None:
        super().__init__(f"the warehouse {warehouse} is in use by another process: {first_line(cause)}")
        self.warehouse = warehouse


def unsettled_files(exports_dir: Path, settle: float, now: float | None = None) -> list[Path]:
    """Export files (not hidden) whose modification time is less than `settle` seconds before `now`."""
    if not exports_dir.is_dir():
        return []
    now = time.time() if now is None else now
    return sorted(
        p
        for p in exports_dir.iterdir()
        if p.is_file() and not p.name.startswith(".") and now - p.stat().st_mtime < settle
    )


def ensure_exports_settled(exports_dir: Path, settle: float, now: float | None = None) -> None:
    """Raise ExportsStillBeingWritten when a file of `exports_dir` changed within the last `settle` seconds."""
    if settle <= 0:
        return
    recent = unsettled_files(exports_dir, settle, now)
    if recent:
        raise ExportsStillBeingWritten(recent, settle)


def is_lock_error(exc: BaseException) -> bool:
    """True for DuckDB's error when another process holds the file's lock."""
    return isinstance(exc, duckdb.Error) and is_lock_message(str(exc))


def ensure_warehouse_writable(warehouse: Path) -> None:
    """Open the warehouse for writing once and close it; raise WarehouseLocked if another process holds it.
    (A subprocess such as dbt cannot tell us why it failed to open the file, so we ask first.)"""
    if not warehouse.exists():
        return
    try:
        connect(str(warehouse)).close()
    except duckdb.Error as exc:
        if is_lock_error(exc):
            raise WarehouseLocked(warehouse, exc) from exc
        raise


def is_retryable(exc: BaseException | None) -> bool:
    """Whether a retry can cure `exc` (a transient error, or a DuckDB lock error)."""
    return exc is not None and (isinstance(exc, TransientError) or is_lock_error(exc))


def retry_condition(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect `retry_condition_fn`: retry transient failures only, fail fast on the rest."""
    exc = getattr(state, "data", None)
    if not isinstance(exc, BaseException):
        try:
            exc = state.result(raise_on_failure=False)
        except BaseException as raised:  # the result could not be read: take what it raised
            exc = raised
    return is_retryable(exc if isinstance(exc, BaseException) else None)
