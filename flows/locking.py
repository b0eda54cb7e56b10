"""One writer at a time: a Prefect global concurrency limit of 1 around every run that writes the warehouse.

The nightly, intraday and full-refresh deployments write the same DuckDB file, which allows one
writing process. A deployment's own `concurrency_limit` counts only that deployment's runs, so the
flow body instead holds a slot of one global concurrency limit (`cvw-warehouse-writer`, limit 1)
shared by all of them, whatever runs them (`python -m flows serve`, a worker of a work pool, or
`python -m flows run` pointed at the same server). A second run waits for the slot, logs that it
waits, and starts loading only when the first has released it; it gives up after
`$CVW_LOCK_TIMEOUT_SECONDS` (default 6 hours) with a clear error.

The limit is created (limit 1) when it does not exist yet. Slots are leases that the holder renews;
the server takes back the slot of a run whose process died once its lease expires.

Runs against Prefect's temporary in-process server (no `PREFECT_API_URL`, as with a plain
`python -m flows run`) take no slot: that server keeps no lease service, so a crashed run could
leave the slot taken. Every run, with a slot or without, also waits at each step for DuckDB's own
file lock when another process holds the file (flows/file_lock.py, the same timeout).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from flows.config import settings


def lock_name() -> str:
    """`$CVW_LOCK_NAME`, default cvw-warehouse-writer."""
    return settings().lock_name


def lock_timeout_seconds() -> float:
    """`$CVW_LOCK_TIMEOUT_SECONDS`, default 6 hours."""
    return settings().lock_timeout_seconds


def using_prefect_server() -> bool:
    """True when Prefect talks to a configured server (PREFECT_API_URL), not its temporary one."""
    from prefect.settings import get_current_settings

    return bool(get_current_settings().api.url)


def ensure_concurrency_limit(name: str | None = None) -> bool:
    """Create the global concurrency limit `name` with limit 1 if it does not exist; True if created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    name = name or lock_name()
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
            return False
        except ObjectNotFound:
            pass
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
            return True
        except ObjectAlreadyExists:  # another run created it a moment ago
            return False


@contextlib.contextmanager
def warehouse_lock(logger: logging.Logger | logging.LoggerAdapter) -> Iterator[None]:
    """Hold the warehouse writer slot for the duration of the block (see the module docstring)."""
    if not using_prefect_server():
        logger.info("temporary Prefect server: no global warehouse lock (DuckDB's file lock still applies)")
        yield
        return
    from prefect.concurrency.sync import concurrency

    name = lock_name()
    ensure_concurrency_limit(name)
    logger.info("waiting for the warehouse writer slot %r (one run at a time)", name)
    # strict: a missing limit is an error, never "no limit". A failed lease renewal (an API blip) does
    # not kill a run half-way through dbt: DuckDB's file lock still guards the file.
    with concurrency(
        name, occupy=1, timeout_seconds=lock_timeout_seconds(), strict=True, raise_on_lease_renewal_failure=False
    ):
        logger.info("holding the warehouse writer slot %r", name)
        yield
    logger.info("released the warehouse writer slot %r", name)
