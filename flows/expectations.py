"""Great Expectations suites for the marts, defined in code, and the registry that lists them.

A suite runs for a mart only if it is registered here; a registered mart that is missing from
the warehouse fails the validation (never a silent skip). To add the suite of a new mart:

    @register_suite("voice_of_customer", key_columns=("customer_id",))
    def voice_of_customer_suite(gxe):
        return [
            gxe.ExpectColumnValuesToBeUnique(column="customer_id"),
            gxe.ExpectColumnValuesToBeBetween(column="nps", min_value=0, max_value=10),
        ]

The decorated function receives the module `great_expectations.expectations` and returns the
suite's Expectations; it is called only while a validation runs, so importing this module does
not import Great Expectations (which takes seconds). Checks that need more than one column at a
time, or figures from outside the mart, get derived columns from a `prepare` function that runs
on the mart's DataFrame while the warehouse is still open (see the audit figures below).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pandas as pd


@dataclass
class PrepareContext:
    """What a `prepare` function may use: the open (read-only) warehouse and the dbt vars.

    A prepare function may put suite parameters (the `{"$PARAMETER": name}` values of its
    Expectations) into `parameters`.
    """

    con: duckdb.DuckDBPyConnection
    project_vars: dict[str, Any]
    parameters: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # reported as failures of the suite

    def problem(self, message: str) -> None:
        """Record something that makes the mart fail validation, and carry on with the rest."""
        self.problems.append(message)


ExpectationsBuilder = Callable[[Any], list]
Prepare = Callable[["pd.DataFrame", PrepareContext], "pd.DataFrame"]


@dataclass(frozen=True)
class SuiteDefinition:
    """One Expectation Suite: the mart it validates and how to build it."""

    mart: str  # table in the `marts` schema
    expectations: ExpectationsBuilder  # great_expectations.expectations -> list of Expectations
    prepare: Prepare | None = None  # adds derived columns / suite parameters before validation
    key_columns: tuple[str, ...] = ()  # shown next to failing rows in the report
    description: str = ""

    @property
    def name(self) -> str:
        return f"{self.mart}_suite"


#: The registered suites, by mart, in registration order.
SUITES: dict[str, SuiteDefinition] = {}


def register_suite(
    mart: str,
    *,
    prepare: Prepare | None = None,
    key_columns: tuple[str, ...] = (),
) -> Callable[[ExpectationsBuilder], ExpectationsBuilder]:
    """Decorator: register the Expectations builder of `mart` (replaces an earlier registration)."""

    def decorator(builder: ExpectationsBuilder) -> ExpectationsBuilder:
        SUITES[mart] = SuiteDefinition(
            mart=mart,
            expectations=builder,
            prepare=prepare,
            key_columns=tuple(key_columns),
            description=(builder.__doc__ or "").strip(),
        )
        return builder

    return decorator


# --------------------------------------------------------------------------- shared pieces

#: pandas dtypes that hold whole numbers (DuckDB integers; HUGEINT is read as BIGINT).
INTEGER_DTYPES = [
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
]  # fmt: skip

#: Column names that mean direct personal data (case-insensitive regular expressions).
PERSONAL_DATA_COLUMN_PATTERNS = (
    r"e_?mail",
    r"^(full_|first_|last_|given_|family_|middle_|sur|customer_|contact_)?name$",
    r"phone|mobile|telephone",
    r"address|street",
    r"post_?code|postal_code|zip_?code",
    r"birth",
)


@functools.cache
def _no_personal_data_expectation_class() -> type:
    """A Batch Expectation: no column name of the table matches any of the given patterns.

    GX has no built-in "table columns must not look like ..." expectation; this one reads the
    `table.columns` metric. Defined once, on first use, so that GX is imported lazily.
    """
    from great_expectations.expectations.expectation import BatchExpectation
    from great_expectations.render import LegacyRendererType, RenderedStringTemplateContent
    from great_expectations.render.renderer.renderer import renderer

    class ExpectTableColumnsToNotMatchRegexList(BatchExpectation):
        """Expect no column name to match any regular expression in regex_list (case-insensitive)."""

        regex_list: list[str]

        metric_dependencies = ("table.columns",)
        success_keys = ("regex_list",)
        args_keys = ("regex_list",)

        @classmethod
        @renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)
        def _prescriptive_renderer(cls, configuration=None, result=None, runtime_configuration=None, **kwargs):
            patterns = (configuration.kwargs.get("regex_list") if configuration else None) or []
            return [
                RenderedStringTemplateContent(
                    content_block_type="string_template",
                    string_template={
                        "template": "No column name may match (case-insensitive) any of: $patterns.",
                        "params": {"patterns": ", ".join(patterns)},
                        "styling": (runtime_configuration or {}).get("styling"),
                    },
                )
            ]

        def _validate(self, metrics, runtime_configuration=None, execution_engine=None):
            columns = [str(c) for c in metrics["table.columns"]]
            patterns = self.configuration.kwargs.get("regex_list") or []
            matching = [c for c in columns if any(re.search(p, c, re.IGNORECASE) for p in patterns)]
            return {
                "success": not matching,
                "result": {"observed_value": matching, "details": {"matching_columns": matching}},
            }

    return ExpectTableColumnsToNotMatchRegexList


def expect_no_personal_data_columns(patterns: tuple[str, ...] = PERSONAL_DATA_COLUMN_PATTERNS, **kwargs: Any):
    """An Expectation that fails when a column is named like direct personal data."""
    return _no_personal_data_expectation_class()(regex_list=list(patterns), **kwargs)


def cents(values: pd.Series) -> pd.Series:
    """Amounts as whole cents (float64, NaN stays NaN), so that equality is to the cent."""
    import pandas as pd

    return (pd.to_numeric(values, errors="coerce").astype("float64") * 100).round()


def _has(df: pd.DataFrame, *columns: str) -> bool:
    return all(c in df.columns for c in columns)


# --------------------------------------------------------------------------- raw revenue

# A timestamp exported as text with an offset (Z, +01:00, -0500) is an instant; without one it
# is already local time in the reporting time zone.
_OFFSET = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
_WITH_OFFSET = r"[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*" + _OFFSET

RAW_REVENUE_BY_YEAR_SQL = f"""
with latest as (
    select *
    from raw.orders
    qualify row_number() over (partition by order_id order by _load_id desc, _line desc) = 1
),
completed as (
    select
        amount,
        coalesce(nullif(upper(trim(currency)), ''), $reporting_currency) as currency,
        case
            when regexp_matches(trim(ordered_at), '{_WITH_OFFSET}')
                then timezone(
                    $reporting_timezone,
                    cast(regexp_replace(trim(ordered_at), '\\s+{_OFFSET}', '\\1') as timestamptz)
                )
            else cast(trim(ordered_at) as timestamp)
        end as local_time
    from latest
    where lower(trim(status)) = 'completed'
),
dated as (
    select
        amount,
        currency,
        cast(local_time as date) as order_date,
        cast(date_trunc('month', local_time) as date) as order_month
    from completed
),
as_of as (
    select coalesce(cast(nullif($as_of_date, '') as date), max(order_date)) as as_of_date
    from dated
),
converted as (
    select
        dated.order_date,
        case when dated.currency = $reporting_currency then 1 else rates.rate end as rate,
        dated.amount
    from dated
    asof left join reference.currency_rates as rates
        on rates.currency = dated.currency
        and rates.month <= dated.order_month
)
select
    year(order_date) as year,
    count(*) as completed_orders,
    count(*) filter (where rate is null) as orders_without_rate,
    case
        when count(*) filter (where rate is null) = 0
            then cast(round(sum(round(amount * rate, 2)) * 100) as bigint)
    end as revenue_cents
