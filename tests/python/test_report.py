"""The customer report (flows/report) and the offline Data Docs (flows/data_docs/offline.py).

The figures are checked against the published marts of the session's sample run; the rendering in a
real headless Chromium (Debian's `chromium`, driven by Playwright without a browser download): no
request leaves the file, no JavaScript error, every chart is drawn at its minimum size; the Data
Docs index renders its table with icons, offline too. Screenshots go to the test's tmp folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from flows.config import Paths
from flows.data_docs.offline import make_offline, remote_references, rewrite_page
from flows.dbt_artifacts import manifest_vars
from flows.report import render_report, write_report
from flows.report.charts import MIN_DRAWN
from flows.report.data import PublishedMarts
from flows.report.numbers import NumberFormat
from flows.report.statement import STATEMENT_FIGURES, build_statement, period_label

CHROMIUM = Path("/usr/lib/chromium/chromium")

#: every chart the session's sample draws (it has every export): a missing one is a failure
SAMPLE_CHARTS = (
    "chart-bridge",
    "chart-active",
    "chart-revenue-per-customer",
    "chart-retention",
    "chart-cumulative-revenue",
    "chart-nps",
    "chart-ces-csat",
    "chart-satisfaction-loyalty",
    "chart-service-effort",
    "chart-persona-mix",
    "chart-persona-transitions",
    "chart-lorenz",
    "chart-cac",
    "chart-clv",
)


# --------------------------------------------------------------------------- numbers (unit)


@pytest.mark.parametrize(
    ("locale", "currency", "money", "share", "count"),
    [
        ("nl-NL", "EUR", "€\u00a01.234,56", "12,5\u00a0%", "1.234.567"),
        ("de-DE", "EUR", "1.234,56\u00a0€", "12,5\u00a0%", "1.234.567"),
        ("en-GB", "EUR", "€1,234.56", "12.5%", "1,234,567"),
        ("en-US", "USD", "$1,234.56", "12.5%", "1,234,567"),
        ("nl-NL", "CHF", "CHF\u00a01.234,56", "12,5\u00a0%", "1.234.567"),
    ],
)
def test_number_formats_follow_the_locale(locale: str, currency: str, money: str, share: str, count: str) -> None:
    fmt = NumberFormat.for_locale(locale, currency)
    assert (fmt.money(1234.56), fmt.share(0.125), fmt.count(1234567)) == (money, share, count)
    assert fmt.money(-0.5).startswith("-") and fmt.money(None) == "–" and fmt.signed(3) == "+3"
    assert fmt.vega_locale()["decimal"] == fmt.decimal


def test_an_unknown_locale_is_an_error() -> None:
    with pytest.raises(ValueError, match="reporting_locale 'xx-YY' is not a locale"):
        NumberFormat.for_locale("xx-YY", "EUR")


def test_data_docs_templates_load_nothing_from_the_network_after_the_rewrite(tmp_path: Path) -> None:
    """GX's own page templates, rewritten: no CDN address is left (a GX upgrade adding one fails here)."""
    import importlib.util

    # GX's package folder, without importing GX (seconds)
    package = Path(importlib.util.find_spec("great_expectations").submodule_search_locations[0])
    templates = package / "render" / "view" / "templates"
    site = tmp_path / "site"
    page = site / "validations" / "suite" / "run" / "page.html"
    for name in ("page.j2", "index_page.j2", "page_minimal.j2", "js_script_imports.j2"):
        original = (templates / name).read_text(encoding="utf-8")
        html, draws_chart = rewrite_page(original, page, site)
        assert remote_references(html) == [], name
        assert not draws_chart
        if name == "js_script_imports.j2":
            assert remote_references(original)  # there was something to rewrite
            assert 'src="../../../static/vendor/js/jquery-3.7.1.min.js"' in html
            assert "integrity=" not in html and "vega" not in html


# --------------------------------------------------------------------------- figures (sample run)


def _manifest(paths: Paths) -> Path:
    return paths.dbt_target / "manifest.json"


