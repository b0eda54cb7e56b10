"""Pieces shared by the suites of every domain: the contract's integer dtypes, the personal-data
expectation, amounts as cents and small helpers for derived columns."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

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

#: The notes of the expectations by kind (docs/checks.md): what GX owns.
RECONCILIATION_WITH_RAW = "Reconciliation with raw"
RECONCILIATION_WITH_STAGING = "Reconciliation with staging"
PLAUSIBILITY = "Plausibility"
CONTRACT = "Contract"


#: Suite parameter of the personal-data expectation: what the runner's DuckDB scan of the mart's
#: values found (flows.validation.personal_data), one line per column and kind.
PERSONAL_DATA_VALUES_PARAMETER = "personal_data_values"


@functools.cache
def _no_personal_data_expectation_class() -> type:
    """A Batch Expectation: no column name of the table matches any of the given patterns, and the
    scan of the mart's values (`personal_data_values`, computed in DuckDB by the runner over every
    varchar column of the mart) found nothing.

    GX has no built-in "table columns must not look like ..." expectation; this one reads the
    `table.columns` metric. Defined once, on first use, so that GX is imported lazily.
    """
    from great_expectations.expectations.expectation import BatchExpectation
    from great_expectations.render import LegacyRendererType, RenderedStringTemplateContent
    from great_expectations.render.renderer.renderer import renderer

    class ExpectTableColumnsToNotMatchRegexList(BatchExpectation):
        """Expect no column name to match any regular expression in regex_list (case-insensitive),
        and no value found by the scan of the mart's string values (personal_data_values)."""

        regex_list: list[str]
        personal_data_values: Any = None

        metric_dependencies = ("table.columns",)
        success_keys = ("regex_list", "personal_data_values")
        args_keys = ("regex_list",)

        @classmethod
        @renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)
        def _prescriptive_renderer(cls, configuration=None, result=None, runtime_configuration=None, **kwargs):
            patterns = (configuration.kwargs.get("regex_list") if configuration else None) or []
            return [
                RenderedStringTemplateContent(
                    content_block_type="string_template",
                    string_template={
                        "template": (
                            "No column name may match (case-insensitive) any of: $patterns; no string value "
                            "may look like an e-mail address or a phone number."
                        ),
                        "params": {"patterns": ", ".join(patterns)},
                        "styling": (runtime_configuration or {}).get("styling"),
                    },
                )
            ]

        def _validate(self, metrics, runtime_configuration=None, execution_engine=None):
            columns = [str(c) for c in metrics["table.columns"]]
            patterns = self.configuration.kwargs.get("regex_list") or []
            values = [str(v) for v in (self.configuration.kwargs.get("personal_data_values") or [])]
            matching = [c for c in columns if any(re.search(p, c, re.IGNORECASE) for p in patterns)]
            return {
                "success": not matching and not values,
                "result": {
                    "observed_value": matching + values,
                    "details": {"matching_columns": matching, "personal_data_values": values},
                },
            }

    return ExpectTableColumnsToNotMatchRegexList


def expect_no_personal_data_columns(patterns: tuple[str, ...] = PERSONAL_DATA_COLUMN_PATTERNS, **kwargs: Any):
    """An Expectation that fails when a column is named like direct personal data, or when a string
    value of the mart looks like an e-mail address or a phone number (the runner's scan)."""
    kwargs.setdefault(
        "notes",
        "Personal data: no direct personal data in a mart: no column named like it (e-mail, names, phone, "
        "address, ...) and no e-mail- or phone-number-like value in any string column (a DuckDB scan of the mart).",
    )
    kwargs.setdefault("personal_data_values", {"$PARAMETER": PERSONAL_DATA_VALUES_PARAMETER})
    return _no_personal_data_expectation_class()(regex_list=list(patterns), **kwargs)


# --------------------------------------------------------------------------- values in messages