from converted
cross join as_of
where order_date <= as_of.as_of_date
group by 1
order by 1
"""


def raw_completed_revenue_by_year(con: duckdb.DuckDBPyConnection, project_vars: dict[str, Any]) -> pd.DataFrame:
    """Completed-order revenue per year straight from `raw.orders`, independently of the dbt models.

    Latest version per order_id (highest _load_id, then _line); status completed; amount converted
    with `reference.currency_rates` (latest month on or before the order month; no currency or the
    reporting currency: rate 1) and rounded to the cent per order; year of the order date in the
    reporting time zone; orders after the as-of date (var as_of_date, else the last completed order
    date) left out. Columns: year, completed_orders, orders_without_rate, revenue_cents (null for a
    year with an order whose currency has no rate).
    """
    as_of = project_vars.get("as_of_date") or ""
    return con.execute(
        RAW_REVENUE_BY_YEAR_SQL,
        {
            "reporting_currency": str(project_vars.get("reporting_currency") or "EUR").upper(),
            "reporting_timezone": str(project_vars.get("reporting_timezone") or "UTC"),
            "as_of_date": str(as_of),
        },
    ).df()


# --------------------------------------------------------------------------- customer_audit_figures

AUDIT_PERIOD_GRAINS = ["month", "quarter", "year"]
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


def prepare_customer_audit_figures(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """Derived columns for the identities and the reconciliation with the raw orders.

    Rows are sorted by (period_grain, period_start). Columns whose inputs are missing are left
    out (the column-set expectation then names the missing input).
    """
    import pandas as pd

    if _has(df, "period_grain", "period_start"):
        df = df.sort_values(["period_grain", "period_start"], kind="stable")
    df = df.reset_index(drop=True)

    if _has(df, "customers_start", "net_new_customers"):
        df["expected_customers_end"] = df["customers_start"] + df["net_new_customers"]
    if _has(df, "period_grain", "customers_start", "customers_end"):
        # A period opens with the customers the previous period of its grain closed with.
        previous_end = df.groupby("period_grain")["customers_end"].shift(1)
        df["expected_customers_start"] = previous_end.where(previous_end.notna(), df["customers_start"])
    if _has(df, "gross_new_customers", "reactivated_customers", "lost_customers"):
        df["expected_net_new_customers"] = (
            df["gross_new_customers"] + df["reactivated_customers"] - df["lost_customers"]
        )
    if _has(df, "active_new_customers", "active_existing_customers"):
        df["expected_active_customers"] = df["active_new_customers"] + df["active_existing_customers"]
    if _has(df, "revenue"):
        df["revenue_cents"] = cents(df["revenue"])
    if _has(df, "revenue_new_customers", "revenue_existing_customers"):
        df["split_revenue_cents"] = cents(
            pd.to_numeric(df["revenue_new_customers"]).astype("float64")
            + pd.to_numeric(df["revenue_existing_customers"]).astype("float64")
        )

    if _has(df, "period_grain", "period_start", "period_end"):
        start = pd.to_datetime(df["period_start"])
        end = pd.to_datetime(df["period_end"])
        previous_end = end.groupby(df["period_grain"]).shift(1)
        # The first period of a grain has no predecessor: compared with itself.
        df["expected_period_start"] = (previous_end + pd.Timedelta(days=1)).where(previous_end.notna(), start)
        df["period_start"] = start

    if _has(df, "period_grain", "period_start"):
        is_year = df["period_grain"] == "year"
        period_year = pd.to_datetime(df["period_start"]).dt.year
        try:
            raw = raw_completed_revenue_by_year(ctx.con, ctx.project_vars)
        except Exception as exc:  # e.g. no raw.orders or no reference.currency_rates
            ctx.problem(f"revenue from raw.orders could not be computed: {type(exc).__name__}: {exc}")
            raw = pd.DataFrame({"year": [], "revenue_cents": [], "orders_without_rate": []})
            raw_failed = True
        else:
            raw_failed = False
        raw_cents = {
            int(y): (float(c) if pd.notna(c) else float("nan")) for y, c in zip(raw["year"], raw["revenue_cents"])
        }
        df["period_year"] = period_year.astype("float64").where(is_year)
        # A year without completed orders has revenue 0; a year with an order whose currency has
        # no rate has no raw revenue (NaN) and so never reconciles.
        default = float("nan") if raw_failed else 0.0
        df["raw_completed_revenue_cents"] = period_year.map(
            lambda y: raw_cents.get(int(y), default) if pd.notna(y) else float("nan")
        ).where(is_year)
        without_rate = {int(y): int(n) for y, n in zip(raw["year"], raw["orders_without_rate"])}
        df["raw_orders_without_rate"] = period_year.map(
            lambda y: without_rate.get(int(y), 0) if pd.notna(y) else float("nan")
        ).where(is_year)
        ctx.parameters["raw_revenue_years"] = sorted(int(y) for y in raw["year"])
    return df


@register_suite(
    "customer_audit_figures",
    prepare=prepare_customer_audit_figures,
    key_columns=("period_grain", "period_start"),
)
def customer_audit_figures_suite(gxe) -> list:
    """Audit figures: balance identities, revenue split, reconciliation with the raw orders, periods."""
    from great_expectations.expectations.row_conditions import Column

    year_rows = Column("period_grain") == "year"
    expectations = [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=AUDIT_COLUMNS,
            exact_match=False,
            notes="Every column of the audit figures is present.",
        ),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        # keys and periods
        gxe.ExpectColumnValuesToNotBeNull(column="period_grain"),
        gxe.ExpectColumnValuesToBeInSet(column="period_grain", value_set=AUDIT_PERIOD_GRAINS),
        gxe.ExpectColumnValuesToNotBeNull(column="period_start"),
        gxe.ExpectColumnValuesToNotBeNull(column="period_end"),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["period_grain", "period_start"]),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="period_start",
            column_B="expected_period_start",
            notes="Periods are contiguous per grain: each period starts the day after the previous one ends.",
        ),
        # balance identities
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="customers_end",
            column_B="expected_customers_end",
            notes="Balance identity: customers_end = customers_start + net_new_customers.",
        ),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="customers_start",
            column_B="expected_customers_start",
            notes="A period opens with the customers_end of the previous period of its grain.",
        ),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="net_new_customers",
            column_B="expected_net_new_customers",
            notes="net_new_customers = gross_new_customers + reactivated_customers - lost_customers.",
        ),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="active_new_customers",
            column_B="gross_new_customers",
            notes="Every new customer bought in the period, so is active in it.",
        ),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="active_customers",
            column_B="expected_active_customers",
            notes="active_customers = active_new_customers + active_existing_customers.",
        ),
        # revenue
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="revenue_cents",
            column_B="split_revenue_cents",
            notes="revenue = revenue_new_customers + revenue_existing_customers, to the cent.",
        ),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="revenue_cents",
            column_B="raw_completed_revenue_cents",
            row_condition=year_rows,
            notes=(
                "Reconciliation across layers: the revenue of every year equals the completed-order "
                "revenue computed straight from raw.orders and reference.currency_rates, to the cent."
            ),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="raw_orders_without_rate",
            max_value=0,
            row_condition=year_rows,
            notes="Every completed raw order of the year has an exchange rate (else its revenue cannot reconcile).",
        ),
        gxe.ExpectColumnDistinctValuesToContainSet(
            column="period_year",
            value_set={"$PARAMETER": "raw_revenue_years"},
            row_condition=year_rows,
            notes="Every year with completed orders in raw.orders has a year row.",
        ),
    ]
    for column in AUDIT_COUNT_COLUMNS:
        expectations += [
            gxe.ExpectColumnValuesToNotBeNull(column=column),
            gxe.ExpectColumnValuesToBeInTypeList(column=column, type_list=INTEGER_DTYPES),
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0),
        ]
    return expectations


# --------------------------------------------------------------------------- acquisition_cohorts

COHORT_KEY = ["cohort_month", "acquisition_channel", "months_since_acquisition"]


@register_suite("acquisition_cohorts", key_columns=tuple(COHORT_KEY))
def acquisition_cohorts_suite(gxe) -> list:
    """Acquisition cohorts: one row per cohort, channel and month since acquisition; rates in [0, 1]."""
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
        ),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in COHORT_KEY],
        gxe.ExpectCompoundColumnsToBeUnique(column_list=COHORT_KEY),
        gxe.ExpectColumnValuesToBeBetween(column="months_since_acquisition", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="cohort_size", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="active_customers", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="retention_rate", min_value=0, max_value=1),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="cohort_size",
            column_B="active_customers",
            or_equal=True,
            notes="A cohort never has more active customers than members.",
        ),
    ]


# --------------------------------------------------------------------------- customers


@register_suite("customers", key_columns=("customer_id",))
def customers_suite(gxe) -> list:
    """Customers: one row per customer_id, and no direct personal data."""
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="customer_id"),
        gxe.ExpectColumnValuesToBeUnique(column="customer_id"),
        expect_no_personal_data_columns(
            notes="No direct personal data (e-mail, names, phone, address, ...) in a mart.",
        ),
    ]


# =========================================================================== voice of the customer
# Suites of the voice marts (docs/voice_of_the_customer.md): score ranges, shares, categories that
# add up, and the responses reconciled with the distinct valid responses of staging.

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
#: Columns that are shares (0-1) in each voice mart.
VOICE_SHARE_COLUMNS = {
    "survey_scores": ["ces_easy_share", "csat_score"],
    "satisfaction_vs_loyalty": ["repurchase_share", "lapse_share"],
    "service_effort": [
        "repeatedly_passed_on_share", "resolved_share", "repeat_contact_share",
        "effortful_repurchase_rate", "easy_repurchase_rate",
    ],
}  # fmt: skip
#: Score columns and the range of their answers (NPS 0-10, CES 1-7, CSAT 1-5).
VOICE_SCORE_RANGES = {
    "survey_scores": {"ces_mean": (1, 7), "csat_mean": (1, 5)},
    "customer_loyalty_scores": {
        "latest_nps_score": (0, 10), "previous_nps_score": (0, 10), "nps_change": (-10, 10),
        "rolling_nps_mean": (0, 10), "latest_ces_score": (1, 7), "latest_csat_score": (1, 5),
    },
    "service_effort": {"ces_mean": (1, 7), "effortful_nps": (-100, 100), "easy_nps": (-100, 100)},
}  # fmt: skip
SCORE_CATEGORIES = {
    "nps": ["promoter", "passive", "detractor"],
    "ces": ["easy", "neutral", "hard"],
    "csat": ["satisfied", "neutral", "dissatisfied"],
}

# The distinct valid responses of staging up to the as-of date (var as_of_date, else the last
# completed order's date in staging): the figures the voice marts must reconcile with.
STAGING_RESPONSES_SQL = """
with as_of as (
    select coalesce(
        cast(nullif($as_of_date, '') as date),
        (select max(order_date) from staging.stg_crm__orders where order_status = 'completed')
    ) as as_of_date
),
valid_responses as (
    select distinct
        responses.response_id,
        responses.customer_id,
        responses.response_date,
        responses.nps_score,
        responses.ces_score,
        responses.csat_score,
        as_of.as_of_date
    from staging.stg_survey__survey_responses as responses
    cross join as_of
    where responses.response_id is not null
        and responses.customer_id is not null
        and responses.response_date <= as_of.as_of_date
)
"""


def staging_as_of_date(con: duckdb.DuckDBPyConnection, project_vars: dict[str, Any]) -> str | None:
    """The as-of date (YYYY-MM-DD) the voice marts must stand on, from the vars and staging."""
    row = con.execute(
        STAGING_RESPONSES_SQL + "select strftime(as_of_date, '%Y-%m-%d') from as_of",
        {"as_of_date": str(project_vars.get("as_of_date") or "")},
    ).fetchone()
    return row[0] if row else None


def staging_query(
    con: duckdb.DuckDBPyConnection, project_vars: dict[str, Any], select: str, **parameters: Any
) -> pd.DataFrame:
    """`select` after the CTEs `as_of` and `valid_responses` of STAGING_RESPONSES_SQL, as a DataFrame."""
    values = {"as_of_date": str(project_vars.get("as_of_date") or ""), **parameters}
    return con.execute(STAGING_RESPONSES_SQL + select, values).df()


def _staging_check(ctx: PrepareContext, what: str, query: Callable[[], Any]) -> Any:
    """Run a staging query for a reconciliation; a failure is a problem of the suite, never a skip."""
    try:
        return query()
    except Exception as exc:  # e.g. no staging.stg_survey__survey_responses
        ctx.problem(f"{what} could not be computed from staging: {type(exc).__name__}: {exc}")
        return None


def _staging_counts(ctx: PrepareContext, what: str, select: str, **parameters: Any) -> dict[str, float]:
    """{key: n} from a staging query whose columns are `key` and `n`; empty after a problem."""
    frame = _staging_check(ctx, what, lambda: staging_query(ctx.con, ctx.project_vars, select, **parameters))
    return {} if frame is None else dict(zip(frame["key"], frame["n"].astype("float64")))


def _expect_reconciled(
    gxe, column: str, staging_column: str, key_column: str, parameter: str, notes: str, row_condition=None
) -> list:
    """`column` equals the staging figure on every row (of `row_condition`), and every key of staging
    (suite parameter `parameter`) has a row."""
    where = {} if row_condition is None else {"row_condition": row_condition}
    return [
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A=column, column_B=staging_column, notes=f"Reconciliation: {notes}", **where
        ),
        gxe.ExpectColumnDistinctValuesToContainSet(
            column=key_column,
            value_set={"$PARAMETER": parameter},
            notes=f"Every {key_column} of staging has a row.",
            **where,
        ),
    ]


def _as_of_text(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """as_of_date as text, and the as-of date from staging as suite parameter `as_of_date`."""
    import pandas as pd

    if _has(df, "as_of_date"):
        df["as_of_date_text"] = pd.to_datetime(df["as_of_date"]).dt.strftime("%Y-%m-%d")
    as_of = _staging_check(ctx, "the as-of date", lambda: staging_as_of_date(ctx.con, ctx.project_vars))
    ctx.parameters["as_of_date"] = [as_of] if as_of else []
    return df


def _voice_common(gxe, mart: str, key: list[str], columns: list[str]) -> list:
    """Columns, keys, counts, shares, score ranges and the as-of date of a voice mart."""
    expectations = [
        gxe.ExpectTableColumnsToMatchSet(column_set=[*key, *columns], exact_match=False),
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in key],
        gxe.ExpectCompoundColumnsToBeUnique(column_list=key)
        if len(key) > 1
        else gxe.ExpectColumnValuesToBeUnique(column=key[0]),
        gxe.ExpectColumnValuesToBeInSet(
            column="as_of_date_text",
            value_set={"$PARAMETER": "as_of_date"},
            notes="The mart stands on the one as-of date of every figure (var as_of_date, else the last completed order).",
        ),
        expect_no_personal_data_columns(notes="No direct personal data (e-mail, names, ...) in a mart."),
    ]
    for column in VOICE_COUNT_COLUMNS.get(mart, []):
        expectations += [
            gxe.ExpectColumnValuesToNotBeNull(column=column),
            gxe.ExpectColumnValuesToBeInTypeList(column=column, type_list=INTEGER_DTYPES),
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0),
        ]
    for column in VOICE_SHARE_COLUMNS.get(mart, []):
        expectations.append(
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, max_value=1, notes="A share lies in [0, 1].")
        )
    for column, (low, high) in VOICE_SCORE_RANGES.get(mart, {}).items():
        expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high))
    return expectations


# --------------------------------------------------------------------------- survey_scores

SURVEY_SCORES_KEY = ["period_grain", "period_start", "touchpoint_type", "channel"]


def prepare_survey_scores(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """NPS categories summed, and the responses of staging per period on the 'all' x 'all' rows."""
    import pandas as pd

    df = _as_of_text(df.reset_index(drop=True), ctx)
    if _has(df, "promoters", "passives", "detractors"):
        df["nps_category_answers"] = df["promoters"] + df["passives"] + df["detractors"]
    if not _has(df, "period_grain", "period_start", "touchpoint_type", "channel"):
        return df
    df["period_key"] = df["period_grain"].astype(str) + " " + pd.to_datetime(df["period_start"]).dt.strftime("%Y-%m-%d")
    grains = list(ctx.project_vars["period_grains"])  # the grains dbt built (int_run_parameters)
    counts = _staging_counts(
        ctx,
        "responses per period",
        "select grain || ' ' || strftime(date_trunc(grain, response_date), '%Y-%m-%d') as key, "
        "count(distinct response_id) as n "
        "from valid_responses cross join (select unnest(cast($grains as varchar[])) as grain) as grains group by all",
        grains=grains,
    )
    is_total = (df["touchpoint_type"] == "all") & (df["channel"] == "all")
    df["staging_responses"] = df["period_key"].map(lambda k: counts.get(k, 0.0)).where(is_total)
    ctx.parameters["staging_response_periods"] = sorted(counts)
    return df


@register_suite("survey_scores", prepare=prepare_survey_scores, key_columns=tuple(SURVEY_SCORES_KEY))
def survey_scores_suite(gxe) -> list:
    """Survey scores: NPS in [-100, 100], shares in [0, 1], categories add up, responses = staging."""
    from great_expectations.expectations.row_conditions import Column

    total_rows = (Column("touchpoint_type") == "all") & (Column("channel") == "all")
    return [
        *_voice_common(
            gxe,
            "survey_scores",
            SURVEY_SCORES_KEY,
            ["responses", "nps_answers", "promoters", "passives", "detractors", "nps", "ces_mean", "csat_score"],
        ),
        gxe.ExpectColumnValuesToBeInSet(column="period_grain", value_set=["month", "quarter", "year"]),
        gxe.ExpectColumnValuesToBeBetween(
            column="nps", min_value=-100, max_value=100, notes="NPS lies in [-100, 100]."
        ),
        gxe.ExpectColumnValuesToBeBetween(column="nps_ci_low", min_value=-100, max_value=100),
        gxe.ExpectColumnValuesToBeBetween(column="nps_ci_high", min_value=-100, max_value=100),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="nps_answers",
            column_B="nps_category_answers",
            notes="promoters + passives + detractors = nps_answers.",
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="responses", column_B="nps_answers", or_equal=True, notes="An NPS answer is a response."
        ),
        *_expect_reconciled(
            gxe,
            "responses",
            "staging_responses",
            "period_key",
            "staging_response_periods",
            "the responses of every period = the distinct valid responses of staging dated in it.",
            row_condition=total_rows,
        ),
    ]


# --------------------------------------------------------------------------- customer_loyalty_scores


def prepare_customer_loyalty_scores(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """Each customer's distinct valid responses in staging, and how many customers answered."""
    df = _as_of_text(df.reset_index(drop=True), ctx)
    counts = _staging_counts(
        ctx,
        "responses per customer",
        "select customer_id as key, count(distinct response_id) as n from valid_responses group by all",
    )
    if _has(df, "customer_id"):
        df["staging_responses"] = df["customer_id"].map(lambda c: counts.get(c, 0.0))
    ctx.parameters["staging_customers"] = len(counts) if counts else -1
    return df


