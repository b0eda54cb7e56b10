"""Publish validated marts to the DuckDB file that BI tools read.

The marts are copied from the build warehouse into a new file beside the published one,
which then atomically replaces it (`os.replace`). A BI client that has the published file
open keeps reading the version it opened, is never blocked by a run, and never sees a
half-written state; the next connection sees the new version. Only the `marts` schema is
published: raw and staging data (with personal data) stay in the build warehouse.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from flows.config import dbt_vars_json
from flows.sql import quote_literal

MARTS_SCHEMA = "marts"


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

    with duckdb.connect(str(warehouse), read_only=True) as con:
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
        with duckdb.connect(str(published), read_only=True) as con:
            row = con.execute(f"select source_state from {MARTS_SCHEMA}._publication").fetchone()
    except duckdb.Error:  # an older publication without the column, or no publication table
        return None
    return row[0] if row else None


def publish_marts(
    warehouse: Path,
    published: Path,
    run_id: str = "",
    state: str = "",
    dbt_vars: dict[str, Any] | None = None,
) -> Path:
    """Copy every table and view of the warehouse's marts schema into `published`, atomically;
    `state` (source_state of the warehouse) and the run's `--vars` (JSON) are recorded in
    marts._publication."""
    published.parent.mkdir(parents=True, exist_ok=True)
    staging_file = published.with_name(f".{published.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with duckdb.connect(str(staging_file)) as con:
            con.execute(f"attach {quote_literal(str(warehouse))} as build (read_only)")
            tables = mart_tables(con, "build")
            if not tables:
                raise RuntimeError(
                    f"nothing to publish: {warehouse} has no {MARTS_SCHEMA} schema (run dbt build first)"
                )
            con.execute(f"create schema {MARTS_SCHEMA}")
            for table in tables:
                con.execute(f'create table {MARTS_SCHEMA}."{table}" as select * from build.{MARTS_SCHEMA}."{table}"')
            con.execute(
                f"""create table {MARTS_SCHEMA}._publication as
                    select ? as run_id, ?::timestamptz as published_at, ? as source_warehouse,
                           ? as tables_published, ? as source_state, ? as dbt_vars""",
                [run_id, datetime.now(UTC), str(warehouse), len(tables), state, dbt_vars_json(dbt_vars)],
            )
            con.execute("detach build")
            con.execute("checkpoint")
        os.replace(staging_file, published)
    finally:
        staging_file.unlink(missing_ok=True)
        Path(str(staging_file) + ".wal").unlink(missing_ok=True)
    return published
