"""Command line: `python -m flows generate|run ...`. Exit code 0 on success, 1 with a one-line cause."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from flows.config import DEFAULT_EXPORTS, PROJECT_DIR, Paths

# Keep Prefect's local state (the temporary server's database) inside the project unless the user
# points Prefect somewhere else; set before Prefect is imported.
os.environ.setdefault("PREFECT_HOME", str(PROJECT_DIR / ".prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The temporary server takes ~10 s to start, more on a busy 2-core machine: allow for that.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

app = typer.Typer(
    help="Customer-value warehouse: generate sample exports, and load, build, validate and publish the marts.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# Logs and CI capture output without a terminal: print full-width tables there, not 80 columns.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, soft_wrap=True)


def fail(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code=1)


@app.command()
def generate(
    out: Path = typer.Option(DEFAULT_EXPORTS, "--out", help="Folder to write the export files to (created if missing)."),
    customers: int = typer.Option(10_000, "--customers", min=1, help="Number of CRM customer records (about 8-10 orders per buying customer)."),
    seed: int = typer.Option(42, "--seed", help="Random seed: the same seed and options give byte-identical files."),
    start: str = typer.Option("2022-01-01", "--start", help="First acquisition date (YYYY-MM-DD)."),
    end: str = typer.Option("2026-10-31", "--end", help="Last date of the data (YYYY-MM-DD)."),
    file_format: str = typer.Option("csv", "--format", help="csv or parquet."),
    messy: bool = typer.Option(
        False, "--messy/--clean",
        help="--messy adds two small hand-made ';' exports with decimal commas and a few rows that break "
        "the data contract, to see the quarantine at work (make run uses it).",
    ),
) -> None:
    """Write realistic sample exports (customers, orders, contacts, marketing spend, survey responses)."""
    from flows.generate import generate_exports

    try:
        start_date, end_date = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as exc:
        fail(f"--start/--end must be dates as YYYY-MM-DD ({exc})")
    if start_date >= end_date:
        fail("--start must be before --end")
    if file_format not in ("csv", "parquet"):
        fail("--format must be csv or parquet")
    counts = generate_exports(out, customers=customers, seed=seed, start=start_date, end=end_date, file_format=file_format, progress=True, messy=messy)
    console.print(f"Wrote to {out}: " + ", ".join(f"{n:,} {entity}" for entity, n in counts.items()))


@app.command()
def run(
    exports: Optional[Path] = typer.Option(None, "--exports", help="Folder of export files. Default: $CVW_EXPORTS or data/exports."),
    warehouse: Optional[Path] = typer.Option(None, "--warehouse", help="Build warehouse (DuckDB file). Default: $CVW_WAREHOUSE or warehouse/customer_value.duckdb."),
    published: Optional[Path] = typer.Option(None, "--published", help="File BI tools read, written only after validation passes. Default: $CVW_PUBLISHED or warehouse/published.duckdb."),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Rebuild incremental models from all history."),
) -> None:
    """Load the exports, build the marts with dbt, validate them with Great Expectations and publish them."""
    paths = Paths.resolve(exports=exports, warehouse=warehouse, published=published)
    if not paths.exports.is_dir():
        fail(f"exports folder {paths.exports} does not exist: generate sample data with `python -m flows generate --out {paths.exports}`")

    from flows.pipeline import customer_value_pipeline
    from flows.summary import print_headline_figures, print_run_summary

    try:
        summary = customer_value_pipeline(
            exports=str(paths.exports), warehouse=str(paths.warehouse), published=str(paths.published), full_refresh=full_refresh
        )
    except Exception as exc:  # one line a user can act on; the flow run's log has the detail
        fail(_one_line(exc))
    print_run_summary(summary, console)
    print_headline_figures(paths.published, console)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    if "Could not set lock on file" in str(exc) or "Conflicting lock" in str(exc):
        return f"the warehouse file is in use by another process (a dbt run, or a client with it open): {first}"
    return first


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