@register_suite("customer_loyalty_scores", prepare=prepare_customer_loyalty_scores, key_columns=("customer_id",))
def customer_loyalty_scores_suite(gxe) -> list:
    """Customer loyalty scores: one row per customer who answered; scores in range; responses = staging."""
    return [
        *_voice_common(
            gxe,
            "customer_loyalty_scores",
            ["customer_id"],
            ["responses", "latest_nps_score", "latest_nps_category", "rolling_nps_category", "nps_change"],
        ),
        gxe.ExpectColumnValuesToBeInSet(column="latest_nps_category", value_set=SCORE_CATEGORIES["nps"]),
        gxe.ExpectColumnValuesToBeInSet(column="rolling_nps_category", value_set=SCORE_CATEGORIES["nps"]),
        gxe.ExpectColumnValuesToBeInSet(column="latest_ces_category", value_set=SCORE_CATEGORIES["ces"]),
        gxe.ExpectColumnValuesToBeInSet(column="latest_csat_category", value_set=SCORE_CATEGORIES["csat"]),
        *[
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="responses", column_B=c, or_equal=True)
            for c in ("nps_answers", "ces_answers", "csat_answers")
        ],
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="responses",
            column_B="staging_responses",
            notes="Reconciliation: each customer's responses = their distinct valid responses in staging.",
        ),
        gxe.ExpectTableRowCountToEqual(
            value={"$PARAMETER": "staging_customers"},
            notes="Every customer with a valid response in staging has a row.",
        ),
    ]


