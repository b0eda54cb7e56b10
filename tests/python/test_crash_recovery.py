"""kill -9 in the middle of a run: the published file is untouched (readers never see the crash), the
build warehouse opens again, and the next run builds, validates and publishes the same marts.

`python -m flows run` on a copy of the session run, with one new export file without rows (a new
load: the run builds, and the figures stay those of the copy), is killed with SIGKILL (its whole
process group: the run and its dbt build, as a power cut would) once dbt has written a model into the
build warehouse; then the pipeline runs again. The killed run talks to the session's Prefect server
(no temporary server of its own to start) with a writer slot of its own ($CVW_LOCK_NAME): the slot it
leaves held, until its lease expires, is no other run's."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import duckdb
import pytest

from flows.config import Paths
from tests.python.conftest import start_on
from tests.python.marts_fingerprint import compare, fingerprint_file

pytestmark = pytest.mark.e2e


def test_a_run_killed_during_the_dbt_build_is_recovered_by_the_next_run(
    copy_run: Callable[..., Paths], prefect_api: str
) -> None:
    from flows.pipeline import customer_value_pipeline

    paths = copy_run()
    published_marts = fingerprint_file(paths.published)
    published_bytes = paths.published.read_bytes()
    (paths.exports / "orders_2099-03-01_nothing_new.csv").write_text(
        "order_id,customer_id,ordered_at,status,amount,discount_amount,currency,channel\n", encoding="utf-8"
    )

    run = start_on(
        "run", paths, "--settle-seconds", "0", api_url=prefect_api, start_new_session=True,
        env={**os.environ, "CVW_LOCK_NAME": "killed-run"},
    )  # fmt: skip
    killed_after = ""
    try:
        assert run.stdout is not None
        for line in run.stdout:
            if " OK created " in line:  # dbt has written a model of the build warehouse
                os.killpg(run.pid, signal.SIGKILL)
                killed_after = line.strip()
                break
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
        run.stdout.close()
    assert killed_after, "the run ended before dbt built a model"
    assert run.returncode == -signal.SIGKILL
    assert paths.published.read_bytes() == published_bytes  # the publication never saw the crash

    with duckdb.connect(str(paths.warehouse)) as con:  # the killed writer's file opens again, its load kept
        assert con.execute(
            "select status, rows_read from raw.load_manifest where file_name = 'orders_2099-03-01_nothing_new.csv'"
        ).fetchall() == [("loaded", 0)]

    # the next run (in this process: the session's Prefect server saves a start-up) builds, validates, publishes
    rerun = customer_value_pipeline(str(paths.exports), str(paths.warehouse), str(paths.published))
    assert rerun.published and rerun.dbt is not None and not rerun.dbt.full_refresh
    assert paths.published.read_bytes() != published_bytes
    assert compare(published_marts, fingerprint_file(paths.published)) == []
