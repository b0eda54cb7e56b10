"""Rich tables for the end of a run: what was loaded, built, validated and published."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Optional

import duckdb
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from flows.ingest import LoadReport
    from flows.pipeline import RunSummary
    from flows.transform import DbtResult


def load_table(report: "LoadReport") -> Table:
    table = Table(title="Export files", title_justify="left")
    # (the entity is the file name's prefix); counts never wrap, names and notes fold
    for column in ("file", "status", "read", "loaded", "quarantined", "note"):
        numeric = column in ("read", "loaded", "quarantined")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=numeric, overflow="fold")
    for f in report.files:
        style = {"rejected": "red", "skipped": "dim", "ignored": "yellow"}.get(f.status, "")
        table.add_row(
            f.file_name,
            f.status,
            f"{f.rows_read:,}",
            f"{f.rows_loaded:,}",
            f"{f.rows_quarantined:,}",
            f.message,
            style=style,
        )
    table.add_row("total", "", f"{report.rows_read:,}", f"{report.rows_loaded:,}", f"{report.rows_quarantined:,}", "", style="bold")
    return table


def dbt_line(result: "DbtResult") -> str:
    models = result.count("model", "success")
    tests_passed = result.count("test", "pass") + result.count("unit_test", "pass")
    warned = len(result.warned)
    return (
        f"dbt build: {models} models built, {result.count('seed', 'success')} seeds, "
        f"{tests_passed} tests passed, {warned} warned, {len(result.failed)} failed "
        f"({result.elapsed_seconds:.1f} s)"
        + ("; full refresh" + (" (dbt code or vars changed)" if result.code_changed else "") if result.full_refresh else "; incremental")
        + ("; unit tests skipped (code and vars unchanged since they passed)" if result.unit_tests_skipped else "")
    )


def print_run_summary(summary: "RunSummary", console: Console | None = None) -> None:
    console = console or Console()
    if summary.load is not None:
        loaded = [f for f in summary.load.files if f.status != "skipped"]
        skipped = len(summary.load.files) - len(loaded)
        if loaded:
            from flows.ingest import LoadReport

            console.print(load_table(LoadReport(files=loaded)))
        console.print(
            f"Rows read {summary.load.rows_read:,} = loaded {summary.load.rows_loaded:,} "
            f"+ quarantined {summary.load.rows_quarantined:,}"
            + (f"; {skipped} files already loaded were skipped" if skipped else "")
        )
        if summary.load.rows_quarantined:
            console.print(
                f"[yellow]Quarantined rows and their reasons: table raw.quarantine in {summary.paths.warehouse}[/]"
            )
    if summary.dbt is not None:
        console.print(dbt_line(summary.dbt))
        for node in summary.dbt.warned:
            console.print(f"  [yellow]warn[/] {node.name}: {node.message}")
    if summary.validation is not None:
        v = summary.validation
        console.print(
            f"Great Expectations: {'[green]passed[/]' if v.success else '[red]failed[/]'}"
            + (f"; Data Docs: {v.data_docs_index}" if v.data_docs_index else "")
        )
    console.print(f"Build warehouse: {summary.paths.warehouse}")
    if summary.published:
        console.print(f"[green]Published marts[/] (what BI tools read): {summary.paths.published}")
    if summary.up_to_date:
        console.print(
            "[green]Nothing new[/] since the last publication (no new export file, same code): build, "
            f"validation and publish skipped; the published marts are current: {summary.paths.published}"
        )
    timings = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in summary.seconds.items())
    if timings:
        console.print(f"Timings: {timings}")


def formatted_table(formats: dict[str, Callable[[Any], str]]) -> Render:
    """A render like default_table whose named columns are formatted for people (money, shares)."""

    def render(title: str, columns: list[str], rows: list[tuple]) -> Table | None:
        table = Table(title=title, title_justify="left")
        for name in columns:
            table.add_column(name, justify="right")
        for row in rows:
            table.add_row(*[
                formats[name](value) if name in formats
                else "" if value is None else f"{value:,}" if isinstance(value, (int, Decimal)) else str(value)
                for name, value in zip(columns, row)
            ])
        return table

    return render


def default_table(title: str, columns: list[str], rows: list[tuple]) -> Table | None:
    """One column per field of the query, one line per row; whole numbers and decimals (money) with
    thousands separators."""
    return formatted_table({})(title, columns, rows)


def print_headline_figures(published, console: Console) -> None:
    """The figures a run ends with, read from the published file (what BI tools see)."""
    from pathlib import Path

    path = Path(published)
    if not path.exists():
        return
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
        for headline in HEADLINES:
            if headline.table in tables:
                relation = con.sql(headline.sql)
                table = (headline.render or default_table)(headline.title, relation.columns, relation.fetchall())
                if table is not None:
                    console.print(table)


Render = Callable[[str, list[str], list[tuple]], Optional[Table]]


@dataclass
class Headline:
    """A table printed at the end of a run: a query on the published marts and how to show it."""

    table: str  # the mart the query needs (the headline is left out when it is not published)
    title: str
    sql: str
    render: Optional[Render] = None  # (title, columns, rows) -> Table or None; default_table when None


#: Tables printed at the end of `python -m flows run`, when their mart is published.
HEADLINES: list[Headline] = [
    Headline(
        "customers",
        "Customers",
        """select count(*) filter (where is_customer) as customers,
                  count(*) filter (where not is_customer) as prospects,
                  sum(revenue) as revenue
           from marts.customers""",
    ),
]


# =========================================================================== audit figures and voice
# Headlines of the audit figures (docs/audit_figures.md) and the voice of the customer
# (docs/voice_of_the_customer.md), formatted for people: thousands separators, money with 2 decimals.


@functools.cache
def _currency_prefix() -> str:
    """'€' for the reporting currency EUR (dbt_project.yml var reporting_currency), else its code."""
    from flows.validate import project_vars

    currency = str(project_vars().get("reporting_currency") or "EUR").upper()
    return {"EUR": "€", "USD": "$", "GBP": "£"}.get(currency, currency + " ")


def format_count(value: Any) -> str:
    return "-" if value is None else f"{int(value):,}"


def format_money(value: Any) -> str:
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    return f"{sign}{_currency_prefix()}{abs(float(value)):,.2f}"


def format_number(value: Any, decimals: int = 2) -> str:
    return "-" if value is None else f"{float(value):,.{decimals}f}"


def format_share(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1%}"


def format_nps(nps: Any, margin: Any) -> str:
    """NPS with its margin of error: '23.5 ± 8.1' (no margin with fewer than 2 answers)."""
    if nps is None:
        return "-"
    return f"{float(nps):+.1f}" + (f" ± {float(margin):.1f}" if margin is not None else "")


#: The audit figures in the order they are shown: (column, label, formatter).
AUDIT_HEADLINE_FIGURES: list[tuple[str, str, Callable[[Any], str]]] = [
    ("customers_start", "customers at start", format_count),
    ("gross_new_customers", "+ gross new", format_count),
    ("reactivated_customers", "+ reactivated", format_count),
    ("lost_customers", "- lost", format_count),
    ("net_new_customers", "= net new", format_count),
    ("customers_end", "customers at end", format_count),
    ("active_customers", "active customers", format_count),
    ("active_new_customers", "  of which new", format_count),
    ("active_existing_customers", "  of which existing", format_count),
    ("revenue", "revenue", format_money),
    ("revenue_per_new_customer", "revenue per new customer", format_money),
    ("revenue_per_existing_customer", "revenue per existing customer", format_money),
]

AUDIT_HEADLINE_SQL = """
with complete_periods as (
    select * from marts.customer_audit_figures
    where is_complete and period_grain in ('year', 'month')
),
latest as (
    select period_grain, max(period_start) as period_start from complete_periods group by period_grain
)
select complete_periods.*
from complete_periods
inner join latest using (period_grain, period_start)
order by case period_grain when 'year' then 1 else 2 end
"""


def _period_label(grain: str, start: Any) -> str:
    return f"year {start:%Y}" if grain == "year" else f"{grain} {start:%Y-%m}"


def render_audit_figures(title: str, columns: list[str], rows: list[tuple]) -> Table | None:
    """One line per figure, one column per period (the last complete year, then month)."""
    if not rows:
        return None
    periods = [dict(zip(columns, row)) for row in rows]
    table = Table(title=title, title_justify="left", caption=f"as of {periods[0]['as_of_date']}, W = "
                  f"{periods[0]['churn_window_days']} days", caption_justify="left")
    table.add_column("figure")
    for period in periods:
        table.add_column(_period_label(period["period_grain"], period["period_start"]), justify="right")
    for column, label, formatter in AUDIT_HEADLINE_FIGURES:
        table.add_row(label, *[formatter(period.get(column)) for period in periods])
    return table


VOICE_HEADLINE_SQL = """
select *
from marts.survey_scores
where period_grain = 'month' and touchpoint_type = 'all' and channel = 'all' and is_complete
order by period_start desc
limit 1
"""


def render_voice_scores(title: str, columns: list[str], rows: list[tuple]) -> Table | None:
    """NPS (with its margin of error), CES and CSAT of one month, each with its answer count."""
    if not rows:
        return None
    month = dict(zip(columns, rows[0]))
    table = Table(
        title=f"{title}, {month['period_start']:%Y-%m}",
        title_justify="left",
        caption="latest complete month; NPS ± 95 % margin of error; CES 1-7 (7 = easy); CSAT 1-5",
        caption_justify="left",
    )
    for name, justify in (("score", "left"), ("value", "right"), ("detail", "right"), ("answers", "right")):
        table.add_column(name, justify=justify)
    table.add_row("NPS", format_nps(month["nps"], month["nps_margin_of_error"]), "", format_count(month["nps_answers"]))
    table.add_row(
        "CES", f"mean {format_number(month['ces_mean'])}", f"{format_share(month['ces_easy_share'])} easy",
        format_count(month["ces_answers"]),
    )
    table.add_row(
        "CSAT", f"{format_share(month['csat_score'])} satisfied", f"mean {format_number(month['csat_mean'])}",
        format_count(month["csat_answers"]),
    )
    return table


HEADLINES += [
    Headline("customer_audit_figures", "Audit figures, last complete year and month", AUDIT_HEADLINE_SQL, render_audit_figures),
    Headline("survey_scores", "Voice of the customer", VOICE_HEADLINE_SQL, render_voice_scores),
]


# ---- personas and value (docs/personas_and_value.md) ----


HEADLINES += [
    Headline(
        "persona_summary",
        "Persona mix on the as-of date",
        """select persona, customers, customer_share as share, revenue_12m, revenue_12m_share,
                  mean_nps_score, repurchase_rate
           from marts.persona_summary
           order by persona_order""",
        formatted_table({
            "share": format_share, "revenue_12m": format_money, "revenue_12m_share": format_share,
            "mean_nps_score": format_number, "repurchase_rate": format_share,
        }),
    ),
    Headline(
        "revenue_concentration",
        "Revenue concentration, last complete year",
        """select cast(year(period_start) as varchar) as year, customers, revenue,
                  top_20_pct_revenue_share as top_20_pct_share,
                  customer_share_for_target_revenue as customer_share_for_80_pct,
                  gini_coefficient as gini
           from marts.revenue_concentration
           where period_type = 'year' and is_complete
           order by period_start desc
           limit 1""",
        formatted_table({
            "revenue": format_money, "top_20_pct_share": format_share, "customer_share_for_80_pct": format_share,
            "gini": lambda value: format_number(value, 3),
        }),
    ),
]
# ---- end personas and value ----
