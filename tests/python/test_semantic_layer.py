"""MetricFlow's answers (models/semantic/) equal the marts' columns on the session's sample run: every
audit figure by month, quarter and year exactly, and the voice, cohort, concentration and acquisition
cost metrics where the mart has the same figure. One MetricFlow query per grain and figure group,
compiled in process (flows/semantic_layer.py) and run on a read-only attachment of the build warehouse."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb
import pytest

from flows.semantic_layer import SemanticLayer

pytestmark = pytest.mark.integration

#: Audit metrics that read the month rows and are right at any grain: metric name = mart column.
GRAIN_FREE = [
    "customers_start",
    "gross_new_customers",
    "reactivated_customers",
    "lost_customers",
    "net_new_customers",
    "customers_end",
    "active_new_customers",
    "orders",
    "revenue",
    "average_order_value",
]
#: Audit metrics bound to the period they are counted in: {grain}ly_<column> (yearly, quarterly, monthly).
GRAIN_BOUND = [
    "active_customers",
    "active_existing_customers",
    "revenue_new_customers",
    "revenue_existing_customers",
    "revenue_per_new_customer",
    "revenue_per_existing_customer",
]
ADJECTIVE = {"month": "monthly", "quarter": "quarterly", "year": "yearly"}


@pytest.fixture(scope="module")
def layer(sample_run) -> SemanticLayer:
    return SemanticLayer(sample_run.dbt_target / "semantic_manifest.json", sample_run.warehouse)


@pytest.fixture(scope="module")
def warehouse(sample_run):
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        yield con


def day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def mart_rows(con: duckdb.DuckDBPyConnection, sql: str, key: str) -> dict[Any, dict[str, Any]]:
    relation = con.sql(sql)
    return {row[key]: row for row in (dict(zip(relation.columns, values)) for values in relation.fetchall())}


@pytest.mark.parametrize("grain", ["month", "quarter", "year"])
def test_every_audit_metric_equals_the_mart_by_grain(layer, warehouse, grain: str) -> None:
    bound = {f"{ADJECTIVE[grain]}_{column}": column for column in GRAIN_BOUND}
    time = f"metric_time__{grain}"
    answers = layer.query([*GRAIN_FREE, *bound], [time])
    mart = mart_rows(
        warehouse,
        f"select * from marts.customer_audit_figures where period_grain = '{grain}' order by period_start",
        "period_start",
    )
    assert [day(row[time]) for row in answers] == list(mart), "MetricFlow's periods are the mart's"
    differences = [
        (day(row[time]), metric, row[metric], mart[day(row[time])][column])
        for row in answers
        for metric, column in [*((m, m) for m in GRAIN_FREE), *bound.items()]
        if row[metric] != mart[day(row[time])][column]
    ]
    assert differences == []
    # the sample exercises every figure: no figure is trivially equal
    for column in ["reactivated_customers", "lost_customers", "active_existing_customers"]:
        assert sum(row[column] for row in mart.values()) > 0


def test_a_grain_bound_metric_refuses_a_finer_grain(layer) -> None:
    with pytest.raises(Exception, match="does not match any of the available group-by-items"):
        layer.sql(["quarterly_active_customers"], ["metric_time__month"])


def close(a: float | None, b: float | None, decimals: int) -> bool:
    """MetricFlow's unrounded score against the mart's, rounded to `decimals`."""
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 10 ** (-decimals) / 2 + 1e-9


def test_voice_scores_equal_the_mart_by_quarter_and_touchpoint_type(layer, warehouse) -> None:
    time = "metric_time__quarter"
    answers = layer.query(
        ["nps", "nps_answers", "promoters", "detractors", "ces_mean", "ces_easy_share", "csat_score", "csat_mean"],
        [time, "survey_response__touchpoint_type"],
    )
    mart = mart_rows(
        warehouse,
        """select period_start || '/' || touchpoint_type as key, * from marts.survey_scores
           where period_grain = 'quarter' and channel = 'all' and touchpoint_type <> 'all'""",
        "key",
    )
    assert len(answers) == len(mart) > 10
    for row in answers:
        expected = mart[f"{day(row[time])}/{row['survey_response__touchpoint_type']}"]
        assert (row["nps_answers"], row["promoters"], row["detractors"]) == (
            expected["nps_answers"],
            expected["promoters"],
            expected["detractors"],
        )
        for metric, decimals in [("nps", 2), ("ces_mean", 2), ("csat_mean", 2), ("ces_easy_share", 4)]:
            assert close(row[metric], expected[metric], decimals), (metric, row, expected[metric])
        assert close(row["csat_score"], expected["csat_score"], 4), (row, expected["csat_score"])


def test_nps_of_a_year_is_computed_from_counts_not_averaged(layer, warehouse) -> None:
    answers = {day(r["metric_time__year"]): r["nps"] for r in layer.query(["nps"], ["metric_time__year"])}
    mart = dict(
        warehouse.sql(
            """select period_start, nps from marts.survey_scores
               where period_grain = 'year' and touchpoint_type = 'all' and channel = 'all'"""
        ).fetchall()
    )
    assert set(answers) == set(mart)
    assert all(close(answers[year], mart[year], 2) for year in mart), (answers, mart)


def test_response_rate_equals_the_mart_by_month_and_touchpoint_type(layer, warehouse) -> None:
    time = "metric_time__month"
    answers = layer.query(
        ["response_rate"],
        [time, "survey_touchpoint_month__touchpoint_type"],
        where=["{{ Dimension('survey_touchpoint_month__touchpoint_type') }} in ('order', 'contact')"],
    )
    mart = mart_rows(
        warehouse,
        """select period_start || '/' || touchpoint_type as key, response_rate from marts.survey_scores
           where period_grain = 'month' and channel = 'all' and touchpoint_type in ('order', 'contact')""",
        "key",
    )
    assert len(answers) == len(mart) > 10
    for row in answers:
        key = f"{day(row[time])}/{row['survey_touchpoint_month__touchpoint_type']}"
        assert close(row["response_rate"], mart[key]["response_rate"], 4), (key, row)


def test_cohort_retention_and_cac_equal_the_marts_all_rows(layer, warehouse) -> None:
    months = "acquisition_cohort__months_since_acquisition"
    retention = layer.query(["cohort_retention_rate"], ["metric_time__month", months])
    mart = dict(
        warehouse.sql(
            """select cohort_month || '/' || months_since_acquisition, retention_rate
               from marts.acquisition_cohorts where acquisition_channel = 'all'"""
        ).fetchall()
    )
    assert len(retention) == len(mart) > 100
    for row in retention:
        key = f"{day(row['metric_time__month'])}/{row[months]}"
        assert close(row["cohort_retention_rate"], mart[key], 4), (key, row)

    cac = {day(r["metric_time__month"]): r["cac"] for r in layer.query(["cac"], ["metric_time__month"])}
    mart_cac = dict(
        warehouse.sql(
            "select acquisition_month, cac from marts.acquisition_cost where acquisition_channel = 'all'"
        ).fetchall()
    )
    assert sum(value is not None for value in mart_cac.values()) > 10
    assert all(close(cac.get(month), value, 2) for month, value in mart_cac.items()), (cac, mart_cac)


def test_concentration_metrics_are_the_marts_years(layer, warehouse) -> None:
    metrics = ["top_20_pct_revenue_share", "customer_share_for_target_revenue", "gini_coefficient"]
    answers = layer.query(metrics, ["metric_time__year"])
    mart = mart_rows(warehouse, "select * from marts.revenue_concentration where period_grain = 'year'", "period_start")
    assert [day(r["metric_time__year"]) for r in answers] == sorted(mart)
    assert all(row[m] == mart[day(row["metric_time__year"])][m] for row in answers for m in metrics)
