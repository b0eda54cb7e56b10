"""The audit suites (flows/validation/suites/audit.py) catch the faults GX owns; the identities of
the audit figures that dbt owns are caught by dbt's tests on a broken copy of the sample warehouse."""

from __future__ import annotations

import pytest

from tests.python.validation.conftest import failed, failing_dbt_tests

pytestmark = pytest.mark.integration


def test_year_revenue_a_cent_off_raw_fails_the_reconciliation(raw_and_plausibility_faults):
    report = raw_and_plausibility_faults
    assert not report.success
    failures = report.result_for("customer_audit_figures").failed
    assert [(f.expectation_type, f.columns) for f in failures] == [
        ("expect_column_pair_values_to_be_equal", ("revenue_cents", "raw_completed_revenue_cents"))
    ]
    assert "year 2024-01-01: (7571, 7570)" in failures[0].observed
    assert (
        "expect_column_pair_values_to_be_equal(revenue_cents, raw_completed_revenue_cents)" in report.failure_summary()
    )


def test_order_without_exchange_rate_never_reconciles(staging_faults):
    report = staging_faults
    assert not report.success
    failures = {(f.expectation_type, f.columns): f for f in report.result_for("customer_audit_figures").failed}
    assert set(failures) == {
        ("expect_column_values_to_be_between", ("raw_orders_without_rate",)),
        ("expect_column_pair_values_to_be_equal", ("revenue_cents", "raw_completed_revenue_cents")),
        # the raw order is one completed order of 2023 more than the mart counts
        ("expect_column_pair_values_to_be_equal", ("orders", "raw_completed_orders")),
    }
    without_rate = failures[("expect_column_values_to_be_between", ("raw_orders_without_rate",))]
    assert "year 2023-01-01: 1" in without_rate.observed
    assert (
        "year 2023-01-01: (2, 3)"
        in failures[("expect_column_pair_values_to_be_equal", ("orders", "raw_completed_orders"))].observed
    )


def test_personal_data_column_fails(raw_and_plausibility_faults):
    report = raw_and_plausibility_faults
    failures = report.result_for("customers").failed
    assert [f.expectation_type for f in failures] == ["expect_table_columns_to_not_match_regex_list"]
    assert "email" in failures[0].observed
    assert "customers: expect_table_columns_to_not_match_regex_list" in report.failure_summary()
    assert failed(report, "customers") == {("expect_table_columns_to_not_match_regex_list", ())}


def test_customers_end_off_by_one_fails_dbts_balance_identity(dbt_tests_on_broken_marts):
    """customers_end of one month one too high: dbt's balance test names the row, and the periods
    test sees that the next month no longer opens with what this one closed with (both were GX
    expectations before, customers_end = start + net_new and customers_start = previous end)."""
    failing = failing_dbt_tests(dbt_tests_on_broken_marts, "customer_audit_figures")
    assert failing == {
        "assert_customer_audit_figures_balance": 1,
        "assert_customer_audit_figures_periods_follow_on": 1,
    }
