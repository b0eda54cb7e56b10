"""The parameters of the build, as dbt built them: the one row of `intermediate.int_run_parameters`.

The suites never restate a dbt rule or re-read `dbt_project.yml`: the as-of date (dbt's
`int_as_of_date_resolved`), the churn window, the reporting currency and time zone, the period
grains, the persona names, the score categories and the bounds of the plausibility gates are read
here from the open warehouse that dbt built. A warehouse without the table (or with an incomplete one) fails the suites that need it,
naming the table (`RunParametersError`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

SCHEMA = "intermediate"
TABLE = "int_run_parameters"
RUN_PARAMETERS_TABLE = f"{SCHEMA}.{TABLE}"

#: The columns read, in this order.
COLUMNS = (
    "as_of_date",
    "churn_window_days",
    "reporting_currency",
    "reporting_timezone",
    "period_grains",
    "persona_names",
    "nps_categories",
    "ces_categories",
    "csat_categories",
    # the bounds of the plausibility gates (docs/checks.md, "Plausibility gates")
    "earliest_plausible_date",
    "days_after_load_day",
    "max_monthly_lapse_share",
    "lapse_share_min_customers_start",
    "max_periods_per_grain",
    "min_revenue_per_order",
    "max_revenue_per_order",
)


class RunParametersError(RuntimeError):
    """`intermediate.int_run_parameters` is missing, incomplete or not one row."""


@dataclass(frozen=True)
class RunParameters:
    """What the build used (typed): every figure stands on `as_of_date`."""

    as_of_date: dt.date
    churn_window_days: int
    reporting_currency: str
    reporting_timezone: str
    period_grains: tuple[str, ...]
    persona_names: tuple[str, ...]
    nps_categories: tuple[str, ...]
    ces_categories: tuple[str, ...]
    csat_categories: tuple[str, ...]
    earliest_plausible_date: dt.date
    days_after_load_day: int
    max_monthly_lapse_share: float
    lapse_share_min_customers_start: int
    max_periods_per_grain: int
    min_revenue_per_order: float
    max_revenue_per_order: float

    @property
    def as_of_text(self) -> str:
        """The as-of date as YYYY-MM-DD."""
        return self.as_of_date.isoformat()

    @property
    def score_categories(self) -> dict[str, tuple[str, ...]]:
        """{score type: its categories, from the highest scores to the lowest}."""
        return {"nps": self.nps_categories, "ces": self.ces_categories, "csat": self.csat_categories}

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COLUMNS}


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _as_list(name: str, value: Any) -> tuple[str, ...]:
    if value is None or isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise RunParametersError(f"{RUN_PARAMETERS_TABLE}.{name} is not a list: {value!r}")
    return tuple(str(v) for v in value)


def read_run_parameters(con: duckdb.DuckDBPyConnection) -> RunParameters:
    """The one row of intermediate.int_run_parameters; RunParametersError when there is none."""
    present = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [SCHEMA, TABLE],
        ).fetchall()
    }
    if not present:
        raise RunParametersError(
            f"{RUN_PARAMETERS_TABLE} is missing from the warehouse (run dbt build): the suites take the "
            "as-of date and the other parameters of the build from it"
        )
    missing = [c for c in COLUMNS if c not in present]
    if missing:
        raise RunParametersError(f"{RUN_PARAMETERS_TABLE} has no column {', '.join(missing)} (run dbt build)")
    rows = con.execute(f"select {', '.join(COLUMNS)} from {RUN_PARAMETERS_TABLE}").fetchall()
    if len(rows) != 1:
        raise RunParametersError(f"{RUN_PARAMETERS_TABLE} has {len(rows)} rows, not one")
    values = dict(zip(COLUMNS, rows[0]))
    empty = [name for name, value in values.items() if value is None]
    if empty:
        raise RunParametersError(f"{RUN_PARAMETERS_TABLE}.{', '.join(empty)} is null")
    return RunParameters(
        as_of_date=_as_date(values["as_of_date"]),
        churn_window_days=int(values["churn_window_days"]),
        reporting_currency=str(values["reporting_currency"]),
        reporting_timezone=str(values["reporting_timezone"]),
        period_grains=_as_list("period_grains", values["period_grains"]),
        persona_names=_as_list("persona_names", values["persona_names"]),
        nps_categories=_as_list("nps_categories", values["nps_categories"]),
        ces_categories=_as_list("ces_categories", values["ces_categories"]),
        csat_categories=_as_list("csat_categories", values["csat_categories"]),
        earliest_plausible_date=_as_date(values["earliest_plausible_date"]),
        days_after_load_day=int(values["days_after_load_day"]),
        max_monthly_lapse_share=float(values["max_monthly_lapse_share"]),
        lapse_share_min_customers_start=int(values["lapse_share_min_customers_start"]),
        max_periods_per_grain=int(values["max_periods_per_grain"]),
        min_revenue_per_order=float(values["min_revenue_per_order"]),
        max_revenue_per_order=float(values["max_revenue_per_order"]),
    )
