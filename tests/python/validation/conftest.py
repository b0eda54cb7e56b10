"""The hand-made tiny warehouse the GX suites are tested on, and the scenarios validated on it.

raw.orders holds several versions per order, offsets and currencies; reference.currency_rates the
rates; staging and intermediate what dbt would have built from them (staging.stg_crm__orders with
the raw row of each order's current version and its local date, the staged responses, contacts and
spend, intermediate.int_run_parameters with the as-of date 2024-04-20); and marts built from the same
completed orders, so that every expectation holds and the yearly revenue reconciles with the raw
orders to the cent. A scenario copies the warehouse, applies deliberate faults (each in its own mart,
so that one validation serves several tests) and validates it without Data Docs; a scenario's report
is computed once per session and shared by the pytest-xdist workers.

The identities that dbt owns are tested on a broken copy of the session's sample warehouse instead
(`dbt_tests_on_broken_marts`): docs/checks.md says which check is whose.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from flows.config import Paths
from flows.contract import ENTITIES
from flows.dbt_artifacts import PARTIAL_PARSE_FILE
from flows.ingest import ensure_raw_schema
from flows.transform import run_dbt
from flows.validation import ValidationReport, validate_warehouse
from tests.python import parse_state
from tests.python.conftest import exclusive, shared_temp

# --------------------------------------------------------------------------- raw data

ENTITY_NAMES = [entity.name for entity in ENTITIES]

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
    # cancelled, and after the as-of date
    ("o9", "c3", "2024-04-30T10:00:00", "cancelled", "15.00", "EUR", 2, 6),
]

# What dbt's staging makes of them (stg_crm__orders; its unit test in models/staging/crm covers these
# cases): one row per order, the version loaded last (the last line within a file), its date in the
# reporting time zone. order_id, customer_id, order_date, order_status, load_id, line
STAGED_ORDERS = [
    ("o1", "c1", "2023-01-10", "completed", 1, 1),
    ("o2", "c2", "2023-02-15", "completed", 1, 2),
    ("o3", "c1", "2024-01-01", "completed", 1, 3),
    ("o4", "c3", "2023-06-01", "cancelled", 2, 1),
    ("o5", "c2", "2024-03-05", "completed", 2, 2),
    ("o6", "c4", "2024-02-01", "completed", 2, 7),
    ("o7", "c4", "2024-02-10", "refunded", 2, 4),
    ("o8", "c5", "2024-04-20", "completed", 2, 5),
    ("o9", "c3", "2024-04-30", "cancelled", 2, 6),
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

# intermediate.int_run_parameters as dbt builds it (the columns the suites read, and a few more)
RUN_PARAMETERS = {
    "as_of_date": AS_OF,
    "is_as_of_date_set": False,
    "as_of_date_var": "",
    "churn_window_days": 365,
    "reporting_currency": "EUR",
    "reporting_timezone": "Europe/Amsterdam",
    "period_grains": ["month", "quarter", "year"],
    "persona_names": ["at_risk", "ambassador", "price_shopper", "new", "loyal_passive"],
    "nps_categories": ["promoter", "passive", "detractor"],
    "ces_categories": ["easy", "neutral", "hard"],
    "csat_categories": ["satisfied", "neutral", "dissatisfied"],
    "voice_nps_promoter_min": 9,
    # the bounds of the plausibility gates, as dbt_project.yml sets them
    "earliest_plausible_date": dt.date(2000, 1, 1),
    "days_after_load_day": 1,
    "max_monthly_lapse_share": 0.5,
    "lapse_share_min_customers_start": 30,
    "max_periods_per_grain": 600,
    "min_revenue_per_order": Decimal("0.00"),
    "max_revenue_per_order": Decimal("1000000.00"),
}


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
    """The persona / concentration / acquisition-cost marts, consistent with STAGING_SPEND and with
    staging.stg_crm__orders (as-of date 2024-04-20; customers with a completed order c1, c2, c4, c5)."""
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
        """create table marts.customer_persona_history as
           select customer_id, date '2024-04-01' as snapshot_month, as_of_date as snapshot_as_of_date, persona,
                  persona_rule
           from marts.customer_personas"""
    )
    con.execute(
        """create table marts.persona_summary as
           select persona, count(*) as customers, date '2024-04-20' as as_of_date
           from marts.customer_personas group by persona"""
    )
    con.execute(
        """create table marts.persona_transitions as
           select date '2024-04-01' as snapshot_month, 'none' as from_persona, persona as to_persona,
                  count(*) as customers
           from marts.customer_personas group by persona"""
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


def build_value_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The customer-value marts (flows/validation/suites/value.py) for the customers with a completed
    order, c1, c2, c4, c5: converged positive parameters, P(alive) in [0, 1], components that add up."""
    con.execute(
        """create table marts.clv_model_parameters as
           select model, parameter, cast(estimate as double) as estimate, 0.1 as standard_error, true as converged
           from (values ('bg_nbd', 'r', 0.24), ('bg_nbd', 'alpha', 4.41), ('bg_nbd', 'a', 0.79),
                        ('bg_nbd', 'b', 2.43), ('gamma_gamma', 'p', 6.25), ('gamma_gamma', 'q', 3.74),
                        ('gamma_gamma', 'gamma', 15.44)) as t(model, parameter, estimate)"""
    )
    con.execute(
        """create table marts.customer_lifetime_value as
           select customer_id, p_alive, expected_purchases_horizon,
                  cast(expected_spend_per_purchase as decimal(18, 2)) as expected_spend_per_purchase,
                  cast(clv as decimal(18, 2)) as clv
           from (values ('c1', 0.9, 2.5, 30.00, 30.00), ('c2', 0.4, 0.5, 20.00, 4.00),
                        ('c4', 1.0, 1.2, 12.00, 5.76), ('c5', 1.0, 1.2, 25.00, 12.00))
                as t(customer_id, p_alive, expected_purchases_horizon, expected_spend_per_purchase, clv)"""
    )
    con.execute(
        """create table marts.clv_holdout_validation as
           select check_type, row_order, customers, actual_repeat_purchases, expected_repeat_purchases
           from (values ('frequency', 0, 3, 1.0, 0.8), ('frequency', 1, 1, 2.0, 1.5), ('total', 8, 4, 3.0, 2.3))
                as t(check_type, row_order, customers, actual_repeat_purchases, expected_repeat_purchases)"""
    )
    con.execute(
        """create table marts.customer_equity as
           select cast(acquisition_month as date) as acquisition_month, acquisition_channel, new_customers,
                  cast(customer_equity as decimal(18, 2)) as customer_equity, clv_to_cac
           from (values ('2024-04-01', 'affiliate', 1, 12.00, 2.29), ('2024-04-01', 'all', 1, 51.76, 0.47))
                as t(acquisition_month, acquisition_channel, new_customers, customer_equity, clv_to_cac)"""
    )
    con.execute(
        """create table marts.acquisition_channel_value as
           select acquisition_channel, new_customers, cast(customer_equity as decimal(18, 2)) as customer_equity,
                  customers_with_cac, cast(cac as decimal(18, 2)) as cac, clv_to_cac
           from (values ('affiliate', 1, 12.00, 1, 5.25, 2.29), ('all', 1, 12.00, 1, 5.25, 2.29))
                as t(acquisition_channel, new_customers, customer_equity, customers_with_cac, cac, clv_to_cac)"""
    )
    con.execute(
        """create table marts.customer_engagement_value as
           select customer_id, cast(lifetime_value as decimal(18, 2)) as lifetime_value,
                  cast(referral_value as decimal(18, 2)) as referral_value,
                  cast(network_value as decimal(18, 2)) as network_value,
                  cast(knowledge_value as decimal(18, 2)) as knowledge_value,
                  cast(engagement_value as decimal(18, 2)) as engagement_value
           from (values ('c1', 30.00, 6.00, 0.00, 2.00, 38.00), ('c2', 4.00, 0.00, 0.00, 0.00, 4.00),
                        ('c4', 5.76, 0.00, 0.00, 5.00, 10.76), ('c5', 12.00, 0.00, 0.00, 0.00, 12.00))
                as t(customer_id, lifetime_value, referral_value, network_value, knowledge_value, engagement_value)"""
    )
    con.execute(
        """create table marts.customer_profitability as
           select customer_id, cast(revenue as decimal(18, 2)) as revenue,
                  cast(cost_of_goods as decimal(18, 2)) as cost_of_goods,
                  cast(service_cost as decimal(18, 2)) as service_cost,
                  cast(acquisition_cost as decimal(18, 2)) as acquisition_cost,
                  cast(profit as decimal(18, 2)) as profit
           from (values ('c1', 120.00, 84.00, 4.00, 0.00, 32.00), ('c2', 56.70, 39.69, 4.00, 0.00, 13.01),
                        ('c4', 12.34, 8.64, 4.00, 0.00, -0.30), ('c5', 31.66, 22.16, 0.00, 5.25, 4.25))
                as t(customer_id, revenue, cost_of_goods, service_cost, acquisition_cost, profit)"""
    )


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
    """staging.stg_survey__survey_responses / stg_crm__contacts and the four voice marts computed
    from them, so that every voice expectation holds (W = 365 days)."""
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


