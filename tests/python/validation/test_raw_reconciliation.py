"""The other side of the reconciliations (flows.validation.raw.RawSide) and the run parameters it
stands on (flows.validation.parameters), on the hand-made warehouse (no GX): the rules come from
dbt (the current version of an order and its local date from staging, the as-of date from
int_run_parameters), the values from raw."""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import pandas as pd
import pytest

from flows import dbt_artifacts
from flows.validation.parameters import RunParametersError, read_run_parameters
from flows.validation.raw import RawSide
from tests.python.validation.conftest import RUN_PARAMETERS, YEAR_REVENUE_CENTS, broken_copy


def _raw_side(warehouse, **replaced) -> tuple[duckdb.DuckDBPyConnection, RawSide]:
    con = duckdb.connect(str(warehouse), read_only=True)
    run = read_run_parameters(con)
    return con, RawSide(con, dataclasses.replace(run, **replaced))


def test_run_parameters_come_from_int_run_parameters(base_warehouse):
    with duckdb.connect(str(base_warehouse), read_only=True) as con:
        run = read_run_parameters(con)
    assert run.as_of_date == dt.date(2024, 4, 20) and run.as_of_text == "2024-04-20"
    assert run.churn_window_days == 365
    assert (run.reporting_currency, run.reporting_timezone) == ("EUR", "Europe/Amsterdam")
    assert run.period_grains == ("month", "quarter", "year")
    assert run.persona_names == tuple(RUN_PARAMETERS["persona_names"])
    assert run.score_categories == {
        "nps": ("promoter", "passive", "detractor"),
        "ces": ("easy", "neutral", "hard"),
        "csat": ("satisfied", "neutral", "dissatisfied"),
    }


def test_missing_or_broken_run_parameters_are_named(tmp_path, base_warehouse):
    cases = {
        "missing": ("drop table intermediate.int_run_parameters", "intermediate.int_run_parameters is missing"),
        "column": ("alter table intermediate.int_run_parameters drop column period_grains", "no column period_grains"),
        "rows": (
            "insert into intermediate.int_run_parameters select * from intermediate.int_run_parameters",
            "has 2 rows, not one",
        ),
        "null": ("update intermediate.int_run_parameters set as_of_date = null", "as_of_date is null"),
    }
    for name, (statement, message) in cases.items():
        warehouse = broken_copy(base_warehouse, tmp_path / name, statement)
        with duckdb.connect(str(warehouse), read_only=True) as con, pytest.raises(RunParametersError, match=message):
            read_run_parameters(con)


def test_raw_revenue_by_year_follows_versions_time_zone_and_rates(base_warehouse):
    """The current versions dbt's staging names (o4 cancelled later, o5 completed later, o6's last
    line), the order dates staging gives (o3 on 1 January 2024 in Amsterdam), raw's amounts converted
    with the ASOF rate and rounded per order."""
    con, raw = _raw_side(base_warehouse)
    with con:
        by_year = raw.completed_revenue_by_year()
        assert raw.orders_without_current_version() == 0
    assert dict(zip(by_year["year"].astype(int), by_year["revenue_cents"].astype(int))) == YEAR_REVENUE_CENTS
    assert dict(zip(by_year["year"].astype(int), by_year["completed_orders"].astype(int))) == {2023: 2, 2024: 4}
    assert dict(zip(by_year["year"].astype(int), by_year["customers"].astype(int))) == {2023: 2, 2024: 4}
    assert by_year["orders_without_rate"].sum() == 0


def test_raw_revenue_excludes_orders_after_the_as_of_date(base_warehouse):
    con, raw = _raw_side(base_warehouse, as_of_date=dt.date(2024, 3, 31))
    with con:
        by_year = raw.completed_revenue_by_year()
    assert dict(zip(by_year["year"].astype(int), by_year["revenue_cents"].astype(int))) == {
        2023: 14500,
        2024: 7570 - 3166,
    }


