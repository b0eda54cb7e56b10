"""Row-level rules of a large mart, checked in DuckDB: the bounded summary GX validates instead of
the whole mart (a mart of 1.26M customers is never read into pandas).

A `RowCheck` is a rule every row must keep, written as the SQL predicate of a row that breaks it.
`summarize_rows` evaluates every check of a mart in one aggregate query over its rows (one pass, a
`count(*) filter` and an `arg_min` per check) and returns one row: for each check, the number of
rows that break it (column `<name>`) and the first of them by key, named with the values that broke
the rule (column `<name>_record`, e.g. `customer_id C0000042: p_alive 1.20`). The suite then
expects every count to be 0 (`common.expect_no_violations`), and a failure reads `failed on 3 rows
(e.g. customer_id C0000042: p_alive 1.20)`.

The rows may be the mart's own or a join of the mart with the other side of a reconciliation
(`source`): a full outer join with the customers of staging has a row per customer of either side,
and a check names those found on one side only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flows.sql import quote_identifier
from flows.validation.common import shown

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pandas as pd

#: DuckDB's integer types (a count column of the contract BI reads holds one of them).
INTEGER_TYPES = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
)  # fmt: skip


@dataclass(frozen=True)
class RowCheck:
    """A rule every row keeps: `violation` is true on a row that breaks it (null counts as kept)."""

    name: str  # the summary's column: how many rows break the rule; `<name>_record`: the first
    violation: str  # SQL predicate over the columns of the rows checked
    shown: tuple[str, ...] = ()  # the columns named in the record beside the key


def record_text(values: dict[str, Any] | None, key: tuple[str, ...]) -> str | None:
    """`key value, ...: column value, ...` for the first row that broke a check (None: none did)."""
    if values is None:
        return None
    keys = ", ".join(f"{name} {shown(values.get(name))}" for name in key)
    rest = ", ".join(f"{name} {shown(value)}" for name, value in values.items() if name not in key)
    return f"{keys}: {rest}" if rest else keys


def summarize_rows(
    con: duckdb.DuckDBPyConnection,
    source: str,
    key: tuple[str, ...],
    checks: list[RowCheck],
    parameters: dict[str, Any] | None = None,
    rows: str = "true",
) -> pd.DataFrame:
    """One row: `rows` (how many rows of `source` the predicate `rows` holds on: the mart's rows of
    a join), and per check the rows of `source` (a table or a parenthesised query) that break it and
    the first of them by `key`, named (see the module docstring)."""
    import pandas as pd

    order = (
        quote_identifier(key[0])
        if len(key) == 1
        else "struct_pack(" + ", ".join(f"{quote_identifier(k)} := {quote_identifier(k)}" for k in key) + ")"
    )
    aggregates = [f"count(*) filter (where coalesce({rows}, false))"]
    for check in checks:
        broken = f"coalesce({check.violation}, false)"
        named = dict.fromkeys((*key, *check.shown))
        record = "struct_pack(" + ", ".join(f"{quote_identifier(c)} := {quote_identifier(c)}" for c in named) + ")"
        aggregates += [f"count(*) filter (where {broken})", f"arg_min({record}, {order}) filter (where {broken})"]
    row = con.execute(f"select {', '.join(aggregates)} from {source} as checked_rows", parameters or {}).fetchone()
    summary: dict[str, list] = {"rows": [int(row[0])]}
    for position, check in enumerate(checks, start=0):
        summary[check.name] = [int(row[1 + 2 * position])]
        summary[f"{check.name}_record"] = [record_text(row[2 + 2 * position], key)]
    return pd.DataFrame(summary)


def rows_of(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """The number of rows of `table` (schema.table, quoted as needed)."""
    return int(con.execute(f"select count(*) from {table}").fetchone()[0])


def contract_summary(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, columns: list[str], integer_columns: list[str]
) -> dict[str, list]:
    """The contract BI reads, from the table's schema (information_schema): `missing_columns` (how
    many of `columns` it lacks) and `non_integer_columns` (how many of `integer_columns` are not an
    integer type), each with a `_record` naming them."""
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    )
    missing = [c for c in columns if c not in types]
    not_integer = [f"{c} {types[c]}" for c in integer_columns if c in types and types[c].upper() not in INTEGER_TYPES]
    return {
        "missing_columns": [len(missing)],
        "missing_columns_record": [", ".join(missing) or None],
        "non_integer_columns": [len(not_integer)],
        "non_integer_columns_record": [", ".join(not_integer) or None],
    }


# --------------------------------------------------------------------------- one row per customer with a completed order


def customers_source(ctx, mart: str) -> str:
    """The rows checked for a mart of one row per customer with a completed order: the mart's rows
    full-outer-joined with the customers of staging (flows.validation.raw), so that a row names a
    customer of either side; `in_mart` and `has_completed_order` say which."""
    completed = ctx.raw.customers_with_completed_orders_table()
    return f"""(
        select
            coalesce(mart.customer_id, staging.customer_id) as customer_id,
            mart.customer_id is not null as in_mart,
            staging.customer_id is not null as has_completed_order,
            mart.* exclude (customer_id)
        from marts.{mart} as mart
        full outer join {completed} as staging on mart.customer_id = staging.customer_id
    )"""


def one_row_per_customer_checks() -> list[RowCheck]:
    """Only customers with a completed order have a row, and every one of them does."""
    return [
        RowCheck("rows_without_completed_order", "in_mart and not has_completed_order"),
        RowCheck("customers_without_row", "has_completed_order and not in_mart"),
    ]


def customer_summary(ctx, mart: str, checks: list[RowCheck]) -> pd.DataFrame:
    """The bounded summary of a mart of one row per customer with a completed order: per check, the
    rows that break it and the first of them (flows.validation.summaries)."""
    return summarize_rows(
        ctx.con,
        customers_source(ctx, mart),
        ("customer_id",),
        [*one_row_per_customer_checks(), *checks],
        rows="in_mart",
    )
