"""The run report (flows/summary/report.py) and its two renderers, the terminal (what `python -m flows run`
prints) and Markdown (the Prefect artifact), on hand-made run summaries: no Prefect server needed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from flows.ingest import FileResult, LoadReport
from flows.pipeline import RunSummary
from flows.summary.formatting import format_count, format_money, format_nps, format_number, format_share
from flows.summary.headlines.registry import HEADLINES
from flows.summary.markdown import render_markdown
from flows.summary.report import RunReport, build_run_report
from flows.transform import DbtResult, NodeResult
from flows.validation import FailedExpectation, SuiteResult, ValidationReport
from tests.python.summary.helpers import markdown_line, printed, run_summary, table_line, terminal_text


def load_report() -> LoadReport:
    return LoadReport(
        files=[
            FileResult("orders_2025-01-02.csv", "orders", "loaded", 10, 8, 2, load_id=3),
            FileResult(
                "customers_2025-01-02.csv", "customers", "rejected", 4, 0, 4, "missing required column customer_id"
            ),
            FileResult("orders_2025-01-01.csv", "orders", "skipped", message="same content as orders_2025-01-01.csv"),
            FileResult("notes.txt", None, "ignored", message="not an export | renamed?"),
        ]
    )


def failed_run(published: Path) -> RunSummary:
    """A run whose validation failed: loaded, built (a test warned and one failed), not published."""
    dbt = DbtResult(
        ["dbt", "build"],
        1,
        [
            NodeResult("customers", "model", "success"),
            NodeResult("currency_rates", "seed", "success"),
            NodeResult("not_null_orders_customer_id", "test", "pass"),
            NodeResult("unit_personas", "unit_test", "pass"),
            NodeResult("accepted_channel", "test", "warn", "Got 1 result", 1),
            NodeResult("unique_orders_order_id", "test", "fail", "Got 2 results", 2),
        ],
        elapsed_seconds=12.34,
        full_refresh=True,
        code_changed=True,
    )
    failed = FailedExpectation("expect_column_values_to_be_between", ("nps",), "failed on 3 rows", 3)
    validation = ValidationReport(
        success=False,
        results=[
            SuiteResult("nps_suite", "nps", evaluated=5, failed=[failed]),
            SuiteResult("s", "customers", evaluated=7),
        ],
        data_docs_index=Path("/w/data_docs/index.html"),
    )
    return run_summary(
        published,
        load=load_report(),
        dbt=dbt,
        validation=validation,
        error="ValidationError: nps: expect_column_values_to_be_between(nps) failed on 3 rows",
        seconds={"load": 1.25, "dbt build": 20.0, "validate": 3.5},
    )


# --------------------------------------------------------------------------- formatting


def test_formatters() -> None:
    assert format_money(1234567.891, "EUR") == "€1,234,567.89"
    assert format_money(-0.5, "EUR") == "-€0.50"
    assert format_money(None, "EUR") == "-"
    assert format_nps(-12.34, 8.76) == "-12.3 ± 8.8"
    assert format_nps(20, None) == "+20.0"


def test_the_currency_symbol_comes_from_the_reporting_currency_passed_in() -> None:
    assert format_money(1234.5, "USD") == "$1,234.50"
    assert format_money(-2, "gbp") == "-£2.00"
    assert format_money(1234.5, "CHF") == "CHF 1,234.50"
    assert (format_count(1234), format_count(None)) == ("1,234", "-")
    assert (format_share(0.6842), format_number(0.57391, 3)) == ("68.4%", "0.574")


# --------------------------------------------------------------------------- the structure


def test_headlines_of_marts_that_are_not_published_are_left_out(tmp_path: Path) -> None:
    path = tmp_path / "published.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.other as select 1 as x")
    assert printed(path).strip() == ""
    assert [h.mart for h in HEADLINES][:3] == ["customers", "customer_audit_figures", "survey_scores"]
    assert [h.mart for h in HEADLINES][3:] == [
        "persona_summary",
        "revenue_concentration",
        "customer_equity",
        "acquisition_channel_value",
        "clv_holdout_validation",
    ]


def test_no_published_file_no_headlines(tmp_path: Path) -> None:
    missing = tmp_path / "missing.duckdb"
    assert build_run_report(run_summary(missing), missing, "EUR").headlines == []
    assert not missing.exists()  # reading never creates it
    assert build_run_report(run_summary(missing), None, "EUR").headlines == []


def test_the_report_holds_the_facts_of_the_run(published: Path) -> None:
    report = build_run_report(failed_run(published), published, "EUR")
    assert (report.run_id, report.outcome, report.status) == ("run-1", "failed", "failed")
    assert report.error.startswith("ValidationError: nps")
    assert (report.warehouse, report.exports, report.published_file) == (
        Path("/w/build.duckdb"),
        Path("/data/exports"),
        published,
    )
    assert report.load is not None
    assert [f.file_name for f in report.load.files] == [
        "orders_2025-01-02.csv",
        "customers_2025-01-02.csv",
        "notes.txt",
    ]
    assert (report.load.skipped, report.load.count("loaded"), report.load.count("rejected")) == (1, 1, 1)
    assert (report.load.rows_read, report.load.rows_loaded, report.load.rows_quarantined) == (14, 8, 6)
    assert report.dbt is not None
    assert (report.dbt.models, report.dbt.seeds, report.dbt.tests_passed, report.dbt.return_code) == (1, 1, 2, 1)
    assert [n.name for n in report.dbt.warned] == ["accepted_channel"]
    assert [(n.name, n.failures) for n in report.dbt.failed] == [("unique_orders_order_id", 2)]
    assert report.validation is not None
    assert (report.validation.success, report.validation.evaluated, report.validation.suites) == (False, 12, 2)
    assert [(c.mart, c.description) for c in report.validation.failed] == [
        ("nps", "expect_column_values_to_be_between(nps) failed on 3 rows")
    ]
    assert report.seconds == {"load": 1.25, "dbt build": 20.0, "validate": 3.5}
    assert [h.title for h in report.headlines] == [
        "Audit figures, last complete year and month",
        "Voice of the customer, 2025-02",
    ]
    assert all(isinstance(cell, str) for h in report.headlines for row in h.rows for cell in row)


def test_the_status_of_a_run() -> None:
    def status(**fields: object) -> str:
        fields.setdefault("error", "")
        return RunReport(run_id="r", warehouse=Path("w"), exports=Path("e"), published_file=Path("p"), **fields).status  # type: ignore[arg-type]

    assert status() == "not published"
    assert status(published=True) == "published"
    assert status(up_to_date=True) == "up to date"
    assert status(error="boom", published=True) == "failed"


# --------------------------------------------------------------------------- the renderers


def test_the_terminal_shows_the_run_then_the_headlines(published: Path) -> None:
    text = terminal_text(build_run_report(failed_run(published), published, "EUR"))
    assert "Export files" in text
    assert table_line(text, "orders_2025-01-02.csv") == ["loaded", "10", "8", "2", ""]
    assert table_line(text, "customers_2025-01-02.csv") == [
        "rejected",
        "4",
        "0",
        "4",
        "missing required column customer_id",
    ]
    assert "orders_2025-01-01.csv" not in text  # skipped files are counted, not listed
    assert table_line(text, "total") == ["", "14", "8", "6", ""]
    assert "Rows read 14 = loaded 8 + quarantined 6; 1 files already loaded were skipped" in text
    assert "Quarantined rows and their reasons: table raw.quarantine in /w/build.duckdb" in text
    assert (
        "dbt build: 1 models built, 1 seeds, 2 tests passed, 1 warned, 1 failed (12.3 s); "
        "full refresh (dbt code or vars changed)"
    ) in text
    assert "  warn accepted_channel: Got 1 result" in text
    assert "Great Expectations: failed; Data Docs: /w/data_docs/index.html" in text
    assert "Build warehouse: /w/build.duckdb" in text
    assert "Published marts" not in text and "Nothing new" not in text
    assert "Timings: load 1.2 s, dbt build 20.0 s, validate 3.5 s" in text
    assert text.index("Timings:") < text.index("Audit figures") < text.index("Voice of the customer")


def test_the_terminal_says_where_the_marts_were_published_or_that_nothing_was_new(published: Path) -> None:
    done = run_summary(
        published,
        load=LoadReport(),
        dbt=DbtResult(["dbt", "build"], 0),
        validation=ValidationReport(success=True),
        published=True,
        release=Path("/w/published.releases/20261201T120000.000000Z-r1"),
    )
    text = terminal_text(build_run_report(done, None, "EUR"), width=300)
    assert f"Published marts (what BI tools read): {published}" in text
    assert "Release with Parquet files and manifest.json: /w/published.releases/20261201T120000.000000Z-r1" in text
    assert (
        f"**Marts published:** yes (`{published}`, release `/w/published.releases/20261201T120000.000000Z-r1`)"
        in render_markdown(build_run_report(done, None, "EUR"))
    )
    assert "dbt build: 0 models built, 0 seeds, 0 tests passed, 0 warned, 0 failed (0.0 s); incremental" in text
    assert "Great Expectations: passed\n" in text
    same = run_summary(published, load=LoadReport(files=[load_report().files[2]]), up_to_date=True)
    text = terminal_text(build_run_report(same, None, "EUR"), width=300)
    assert "Export files" not in text
    assert "Rows read 0 = loaded 0 + quarantined 0; 1 files already loaded were skipped" in text
    assert (
        f"Nothing new since the last publication (no new export file, same code): build, validation and publish "
        f"skipped; the published marts are current: {published}" in text
    )


def test_the_markdown_keeps_every_section_and_adds_the_headline_tables(published: Path) -> None:
    markdown = render_markdown(build_run_report(failed_run(published), published, "EUR"))
    assert markdown.startswith("# Customer-value pipeline run run-1: failed\n")
    assert "**Error:** ValidationError: nps: expect_column_values_to_be_between(nps) failed on 3 rows" in markdown
    assert "**Marts published:** no (the previous publication is unchanged)" in markdown
    assert "Build warehouse: `/w/build.duckdb`; exports: `/data/exports`" in markdown
    assert "| notes.txt | - | ignored | 0 | 0 | 0 | not an export \\| renamed? |" in markdown
    assert "- `unique_orders_order_id` (test, fail, 2 rows): Got 2 results" in markdown
    assert "Failed: 12 expectations evaluated in 2 suites, 1 failed." in markdown
    assert "Data Docs: `/w/data_docs/index.html`" in markdown
    sections = [
        "## Load",
        "## dbt build",
        "## Great Expectations",
        "## Timings",
        "## Headline figures",
        "### Audit figures, last complete year and month",
        "### Voice of the customer, 2025-02",
    ]
    assert [markdown.index(s) for s in sections] == sorted(markdown.index(s) for s in sections)
    assert f"From the published marts `{published}`." in markdown
    assert (
        "| figure | year 2024 | month 2025-02 |\n| --- | ---: | ---: |\n| customers at start | 800 | 11,331 |"
    ) in markdown
    assert "| of which new | 12,345 | 1,001 |" in markdown
    assert markdown_line(markdown, "revenue per existing customer") == ["€987.65", "-€0.50"]
    assert "\nas of 2025-03-15, W = 365 days\n" in markdown
    assert (
        "| score | value | detail | answers |\n| --- | ---: | ---: | ---: |\n| NPS | -12.3 ± 8.8 |  | 1,234 |"
    ) in markdown


def test_the_terminal_and_the_markdown_show_the_same_figures(published: Path) -> None:
    report = build_run_report(failed_run(published), published, "EUR")
    terminal, markdown = terminal_text(report), render_markdown(report)
    assert report.headlines
    for headline in report.headlines:
        assert headline.title in terminal and f"### {headline.title}" in markdown
        for column in headline.columns:
            assert f" {column} " in terminal and f"| {column} |" in markdown
        for row in headline.rows:
            label, figures = row[0].strip(), [cell.strip() for cell in row[1:]]
            assert table_line(terminal, label) == markdown_line(markdown, label) == figures
        if headline.caption:
            assert headline.caption in " ".join(terminal.split()) and headline.caption in markdown
    assert report.load is not None
    for f in report.load.files:
        assert table_line(terminal, f.file_name) == markdown_line(markdown, f.file_name)[1:]  # markdown adds the entity
    for figure in (
        "Rows read 14 = loaded 8 + quarantined 6",
        "1 models built",
        "2 tests passed",
        "1 warned",
        "1 failed",
        "load 1.2 s, dbt build 20.0 s, validate 3.5 s",
    ):
        assert figure in terminal and figure in markdown


def test_the_cli_prints_the_report_the_flow_built(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m flows run` renders the RunReport the flow left on its summary (built once, not again)."""
    from typer.testing import CliRunner

    from flows import cli, pipeline

    summary = failed_run(published)
    summary.error = ""
    summary.report = build_run_report(summary, published, "EUR")
    summary.report.headlines[0].rows[0][1] = "as the flow built it"  # the CLI prints it, it does not rebuild it
    monkeypatch.setattr(pipeline, "customer_value_pipeline", lambda **options: summary)
    monkeypatch.setattr(cli, "console", cli.Console(width=160))
    (tmp_path / "exports").mkdir()
    result = CliRunner().invoke(cli.app, ["run", "--exports", str(tmp_path / "exports")])
    assert result.exit_code == 0, result.output
    assert "Rows read 14 = loaded 8 + quarantined 6" in result.output
    assert table_line(result.output, "customers at start") == ["as the flow built it", "11,331"]
    assert "Voice of the customer, 2025-02" in result.output


def test_the_entities_without_exports_are_named_in_the_terminal_and_the_markdown(tmp_path: Path) -> None:
    load = load_report()
    load.not_exported = ["customers", "contacts", "marketing_spend", "survey_responses"]
    report = build_run_report(run_summary(tmp_path / "none.duckdb", load=load), None, "EUR")
    expected = [
        "no customers exports: the customers are those seen in orders, without CRM attributes "
        "(acquisition channel unknown)",
        "no contacts exports: service_effort is empty",
        "no marketing_spend exports: acquisition_cost has no spend (CAC and payback empty)",
        "no survey_responses exports: the voice of the customer marts are empty "
        "(survey_scores, customer_loyalty_scores, satisfaction_vs_loyalty)",
    ]
    assert report.load.not_exported == expected
    terminal = terminal_text(report)
    markdown = render_markdown(report)
    for line in expected:
        assert line in terminal
        assert f"- {line}" in markdown
    assert "exports:" not in terminal_text(
        build_run_report(run_summary(tmp_path / "none.duckdb", load=load_report()), None, "EUR")
    )
