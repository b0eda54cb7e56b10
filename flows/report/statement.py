"""The report's first page: the customer statement of the last complete year and quarter.

Laid out as an annual-report note (the customer disclosures Markey proposes, HBR 2020): customers
at the start, gross new, reactivated, lost, net new kept, at the end; active customers new and
existing; revenue and revenue per new and per existing customer; each beside the prior period.
The figures and their order are the run summary's (flows.summary.headlines.audit.AUDIT_FIGURES).
Below it, the revenue reconciled to the books: the statement's yearly revenue against the sum of
the completed orders in the published orders mart (which holds every order as the latest export
has it), and what Great Expectations reconciled with raw.orders before the file was published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flows.report.data import PublishedMarts
from flows.report.numbers import NumberFormat
from flows.summary.headlines.audit import AUDIT_FIGURES

#: the statement's lines: the run summary's audit figures with revenue split into new and existing
#: customers' under it, then orders and the average order value
_REVENUE_SPLIT = [
    ("revenue_new_customers", "  from new customers", True),
    ("revenue_existing_customers", "  from existing customers", True),
]
STATEMENT_FIGURES: list[tuple[str, str, bool]] = [
    *(line for figure in AUDIT_FIGURES for line in [figure, *(_REVENUE_SPLIT if figure[0] == "revenue" else [])]),
    ("orders", "completed orders", False),
    ("average_order_value", "average order value", True),
]

LATEST_COMPLETE_SQL = """
with complete_periods as (
    select * from marts.customer_audit_figures where is_complete and period_grain = ?
)
select * from complete_periods order by period_start desc limit 2
"""

ORDERS_REVENUE_SQL = """
select count(*) as orders, coalesce(sum(amount), 0) as revenue
from marts.orders
where is_completed and order_date between ? and ?
"""


@dataclass
class StatementColumn:
    label: str  # "2025", "2025 Q3"
    period_start: date
    period_end: date
    values: dict[str, Any]


@dataclass
class Reconciliation:
    year: str
    statement_revenue: float
    orders_revenue: float
    statement_orders: int
    orders_count: int

    @property
    def difference(self) -> float:
        return round(self.statement_revenue - self.orders_revenue, 2)


@dataclass
class Statement:
    columns: list[StatementColumn] = field(default_factory=list)
    lines: list[tuple[str, list[str]]] = field(default_factory=list)  # (label, formatted cell per column)
    reconciliation: Reconciliation | None = None

    @property
    def empty(self) -> bool:
        return not self.columns


def period_label(grain: str, start: date) -> str:
    if grain == "year":
        return f"{start:%Y}"
    if grain == "quarter":
        return f"{start:%Y} Q{(start.month - 1) // 3 + 1}"
    return f"{start:%Y-%m}"


def _as_date(value: Any) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def build_statement(marts: PublishedMarts, fmt: NumberFormat) -> Statement:
    """The last complete year and quarter, each with the period before it; empty without audit figures."""
    statement = Statement()
    if not marts.has("customer_audit_figures"):
        return statement
    for grain in ("year", "quarter"):
        for row in marts.records(LATEST_COMPLETE_SQL, [grain]):
            start = _as_date(row["period_start"])
            statement.columns.append(
                StatementColumn(period_label(grain, start), start, _as_date(row["period_end"]), row)
            )
    for column, label, is_money in STATEMENT_FIGURES:
        cells = [
            fmt.money(c.values.get(column)) if is_money else fmt.count(c.values.get(column)) for c in statement.columns
        ]
        statement.lines.append((label, cells))
    year = next((c for c in statement.columns if len(c.label) == 4), None)
    if year is not None and marts.has("orders"):
        found = marts.records(ORDERS_REVENUE_SQL, [year.period_start, year.period_end])[0]
        statement.reconciliation = Reconciliation(
            year=year.label,
            statement_revenue=float(year.values["revenue"]),
            orders_revenue=float(found["revenue"]),
            statement_orders=int(year.values["orders"]),
            orders_count=int(found["orders"]),
        )
    return statement
