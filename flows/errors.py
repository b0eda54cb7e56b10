"""One-line error messages, and how a locked DuckDB file shows itself."""

from __future__ import annotations

#: What DuckDB says when another process holds the file's write lock.
LOCK_MESSAGES = ("Could not set lock on file", "Conflicting lock")


def is_lock_message(text: str) -> bool:
    """True for DuckDB's message when another process holds the file's lock."""
    return any(message in text for message in LOCK_MESSAGES)


def first_line(cause: BaseException | str) -> str:
    """The first line of an error's message, or the exception's type when it says nothing."""
    lines = str(cause).strip().splitlines()
    if lines:
        return lines[0]
    return type(cause).__name__ if isinstance(cause, BaseException) else ""


def one_line(exc: BaseException, with_type: bool = False) -> str:
    """One line a person can act on; a locked warehouse is said in words."""
    line = first_line(exc)
    if is_lock_message(str(exc)):
        return f"the warehouse file is in use by another process (a dbt run, or a client with it open): {line}"
    return f"{type(exc).__name__}: {line}" if with_type and str(exc).strip() else line
