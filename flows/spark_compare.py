"""Compare the marts of a Spark build with the DuckDB build of the same exports (make test-spark).

Every value is brought to one text form before comparing: decimals (money) exactly, to the cent
and beyond (Spark and DuckDB give other decimal widths, not other values); doubles to 9 significant
digits (as tests/python/test_figures_unchanged.py: the sums of doubles run in another order);
dates and timestamps as ISO text; booleans, integers and text as they are. Rows are compared as
multisets (neither engine promises an order); a difference is reported with the first rows only
one side has."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from flows.duckdb_connection import connect

DOUBLE_DIGITS = 9


def canonical(value: Any) -> str | None:
    """One text form of a value from DuckDB or Spark (see the module docstring)."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)):
        value = value.item()  # numpy scalars
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value != 0 else "0"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value == 0 or abs(value) < 1e-12:
            return "0"
        return f"{value:.{DOUBLE_DIGITS}g}"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(canonical(v)) for v in value) + "]"
    return str(value)


@dataclass
class MartComparison:
    mart: str
    duckdb_rows: int
    spark_rows: int
    columns_equal: bool
    only_in_duckdb: list[tuple[str | None, ...]] = field(default_factory=list)
    only_in_spark: list[tuple[str | None, ...]] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return self.columns_equal and not self.only_in_duckdb and not self.only_in_spark

    def describe(self, first: int = 3) -> str:
        if self.equal:
            return f"{self.mart}: {self.duckdb_rows} rows, equal"
        lines = [f"{self.mart}: DuckDB {self.duckdb_rows} rows, Spark {self.spark_rows} rows"]
        if not self.columns_equal:
            lines.append("  the columns differ")
        for label, rows in (("only in DuckDB", self.only_in_duckdb), ("only in Spark", self.only_in_spark)):
            if rows:
                lines.append(f"  {len(rows)} rows {label}, the first:")
                lines += [f"    {row}" for row in rows[:first]]
        return "\n".join(lines)


def compare_rows(
    mart: str, duckdb_columns: list[str], duckdb_rows: list[tuple], spark_columns: list[str], spark_rows: list[tuple]
) -> MartComparison:
    """Compare two result sets of one mart (see the module docstring)."""
    left = Counter(tuple(canonical(v) for v in row) for row in duckdb_rows)
    right = Counter(tuple(canonical(v) for v in row) for row in spark_rows)
    only_left = sorted((left - right).elements(), key=lambda r: tuple("" if v is None else v for v in r))
    only_right = sorted((right - left).elements(), key=lambda r: tuple("" if v is None else v for v in r))
    return MartComparison(
        mart,
        len(duckdb_rows),
        len(spark_rows),
        [c.lower() for c in duckdb_columns] == [c.lower() for c in spark_columns],
        only_left,
        only_right,
    )


def compare_marts(warehouse: Path, spark: Any, marts: list[str], schema: str = "marts") -> list[MartComparison]:
    """Each mart of the DuckDB build `warehouse` against the same table of the Spark session."""
    results = []
    with connect(warehouse, read_only=True) as con:
        for mart in marts:
            relation = con.table(f"{schema}.{mart}")
            duckdb_columns, duckdb_rows = relation.columns, relation.fetchall()
            frame = spark.table(f"{schema}.{mart}")
            spark_rows = [tuple(row) for row in frame.collect()]
            results.append(compare_rows(mart, duckdb_columns, duckdb_rows, frame.columns, spark_rows))
    return results
