"""Great Expectations validation of the marts (flows.validate, flows.expectations), with real GX.

A tiny warehouse is made by hand: raw.orders with several versions per order, offsets and
currencies; reference.currency_rates; and marts built from the same six completed orders so
that every identity holds and the yearly revenue reconciles with the raw orders to the cent.
Each scenario (good data, and one deliberate fault each) is validated once per module.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from flows import validate
from flows.config import PROJECT_DIR
from flows.expectations import SUITES, raw_completed_revenue_by_year, register_suite
from flows.ingest import ensure_raw_schema

# Pin the vars the figures below were computed with (dbt_project.yml may change).
VARS = {"reporting_currency": "EUR", "reporting_timezone": "Europe/Amsterdam", "as_of_date": ""}

# --------------------------------------------------------------------------- raw data

RATES = [  # month, currency, rate (value of one unit in EUR)
    ("2023-01-01", "USD", "0.90000000"),
    ("2024-03-01", "USD", "0.95000000"),
    ("2024-01-01", "GBP", "1.17000000"),
]

# order_id, customer_id, ordered_at, status, amount, currency, _load_id, _line
RAW_ORDERS = [
    ("o1", "c1", "2023-01-10T10:00:00", "completed", "100.00", "EUR", 1, 1),
    # 12:00 UTC; USD with the January rate (ASOF): 50.00 * 0.9 = 45.00
    ("o2", "c2", "2023-02-15 12:00:00+00:00", "completed", "50.00", "USD", 1, 2),
    # 23:30 UTC on New Year's Eve is 00:30 on 1 January 2024 in Amsterdam; empty currency = EUR
    ("o3", "c1", "2023-12-31T23:30:00Z", "completed", "20.00", None, 1, 3),
    # completed in the first load, cancelled in the second: not revenue
    ("o4", "c3", "2023-06-01T09:00:00", "completed", "30.00", "EUR", 1, 4),
    ("o4", "c3", "2023-06-01T09:00:00", "cancelled", "30.00", "EUR", 2, 1),
    # cancelled first, completed in the later load: 10.00 GBP * 1.17 = 11.70
    ("o5", "c2", "2024-03-05T09:00:00", "cancelled", "10.00", "GBP", 1, 5),
    ("o5", "c2", "2024-03-05T09:00:00", "completed", "10.00", "GBP", 2, 2),
    # two lines of one file: the last line wins (12.34, not 99.99)
    ("o6", "c4", "2024-02-01T08:00:00", "completed", "99.99", "EUR", 2, 3),
    ("o6", "c4", "2024-02-01T08:00:00", "completed", "12.34", "EUR", 2, 7),
    ("o7", "c4", "2024-02-10T08:00:00", "refunded", "80.00", "EUR", 2, 4),
    # USD with the March 2024 rate: 33.33 * 0.95 = 31.6635 -> 31.66
    ("o8", "c5", "2024-04-20T15:00:00-04:00", "completed", "33.33", "USD", 2, 5),
]

# The completed orders as the marts see them: local order date, customer, EUR amount.
COMPLETED = [
    ("2023-01-10", "c1", "100.00"),
    ("2023-02-15", "c2", "45.00"),
    ("2024-01-01", "c1", "20.00"),
    ("2024-02-01", "c4", "12.34"),
    ("2024-03-05", "c2", "11.70"),
    ("2024-04-20", "c5", "31.66"),
]
AS_OF = dt.date(2024, 4, 20)
# Customer base events: first order (new), W = 365 days without an order (lost), back (reactivated).
EVENTS = [
    ("2023-01-10", "c1", "new"),
    ("2023-02-15", "c2", "new"),
    ("2024-02-01", "c4", "new"),
    ("2024-02-14", "c2", "lost"),
    ("2024-03-05", "c2", "reactivated"),
    ("2024-04-20", "c5", "new"),
]
YEAR_REVENUE_CENTS = {2023: 14500, 2024: 7570}


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _periods(grain: str, first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    start = dt.date(first.year, 1 if grain == "year" else (first.month - 1) // months * months + 1, 1)
    periods = []
    while start <= last:
        month_index = start.year * 12 + start.month - 1 + months
        following = dt.date(month_index // 12, month_index % 12 + 1, 1)
        periods.append((start, following - dt.timedelta(days=1)))
        start = following
    return periods


def audit_figures() -> pd.DataFrame:
    """customer_audit_figures computed from COMPLETED and EVENTS: consistent by construction."""
    orders = [(_date(d), c, Decimal(a)) for d, c, a in COMPLETED]
    events = [(_date(d), c, kind) for d, c, kind in EVENTS]
    first_order = {}
    for day, customer, _ in sorted(orders):
        first_order.setdefault(customer, day)
    rows = []
    for grain in ("month", "quarter", "year"):
        for start, end in _periods(grain, min(first_order.values()), AS_OF):
            before = defaultdict(int)
            during = defaultdict(int)
            for day, _, kind in events:
                if day < start:
                    before[kind] += 1
                elif day <= end:
                    during[kind] += 1
            customers_start = before["new"] + before["reactivated"] - before["lost"]
            net_new = during["new"] + during["reactivated"] - during["lost"]
            in_period = [(c, a) for d, c, a in orders if start <= d <= end]
            new_ids = {c for c, day in first_order.items() if start <= day <= end}
            active = {c for c, _ in in_period}
            revenue = sum((a for _, a in in_period), Decimal("0.00"))
            revenue_new = sum((a for c, a in in_period if c in new_ids), Decimal("0.00"))
            revenue_existing = revenue - revenue_new
            existing = len(active - new_ids)
            rows.append(
                {
                    "period_grain": grain,
                    "period_start": start,
                    "period_end": end,
                    "is_complete": end <= AS_OF,
                    "customers_start": customers_start,
                    "customers_end": customers_start + net_new,
                    "gross_new_customers": during["new"],
                    "reactivated_customers": during["reactivated"],
                    "lost_customers": during["lost"],
                    "net_new_customers": net_new,
                    "active_customers": len(active),
                    "active_new_customers": len(new_ids),
                    "active_existing_customers": existing,
                    "orders": len(in_period),
                    "revenue": revenue,
                    "revenue_new_customers": revenue_new,
                    "revenue_existing_customers": revenue_existing,
                    "revenue_per_new_customer": revenue_new / len(new_ids) if new_ids else None,
                    "revenue_per_existing_customer": revenue_existing / existing if existing else None,
                    "average_order_value": revenue / len(in_period) if in_period else None,
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- personas and value

# Staging as dbt builds it from RAW_ORDERS (latest version, local dates); as-of date 2024-04-20.
STAGING_ORDERS = [
    ("o1", "c1", "2023-01-10", "completed"),
    ("o2", "c2", "2023-02-15", "completed"),
    ("o3", "c1", "2024-01-01", "completed"),
    ("o4", "c3", "2023-06-01", "cancelled"),
    ("o5", "c2", "2024-03-05", "completed"),
    ("o6", "c4", "2024-02-01", "completed"),
    ("o7", "c4", "2024-02-10", "refunded"),
    ("o8", "c5", "2024-04-20", "completed"),
]
# month, channel, amount; May is after the as-of month and is not reported
STAGING_SPEND = [
    ("2024-03-01", "paid_search", "10.00"),
    ("2024-04-01", "paid_search", "20.50"),
    ("2024-04-01", "affiliate", "5.25"),
    ("2024-05-01", "paid_search", "99.00"),
]


def build_personas_and_value(con: duckdb.DuckDBPyConnection) -> None:
    """staging.stg_crm__orders and stg_crm__marketing_spend, and the persona / concentration /
    acquisition-cost marts consistent with them."""
    con.execute("create schema if not exists staging")
    con.execute(
        "create table staging.stg_crm__orders (order_id varchar, customer_id varchar, order_date date, order_status varchar)"
    )
    con.executemany("insert into staging.stg_crm__orders values (?, ?, ?, ?)", STAGING_ORDERS)
    con.execute(
        "create table staging.stg_crm__marketing_spend (spend_month date, acquisition_channel varchar, spend_amount decimal(18, 2))"
    )
    con.executemany("insert into staging.stg_crm__marketing_spend values (?, ?, ?)", STAGING_SPEND)
    con.execute(
        """create table marts.customer_personas as
           select customer_id, persona, persona_rule, date '2024-04-20' as as_of_date
           from (values ('c1', 'at_risk', 'at_risk_lapsing'), ('c2', 'loyal_passive', 'loyal_passive_other'),
                        ('c4', 'new', 'new_recently_acquired'), ('c5', 'new', 'new_recently_acquired'))
                as t(customer_id, persona, persona_rule)"""
    )
    con.execute(
        """create table marts.revenue_concentration as
           select period_type, cast(period_start as date) as period_start, cast(period_end as date) as period_end,
                  is_complete, customers, cast(revenue as decimal(18, 2)) as revenue,
                  top_1_pct_revenue_share, top_10_pct_revenue_share, top_20_pct_revenue_share,
                  top_50_pct_revenue_share, 0.8 as target_revenue_share, customers_for_target_revenue,
                  customer_share_for_target_revenue, gini_coefficient
           from (values
               ('year', '2023-01-01', '2023-12-31', true, 2, 145.00, 0.6897, 0.6897, 0.6897, 0.6897, 2, 1.0, 0.1897),
               ('year', '2024-01-01', '2024-04-20', false, 4, 75.70, 0.4168, 0.4168, 0.4168, 0.6810, 3, 0.75, 0.2305),
               ('trailing_12_months', '2023-04-21', '2024-04-20', true, 4, 75.70, 0.4168, 0.4168, 0.4168, 0.6810, 3, 0.75, 0.2305)
           ) as t(period_type, period_start, period_end, is_complete, customers, revenue, top_1_pct_revenue_share,
                  top_10_pct_revenue_share, top_20_pct_revenue_share, top_50_pct_revenue_share,
                  customers_for_target_revenue, customer_share_for_target_revenue, gini_coefficient)"""
    )
    con.execute(
        """create table marts.acquisition_cost as
           select cast(acquisition_month as date) as acquisition_month, acquisition_channel, has_spend,
                  cast(spend_amount as decimal(18, 2)) as spend_amount, new_customers,
                  cast(cac as decimal(18, 2)) as cac
           from (values
               ('2023-01-01', 'organic', false, 0.00, 1, null),
               ('2023-01-01', 'all', false, 0.00, 1, null),
               ('2024-03-01', 'paid_search', true, 10.00, 0, null),
               ('2024-03-01', 'all', true, 10.00, 0, null),
               ('2024-04-01', 'paid_search', true, 20.50, 0, null),
               ('2024-04-01', 'affiliate', true, 5.25, 1, 5.25),
               ('2024-04-01', 'all', true, 25.75, 1, 25.75)
           ) as t(acquisition_month, acquisition_channel, has_spend, spend_amount, new_customers, cac)"""
    )


def build_warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    try:
        ensure_raw_schema(con)
        for order_id, customer_id, ordered_at, status, amount, currency, load_id, line in RAW_ORDERS:
            con.execute(
                """insert into raw.orders (order_id, customer_id, ordered_at, status, amount, discount_amount,
                       currency, channel, _load_id, _file, _line, _loaded_at)
                   values (?, ?, ?, ?, ?, null, ?, 'web', ?, ?, ?, now()::timestamp)""",
                [order_id, customer_id, ordered_at, status, amount, currency, load_id, f"orders_{load_id}.csv", line],
            )
        con.execute("create schema reference")
        con.execute("create table reference.currency_rates (month date, currency varchar, rate decimal(18, 8))")
        con.executemany("insert into reference.currency_rates values (?, ?, ?)", RATES)

        con.execute("create schema marts")
        audit = audit_figures()
        con.register("audit_df", audit)
        money = ["revenue", "revenue_new_customers", "revenue_existing_customers"]
        ratios = ["revenue_per_new_customer", "revenue_per_existing_customer", "average_order_value"]
        counts = [c for c in audit.columns if c not in money + ratios + ["period_grain", "period_start", "period_end", "is_complete"]]
        con.execute(
            "create table marts.customer_audit_figures as select period_grain, "
            "cast(period_start as date) as period_start, cast(period_end as date) as period_end, is_complete, "
            + ", ".join(f"cast({c} as bigint) as {c}" for c in counts)
            + ", "
            + ", ".join(f"cast({c} as decimal(18, 2)) as {c}" for c in money)
            + ", "
            + ", ".join(f"cast({c} as double) as {c}" for c in ratios)
            + " from audit_df"
        )
        con.unregister("audit_df")
        con.execute(
            """create table marts.acquisition_cohorts as
               select cast(cohort_month as date) as cohort_month, acquisition_channel,
                      months_since_acquisition, cohort_size, active_customers,
                      active_customers / cohort_size as retention_rate,
                      cast(revenue as decimal(18, 2)) as revenue, cumulative_revenue_per_customer
               from (values
                   ('2023-01-01', 'web', 0, 1, 1, 100.00, 100.00),
                   ('2023-01-01', 'web', 11, 1, 0, 0.00, 100.00),
                   ('2023-01-01', 'web', 12, 1, 1, 20.00, 120.00),
                   ('2023-02-01', 'store', 0, 1, 1, 45.00, 45.00),
                   ('2023-02-01', 'store', 13, 1, 1, 11.70, 56.70),
                   ('2024-02-01', 'web', 0, 1, 1, 12.34, 12.34),
                   ('2024-04-01', 'referral', 0, 1, 1, 31.66, 31.66)
               ) as t(cohort_month, acquisition_channel, months_since_acquisition, cohort_size,
                      active_customers, revenue, cumulative_revenue_per_customer)"""
        )
        con.execute(
            """create table marts.customers as
               select * from (values
                   ('c1', 'NL', 'web', 120.00, true), ('c2', 'DE', 'store', 56.70, true),
                   ('c3', 'NL', 'web', 0.00, false), ('c4', 'BE', 'web', 12.34, true),
                   ('c5', 'US', 'referral', 31.66, true)
               ) as t(customer_id, country_code, acquisition_channel, revenue, is_customer)"""
        )
        build_personas_and_value(con)
    finally:
        con.close()
    return path


# --------------------------------------------------------------------------- scenarios


@pytest.fixture(scope="module")
def base_warehouse(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("base") / "warehouse.duckdb")


def _scenario(tmp_path_factory, base: Path, name: str, *statements: str) -> tuple[validate.ValidationReport, Path]:
    folder = tmp_path_factory.mktemp(name)
    warehouse = folder / "warehouse.duckdb"
    shutil.copy(base, warehouse)
    if statements:
        with duckdb.connect(str(warehouse)) as con:
            for statement in statements:
                con.execute(statement)
    docs = folder / "output" / "data_docs"
    return validate.validate_warehouse(warehouse, docs, dbt_vars=VARS), docs


@pytest.fixture(scope="module")
def good(tmp_path_factory, base_warehouse):
    return _scenario(tmp_path_factory, base_warehouse, "good")


@pytest.fixture(scope="module")
def customers_end_off_by_one(tmp_path_factory, base_warehouse):
    report, _ = _scenario(
        tmp_path_factory,
        base_warehouse,
        "balance",
        "update marts.customer_audit_figures set customers_end = customers_end + 1 "
        "where period_grain = 'month' and period_start = date '2023-06-01'",
    )
    return report


@pytest.fixture(scope="module")
def year_revenue_off_by_a_cent(tmp_path_factory, base_warehouse):
    # Off by 0.01 against the raw orders, with the split still adding up (only the reconciliation fails).
    report, _ = _scenario(
        tmp_path_factory,
        base_warehouse,
        "reconciliation",
        "update marts.customer_audit_figures set revenue = revenue + 0.01, "
        "revenue_existing_customers = revenue_existing_customers + 0.01 "
        "where period_grain = 'year' and period_start = date '2024-01-01'",
    )
    return report


@pytest.fixture(scope="module")
def order_without_rate(tmp_path_factory, base_warehouse):
    # A completed 2023 order in a currency without a rate: its year's raw revenue is unknown.
    report, _ = _scenario(
        tmp_path_factory,
        base_warehouse,
        "no_rate",
        "insert into raw.orders select * replace ('o99' as order_id, 'JPY' as currency, 3 as _load_id) "
        "from raw.orders where order_id = 'o1'",
    )
    return report


@pytest.fixture(scope="module")
def missing_mart(tmp_path_factory, base_warehouse):
    report, _ = _scenario(tmp_path_factory, base_warehouse, "missing", "drop table marts.acquisition_cohorts")
    return report


@pytest.fixture(scope="module")
def personal_data(tmp_path_factory, base_warehouse):
    report, _ = _scenario(
        tmp_path_factory,
        base_warehouse,
        "personal",
        "alter table marts.customers add column email varchar",
        "update marts.customers set email = customer_id || '@example.com'",
    )
    return report


@pytest.fixture(scope="module")
def personas_one_missing_one_twice(tmp_path_factory, base_warehouse):
    # c5 has no persona and c1 has two: the row count still matches, uniqueness does not
    report, _ = _scenario(
        tmp_path_factory,
        base_warehouse,
        "personas",
        "delete from marts.customer_personas where customer_id = 'c5'",
        "insert into marts.customer_personas select * replace ('ambassador' as persona) "
        "from marts.customer_personas where customer_id = 'c1'",
    )
    return report


@pytest.fixture(scope="module")
def concentration_not_monotone(tmp_path_factory, base_warehouse):
    report, _ = _scenario(
        tmp_path_factory,
        base_warehouse,
        "concentration",
        "update marts.revenue_concentration set top_10_pct_revenue_share = 0.9 where period_start = date '2023-01-01'",
    )
    return report


@pytest.fixture(scope="module")
def spend_a_cent_off(tmp_path_factory, base_warehouse):
    report, _ = _scenario(
        tmp_path_factory,
        base_warehouse,
        "spend",
        "update marts.acquisition_cost set spend_amount = 20.51 "
        "where acquisition_month = date '2024-04-01' and acquisition_channel = 'paid_search'",
        "delete from marts.acquisition_cost where acquisition_month = date '2024-03-01'",
    )
    return report


# --------------------------------------------------------------------------- tests without GX


def test_import_is_cheap():
    """Importing flows.validate does not import Great Expectations (that takes seconds)."""
    code = "import sys, flows.validate; sys.exit(1 if 'great_expectations' in sys.modules else 0)"
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, check=False)
    assert completed.returncode == 0


def test_registry_has_the_core_marts():
    assert {"customer_audit_figures", "acquisition_cohorts", "customers"} <= set(SUITES)
    assert SUITES["customers"].name == "customers_suite"


def test_raw_revenue_by_year_follows_versions_time_zone_and_rates(base_warehouse):
    with duckdb.connect(str(base_warehouse), read_only=True) as con:
        raw = raw_completed_revenue_by_year(con, VARS)
    assert dict(zip(raw["year"].astype(int), raw["revenue_cents"].astype(int))) == YEAR_REVENUE_CENTS
    assert dict(zip(raw["year"].astype(int), raw["completed_orders"].astype(int))) == {2023: 2, 2024: 4}


def test_raw_revenue_excludes_orders_after_the_as_of_date(base_warehouse):
    with duckdb.connect(str(base_warehouse), read_only=True) as con:
        raw = raw_completed_revenue_by_year(con, {**VARS, "as_of_date": "2024-03-31"})
    assert dict(zip(raw["year"].astype(int), raw["revenue_cents"].astype(int))) == {2023: 14500, 2024: 7570 - 3166}


def test_failure_summary_and_error_message():
    report = validate.ValidationReport(
        success=False,
        results=[
            validate.SuiteResult(
                "customer_audit_figures_suite",
                "customer_audit_figures",
                evaluated=40,
                failed=[
                    validate.FailedExpectation(
                        "expect_column_pair_values_to_be_equal",
                        ("customers_end", "expected_customers_end"),
                        "failed on 3 rows",
                        3,
                    )
                ],
            )
        ],
    )
    expected = (
        "customer_audit_figures: expect_column_pair_values_to_be_equal(customers_end, expected_customers_end) "
        "failed on 3 rows"
    )
    assert report.failure_summary() == expected
    error = validate.ValidationError(report)
    assert str(error) == expected and error.report is report


# --------------------------------------------------------------------------- validation with GX


@pytest.mark.slow
def test_good_data_passes_and_writes_data_docs(good):
    report, docs = good
    assert report.success, report.failure_summary()
    assert [r.suite_name for r in report.results][:3] == [
        "customer_audit_figures_suite",
        "acquisition_cohorts_suite",
        "customers_suite",
    ]
    assert all(r.evaluated > 0 and not r.failed for r in report.results)
    assert report.result_for("customer_audit_figures").rows == 16 + 6 + 2
    assert report.data_docs_index == docs / "index.html"
    assert report.data_docs_index.is_file()
    html = report.data_docs_index.read_text()
    assert "customer_audit_figures_suite" in html
    assert report.failure_summary().startswith("all ")


@pytest.mark.slow
def test_customers_end_off_by_one_fails_the_balance_identity(customers_end_off_by_one):
    report = customers_end_off_by_one
    assert not report.success
    summary = report.failure_summary()
    assert (
        "customer_audit_figures: expect_column_pair_values_to_be_equal(customers_end, expected_customers_end) "
        "failed on 1 row" in summary
    )
    assert "month 2023-06-01" in summary  # the failing row is named by its key
    # The next month no longer opens with what June closed with.
    assert "expect_column_pair_values_to_be_equal(customers_start, expected_customers_start)" in summary
    assert report.result_for("acquisition_cohorts").success and report.result_for("customers").success
    with pytest.raises(validate.ValidationError, match="customers_end, expected_customers_end"):
        raise validate.ValidationError(report)


@pytest.mark.slow
def test_year_revenue_a_cent_off_raw_fails_the_reconciliation(year_revenue_off_by_a_cent):
    report = year_revenue_off_by_a_cent
    assert not report.success
    failed = report.result_for("customer_audit_figures").failed
    assert [(f.expectation_type, f.columns) for f in failed] == [
        ("expect_column_pair_values_to_be_equal", ("revenue_cents", "raw_completed_revenue_cents"))
    ]
    assert "year 2024-01-01: (7571, 7570)" in failed[0].observed
    assert "expect_column_pair_values_to_be_equal(revenue_cents, raw_completed_revenue_cents)" in report.failure_summary()


@pytest.mark.slow
def test_order_without_exchange_rate_never_reconciles(order_without_rate):
    report = order_without_rate
    assert not report.success
    failed = {(f.expectation_type, f.columns): f for f in report.result_for("customer_audit_figures").failed}
    assert set(failed) == {
        ("expect_column_values_to_be_between", ("raw_orders_without_rate",)),
        ("expect_column_pair_values_to_be_equal", ("revenue_cents", "raw_completed_revenue_cents")),
    }
    assert "year 2023-01-01: 1" in failed[("expect_column_values_to_be_between", ("raw_orders_without_rate",))].observed


@pytest.mark.slow
def test_missing_registered_mart_fails(missing_mart):
    report = missing_mart
    assert not report.success
    result = report.result_for("acquisition_cohorts")
    assert result is not None and not result.success and result.rows is None
    assert "acquisition_cohorts: mart_exists" in report.failure_summary()
    assert "marts.acquisition_cohorts is missing" in report.failure_summary()
    assert report.result_for("customer_audit_figures").success


@pytest.mark.slow
def test_personal_data_column_fails(personal_data):
    report = personal_data
    assert not report.success
    failed = report.result_for("customers").failed
    assert [f.expectation_type for f in failed] == ["expect_table_columns_to_not_match_regex_list"]
    assert "email" in failed[0].observed
    assert "customers: expect_table_columns_to_not_match_regex_list" in report.failure_summary()


@pytest.mark.slow
def test_a_later_mart_registers_its_suite(tmp_path, base_warehouse):
    """A suite registered for a new mart runs; its failures are reported like the others."""

    @register_suite("persona_summary", key_columns=("persona",))
    def persona_summary_suite(gxe):
        return [
            gxe.ExpectColumnValuesToBeUnique(column="persona"),
            gxe.ExpectColumnValuesToBeBetween(column="share", min_value=0, max_value=1),
        ]

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(base_warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table marts.persona_summary as select * from (values ('loyal', 0.6), ('new', 1.4)) t(persona, share)")
    try:
        report = validate.validate_warehouse(warehouse, tmp_path / "docs", dbt_vars=VARS)
    finally:
        SUITES.pop("persona_summary", None)
    assert report.results[-1].suite_name == "persona_summary_suite"
    assert not report.success
    assert "persona_summary: expect_column_values_to_be_between(share) failed on 1 row (e.g. new: 1.4)" in (
        report.failure_summary()
    )


# --------------------------------------------------------------------------- personas and value


def test_registry_has_the_persona_and_value_marts():
    assert {"customer_personas", "revenue_concentration", "acquisition_cost"} <= set(SUITES)


@pytest.mark.slow
def test_good_persona_and_value_marts_pass(good):
    report, _ = good
    for mart in ("customer_personas", "revenue_concentration", "acquisition_cost"):
        result = report.result_for(mart)
        assert result is not None and result.success and result.evaluated >= 6, mart


@pytest.mark.slow
def test_personas_must_cover_every_customer_exactly_once(personas_one_missing_one_twice):
    report = personas_one_missing_one_twice
    assert not report.success
    failed = report.result_for("customer_personas").failed
    described = "; ".join(f.describe() for f in failed)
    assert "expect_column_values_to_be_unique(customer_id) failed on 2 rows" in described
    assert "1 customers with a completed order have no persona (e.g. c5)" in described
    assert report.result_for("revenue_concentration").success and report.result_for("acquisition_cost").success


@pytest.mark.slow
def test_concentration_shares_must_be_monotone(concentration_not_monotone):
    report = concentration_not_monotone
    assert not report.success
    failed = report.result_for("revenue_concentration").failed
    assert [(f.expectation_type, f.columns) for f in failed] == [
        ("expect_column_values_to_be_in_set", ("top_shares_monotone",))
    ]
    assert "year 2023-01-01" in failed[0].observed


@pytest.mark.slow
def test_acquisition_spend_must_equal_staging(spend_a_cent_off):
    report = spend_a_cent_off
    assert not report.success
    failed = {f.columns: f for f in report.result_for("acquisition_cost").failed}
    assert set(failed) == {("spend_cents", "staging_spend_cents"), ("spend_key",)}
    assert "2024-04-01 paid_search: (2051, 2050)" in failed[("spend_cents", "staging_spend_cents")].observed
    assert "2024-03-01|paid_search" in failed[("spend_key",)].observed
