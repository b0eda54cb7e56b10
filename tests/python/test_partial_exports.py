"""Every company can publish: `python -m flows run` on a company that exports only customers and
orders (no survey tool, no service desk, no marketing spend file), and on one that exports orders
alone (the customers are those seen in orders). The audit figures, cohorts, customers, orders,
personas, revenue concentration and customer value are published with rows; the voice marts are published empty
(with their columns) and validated as such; the run summary names the entities without exports.
One CLI run per case, on a small generated sample split here."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pytest

from flows.config import Paths
from tests.python.conftest import run_on, skip_unit_tests_of_this_code

pytestmark = pytest.mark.e2e

#: marts that need nothing but orders (and customers, when there are any)
ORDER_MARTS = (
    "customer_audit_figures",
    "acquisition_cohorts",
    "customers",
    "orders",
    "customer_personas",
    "revenue_concentration",
    "clv_model_parameters",
    "customer_lifetime_value",
    "customer_equity",
    "acquisition_channel_value",
    "customer_engagement_value",
    "customer_profitability",
)
VOICE_MARTS = ("survey_scores", "customer_loyalty_scores", "satisfaction_vs_loyalty", "service_effort")

CASES = {
    "orders_and_customers": ("customers_", "orders_"),
    "orders_only": ("orders_",),
}


@pytest.fixture(scope="module")
def full_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from flows.sample_data import generate_exports

    folder = tmp_path_factory.mktemp("partial_exports") / "full"
    generate_exports(folder, customers=200, seed=3, start=date(2023, 1, 1), end=date(2025, 6, 30))
    return folder


@pytest.fixture(scope="module", params=list(CASES))
def partial_run(
    request: pytest.FixtureRequest,
    full_sample: Path,
    tmp_path_factory: pytest.TempPathFactory,
    prefect_api: str,
) -> tuple[str, Paths, subprocess.CompletedProcess[str]]:
    """The CLI on the files of the sample whose names start with the case's prefixes. The session's run
    passes dbt's unit tests on this code: these builds skip them (conftest.skip_unit_tests_of_this_code)."""
    case = request.param
    root = tmp_path_factory.mktemp(case)
    paths = Paths.resolve(
        exports=root / "exports", warehouse=root / "build.duckdb", published=root / "published.duckdb"
    )
    paths.exports.mkdir()
    skip_unit_tests_of_this_code(paths.dbt_target)
    for path in full_sample.iterdir():
        if path.name.startswith(CASES[case]):
            shutil.copy(path, paths.exports / path.name)
    completed = run_on("run", paths, "--settle-seconds", "0", api_url=prefect_api)  # copied a moment ago, completely
    return case, paths, completed


def row_counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {t: con.execute(f'select count(*) from marts."{t}"').fetchone()[0] for t in tables}


def test_a_company_without_survey_contacts_or_spend_exports_publishes(partial_run) -> None:
    case, paths, completed = partial_run
    assert completed.returncode == 0, completed.stderr[-3000:] + completed.stdout[-3000:]
    counts = row_counts(paths.published)
    for mart in ORDER_MARTS:
        assert counts.get(mart, 0) > 0, (case, mart, counts)
    for mart in VOICE_MARTS:
        assert counts.get(mart) == 0, (case, mart, counts)
    with duckdb.connect(str(paths.published), read_only=True) as con:
        years = con.execute(
            "select count(*) from marts.customer_audit_figures where period_grain = 'year' and orders > 0"
        ).fetchone()[0]
        assert years == 3  # 2023, 2024, 2025
        # an empty mart keeps the columns BI reads
        columns = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'marts' and table_name = 'survey_scores'"
            ).fetchall()
        }
        assert {"period_grain", "period_start", "nps", "responses"} <= columns
        # customer value on orders alone: no feedback, no service cost, no spend (CAC null, not 0)
        knowledge, service, with_cac, acquisition = con.execute(
            """select (select sum(knowledge_value) from marts.customer_engagement_value),
                      (select sum(service_cost) from marts.customer_profitability),
                      (select count(cac) from marts.customer_equity),
                      (select sum(acquisition_cost) from marts.customer_profitability)"""
        ).fetchone()
        assert (knowledge, service, with_cac, acquisition) == (0, 0, 0, 0)
        assert con.execute("select bool_and(converged) from marts.clv_model_parameters").fetchone()[0]
        if case == "orders_only":  # customers seen in orders, every one of them
            assert (
                con.execute("select count(distinct customer_id) from marts.orders").fetchone()[0] == counts["customers"]
            )


def test_the_summary_names_the_entities_without_exports(partial_run) -> None:
    case, _, completed = partial_run
    out = " ".join(completed.stdout.split())
    assert "no survey_responses exports: the voice of the customer marts are empty" in out
    assert "no contacts exports: service_effort is empty" in out
    assert "no marketing_spend exports" in out
    assert ("no customers exports" in out) == (case == "orders_only")
    assert "no orders exports" not in out
    assert "Published marts" in out
