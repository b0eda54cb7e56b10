"""The plausibility gates and the personal-data value scan on a copy of the session's sample run
(docs/checks.md, "Plausibility gates", "Personal data"): one copy, one row changed per fault, one
in-process validation; each failure names the record that broke the bound, and no personal value
reaches the report. The session's own run (`python -m flows run` on the same sample) passed every
gate, or it would not have published."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from flows.config import Paths
from flows.errors import one_line
from flows.summary.markdown import render_markdown
from flows.summary.report import build_run_report
from flows.validation import SUITES, ValidationError, ValidationReport, validate_warehouse
from flows.validation.personal_data import email_like, phone_like
from tests.python.conftest import CliRun, copy_paths
from tests.python.summary.helpers import run_summary

pytestmark = pytest.mark.integration

E_MAIL = "jan.jansen@example.com"
PHONE = "+31 6 1234 5678"
LOAD_DAY = dt.date(2025, 6, 30)
#: The marts the faults leave alone (but for the period-count bound, lowered to 47 for every mart:
#: the sample's month grain has 48 periods).
UNTOUCHED = ("customer_loyalty_scores", "satisfaction_vs_loyalty", "customer_personas", "revenue_concentration")


def one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()


@pytest.fixture(scope="module")
def faults(sample_run: Paths, tmp_path_factory: pytest.TempPathFactory) -> tuple[ValidationReport, dict, Paths]:
    """The sample with one fault per gate, each in one row, validated once."""
    paths = copy_paths(sample_run, tmp_path_factory.mktemp("plausibility"))
    with duckdb.connect(str(paths.warehouse)) as con:
        order_id, order_date = one(
            con, "select order_id, order_date from marts.orders where is_completed order by order_id limit 1"
        )
        customer_id = one(con, "select min(customer_id) from marts.customers")[0]
        phone_order = one(con, "select max(order_id) from marts.orders")[0]
        lapse_month, customers_start = one(
            con,
            "select period_start, customers_start from marts.customer_audit_figures "
            "where period_grain = 'month' and customers_start >= 30 order by period_start limit 1",
        )
        as_of = one(con, "select as_of_date from intermediate.int_run_parameters")[0]
        statements = [
            # an absurd order
            f"update marts.orders set amount = 2500000 where order_id = '{order_id}'",
            # the whole base lapsing in one month
            "update marts.customer_audit_figures set lost_customers = customers_start "
            f"where period_grain = 'month' and period_start = date '{lapse_month}'",
            # a period before the earliest plausible date
            "update marts.customer_audit_figures set period_start = date '1900-01-01' "
            "where period_grain = 'quarter' and period_start = date '2022-01-01'",
            # the last load long before the as-of date
            f"update raw.load_manifest set loaded_at = timestamp '{LOAD_DAY} 12:00:00'",
            # more periods than the bound
            "update intermediate.int_run_parameters set max_periods_per_grain = 47",
            # personal data in string columns; an e-mail address as a key (masked in the report)
            f"update marts.customers set country_code = '{E_MAIL}' where customer_id = '{customer_id}'",
            f"update marts.orders set sales_channel = '{PHONE}' where order_id = '{phone_order}'",
            f"update marts.persona_transitions set to_persona = '{E_MAIL}' "
            "where to_persona = (select min(to_persona) from marts.persona_transitions)",
        ]
        for statement in statements:
            con.execute(statement)
    facts = {
        "order_id": order_id,
        "order_date": order_date,
        "customer_id": customer_id,
        "phone_order": phone_order,
        "lapse_month": lapse_month,
        "customers_start": customers_start,
        "as_of": as_of,
    }
    return validate_warehouse(paths.warehouse, None), facts, paths


def failures(report: ValidationReport, mart: str) -> dict[str, str]:
    """{expectation type and columns: what it says} of the mart's failures."""
    return {f"{f.expectation_type}({', '.join(f.columns)})": f.observed for f in report.result_for(mart).failed}


def test_the_session_sample_passed_every_gate(sample_cli_run: CliRun):
    """The session's run validated the sample with every suite (the gates included) and published it."""
    assert sample_cli_run.completed.returncode == 0
    index = (sample_cli_run.paths.output / "data_docs" / "index.html").read_text()
    for suite in SUITES.values():
        assert suite.name in index
    assert Path(sample_cli_run.paths.published).is_file()


def test_an_absurd_order_names_the_order(faults):
    report, facts, _ = faults
    observed = failures(report, "orders")["expect_column_values_to_be_between(revenue)"]
    assert observed == (
        f"failed on 1 row (e.g. order_id {facts['order_id']} (completed, {facts['order_date']}): "
        "revenue 2,500,000 > max_revenue_per_order 1,000,000)"
    )


def test_an_as_of_date_after_the_latest_load_day_names_the_as_of_date_and_the_latest_orders(faults):
    report, facts, _ = faults
    observed = failures(report, "orders")["expect_column_values_to_be_between(day)"]
    latest = LOAD_DAY + dt.timedelta(days=1)
    # the as-of date first, then orders of the summary (the latest ones, and the extremes dated after it)
    assert re.match(
        re.escape("failed on ")
        + r"\d+"
        + re.escape(
            " rows (e.g. the as-of date (the date of the last completed order): "
            f"day {facts['as_of']} > latest_load_day+days_after_load_day {latest}; order_id "
        ),
        observed,
    ), observed


