"""The bounded summaries the plausibility gates validate, computed in DuckDB (docs/checks.md,
"Plausibility gates"): one absurd record must not publish absurd figures, and a failure names it.

- `latest_load_day`: the day of the latest load in raw.load_manifest; the as-of date and every
  order lie at most `days_after_load_day` (var) days after it.
- `orders_summary`: the few orders that decide whether marts.orders is plausible, however many
  orders it holds (10M orders are never read into pandas): the completed orders with the highest
  and the lowest revenue, the latest and the earliest orders, and the as-of date of the build
  (int_run_parameters) with where it comes from. GX then checks their revenue against
  [min_revenue_per_order, max_revenue_per_order] and their days against [earliest_plausible_date,
  latest load day + days_after_load_day].
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pandas as pd

#: How many orders of each extreme the orders summary holds.
EXTREME_ORDERS = 5

ORDERS_SUMMARY_SQL = """
with orders as (
    select order_id, order_date, order_status, is_completed, amount
    from marts.orders
    where order_id is not null
),
highest_revenue as (
    select * from orders where is_completed order by amount desc, order_id limit $extremes
),
lowest_revenue as (
    select * from orders where is_completed order by amount asc, order_id limit $extremes
),
latest_orders as (
    select * from orders order by order_date desc, order_id limit $extremes
),
earliest_orders as (
    select * from orders order by order_date asc, order_id limit $extremes
),
candidates as (
    select * from highest_revenue
    union select * from lowest_revenue
    union select * from latest_orders
    union select * from earliest_orders
),
order_rows as (
    select
        'order_id ' || order_id || ' (' || coalesce(order_status, 'no status') || ', '
            || coalesce(strftime(order_date, '%Y-%m-%d'), 'no date') || ')' as record,
        order_date as day,
        case when is_completed then cast(amount as double) end as revenue
    from candidates
),
as_of_row as (
    select
        'the as-of date (' || case when is_as_of_date_set then 'var as_of_date'
            else 'the date of the last completed order' end || ')' as record,
        as_of_date as day,
        cast(null as double) as revenue
    from intermediate.int_run_parameters
)
select * from as_of_row
union all
select * from (select * from order_rows order by record)
"""


def latest_load_day(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The day of the latest load recorded in raw.load_manifest; None without any."""
    try:
        value = con.execute("select max(loaded_at) from raw.load_manifest").fetchone()[0]
    except Exception:  # no raw.load_manifest: nothing was loaded by the loader
        return None
    if value is None:
        return None
    return value.date() if isinstance(value, dt.datetime) else value


def orders_summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The rows of ORDERS_SUMMARY_SQL: record (what names the row in a failure), day, revenue
    (completed orders only)."""
    frame = con.execute(ORDERS_SUMMARY_SQL, {"extremes": EXTREME_ORDERS}).df()
    return frame.reset_index(drop=True)
