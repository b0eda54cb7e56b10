"""The voice suites (flows/validation/suites/voice.py) catch the faults GX owns (reconciliations with
staging, plausibility); the identities of the voice marts that dbt owns (NPS in [-100, 100],
categories adding up, shares in [0, 1], one as-of date, categories of their score type) are caught
by dbt's tests on a broken copy of the sample warehouse."""

from __future__ import annotations

import pytest

from tests.python.validation.conftest import failed, failing_dbt_tests

pytestmark = pytest.mark.integration


def test_voice_marts_that_lose_staging_responses_fail_the_reconciliation(staging_faults):
    report = staging_faults
    assert not report.success
    assert failed(report, "survey_scores") == {
        ("expect_column_pair_values_to_be_equal", ("responses", "staging_responses"))
    }
    assert "year 2024-01-01 all all: (1, 2)" in report.failure_summary()
    assert failed(report, "customer_loyalty_scores") == {
        ("expect_column_values_to_be_between", ("staging_customers_without_row",))
    }
    assert "staging_customers_without_row) failed on 1 row (e.g. customer_id c4: staging_responses 1)" in (
        report.failure_summary()
    )
    assert failed(report, "satisfaction_vs_loyalty") == {
        ("expect_column_pair_values_to_be_equal", ("score_type_answers", "staging_judged_answers"))
    }
    assert failed(report, "service_effort") == {
        ("expect_column_pair_values_to_be_equal", ("contacts", "staging_contacts"))
    }


def test_implausible_scores_and_figures_fail(raw_and_plausibility_faults):
    report = raw_and_plausibility_faults
    assert failed(report, "survey_scores") == {("expect_column_values_to_be_between", ("ces_mean",))}
    assert "month 2024-02-01 all all: 8" in report.failure_summary()
    assert failed(report, "satisfaction_vs_loyalty") == {
        ("expect_column_values_to_be_between", ("revenue_per_answer",))
    }
    assert failed(report, "service_effort") == {("expect_column_values_to_be_between", ("mean_transfers",))}
    assert report.result_for("customer_loyalty_scores").success


def test_nps_out_of_range_and_categories_not_adding_up_fail_dbts_tests(dbt_tests_on_broken_marts):
    failing = failing_dbt_tests(dbt_tests_on_broken_marts, "survey_scores")
    assert failing["assert_survey_scores_nps_within_bounds"] == 1  # NPS 120
    assert failing["assert_survey_scores_nps_categories_add_up"] == 1  # one promoter too many
    # that promoter is also missing from the parts of the 'all' row
    assert failing["assert_survey_scores_totals_add_up"] >= 1


def test_voice_shares_outside_zero_one_and_another_as_of_date_fail_dbts_tests(dbt_tests_on_broken_marts):
    failing = failing_dbt_tests(dbt_tests_on_broken_marts)
    # csat_score 1.5 (survey_scores), repurchase_share -0.25 (satisfaction_vs_loyalty), resolved_share 2.0
    # (service_effort)
    assert failing["assert_voice_shares_between_zero_and_one"] == 3
    # one customer of customer_loyalty_scores on the day before the as-of date
    assert failing["assert_marts_stand_on_the_as_of_date"] == 1


def test_a_category_of_another_score_type_fails_dbts_test(dbt_tests_on_broken_marts):
    failing = failing_dbt_tests(dbt_tests_on_broken_marts, "satisfaction_vs_loyalty")
    assert failing["assert_satisfaction_vs_loyalty_categories_match_score_type"] == 1


def test_nulls_in_an_intermediate_model_fail_its_one_not_null_test(dbt_tests_on_broken_marts):
    failing = failing_dbt_tests(dbt_tests_on_broken_marts, "int_survey_responses_categorized")
    # not_null_columns returns one row per column with nulls: response_date and touchpoint_channel
    assert failing == {"not_null_int_survey_responses_categorized": 2}


VOICE_MARTS = ("survey_scores", "customer_loyalty_scores", "satisfaction_vs_loyalty", "service_effort")
#: The row-count check of each voice mart: on the mart itself, or on the row count of its summary
#: (customer_loyalty_scores, one row per customer, is validated as a summary).
ROW_COUNT_CHECK = {
    mart: ("expect_table_row_count_to_be_between", ())
    if mart != "customer_loyalty_scores"
    else ("expect_column_values_to_be_between", ("rows",))
    for mart in VOICE_MARTS
}


def test_voice_marts_of_entities_without_any_export_pass_empty(not_exported_scenarios):
    report = not_exported_scenarios["none"]
    assert report.success, report.failure_summary()
    assert report.not_exported == ["contacts", "survey_responses"]
    for mart in VOICE_MARTS:
        result = report.result_for(mart)
        assert result.rows == 0 and result.success, (mart, result)
    assert report.result_for("service_effort").not_exported == ("contacts",)
    assert report.result_for("survey_scores").not_exported == ("survey_responses",)


def test_voice_marts_empty_although_their_entities_were_exported_fail(not_exported_scenarios):
    report = not_exported_scenarios["lost"]
    assert report.not_exported == []
    for mart in VOICE_MARTS:
        assert ROW_COUNT_CHECK[mart] in failed(report, mart), mart


def test_voice_marts_with_rows_but_no_export_fail(not_exported_scenarios):
    report = not_exported_scenarios["stale"]
    for mart in VOICE_MARTS:
        assert ROW_COUNT_CHECK[mart] in failed(report, mart), mart
