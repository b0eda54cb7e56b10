"""The customer and audit-figure headlines (flows/summary/headlines/audit.py) on the hand-made published
file: the audit figures of the last complete year and month, formatted for people."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.python.summary.helpers import printed, table_line


def test_audit_figures_of_the_last_complete_year_and_month(published: Path) -> None:
    text = printed(published)
    assert "Audit figures, last complete year and month" in text
    header = next(line for line in text.splitlines() if "┃ figure" in line)
    assert "year 2024" in header and "month 2025-02" in header
    assert "year 2025" not in header and "2025-03" not in header  # incomplete periods are not shown
    assert table_line(text, "customers at start") == ["800", "11,331"]
    assert table_line(text, "+ gross new") == ["12,345", "1,001"]
    assert table_line(text, "+ reactivated") == ["67", "2"]
    assert table_line(text, "- lost") == ["1,890", "3"]
    assert table_line(text, "= net new") == ["10,522", "1,000"]
    assert table_line(text, "customers at end") == ["11,322", "12,331"]
    assert table_line(text, "active customers") == ["13,000", "1,500"]
    assert table_line(text, "of which new") == ["12,345", "1,001"]
    assert table_line(text, "of which existing") == ["655", "499"]
    assert table_line(text, "revenue") == ["€1,234,567.89", "€7,654.32"]
    assert table_line(text, "revenue per new customer") == ["€45.60", "€3.21"]
    assert table_line(text, "revenue per existing customer") == ["€987.65", "-€0.50"]
    assert "as of 2025-03-15, W = 365 days" in text


def test_audit_money_is_shown_in_the_reporting_currency_passed_in(published: Path) -> None:
    text = printed(published, reporting_currency="USD")
    assert table_line(text, "revenue") == ["$1,234,567.89", "$7,654.32"]
    assert table_line(text, "revenue per existing customer") == ["$987.65", "-$0.50"]
    assert table_line(text, "customers at start") == ["800", "11,331"]  # counts are no money


def test_no_complete_period_leaves_the_audit_headline_out(published: Path) -> None:
    with duckdb.connect(str(published)) as con:
        con.execute("update marts.customer_audit_figures set is_complete = false")
    assert "Audit figures" not in printed(published)


def test_the_customer_base_with_thousands_separators(published: Path) -> None:
    with duckdb.connect(str(published)) as con:
        con.execute(
            """create table marts.customers as
               select * from (values (true, 1234.5::decimal(18, 2)), (true, 1000000.25::decimal(18, 2)),
                                     (false, null::decimal(18, 2))) as t(is_customer, revenue)"""
        )
    text = printed(published)
    assert text.splitlines()[0].startswith("Customers")  # the first headline
    assert table_line(text, "2") == ["1", "1,001,234.75"]
