"""Suites of the customer-value marts (docs/customer_value.md): clv_model_parameters,
customer_lifetime_value, clv_holdout_validation, customer_equity, acquisition_channel_value,
customer_engagement_value, customer_profitability.

The model marts come out of a numerical fit (dbt Python models, flows/clv), not a SQL formula, so
their sanity is checked here before anything is published: parameters positive and finite, every
fit converged, P(alive) in [0, 1], CLV and expected spend not negative; the engagement and
profitability components add up to their totals (to the cent); one row per customer with a
completed order in staging. Keys and not-null are dbt's tests and contract constraints
(docs/checks.md).

The marts of one row per customer are never read into pandas: their rules are checked in DuckDB
(flows.validation.summaries), and GX validates the summary, one row of counts of the rows that
break each rule with the first of them named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.validation.common import (
    PLAUSIBILITY,
    expect_no_personal_data_columns,
    expect_no_violations,
    expect_one_row_per_customer,
    has,
)
from flows.validation.registry import PrepareContext, register_suite
from flows.validation.summaries import RowCheck, customer_summary

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MODEL_SANITY = "Model sanity"
IDENTITY = "Identity"


# --------------------------------------------------------------------------- clv_model_parameters


def prepare_clv_model_parameters(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """`estimate_is_finite`: the estimate is a finite number (not null, NaN or infinite)."""
    import numpy as np
    import pandas as pd

    df = df.reset_index(drop=True)
    if has(df, "estimate"):
        values = pd.to_numeric(df["estimate"], errors="coerce").astype("float64")
        df["estimate_is_finite"] = np.isfinite(values.to_numpy())
    return df


@register_suite(
    "clv_model_parameters",
    prepare=prepare_clv_model_parameters,
    key_columns=("model", "parameter"),
    needs_run_parameters=False,
)
def clv_model_parameters_suite(gxe) -> list:
    """Model parameters: seven, positive and finite, every fit converged."""
    return [
        gxe.ExpectTableRowCountToEqual(
            value=7, notes=f"{MODEL_SANITY}: r, alpha, a, b of BG/NBD and p, q, gamma of Gamma-Gamma."
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="estimate_is_finite", value_set=[True], notes=f"{MODEL_SANITY}: every parameter is a finite number."
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="estimate", min_value=0, strict_min=True, notes=f"{MODEL_SANITY}: every parameter is positive."
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="converged",
            value_set=[True],
            notes=f"{MODEL_SANITY}: the maximum likelihood fit converged (see fit_message when not).",
        ),
        expect_no_personal_data_columns(),
    ]


# --------------------------------------------------------------------------- customer_lifetime_value


def read_customer_lifetime_value(ctx: PrepareContext) -> pd.DataFrame:
    """Not the customers but the summary of the model's sanity on them (one row)."""
    return customer_summary(
        ctx,
        "customer_lifetime_value",
        [
            RowCheck("p_alive_outside_0_1", "p_alive < 0 or p_alive > 1", ("p_alive",)),
            RowCheck("negative_clv", "clv < 0", ("clv",)),
            RowCheck("negative_expected_spend", "expected_spend_per_purchase < 0", ("expected_spend_per_purchase",)),
            RowCheck("negative_expected_purchases", "expected_purchases_horizon < 0", ("expected_purchases_horizon",)),
        ],
    )


@register_suite("customer_lifetime_value", read=read_customer_lifetime_value, key_columns=("customer_id",))
def customer_lifetime_value_suite(gxe) -> list:
    """Lifetime value (a summary of it): one row per customer with a completed order; P(alive) in
    [0, 1]; CLV, expected spend and purchases not negative (not null: the contract's constraints)."""
    return [
        *expect_one_row_per_customer(gxe, "customer_lifetime_value"),
        expect_no_violations(gxe, "p_alive_outside_0_1", f"{MODEL_SANITY}: P(alive) is a probability."),
        expect_no_violations(gxe, "negative_clv", f"{MODEL_SANITY}: a CLV is not negative."),
        expect_no_violations(
            gxe, "negative_expected_spend", f"{MODEL_SANITY}: the expected spend per purchase is not negative."
        ),
        expect_no_violations(
            gxe, "negative_expected_purchases", f"{MODEL_SANITY}: expected purchases are not negative."
        ),
        expect_no_personal_data_columns(),
    ]


# --------------------------------------------------------------------------- clv_holdout_validation


@register_suite("clv_holdout_validation", key_columns=("check_type", "row_order"))
def clv_holdout_validation_suite(gxe) -> list:
    """Holdout check (empty without a holdout): actual and expected purchases not negative."""
    return [
        gxe.ExpectColumnValuesToBeBetween(
            column="expected_repeat_purchases",
            min_value=0,
            notes=f"{MODEL_SANITY}: expected repeat purchases are not negative.",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="actual_repeat_purchases", min_value=0, notes=f"{PLAUSIBILITY}: purchases are not negative."
        ),
        expect_no_personal_data_columns(),
    ]


# --------------------------------------------------------------------------- customer_equity