def test_statement_shows_the_published_figures(sample_run: Paths) -> None:
    fmt = NumberFormat.for_locale("nl-NL", "EUR")
    with PublishedMarts(sample_run.published) as marts:
        statement = build_statement(marts, fmt)
    with duckdb.connect(str(sample_run.published), read_only=True) as con:
        expected = con.execute(
            """select period_grain, period_start, revenue, gross_new_customers, customers_end, orders
               from marts.customer_audit_figures where is_complete and period_grain in ('year', 'quarter')
               qualify row_number() over (partition by period_grain order by period_start desc) <= 2
               order by period_grain desc, period_start desc"""
        ).fetchall()
        last_year = expected[0][1]
        books = con.execute(
            "select sum(amount) from marts.orders where is_completed and year(order_date) = ?", [last_year.year]
        ).fetchall()[0][0]
    # the last two complete years, then quarters, latest first
    assert [c.label for c in statement.columns] == [period_label(g, start) for g, start, *_ in expected]
    assert [g for g, *_ in expected] == ["year", "year", "quarter", "quarter"]
    lines = dict(statement.lines)
    labels = [label for _, label, _ in STATEMENT_FIGURES]
    assert list(lines) == labels
    for index, (_grain, _start, revenue, gross_new, customers_end, orders) in enumerate(expected):
        assert lines["revenue"][index] == fmt.money(revenue)
        assert lines["+ gross new"][index] == fmt.count(gross_new)
        assert lines["customers at end"][index] == fmt.count(customers_end)
        assert lines["completed orders"][index] == fmt.count(orders)
    reconciliation = statement.reconciliation
    assert reconciliation is not None and reconciliation.year == f"{last_year:%Y}"
    assert reconciliation.orders_revenue == float(books) == reconciliation.statement_revenue
    assert reconciliation.difference == 0 and reconciliation.orders_count == reconciliation.statement_orders


def test_report_has_every_section_with_definitions(sample_run: Paths) -> None:
    html, sections = render_report(
        sample_run.published, dbt_manifest=_manifest(sample_run), build_vars=manifest_vars(sample_run.dbt_target)
    )
    drawn = [s.chart_id for s in sections if s.spec]
    assert drawn == list(SAMPLE_CHARTS)
    for section in sections:
        assert section.reading, section.chart_id
        assert section.definitions, section.chart_id  # from dbt's manifest
    with duckdb.connect(str(sample_run.published), read_only=True) as con:
        run_id = con.execute("select run_id from marts._publication").fetchall()[0][0]
        as_of = con.execute("select max(as_of_date) from marts.customer_audit_figures").fetchall()[0][0]
    assert f'<b id="run-id">{run_id}</b>' in html and f'<b id="as-of-date">{as_of:%Y-%m-%d}</b>' in html
    assert 'id="validation-status" class="status passed"' in html
    # nothing from the network: no address in any src or href that a browser would load
    assert remote_references(html) == []


def test_an_empty_mart_says_which_export_is_missing(copy_run, tmp_path: Path) -> None:
    paths = copy_run()
    with duckdb.connect(str(paths.published)) as con:
        con.execute("delete from marts.survey_scores")
        con.execute("delete from marts.satisfaction_vs_loyalty")
    html, sections = render_report(paths.published, dbt_manifest=_manifest(paths))
    by_id = {s.chart_id: s for s in sections}
    for chart_id in ("chart-nps", "chart-ces-csat", "chart-satisfaction-loyalty"):
        assert by_id[chart_id].spec is None
        assert by_id[chart_id].empty_reason.startswith("no survey_responses exports: marts."), chart_id
    # and the holdout check: the sample's model is calibrated up to the as-of date
    assert by_id["table-clv-holdout"].empty_reason.startswith("no holdout: ")
    assert html.count('data-empty="true"') == 4
    assert "chart-nps" not in html.split("const charts =")[1].split(";")[0]


