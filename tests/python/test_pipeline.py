"""End to end on the session's generated sample: the CLI ran the Prefect flow (load, dbt build,
Great Expectations, publish); re-running changes nothing; a corrected re-export replaces the old
record; a failing validation publishes nothing. The tests that change something share one copy of
the session's run (module fixture `paths`), in the order they are written."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest

from flows.config import Paths
from tests.python.conftest import CliRun, copy_paths, run_cli

pytestmark = pytest.mark.e2e

PII_COLUMNS = {"email", "full_name", "name", "phone", "address", "comment", "response_comment"}


@pytest.fixture(scope="module")
def first_run(sample_cli_run: CliRun) -> subprocess.CompletedProcess[str]:
    """The user's path: `python -m flows run` in a subprocess (a real Prefect flow run)."""
    return sample_cli_run.completed


@pytest.fixture(scope="module")
def paths(sample_cli_run: CliRun, tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Paths:
    """A copy of the session's run that the tests of this module may change."""
    return copy_paths(sample_cli_run.paths, tmp_path_factory.mktemp("pipeline"))


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def table_counts(path: Path, schema: str) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
            ).fetchall()
        ]
        return {t: con.execute(f'select count(*) from {schema}."{t}"').fetchone()[0] for t in tables}


def test_the_cli_runs_the_whole_pipeline(first_run: subprocess.CompletedProcess[str], paths: Paths) -> None:
    assert first_run.returncode == 0, first_run.stderr[-3000:] + first_run.stdout[-3000:]
    assert "Published marts" in first_run.stdout
    dbt_line = first_run.stdout.split("dbt build:")[1].split("\n")[0]
    assert ", 0 failed" in dbt_line and " 0 tests passed" not in dbt_line, dbt_line
    # the session's first build: new code, so a full refresh with dbt's unit tests
    assert "full refresh (dbt code or vars changed)" in dbt_line and "unit tests skipped" not in dbt_line
    # every export file was loaded, and nothing was lost on the way
    manifest = query(
        paths.warehouse, "select count(*), sum(rows_read), sum(rows_loaded + rows_quarantined) from raw.load_manifest"
    )
    files = [p for p in paths.exports.iterdir()]
    assert manifest[0][0] == len(files)
    assert manifest[0][1] == manifest[0][2]


def test_the_run_ends_with_the_audit_and_voice_headlines(
    first_run: subprocess.CompletedProcess[str], paths: Paths
) -> None:
    """The last complete year's and month's audit figures and the latest complete month's scores,
    as the published marts hold them, formatted for people."""
    out = first_run.stdout
    ((year, year_revenue, year_new),) = query(
        paths.published,
        """select period_start, revenue, gross_new_customers from marts.customer_audit_figures
           where period_grain = 'year' and is_complete order by period_start desc limit 1""",
    )
    ((month, month_active),) = query(
        paths.published,
        """select period_start, active_customers from marts.customer_audit_figures
           where period_grain = 'month' and is_complete order by period_start desc limit 1""",
    )
    audit = out.split("Audit figures, last complete year and month")[1].split("Voice of the customer")[0]
    assert f"year {year:%Y}" in audit and f"month {month:%Y-%m}" in audit
    assert f"€{year_revenue:,.2f}" in audit
    assert f" {year_new:,} " in audit.split("gross new")[1].splitlines()[0]
    assert f" {month_active:,} " in audit.split("active customers")[1].splitlines()[0]
    for label in (
        "customers at start",
        "reactivated",
        "lost",
        "net new",
        "customers at end",
        "of which new",
        "of which existing",
        "revenue per new customer",
        "revenue per existing customer",
    ):
        assert label in audit
    ((scores_month, nps, margin, nps_answers, ces_answers, csat_answers),) = query(
        paths.published,
        """select period_start, nps, nps_margin_of_error, nps_answers, ces_answers, csat_answers
           from marts.survey_scores
           where period_grain = 'month' and touchpoint_type = 'all' and channel = 'all' and is_complete
           order by period_start desc limit 1""",
    )
    voice = out.split("Voice of the customer")[1]
    assert f"{scores_month:%Y-%m}" in voice.splitlines()[0]
    nps_line = next(line for line in voice.splitlines() if "│ NPS" in line)
    assert f"{nps:+.1f} ± {margin:.1f}" in nps_line and f" {nps_answers:,} " in nps_line
    assert f" {ces_answers:,} " in next(line for line in voice.splitlines() if "│ CES" in line)
    assert f" {csat_answers:,} " in next(line for line in voice.splitlines() if "│ CSAT" in line)


def test_staging_holds_every_generated_record(first_run: subprocess.CompletedProcess[str], paths: Paths) -> None:
    generated_orders = sum(len(p.read_text().splitlines()) - 1 for p in paths.exports.glob("orders_*.csv"))
    assert query(paths.warehouse, "select count(*) from staging.stg_crm__orders") == [(generated_orders,)]