def plain(value: Any) -> Any:
    """numpy / pandas scalars (and tuples of them) as plain Python values for messages."""
    import pandas as pd

    if isinstance(value, (tuple, list)):
        return type(value)(plain(v) for v in value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if type(value).__name__ == "datetime64":  # numpy: .item() of nanoseconds gives an int
        value = pd.Timestamp(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def shown(value: Any) -> str:
    """A value in a plausibility message: numbers with thousands separators (amounts to the cent)."""
    value = plain(value)
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4g}"
    return str(value)


# --------------------------------------------------------------------------- plausibility bounds

#: The meta keys of a bounded expectation (`expect_within`): the columns that name the failing
#: record in the report, and the names of the bounds (a var of dbt_project.yml).
RECORD_META = "record_columns"
BOUND_NAMES_META = "bound_names"
#: The meta key of an expectation on a count of violations (`expect_no_violations`): the report
#: says how many rows of the mart break the rule and names the first (its RECORD_META column).
VIOLATIONS_META = "violations_of"


def expect_within(
    gxe,
    column: str,
    notes: str,
    *,
    min_parameter: str | None = None,
    max_parameter: str | None = None,
    record: tuple[str, ...] = (),
    row_condition=None,
    max_label: str | None = None,
):
    """Plausibility: every value of `column` lies within the suite parameters `min_parameter` /
    `max_parameter` (named after the var that sets them, or `max_label`). A failure names each
    failing row by its `record` columns ("name value, ..."; a column `record` or `*_record` as it is) and the
    bound it broke, e.g. `order_id O-1 (completed, 2024-05-01): revenue 2,500,000.00 >
    max_revenue_per_order 1,000,000.00`."""
    bounds: dict[str, Any] = {}
    names: dict[str, str] = {}
    if min_parameter:
        bounds["min_value"] = {"$PARAMETER": min_parameter}
        names["min_value"] = min_parameter
    if max_parameter:
        bounds["max_value"] = {"$PARAMETER": max_parameter}
        names["max_value"] = max_label or max_parameter
    where = {} if row_condition is None else {"row_condition": row_condition}
    return gxe.ExpectColumnValuesToBeBetween(
        column=column,
        notes=f"{PLAUSIBILITY}: {notes}",
        meta={RECORD_META: list(record), BOUND_NAMES_META: names},
        **bounds,
        **where,
    )


#: Suite parameters of the period gates (`add_period_plausibility`, `expect_plausible_periods`).
EARLIEST_PLAUSIBLE_DATE = "earliest_plausible_date"
MAX_PERIODS_PER_GRAIN = "max_periods_per_grain"


def add_period_plausibility(
    df: pd.DataFrame, ctx, period_column: str = "period_start", grain_column: str | None = "period_grain"
) -> pd.DataFrame:
    """For the period gates: the periods of each grain (`periods_in_grain`, distinct starts),
    `grain_record` naming the grain and its first and last start, and `is_grain_summary_row` on one
    row per grain; the bounds as suite
    parameters (vars earliest_plausible_date and max_periods_per_grain, int_run_parameters). A
    mart without a grain column (one row per month) counts its months as one grain."""
    import pandas as pd

    run = ctx.run
    ctx.parameters[EARLIEST_PLAUSIBLE_DATE] = pd.Timestamp(run.earliest_plausible_date)
    ctx.parameters[MAX_PERIODS_PER_GRAIN] = run.max_periods_per_grain
    if not has(df, period_column) or (grain_column and not has(df, grain_column)):
        return df
    grains = df[grain_column] if grain_column else pd.Series("month", index=df.index)
    starts = pd.to_datetime(df[period_column])
    by_grain = starts.groupby(grains)
    df["periods_in_grain"] = by_grain.transform("nunique").astype("float64")
    first = by_grain.transform("min").dt.strftime("%Y-%m-%d")
    last = by_grain.transform("max").dt.strftime("%Y-%m-%d")
    df["grain_record"] = grains.astype(str) + " periods " + first + " to " + last
    df["is_grain_summary_row"] = ~grains.duplicated()
    return df


def expect_plausible_periods(gxe, period_column: str = "period_start", record: tuple[str, ...] = ()) -> list:
    """No period starts before the earliest plausible date; no grain has more periods than
    max_periods_per_grain (both named after their var)."""
    from great_expectations.expectations.row_conditions import Column

    return [
        expect_within(
            gxe,
            period_column,
            f"no period starts before the earliest plausible date (var {EARLIEST_PLAUSIBLE_DATE}).",
            min_parameter=EARLIEST_PLAUSIBLE_DATE,
            record=record or (period_column,),
        ),
        expect_within(
            gxe,
            "periods_in_grain",
            f"no grain has more periods than var {MAX_PERIODS_PER_GRAIN}.",
            max_parameter=MAX_PERIODS_PER_GRAIN,
            record=("grain_record",),
            row_condition=Column("is_grain_summary_row") == True,  # noqa: E712 (a GX row condition)
        ),
    ]


def expect_integer_columns(gxe, columns: list[str]) -> list:
    """Contract: each column holds whole numbers (an integer type)."""
    return [
        gxe.ExpectColumnValuesToBeInTypeList(
            column=column, type_list=INTEGER_DTYPES, notes=f"{CONTRACT}: {column} is a whole number."
        )
        for column in columns
    ]


#: Suite parameters of `expect_rows_unless_not_exported`, set by the runner from raw.load_manifest.
MIN_ROWS_PARAMETER = "min_rows_unless_not_exported"
MAX_ROWS_PARAMETER = "max_rows_unless_not_exported"


def expect_rows_unless_not_exported(gxe, what: str):
    """Plausibility: the mart has rows when the entities it is built from (its suite's `built_from`)
    were exported, and none when one of them has no export at all (the runner sets the bounds)."""
    return gxe.ExpectTableRowCountToBeBetween(
        min_value={"$PARAMETER": MIN_ROWS_PARAMETER},
        max_value={"$PARAMETER": MAX_ROWS_PARAMETER},
        notes=(
            f"{PLAUSIBILITY}: {what} is not empty; when the company exports none of what it is built from "
            "(raw.load_manifest), it is empty."
        ),
    )


def cents(values: pd.Series) -> pd.Series:
    """Amounts as whole cents (float64, NaN stays NaN), so that equality is to the cent."""
    import pandas as pd

    return (pd.to_numeric(values, errors="coerce").astype("float64") * 100).round()


def has(df: pd.DataFrame, *columns: str) -> bool:
    return all(c in df.columns for c in columns)


def expect_reconciled(
    gxe, column: str, other_column: str, key_column: str, parameter: str, notes: str, row_condition=None
) -> list:
    """`column` equals the figure recomputed from staging on every row (of `row_condition`), and
    every key of staging (suite parameter `parameter`) has a row."""
    where = {} if row_condition is None else {"row_condition": row_condition}
    return [
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A=column, column_B=other_column, notes=f"{RECONCILIATION_WITH_STAGING}: {notes}", **where
        ),
        gxe.ExpectColumnDistinctValuesToContainSet(
            column=key_column,
            value_set={"$PARAMETER": parameter},
            notes=f"{RECONCILIATION_WITH_STAGING}: every {key_column} of staging has a row.",
            **where,
        ),
    ]


