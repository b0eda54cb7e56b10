"""One DuckDB resource setting for every step: CVW_DUCKDB_MEMORY_LIMIT, CVW_DUCKDB_THREADS and the
spill folder reach every Python connection of the flows (flows/duckdb_connection.py) and dbt's
DuckDB (profiles.yml `settings:`), and a query over a small limit spills instead of failing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from flows.config import PROJECT_DIR, settings
from flows.duckdb_connection import connect, dbt_environment

SETTINGS_SQL = "select current_setting('memory_limit'), current_setting('threads'), current_setting('temp_directory')"


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVW_DUCKDB_MEMORY_LIMIT", "1GB")
    monkeypatch.setenv("CVW_DUCKDB_THREADS", "1")
    monkeypatch.delenv("CVW_DUCKDB_TEMP_DIRECTORY", raising=False)


@pytest.mark.unit
def test_defaults_are_duckdbs_own_80_percent_and_one_thread_per_core(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CVW_DUCKDB_MEMORY_LIMIT", "CVW_DUCKDB_THREADS", "CVW_DUCKDB_TEMP_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    env = settings()
    assert (env.duckdb_memory_limit, env.duckdb_threads, env.duckdb_temp_directory) == (
        "80%",
        len(os.sched_getaffinity(0)),
        None,
    )
    with connect() as con, duckdb.connect() as plain:
        # the same limit as a connection DuckDB configures by itself
        assert con.execute(SETTINGS_SQL).fetchone()[:2] == plain.execute(SETTINGS_SQL).fetchone()[:2]


@pytest.mark.unit
def test_a_connection_of_the_helper_has_the_limit_threads_and_spill_folder(small_limit: None, tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        assert con.execute(SETTINGS_SQL).fetchone() == ("953.6 MiB", 1, f"{path}.tmp")  # 1 GB = 10^9 bytes
    with connect(path, read_only=True) as con:
        assert con.execute(SETTINGS_SQL).fetchone()[:2] == ("953.6 MiB", 1)
    with connect() as con:  # in memory: the system's temporary folder, so that it can spill too
        assert con.execute(SETTINGS_SQL).fetchone()[2].endswith("cvw-duckdb")


@pytest.mark.unit
def test_a_query_over_a_small_limit_spills_instead_of_failing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CVW_DUCKDB_MEMORY_LIMIT", "30MB")
    monkeypatch.setenv("CVW_DUCKDB_THREADS", "1")
    monkeypatch.setenv("CVW_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "spill"))
    # a window over 2M rows sorted by a hash: about 60 MB of sort state, twice the limit
    query = (
        "select count(distinct i), max(s) from (select i, sum(i) over (order by hash(i)) as s from range(2000000) t(i))"
    )
    with connect() as con:
        con.execute("set enable_progress_bar = false")
        assert con.execute(query).fetchone() == (2_000_000, 1_999_999_000_000)
    # the same limit without a folder to spill to fails: the figure above was computed by spilling
    with duckdb.connect(config={"memory_limit": "30MB", "threads": 1, "temp_directory": ""}) as con:
        with pytest.raises(duckdb.OutOfMemoryException):
            con.execute(query).fetchone()


@pytest.mark.unit
def test_every_duckdb_connection_of_the_flows_goes_through_the_helper() -> None:
    direct = [
        f"{path.relative_to(PROJECT_DIR)}:{number}"
        for path in sorted((PROJECT_DIR / "flows").rglob("*.py"))
        if path.name != "duckdb_connection.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\bduckdb\.connect\(", line)
    ]
    assert direct == []


# dbt's profile rendered by dbt itself and the connection opened by dbt-duckdb, in a fresh process (no
# manifest parse: seconds, not the minute of a `dbt show` with a changed profile)
DBT_CONNECTION = """
import json, os, sys
from argparse import Namespace
from dbt_common.context import set_invocation_context
set_invocation_context(os.environ)
from dbt.flags import set_from_args
set_from_args(Namespace(), None)
from dbt.config.profile import Profile, read_profile
from dbt.config.renderer import ProfileRenderer
from dbt.adapters.duckdb import environments
profile = Profile.from_raw_profiles(read_profile(sys.argv[1]), "customer_value", ProfileRenderer({}))
handle = environments.create(profile.credentials).handle()  # kept: the cursor closes with it
cursor = handle.cursor()
cursor.execute(sys.argv[2])
print(json.dumps(list(cursor.fetchone())))
"""


@pytest.mark.integration
def test_dbt_gets_the_same_limit_and_threads_through_the_environment(small_limit: None, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    # what flows/transform.py passes to the dbt subprocess
    env = {**os.environ, **dbt_environment(), "CVW_WAREHOUSE": str(warehouse)}
    assert dbt_environment() == {"CVW_DUCKDB_MEMORY_LIMIT": "1GB", "CVW_DUCKDB_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", DBT_CONNECTION, str(PROJECT_DIR), SETTINGS_SQL],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == ["953.6 MiB", 1, f"{warehouse}.tmp"]


DBT_SPILL_THEN_NEW_CURSOR = """
import json, os, sys
from argparse import Namespace
from dbt_common.context import set_invocation_context
set_invocation_context(os.environ)
from dbt.flags import set_from_args
set_from_args(Namespace(), None)
from dbt.config.profile import Profile, read_profile
from dbt.config.renderer import ProfileRenderer
from dbt.adapters.duckdb import environments
profile = Profile.from_raw_profiles(read_profile(sys.argv[1]), "customer_value", ProfileRenderer({}))
environment = environments.create(profile.credentials)
first = environment.handle()  # kept open, as dbt keeps the database open across nodes
first.cursor().execute("create table spilled as select range as k, md5(range::varchar) as v from range(3000000) order by v")
cursor = environment.handle().cursor()  # every dbt node's handle applies the profile's settings
cursor.execute("select count(*), current_setting('temp_directory') from spilled")
print(json.dumps(list(cursor.fetchone())))
"""


@pytest.mark.integration
def test_dbt_keeps_working_after_a_query_spilled(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A query over dbt's memory limit spills to `<warehouse>.tmp`, and the next cursor (every dbt node
    opens one, applying the profile's settings) still works: DuckDB refuses to SET temp_directory again
    after a spill, so the profile gives it as a connection option (a 2GB run at 10M orders failed so)."""
    monkeypatch.setenv("CVW_DUCKDB_MEMORY_LIMIT", "40MB")
    monkeypatch.setenv("CVW_DUCKDB_THREADS", "1")
    warehouse = tmp_path / "w.duckdb"
    env = {**os.environ, **dbt_environment(), "CVW_WAREHOUSE": str(warehouse)}
    done = subprocess.run(
        [sys.executable, "-c", DBT_SPILL_THEN_NEW_CURSOR, str(PROJECT_DIR)],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [3000000, f"{warehouse}.tmp"]
