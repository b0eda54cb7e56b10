"""The raw layer for Spark (README "Running on Spark").

The loader (flows/ingest.py) stays the one entry of export files: it checks the data contract,
quarantines bad rows and records every file in raw.load_manifest, in the DuckDB build warehouse.
For a Spark build the validated raw tables (and the manifest and quarantine, so that they remain the
single record of what was read) are written as Parquet, one folder per table, which Spark registers
as external tables of its `raw` database: the sources of the dbt project then read the same rows on
either engine. Plain functions; pyspark is imported by the caller only (flows/spark_build.py)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb

from flows.duckdb_connection import connect

RAW_SCHEMA = "raw"


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables of the raw schema (the entities, load_manifest, quarantine), by name."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by table_name",
        [RAW_SCHEMA],
    ).fetchall()
    return [name for (name,) in rows]


def export_raw(warehouse: Path, out_dir: Path) -> dict[str, int]:
    """Write every raw table of the DuckDB build warehouse to `out_dir/<table>/data.parquet`
    (replacing an earlier export). Returns the rows written per table."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    counts: dict[str, int] = {}
    with connect(warehouse, read_only=True) as con:
        for table in raw_tables(con):
            folder = out_dir / table
            folder.mkdir()
            target = str(folder / "data.parquet").replace("'", "''")
            con.execute(f"copy (select * from {RAW_SCHEMA}.{table}) to '{target}' (format parquet)")
            (count,) = con.execute(f"select count(*) from {RAW_SCHEMA}.{table}").fetchone()
            counts[table] = int(count)
    return counts


def register_raw(spark: Any, raw_dir: Path) -> list[str]:
    """Register each exported table folder of `raw_dir` as the external Parquet table raw.<table> of
    the Spark session (replacing an earlier registration). Returns the tables registered."""
    spark.sql(f"create database if not exists {RAW_SCHEMA}")
    tables = sorted(p.name for p in raw_dir.iterdir() if p.is_dir())
    for table in tables:
        location = str((raw_dir / table).resolve()).replace("'", "\\'")
        spark.sql(f"drop table if exists {RAW_SCHEMA}.{table}")
        spark.sql(f"create table {RAW_SCHEMA}.{table} using parquet location '{location}'")
    return tables
