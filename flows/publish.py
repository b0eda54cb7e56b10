"""Publish validated marts to the DuckDB file that BI tools read.

The marts are copied from the build warehouse into a new file beside the published one,
which then atomically replaces it (`os.replace`). A BI client that has the published file
open keeps reading the version it opened, is never blocked by a run, and never sees a
half-written state; the next connection sees the new version. Only the `marts` schema is
published: raw and staging data (with personal data) stay in the build warehouse.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path

import duckdb

MARTS_SCHEMA = "marts"


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def mart_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = con.execute(
        """select table_name from information_schema.tables
           where table_catalog = ? and table_schema = ? order by table_name""",
        [catalog, MARTS_SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


def publish_marts(warehouse: Path, published: Path, run_id: str = "") -> Path:
    """Copy every table and view of the warehouse's marts schema into `published`, atomically."""
    published.parent.mkdir(parents=True, exist_ok=True)
    staging_file = published.with_name(f".{published.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with duckdb.connect(str(staging_file)) as con:
            con.execute(f"attach {_sql_literal(str(warehouse))} as build (read_only)")
            tables = mart_tables(con, "build")
            if not tables:
                raise RuntimeError(f"nothing to publish: {warehouse} has no {MARTS_SCHEMA} schema (run dbt build first)")
            con.execute(f"create schema {MARTS_SCHEMA}")
            for table in tables:
                con.execute(f'create table {MARTS_SCHEMA}."{table}" as select * from build.{MARTS_SCHEMA}."{table}"')
            con.execute(
                f"""create table {MARTS_SCHEMA}._publication as
                    select ? as run_id, ?::timestamptz as published_at, ? as source_warehouse,
                           ? as tables_published""",
                [run_id, datetime.now(timezone.utc), str(warehouse), len(tables)],
            )
            con.execute("detach build")
            con.execute("checkpoint")
        os.replace(staging_file, published)
    finally:
        staging_file.unlink(missing_ok=True)
        Path(str(staging_file) + ".wal").unlink(missing_ok=True)
    return published
