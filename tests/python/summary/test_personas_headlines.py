"""The persona-mix and revenue-concentration headlines (flows/summary/headlines/personas.py) on the
hand-made published file, formatted for people."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.python.summary.helpers import printed, table_line

CONCENTRATION = """
create table marts.revenue_concentration as
select * from (values
    ('year', date '2023-01-01', true, 10, 500.0, 0.7, 0.3, 0.41),
    ('year', date '2024-01-01', true, 2500, 1234567.891, 0.6042, 0.3764, 0.57391),
    ('year', date '2025-01-01', false, 3, 10.0, 1.0, 1.0, 0.0),
    ('trailing_12_months', date '2024-03-16', true, 9, 9.0, 0.9, 0.9, 0.9)
) as t({period}, period_start, is_complete, customers, revenue, top_20_pct_revenue_share,
       customer_share_for_target_revenue, gini_coefficient)
"""


def test_persona_mix_and_concentration_are_formatted_for_people(published: Path) -> None:
    with duckdb.connect(str(published)) as con:
        con.execute(
            """create table marts.persona_summary as
               select * from (values
                   (1, 'at_risk', 40, 0.4, 1234.5, 0.25, 6.5, 0.8),
                   (2, 'ambassador', 60, 0.6, 3703.5, 0.75, 9.25, 1.0),
                   (6, 'all', 100, 1.0, 4938.0, 1.0, 8.15, 0.92)
               ) as t(persona_order, persona, customers, customer_share, revenue_12m, revenue_12m_share,
                      mean_nps_score, repurchase_rate)"""
        )
        con.execute(CONCENTRATION.format(period="period_grain"))
    text = printed(published)
    assert table_line(text, "at_risk") == ["40", "40.0%", "€1,234.50", "25.0%", "6.50", "80.0%"]
    assert table_line(text, "all") == ["100", "100.0%", "€4,938.00", "100.0%", "8.15", "92.0%"]
    assert table_line(text, "2024") == ["2,500", "€1,234,567.89", "60.4%", "37.6%", "0.574"]


def test_concentration_in_another_currency(published: Path) -> None:
    """The money of the headline is in the reporting currency of the build."""
    with duckdb.connect(str(published)) as con:
        con.execute(CONCENTRATION.format(period="period_grain"))
    text = printed(published, reporting_currency="GBP")
    assert "Revenue concentration, last complete year" in text
    assert table_line(text, "2024") == ["2,500", "£1,234,567.89", "60.4%", "37.6%", "0.574"]


def test_concentration_without_a_period_column_is_left_out(published: Path) -> None:
    with duckdb.connect(str(published)) as con:
        con.execute(CONCENTRATION.format(period="period_type"))  # published before the rename
    text = printed(published)
    assert "Revenue concentration" not in text
    assert "Voice of the customer, 2025-02" in text
