"""Write-audit-publish, the publishing side (flows.publish, flows.release): a BI user reading the
published file, or the Parquet files and manifest of the release, in another process while marts are
published is never blocked and never sees a half-built state or files of two runs."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from flows.config import DEFAULT_KEEP_RELEASES
from flows.publish import STORAGE_VERSION, publish_marts, published_state
from flows.release import Layout, prune

# Readers in their own processes, like BI tools. "hold" keeps one connection open the whole time
# (it must not block publishing, and keeps reading the version it opened); "poll" opens a fresh
# connection again and again and checks that what it sees is one whole publication: every table of
# the same version, and as many tables as announced; "release" resolves the link to the current
# release once and reads its manifest, Parquet files and DuckDB file, which must all be of one run.
# (Within one process DuckDB shares a database instance between connections to the same file, hence
# processes of their own.)
READER = r"""
import json, os, sys, time
import duckdb

path, mode, stop = sys.argv[1], sys.argv[2], sys.argv[3]
deadline = time.monotonic() + 300  # the test creates `stop` when it has published; this is a safety net


def reading():
    return not os.path.exists(stop) and time.monotonic() < deadline

if mode == "hold":
    held = duckdb.connect(path, read_only=True)
    first = held.execute("select max(version), count(*) from marts.figures").fetchone()
    print("ready", flush=True)
    while reading():
        time.sleep(0.1)
    last = held.execute("select max(version), count(*) from marts.figures").fetchone()
    print(json.dumps({"first": list(first), "last": list(last)}))
    sys.exit(0)
seen, broken = set(), []
print("ready", flush=True)
while mode == "release" and reading():
    # a reader of the release folder: resolve the link once, then read the manifest, the Parquet
    # files and the DuckDB file from there; all must be of one run
    try:
        folder = os.path.realpath(path)
        with open(os.path.join(folder, "manifest.json")) as handle:
            manifest = json.load(handle)
        con = duckdb.connect()
        parquet_runs = {
            row[0] for row in con.execute(
                "select value::varchar from parquet_kv_metadata(?) where key = 'run_id'",
                [os.path.join(folder, "parquet", "*.parquet")],
            ).fetchall()
        }
        parquet_rows = con.execute(
            "select count(*) from read_parquet(?)", [os.path.join(folder, "parquet", "figures.parquet")]
        ).fetchone()[0]
        con.close()
        files = {f["path"] for f in manifest["files"]}
        with duckdb.connect(os.path.join(folder, "published.duckdb"), read_only=True) as db:
            [(duckdb_run,)] = db.execute("select run_id from marts._publication").fetchall()
    except Exception as exc:
        broken.append(f"read: {exc}")
        continue
    version = int(manifest["run_id"][1:])
    if (
        parquet_runs == {duckdb_run} == {manifest["run_id"]}
        and parquet_rows == manifest["marts"]["figures"] == 1000 * version
        and files == {"published.duckdb", "parquet/figures.parquet", "parquet/other_figures.parquet"}
    ):
        seen.add(version)
    else:
        broken.append(f"mixed: {manifest['run_id']} {parquet_runs} {duckdb_run} {parquet_rows} {sorted(files)}")
while mode == "poll" and reading():
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


