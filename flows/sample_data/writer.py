"""From model arrays to export files: Arrow columns, ids in SQL, and the DuckDB COPY to CSV or Parquet.

Each entity module builds an Arrow table (`frame`) and a SELECT over it that formats the export
columns as text; `write_by_year` writes that SELECT once per calendar year as CSV or Parquet.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from flows.sample_data.clock import epoch


def decode(values: tuple[str, ...] | list[str], codes: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Codes -> strings as an Arrow array; rows where `valid` is False (or code < 0) are null."""
    mask = codes < 0 if valid is None else (~valid) | (codes < 0)
    indices = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask)
    return pa.array(values).take(indices)


def nullable_int(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    """Integers as an Arrow array, null where `valid` is False."""
    return pa.array(values.astype(np.int64), mask=~valid)


def timestamps(seconds: np.ndarray) -> pa.Array:
    """Naive seconds since 1970 as an Arrow timestamp array."""
    return pa.array(seconds.astype(np.int64), type=pa.timestamp("s"))


def id_sql(column: str, prefix: str, width: int) -> str:
    """SQL for the id of a 0-based row number: `prefix` and the number + 1, zero-padded to `width`."""
    return f"'{prefix}' || lpad(CAST({column} + 1 AS VARCHAR), {width}, '0')"


def id_width(default: int, count: int) -> int:
    """Digits of an id: `default`, or more when `count` needs them."""
    return max(default, len(str(count)))


def copy_to_file(con: duckdb.DuckDBPyConnection, table: pa.Table, sql: str, path: Path, file_format: str) -> None:
    """Write `sql` over `table` (registered as `frame`, with its row number as `row_id`)."""
    con.register("frame", table)
    options = "FORMAT parquet" if file_format == "parquet" else "FORMAT csv, HEADER, DELIMITER ','"
    target = str(path).replace("'", "''")
    con.execute(f"COPY ({sql}) TO '{target}' ({options})")
    con.unregister("frame")


def write_by_year(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    table: pa.Table,
    at: np.ndarray,
    sql: str,
    out_dir: Path,
    start: date,
    end: date,
    file_format: str,
) -> int:
    """One file per calendar year of `at` (sorted): `<entity>_<Dec 31 or end>.<ext>`."""
    table = table.append_column("row_id", pa.array(np.arange(table.num_rows)))
    for year in range(start.year, end.year + 1):
        lo = np.searchsorted(at, epoch(date(year, 1, 1)), side="left")
        hi = np.searchsorted(at, epoch(date(year + 1, 1, 1)), side="left")
        stamp = min(date(year, 12, 31), end).isoformat()
        copy_to_file(con, table.slice(lo, hi - lo), sql, out_dir / f"{entity}_{stamp}.{file_format}", file_format)
    return table.num_rows