def staging_figures(ctx, what: str, compute) -> Any:
    """Run a recomputation for a reconciliation; a failure is a problem of the suite, never a skip."""
    try:
        return compute()
    except Exception as exc:  # e.g. no staging.stg_survey__survey_responses
        ctx.problem(f"{what} could not be computed from staging: {type(exc).__name__}: {exc}")
        return None


# --------------------------------------------------------------------------- summaries of large marts


def expect_no_violations(gxe, check: str, notes: str):
    """The summary's count `check` (flows.validation.summaries.summarize_rows) is 0: no row of the
    mart breaks the rule. A failure says how many rows do and names the first: `failed on 2 rows
    (e.g. customer_id c1: p_alive 1.20)`. `notes` starts with the kind (Plausibility, ...)."""
    return gxe.ExpectColumnValuesToBeBetween(
        column=check,
        min_value=0,
        max_value=0,
        notes=notes,
        meta={VIOLATIONS_META: check, RECORD_META: [f"{check}_record"]},
    )


def expect_summary_rows(gxe, what: str):
    """Plausibility on a summary's `rows` (the mart's row count): within the runner's bounds, at
    least one row, or none when an entity the mart is built from has no export at all (as
    `expect_rows_unless_not_exported` on a whole mart)."""
    return expect_within(
        gxe,
        "rows",
        f"{what} is not empty; when the company exports none of what it is built from (raw.load_manifest), "
        "it is empty.",
        min_parameter=MIN_ROWS_PARAMETER,
        max_parameter=MAX_ROWS_PARAMETER,
        record=("rows",),
    )


def expect_one_row_per_customer(gxe, mart: str) -> list:
    return [
        expect_no_violations(
            gxe,
            "rows_without_completed_order",
            f"{RECONCILIATION_WITH_STAGING}: only customers with a completed order up to the as-of date are in {mart}.",
        ),
        expect_no_violations(
            gxe,
            "customers_without_row",
            f"{RECONCILIATION_WITH_STAGING}: every customer with a completed order up to the as-of date (staging "
            f"orders) has a row in {mart} (one: the mart's primary key).",
        ),
    ]
