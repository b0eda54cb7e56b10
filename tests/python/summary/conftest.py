"""A small published file made by hand: the audit figures and the survey scores (with complete and
incomplete periods); the persona tests add their marts to it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

AUDIT_COLUMNS = (
    "period_grain, period_start, is_complete, customers_start, gross_new_customers, reactivated_customers, "
    "lost_customers, net_new_customers, customers_end, active_customers, active_new_customers, "
    "active_existing_customers, revenue, revenue_per_new_customer, revenue_per_existing_customer, as_of_date, "
    "churn_window_days"
)


@pytest.fixture()
def published(tmp_path: Path) -> Path:
    path = tmp_path / "published.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            f"""create table marts.customer_audit_figures as
                select * from (values
                    -- complete periods: the year 2024 and the months up to February 2025
                    ('year', date '2023-01-01', true, 0, 900, 0, 100, 800, 800, 850, 900, 0,
                     100000.00, 111.11, null, date '2025-03-15', 365),
                    ('year', date '2024-01-01', true, 800, 12345, 67, 1890, 10522, 11322, 13000, 12345, 655,
                     1234567.89, 45.6, 987.65, date '2025-03-15', 365),
                    ('year', date '2025-01-01', false, 11322, 1, 0, 0, 1, 11323, 5, 1, 4,
                     99.00, 1.0, 2.0, date '2025-03-15', 365),
                    ('month', date '2025-01-01', true, 11322, 10, 1, 2, 9, 11331, 100, 10, 90,
                     5000.00, 50.0, 50.0, date '2025-03-15', 365),
                    ('month', date '2025-02-01', true, 11331, 1001, 2, 3, 1000, 12331, 1500, 1001, 499,
                     7654.32, 3.21, -0.5, date '2025-03-15', 365),
                    ('month', date '2025-03-01', false, 12331, 5, 0, 0, 5, 12336, 6, 5, 1,
                     10.00, 2.0, 0.0, date '2025-03-15', 365)
                ) as t({AUDIT_COLUMNS})"""
        )
        con.execute(
            """create table marts.survey_scores as
               select * from (values
                   ('month', date '2025-01-01', 'all', 'all', true, 10.0, 5.0, 100, 4.0, 0.5, 20, 0.5, 3.0, 30),
                   ('month', date '2025-02-01', 'all', 'all', true,
                    -12.34, 8.76, 1234, 5.2, 0.72, 143, 0.684, 3.96, 2301),
                   ('month', date '2025-02-01', 'order', 'all', true, 50.0, 1.0, 5, 5.0, 1.0, 5, 1.0, 5.0, 5),
                   ('month', date '2025-03-01', 'all', 'all', false, 99.0, 1.0, 1, 7.0, 1.0, 1, 1.0, 5.0, 1)
               ) as t(period_grain, period_start, touchpoint_type, channel, is_complete, nps, nps_margin_of_error,
                      nps_answers, ces_mean, ces_easy_share, ces_answers, csat_score, csat_mean, csat_answers)"""
        )
    return path