# --------------------------------------------------------------------------- satisfaction_vs_loyalty


def prepare_satisfaction_vs_loyalty(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """Answers per score type summed over categories, next to the judged answers of staging."""
    df = _as_of_text(df.reset_index(drop=True), ctx)
    if _has(df, "repurchased_answers", "lapsed_answers"):
        df["repurchased_or_lapsed_answers"] = df["repurchased_answers"] + df["lapsed_answers"]
    if _has(df, "score_type", "category"):
        df["score_type_category"] = df["score_type"].astype(str) + " " + df["category"].astype(str)
    window = int(ctx.project_vars.get("churn_window_days") or 365)
    answers = _staging_counts(
        ctx,
        "judged answers",
        """select score_type as key, count(distinct response_id) as n
           from valid_responses
           cross join (select unnest(['nps', 'ces', 'csat']) as score_type) as score_types
           where response_date + cast($window as integer) <= as_of_date
               and case score_type when 'nps' then nps_score when 'ces' then ces_score else csat_score end is not null
           group by all""",
        window=window,
    )
    if _has(df, "score_type", "answers"):
        df["score_type_answers"] = df.groupby("score_type")["answers"].transform("sum").astype("float64")
        df["staging_judged_answers"] = df["score_type"].map(lambda s: answers.get(s, 0.0))
    ctx.parameters["judged_score_types"] = sorted(answers)
    return df


@register_suite(
    "satisfaction_vs_loyalty", prepare=prepare_satisfaction_vs_loyalty, key_columns=("score_type", "category")
)
def satisfaction_vs_loyalty_suite(gxe) -> list:
    """Satisfaction vs loyalty: valid categories, shares in [0, 1], answers = judged answers of staging."""
    return [
        *_voice_common(
            gxe,
            "satisfaction_vs_loyalty",
            ["score_type", "category"],
            ["answers", "repurchase_share", "lapse_share", "revenue_per_customer"],
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="score_type_category",
            value_set=[
                f"{score} {category}" for score, categories in SCORE_CATEGORIES.items() for category in categories
            ],
            notes="Every category belongs to its score type.",
        ),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="answers",
            column_B="repurchased_or_lapsed_answers",
            notes="Every judged answer is followed by a repurchase or by none (lapsed).",
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="answers", column_B="customers", or_equal=True),
        gxe.ExpectColumnValuesToBeBetween(column="revenue_per_answer", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="revenue_per_customer", min_value=0),
        *_expect_reconciled(
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
    """The contacts of staging per month, next to the 'all' rows."""
    import pandas as pd

    df = _as_of_text(df.reset_index(drop=True), ctx)
    counts = _staging_counts(
        ctx,
        "contacts per month",
        """select strftime(date_trunc('month', contact_date), '%Y-%m-%d') as key, count(distinct contact_id) as n
           from staging.stg_crm__contacts
           cross join as_of
           where contact_date <= as_of.as_of_date
           group by all""",
    )
    if _has(df, "contact_month", "contact_channel"):
        df["contact_month_text"] = pd.to_datetime(df["contact_month"]).dt.strftime("%Y-%m-%d")
        df["staging_contacts"] = (
            df["contact_month_text"].map(lambda m: counts.get(m, 0.0)).where(df["contact_channel"] == "all")
        )
    ctx.parameters["staging_contact_months"] = sorted(counts)
    return df


@register_suite("service_effort", prepare=prepare_service_effort, key_columns=("contact_month", "contact_channel"))
def service_effort_suite(gxe) -> list:
    """Service effort: shares and rates in [0, 1], judged <= all, contacts = staging contacts."""
    from great_expectations.expectations.row_conditions import Column

    all_channels = Column("contact_channel") == "all"
    return [
        *_voice_common(
            gxe,
            "service_effort",
            ["contact_month", "contact_channel"],
            ["contacts", "customers", "mean_transfers", "effortful_repurchase_rate", "easy_repurchase_rate"],
        ),
        gxe.ExpectColumnValuesToBeBetween(column="mean_transfers", min_value=0),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="contacts", column_B="customers", or_equal=True),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="effortful_contacts", column_B="effortful_contacts_judged", or_equal=True
        ),
        *_expect_reconciled(
            gxe,
            "contacts",
            "staging_contacts",
            "contact_month_text",
            "staging_contact_months",
            "the contacts of every month = the contacts of staging dated in it.",
            row_condition=all_channels,
        ),
    ]