def test_customer_value_sections_show_the_published_value_marts(copy_run) -> None:
    """The CLV distribution of the published customer_lifetime_value; customer equity and CLV / CAC per
    channel as a hand-made acquisition_channel_value has them (the mart's dbt unit test computes them),
    channels by equity and the total last; the statement's customer equity is the sum of the customers'
    CLV; the holdout check as a table."""
    paths = copy_run()
    with duckdb.connect(str(paths.published)) as con:
        con.execute("drop table marts.acquisition_channel_value")
        con.execute(
            """create table marts.acquisition_channel_value as
               select acquisition_channel, new_customers::bigint as new_customers,
                      customer_equity::decimal(18, 2) as customer_equity, mean_clv::decimal(18, 2) as mean_clv,
                      customers_with_cac::bigint as customers_with_cac,
                      mean_clv_with_cac::decimal(18, 2) as mean_clv_with_cac, cac::decimal(18, 2) as cac,
                      clv_to_cac::double as clv_to_cac, date '2024-03-31' as as_of_date
               from (values ('referral', 1, 30.00, 30.00, 0, null, null, null),
                            ('all', 4, 330.00, 82.50, 3, 100.00, 40.00, 2.5),
                            ('web', 3, 300.00, 100.00, 3, 100.00, 40.00, 2.5))
                    as t(acquisition_channel, new_customers, customer_equity, mean_clv, customers_with_cac,
                         mean_clv_with_cac, cac, clv_to_cac)"""
        )
        con.execute("drop table marts.clv_holdout_validation")
        con.execute(
            """create table marts.clv_holdout_validation as
               select 'total' as check_type, 'all' as calibration_frequency, 1 as row_order,
                      null::date as period_end_date, 3 as customers, 10.0 as actual_repeat_purchases,
                      11.0 as expected_repeat_purchases, 0.1 as relative_error"""
        )
        n, median, equity = con.execute(
            "select count(clv), quantile_cont(clv, 0.5), sum(clv) from marts.customer_lifetime_value"
        ).fetchall()[0]
    html, sections = render_report(paths.published, dbt_manifest=_manifest(paths))
    by_id = {s.chart_id: s for s in sections}
    fmt = NumberFormat.for_locale("nl-NL", "EUR")
    assert by_id["chart-clv"].spec is not None and n > 0
    assert by_id["chart-clv"].reading.startswith(f"Median CLV {fmt.money(median)}; the mean ")
    assert by_id["chart-clv"].reading.endswith(f" over {fmt.count(n)} customers.")
    euro = "€\u00a0"
    assert by_id["table-customer-equity"].table == [
        ["acquisition_channel", "customers", "customer_equity", "mean_clv", "cac", "clv_to_cac"],
        ["web", "3", f"{euro}300,00", f"{euro}100,00", f"{euro}40,00", "2,50"],
        ["referral", "1", f"{euro}30,00", f"{euro}30,00", "–", "–"],
        ["all", "4", f"{euro}330,00", f"{euro}82,50", f"{euro}40,00", "2,50"],
    ]
    assert by_id["table-customer-equity"].reading == (
        f"The customer base is worth {euro}330,00: 4 customers, {euro}82,50 each on average; where a channel "
        "has a CAC, a customer is worth 2,50 times its cost."
    )
    assert by_id["table-clv-holdout"].table == [
        [
            "check_type", "calibration_frequency", "period_end_date", "customers", "actual_repeat_purchases",
            "expected_repeat_purchases", "relative_error",
        ],
        ["total", "all", "–", "3", "10,00", "11,00", "0,10"],
    ]  # fmt: skip
    assert by_id["table-clv-holdout"].reading == (
        f"In the holdout the model expected 11 repeat purchases; the customers made 10 (error {fmt.share(0.1)})."
    )
    assert (
        f'<p id="customer-equity"><b>Customer equity</b>: {fmt.money(equity)} '
        "(sum of marts.customer_lifetime_value.clv)</p>" in html
    )


# --------------------------------------------------------------------------- in the browser


