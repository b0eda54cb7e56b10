"""The customer-value headlines (flows/summary/headlines/value.py) on the hand-made published file."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.python.summary.helpers import printed, table_line


def add_value_marts(published: Path, holdout: bool) -> None:
    with duckdb.connect(str(published)) as con:
        con.execute(
            """create table marts.customer_lifetime_value as
               select * from (values ('a', 0.9, 120.00, date '2025-03-15'), ('b', 0.5, 30.00, date '2025-03-15'),
                                     ('c', 0.1, 0.50, date '2025-03-15'))
                   as t(customer_id, p_alive, clv, as_of_date)"""
        )
        con.execute(
            """create table marts.customer_equity as
               select * from (values
                   -- the last complete month is February (the as-of date is in March)
                   (date '2025-01-01', 'web', 1, 120.00, 120.00, date '2025-03-15'),
                   (date '2025-01-01', 'all', 1, 120.00, 120.00, date '2025-03-15'),
                   (date '2025-02-01', 'web', 1, 30.00, 30.00, date '2025-03-15'),
                   (date '2025-02-01', 'store', 1, 0.50, 0.50, date '2025-03-15'),
                   (date '2025-02-01', 'all', 2, 30.50, 15.25, date '2025-03-15'),
                   (date '2025-03-01', 'all', 0, 0.00, null, date '2025-03-15')
               ) as t(acquisition_month, acquisition_channel, new_customers, cohort_clv, mean_clv, as_of_date)"""
        )
        # CLV / CAC per channel as the mart defines it (its dbt unit test computes it)
        con.execute(
            """create table marts.acquisition_channel_value as
               select * from (values
                   ('web', 2, 150.00, 75.00, 2, 75.00, 15.00, 5.0),
                   ('store', 1, 0.50, 0.50, 0, null, null, null),
                   ('all', 3, 150.50, 50.17, 2, 75.00, 15.00, 5.0)
               ) as t(acquisition_channel, new_customers, customer_equity, mean_clv, customers_with_cac,
                      mean_clv_with_cac, cac, clv_to_cac)"""
        )
        rows = (
            "('total', 1000, 500, 480.5, (480.5 - 500) / 500, date '2024-12-31', 74)"
            if holdout
            else "(null, 0, 0, 0.0, 0.0, null, 0)"
        )
        con.execute(
            f"""create table marts.clv_holdout_validation as
                select * from (values {rows}) as t(check_type, customers, actual_repeat_purchases,
                    expected_repeat_purchases, relative_error, calibration_end, holdout_days)
                where check_type is not null"""
        )


def test_customer_equity_new_customer_clv_and_clv_to_cac(published: Path) -> None:
    add_value_marts(published, holdout=True)
    text = printed(published)
    # equity 150.50 over 3 customers; the new customers of February (the last complete month): 30.50 / 2
    assert table_line(text, "2025-03-15") == ["3", "€150.50", "€50.17", "2025-02", "€15.25", "50.0%"]
    # the channels with a CAC (store has none; the total is not a channel)
    assert table_line(text, "web") == ["2", "€75.00", "€15.00", "5.00"]
    assert "store" not in text
    assert table_line(text, "2024-12-31") == ["74", "1,000", "500", "480.5", "-3.9%"]


def test_without_a_holdout_the_holdout_line_is_left_out(published: Path) -> None:
    add_value_marts(published, holdout=False)
    text = printed(published)
    assert "Customer value on the as-of date" in text
    assert "CLV model on the holdout" not in text
