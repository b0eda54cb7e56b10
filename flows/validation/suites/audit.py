"""Suites of the audit marts: customer_audit_figures, acquisition_cohorts, customers
(docs/audit_figures.md).

The identities inside the warehouse (keys, balance identity, net new, active = new + existing,
revenue split, periods following on, counts not null and >= 0) are dbt's tests (docs/checks.md).
These suites check what dbt cannot see by itself: the yearly revenue and completed orders
reconciled with raw.orders, the columns BI reads, plausibility and personal data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.validation.common import (
    CONTRACT,
    PLAUSIBILITY,
    RECONCILIATION_WITH_RAW,
    cents,
    expect_integer_columns,
    expect_no_personal_data_columns,
    has,
)
from flows.validation.registry import PrepareContext, register_suite

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


def prepare_customer_audit_figures(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """Revenue in cents, beside the year figures recomputed from raw. Rows are sorted by
    (period_grain, period_start)."""
    if has(df, "period_grain", "period_start"):
        df = df.sort_values(["period_grain", "period_start"], kind="stable")
    df = df.reset_index(drop=True)
    if has(df, "revenue"):
        df["revenue_cents"] = cents(df["revenue"])
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
        expect_no_personal_data_columns(),
    ]


# --------------------------------------------------------------------------- acquisition_cohorts

COHORT_KEY = ["cohort_month", "acquisition_channel", "months_since_acquisition"]


@register_suite("acquisition_cohorts", key_columns=tuple(COHORT_KEY))
def acquisition_cohorts_suite(gxe) -> list:
    """Acquisition cohorts: the columns BI reads, not empty, no personal data."""
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
        expect_no_personal_data_columns(),
    ]


# --------------------------------------------------------------------------- customers


@register_suite("customers", key_columns=("customer_id",))
def customers_suite(gxe) -> list:
    """Customers: not empty, and no direct personal data."""
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1, notes=f"{PLAUSIBILITY}: there are customers."),
        expect_no_personal_data_columns(),
    ]
