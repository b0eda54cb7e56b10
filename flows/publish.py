"""Publish validated marts: the release BI tools, spreadsheets and lakes read.

The marts are copied from the build warehouse into a new release (flows/release.py: a folder with a
DuckDB file, one Parquet file per mart, optional CSV, extra artefacts and manifest.json), which is
then switched in atomically. A BI client that has the published file open keeps reading the version
it opened, is never blocked by a run, and never sees a half-written state or files of two runs; the
next connection sees the new version. Only the `marts` schema is published: raw and staging data
(with personal data) stay in the build warehouse.

The DuckDB file is written in storage format STORAGE_VERSION, which DuckDB 1.0 and every later
client read (DuckDB 2.0's own format is refused by 1.x clients; DECISIONLOG.md, "Publishing").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from flows import release as releases
from flows.config import DEFAULT_KEEP_RELEASES, dbt_vars_json, settings
from flows.duckdb_connection import connect
from flows.ingest import file_sha256
from flows.release import read_manifest
from flows.release_files import CSV_FOLDER, PARQUET_FOLDER, CsvFormat, columns, write_csv, write_manifest, write_parquet
from flows.sql import quote_identifier, quote_literal

#: Storage format of the published DuckDB file: the oldest 1.x format; it holds every type the marts use
#: (tests/python/test_publish_formats.py reads every mart with a DuckDB 1.1 client).
STORAGE_VERSION = "v1.0.0"
#: Writes an extra artefact (e.g. a report) into the release folder before it is switched in; the
#: folder already holds the DuckDB file (Layout.duckdb_name), parquet/ and csv/. Listed in the manifest.
ReleaseWriter = Callable[[Path], None]
MARTS_SCHEMA = "marts"
#: Threads that write the marts' Parquet (and CSV) files and hash the release's files for the manifest.
FILE_THREADS = 2


def mart_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = con.execute(
        """select table_name from information_schema.tables
           where table_catalog = ? and table_schema = ? order by table_name""",
        [catalog, MARTS_SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


#: Python code the validated marts depend on besides the dbt project: the GX suites, every file of
#: this package (its content and its path enter the publication state).
VALIDATION_CODE = "flows/validation"


def validation_code_files() -> list[Path]:
    """Every file of the validation package (VALIDATION_CODE), sorted, without bytecode caches."""
    from flows.config import PROJECT_DIR

    root = PROJECT_DIR / VALIDATION_CODE
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def source_state(warehouse: Path, dbt_vars: dict[str, Any] | None = None) -> str:
    """What a publication of `warehouse` stands on: the warehouse, its last load (the largest
    load_id of raw.load_manifest: every loaded or rejected export file is a new load), the dbt code
    and vars (transform.code_fingerprint) and the GX suites. Two runs with the same state publish
    the same marts."""
    from flows.config import PROJECT_DIR
    from flows.transform import code_fingerprint

    with connect(str(warehouse), read_only=True) as con:
        last_load = con.execute("select coalesce(max(load_id), 0) from raw.load_manifest").fetchone()[0]
    digest = hashlib.sha256(f"{Path(warehouse).resolve()}\nload {last_load}\n{code_fingerprint(dbt_vars)}\n".encode())
    for path in validation_code_files():
        digest.update(f"{path.relative_to(PROJECT_DIR)}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def published_state(published: Path) -> str | None:
    """The source_state recorded by the last publication in `published`, or None."""
    if not Path(published).exists():
        return None
    try:
        with connect(str(published), read_only=True) as con:
            row = con.execute(f"select source_state from {MARTS_SCHEMA}._publication").fetchone()
    except duckdb.Error:  # an older publication without the column, or no publication table
        return None
    return row[0] if row else None


def csv_format(requested: bool | None = None) -> CsvFormat | None:
    """The CSV format of a publication, or None for no CSV: `requested` (`--csv`), else `$CVW_CSV`;
    the decimal separator from `$CVW_CSV_DECIMAL_SEPARATOR` (default `,`)."""
    env = settings()
    if not (env.csv if requested is None else requested):
        return None
    return CsvFormat(decimal_separator=env.csv_decimal_separator)


def is_current(published: Path, state: str, csv: CsvFormat | None = None) -> bool:
    """True when the publication in `published` stands on `state` and holds what this run would add:
    the CSV files in `csv`'s format when asked for (a publication without them is not current)."""
    if published_state(published) != state:
        return False
    if csv is None:
        return True
    manifest = read_manifest(published)
    return manifest is not None and manifest.get("csv") == csv.describe()