def test_values_come_from_raw_and_every_order_needs_its_current_version(tmp_path, base_warehouse):
    """Staging that lost an order (o2), or points an order at an old version (o4, completed in its
    first load): the raw side sees the order without a current version, and takes the amount and
    status of the raw row staging names, whatever staging says of them."""
    warehouse = broken_copy(
        base_warehouse,
        tmp_path,
        "delete from staging.stg_crm__orders where order_id = 'o2'",
        "update staging.stg_crm__orders set load_id = 1, line = 4, order_status = 'cancelled' where order_id = 'o4'",
    )
    con, raw = _raw_side(warehouse)
    with con:
        assert raw.orders_without_current_version() == 1
        by_year = raw.completed_revenue_by_year()
    # 2023: o1 100.00 and o4's first version 30.00 (completed in raw), without o2's 45.00
    assert dict(zip(by_year["year"].astype(int), by_year["revenue_cents"].astype(int))) == {2023: 13000, 2024: 7570}


def test_an_order_without_an_exchange_rate_has_no_raw_revenue(tmp_path, base_warehouse):
    warehouse = broken_copy(
        base_warehouse,
        tmp_path,
        "insert into raw.orders select * replace ('o99' as order_id, 'JPY' as currency, 3 as _load_id) "
        "from raw.orders where order_id = 'o1'",
        "insert into staging.stg_crm__orders values ('o99', 'c1', date '2023-01-10', 'completed', 3, 1)",
    )
    con, raw = _raw_side(warehouse)
    with con:
        by_year = raw.completed_revenue_by_year().set_index("year")
    assert by_year.loc[2023, "orders_without_rate"] == 1 and pd.isna(by_year.loc[2023, "revenue_cents"])
    assert by_year.loc[2024, "revenue_cents"] == 7570


def test_staging_responses_stand_on_the_run_as_of_date(base_warehouse):
    con, raw = _raw_side(base_warehouse)
    with con:
        assert raw.staging_responses("select count(*) as n from valid_responses")["n"].tolist() == [4]  # r5 is later
        assert raw.responses_per_customer() == {"c1": 2.0, "c2": 1.0, "c4": 1.0}
        assert raw.responses_per_period()["year 2024-01-01"] == 2.0
        # judged: answers at least W = 365 days old on 2024-04-20: r1 (NPS, CSAT) and r2 (NPS, CES, CSAT)
        assert raw.judged_answers_per_score_type() == {"nps": 2.0, "ces": 1.0, "csat": 2.0}
        assert raw.contacts_per_month() == {"2024-02-01": 1.0, "2024-03-01": 1.0}
        assert raw.customers_with_completed_orders() == {"c1", "c2", "c4", "c5"}
    con, earlier = _raw_side(base_warehouse, as_of_date=dt.date(2024, 1, 31))
    with con:
        assert earlier.staging_responses("select count(*) as n from valid_responses")["n"].tolist() == [3]
        assert earlier.customers_with_completed_orders() == {"c1", "c2"}
        assert sorted(earlier.marketing_spend()["month"]) == []


@pytest.mark.integration
def test_the_run_parameters_of_a_build_are_the_vars_of_its_manifest(sample_run):
    """What the suites read from the warehouse is what dbt recorded for the same build."""
    with duckdb.connect(str(sample_run.warehouse), read_only=True) as con:
        run = read_run_parameters(con)
        last_completed = con.execute(
            "select max(order_date) from staging.stg_crm__orders where order_status = 'completed'"
        ).fetchone()[0]
    built = dbt_artifacts.manifest_vars(sample_run.dbt_target)
    assert built is not None
    assert built["as_of_date"] == "" and run.as_of_date == last_completed
    for name in ("churn_window_days", "reporting_currency", "reporting_timezone"):
        assert getattr(run, name) == built[name], name
    for name in ("period_grains", "persona_names", "nps_categories", "ces_categories", "csat_categories"):
        assert list(getattr(run, name)) == list(built[name]), name
    # the bounds of the plausibility gates
    assert run.earliest_plausible_date.isoformat() == str(built["earliest_plausible_date"])
    for name in (
        "days_after_load_day",
        "max_monthly_lapse_share",
        "lapse_share_min_customers_start",
        "max_periods_per_grain",
        "min_revenue_per_order",
        "max_revenue_per_order",
    ):
        assert getattr(run, name) == built[name], name