class Browser:
    """Headless Chromium that refuses and records every request that is not a local file."""

    def __init__(self, playwright) -> None:
        self.browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])

    def open(self, url: str):
        page = self.browser.new_page(viewport={"width": 1100, "height": 900})
        page.network_requests, page.console_errors = [], []
        page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: page.console_errors.append(str(e)))

        def route(route) -> None:
            if route.request.url.startswith(("file:", "data:")):
                route.continue_()
            else:
                page.network_requests.append(route.request.url)
                route.abort()

        page.route("**/*", route)
        page.goto(url, wait_until="load")
        return page


@pytest.fixture()
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium` (make install tries)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - requirements.lock installs it
        pytest.skip("playwright is not installed: make install")
    with sync_playwright() as playwright:
        browser = Browser(playwright)
        yield browser
        browser.browser.close()


def test_report_and_data_docs_render_offline_in_chromium(sample_run: Paths, tmp_path: Path, chromium: Browser) -> None:
    report = write_report(
        sample_run.published, tmp_path / "report", dbt_manifest=_manifest(sample_run),
        build_vars=manifest_vars(sample_run.dbt_target),
    )  # fmt: skip
    page = chromium.open(report.as_uri())
    page.wait_for_function(
        "ids => ids.every(id => document.getElementById(id)?.dataset.rendered === 'true')",
        arg=list(SAMPLE_CHARTS),
        timeout=20_000,
    )
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    for chart_id in SAMPLE_CHARTS:
        box = page.locator(f"#{chart_id} svg").first.bounding_box()
        assert box is not None and box["width"] >= MIN_DRAWN[0] and box["height"] >= MIN_DRAWN[1], (chart_id, box)
        marks = page.locator(f"#{chart_id} svg .mark-rect path, #{chart_id} svg .mark-line path, "
                             f"#{chart_id} svg .mark-symbol path, #{chart_id} svg .mark-area path").count()  # fmt: skip
        assert marks > 0, f"{chart_id} draws no marks"
    assert page.locator("#statement-table tbody tr").count() == len(STATEMENT_FIGURES)
    assert page.locator("#reconciliation-difference").inner_text() == "€\u00a00,00"
    assert page.network_requests == [] and page.console_errors == []

    # the run's Data Docs (already made offline by the run), in a copy
    docs = tmp_path / "data_docs"
    shutil.copytree(sample_run.output / "data_docs", docs)
    assert make_offline(docs) == []
    index = chromium.open((docs / "index.html").as_uri())
    rows = index.locator("table tbody tr")
    rows.first.wait_for(timeout=10_000)
    assert rows.count() >= 10  # one validation result per suite
    assert index.locator(".fa-check-circle").count() >= 10
    # the status icons are drawn with Font Awesome's local font
    assert index.evaluate(
        "document.fonts.ready.then(fonts => Array.from(fonts).some("
        "f => f.family.includes('Font Awesome') && f.status === 'loaded'))"
    )
    index.screenshot(path=str(tmp_path / "data_docs_index.png"), full_page=True)
    suite_page = chromium.open(next(docs.glob("validations/**/*.html")).as_uri())
    suite_page.get_by_text("Success Percent").wait_for(timeout=10_000)
    assert suite_page.locator(".fa-check-circle").count() > 0
    for opened in (index, suite_page):
        assert opened.network_requests == [] and opened.console_errors == [], opened.url


@pytest.mark.integration
def test_every_publication_holds_the_report_of_its_own_figures(sample_run: Paths) -> None:
    """The run writes the report into its release before the switch: beside the DuckDB file, the
    Parquet folder and the manifest of the same run, listed in that manifest."""
    from flows.release import Layout, read_manifest
    from flows.report import REPORT_FOLDER, default_report_dir

    release = Layout.of(sample_run.published).current_release()
    assert release is not None
    report = release / REPORT_FOLDER / "index.html"
    assert default_report_dir(sample_run.published) == release / REPORT_FOLDER
    manifest = read_manifest(sample_run.published)
    assert manifest is not None and "report/index.html" in {f["path"] for f in manifest["files"]}
    assert manifest["run_id"] in report.read_text(encoding="utf-8")
