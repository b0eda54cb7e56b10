"""Rich tables for the end of a run: what was loaded, built, validated and published."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from flows.ingest import LoadReport
    from flows.pipeline import RunSummary
    from flows.transform import DbtResult


def load_table(report: "LoadReport") -> Table:
    table = Table(title="Export files", title_justify="left")
    for column in ("file", "entity", "status", "read", "loaded", "quarantined", "note"):
        table.add_column(column, justify="right" if column in ("read", "loaded", "quarantined") else "left")
    for f in report.files:
        style = {"rejected": "red", "skipped": "dim", "ignored": "yellow"}.get(f.status, "")
        table.add_row(
            f.file_name,
            f.entity or "-",
            f.status,
            f"{f.rows_read:,}",
            f"{f.rows_loaded:,}",
            f"{f.rows_quarantined:,}",
            f.message,
            style=style,
        )
    table.add_row("total", "", "", f"{report.rows_read:,}", f"{report.rows_loaded:,}", f"{report.rows_quarantined:,}", "", style="bold")
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
    timings = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in summary.seconds.items())
    if timings:
        console.print(f"Timings: {timings}")


def print_query_table(console: Console, con: duckdb.DuckDBPyConnection, title: str, sql: str) -> None:
    """Print the result of a query as a table (used for the figures at the end of a run)."""
    relation = con.sql(sql)
    table = Table(title=title, title_justify="left")
    for name in relation.columns:
        table.add_column(name, justify="right")
    for row in relation.fetchall():
        table.add_row(*["" if v is None else (f"{v:,}" if isinstance(v, int) else str(v)) for v in row])
    console.print(table)


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
                print_query_table(console, con, headline.title, headline.sql)


class Headline:
    def __init__(self, table: str, title: str, sql: str) -> None:
        self.table, self.title, self.sql = table, title, sql


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