def publish_marts(
    warehouse: Path,
    published: Path,
    run_id: str = "",
    state: str = "",
    dbt_vars: dict[str, Any] | None = None,
    csv: CsvFormat | None = None,
    writers: Sequence[ReleaseWriter] = (),
    keep: int = DEFAULT_KEEP_RELEASES,
) -> Path:
    """Publish every table and view of the warehouse's marts schema as a new release of `published`
    (flows/release.py) and switch it in atomically; returns the release folder.

    The release holds the DuckDB file (schema marts; `state`, the source_state of the warehouse, and
    the run's `--vars` are recorded in marts._publication), parquet/<mart>.parquet, with `csv`
    csv/<mart>.csv, whatever `writers` add, and manifest.json. The newest `keep` releases stay."""
    layout = releases.Layout.of(Path(published))
    layout.check()
    published_at = datetime.now(UTC)
    name = releases.release_name(run_id, published_at)
    with (
        releases.staging_folder(layout) as staging,
        ThreadPoolExecutor(max_workers=FILE_THREADS, thread_name_prefix="cvw-publish") as pool,
    ):
        mart_rows, as_of, hashes = _write_release(
            warehouse, staging, layout.duckdb_name, (run_id, name, published_at, state, dbt_vars), csv, pool
        )
        duckdb_hash = pool.submit(_hashed, staging / layout.duckdb_name)  # while the writers run
        for write in writers:
            write(staging)
        facts = {
            "run_id": run_id,
            "release": name,
            "published_at": published_at.isoformat(),
            "as_of_date": as_of,
            "source_state": state,
            "duckdb_storage_version": STORAGE_VERSION,
            "csv": csv.describe() if csv else None,
        }
        hashes[layout.duckdb_name] = duckdb_hash.result()
        write_manifest(staging, facts, mart_rows, _unchanged(staging, hashes))
        folder = releases.switch_to(layout, staging, name)
    releases.prune(layout, keep)
    return folder


def _hashed(path: Path) -> tuple[str, tuple[int, int]]:
    """The sha256 of a file, and its size and mtime before it was read."""
    stat = path.stat()
    return file_sha256(path), (stat.st_size, stat.st_mtime_ns)


def _unchanged(release: Path, hashes: dict[str, tuple[str, tuple[int, int]]]) -> dict[str, str]:
    """The hashes of the files that did not change after they were hashed (size and mtime as then;
    a writer changing one would be caught: write_manifest hashes the others again)."""
    found = {}
    for relative, (digest, before) in hashes.items():
        stat = (release / relative).stat()
        if (stat.st_size, stat.st_mtime_ns) == before:
            found[relative] = digest
    return found


