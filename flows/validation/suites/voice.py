"""Suites of the voice marts: survey_scores, customer_loyalty_scores, satisfaction_vs_loyalty,
service_effort (docs/voice_of_the_customer.md).

Keys, categories, shares in [0, 1], NPS in [-100, 100], categories adding up, counts not null and
>= 0, and every mart on the run's as-of date are dbt's tests (docs/checks.md). These suites check
what dbt cannot see by itself: responses, judged answers and contacts reconciled with the distinct
valid records of staging up to the build's as-of date (flows.validation.raw), the columns BI reads,
the plausibility of scores (within their answer scales) and personal data.

A company without a survey tool or a service desk exports no survey_responses or contacts: the
marts made of them are then published empty, and their suites check exactly that (`built_from`,
`expect_rows_unless_not_exported`); an export whose rows never reach the mart still fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.validation.common import (
    CONTRACT,
    PLAUSIBILITY,
    RECONCILIATION_WITH_STAGING,
    add_period_plausibility,
    expect_integer_columns,
    expect_no_personal_data_columns,
    expect_no_violations,
    expect_plausible_periods,
    expect_reconciled,
    expect_rows_unless_not_exported,
    expect_summary_rows,
    has,
    staging_figures,
)
from flows.validation.registry import PrepareContext, register_suite
from flows.validation.summaries import RowCheck, contract_summary, summarize_rows

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

VOICE_COUNT_COLUMNS = {
    "survey_scores": ["responses", "nps_answers", "promoters", "passives", "detractors", "ces_answers", "csat_answers"],
    "customer_loyalty_scores": ["responses", "nps_answers", "ces_answers", "csat_answers", "rolling_nps_answers"],
    "satisfaction_vs_loyalty": ["answers", "customers", "repurchased_answers", "lapsed_answers"],
    "service_effort": [
        "contacts", "customers", "repeatedly_passed_on_contacts", "resolution_known_contacts", "repeat_contacts",
        "ces_answers", "effortful_contacts", "effortful_contacts_judged", "easy_contacts_judged",
        "effortful_nps_answers", "easy_nps_answers",
    ],
}  # fmt: skip
#: Plausibility: scores and their means lie in the answer scales (NPS answers 0-10, CES 1-7, CSAT 1-5).
VOICE_SCORE_RANGES = {
    "survey_scores": {"ces_mean": (1, 7), "csat_mean": (1, 5)},
    "customer_loyalty_scores": {
        "latest_nps_score": (0, 10), "previous_nps_score": (0, 10), "nps_change": (-10, 10),
        "rolling_nps_mean": (0, 10), "latest_ces_score": (1, 7), "latest_csat_score": (1, 5),
    },
    "service_effort": {"ces_mean": (1, 7)},
}  # fmt: skip


def _voice_common(gxe, mart: str, key: list[str], columns: list[str]) -> list:
    """Columns, integer counts, not empty, plausible scores and no personal data in a voice mart."""
    expectations = [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=[*key, *columns], exact_match=False, notes=f"{CONTRACT}: every column BI reads is present."
        ),
        expect_rows_unless_not_exported(gxe, mart),
        *expect_integer_columns(gxe, VOICE_COUNT_COLUMNS.get(mart, [])),
        expect_no_personal_data_columns(),
    ]
    for column, (low, high) in VOICE_SCORE_RANGES.get(mart, {}).items():
        expectations.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=low,
                max_value=high,
                notes=f"{PLAUSIBILITY}: {column} lies in the answer scale {low}-{high}.",
            )
        )
    return expectations


# --------------------------------------------------------------------------- survey_scores

SURVEY_SCORES_KEY = ["period_grain", "period_start", "touchpoint_type", "channel"]


def prepare_survey_scores(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """The responses of staging per period (the build's grains) beside the 'all' x 'all' rows."""
    import pandas as pd

    df = df.reset_index(drop=True)
    if not has(df, "period_grain", "period_start", "touchpoint_type", "channel"):
        return df
    df["period_key"] = df["period_grain"].astype(str) + " " + pd.to_datetime(df["period_start"]).dt.strftime("%Y-%m-%d")
    counts = staging_figures(ctx, "responses per period", ctx.raw.responses_per_period) or {}
    is_total = (df["touchpoint_type"] == "all") & (df["channel"] == "all")
    df["staging_responses"] = df["period_key"].map(lambda k: counts.get(k, 0.0)).where(is_total)
    ctx.parameters["staging_response_periods"] = sorted(counts)
    return add_period_plausibility(df, ctx)


@register_suite(
    "survey_scores",
    prepare=prepare_survey_scores,
    key_columns=tuple(SURVEY_SCORES_KEY),
    built_from=("survey_responses",),
)
def survey_scores_suite(gxe) -> list:
    """Survey scores: responses of every period = staging; columns; plausible scores; no personal data."""
    from great_expectations.expectations.row_conditions import Column

    total_rows = (Column("touchpoint_type") == "all") & (Column("channel") == "all")
    return [
        *_voice_common(
            gxe,
            "survey_scores",
            SURVEY_SCORES_KEY,
            ["responses", "nps_answers", "promoters", "passives", "detractors", "nps", "ces_mean", "csat_score"],
        ),
        *expect_reconciled(
            gxe,
            "responses",
            "staging_responses",
            "period_key",
            "staging_response_periods",
            "the responses of every period = the distinct valid responses of staging dated in it.",
            row_condition=total_rows,
        ),
        *expect_plausible_periods(gxe, record=("period_grain", "period_start", "touchpoint_type", "channel")),
    ]


# --------------------------------------------------------------------------- customer_loyalty_scores


LOYALTY_COLUMNS = ["responses", "latest_nps_score", "latest_nps_category", "rolling_nps_category", "nps_change"]


def read_customer_loyalty_scores(ctx: PrepareContext) -> pd.DataFrame:
    """Not the customers who answered but the summary of their checks (one row,
    flows.validation.summaries): the mart's rows full-outer-joined with each customer's distinct
    valid responses in staging (flows.validation.raw); the answer scales; the columns BI reads."""
    import pandas as pd

    mart = "customer_loyalty_scores"
    staging = ctx.raw.responses_per_customer_table()
    source = f"""(
        select
            coalesce(mart.customer_id, staging.customer_id) as customer_id,
            mart.customer_id is not null as in_mart,
            staging.customer_id is not null as in_staging,
            coalesce(staging.responses, 0) as staging_responses,
            mart.* exclude (customer_id)
        from marts.{mart} as mart
        full outer join {staging} as staging on mart.customer_id = staging.customer_id
    )"""
    checks = [
        RowCheck(
            "responses_not_as_in_staging",
            "in_mart and responses is distinct from staging_responses",
            ("responses", "staging_responses"),
        ),
        RowCheck("staging_customers_without_row", "in_staging and not in_mart", ("staging_responses",)),
        *(
            RowCheck(f"{column}_outside_scale", f"{column} < {low} or {column} > {high}", (column,))
            for column, (low, high) in VOICE_SCORE_RANGES[mart].items()
        ),
    ]
    summary = summarize_rows(ctx.con, source, ("customer_id",), checks, rows="in_mart")
    contract = contract_summary(ctx.con, "marts", mart, ["customer_id", *LOYALTY_COLUMNS], VOICE_COUNT_COLUMNS[mart])
    return pd.concat([summary, pd.DataFrame(contract)], axis=1)


@register_suite(
    "customer_loyalty_scores",
    read=read_customer_loyalty_scores,
    key_columns=("customer_id",),
    built_from=("survey_responses",),
)
def customer_loyalty_scores_suite(gxe) -> list:
    """Customer loyalty scores (a summary of them): one row per customer who answered in staging,
    responses = staging; plausible scores; the columns BI reads."""
    mart = "customer_loyalty_scores"
    return [
        expect_no_violations(gxe, "missing_columns", f"{CONTRACT}: every column BI reads is present."),
        expect_no_violations(
            gxe, "non_integer_columns", f"{CONTRACT}: the counts are whole numbers (an integer type)."
        ),
        expect_summary_rows(gxe, mart),
        expect_no_personal_data_columns(),
        *(
            expect_no_violations(
                gxe,
                f"{column}_outside_scale",
                f"{PLAUSIBILITY}: {column} lies in the answer scale {low}-{high}.",
            )
            for column, (low, high) in VOICE_SCORE_RANGES[mart].items()
        ),
        expect_no_violations(
            gxe,
            "responses_not_as_in_staging",
            f"{RECONCILIATION_WITH_STAGING}: each customer's responses = their distinct valid responses in staging.",
        ),
        expect_no_violations(
            gxe,
            "staging_customers_without_row",
            f"{RECONCILIATION_WITH_STAGING}: every customer with a valid response in staging has a row.",
        ),
    ]


# --------------------------------------------------------------------------- satisfaction_vs_loyalty


def prepare_satisfaction_vs_loyalty(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """Answers per score type summed over categories, beside the judged answers of staging (W = the
    build's churn window)."""
    df = df.reset_index(drop=True)
    answers = staging_figures(ctx, "judged answers", ctx.raw.judged_answers_per_score_type) or {}
    if has(df, "score_type", "answers"):
        df["score_type_answers"] = df.groupby("score_type")["answers"].transform("sum").astype("float64")
        df["staging_judged_answers"] = df["score_type"].map(lambda s: answers.get(s, 0.0))
    ctx.parameters["judged_score_types"] = sorted(answers)
    return df


@register_suite(
    "satisfaction_vs_loyalty",
    prepare=prepare_satisfaction_vs_loyalty,
    key_columns=("score_type", "category"),
    built_from=("survey_responses",),
)
def satisfaction_vs_loyalty_suite(gxe) -> list:
    """Satisfaction vs loyalty: answers of a score type = judged answers of staging; revenue >= 0."""
    return [
        *_voice_common(
            gxe,
            "satisfaction_vs_loyalty",
            ["score_type", "category"],
            ["answers", "repurchase_share", "lapse_share", "revenue_per_customer"],
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="revenue_per_answer", min_value=0, notes=f"{PLAUSIBILITY}: revenue after an answer is not negative."
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="revenue_per_customer",
            min_value=0,
            notes=f"{PLAUSIBILITY}: revenue after an answer is not negative.",
        ),
        *expect_reconciled(
            gxe,
            "score_type_answers",
            "staging_judged_answers",
            "score_type",
            "judged_score_types",
            "the answers of a score type = the distinct valid responses of staging carrying that score and at "
            "least W days old.",
        ),
    ]


# --------------------------------------------------------------------------- service_effort


def prepare_service_effort(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """The contacts of staging per month, beside the 'all' rows."""
    import pandas as pd

    df = df.reset_index(drop=True)
    counts = staging_figures(ctx, "contacts per month", ctx.raw.contacts_per_month) or {}
    if has(df, "contact_month", "contact_channel"):
        df["contact_month_text"] = pd.to_datetime(df["contact_month"]).dt.strftime("%Y-%m-%d")
        df["staging_contacts"] = (
            df["contact_month_text"].map(lambda m: counts.get(m, 0.0)).where(df["contact_channel"] == "all")
        )
    ctx.parameters["staging_contact_months"] = sorted(counts)
    return add_period_plausibility(df, ctx, "contact_month", None)


@register_suite(
    "service_effort",
    prepare=prepare_service_effort,
    key_columns=("contact_month", "contact_channel"),
    built_from=("contacts",),
)
def service_effort_suite(gxe) -> list:
    """Service effort: contacts of every month = staging contacts; plausible transfers and CES."""
    from great_expectations.expectations.row_conditions import Column

    all_channels = Column("contact_channel") == "all"
    return [
        *_voice_common(
            gxe,
            "service_effort",
            ["contact_month", "contact_channel"],
            ["contacts", "customers", "mean_transfers", "effortful_repurchase_rate", "easy_repurchase_rate"],
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="mean_transfers", min_value=0, notes=f"{PLAUSIBILITY}: a contact is passed on 0 or more times."
        ),
        *expect_reconciled(
            gxe,
            "contacts",
            "staging_contacts",
            "contact_month_text",
            "staging_contact_months",
            "the contacts of every month = the contacts of staging dated in it.",
            row_condition=all_channels,
        ),
        *expect_plausible_periods(gxe, "contact_month", record=("contact_month", "contact_channel")),
    ]
