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
from flows.expectations import (
    SUITES,
    raw_completed_revenue_by_year,
    register_suite,
    staging_as_of_date,
    staging_query,
)
from flows.ingest import ensure_raw_schema

# Pin the vars the figures below were computed with (dbt_project.yml may change).
VARS = {
    "reporting_currency": "EUR",
    "reporting_timezone": "Europe/Amsterdam",
    "as_of_date": "",
    "churn_window_days": 365,
    "period_grains": ["month", "quarter", "year"],
}

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

# month, channel, amount; May is after the as-of month and is not reported
STAGING_SPEND = [
    ("2024-03-01", "paid_search", "10.00"),
    ("2024-04-01", "paid_search", "20.50"),
    ("2024-04-01", "affiliate", "5.25"),
    ("2024-05-01", "paid_search", "99.00"),
]


def build_personas_and_value(con: duckdb.DuckDBPyConnection) -> None:
    """staging.stg_crm__marketing_spend, and the persona / concentration / acquisition-cost marts
    consistent with it and with staging.stg_crm__orders of build_voice_tables (as-of date 2024-04-20;
    customers with a completed order c1, c2, c4, c5)."""
    con.execute("create schema if not exists staging")
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
           select period_grain, cast(period_start as date) as period_start, cast(period_end as date) as period_end,
                  is_complete, customers, cast(revenue as decimal(18, 2)) as revenue,
                  top_1_pct_revenue_share, top_10_pct_revenue_share, top_20_pct_revenue_share,
                  top_50_pct_revenue_share, 0.8 as target_revenue_share, customers_for_target_revenue,
                  customer_share_for_target_revenue, gini_coefficient
           from (values
               ('year', '2023-01-01', '2023-12-31', true, 2, 145.00, 0.6897, 0.6897, 0.6897, 0.6897, 2, 1.0, 0.1897),
               ('year', '2024-01-01', '2024-04-20', false, 4, 75.70, 0.4168, 0.4168, 0.4168, 0.6810, 3, 0.75, 0.2305),
               ('trailing_12_months', '2023-04-21', '2024-04-20', true, 4, 75.70, 0.4168, 0.4168, 0.4168, 0.6810, 3, 0.75, 0.2305)
           ) as t(period_grain, period_start, period_end, is_complete, customers, revenue, top_1_pct_revenue_share,
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
        counts = [
            c
            for c in audit.columns
            if c not in money + ratios + ["period_grain", "period_start", "period_end", "is_complete"]
        ]
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
        build_voice_tables(con)
        build_personas_and_value(con)
    finally:
        con.close()
    return path


# --------------------------------------------------------------------------- voice of the customer

# Staging as the voice suites read it. The as-of date is the last completed order, 2024-04-20.
# response_id, customer_id, response_date, touchpoint_type, nps, ces, csat
STAGED_RESPONSES = [
    ("r1", "c1", "2023-01-12", "order", 10, None, 5),
    ("r2", "c2", "2023-02-20", "order", 6, 3, 2),
    ("r3", "c1", "2024-01-03", "order", 8, 6, None),
    ("r4", "c4", "2024-02-05", "contact", None, 2, 3),
    ("r5", "c5", "2024-04-25", "periodic", 9, None, None),  # after the as-of date: in no mart
]
# contact_id, customer_id, contact_date, channel
STAGED_CONTACTS = [
    ("k1", "c4", "2024-02-05", "phone"),
    ("k2", "c2", "2024-03-01", "chat"),
    ("k3", "c1", "2024-05-01", "phone"),  # after the as-of date
]


def build_voice_tables(con: duckdb.DuckDBPyConnection) -> None:
    """staging.stg_crm__orders / stg_survey__survey_responses / stg_crm__contacts and the four voice
    marts computed from them, so that every voice expectation holds (W = 365 days)."""
    con.execute("create schema staging")
    con.execute(
        "create table staging.stg_crm__orders (order_id varchar, customer_id varchar, order_date date, order_status varchar)"
    )
    con.executemany(
        "insert into staging.stg_crm__orders values (?, ?, ?, 'completed')",
        [(f"o{i}", c, d) for i, (d, c, _) in enumerate(COMPLETED)],
    )
    # cancelled and refunded orders make no one a customer; the 04-30 one is after the as-of date
    con.execute("""insert into staging.stg_crm__orders values
                   ('o97', 'c3', date '2023-06-01', 'cancelled'), ('o98', 'c4', date '2024-02-10', 'refunded'),
                   ('o99', 'c3', date '2024-04-30', 'cancelled')""")
    con.execute(
        """create table staging.stg_survey__survey_responses (response_id varchar, customer_id varchar,
               response_date date, touchpoint_type varchar, nps_score integer, ces_score integer, csat_score integer)"""
    )
    con.executemany("insert into staging.stg_survey__survey_responses values (?, ?, ?, ?, ?, ?, ?)", STAGED_RESPONSES)
    con.execute(
        "create table staging.stg_crm__contacts (contact_id varchar, customer_id varchar, contact_date date, contact_channel varchar)"
    )
    con.executemany("insert into staging.stg_crm__contacts values (?, ?, ?, ?)", STAGED_CONTACTS)

    con.execute(
        """create table marts.survey_scores as
           with responses as (
               select *, case touchpoint_type when 'periodic' then 'none' when 'contact' then 'phone' else 'web' end as channel
               from staging.stg_survey__survey_responses
               where response_date <= date '2024-04-20'
           ),
           in_periods as (
               select grains.period_grain, cast(date_trunc(grains.period_grain, response_date) as date) as period_start,
                      responses.*
               from responses cross join (select unnest(['month', 'quarter', 'year']) as period_grain) as grains
           ),
           counted as (
               select period_grain, period_start,
                      coalesce(touchpoint_type, 'all') as touchpoint_type, coalesce(channel, 'all') as channel,
                      count(*) as responses, count(nps_score) as nps_answers,
                      count(*) filter (where nps_score >= 9) as promoters,
                      count(*) filter (where nps_score in (7, 8)) as passives,
                      count(*) filter (where nps_score <= 6) as detractors,
                      count(ces_score) as ces_answers, avg(ces_score) as ces_mean,
                      count(*) filter (where ces_score >= 5) / nullif(count(ces_score), 0) as ces_easy_share,
                      count(csat_score) as csat_answers, avg(csat_score) as csat_mean,
                      count(*) filter (where csat_score >= 4) / nullif(count(csat_score), 0) as csat_score
               from in_periods
               group by grouping sets (
                   (period_grain, period_start, touchpoint_type, channel),
                   (period_grain, period_start, touchpoint_type),
                   (period_grain, period_start)
               )
           )
           select *, 100.0 * (promoters - detractors) / nullif(nps_answers, 0) as nps,
                  null::double as nps_ci_low, null::double as nps_ci_high, date '2024-04-20' as as_of_date
           from counted"""
    )
    con.execute(
        """create table marts.customer_loyalty_scores as
           select customer_id, count(*) as responses, count(nps_score) as nps_answers,
                  count(ces_score) as ces_answers, count(csat_score) as csat_answers,
                  count(nps_score) filter (where response_date > date '2023-04-20') as rolling_nps_answers,
                  arg_max(nps_score, response_date) filter (where nps_score is not null) as latest_nps_score,
                  case when latest_nps_score >= 9 then 'promoter' when latest_nps_score >= 7 then 'passive'
                       when latest_nps_score is not null then 'detractor' end as latest_nps_category,
                  latest_nps_category as rolling_nps_category,
                  avg(nps_score) filter (where response_date > date '2023-04-20') as rolling_nps_mean,
                  case when nps_answers = 2 then min_by(nps_score, response_date) filter (where nps_score is not null) end
                      as previous_nps_score,
                  latest_nps_score - previous_nps_score as nps_change,
                  arg_max(ces_score, response_date) filter (where ces_score is not null) as latest_ces_score,
                  case when latest_ces_score >= 5 then 'easy' when latest_ces_score = 4 then 'neutral'
                       when latest_ces_score is not null then 'hard' end as latest_ces_category,
                  arg_max(csat_score, response_date) filter (where csat_score is not null) as latest_csat_score,
                  case when latest_csat_score >= 4 then 'satisfied' when latest_csat_score = 3 then 'neutral'
                       when latest_csat_score is not null then 'dissatisfied' end as latest_csat_category,
                  date '2024-04-20' as as_of_date
           from staging.stg_survey__survey_responses
           where response_date <= date '2024-04-20'
           group by customer_id"""
    )
    # Judged (a + 365 <= 2024-04-20): r1 (c1: promoter, satisfied; c1 bought on 2024-01-01, within
    # 2023-01-13 ... 2024-01-12: repurchased, 20.00) and r2 (c2: detractor, hard, dissatisfied; c2's
    # next order, 2024-03-05, is after 2024-02-20: lapsed).
    con.execute(
        """create table marts.satisfaction_vs_loyalty as
           select score_type, category, answers, customers, repurchased_answers, lapsed_answers,
                  repurchased_answers / answers as repurchase_share, lapsed_answers / answers as lapse_share,
                  cast(revenue as decimal(18, 2)) as revenue_per_answer, cast(revenue as decimal(18, 2)) as revenue_per_customer,
                  date '2024-04-20' as as_of_date
           from (values
               ('nps', 'promoter', 1, 1, 1, 0, 20.00), ('nps', 'detractor', 1, 1, 0, 1, 0.00),
               ('ces', 'hard', 1, 1, 0, 1, 0.00),
               ('csat', 'satisfied', 1, 1, 1, 0, 20.00), ('csat', 'dissatisfied', 1, 1, 0, 1, 0.00)
           ) as t(score_type, category, answers, customers, repurchased_answers, lapsed_answers, revenue)"""
    )
    con.execute(
        """create table marts.service_effort as
           select cast(contact_month as date) as contact_month, contact_channel, contacts, customers,
                  mean_transfers, repeatedly_passed_on_contacts, repeatedly_passed_on_contacts / contacts as repeatedly_passed_on_share,
                  resolution_known_contacts, resolved_contacts / resolution_known_contacts as resolved_share,
                  0 as repeat_contacts, 0.0 as repeat_contact_share, ces_answers, ces_mean,
                  repeatedly_passed_on_contacts as effortful_contacts, 0 as effortful_contacts_judged,
                  null::double as effortful_repurchase_rate, 0 as easy_contacts_judged, null::double as easy_repurchase_rate,
                  0 as effortful_nps_answers, null::double as effortful_nps, 0 as easy_nps_answers, null::double as easy_nps,
                  date '2024-04-20' as as_of_date
           from (values
               ('2024-02-01', 'phone', 1, 1, 2.0, 1, 1, 0, 1, 2.0), ('2024-02-01', 'all', 1, 1, 2.0, 1, 1, 0, 1, 2.0),
               ('2024-03-01', 'chat', 1, 1, 0.0, 0, 1, 1, 0, null), ('2024-03-01', 'all', 1, 1, 0.0, 0, 1, 1, 0, null)
           ) as t(contact_month, contact_channel, contacts, customers, mean_transfers, repeatedly_passed_on_contacts,
                  resolution_known_contacts, resolved_contacts, ces_answers, ces_mean)"""
    )


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
    return validate.validate_warehouse(warehouse, docs, build_vars=VARS), docs


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
def voice_scores_broken(tmp_path_factory, base_warehouse):
    # An NPS beyond 100 on one row; one promoter too many on another (categories no longer add up).
    report, _ = _scenario(
        tmp_path_factory,
        base_warehouse,
        "voice_scores",
        "update marts.survey_scores set nps = 120 "
        "where period_grain = 'month' and period_start = date '2023-01-01' and channel = 'web'",
        "update marts.survey_scores set promoters = promoters + 1 "
        "where period_grain = 'quarter' and period_start = date '2023-01-01' and touchpoint_type = 'all'",
    )
    return report


@pytest.fixture(scope="module")
def voice_responses_lost(tmp_path_factory, base_warehouse):
    # Each voice mart loses what staging holds: a response of 2024, a customer, a judged NPS answer,
    # a contact of March (the marts stay internally consistent; only the reconciliations can see it).
    report, _ = _scenario(
        tmp_path_factory,
        base_warehouse,
        "voice_reconciliation",
        "update marts.survey_scores set responses = responses - 1 "
        "where period_grain = 'year' and period_start = date '2024-01-01' and touchpoint_type = 'all'",
        "delete from marts.customer_loyalty_scores where customer_id = 'c4'",
        "delete from marts.satisfaction_vs_loyalty where score_type = 'nps' and category = 'detractor'",
        "update marts.service_effort set contacts = contacts + 1, customers = customers + 1 "
        "where contact_month = date '2024-03-01' and contact_channel = 'all'",
    )
    return report


@pytest.fixture(scope="module")
def voice_shares_out_of_range(tmp_path_factory, base_warehouse):
    report, _ = _scenario(
        tmp_path_factory,
        base_warehouse,
        "voice_shares",
        "update marts.survey_scores set csat_score = 1.5 "
        "where period_grain = 'year' and period_start = date '2023-01-01' and touchpoint_type = 'all'",
        "update marts.satisfaction_vs_loyalty set repurchase_share = -0.25 where category = 'promoter'",
        "update marts.service_effort set resolved_share = 2.0 where contact_channel = 'chat'",
        "update marts.customer_loyalty_scores set as_of_date = date '2024-04-19' where customer_id = 'c1'",
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


def test_registry_has_the_core_and_voice_marts():
    assert {"customer_audit_figures", "acquisition_cohorts", "customers"} <= set(SUITES)
    assert {"survey_scores", "customer_loyalty_scores", "satisfaction_vs_loyalty", "service_effort"} <= set(SUITES)
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


@pytest.mark.integration
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


def test_staging_as_of_date_and_responses(base_warehouse):
    with duckdb.connect(str(base_warehouse), read_only=True) as con:
        assert staging_as_of_date(con, VARS) == "2024-04-20"  # the cancelled 04-30 order does not count
        assert staging_as_of_date(con, {**VARS, "as_of_date": "2024-01-31"}) == "2024-01-31"
        counted = staging_query(con, VARS, "select count(*) as n from valid_responses")
    assert counted["n"].tolist() == [4]  # r5 is after the as-of date


@pytest.mark.integration
def test_good_voice_marts_pass(good):
    report, _ = good
    for mart in ("survey_scores", "customer_loyalty_scores", "satisfaction_vs_loyalty", "service_effort"):
        result = report.result_for(mart)
        assert result is not None and result.success and result.evaluated > 20, (mart, result)


def _failed(report: validate.ValidationReport, mart: str) -> set[tuple[str, tuple[str, ...]]]:
    return {(f.expectation_type, f.columns) for f in report.result_for(mart).failed}


@pytest.mark.integration
def test_nps_out_of_range_and_categories_not_adding_up_fail(voice_scores_broken):
    report = voice_scores_broken
    assert not report.success
    assert _failed(report, "survey_scores") == {
        ("expect_column_values_to_be_between", ("nps",)),
        ("expect_column_pair_values_to_be_equal", ("nps_answers", "nps_category_answers")),
    }
    summary = report.failure_summary()
    assert "month 2023-01-01 order web: 120" in summary
    assert "quarter 2023-01-01 all all: (2, 3)" in summary
    for mart in ("customer_audit_figures", "customer_loyalty_scores", "satisfaction_vs_loyalty", "service_effort"):
        assert report.result_for(mart).success


@pytest.mark.integration
def test_voice_marts_that_lose_staging_responses_fail_the_reconciliation(voice_responses_lost):
    report = voice_responses_lost
    assert not report.success
    assert _failed(report, "survey_scores") == {
        ("expect_column_pair_values_to_be_equal", ("responses", "staging_responses"))
    }
    assert "year 2024-01-01 all all: (1, 2)" in report.failure_summary()
    assert _failed(report, "customer_loyalty_scores") == {("expect_table_row_count_to_equal", ())}
    assert _failed(report, "satisfaction_vs_loyalty") == {
        ("expect_column_pair_values_to_be_equal", ("score_type_answers", "staging_judged_answers"))
    }
    assert _failed(report, "service_effort") == {
        ("expect_column_pair_values_to_be_equal", ("contacts", "staging_contacts"))
    }


@pytest.mark.integration
def test_voice_shares_outside_zero_one_and_another_as_of_date_fail(voice_shares_out_of_range):
    report = voice_shares_out_of_range
    assert not report.success
    assert _failed(report, "survey_scores") == {("expect_column_values_to_be_between", ("csat_score",))}
    assert _failed(report, "satisfaction_vs_loyalty") == {("expect_column_values_to_be_between", ("repurchase_share",))}
    assert _failed(report, "service_effort") == {("expect_column_values_to_be_between", ("resolved_share",))}
    assert _failed(report, "customer_loyalty_scores") == {("expect_column_values_to_be_in_set", ("as_of_date_text",))}
    assert "c1: 2024-04-19" in report.failure_summary()


@pytest.mark.integration
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


@pytest.mark.integration
def test_year_revenue_a_cent_off_raw_fails_the_reconciliation(year_revenue_off_by_a_cent):
    report = year_revenue_off_by_a_cent
    assert not report.success
    failed = report.result_for("customer_audit_figures").failed
    assert [(f.expectation_type, f.columns) for f in failed] == [
        ("expect_column_pair_values_to_be_equal", ("revenue_cents", "raw_completed_revenue_cents"))
    ]
    assert "year 2024-01-01: (7571, 7570)" in failed[0].observed
    assert (
        "expect_column_pair_values_to_be_equal(revenue_cents, raw_completed_revenue_cents)" in report.failure_summary()
    )


@pytest.mark.integration
def test_order_without_exchange_rate_never_reconciles(order_without_rate):
    report = order_without_rate
    assert not report.success
    failed = {(f.expectation_type, f.columns): f for f in report.result_for("customer_audit_figures").failed}
    assert set(failed) == {
        ("expect_column_values_to_be_between", ("raw_orders_without_rate",)),
        ("expect_column_pair_values_to_be_equal", ("revenue_cents", "raw_completed_revenue_cents")),
    }
    assert "year 2023-01-01: 1" in failed[("expect_column_values_to_be_between", ("raw_orders_without_rate",))].observed


@pytest.mark.integration
def test_missing_registered_mart_fails(missing_mart):
    report = missing_mart
    assert not report.success
    result = report.result_for("acquisition_cohorts")
    assert result is not None and not result.success and result.rows is None
    assert "acquisition_cohorts: mart_exists" in report.failure_summary()
    assert "marts.acquisition_cohorts is missing" in report.failure_summary()
    assert report.result_for("customer_audit_figures").success


@pytest.mark.integration
def test_personal_data_column_fails(personal_data):
    report = personal_data
    assert not report.success
    failed = report.result_for("customers").failed
    assert [f.expectation_type for f in failed] == ["expect_table_columns_to_not_match_regex_list"]
    assert "email" in failed[0].observed
    assert "customers: expect_table_columns_to_not_match_regex_list" in report.failure_summary()


@pytest.mark.integration
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
        con.execute(
            "create table marts.persona_summary as select * from (values ('loyal', 0.6), ('new', 1.4)) t(persona, share)"
        )
    try:
        report = validate.validate_warehouse(warehouse, tmp_path / "docs", build_vars=VARS)
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


@pytest.mark.integration
def test_good_persona_and_value_marts_pass(good):
    report, _ = good
    for mart in ("customer_personas", "revenue_concentration", "acquisition_cost"):
        result = report.result_for(mart)
        assert result is not None and result.success and result.evaluated >= 6, mart


@pytest.mark.integration
def test_personas_must_cover_every_customer_exactly_once(personas_one_missing_one_twice):
    report = personas_one_missing_one_twice
    assert not report.success
    failed = report.result_for("customer_personas").failed
    described = "; ".join(f.describe() for f in failed)
    assert "expect_column_values_to_be_unique(customer_id) failed on 2 rows" in described
    assert "1 customers with a completed order have no persona (e.g. c5)" in described
    assert report.result_for("revenue_concentration").success and report.result_for("acquisition_cost").success


@pytest.mark.integration
def test_concentration_shares_must_be_monotone(concentration_not_monotone):
    report = concentration_not_monotone
    assert not report.success
    failed = report.result_for("revenue_concentration").failed
    assert [(f.expectation_type, f.columns) for f in failed] == [
        ("expect_column_values_to_be_in_set", ("top_shares_monotone",))
    ]
    assert "year 2023-01-01" in failed[0].observed


@pytest.mark.integration
def test_acquisition_spend_must_equal_staging(spend_a_cent_off):
    report = spend_a_cent_off
    assert not report.success
    failed = {f.columns: f for f in report.result_for("acquisition_cost").failed}
    assert set(failed) == {("spend_cents", "staging_spend_cents"), ("spend_key",)}
    assert "2024-04-01 paid_search: (2051, 2050)" in failed[("spend_cents", "staging_spend_cents")].observed
    assert "2024-03-01|paid_search" in failed[("spend_key",)].observed