def published_marts(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    """The marts of a publication: every table of its marts schema but the bookkeeping ones (`_...`)."""
    return [t for t in mart_tables(con, catalog) if not t.startswith("_")]


Hashed = tuple[str, tuple[int, int]]  # (sha256, (size, mtime_ns) before it was read): _hashed


def _write_release(
    warehouse: Path,
    staging: Path,
    duckdb_name: str,
    run: tuple[str, str, datetime, str, dict[str, Any] | None],
    csv: CsvFormat | None,
    pool: ThreadPoolExecutor,
) -> tuple[dict[str, int], str | None, dict[str, Hashed]]:
    """The release's files in `staging`: the DuckDB file (STORAGE_VERSION, every mart copied in one
    transaction), parquet/<mart>.parquet and with `csv` csv/<mart>.csv. The marts' files are written
    by `pool`'s threads (each with a cursor of the same DuckDB instance) while the DuckDB file is
    written: a table's from the build warehouse (attached read-only: the rows the copy reads), a
    view's from its copy. Every file is hashed as soon as it is complete. `run`: run id, release
    name, published_at, source state, dbt vars. Returns the rows of every mart, the as-of date and
    the hashes by path in the release."""
    run_id, release, published_at, state, dbt_vars = run
    path = staging / duckdb_name
    metadata = {"run_id": run_id, "release": release}
    with connect() as con:
        con.execute("set enable_progress_bar = false")  # a run's log, not a terminal
        con.execute(f"attach {quote_literal(str(warehouse))} as build (read_only)")
        con.execute(f"attach {quote_literal(str(path))} as pub (storage_version {quote_literal(STORAGE_VERSION)})")
        tables = mart_tables(con, "build")
        if not tables:
            raise RuntimeError(f"nothing to publish: {warehouse} has no {MARTS_SCHEMA} schema (run dbt build first)")
        sizes = dict(
            con.execute(
                """select table_name, estimated_size from duckdb_tables()
                   where database_name = 'build' and schema_name = ?""",
                [MARTS_SCHEMA],
            ).fetchall()
        )
        (staging / PARQUET_FOLDER).mkdir()
        if csv is not None:
            (staging / CSV_FOLDER).mkdir()

        def write(catalog: str, mart: str) -> Future[dict[str, Hashed]]:
            # (the cursor is made here, in the connection's thread, and used and closed in the pool's)
            return pool.submit(_write_mart_files, con.cursor(), catalog, mart, staging, metadata, csv)

        marts = [t for t in tables if not t.startswith("_")]  # published_marts of the copy
        tables_first = sorted((m for m in marts if m in sizes), key=lambda m: -(sizes[m] or 0))  # largest first
        files = [write("build", mart) for mart in tables_first]
        try:
            con.execute("begin transaction")  # one commit, and one checkpoint below, for every mart
            con.execute(f"create schema pub.{MARTS_SCHEMA}")
            for table in tables:
                name = quote_identifier(table)
                con.execute(f"create table pub.{MARTS_SCHEMA}.{name} as select * from build.{MARTS_SCHEMA}.{name}")
            con.execute(
                f"""create table pub.{MARTS_SCHEMA}._publication as
                    select ? as run_id, ?::timestamptz as published_at, ? as source_warehouse,
                           ? as tables_published, ? as source_state, ? as dbt_vars""",
                [run_id, published_at, str(warehouse), len(tables), state, dbt_vars_json(dbt_vars)],
            )
            con.execute("commit")
            files += [write("pub", mart) for mart in marts if mart not in sizes]  # views
            rows = {
                table: con.execute(f"select count(*) from pub.{MARTS_SCHEMA}.{quote_identifier(table)}").fetchone()[0]
                for table in published_marts(con, "pub")
            }
            as_of = _as_of_date(con)
        finally:
            wait(files)  # the cursors are the connection's: done before it closes
        hashes = {relative: hashed for future in files for relative, hashed in future.result().items()}
        con.execute("detach build")
        con.execute("checkpoint pub")
        con.execute("detach pub")
    return rows, as_of, hashes


def _as_of_date(con: duckdb.DuckDBPyConnection) -> str | None:
    """The as-of date of the build (`intermediate.int_run_parameters`), or None without it."""
    has_parameters = con.execute(
        """select count(*) from information_schema.tables where table_catalog = 'build'
           and table_schema = 'intermediate' and table_name = 'int_run_parameters'"""
    ).fetchone()[0]
    if not has_parameters:
        return None
    found = con.execute("select max(as_of_date)::varchar from build.intermediate.int_run_parameters").fetchone()
    return found[0] if found else None


def _write_mart_files(
    cursor: duckdb.DuckDBPyConnection,
    catalog: str,
    mart: str,
    release: Path,
    metadata: dict[str, str],
    csv: CsvFormat | None,
) -> dict[str, Hashed]:
    """parquet/<mart>.parquet (and with `csv` csv/<mart>.csv) of `catalog`'s mart, then their hashes;
    closes `cursor` (one thread's own)."""
    try:
        source = f"{catalog}.{MARTS_SCHEMA}.{quote_identifier(mart)}"
        files = [release / PARQUET_FOLDER / f"{mart}.parquet"]
        write_parquet(cursor, source, files[0], metadata)
        if csv is not None:
            files.append(release / CSV_FOLDER / f"{mart}.csv")
            write_csv(cursor, source, columns(cursor, catalog, MARTS_SCHEMA, mart), files[1], csv)
    finally:
        cursor.close()
    return {path.relative_to(release).as_posix(): _hashed(path) for path in files}