def test_published_file_holds_only_marts_without_personal_data(
    first_run: subprocess.CompletedProcess[str], paths: Paths
) -> None:
    schemas = {r[0] for r in query(paths.published, "select distinct table_schema from information_schema.tables")}
    assert schemas == {"marts"}
    columns = {r[0] for r in query(paths.published, "select column_name from information_schema.columns")}
    assert not columns & PII_COLUMNS
    published = table_counts(paths.published, "marts")
    built = table_counts(paths.warehouse, "marts")
    assert {k: v for k, v in published.items() if not k.startswith("_")} == built
    assert published["customers"] > 0 and published["orders"] > 0


def test_running_again_on_the_same_files_changes_nothing(
    first_run: subprocess.CompletedProcess[str], paths: Paths
) -> None:
    from flows.pipeline import customer_value_pipeline

    before = {**table_counts(paths.warehouse, "raw"), **table_counts(paths.warehouse, "marts")}
    revenue = query(paths.warehouse, "select sum(revenue) from marts.customers")
    publication = query(paths.published, "select run_id, published_at from marts._publication")
    summary = customer_value_pipeline(str(paths.exports), str(paths.warehouse), str(paths.published))
    assert {f.status for f in summary.load.files} == {"skipped"}
    # nothing new and the same code: the run stops after the load, the publication stays as it was
    assert summary.up_to_date and not summary.published and summary.dbt is None
    assert query(paths.published, "select run_id, published_at from marts._publication") == publication
    assert {**table_counts(paths.warehouse, "raw"), **table_counts(paths.warehouse, "marts")} == before
    assert query(paths.warehouse, "select sum(revenue) from marts.customers") == revenue


def test_a_corrected_re_export_replaces_the_old_record(
    first_run: subprocess.CompletedProcess[str], paths: Paths
) -> None:
    from flows.pipeline import customer_value_pipeline

    order_id, customer_id, ordered_at, amount = query(
        paths.warehouse,
        """select order_id, customer_id, strftime(ordered_at, '%Y-%m-%d %H:%M:%S'), amount
           from staging.stg_crm__orders where order_status = 'completed' and original_currency = 'EUR'
           order by order_id limit 1""",
    )[0]
    orders_before = query(paths.warehouse, "select count(*) from marts.orders")[0][0]
    revenue_before = query(
        paths.warehouse, "select revenue from marts.customers where customer_id = ?".replace("?", f"'{customer_id}'")
    )[0][0]
    (paths.exports / "orders_2099-01-01_correction.csv").write_text(
        "order_id,customer_id,ordered_at,status,amount,discount_amount,currency,channel\n"
        f"{order_id},{customer_id},{ordered_at},refunded,{amount},0,EUR,web\n"
    )
    customer_value_pipeline(str(paths.exports), str(paths.warehouse), str(paths.published))
    assert query(paths.warehouse, f"select order_status from marts.orders where order_id = '{order_id}'") == [
        ("refunded",)
    ]
    assert query(paths.warehouse, "select count(*) from marts.orders")[0][0] == orders_before
    assert query(paths.published, f"select revenue from marts.customers where customer_id = '{customer_id}'") == [
        (revenue_before - amount,)
    ]


def test_a_missing_exports_folder_fails_with_a_one_line_cause(tmp_path: Path) -> None:
    result = run_cli("run", "--exports", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb"), timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: exports folder")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_failing_validation_publishes_nothing_and_names_the_failure(
    first_run: subprocess.CompletedProcess[str], paths: Paths
) -> None:
    """A deliberately broken figure (the revenue of the first year a cent too high) fails the
    reconciliation with raw.orders: the flow run fails naming the expectation, the previously
    published marts stay as they were, and the unpublished build is kept for inspection."""
    import dataclasses

    from flows.pipeline import customer_value_pipeline
    from flows.validation import SUITES, ValidationError

    original = SUITES["customer_audit_figures"]

    def break_a_figure(df, ctx):
        df = df.copy()
        first_year = df.index[df["period_grain"] == "year"][0]
        df["revenue"] = df["revenue"].astype("float64")
        df.loc[first_year, "revenue"] += 0.01
        return original.prepare(df, ctx)

    published_before = paths.published.read_bytes()
    run_before = query(paths.published, "select run_id from marts._publication")
    SUITES["customer_audit_figures"] = dataclasses.replace(original, prepare=break_a_figure)
    try:
        with pytest.raises(
            ValidationError, match=r"customer_audit_figures: .*\(revenue_cents, raw_completed_revenue_cents\)"
        ):
            # a new export file (one prospect): with nothing new the run would stop as up to date before
            # validation; an incremental build is enough to reach it
            (paths.exports / "customers_2099-02-01_prospect.csv").write_text(
                "customer_id,created_at,email,full_name,country,acquisition_channel,referred_by_customer_id\n"
                "C9999998,2025-12-01 09:00:00,prospect@example.com,New Prospect,NL,organic,\n",
                encoding="utf-8",
            )
            customer_value_pipeline(str(paths.exports), str(paths.warehouse), str(paths.published))
    finally:
        SUITES["customer_audit_figures"] = original
    assert paths.published.read_bytes() == published_before
    assert query(paths.published, "select run_id from marts._publication") == run_before
    assert query(paths.warehouse, "select count(*) from marts.customer_audit_figures")[0][0] > 0  # kept for inspection
    assert (paths.output / "data_docs" / "index.html").is_file()