@register_suite("customer_equity", key_columns=("acquisition_month", "acquisition_channel"))
def customer_equity_suite(gxe) -> list:
    """Customer equity: not empty; CLV and CLV / CAC not negative."""
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1, notes=f"{PLAUSIBILITY}: there are acquisition months."),
        gxe.ExpectColumnValuesToBeBetween(
            column="customer_equity", min_value=0, notes=f"{MODEL_SANITY}: customer equity is not negative."
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="clv_to_cac", min_value=0, notes=f"{MODEL_SANITY}: CLV / CAC is not negative."
        ),
        expect_no_personal_data_columns(),
    ]


# --------------------------------------------------------------------------- acquisition_channel_value


@register_suite("acquisition_channel_value", key_columns=("acquisition_channel",))
def acquisition_channel_value_suite(gxe) -> list:
    """CLV / CAC per channel: not empty; customer equity, CAC and CLV / CAC not negative; the customers
    of the months with a CAC are some of the channel's new customers."""
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1, notes=f"{PLAUSIBILITY}: there are acquisition channels."),
        gxe.ExpectColumnValuesToBeBetween(
            column="customer_equity", min_value=0, notes=f"{MODEL_SANITY}: customer equity is not negative."
        ),
        gxe.ExpectColumnValuesToBeBetween(column="cac", min_value=0, notes=f"{IDENTITY}: CAC is not negative."),
        gxe.ExpectColumnValuesToBeBetween(
            column="clv_to_cac", min_value=0, notes=f"{MODEL_SANITY}: CLV / CAC is not negative."
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="new_customers",
            column_B="customers_with_cac",
            or_equal=True,
            notes=f"{IDENTITY}: the customers of the months with a CAC are some of the channel's customers.",
        ),
        expect_no_personal_data_columns(),
    ]


# --------------------------------------------------------------------------- engagement and profitability


def cents_sql(column: str) -> str:
    """SQL: an amount as whole cents (so that sums compare to the cent)."""
    return f"round({column} * 100)"


def read_customer_engagement_value(ctx: PrepareContext) -> pd.DataFrame:
    """The summary (one row): one row per customer; lifetime + referral + network + knowledge value
    = engagement value to the cent; no negative engagement value."""
    components = " + ".join(
        cents_sql(c) for c in ("lifetime_value", "referral_value", "network_value", "knowledge_value")
    )
    return customer_summary(
        ctx,
        "customer_engagement_value",
        [
            RowCheck(
                "components_not_adding_up",
                f"{cents_sql('engagement_value')} <> {components}",
                ("engagement_value", "lifetime_value", "referral_value", "network_value", "knowledge_value"),
            ),
            RowCheck("negative_engagement_value", "engagement_value < 0", ("engagement_value",)),
        ],
    )


@register_suite("customer_engagement_value", read=read_customer_engagement_value, key_columns=("customer_id",))
def customer_engagement_value_suite(gxe) -> list:
    """Engagement value (a summary of it): one row per customer; lifetime + referral + network +
    knowledge = total."""
    return [
        *expect_one_row_per_customer(gxe, "customer_engagement_value"),
        expect_no_violations(
            gxe,
            "components_not_adding_up",
            f"{IDENTITY}: lifetime + referral + network + knowledge value = engagement value, to the cent.",
        ),
        expect_no_violations(gxe, "negative_engagement_value", f"{MODEL_SANITY}: an engagement value is not negative."),
        expect_no_personal_data_columns(),
    ]


def read_customer_profitability(ctx: PrepareContext) -> pd.DataFrame:
    """The summary (one row): one row per customer; revenue - cost of goods - service cost -
    acquisition cost = profit to the cent; no negative cost of goods."""
    components = (
        f"{cents_sql('revenue')} - {cents_sql('cost_of_goods')} - {cents_sql('service_cost')} "
        f"- {cents_sql('acquisition_cost')}"
    )
    return customer_summary(
        ctx,
        "customer_profitability",
        [
            RowCheck(
                "components_not_adding_up",
                f"{cents_sql('profit')} <> {components}",
                ("profit", "revenue", "cost_of_goods", "service_cost", "acquisition_cost"),
            ),
            RowCheck("negative_cost_of_goods", "cost_of_goods < 0", ("cost_of_goods",)),
        ],
    )


@register_suite("customer_profitability", read=read_customer_profitability, key_columns=("customer_id",))
def customer_profitability_suite(gxe) -> list:
    """Profitability (a summary of it): one row per customer; revenue - cost of goods - service -
    acquisition cost = profit."""
    return [
        *expect_one_row_per_customer(gxe, "customer_profitability"),
        expect_no_violations(
            gxe,
            "components_not_adding_up",
            f"{IDENTITY}: revenue - cost of goods - service cost - acquisition cost = profit, to the cent.",
        ),
        expect_no_violations(gxe, "negative_cost_of_goods", f"{PLAUSIBILITY}: a cost of goods is not negative."),
        expect_no_personal_data_columns(),
    ]
