"""The personas and value suites (flows/validation/suites/personas.py) catch the faults GX owns
(personas and spend reconciled with staging, concentration with raw); dbt's tests catch the
identities it owns (the persona summary adds up, monotone top shares) on a broken sample warehouse;
the mart's primary key refuses a second persona of a customer."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from tests.python.validation.conftest import failed, failing_dbt_tests

pytestmark = pytest.mark.integration


def test_personas_must_cover_every_customer_with_a_completed_order(staging_faults):
    # c5 has no persona and c1 has two: the row count still matches, the reconciliation does not
    report = staging_faults
    failures = report.result_for("customer_personas").failed
    assert [(f.expectation_type, f.columns, f.observed) for f in failures] == [
        ("expect_column_values_to_be_between", ("customers_without_row",), "failed on 1 row (e.g. customer_id c5)")
    ]
    assert (
        "customer_personas: expect_column_values_to_be_between(customers_without_row) failed on 1 row (e.g. "
        "customer_id c5)" in report.failure_summary()
    )
    assert report.result_for("acquisition_cost").success


def test_a_customer_with_two_personas_is_refused_by_the_marts_primary_key(sample_run, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(sample_run.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con, pytest.raises(duckdb.ConstraintException, match="primary key"):
        con.execute(
            "insert into marts.customer_personas select * replace ('ambassador' as persona) from "
            "marts.customer_personas where customer_id = (select min(customer_id) from marts.customer_personas)"
        )


def test_a_persona_lost_after_the_summary_fails_dbts_test(dbt_tests_on_broken_marts):
    failing = failing_dbt_tests(dbt_tests_on_broken_marts)
    # persona_summary was built from the personas before the fault: its 'all' row no longer matches
    assert failing["assert_persona_summary_adds_up"] == 1


def test_concentration_shares_must_be_monotone(dbt_tests_on_broken_marts):
    failing = failing_dbt_tests(dbt_tests_on_broken_marts, "revenue_concentration")
    assert list(failing.values()) == [1]
    assert next(iter(failing)).startswith("expression_is_true_revenue_concentration")


def test_concentration_reconciles_with_the_raw_orders(raw_and_plausibility_faults, staging_faults):
    assert failed(raw_and_plausibility_faults, "revenue_concentration") == {
        ("expect_column_pair_values_to_be_equal", ("customers", "raw_completed_customers"))
    }
    assert "revenue_concentration: expect_column_pair_values_to_be_equal(customers, raw_completed_customers) " in (
        raw_and_plausibility_faults.failure_summary()
    )
    # a raw order without an exchange rate: the year's revenue is not known
    assert failed(staging_faults, "revenue_concentration") == {
        ("expect_column_values_to_be_between", ("raw_orders_without_rate",)),
        ("expect_column_pair_values_to_be_equal", ("revenue_cents", "raw_completed_revenue_cents")),
    }


def test_acquisition_spend_must_equal_staging(raw_and_plausibility_faults):
    report = raw_and_plausibility_faults
    failures = {f.columns: f for f in report.result_for("acquisition_cost").failed}
    assert set(failures) == {("spend_cents", "staging_spend_cents"), ("spend_key",)}
    assert "2024-04-01 paid_search: (2051, 2050)" in failures[("spend_cents", "staging_spend_cents")].observed
    assert "2024-03-01|paid_search" in failures[("spend_key",)].observed
