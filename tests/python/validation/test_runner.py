"""The runner of the suites (flows.validation.runner) and its registry and report: what every suite
shares, on the hand-made warehouse of conftest.py, with real Great Expectations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from flows.config import PROJECT_DIR
from flows.validation import (
    SUITES,
    FailedExpectation,
    SuiteResult,
    ValidationError,
    ValidationReport,
    register_suite,
    validate_warehouse,
)
from flows.validation.suites import DOMAINS
from tests.python.validation.conftest import UNTOUCHED_BY_RAW_FAULTS, broken_copy

AUDIT_MARTS = ["customer_audit_figures", "acquisition_cohorts", "customers", "orders"]
VOICE_MARTS = ["survey_scores", "customer_loyalty_scores", "satisfaction_vs_loyalty", "service_effort"]
PERSONAS_MARTS = [
    "customer_personas",
    "revenue_concentration",
    "acquisition_cost",
    "customer_persona_history",
    "persona_summary",
    "persona_transitions",
]
VALUE_MARTS = [
    "clv_model_parameters",
    "customer_lifetime_value",
    "clv_holdout_validation",
    "customer_equity",
    "acquisition_channel_value",
    "customer_engagement_value",
    "customer_profitability",
]

# --------------------------------------------------------------------------- without GX


def test_import_is_cheap():
    """Importing flows.validation (every suite included) does not import Great Expectations (that takes seconds)."""
    code = "import sys, flows.validation; sys.exit(1 if 'great_expectations' in sys.modules else 0)"
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, check=False)
    assert completed.returncode == 0


def test_registry_has_every_mart_in_domain_order():
    assert DOMAINS == ("audit", "voice", "personas", "value")
    assert list(SUITES) == AUDIT_MARTS + VOICE_MARTS + PERSONAS_MARTS + VALUE_MARTS
    assert SUITES["customers"].name == "customers_suite"
    # the suites that read figures from outside their mart need the build's run parameters
    assert SUITES["customer_audit_figures"].needs_run_parameters
    assert not SUITES["customers"].needs_run_parameters


def test_every_mart_model_has_a_suite():
    """Every published table is validated (the personal-data scan included): one suite per mart model."""
    models = {path.stem for path in (PROJECT_DIR / "models" / "marts").rglob("*.sql")}
    assert models == set(SUITES)


def test_failure_summary_and_error_message():
    report = ValidationReport(
        success=False,
        results=[
            SuiteResult(
                "customer_audit_figures_suite",
                "customer_audit_figures",
                evaluated=40,
                failed=[
                    FailedExpectation(
                        "expect_column_pair_values_to_be_equal",
                        ("revenue_cents", "raw_completed_revenue_cents"),
                        "failed on 3 rows",
                        3,
                    )
                ],
            )
        ],
    )
    expected = (
        "customer_audit_figures: expect_column_pair_values_to_be_equal(revenue_cents, raw_completed_revenue_cents) "
        "failed on 3 rows"
    )
    assert report.failure_summary() == expected
    error = ValidationError(report)
    assert str(error) == expected and error.report is report
    with pytest.raises(ValidationError, match=r"revenue_cents, raw_completed_revenue_cents"):
        raise error


# --------------------------------------------------------------------------- with GX


@pytest.fixture(scope="module")
def good(tmp_path_factory, base_warehouse) -> tuple[ValidationReport, Path]:
    """The good warehouse, validated with Data Docs (the one validation of the tests that writes them)."""
    folder = tmp_path_factory.mktemp("good")
    docs = folder / "output" / "data_docs"
    return validate_warehouse(broken_copy(base_warehouse, folder), docs), docs


@pytest.mark.integration
def test_good_data_passes_and_writes_data_docs(good):
    report, docs = good
    assert report.success, report.failure_summary()
    assert [r.suite_name for r in report.results][:3] == [
        "customer_audit_figures_suite",
        "acquisition_cohorts_suite",
        "customers_suite",
    ]
    assert all(r.evaluated > 0 and not r.failed for r in report.results)
    assert report.result_for("customer_audit_figures").rows == 16 + 6 + 2
    assert report.data_docs_index == docs / "index.html"
    assert report.data_docs_index.is_file()
    html = report.data_docs_index.read_text()
    assert "customer_audit_figures_suite" in html
    # rewritten to load local copies of GX's scripts and styles (flows/data_docs): nothing from the network
    from flows.data_docs import remote_references

    assert remote_references(html) == [] and 'src="static/vendor/js/jquery-3.7.1.min.js"' in html
    assert (docs / "static" / "vendor" / "js" / "jquery-3.7.1.min.js").is_file()
    assert report.failure_summary().startswith("all ")


@pytest.mark.integration
def test_every_expectation_of_every_suite_runs_on_good_data(good):
    """Each suite evaluates every Expectation it defines (none is skipped), and passes."""
    import great_expectations.expectations as gxe

    report, _ = good
    for mart in AUDIT_MARTS + VOICE_MARTS + PERSONAS_MARTS + VALUE_MARTS:
        result = report.result_for(mart)
        assert result is not None and result.success, (mart, result)
        assert result.evaluated == len(SUITES[mart].expectations(gxe)), mart


@pytest.mark.integration
def test_missing_registered_mart_fails(raw_and_plausibility_faults):
    report = raw_and_plausibility_faults
    assert not report.success
    result = report.result_for("acquisition_cohorts")
    assert result is not None and not result.success and result.rows is None
    assert "acquisition_cohorts: mart_exists" in report.failure_summary()
    assert "marts.acquisition_cohorts is missing" in report.failure_summary()
    # the other suites ran: those of the marts without a fault passed
    assert all(report.result_for(mart).success for mart in UNTOUCHED_BY_RAW_FAULTS)


@pytest.mark.integration
def test_a_later_mart_registers_its_suite_and_the_run_parameters_are_required(tmp_path, base_warehouse):
    """A suite registered for a new mart runs, its failures reported like the others'; without
    intermediate.int_run_parameters every suite that needs it fails, naming the table, unrun."""

    @register_suite("persona_scorecard", key_columns=("persona",))
    def persona_scorecard_suite(gxe):
        return [
            gxe.ExpectColumnValuesToBeUnique(column="persona"),
            gxe.ExpectColumnValuesToBeBetween(column="share", min_value=0, max_value=1),
        ]

    warehouse = broken_copy(
        base_warehouse,
        tmp_path,
        "create table marts.persona_scorecard as select * from (values ('loyal', 0.6), ('new', 1.4)) t(persona, share)",
        "drop table intermediate.int_run_parameters",
    )
    try:
        report = validate_warehouse(warehouse, None)
    finally:
        SUITES.pop("persona_scorecard", None)
    assert report.results[-1].suite_name == "persona_scorecard_suite"
    assert not report.success
    # every failure as the summary names it (the summary itself stops after eight)
    described = "; ".join(f"{result.mart}: {failure.describe()}" for result, failure in report.failed)
    assert "persona_scorecard: expect_column_values_to_be_between(share) failed on 1 row (e.g. new: 1.4)" in described
    for mart, suite in SUITES.items():
        result = report.result_for(mart)
        if suite.needs_run_parameters:
            assert [f.expectation_type for f in result.failed] == ["run_parameters"], mart
            assert "intermediate.int_run_parameters is missing" in result.failed[0].observed
            assert result.rows is None
        else:  # customers and persona_summary read nothing but their mart
            assert result.success, (mart, result.failed)
    assert report.data_docs_index is None


@pytest.mark.integration
def test_a_warehouse_without_marts_fails_every_suite(tmp_path):
    warehouse = tmp_path / "empty.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
    report = validate_warehouse(warehouse, None)
    assert not report.success
    assert {f.expectation_type for _, f in report.failed} == {"mart_exists"}
    assert len(report.results) == len(SUITES)