def start_reader(published: Path, mode: str, stop: Path) -> subprocess.Popen[str]:
    """A reader (READER) in its own process, reading until the file `stop` exists."""
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published), mode, str(stop)],
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
    layout = Layout.of(published)
    publish_marts(builds[1], published, run_id="v1")
    [first_release] = layout.release_folders()

    stop = tmp_path / "stop"
    holder = start_reader(published, "hold", stop)
    poller = start_reader(published, "poll", stop)
    releaser = start_reader(layout.current, "release", stop)
    durations = []
    for round_ in range(6):
        version = 2 + round_ % 2
        started = time.perf_counter()
        publish_marts(builds[version], published, run_id=f"v{version}")
        durations.append(time.perf_counter() - started)
        time.sleep(0.4)
    stop.touch()
    result, held, release = result_of(poller), result_of(holder), result_of(releaser)

    assert result["broken"] == []  # every read saw one whole publication
    assert {2, 3} <= set(result["seen"])  # and the reader saw the new versions while it kept reading
    # the release's manifest, Parquet files and DuckDB file were always of one run
    assert release["broken"] == [] and {2, 3} <= set(release["seen"])
    # a connection open all along: its version, unchanged, though its release was deleted meanwhile
    assert held == {"first": [1, 1000], "last": [1, 1000]}
    assert not first_release.exists() and len(layout.release_folders()) == DEFAULT_KEEP_RELEASES
    assert max(durations) < 10  # publishing was never held up by the readers
    with duckdb.connect(str(published), read_only=True) as con:
        assert {
            r[0] for r in con.execute("select distinct table_schema from information_schema.tables").fetchall()
        } == {"marts"}
    # nothing temporary left behind: the two links, the releases
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(("build_v", "stop"))) == [
        "published",
        "published.duckdb",
        "published.releases",
    ]
    assert all(not p.name.startswith(".") for p in layout.releases.iterdir())


def release_of(published: Path) -> Path:
    return Path(os.path.realpath(Layout.of(published).current))


def test_a_release_holds_the_marts_as_duckdb_and_parquet_listed_in_its_manifest(tmp_path: Path) -> None:
    """One Parquet file per mart (not the bookkeeping table), each with the run id in its metadata;
    the manifest lists every file with its rows and content hash, and the run's facts."""
    published = tmp_path / "published.duckdb"
    folder = publish_marts(build(tmp_path / "b.duckdb", 2), published, run_id="run-7", state="s7")
    assert folder == release_of(published) and folder.parent == tmp_path / "published.releases"
    assert folder.name.endswith("-run-7") and (tmp_path / "published").is_symlink() and published.is_symlink()
    assert os.readlink(published) == "published/published.duckdb"  # relative: the folder can move
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {k: manifest[k] for k in ("run_id", "release", "source_state", "duckdb_storage_version", "csv")} == {
        "run_id": "run-7",
        "release": folder.name,
        "source_state": "s7",
        "duckdb_storage_version": STORAGE_VERSION,
        "csv": None,
    }
    assert manifest["as_of_date"] is None  # a hand-made warehouse without int_run_parameters
    assert manifest["marts"] == {"figures": 2000, "other_figures": 20}
    assert [(f["path"], f["format"], f.get("mart"), f.get("rows")) for f in manifest["files"]] == [
        ("parquet/figures.parquet", "parquet", "figures", 2000),
        ("parquet/other_figures.parquet", "parquet", "other_figures", 20),
        ("published.duckdb", "duckdb", None, None),
    ]
    for entry in manifest["files"]:
        path = folder / entry["path"]
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["bytes"] == path.stat().st_size
    with duckdb.connect() as con:
        assert con.execute(
            "select count(*), min(version) from read_parquet(?)", [str(folder / "parquet" / "figures.parquet")]
        ).fetchone() == (2000, 2)
        assert con.execute(
            "select key::varchar, value::varchar from parquet_kv_metadata(?) order by 1",
            [str(folder / "parquet" / "other_figures.parquet")],
        ).fetchall() == [("release", folder.name), ("run_id", "run-7")]
    assert datetime.fromisoformat(manifest["published_at"]).tzinfo is not None


def test_extra_artefacts_are_written_into_the_release_before_the_switch(tmp_path: Path) -> None:
    """A writer (e.g. the report) sees the release's DuckDB file, its files are in the manifest; a
    failing writer publishes nothing and leaves the current release as it was."""
    published = tmp_path / "published.duckdb"
    seen: list[Path] = []

    def report(folder: Path) -> None:
        with duckdb.connect(str(folder / "published.duckdb"), read_only=True) as con:
            rows = con.execute("select count(*) from marts.figures").fetchone()[0]
        (folder / "report").mkdir()
        (folder / "report" / "index.html").write_text(f"<p>{rows} figures</p>")
        seen.append(folder)

    folder = publish_marts(build(tmp_path / "b1.duckdb", 1), published, run_id="v1", writers=[report])
    assert seen[0].name.startswith(".staging-")  # written before the release was visible
    assert (folder / "report" / "index.html").read_text() == "<p>1000 figures</p>"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {"path": "report/index.html", "format": "html"}.items() <= manifest["files"][-1].items()

    def broken(folder: Path) -> None:
        raise RuntimeError("the report failed")

    with pytest.raises(RuntimeError, match="the report failed"):
        publish_marts(build(tmp_path / "b2.duckdb", 2), published, run_id="v2", writers=[broken])
    assert release_of(published) == folder and Layout.of(published).release_folders() == [folder]
    assert list(Layout.of(published).releases.iterdir()) == [folder]  # no staging folder left
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select run_id from marts._publication").fetchone() == ("v1",)