def test_a_month_losing_its_base_names_the_month_and_its_counts(faults):
    report, facts, _ = faults
    observed = failures(report, "customer_audit_figures")["expect_column_values_to_be_between(monthly_lapse_share)"]
    start = f"{facts['customers_start']:,}"
    assert observed == (
        f"failed on 1 row (e.g. period_start {facts['lapse_month']}, lost_customers {start}, "
        f"customers_start {start}: monthly_lapse_share 1 > max_monthly_lapse_share 0.5)"
    )


def test_a_period_before_the_earliest_plausible_date_names_the_period(faults):
    report, _, _ = faults
    observed = failures(report, "customer_audit_figures")["expect_column_values_to_be_between(period_start)"]
    assert observed == (
        "failed on 1 row (e.g. period_grain quarter, period_start 1900-01-01: "
        "period_start 1900-01-01 < earliest_plausible_date 2000-01-01)"
    )


def test_too_many_periods_name_the_grain_in_every_mart_with_periods(faults):
    report, _, _ = faults
    for mart in ("customer_audit_figures", "acquisition_cohorts", "survey_scores", "service_effort"):
        observed = failures(report, mart)["expect_column_values_to_be_between(periods_in_grain)"]
        assert re.fullmatch(
            r"failed on 1 row \(e\.g\. month periods 2022-01-01 to 2025-12-01: "
            r"periods_in_grain 48 > max_periods_per_grain 47\)",
            observed,
        ), (mart, observed)


def test_personal_data_values_fail_naming_table_column_and_row_but_never_the_value(faults):
    report, facts, _ = faults
    check = "expect_table_columns_to_not_match_regex_list()"
    assert failures(report, "customers")[check] == (
        f"failed: observed ['customers.country_code: 1 e-mail-like value (e.g. the row customer_id "
        f"{facts['customer_id']})']"
    )
    assert failures(report, "orders")[check] == (
        f"failed: observed ['orders.sales_channel: 1 phone-number-like value (e.g. the row order_id "
        f"{facts['phone_order']})']"
    )
    # the key that is an e-mail address is masked
    assert re.fullmatch(
        r"failed: observed \['persona_transitions\.to_persona: 1 e-mail-like value \(e\.g\. the row "
        r"snapshot_month, from_persona, to_persona 2025-12-01 \w+ j\*\*\*\)'\]",
        failures(report, "persona_transitions")[check],
    ), failures(report, "persona_transitions")[check]
    described = "; ".join(f.describe() for _, f in report.failed)
    assert E_MAIL not in described and PHONE not in described


def test_only_the_faults_fail_and_the_run_summary_names_them(faults):
    report, facts, paths = faults
    assert not report.success
    for mart in UNTOUCHED:
        assert report.result_for(mart).success, (mart, report.result_for(mart).failed)
    assert set(failures(report, "orders")) == {
        "expect_column_values_to_be_between(revenue)",
        "expect_column_values_to_be_between(day)",
        "expect_table_columns_to_not_match_regex_list()",
    }
    assert set(failures(report, "customer_audit_figures")) == {
        "expect_column_values_to_be_between(monthly_lapse_share)",
        "expect_column_values_to_be_between(period_start)",
        "expect_column_values_to_be_between(periods_in_grain)",
    }
    # the orders suite validated a summary, but reports the mart's rows
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert report.result_for("orders").rows == one(con, "select count(*) from marts.orders")[0]
    # what the CLI prints (the ValidationError's line) and the run summary artifact (Markdown)
    error = one_line(ValidationError(report), with_type=True)
    run_report = build_run_report(run_summary(paths.published, validation=report, error=error), paths.published, "EUR")
    for text in (error, render_markdown(run_report)):
        assert f"order_id {facts['order_id']}" in text
        assert "revenue 2,500,000 > max_revenue_per_order 1,000,000" in text
        assert E_MAIL not in text and PHONE not in text


@pytest.mark.unit
def test_the_personal_data_rules_flag_e_mail_addresses_and_phone_numbers_only():
    flagged = {
        "jan@example.com": "email",
        "J.Doe+news@Mail.Example.NL": "email",
        "+31 6 1234 5678": "phone",
        "(020) 123-4567": "phone",
        "06-12345678": "phone",
        "+31612345678": "phone",
    }
    not_flagged = [
        "C0000036", "O00021643", "100234567", "0612345678", "1234567.89", "-12.50", "2024-01-05",
        "05/01/2024", "2024-01-05T10:00:00", "2024-01-05 10:00:00+01:00", "2024-01-01 2024-03-31",
        "550e8400-e29b-41d4-a716-446655440000", "EUR", "paid_search", "a@b", "NL",
    ]  # fmt: skip
    values = [*flagged, *not_flagged]
    with duckdb.connect() as con:
        con.execute("create table t (v varchar)")
        con.executemany("insert into t values (?)", [[v] for v in values])
        rows = con.execute(f"select v, {email_like('v')}, {phone_like('v')} from t").fetchall()
    kinds = {v: ("email" if e else "phone" if p else None) for v, e, p in rows}
    assert kinds == {**flagged, **dict.fromkeys(not_flagged)}
