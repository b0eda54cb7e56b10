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
    kwargs.setdefault("notes", "Personal data: no direct personal data (e-mail, names, phone, address, ...) in a mart.")
    return _no_personal_data_expectation_class()(regex_list=list(patterns), **kwargs)


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
