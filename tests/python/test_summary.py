"""The headline tables at the end of a run (flows.summary), on a small published file made by hand:
the audit figures of the last complete year and month and the scores of the latest complete month,
formatted for people."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from flows.summary import HEADLINES, format_money, format_nps, print_headline_figures

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
                    ('year', date '2023-01-01', true, 0, 900, 0, 100, 800, 800, 850, 900, 0, 100000.00, 111.11, null, date '2025-03-15', 365),
                    ('year', date '2024-01-01', true, 800, 12345, 67, 1890, 10522, 11322, 13000, 12345, 655, 1234567.89, 45.6, 987.65, date '2025-03-15', 365),
                    ('year', date '2025-01-01', false, 11322, 1, 0, 0, 1, 11323, 5, 1, 4, 99.00, 1.0, 2.0, date '2025-03-15', 365),
                    ('month', date '2025-01-01', true, 11322, 10, 1, 2, 9, 11331, 100, 10, 90, 5000.00, 50.0, 50.0, date '2025-03-15', 365),
                    ('month', date '2025-02-01', true, 11331, 1001, 2, 3, 1000, 12331, 1500, 1001, 499, 7654.32, 3.21, -0.5, date '2025-03-15', 365),
                    ('month', date '2025-03-01', false, 12331, 5, 0, 0, 5, 12336, 6, 5, 1, 10.00, 2.0, 0.0, date '2025-03-15', 365)
                ) as t({AUDIT_COLUMNS})"""
        )
        con.execute(
            """create table marts.survey_scores as
               select * from (values
                   ('month', date '2025-01-01', 'all', 'all', true, 10.0, 5.0, 100, 4.0, 0.5, 20, 0.5, 3.0, 30),
                   ('month', date '2025-02-01', 'all', 'all', true, -12.34, 8.76, 1234, 5.2, 0.72, 143, 0.684, 3.96, 2301),
                   ('month', date '2025-02-01', 'order', 'all', true, 50.0, 1.0, 5, 5.0, 1.0, 5, 1.0, 5.0, 5),
                   ('month', date '2025-03-01', 'all', 'all', false, 99.0, 1.0, 1, 7.0, 1.0, 1, 1.0, 5.0, 1)
               ) as t(period_grain, period_start, touchpoint_type, channel, is_complete, nps, nps_margin_of_error,
                      nps_answers, ces_mean, ces_easy_share, ces_answers, csat_score, csat_mean, csat_answers)"""
        )
    return path


def printed(published: Path) -> str:
    console = Console(record=True, width=140)
    print_headline_figures(published, console)
    return console.export_text()


def _line(text: str, label: str) -> list[str]:
    """The cells of the table line that starts with `label`."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if cells and cells[0] == label:
            return cells[1:]
    raise AssertionError(f"no line {label!r} in:\n{text}")


def test_formatters() -> None:
    assert format_money(1234567.891) == "€1,234,567.89"
    assert format_money(-0.5) == "-€0.50"
    assert format_money(None) == "-"
    assert format_nps(-12.34, 8.76) == "-12.3 ± 8.8"
    assert format_nps(20, None) == "+20.0"


def test_audit_figures_of_the_last_complete_year_and_month(published: Path) -> None:
    text = printed(published)
    assert "Audit figures, last complete year and month" in text
    header = next(line for line in text.splitlines() if "┃ figure" in line)
    assert "year 2024" in header and "month 2025-02" in header
    assert "year 2025" not in header and "2025-03" not in header  # incomplete periods are not shown
    assert _line(text, "customers at start") == ["800", "11,331"]
    assert _line(text, "+ gross new") == ["12,345", "1,001"]
    assert _line(text, "+ reactivated") == ["67", "2"]
    assert _line(text, "- lost") == ["1,890", "3"]
    assert _line(text, "= net new") == ["10,522", "1,000"]
    assert _line(text, "customers at end") == ["11,322", "12,331"]
    assert _line(text, "active customers") == ["13,000", "1,500"]
    assert _line(text, "of which new") == ["12,345", "1,001"]
    assert _line(text, "of which existing") == ["655", "499"]
    assert _line(text, "revenue") == ["€1,234,567.89", "€7,654.32"]
    assert _line(text, "revenue per new customer") == ["€45.60", "€3.21"]
    assert _line(text, "revenue per existing customer") == ["€987.65", "-€0.50"]
    assert "as of 2025-03-15, W = 365 days" in text


def test_scores_of_the_latest_complete_month_with_their_answers(published: Path) -> None:
    text = printed(published)
    assert "Voice of the customer, 2025-02" in text
    assert _line(text, "NPS") == ["-12.3 ± 8.8", "", "1,234"]
    assert _line(text, "CES") == ["mean 5.20", "72.0% easy", "143"]
    assert _line(text, "CSAT") == ["68.4% satisfied", "mean 3.96", "2,301"]


def test_headlines_of_marts_that_are_not_published_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "published.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.other as select 1 as x")
    assert printed(path).strip() == ""
    assert [h.table for h in HEADLINES][:3] == ["customers", "customer_audit_figures", "survey_scores"]


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
        con.execute(
            """create table marts.revenue_concentration as
               select * from (values
                   ('year', date '2023-01-01', true, 10, 500.0, 0.7, 0.3, 0.41),
                   ('year', date '2024-01-01', true, 2500, 1234567.891, 0.6042, 0.3764, 0.57391),
                   ('year', date '2025-01-01', false, 3, 10.0, 1.0, 1.0, 0.0)
               ) as t(period_type, period_start, is_complete, customers, revenue, top_20_pct_revenue_share,
                      customer_share_for_target_revenue, gini_coefficient)"""
        )
    text = printed(published)
    assert _line(text, "at_risk") == ["40", "40.0%", "€1,234.50", "25.0%", "6.50", "80.0%"]
    assert _line(text, "all") == ["100", "100.0%", "€4,938.00", "100.0%", "8.15", "92.0%"]
    assert _line(text, "2024") == ["2,500", "€1,234,567.89", "60.4%", "37.6%", "0.574"]