# --------------------------------------------------------------------------- the warehouse


def build_staging_orders(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """create table staging.stg_crm__orders (order_id varchar, customer_id varchar, order_date date,
               order_status varchar, load_id integer, line bigint)"""
    )
    con.executemany("insert into staging.stg_crm__orders values (?, ?, ?, ?, ?, ?)", STAGED_ORDERS)


def build_run_parameters(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema intermediate")
    con.register("run_parameters_df", pd.DataFrame([RUN_PARAMETERS]))
    con.execute(
        "create table intermediate.int_run_parameters as select * replace "
        "(cast(as_of_date as date) as as_of_date, cast(earliest_plausible_date as date) as earliest_plausible_date) "
        "from run_parameters_df"
    )
    con.unregister("run_parameters_df")


def build_warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    try:
        ensure_raw_schema(con)
        # one loaded file of every entity: the company exports them all (flows.ingest.entities_without_exports)
        for load_id, entity in enumerate(ENTITY_NAMES, start=100):
            con.execute(
                """insert into raw.load_manifest values
                   (?, 'fixture', ?, ?, ?, 'hash-' || ?, 1, 'loaded', 1, 1, 0, null, now()::timestamp)""",
                [load_id, entity, f"{entity}_fixture.csv", f"/exports/{entity}_fixture.csv", entity],
            )
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
        con.execute("create schema staging")
        build_staging_orders(con)
        con.execute(
            "create table staging.stg_crm__marketing_spend "
            "(spend_month date, acquisition_channel varchar, spend_amount decimal(18, 2))"
        )
        con.executemany("insert into staging.stg_crm__marketing_spend values (?, ?, ?)", STAGING_SPEND)
        build_run_parameters(con)

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
        # marts.orders: the staged orders with their EUR amounts (the completed ones as COMPLETED has them)
        con.execute(
            """create table marts.orders as
               select order_id, customer_id, order_date, order_status, order_status = 'completed' as is_completed,
                      'web' as sales_channel, cast(amount as decimal(18, 2)) as amount, 'EUR' as original_currency
               from staging.stg_crm__orders
               inner join (values ('o1', 100.00), ('o2', 45.00), ('o3', 20.00), ('o4', 30.00), ('o5', 11.70),
                                  ('o6', 12.34), ('o7', 80.00), ('o8', 31.66), ('o9', 15.00)) as t(order_id, amount)
                   using (order_id)"""
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
        build_value_tables(con)
    finally:
        con.close()
    return path


# --------------------------------------------------------------------------- scenarios


@pytest.fixture(scope="session")
def base_warehouse(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("base") / "warehouse.duckdb")


def broken_copy(base: Path, folder: Path, *statements: str) -> Path:
    """A copy of `base` in `folder` with `statements` applied."""
    folder.mkdir(parents=True, exist_ok=True)
    warehouse = folder / "warehouse.duckdb"
    shutil.copy(base, warehouse)
    if statements:
        with duckdb.connect(str(warehouse)) as con:
            for statement in statements:
                con.execute(statement)
    return warehouse


def shared_scenario(tmp_path_factory, base: Path, name: str, *statements: str) -> ValidationReport:
    """The report of validating a broken copy of `base` without Data Docs, computed once per session
    (the pytest-xdist workers share it through a file lock and a pickle)."""
    root = shared_temp(tmp_path_factory) / "validation_scenarios"
    root.mkdir(parents=True, exist_ok=True)
    outcome = root / f"{name}.pickle"
    with exclusive(root / f"{name}.lock"):
        if not outcome.exists():
            warehouse = broken_copy(base, root / name, *statements)
            report = validate_warehouse(warehouse, None)
            outcome.write_bytes(pickle.dumps(report))
        return pickle.loads(outcome.read_bytes())


def failed(report: ValidationReport, mart: str) -> set[tuple[str, tuple[str, ...]]]:
    """(expectation type, columns) of the failed expectations of `mart`."""
    return {(f.expectation_type, f.columns) for f in report.result_for(mart).failed}


#: The marts whose data the faults of `raw_and_plausibility_faults` leave alone.
UNTOUCHED_BY_RAW_FAULTS = ("customer_loyalty_scores", "customer_personas")


@pytest.fixture(scope="session")
def raw_and_plausibility_faults(tmp_path_factory, base_warehouse) -> ValidationReport:
    """One fault per mart (but those of UNTOUCHED_BY_RAW_FAULTS), each for a check GX owns: the
    reconciliations with raw, plausibility, personal data, a missing mart, spend against staging."""
    return shared_scenario(
        tmp_path_factory,
        base_warehouse,
        "raw_and_plausibility",
        # off by 0.01 against the raw orders, with the split still adding up (only the reconciliation fails)
        "update marts.customer_audit_figures set revenue = revenue + 0.01, "
        "revenue_existing_customers = revenue_existing_customers + 0.01 "
        "where period_grain = 'year' and period_start = date '2024-01-01'",
        "drop table marts.acquisition_cohorts",
        "alter table marts.customers add column email varchar",
        "update marts.customers set email = customer_id || '@example.com'",
        # one customer too many in 2024: the completed raw orders of 2024 have four
        "update marts.revenue_concentration set customers = customers + 1 "
        "where period_grain = 'year' and period_start = date '2024-01-01'",
        # a mean outside its answer scale, a negative revenue, a negative number of transfers
        "update marts.survey_scores set ces_mean = 8 "
        "where period_grain = 'month' and period_start = date '2024-02-01' and touchpoint_type = 'all'",
        "update marts.satisfaction_vs_loyalty set revenue_per_answer = -1 where category = 'promoter'",
        "update marts.service_effort set mean_transfers = -1 where contact_channel = 'phone'",
        # spend a cent off staging, and a month of staging spend dropped
        "update marts.acquisition_cost set spend_amount = 20.51 "
        "where acquisition_month = date '2024-04-01' and acquisition_channel = 'paid_search'",
        "delete from marts.acquisition_cost where acquisition_month = date '2024-03-01'",
    )


@pytest.fixture(scope="session")
def staging_faults(tmp_path_factory, base_warehouse) -> ValidationReport:
    """A completed 2023 order in a currency without a rate (in raw, and in staging as dbt would
    stage it); each voice mart loses what staging holds (a response of 2024, a customer, a judged
    NPS answer, a contact of March: the marts stay internally consistent, only the reconciliations
    can see it); c5 has no persona and c1 has two (the row count still matches)."""
    return shared_scenario(
        tmp_path_factory,
        base_warehouse,
        "staging",
        "insert into raw.orders select * replace ('o99' as order_id, 'JPY' as currency, 3 as _load_id) "
        "from raw.orders where order_id = 'o1'",
        "insert into staging.stg_crm__orders values ('o99', 'c1', date '2023-01-10', 'completed', 3, 1)",
        "update marts.survey_scores set responses = responses - 1 "
        "where period_grain = 'year' and period_start = date '2024-01-01' and touchpoint_type = 'all'",
        "delete from marts.customer_loyalty_scores where customer_id = 'c4'",
        "delete from marts.satisfaction_vs_loyalty where score_type = 'nps' and category = 'detractor'",
        "update marts.service_effort set contacts = contacts + 1, customers = customers + 1 "
        "where contact_month = date '2024-03-01' and contact_channel = 'all'",
        "delete from marts.customer_personas where customer_id = 'c5'",
        "insert into marts.customer_personas select * replace ('ambassador' as persona) "
        "from marts.customer_personas where customer_id = 'c1'",
    )


VOICE_STAGING_AND_MARTS = (
    "staging.stg_survey__survey_responses",
    "staging.stg_crm__contacts",
    "marts.survey_scores",
    "marts.customer_loyalty_scores",
    "marts.satisfaction_vs_loyalty",
    "marts.service_effort",
)


@pytest.fixture(scope="session")
def not_exported_scenarios(tmp_path_factory, base_warehouse) -> dict[str, ValidationReport]:
    """No survey_responses and no contacts exports: (`none`) staging and the voice marts empty, as dbt
    builds them; (`lost`) the files were loaded but the voice marts are empty all the same; (`stale`) no
    file in the manifest but the marts still have rows."""
    forget_files = "delete from raw.load_manifest where entity in ('survey_responses', 'contacts')"
    empty = [f"delete from {table}" for table in VOICE_STAGING_AND_MARTS]
    return {
        "none": shared_scenario(tmp_path_factory, base_warehouse, "not_exported", forget_files, *empty),
        "lost": shared_scenario(tmp_path_factory, base_warehouse, "exported_but_lost", *empty),
        "stale": shared_scenario(tmp_path_factory, base_warehouse, "not_exported_stale", forget_files),
    }


# --------------------------------------------------------------------------- dbt's checks on broken marts

#: Deliberate faults in a copy of the session's sample warehouse, one for each identity the GX
#: suites used to check and dbt owns now (docs/checks.md); the row is picked by its key.
DBT_FAULTS = {
    # customers_end of the sixth month one too high: the balance breaks, and the next month no longer
    # opens with what this one closed with
    "balance": "update marts.customer_audit_figures set customers_end = customers_end + 1 "
    "where period_grain = 'month' and period_start = (select min(period_start) + interval 5 month "
    "from marts.customer_audit_figures where period_grain = 'month')",
    "nps_out_of_range": "update marts.survey_scores set nps = 120 where period_grain = 'month' "
    "and period_start = (select min(period_start) from marts.survey_scores) and touchpoint_type = 'all' "
    "and channel = 'all'",
    "categories_not_adding_up": "update marts.survey_scores set promoters = promoters + 1 "
    "where period_grain = 'quarter' and period_start = (select min(period_start) from marts.survey_scores) "
    "and touchpoint_type = 'all' and channel = 'all'",
    "share_above_one": "update marts.survey_scores set csat_score = 1.5 "
    "where period_grain = 'year' and period_start = (select min(period_start) from marts.survey_scores) "
    "and touchpoint_type = 'all' and channel = 'all'",
    "share_below_zero": "update marts.satisfaction_vs_loyalty set repurchase_share = -0.25 "
    "where score_type = 'nps' and category = 'promoter'",
    "rate_above_one": "update marts.service_effort set resolved_share = 2.0 where contact_channel = 'all' "
    "and contact_month = (select min(contact_month) from marts.service_effort)",
    "category_of_another_score": "update marts.satisfaction_vs_loyalty set category = 'easy' "
    "where score_type = 'csat' and category = 'satisfied'",
    "another_as_of_date": "update marts.customer_loyalty_scores set as_of_date = as_of_date - 1 "
    "where customer_id = (select min(customer_id) from marts.customer_loyalty_scores)",
    # (a second persona row of a customer is refused by the mart's primary key: test_personas_suites.py)
    "persona_lost": "delete from marts.customer_personas "
    "where customer_id = (select min(customer_id) from marts.customer_personas)",
    "shares_not_monotone": "update marts.revenue_concentration set top_10_pct_revenue_share = "
    "least(top_50_pct_revenue_share + 0.01, 1) where period_grain = 'year' "
    "and period_start = (select min(period_start) from marts.revenue_concentration)",
    # two columns of one survey response emptied in an intermediate table (no NOT NULL constraint
    # there: the generic test not_null_columns is what catches it, one failing row per column)
    "nulls_in_an_intermediate_model": "update intermediate.int_survey_responses_categorized "
    "set response_date = null, touchpoint_channel = null "
    "where response_id = (select min(response_id) from intermediate.int_survey_responses_categorized)",
}
#: The models the faults are in (marts, and one intermediate table): their data tests (and the singular tests over them) run.
DBT_FAULT_MARTS = (
    "customer_audit_figures",
    "survey_scores",
    "satisfaction_vs_loyalty",
    "service_effort",
    "customer_loyalty_scores",
    "customer_personas",
    "revenue_concentration",
    "int_survey_responses_categorized",
)


@pytest.fixture(scope="session")
def dbt_tests_on_broken_marts(sample_run: Paths, tmp_path_factory) -> dict[str, tuple[str, int | None]]:
    """`dbt test` of the broken marts (DBT_FAULTS) in a copy of the session's sample warehouse, run
    once per session: {test name (without the hash of a generic test): (status, failures)}."""
    root = shared_temp(tmp_path_factory) / "dbt_on_broken_marts"
    root.mkdir(parents=True, exist_ok=True)
    outcome = root / "results.json"
    with exclusive(root / "results.lock"):
        if not outcome.exists():
            warehouse = root / sample_run.warehouse.name  # the same file name: the same DuckDB database name
            shutil.copy(sample_run.warehouse, warehouse)
            # the session's parse state, made this copy's: dbt parses only what changed
            (root / "target").mkdir()
            shutil.copy(sample_run.dbt_target / PARTIAL_PARSE_FILE, root / "target" / PARTIAL_PARSE_FILE)
            parse_state.retarget(root / "target", sample_run.warehouse, warehouse)
            with duckdb.connect(str(warehouse)) as con:
                for statement in DBT_FAULTS.values():
                    con.execute(statement)
            result = run_dbt(
                ["test", "--select", *DBT_FAULT_MARTS, "--exclude-resource-type", "unit_test"],
                warehouse,
                root / "target",
                quiet=True,
            )
            assert result.nodes, f"dbt test ran nothing (exit code {result.return_code})"
            run_results = json.loads((root / "target" / "run_results.json").read_text())
            tests = {
                item["unique_id"].split(".")[2]: (str(item["status"]), item.get("failures"))
                for item in run_results["results"]
            }
            outcome.write_text(json.dumps(tests))
        return {name: tuple(value) for name, value in json.loads(outcome.read_text()).items()}


def failing_dbt_tests(results: dict[str, tuple[str, int | None]], *models: str) -> dict[str, int | None]:
    """{test name: failures} of the dbt tests that failed (of those naming one of `models`, if given)."""
    return {
        name: failures
        for name, (status, failures) in results.items()
        if status in ("fail", "error") and (not models or any(m in name for m in models))
    }
