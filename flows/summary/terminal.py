"""The run report on a terminal (Rich): what `python -m flows run` prints at the end of a run."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from flows.summary.report import DbtFacts, FileLine, HeadlineTable, RunReport

FILE_STYLES = {"rejected": "red", "skipped": "dim", "ignored": "yellow"}


def load_table(files: list[FileLine]) -> Table:
    table = Table(title="Export files", title_justify="left")
    # (the entity is the file name's prefix); counts never wrap, names and notes fold
    for column in ("file", "status", "read", "loaded", "quarantined", "note"):
        numeric = column in ("read", "loaded", "quarantined")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=numeric, overflow="fold")
    for f in files:
        table.add_row(
            f.file_name,
            f.status,
            f"{f.rows_read:,}",
            f"{f.rows_loaded:,}",
            f"{f.rows_quarantined:,}",
            f.note,
            style=FILE_STYLES.get(f.status, ""),
        )
    read, loaded, quarantined = (
        sum(f.rows_read for f in files),
        sum(f.rows_loaded for f in files),
        sum(f.rows_quarantined for f in files),
    )
    table.add_row("total", "", f"{read:,}", f"{loaded:,}", f"{quarantined:,}", "", style="bold")
    return table


def dbt_line(dbt: DbtFacts) -> str:
    if dbt.full_refresh:
        mode = "; full refresh" + (" (dbt code or vars changed)" if dbt.code_changed else "")
    else:
        mode = "; incremental"
    return (
        f"dbt build: {dbt.models} models built, {dbt.seeds} seeds, {dbt.tests_passed} tests passed, "
        f"{len(dbt.warned)} warned, {len(dbt.failed)} failed ({dbt.seconds:.1f} s)"
        + mode
        + ("; unit tests skipped (code and vars unchanged since they passed)" if dbt.unit_tests_skipped else "")
    )


def headline_table(headline: HeadlineTable) -> Table:
    table = Table(title=headline.title, title_justify="left", caption=headline.caption, caption_justify="left")
    for index, name in enumerate(headline.columns):
        table.add_column(name, justify="left" if index < headline.label_columns else "right")
    for row in headline.rows:
        table.add_row(*row)
    return table


def print_run_lines(report: RunReport, console: Console) -> None:
    """What the run did: load, dbt, Great Expectations, where the marts are, timings."""
    if report.load is not None:
        load = report.load
        if load.files:
            console.print(load_table(load.files))
        console.print(
            f"Rows read {load.rows_read:,} = loaded {load.rows_loaded:,} + quarantined {load.rows_quarantined:,}"
            + (f"; {load.skipped} files already loaded were skipped" if load.skipped else "")
        )
        if load.rows_quarantined:
            console.print(f"[yellow]Quarantined rows and their reasons: table raw.quarantine in {report.warehouse}[/]")
        for line in load.not_exported:
            console.print(f"[yellow]{line}[/]", highlight=False)
        for line in load.stale:
            console.print(f"[{'red' if '(error)' in line else 'yellow'}]{line}[/]", highlight=False)
    if report.dbt is not None:
        console.print(dbt_line(report.dbt))
        for node in report.dbt.warned:
            console.print(f"  [yellow]warn[/] {node.name}: {node.message}")
    if report.validation is not None:
        v = report.validation
        console.print(
            f"Great Expectations: {'[green]passed[/]' if v.success else '[red]failed[/]'}"
            + (f"; Data Docs: {v.data_docs}" if v.data_docs else "")
        )
    if report.vars_line:
        console.print(report.vars_line, highlight=False)
    console.print(f"Build warehouse: {report.warehouse}")
    if report.published:
        console.print(f"[green]Published marts[/] (what BI tools read): {report.published_file}")
        if report.release is not None:
            console.print(f"Release with Parquet files and manifest.json: {report.release}", highlight=False)
            if (report.release / "report" / "index.html").is_file():
                console.print(f"Report: {report.release / 'report' / 'index.html'}", highlight=False)
    if report.up_to_date:
        console.print(
            "[green]Nothing new[/] since the last publication (no new export file, same code): build, "
            f"validation and publish skipped; the published marts are current: {report.published_file}"
        )
    timings = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.seconds.items())
    if timings:
        console.print(f"Timings: {timings}")


def print_headlines(headlines: list[HeadlineTable], console: Console) -> None:
    for headline in headlines:
        console.print(headline_table(headline))


def print_run_report(report: RunReport, console: Console | None = None) -> None:
    console = console or Console()
    print_run_lines(report, console)
    print_headlines(report.headlines, console)
