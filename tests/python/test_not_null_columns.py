"""The generic test not_null_columns (macros/test_not_null_columns.sql), as dbt compiled it for the
session's build (`sample_run`): no row on the built model; one row per column with nulls, named, with
its number of null rows, when some are null. Runs the compiled SQL in DuckDB only (no dbt run)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from flows.config import Paths

MODEL = "stg_crm__orders"


def compiled_test_sql(paths: Paths, test_name: str) -> str:
    """The SQL dbt compiled for data test `test_name` in the run's target folder."""
    (found,) = list((paths.dbt_target / "compiled").rglob(f"{test_name}.sql"))
    return found.read_text()


def test_not_null_columns_names_each_column_with_nulls(sample_run: Paths) -> None:
    sql = compiled_test_sql(sample_run, f"not_null_{MODEL}")
    relation = f'"{Path(sample_run.warehouse).stem}"."staging"."{MODEL}"'
    assert relation in sql
    with duckdb.connect() as con:
        con.execute(f"attach '{sample_run.warehouse}' as \"{Path(sample_run.warehouse).stem}\" (read_only)")
        assert con.execute(sql).fetchall() == []

        # a copy of the model with 3 null order dates and 1 null amount (other rows untouched)
        con.execute(f"create table memory.main.with_nulls as select * from {relation}")
        con.execute(
            "update memory.main.with_nulls set order_date = null "
            "where order_id in (select order_id from memory.main.with_nulls order by order_id limit 3)"
        )
        con.execute(
            "update memory.main.with_nulls set amount = null "
            "where order_id = (select max(order_id) from memory.main.with_nulls)"
        )
        failures = con.execute(sql.replace(relation, "memory.main.with_nulls")).fetchall()
    assert sorted(failures) == [("amount", 1), ("order_date", 3)]
