"""Headlines of the customer base and the audit figures (docs/audit_figures.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flows.summary.formatting import format_count, money_in
from flows.summary.headlines.base import Headline
from flows.summary.report import HeadlineTable

CUSTOMERS_SQL = """
select count(*) filter (where is_customer) as customers,
       count(*) filter (where not is_customer) as prospects,
       sum(revenue) as revenue
from marts.customers
"""

#: The audit figures in the order they are shown: (column, label, is money).
AUDIT_FIGURES: list[tuple[str, str, bool]] = [
    ("customers_start", "customers at start", False),
    ("gross_new_customers", "+ gross new", False),
    ("reactivated_customers", "+ reactivated", False),
    ("lost_customers", "- lost", False),
    ("net_new_customers", "= net new", False),
    ("customers_end", "customers at end", False),
    ("active_customers", "active customers", False),
    ("active_new_customers", "  of which new", False),
    ("active_existing_customers", "  of which existing", False),
    ("revenue", "revenue", True),
    ("revenue_per_new_customer", "revenue per new customer", True),
    ("revenue_per_existing_customer", "revenue per existing customer", True),
]

AUDIT_SQL = """
with complete_periods as (
    select * from marts.customer_audit_figures
    where is_complete and period_grain in ('year', 'month')
),
latest as (
    select period_grain, max(period_start) as period_start from complete_periods group by period_grain
)
select complete_periods.*
from complete_periods
inner join latest using (period_grain, period_start)
order by case period_grain when 'year' then 1 else 2 end
"""


def period_label(grain: str, start: Any) -> str:
    return f"year {start:%Y}" if grain == "year" else f"{grain} {start:%Y-%m}"


def audit_table(title: str, columns: list[str], rows: list[tuple], currency: str) -> HeadlineTable | None:
    """One line per figure, one column per period (the last complete year, then month)."""
    if not rows:
        return None
    periods = [dict(zip(columns, row)) for row in rows]
    money = money_in(currency)
    lines = []
    for column, label, is_money in AUDIT_FIGURES:
        formatter: Callable[[Any], str] = money if is_money else format_count
        lines.append([label, *[formatter(period.get(column)) for period in periods]])
    return HeadlineTable(
        title=title,
        caption=f"as of {periods[0]['as_of_date']}, W = {periods[0]['churn_window_days']} days",
        columns=["figure", *[period_label(p["period_grain"], p["period_start"]) for p in periods]],
        rows=lines,
        label_columns=1,
    )


HEADLINES: list[Headline] = [
    Headline("customers", "Customers", CUSTOMERS_SQL),
    Headline("customer_audit_figures", "Audit figures, last complete year and month", AUDIT_SQL, audit_table),
]
