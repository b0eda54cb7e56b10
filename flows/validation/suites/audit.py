"""Suites of the audit marts: customer_audit_figures, acquisition_cohorts, customers, orders
(docs/audit_figures.md).

The identities inside the warehouse (keys, balance identity, net new, active = new + existing,
revenue split, periods following on, counts not null and >= 0) are dbt's tests (docs/checks.md).
These suites check what dbt cannot see by itself: the yearly revenue and completed orders
reconciled with raw.orders, the columns BI reads, plausibility and personal data. The plausibility
gates (docs/checks.md) bound the share of the base lapsing in one month, the periods (none before
var earliest_plausible_date, at most max_periods_per_grain of a grain), the revenue of one order
and the as-of date (at most days_after_load_day days after the latest load day); a failure names
the record that broke the bound.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.validation.common import (
    CONTRACT,
    EARLIEST_PLAUSIBLE_DATE,
    PLAUSIBILITY,
    RECONCILIATION_WITH_RAW,
    add_period_plausibility,
    cents,
    expect_integer_columns,
    expect_no_personal_data_columns,
    expect_plausible_periods,
    expect_within,
    has,
)
from flows.validation.plausibility import EXTREME_ORDERS as EXTREME
from flows.validation.plausibility import latest_load_day, orders_summary
from flows.validation.registry import PrepareContext, register_suite
from flows.validation.summaries import rows_of

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

AUDIT_COUNT_COLUMNS = [
    "customers_start",
    "customers_end",
    "gross_new_customers",
    "reactivated_customers",
    "lost_customers",
    "active_customers",
    "active_new_customers",
    "active_existing_customers",
    "orders",
]
AUDIT_COLUMNS = [
    "period_grain", "period_start", "period_end", "is_complete",
    "customers_start", "customers_end", "gross_new_customers", "reactivated_customers",
    "lost_customers", "net_new_customers", "active_customers", "active_new_customers",
    "active_existing_customers", "orders", "revenue", "revenue_new_customers",
    "revenue_existing_customers", "revenue_per_new_customer", "revenue_per_existing_customer",
    "average_order_value",
]  # fmt: skip


def add_raw_year_figures(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """Beside every year row (period_grain 'year'), the figures of its year recomputed from raw
    (flows.validation.raw): `raw_completed_revenue_cents`, `raw_completed_orders`,
    `raw_completed_customers`, `raw_orders_without_rate`, `raw_orders_without_current_version` and `period_year`; the suite
    parameter `raw_revenue_years` (every year with completed raw orders). Shared by
    revenue_concentration (suites/personas.py)."""
    import pandas as pd

    if not has(df, "period_grain", "period_start"):
        return df
    is_year = df["period_grain"] == "year"
    period_year = pd.to_datetime(df["period_start"]).dt.year
    raw = ctx.raw
    try:
        by_year = raw.completed_revenue_by_year()
        without_version = float(raw.orders_without_current_version())
    except Exception as exc:  # e.g. no raw.orders, no reference.currency_rates, no staging.stg_crm__orders
        ctx.problem(f"revenue from raw.orders could not be computed: {type(exc).__name__}: {exc}")
        columns = ["year", "revenue_cents", "completed_orders", "customers", "orders_without_rate"]
        by_year = pd.DataFrame({column: [] for column in columns})
        without_version = float("nan")
        default = float("nan")
    else:
        default = 0.0  # a year without completed orders has revenue 0 and no orders

    def per_year(column: str, missing: float):
        values = {int(y): (float(v) if pd.notna(v) else float("nan")) for y, v in zip(by_year["year"], by_year[column])}
        return period_year.map(lambda y: values.get(int(y), missing) if pd.notna(y) else float("nan")).where(is_year)

    df["period_year"] = period_year.astype("float64").where(is_year)
    # a year with an order whose currency has no rate has no raw revenue (NaN) and so never reconciles
    df["raw_completed_revenue_cents"] = per_year("revenue_cents", default)
    df["raw_completed_orders"] = per_year("completed_orders", default)
    df["raw_completed_customers"] = per_year("customers", default)
    df["raw_orders_without_rate"] = per_year("orders_without_rate", 0.0)
    df["raw_orders_without_current_version"] = pd.Series(without_version, index=df.index).where(is_year)
    ctx.parameters["raw_revenue_years"] = sorted(int(y) for y in by_year["year"])
    return df


def expect_reconciled_with_raw_years(gxe, orders_column: str | None = "orders") -> list:
    """The year rows' revenue (and completed orders) equal raw's, every raw year has a row, every
    raw order has a rate and a current version."""
    from great_expectations.expectations.row_conditions import Column

    year_rows = Column("period_grain") == "year"
    expectations = [
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="revenue_cents",
            column_B="raw_completed_revenue_cents",
            row_condition=year_rows,
            notes=(
                f"{RECONCILIATION_WITH_RAW}: the revenue of every year equals the completed-order revenue "
                "recomputed from raw.orders (the current version of each order, as staging names it) and "
                "reference.currency_rates, to the cent."
            ),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="raw_orders_without_rate",
            max_value=0,
            row_condition=year_rows,
            notes=(
                f"{RECONCILIATION_WITH_RAW}: every completed raw order of the year has an exchange rate "
                "(else its revenue cannot reconcile)."
            ),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="raw_orders_without_current_version",
            max_value=0,
            row_condition=year_rows,
            notes=(
                f"{RECONCILIATION_WITH_RAW}: every order of raw.orders has exactly one current version in "
                "staging.stg_crm__orders that names a raw row (else it cannot be dated and reconciled)."
            ),
        ),
        gxe.ExpectColumnDistinctValuesToContainSet(
            column="period_year",
            value_set={"$PARAMETER": "raw_revenue_years"},
            row_condition=year_rows,
            notes=f"{RECONCILIATION_WITH_RAW}: every year with completed orders in raw.orders has a year row.",
        ),
    ]
    if orders_column:
        expectations.insert(
            1,
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A=orders_column,
                column_B="raw_completed_orders",
                row_condition=year_rows,
                notes=f"{RECONCILIATION_WITH_RAW}: the completed orders of every year equal raw's.",
            ),
        )
    return expectations


# --------------------------------------------------------------------------- customer_audit_figures


MAX_MONTHLY_LAPSE_SHARE = "max_monthly_lapse_share"


def add_monthly_lapse_share(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """`monthly_lapse_share` = lost_customers / customers_start on the month rows whose base held at
    least var lapse_share_min_customers_start customers (NaN elsewhere: not judged); the bound
    max_monthly_lapse_share as a suite parameter."""
    run = ctx.run
    ctx.parameters[MAX_MONTHLY_LAPSE_SHARE] = run.max_monthly_lapse_share
    if not has(df, "period_grain", "lost_customers", "customers_start"):
        return df
    start = df["customers_start"].astype("float64")
    judged = (df["period_grain"] == "month") & (start >= max(run.lapse_share_min_customers_start, 1))
    df["monthly_lapse_share"] = (df["lost_customers"].astype("float64") / start).where(judged)
    return df


def prepare_customer_audit_figures(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """Revenue in cents, beside the year figures recomputed from raw; the monthly lapse share and
    the period gates. Rows are sorted by (period_grain, period_start)."""
    if has(df, "period_grain", "period_start"):
        df = df.sort_values(["period_grain", "period_start"], kind="stable")
    df = df.reset_index(drop=True)
    if has(df, "revenue"):
        df["revenue_cents"] = cents(df["revenue"])
    df = add_monthly_lapse_share(df, ctx)
    df = add_period_plausibility(df, ctx)
    return add_raw_year_figures(df, ctx)


@register_suite(
    "customer_audit_figures",
    prepare=prepare_customer_audit_figures,
    key_columns=("period_grain", "period_start"),
)
def customer_audit_figures_suite(gxe) -> list:
    """Audit figures: yearly revenue and completed orders reconciled with raw.orders; columns; no personal data."""
    return [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=AUDIT_COLUMNS,
            exact_match=False,
            notes=f"{CONTRACT}: every column of the audit figures is present.",
        ),
        gxe.ExpectTableRowCountToBeBetween(min_value=1, notes=f"{PLAUSIBILITY}: the audit figures are not empty."),
        *expect_reconciled_with_raw_years(gxe),
        *expect_integer_columns(gxe, AUDIT_COUNT_COLUMNS),
        expect_within(
            gxe,
            "monthly_lapse_share",
            "the share of the base lapsing in one month (lost_customers / customers_start, months starting "
            f"with at least var lapse_share_min_customers_start customers) is at most var {MAX_MONTHLY_LAPSE_SHARE}.",
            max_parameter=MAX_MONTHLY_LAPSE_SHARE,
            record=("period_start", "lost_customers", "customers_start"),
        ),
        *expect_plausible_periods(gxe, record=("period_grain", "period_start")),
        expect_no_personal_data_columns(),
    ]


# --------------------------------------------------------------------------- acquisition_cohorts

COHORT_KEY = ["cohort_month", "acquisition_channel", "months_since_acquisition"]


def prepare_acquisition_cohorts(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """The period gates on the cohort months."""
    return add_period_plausibility(df.reset_index(drop=True), ctx, "cohort_month", None)


@register_suite("acquisition_cohorts", prepare=prepare_acquisition_cohorts, key_columns=tuple(COHORT_KEY))
def acquisition_cohorts_suite(gxe) -> list:
    """Acquisition cohorts: the columns BI reads, not empty, plausible cohort months, no personal data."""
    return [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=[
                *COHORT_KEY,
                "cohort_size",
                "active_customers",
                "retention_rate",
                "revenue",
                "cumulative_revenue_per_customer",
            ],
            exact_match=False,
            notes=f"{CONTRACT}: every column of the cohorts is present.",
        ),
        gxe.ExpectTableRowCountToBeBetween(min_value=1, notes=f"{PLAUSIBILITY}: the cohorts are not empty."),
        *expect_integer_columns(gxe, ["months_since_acquisition", "cohort_size", "active_customers"]),
        *expect_plausible_periods(gxe, "cohort_month", record=("cohort_month", "acquisition_channel")),
        expect_no_personal_data_columns(),
    ]


# --------------------------------------------------------------------------- customers


def read_customers(ctx: PrepareContext) -> pd.DataFrame:
    """Not the customers but their number (one row, `rows`): what the suite checks beyond the
    personal-data scan, which the runner runs on the mart itself."""
    import pandas as pd

    return pd.DataFrame({"rows": [rows_of(ctx.con, "marts.customers")]})


@register_suite("customers", read=read_customers, key_columns=("customer_id",), needs_run_parameters=False)
def customers_suite(gxe) -> list:
    """Customers (their number): not empty, and no direct personal data."""
    return [
        gxe.ExpectColumnValuesToBeBetween(column="rows", min_value=1, notes=f"{PLAUSIBILITY}: there are customers."),
        expect_no_personal_data_columns(),
    ]


# --------------------------------------------------------------------------- orders

MIN_REVENUE_PER_ORDER = "min_revenue_per_order"
MAX_REVENUE_PER_ORDER = "max_revenue_per_order"
LATEST_PLAUSIBLE_DAY = "latest_plausible_day"


def read_orders(ctx: PrepareContext) -> pd.DataFrame:
    """Not the orders mart (10M rows) but its bounded summary (flows.validation.plausibility): the
    completed orders with the highest and lowest revenue, the latest and earliest orders and the
    as-of date; the bounds as suite parameters (the vars, and the latest load day of
    raw.load_manifest + var days_after_load_day)."""
    import datetime as dt

    import pandas as pd

    run = ctx.run
    ctx.parameters[MIN_REVENUE_PER_ORDER] = run.min_revenue_per_order
    ctx.parameters[MAX_REVENUE_PER_ORDER] = run.max_revenue_per_order
    ctx.parameters[EARLIEST_PLAUSIBLE_DATE] = pd.Timestamp(run.earliest_plausible_date)
    load_day = latest_load_day(ctx.con)
    if load_day is None:
        ctx.problem("raw.load_manifest records no load: the as-of date cannot be checked against the load day")
        ctx.parameters[LATEST_PLAUSIBLE_DAY] = None
    else:
        latest = load_day + dt.timedelta(days=run.days_after_load_day)
        ctx.parameters[LATEST_PLAUSIBLE_DAY] = pd.Timestamp(latest)
    return orders_summary(ctx.con)


@register_suite("orders", read=read_orders, key_columns=("order_id",))
def orders_suite(gxe) -> list:
    """Orders (a bounded summary of them): plausible revenue per order and dates, a plausible as-of
    date, no personal data."""
    return [
        expect_within(
            gxe,
            "revenue",
            f"the revenue of every completed order lies within var {MIN_REVENUE_PER_ORDER} and var "
            f"{MAX_REVENUE_PER_ORDER} (checked on the {EXTREME} highest and lowest).",
            min_parameter=MIN_REVENUE_PER_ORDER,
            max_parameter=MAX_REVENUE_PER_ORDER,
            record=("record",),
        ),
        expect_within(
            gxe,
            "day",
            "neither the as-of date nor any order lies after the latest load day (raw.load_manifest) + var "
            f"days_after_load_day, or before var {EARLIEST_PLAUSIBLE_DATE} (checked on the as-of date and the "
            f"{EXTREME} latest and earliest orders).",
            min_parameter=EARLIEST_PLAUSIBLE_DATE,
            max_parameter=LATEST_PLAUSIBLE_DAY,
            max_label="latest_load_day+days_after_load_day",
            record=("record",),
        ),
        expect_no_personal_data_columns(),
    ]