def test_the_newest_releases_are_kept_and_older_ones_deleted(tmp_path: Path) -> None:
    published = tmp_path / "published.duckdb"
    layout = Layout.of(published)
    warehouse = build(tmp_path / "b.duckdb", 1)
    folders = [publish_marts(warehouse, published, run_id=f"r{i}", keep=2) for i in range(4)]
    assert layout.release_folders() == folders[2:] and release_of(published) == folders[3]
    # a stale staging folder of a run that died is removed, a fresh one (a run writing now) is not
    stale, fresh = layout.releases / ".staging-dead", layout.releases / ".staging-busy"
    stale.mkdir(), fresh.mkdir()
    os.utime(stale, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    assert prune(layout, keep=1) == [folders[2], stale]
    assert sorted(p.name for p in layout.releases.iterdir()) == [".staging-busy", folders[3].name]


def test_a_published_file_of_the_older_layout_is_migrated_without_losing_its_readers(tmp_path: Path) -> None:
    """Before releases, the published path was a plain DuckDB file: the next publication replaces it
    by the link into the release; a reader that has the old file open keeps reading it."""
    published = tmp_path / "published.duckdb"
    with duckdb.connect(str(published)) as con:
        con.execute("create schema marts; create table marts.figures as select 0 as version")
        con.execute("create table marts._publication as select 'old' as run_id, 'state-0' as source_state")
    assert published_state(published) == "state-0"
    reader = duckdb.connect(str(published), read_only=True)  # in this process: its own open file
    try:
        folder = publish_marts(build(tmp_path / "b.duckdb", 1), published, run_id="v1", state="state-1")
        assert published.is_symlink() and release_of(published) == folder
        assert reader.execute("select max(version) from marts.figures").fetchone() == (0,)
    finally:
        reader.close()
    assert published_state(published) == "state-1"
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select max(version), count(*) from marts.figures").fetchone() == (1, 1000)


def test_a_folder_where_the_link_belongs_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "published").mkdir()
    with pytest.raises(RuntimeError, match=r"published should be the link to the current publication, but is a folder"):
        publish_marts(build(tmp_path / "b.duckdb", 1), tmp_path / "published.duckdb", run_id="v1")
    assert not (tmp_path / "published.releases").exists()


def test_the_published_path_stays_the_link_from_run_to_run(tmp_path: Path) -> None:
    """Paths keeps the published path as configured (a link after the first publication, never resolved
    into the release), so every run publishes beside the same releases folder; a path into a release
    is refused."""
    from flows.config import Paths

    published = tmp_path / "published.duckdb"
    warehouse = build(tmp_path / "b.duckdb", 1)
    for run in ("r1", "r2"):
        paths = Paths.resolve(warehouse=warehouse, published=published)
        assert paths.published == published
        publish_marts(paths.warehouse, paths.published, run_id=run)
    assert [p.name.rsplit("-", 1)[1] for p in Layout.of(published).release_folders()] == ["r1", "r2"]
    assert sorted(p.name for p in release_of(published).iterdir()) == ["manifest.json", "parquet", "published.duckdb"]
    inside = tmp_path / "published" / "published.duckdb"
    with pytest.raises(RuntimeError, match="is inside the release"):
        publish_marts(warehouse, inside, run_id="r3")


def test_a_publication_records_the_state_it_stands_on(tmp_path: Path) -> None:
    """The state (warehouse, last load, dbt code, GX suites) is recorded with the publication; a new
    load changes it, so the pipeline skips a rebuild only when nothing changed."""
    from flows.publish import source_state

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