# =========================================================================== personas and value
# Suites of marts.customer_personas, marts.revenue_concentration and marts.acquisition_cost
# (docs/personas_and_value.md). Their reconciliations read the staging layer of the warehouse.

PERSONAS = ["at_risk", "ambassador", "price_shopper", "new", "loyal_passive"]


def prepare_customer_personas(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """Who must have a persona: every customer id with a completed order on or before the as-of date
    in staging.stg_crm__orders. Adds `has_completed_order` per row and the parameter
    `customers_with_completed_orders` (their number)."""
    as_of = staging_as_of_date(ctx.con, ctx.project_vars)
    expected = {
        row[0]
        for row in ctx.con.execute(
            """select distinct customer_id from staging.stg_crm__orders
               where order_status = 'completed' and order_date <= cast(? as date)""",
            [as_of],
        ).fetchall()
    }
    df = df.reset_index(drop=True)
    ctx.parameters["customers_with_completed_orders"] = len(expected)
    if _has(df, "customer_id"):
        df["has_completed_order"] = df["customer_id"].isin(expected)
        missing = expected - set(df["customer_id"])
        if missing:
            examples = ", ".join(sorted(str(m) for m in missing)[:3])
            ctx.problem(f"{len(missing)} customers with a completed order have no persona (e.g. {examples})")
    return df


@register_suite("customer_personas", prepare=prepare_customer_personas, key_columns=("customer_id",))
def customer_personas_suite(gxe) -> list:
    """Personas: every customer with a completed order exactly once, one of the five personas, a rule."""
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="customer_id"),
        gxe.ExpectColumnValuesToBeUnique(column="customer_id", notes="Each customer has exactly one persona."),
        gxe.ExpectColumnValuesToBeInSet(
            column="has_completed_order",
            value_set=[True],
            notes="Only customers with a completed order up to the as-of date (staging orders) have a persona.",
        ),
        gxe.ExpectTableRowCountToEqual(
            value={"$PARAMETER": "customers_with_completed_orders"},
            notes="As many personas as customers with a completed order: with the two above, every one exactly once.",
        ),
        gxe.ExpectColumnValuesToBeInSet(column="persona", value_set=PERSONAS),
        gxe.ExpectColumnValuesToNotBeNull(column="persona_rule"),
        expect_no_personal_data_columns(notes="No direct personal data in a mart."),
    ]


