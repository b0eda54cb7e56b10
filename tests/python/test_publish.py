"""Write-audit-publish, the publishing side (flows.publish): a BI user reading the published file in
another process while marts are published is never blocked and never sees a half-built state."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from flows.publish import publish_marts

# Readers in their own processes, like BI tools. "hold" keeps one connection open the whole time
# (it must not block publishing, and keeps reading the version it opened); "poll" opens a fresh
# connection again and again and checks that what it sees is one whole publication: every table of
# the same version, and as many tables as announced. (Within one process DuckDB shares a database
# instance between connections to the same file, hence two processes.)
READER = r"""
import json, sys, time
import duckdb

path, mode, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
deadline = time.monotonic() + seconds
if mode == "hold":
    held = duckdb.connect(path, read_only=True)
    first = held.execute("select max(version), count(*) from marts.figures").fetchone()
    print("ready", flush=True)
    time.sleep(max(deadline - time.monotonic(), 0))
    last = held.execute("select max(version), count(*) from marts.figures").fetchone()
    print(json.dumps({"first": list(first), "last": list(last)}))
    sys.exit(0)
seen, broken = set(), []
print("ready", flush=True)
while time.monotonic() < deadline:
    try:
        con = duckdb.connect(path, read_only=True)
    except Exception as exc:  # a publication in progress must never show as a missing or broken file
        broken.append(f"connect: {exc}")
        continue
    try:
        figures = con.execute("select count(*), min(version), max(version) from marts.figures").fetchone()
        others = con.execute("select count(*), min(version), max(version) from marts.other_figures").fetchone()
        announced = con.execute("select tables_published, run_id from marts._publication").fetchone()
        tables = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'marts' and table_name <> '_publication'"
        ).fetchone()[0]
    except Exception as exc:
        broken.append(f"read: {exc}")
    else:
        version = figures[1]
        whole = (
            figures[1] == figures[2] == others[1] == others[2] == version
            and figures[0] == 1000 * version and others[0] == 10 * version
            and announced[0] == tables == 2 and announced[1] == f"v{version}"
        )
        if whole:
            seen.add(version)
        else:
            broken.append(f"half-built: {figures} {others} {announced} {tables}")
    finally:
        con.close()
print(json.dumps({"seen": sorted(seen), "broken": broken[:5]}))
"""


def start_reader(published: Path, mode: str, seconds: float) -> subprocess.Popen[str]:
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published), mode, str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None and reader.stdout.readline().strip() == "ready"
    return reader


def result_of(reader: subprocess.Popen[str]) -> dict:
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0, err
    return json.loads(out)


def build(path: Path, version: int) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(f"create table marts.figures as select {version} as version, i from range({1000 * version}) t(i)")
        con.execute(
            f"create table marts.other_figures as select {version} as version, i from range({10 * version}) t(i)"
        )
        con.execute("create schema raw")  # never published
        con.execute("create table raw.secrets as select 'someone@example.com' as email")
    return path


@pytest.mark.integration
def test_a_reader_in_another_process_is_never_blocked_and_never_sees_a_half_built_state(tmp_path: Path) -> None:
    builds = {v: build(tmp_path / f"build_v{v}.duckdb", v) for v in (1, 2, 3)}
    published = tmp_path / "published.duckdb"
    publish_marts(builds[1], published, run_id="v1")

    holder = start_reader(published, "hold", 8)
    poller = start_reader(published, "poll", 8)
    durations = []
    for round_ in range(6):
        version = 2 + round_ % 2
        started = time.perf_counter()
        publish_marts(builds[version], published, run_id=f"v{version}")
        durations.append(time.perf_counter() - started)
        time.sleep(0.4)
    result, held = result_of(poller), result_of(holder)

    assert result["broken"] == []  # every read saw one whole publication
    assert {2, 3} <= set(result["seen"])  # and the reader saw the new versions while it kept reading
    assert held == {"first": [1, 1000], "last": [1, 1000]}  # a connection open all along: its version, unchanged
    assert max(durations) < 5  # publishing was never held up by the readers
    with duckdb.connect(str(published), read_only=True) as con:
        assert {
            r[0] for r in con.execute("select distinct table_schema from information_schema.tables").fetchall()
        } == {"marts"}
    assert not list(tmp_path.glob(".published.duckdb.*"))  # no temporary file left behind


def test_a_publication_records_the_state_it_stands_on(tmp_path: Path) -> None:
    """The state (warehouse, last load, dbt code, GX suites) is recorded with the publication; a new
    load changes it, so the pipeline skips a rebuild only when nothing changed."""
    from flows.publish import published_state, source_state

    warehouse, published = tmp_path / "w.duckdb", tmp_path / "p.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create schema raw; create table raw.load_manifest (load_id integer); insert into raw.load_manifest values (1), (2)"
        )
        con.execute("create schema marts; create table marts.t as select 1 as x")
    state = source_state(warehouse)
    assert published_state(published) is None
    publish_marts(warehouse, published, run_id="r1", state=state)
    assert published_state(published) == state
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into raw.load_manifest values (3)")
    assert source_state(warehouse) not in (state, None)


def test_the_publication_state_covers_every_file_of_the_validation_package() -> None:
    """A change to any suite, the runner or a helper of flows/validation changes the state (a
    rebuild then validates and publishes again): every file of the package is hashed."""
    from flows.config import PROJECT_DIR
    from flows.publish import VALIDATION_CODE, validation_code_files

    files = {path.relative_to(PROJECT_DIR).as_posix() for path in validation_code_files()}
    package = PROJECT_DIR / VALIDATION_CODE
    assert files == {
        path.relative_to(PROJECT_DIR).as_posix() for path in package.rglob("*.py") if "__pycache__" not in path.parts
    }
    assert {"flows/validation/runner.py", "flows/validation/raw.py", "flows/validation/suites/voice.py"} <= files
