"""Suites of the customer-value marts (docs/customer_value.md): clv_model_parameters,
customer_lifetime_value, clv_holdout_validation, customer_equity, customer_engagement_value,
customer_profitability.

The model marts come out of a numerical fit (dbt Python models, flows/clv), not a SQL formula, so
their sanity is checked here before anything is published: parameters positive and finite, every
fit converged, P(alive) in [0, 1], CLV and expected spend not negative; the engagement and
profitability components add up to their totals (to the cent); one row per customer with a
completed order in staging. Keys and not-null are dbt's tests (docs/checks.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.validation.common import (
    PLAUSIBILITY,
    RECONCILIATION_WITH_STAGING,
    cents,
    expect_no_personal_data_columns,
    has,
)
from flows.validation.registry import PrepareContext, register_suite

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MODEL_SANITY = "Model sanity"
IDENTITY = "Identity"


def add_customers_with_completed_orders(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """`has_completed_order` per row and the parameter `customers_with_completed_orders` (staging)."""
    expected = ctx.raw.customers_with_completed_orders()
    df = df.reset_index(drop=True)
    ctx.parameters["customers_with_completed_orders"] = len(expected)
    if has(df, "customer_id"):
        df["has_completed_order"] = df["customer_id"].isin(expected)
    return df


def expect_one_row_per_customer(gxe, mart: str) -> list:
    return [
        gxe.ExpectColumnValuesToBeInSet(
            column="has_completed_order",
            value_set=[True],
            notes=f"{RECONCILIATION_WITH_STAGING}: only customers with a completed order up to the as-of date are in {mart}.",
        ),
        gxe.ExpectTableRowCountToEqual(
            value={"$PARAMETER": "customers_with_completed_orders"},
            notes=f"{RECONCILIATION_WITH_STAGING}: one row per customer with a completed order (staging orders).",
        ),
    ]


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


@register_suite("customer_lifetime_value", prepare=add_customers_with_completed_orders, key_columns=("customer_id",))
def customer_lifetime_value_suite(gxe) -> list:
    """Lifetime value: one row per customer with a completed order; P(alive) in [0, 1]; CLV >= 0."""
    return [
        *expect_one_row_per_customer(gxe, "customer_lifetime_value"),
        gxe.ExpectColumnValuesToBeBetween(
            column="p_alive", min_value=0, max_value=1, notes=f"{MODEL_SANITY}: P(alive) is a probability."
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="p_alive", notes=f"{MODEL_SANITY}: every customer has a P(alive)."),
        gxe.ExpectColumnValuesToBeBetween(column="clv", min_value=0, notes=f"{MODEL_SANITY}: a CLV is not negative."),
        gxe.ExpectColumnValuesToNotBeNull(column="clv", notes=f"{MODEL_SANITY}: every customer has a CLV."),
        gxe.ExpectColumnValuesToBeBetween(
            column="expected_spend_per_purchase",
            min_value=0,
            notes=f"{MODEL_SANITY}: the expected spend per purchase is not negative.",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="expected_purchases_horizon",
            min_value=0,
            notes=f"{MODEL_SANITY}: expected purchases are not negative.",
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


# --------------------------------------------------------------------------- engagement and profitability


def prepare_customer_engagement_value(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """The total and the sum of its components in cents (`total_cents`, `components_cents`)."""
    df = add_customers_with_completed_orders(df, ctx)
    if has(df, "engagement_value", "lifetime_value", "referral_value", "network_value", "knowledge_value"):
        df["total_cents"] = cents(df["engagement_value"])
        df["components_cents"] = (
            cents(df["lifetime_value"])
            + cents(df["referral_value"])
            + cents(df["network_value"])
            + cents(df["knowledge_value"])
        )
    return df


@register_suite("customer_engagement_value", prepare=prepare_customer_engagement_value, key_columns=("customer_id",))
def customer_engagement_value_suite(gxe) -> list:
    """Engagement value: one row per customer; lifetime + referral + network + knowledge = total."""
    return [
        *expect_one_row_per_customer(gxe, "customer_engagement_value"),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="total_cents",
            column_B="components_cents",
            notes=f"{IDENTITY}: lifetime + referral + network + knowledge value = engagement value, to the cent.",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="engagement_value", min_value=0, notes=f"{MODEL_SANITY}: an engagement value is not negative."
        ),
        expect_no_personal_data_columns(),
    ]


def prepare_customer_profitability(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """Profit and revenue - cost of goods - service cost - acquisition cost in cents."""
    df = add_customers_with_completed_orders(df, ctx)
    if has(df, "profit", "revenue", "cost_of_goods", "service_cost", "acquisition_cost"):
        df["profit_cents"] = cents(df["profit"])
        df["components_cents"] = (
            cents(df["revenue"])
            - cents(df["cost_of_goods"])
            - cents(df["service_cost"])
            - cents(df["acquisition_cost"])
        )
    return df


@register_suite("customer_profitability", prepare=prepare_customer_profitability, key_columns=("customer_id",))
def customer_profitability_suite(gxe) -> list:
    """Profitability: one row per customer; revenue - cost of goods - service - acquisition cost = profit."""
    return [
        *expect_one_row_per_customer(gxe, "customer_profitability"),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="profit_cents",
            column_B="components_cents",
            notes=f"{IDENTITY}: revenue - cost of goods - service cost - acquisition cost = profit, to the cent.",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="cost_of_goods", min_value=0, notes=f"{PLAUSIBILITY}: a cost of goods is not negative."
        ),
        expect_no_personal_data_columns(),
    ]