def _top_share_columns(df: pd.DataFrame) -> list[str]:
    """top_<p>_pct_revenue_share columns, by p ascending."""
    found = [(int(m.group(1)), c) for c in df.columns if (m := re.fullmatch(r"top_(\d+)_pct_revenue_share", str(c)))]
    return [c for _, c in sorted(found)]


def prepare_revenue_concentration(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """Derived columns over every top_<p>_pct_revenue_share column (top 1/10/20/50 %):
    `top_shares_monotone` (top 1 % <= top 10 % <= ... <= 1, rows without revenue pass),
    `top_share_min` and `top_share_max`."""
    import pandas as pd

    df = df.reset_index(drop=True)
    columns = _top_share_columns(df)
    if not columns:
        ctx.problem("revenue_concentration has no top_<p>_pct_revenue_share column")
        return df
    shares = df[columns].apply(pd.to_numeric, errors="coerce").astype("float64")
    steps = shares.diff(axis=1).iloc[:, 1:]
    has_shares = shares.notna().all(axis=1)
    monotone = (steps >= 0).all(axis=1) & (shares.iloc[:, -1] <= 1)
    df["top_shares_monotone"] = monotone | ~has_shares
    df["top_share_min"] = shares.min(axis=1)
    df["top_share_max"] = shares.max(axis=1)
    return df


@register_suite(
    "revenue_concentration",
    prepare=prepare_revenue_concentration,
    key_columns=("period_grain", "period_start"),
)
def revenue_concentration_suite(gxe) -> list:
    """Revenue concentration: shares monotone (top 1 % <= top 10 % <= ...) and in [0, 1], Gini in [0, 1]."""
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["period_grain", "period_start"]),
        gxe.ExpectColumnValuesToBeInSet(column="period_grain", value_set=["year", "trailing_12_months"]),
        gxe.ExpectColumnValuesToBeInSet(
            column="top_shares_monotone",
            value_set=[True],
            notes="The top 1 % bring no more than the top 10 %, and so on up to 1.",
        ),
        gxe.ExpectColumnValuesToBeBetween(column="top_share_min", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="top_share_max", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="customer_share_for_target_revenue", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="gini_coefficient", min_value=0, max_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="customers", min_value=1),
        expect_no_personal_data_columns(notes="No direct personal data in a mart."),
    ]


