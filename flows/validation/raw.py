"""The other side of every reconciliation: figures recomputed from the warehouse's lower layers,
independently of the marts (`RawSide`, the one helper the suites use for it).

The rules come from dbt, the values from below the marts:

- Revenue is reconciled with **raw**: amount, currency and status straight from `raw.orders`,
  converted with `reference.currency_rates` and rounded to the cent per order. Which raw row is an
  order's current version (the latest-version rule) and the order's date in the reporting time zone
  are dbt's: `staging.stg_crm__orders` names the row by (order_id, load_id, line) and carries its
  `order_date`. Every order of raw must have exactly one current version there.
- Responses, judged answers, contacts, customers with a completed order and marketing spend are
  reconciled with **staging** (distinct valid responses, contacts and spend rows as dbt staged them).
- The as-of date, reporting currency, period grains and score types come from the build's
  `intermediate.int_run_parameters` (`RunParameters`), never from a Python copy of a dbt rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from flows.validation.parameters import RunParameters

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pandas as pd

T = TypeVar("T")

# The current version of every order, as a raw row: dbt's staging names it (order_id, load_id, line)
# and dates it in the reporting time zone; amount, currency and status are raw's.
_CURRENT_RAW_ORDERS = """
with current_versions as (
    select order_id, load_id, line, order_date
    from staging.stg_crm__orders
),
raw_orders as (
    select order_id, _load_id as load_id, _line as line, customer_id, status, amount, currency
    from raw.orders
),
current_raw_orders as (
    select raw_orders.*, current_versions.order_date
    from raw_orders
    inner join current_versions
        on raw_orders.order_id = current_versions.order_id
        and raw_orders.load_id = current_versions.load_id
        and raw_orders.line = current_versions.line
)
"""

RAW_REVENUE_BY_YEAR_SQL = (
    _CURRENT_RAW_ORDERS
    + """,
completed as (
    select
        customer_id,
        order_date,
        cast(date_trunc('month', order_date) as date) as order_month,
        amount,
        -- the export contract: an empty currency is the reporting currency
        coalesce(currency, $reporting_currency) as currency
    from current_raw_orders
    where status = 'completed' and order_date <= cast($as_of_date as date)
),
converted as (
    select
        completed.customer_id,
        completed.order_date,
        completed.amount,
        case when completed.currency = $reporting_currency then 1 else rates.rate end as rate
    from completed
    asof left join reference.currency_rates as rates
        on rates.currency = completed.currency
        and rates.month <= completed.order_month
)
select
    year(order_date) as year,
    count(*) as completed_orders,
    count(distinct customer_id) as customers,
    count(*) filter (where rate is null) as orders_without_rate,
    case
        when count(*) filter (where rate is null) = 0
            then cast(round(sum(round(amount * rate, 2)) * 100) as bigint)
    end as revenue_cents
from converted
group by 1
order by 1
"""
)

# Per order id of raw or staging, how many raw rows its current version in staging names (one
# grouping over raw's ids and staging's: a join of staging with raw, then one count per order):
# every order must have exactly one.
RAW_ORDERS_WITHOUT_CURRENT_VERSION_SQL = """
with staged as (
    select staging.order_id, raw_orders.order_id is not null as names_raw_row
    from staging.stg_crm__orders as staging
    left join raw.orders as raw_orders
        on raw_orders.order_id = staging.order_id
        and raw_orders._load_id = staging.load_id
        and raw_orders._line = staging.line
),
versions as (
    select order_id, 0 as current_versions from raw.orders
    union all
    select order_id, case when names_raw_row then 1 else 0 end as current_versions from staged
),
per_order as (
    select order_id, sum(current_versions) as current_versions from versions group by order_id
)
select count(*) as orders
from per_order
where current_versions <> 1
"""

# The distinct valid responses of staging up to the as-of date of the build.
VALID_RESPONSES_SQL = """
select distinct
    response_id,
    customer_id,
    response_date,
    nps_score,
    ces_score,
    csat_score,
    cast($as_of_date as date) as as_of_date
from staging.stg_survey__survey_responses
where response_id is not null
    and customer_id is not null
    and response_date <= cast($as_of_date as date)
