"""Hand-made run summaries and reading what the renderers show."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from flows.config import Paths
from flows.pipeline import RunSummary
from flows.summary.report import RunReport, build_run_report
from flows.summary.terminal import print_headlines, print_run_report


def run_summary(published_file: Path, **fields: object) -> RunSummary:
    """A run summary as the flow leaves it, whose published file is `published_file`."""
    paths = Paths.resolve(exports=Path("/data/exports"), warehouse=Path("/w/build.duckdb"), published=published_file)
    return RunSummary(run_id="run-1", paths=paths, **fields)  # type: ignore[arg-type]


def report_of(published: Path, reporting_currency: str = "EUR") -> RunReport:
    return build_run_report(run_summary(published), published, reporting_currency)


def terminal_text(report: RunReport, width: int = 160) -> str:
    """The whole report as `python -m flows run` prints it."""
    console = Console(record=True, width=width)
    print_run_report(report, console)
    return console.export_text()


def printed(published: Path, reporting_currency: str = "EUR") -> str:
    """The headline tables of the published file as the terminal shows them."""
    console = Console(record=True, width=140)
    print_headlines(report_of(published, reporting_currency).headlines, console)
    return console.export_text()


def table_line(text: str, label: str) -> list[str]:
    """The cells of the terminal table line that starts with `label`."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().split("│")[1:-1]]
        if cells and cells[0] == label:
            return cells[1:]
    raise AssertionError(f"no line {label!r} in:\n{text}")


def markdown_line(text: str, label: str) -> list[str]:
    """The cells of the Markdown table row that starts with `label`."""
    for line in text.splitlines():
        if line.startswith("| "):
            cells = [c.strip().replace("\\|", "|") for c in line.strip().strip("|").split(" | ")]
            if cells[0] == label:
                return cells[1:]
    raise AssertionError(f"no row {label!r} in:\n{text}")