def prepare_acquisition_cost(df: pd.DataFrame, ctx: PrepareContext) -> pd.DataFrame:
    """The spend of staging.stg_crm__marketing_spend for each row (its month and channel; for 'all',
    the month's total; 0 when staging has none), as `staging_spend_cents`, beside the mart's
    `spend_cents`; `spend_key` (month|channel) and the parameter `staging_spend_keys`: every staging
    row up to the as-of date's month."""
    import pandas as pd

    as_of = staging_as_of_date(ctx.con, ctx.project_vars)
    staging = ctx.con.execute(
        """select strftime(spend_month, '%Y-%m-%d') as month, acquisition_channel as channel,
                  cast(round(spend_amount * 100) as bigint) as cents
           from staging.stg_crm__marketing_spend
           where spend_month <= date_trunc('month', cast(? as date))""",
        [as_of],
    ).df()
    by_key = {(m, c): int(v) for m, c, v in zip(staging["month"], staging["channel"], staging["cents"])}
    by_month = staging.groupby("month")["cents"].sum().to_dict()
    ctx.parameters["staging_spend_keys"] = sorted(f"{m}|{c}" for m, c in by_key)
    df = df.reset_index(drop=True)
    if not _has(df, "acquisition_month", "acquisition_channel", "spend_amount"):
        return df
    months = pd.to_datetime(df["acquisition_month"]).dt.strftime("%Y-%m-%d")
    channels = df["acquisition_channel"].astype(str)
    df["spend_key"] = months + "|" + channels
    df["spend_cents"] = cents(df["spend_amount"])
    df["staging_spend_cents"] = [
        float(by_month.get(m, 0)) if c == "all" else float(by_key.get((m, c), 0)) for m, c in zip(months, channels)
    ]
    return df


@register_suite(
    "acquisition_cost",
    prepare=prepare_acquisition_cost,
    key_columns=("acquisition_month", "acquisition_channel"),
)
def acquisition_cost_suite(gxe) -> list:
    """Acquisition cost: spend equals the staging spend per month and channel, none left out; CAC >= 0."""
    return [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["acquisition_month", "acquisition_channel"]),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="spend_cents",
            column_B="staging_spend_cents",
            notes="Spend per month and channel (and per month for 'all') equals stg_crm__marketing_spend, to the cent.",
        ),
        gxe.ExpectColumnDistinctValuesToContainSet(
            column="spend_key",
            value_set={"$PARAMETER": "staging_spend_keys"},
            notes="Every staging spend row up to the as-of month has its row: no spend is dropped.",
        ),
        gxe.ExpectColumnValuesToBeBetween(column="new_customers", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="cac", min_value=0),
        expect_no_personal_data_columns(notes="No direct personal data in a mart."),
    ]


# =========================================================================== end personas and value