"""
STAGING_RESPONSES_SQL = f"with valid_responses as ({VALID_RESPONSES_SQL})\n"


# The customers with a completed order on or before the as-of date (staging.stg_crm__orders).
CUSTOMERS_WITH_COMPLETED_ORDERS_SQL = """
select distinct customer_id
from staging.stg_crm__orders
where order_status = 'completed' and order_date <= cast($as_of_date as date)
"""

# Each customer's distinct valid responses (after the CTE valid_responses).
RESPONSES_PER_CUSTOMER_SQL = (
    "select customer_id, count(distinct response_id) as responses from valid_responses group by customer_id"
)


@dataclass
class RawSide:
    """Independent recomputations for the reconciliations, on the open warehouse, with the run's
    parameters. Each method returns plain values or a DataFrame; a query that cannot run (a table is
    missing) raises, and the suite reports it as a failure.

    `cache` holds what was computed once for the whole validation (the runner gives every suite's
    RawSide the same dict): the yearly raw revenue serves the audit figures and the concentration,
    the customers with a completed order four marts."""

    con: duckdb.DuckDBPyConnection
    run: RunParameters
    cache: dict[str, Any] = field(default_factory=dict)

    def _once(self, name: str, compute: Callable[[], T]) -> T:
        if name not in self.cache:
            self.cache[name] = compute()
        return self.cache[name]

    def _temp_table(self, name: str, sql: str, **parameters: Any) -> str:
        """`sql` as a temporary table of this connection (created once per cache): its name."""

        def create() -> str:
            self.con.execute(f"create or replace temp table {name} as {sql}", parameters)
            return f"temp.{name}"

        return self._once(f"table {name}", create)

    # ----------------------------------------------------------------- raw: orders and revenue

    def completed_revenue_by_year(self) -> pd.DataFrame:
        """Completed-order revenue per year from raw.orders (see the module docstring): columns year,
        completed_orders, customers (distinct, as the raw rows name them), orders_without_rate, revenue_cents (null for a year with an order whose
        currency has no rate). Orders after the as-of date are left out."""
        frame = self._once(
            "completed_revenue_by_year",
            lambda: self.con.execute(
                RAW_REVENUE_BY_YEAR_SQL,
                {"reporting_currency": self.run.reporting_currency, "as_of_date": self.run.as_of_text},
            ).df(),
        )
        return frame.copy()

    def orders_without_current_version(self) -> int:
        """Orders of raw.orders (or staging) without exactly one current version that names a raw row:
        their revenue could not be dated, so it could not reconcile."""
        return self._once(
            "orders_without_current_version",
            lambda: int(self.con.execute(RAW_ORDERS_WITHOUT_CURRENT_VERSION_SQL).fetchone()[0]),
        )

    # ----------------------------------------------------------------- staging

    def valid_responses_table(self) -> str:
        """A temporary table of the distinct valid responses (VALID_RESPONSES_SQL), made once per
        validation: the responses per period, per customer and the judged answers read it."""
        return self._temp_table("validation_valid_responses", VALID_RESPONSES_SQL, as_of_date=self.run.as_of_text)

    def staging_responses(self, select: str, **parameters: Any) -> pd.DataFrame:
        """`select` after the CTE `valid_responses` (the distinct valid responses), as a DataFrame."""
        cte = f"with valid_responses as (select * from {self.valid_responses_table()})\n"
        return self.con.execute(cte + select, parameters).df()

    def _counts(self, select: str, **parameters: Any) -> dict[str, float]:
        frame = self.staging_responses(select, **parameters)
        return dict(zip(frame["key"], frame["n"].astype("float64")))

    def responses_per_period(self) -> dict[str, float]:
        """{'<grain> <period start>': distinct valid responses dated in it}, for the build's grains."""
        return self._counts(
            "select grain || ' ' || strftime(date_trunc(grain, response_date), '%Y-%m-%d') as key, "
            "count(distinct response_id) as n "
            "from valid_responses cross join (select unnest(cast($grains as varchar[])) as grain) as grains "
            "group by all",
            grains=list(self.run.period_grains),
        )

    def responses_per_customer_table(self) -> str:
        """A temporary table (customer_id, responses): each customer's distinct valid responses."""
        cte = f"with valid_responses as (select * from {self.valid_responses_table()})\n"
        return self._temp_table("validation_staging_responses_per_customer", cte + RESPONSES_PER_CUSTOMER_SQL)

    def responses_per_customer(self) -> dict[str, float]:
        """{customer_id: their distinct valid responses}."""
        rows = self.con.execute(f"select customer_id, responses from {self.responses_per_customer_table()}").fetchall()
        return {customer: float(responses) for customer, responses in rows}

    def judged_answers_per_score_type(self) -> dict[str, float]:
        """{score type: distinct valid responses carrying that score and at least W days old}."""
        return self._counts(
            """select score_type as key, count(distinct response_id) as n
               from valid_responses
               cross join (select unnest(cast($score_types as varchar[])) as score_type) as score_types
               where response_date + cast($window as integer) <= as_of_date
                   and case score_type
                           when 'nps' then nps_score when 'ces' then ces_score when 'csat' then csat_score
                       end is not null
               group by all""",
            score_types=list(self.run.score_categories),
            window=self.run.churn_window_days,
        )

    def contacts_per_month(self) -> dict[str, float]:
        """{'YYYY-MM-01': distinct contacts of staging dated in the month}, up to the as-of date."""
        frame = self.con.execute(
            """select strftime(date_trunc('month', contact_date), '%Y-%m-%d') as key,
                      count(distinct contact_id) as n
               from staging.stg_crm__contacts
               where contact_date <= cast($as_of_date as date)
               group by all""",
            {"as_of_date": self.run.as_of_text},
        ).df()
        return dict(zip(frame["key"], frame["n"].astype("float64")))

    def customers_with_completed_orders_table(self) -> str:
        """A temporary table (customer_id): the customers with a completed order on or before the
        as-of date in staging.stg_crm__orders (computed once per validation)."""
        return self._temp_table(
            "validation_customers_with_completed_orders",
            CUSTOMERS_WITH_COMPLETED_ORDERS_SQL,
            as_of_date=self.run.as_of_text,
        )

    def customers_with_completed_orders(self) -> set[str]:
        """Customer ids with a completed order on or before the as-of date in staging.stg_crm__orders."""
        rows = self.con.execute(f"select customer_id from {self.customers_with_completed_orders_table()}").fetchall()
        return {row[0] for row in rows}

    def marketing_spend(self) -> pd.DataFrame:
        """staging.stg_crm__marketing_spend up to the as-of date's month: month (YYYY-MM-DD), channel,
        cents."""
        return self.con.execute(
            """select strftime(spend_month, '%Y-%m-%d') as month, acquisition_channel as channel,
                      cast(round(spend_amount * 100) as bigint) as cents
               from staging.stg_crm__marketing_spend
               where spend_month <= date_trunc('month', cast($as_of_date as date))""",
            {"as_of_date": self.run.as_of_text},
        ).df()
