"""Suites of the personas and value marts: customer_personas, revenue_concentration,
acquisition_cost, customer_persona_history, persona_summary, persona_transitions
(docs/personas_and_value.md).

Keys, persona names and rules, monotone top shares, shares and the Gini coefficient in [0, 1] and
counts >= 0 are dbt's tests (docs/checks.md). These suites check what dbt cannot see by itself:
personas reconciled with the customers of staging, the yearly revenue and customers of the
concentration reconciled with raw.orders, spend reconciled with staging, plausibility and personal
data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.validation.common import (
    PLAUSIBILITY,
    RECONCILIATION_WITH_RAW,
    RECONCILIATION_WITH_STAGING,
    add_period_plausibility,
    cents,
    expect_no_personal_data_columns,
    expect_one_row_per_customer,
    expect_plausible_periods,
    has,
)
from flows.validation.registry import PrepareContext, register_suite
from flows.validation.suites.audit import add_raw_year_figures, expect_reconciled_with_raw_years
from flows.validation.summaries import customer_summary

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


# --------------------------------------------------------------------------- customer_personas


def read_customer_personas(ctx: PrepareContext) -> pd.DataFrame:
    """Not the personas (one row per customer) but the summary of their reconciliation with the
    customers of staging (one row, flows.validation.summaries): who has a persona without a
    completed order on or before the as-of date (staging.stg_crm__orders), who has a completed
    order and no persona."""
    return customer_summary(ctx, "customer_personas", [])


@register_suite("customer_personas", read=read_customer_personas, key_columns=("customer_id",))
def customer_personas_suite(gxe) -> list:
    """Personas (a summary of them): exactly the customers with a completed order in staging (none
    missing, none other; one each: the mart's primary key)."""
    return [
        gxe.ExpectColumnValuesToBeBetween(column="rows", min_value=1, notes=f"{PLAUSIBILITY}: there are personas."),
        *expect_one_row_per_customer(gxe, "customer_personas"),
        expect_no_personal_data_columns(),
    ]


# --------------------------------------------------------------------------- revenue_concentration


def prepare_revenue_concentration(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """Revenue in cents beside the year figures recomputed from raw (as for the audit figures)."""
    df = df.reset_index(drop=True)
    if has(df, "revenue"):
        df["revenue_cents"] = cents(df["revenue"])
    df = add_period_plausibility(df, ctx)
    return add_raw_year_figures(df, ctx)


@register_suite(
    "revenue_concentration",
    prepare=prepare_revenue_concentration,
    key_columns=("period_grain", "period_start"),
)
def revenue_concentration_suite(gxe) -> list:
    """Revenue concentration: the revenue and customers of every year reconciled with raw.orders."""
    from great_expectations.expectations.row_conditions import Column

    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1, notes=f"{PLAUSIBILITY}: the concentration is not empty."),
        *expect_reconciled_with_raw_years(gxe, orders_column=None),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="customers",
            column_B="raw_completed_customers",
            row_condition=Column("period_grain") == "year",
            notes=f"{RECONCILIATION_WITH_RAW}: the customers of every year = the customers of its completed raw orders.",
        ),
        *expect_plausible_periods(gxe, record=("period_grain", "period_start")),
        expect_no_personal_data_columns(),
    ]


# --------------------------------------------------------------------------- acquisition_cost


def prepare_acquisition_cost(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """The spend of staging.stg_crm__marketing_spend for each row (its month and channel; for 'all',
    the month's total; 0 when staging has none), as `staging_spend_cents`, beside the mart's
    `spend_cents`; `spend_key` (month|channel) and the parameter `staging_spend_keys`: every staging
    row up to the as-of date's month."""
    import pandas as pd

    staging = ctx.raw.marketing_spend()
    by_key = {(m, c): int(v) for m, c, v in zip(staging["month"], staging["channel"], staging["cents"])}
    by_month = staging.groupby("month")["cents"].sum().to_dict()
    ctx.parameters["staging_spend_keys"] = sorted(f"{m}|{c}" for m, c in by_key)
    df = df.reset_index(drop=True)
    if not has(df, "acquisition_month", "acquisition_channel", "spend_amount"):
        return df
    months = pd.to_datetime(df["acquisition_month"]).dt.strftime("%Y-%m-%d")
    channels = df["acquisition_channel"].astype(str)
    df["spend_key"] = months + "|" + channels
    df["spend_cents"] = cents(df["spend_amount"])
    df["staging_spend_cents"] = [
        float(by_month.get(m, 0)) if c == "all" else float(by_key.get((m, c), 0)) for m, c in zip(months, channels)
    ]
    return add_period_plausibility(df, ctx, "acquisition_month", None)


@register_suite(
    "acquisition_cost",
    prepare=prepare_acquisition_cost,
    key_columns=("acquisition_month", "acquisition_channel"),
)
def acquisition_cost_suite(gxe) -> list:
    """Acquisition cost: spend equals the staging spend per month and channel, none left out; CAC >= 0."""
    return [
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="spend_cents",
            column_B="staging_spend_cents",
            notes=(
                f"{RECONCILIATION_WITH_STAGING}: spend per month and channel (and per month for 'all') equals "
                "stg_crm__marketing_spend, to the cent."
            ),
        ),
        gxe.ExpectColumnDistinctValuesToContainSet(
            column="spend_key",
            value_set={"$PARAMETER": "staging_spend_keys"},
            notes=f"{RECONCILIATION_WITH_STAGING}: every staging spend row up to the as-of month has its row.",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="cac", min_value=0, notes=f"{PLAUSIBILITY}: an acquisition cost is not negative."
        ),
        *expect_plausible_periods(gxe, "acquisition_month", record=("acquisition_month", "acquisition_channel")),
        expect_no_personal_data_columns(),
    ]


# --------------------------------------------------------------------------- persona history, summary, transitions


def read_customer_persona_history(ctx: PrepareContext) -> pd.DataFrame:
    """Not the history (customers x months) but its snapshots: snapshot_month, customers."""
    return ctx.con.execute(
        """select snapshot_month, count(*) as customers
           from marts.customer_persona_history
           group by snapshot_month
           order by snapshot_month"""
    ).df()


def prepare_snapshots(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """The period gates on the snapshot months."""
    return add_period_plausibility(df.reset_index(drop=True), ctx, "snapshot_month", None)


@register_suite(
    "customer_persona_history",
    read=read_customer_persona_history,
    prepare=prepare_snapshots,
    key_columns=("customer_id", "snapshot_month"),
)
def customer_persona_history_suite(gxe) -> list:
    """Persona history (its snapshot months): plausible snapshot months; no personal data in any row."""
    return [
        *expect_plausible_periods(gxe, "snapshot_month"),
        expect_no_personal_data_columns(),
    ]


@register_suite("persona_summary", key_columns=("persona",))
def persona_summary_suite(gxe) -> list:
    """Persona summary: no personal data."""
    return [expect_no_personal_data_columns()]


@register_suite(
    "persona_transitions", prepare=prepare_snapshots, key_columns=("snapshot_month", "from_persona", "to_persona")
)
def persona_transitions_suite(gxe) -> list:
    """Persona transitions: plausible snapshot months; no personal data."""
    return [
        *expect_plausible_periods(gxe, "snapshot_month", record=("snapshot_month", "from_persona", "to_persona")),
        expect_no_personal_data_columns(),
    ]
