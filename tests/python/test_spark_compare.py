"""The pieces of make test-spark that need no Spark (tests/spark runs the rest in the Spark
virtualenv): the raw export for Spark and the mart comparison."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from flows import spark_compare, spark_raw

pytestmark = pytest.mark.unit


def test_values_compare_by_value_not_by_engine_type() -> None:
    canonical = spark_compare.canonical
    # money: DuckDB decimal(38, 2) and Spark decimal(28, 2) or (38, 6) of one value are equal, a cent is not
    assert canonical(Decimal("67.70")) == canonical(Decimal("67.700000")) == "67.7"
    assert canonical(Decimal("67.69")) != canonical(Decimal("67.70"))
    assert canonical(Decimal("0.00")) == canonical(Decimal("0E-6")) == "0"
    # doubles to 9 significant digits (sums in another order), tiny values are 0
    assert canonical(0.1 + 0.2) == canonical(0.3) == "0.3"
    assert canonical(0.300000001) != canonical(0.3)
    assert canonical(1e-15) == "0" and canonical(float("nan")) is None
    assert canonical(True) == "true" and canonical(3) == "3"
    assert canonical(dt.date(2024, 2, 29)) == "2024-02-29"
    assert canonical(dt.datetime(2024, 2, 29, 13, 5)) == "2024-02-29T13:05:00"


def test_a_difference_names_the_first_rows_of_each_side() -> None:
    duckdb_rows = [("C1", Decimal("67.69")), ("C2", Decimal("10.00")), ("C3", Decimal("1.00"))]
    spark_rows = [("C3", Decimal("1.000000")), ("C1", Decimal("67.70")), ("C2", Decimal("10"))]
    result = spark_compare.compare_rows(
        "customers", ["customer_id", "aov"], duckdb_rows, ["customer_id", "aov"], spark_rows
    )
    assert not result.equal
    assert result.only_in_duckdb == [("C1", "67.69")] and result.only_in_spark == [("C1", "67.7")]
    assert "1 rows only in DuckDB" in result.describe() and "('C1', '67.7')" in result.describe()
    same = spark_compare.compare_rows("customers", ["a"], [(1,), (1,)], ["A"], [(1,), (1,)])
    assert same.equal and same.describe() == "customers: 2 rows, equal"
    # a row twice on one side and once on the other is a difference
    assert not spark_compare.compare_rows("m", ["a"], [(1,), (1,)], ["a"], [(1,)]).equal


def test_every_raw_table_is_exported_with_its_rows(tmp_path: Path) -> None:
    warehouse = tmp_path / "build.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.orders as select 'O' || i as order_id, i as _load_id from range(3) t(i)")
        con.execute("create table raw.quarantine (load_id integer, reason varchar)")
        con.execute("create table main.other as select 1 as x")
    counts = spark_raw.export_raw(warehouse, tmp_path / "raw")
    assert counts == {"orders": 3, "quarantine": 0}
    with duckdb.connect() as con:
        rows = con.execute(
            f"select * from '{tmp_path / 'raw' / 'orders' / 'data.parquet'}' order by _load_id"
        ).fetchall()
    assert rows == [("O0", 0), ("O1", 1), ("O2", 2)]
    # a second export replaces the first
    assert spark_raw.export_raw(warehouse, tmp_path / "raw") == counts
