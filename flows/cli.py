"""Command line: `python -m flows generate|run ...`. Exit code 0 on success, 1 with a one-line cause."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from flows.config import DEFAULT_EXPORTS, DEFAULT_SETTLE_SECONDS, Paths, configure_prefect_defaults, parse_dbt_vars
from flows.errors import one_line

if TYPE_CHECKING:
    from flows.serve import ServeSettings

# Prefect's local state stays in the project unless the user points Prefect elsewhere (before Prefect is imported).
configure_prefect_defaults()

app = typer.Typer(
    help="Customer-value warehouse: generate sample exports; load, build, validate and publish the marts; report them.",
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
    out: Path = typer.Option(
        DEFAULT_EXPORTS, "--out", help="Folder to write the export files to (created if missing)."
    ),
    customers: int = typer.Option(
        10_000, "--customers", min=1, help="Number of CRM customer records (about 8-10 orders per buying customer)."
    ),
    seed: int = typer.Option(42, "--seed", help="Random seed: the same seed and options give byte-identical files."),
    start: str = typer.Option("2022-01-01", "--start", help="First acquisition date (YYYY-MM-DD)."),
    end: str = typer.Option("2026-10-31", "--end", help="Last date of the data (YYYY-MM-DD)."),
    file_format: str = typer.Option("csv", "--format", help="csv or parquet."),
    messy: bool = typer.Option(
        False,
        "--messy/--clean",
        help="--messy adds two small hand-made ';' exports with decimal commas and a few rows that break "
        "the data contract, to see the quarantine at work (make run uses it).",
    ),
) -> None:
    """Write realistic sample exports (customers, orders, contacts, marketing spend, survey responses)."""
    from flows.sample_data import generate_exports

    try:
        start_date, end_date = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as exc:
        fail(f"--start/--end must be dates as YYYY-MM-DD ({exc})")
    if start_date >= end_date:
        fail("--start must be before --end")
    if file_format not in ("csv", "parquet"):
        fail("--format must be csv or parquet")
    counts = generate_exports(
        out,
        customers=customers,
        seed=seed,
        start=start_date,
        end=end_date,
        file_format=file_format,
        progress=True,
        messy=messy,
    )
    console.print(f"Wrote to {out}: " + ", ".join(f"{n:,} {entity}" for entity, n in counts.items()))


# Options shared by run, serve, deploy and erase.
LandingExports = Annotated[
    Path | None,
    typer.Option("--exports", help="Folder the export files land in. Default: $CVW_EXPORTS or data/exports."),
]
BuildWarehouse = Annotated[
    Path | None,
    typer.Option(
        "--warehouse", help="Build warehouse (DuckDB file). Default: $CVW_WAREHOUSE or warehouse/customer_value.duckdb."
    ),
]
PublishedFile = Annotated[
    Path | None,
    typer.Option("--published", help="File BI tools read. Default: $CVW_PUBLISHED or beside the warehouse."),
]
NightlyCron = Annotated[
    str | None,
    typer.Option(
        "--nightly-cron", help="Cron of the nightly full pipeline run. Default: $CVW_NIGHTLY_CRON or '0 2 * * *'."
    ),
]
IntradayCron = Annotated[
    str | None,
    typer.Option("--intraday-cron", help="Cron of the intraday run. Default: $CVW_INTRADAY_CRON or '*/15 * * * *'."),
]
ScheduleTimezone = Annotated[
    str | None,
    typer.Option(
        "--timezone", help="IANA time zone of both schedules. Default: $CVW_TIMEZONE or the dbt var reporting_timezone."
    ),
]
DbtVars = Annotated[
    str | None,
    typer.Option(
        "--vars",
        help="dbt vars, YAML or JSON as `dbt --vars` takes them, e.g. '{churn_window_days: 180}'. They reach the dbt "
        "build, the GX suites, the summary and the publication (and the deployments' parameters); vars that differ "
        "from the last build's make the run a full refresh.",
    ),
]


@app.command()
def run(
    exports: LandingExports = None,
    warehouse: BuildWarehouse = None,
    published: PublishedFile = None,
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Rebuild incremental models from all history."),
    dbt_vars: DbtVars = None,
    settle_seconds: float = typer.Option(
        DEFAULT_SETTLE_SECONDS,
        "--settle-seconds",
        min=0,
        help="An export file modified less than this long ago may still be being written: the load waits and "
        "retries (as the scheduled deployments do). 0 loads what is there.",
    ),
    csv: bool = typer.Option(
        False,
        "--csv",
        help="Also publish every mart as csv/<mart>.csv for spreadsheets (';', UTF-8 with BOM, decimal comma: "
        "$CVW_CSV_DECIMAL_SEPARATOR). Default: $CVW_CSV or no.",
    ),
) -> None:
    """Load the exports, build the marts with dbt, validate them with Great Expectations and publish them."""
    paths = Paths.resolve(exports=exports, warehouse=warehouse, published=published)
    parsed_vars = _parse_vars(dbt_vars)
    if not paths.exports.is_dir():
        fail(
            f"exports folder {paths.exports} does not exist: generate sample data with `python -m flows generate --out {paths.exports}`"
        )

    from flows.pipeline import customer_value_pipeline
    from flows.summary.terminal import print_run_report

    try:
        summary = customer_value_pipeline(
            exports=str(paths.exports),
            warehouse=str(paths.warehouse),
            published=str(paths.published),
            full_refresh=full_refresh,
            dbt_vars=parsed_vars,
            settle_seconds=settle_seconds,
            csv=True if csv else None,
        )
    except Exception as exc:  # one line a user can act on; the flow run's log has the detail
        fail(one_line(exc))
    if summary.report is None:  # pragma: no cover - the flow always builds it
        fail("the run left no report")
    print_run_report(summary.report, console)


@app.command()
def report(
    warehouse: BuildWarehouse = None,
    published: PublishedFile = None,
    out: Path | None = typer.Option(
        None, "--out", help="Folder to write index.html to. Default: report/ beside the published file."
    ),
    locale: str | None = typer.Option(
        None, "--locale", help="Number format, e.g. nl-NL (€ 1.234,56) or en-GB. Default: the dbt var reporting_locale."
    ),
) -> None:
    """Write the customer report (one self-contained HTML file, readable offline) from the published marts."""
    from flows import dbt_artifacts
    from flows.report import default_report_dir, write_report

    paths = Paths.resolve(warehouse=warehouse, published=published)
    if not paths.published.is_file():
        fail(f"published file {paths.published} does not exist: run `python -m flows run` first")
    manifest = paths.dbt_target / "manifest.json"
    try:
        written = write_report(
            paths.published,
            out or default_report_dir(paths.published),
            dbt_manifest=manifest if manifest.is_file() else None,
            build_vars=dbt_artifacts.manifest_vars(paths.dbt_target),
            locale=locale,
        )
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    console.print(f"Report: {written}", highlight=False)


def _parse_vars(text: str | None) -> dict[str, object]:
    try:
        return parse_dbt_vars(text)
    except ValueError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits


def _serve_settings(**options: object) -> ServeSettings:
    from flows.serve import ServeSettings

    try:
        return ServeSettings.resolve(**options)  # type: ignore[arg-type]
    except ValueError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits


@app.command()
def serve(
    exports: LandingExports = None,
    warehouse: BuildWarehouse = None,
    published: PublishedFile = None,
    nightly_cron: NightlyCron = None,
    intraday_cron: IntradayCron = None,
    timezone: ScheduleTimezone = None,
    dbt_vars: DbtVars = None,
    port: int = typer.Option(
        4200, "--port", help="Port of the local Prefect server started when PREFECT_API_URL is not set."
    ),
) -> None:
    """Serve the nightly, intraday and full-refresh deployments from this process (Ctrl-C stops).

    With PREFECT_API_URL set, the deployments are registered with that server; otherwise a local
    Prefect server is started on 127.0.0.1:PORT (UI included) and stopped on exit."""
    settings = _serve_settings(
        exports=exports,
        warehouse=warehouse,
        published=published,
        nightly_cron=nightly_cron,
        intraday_cron=intraday_cron,
        timezone=timezone,
        dbt_vars=_parse_vars(dbt_vars),
    )
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        from flows.local_server import start_local_server

        log_path = Path(os.environ["PREFECT_HOME"]) / "server.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        console.print(
            f"PREFECT_API_URL is not set: starting a local Prefect server on 127.0.0.1:{port} (log: {log_path})"
        )
        try:
            server = start_local_server(port=port, log_path=log_path)
        except RuntimeError as exc:
            fail(str(exc))
        os.environ["PREFECT_API_URL"] = server.api_url
        console.print(f"Prefect UI: {server.api_url.removesuffix('/api')}")
    try:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        from flows.serve import serve_deployments

        with temporary_settings(updates={PREFECT_API_URL: os.environ["PREFECT_API_URL"]}):
            serve_deployments(settings)
    finally:
        if server is not None:
            server.stop()


@app.command()
def deploy(
    pool: str = typer.Option(
        ..., "--pool", help="Work pool whose workers run the flow (e.g. a process pool on the warehouse's machine)."
    ),
    exports: LandingExports = None,
    warehouse: BuildWarehouse = None,
    published: PublishedFile = None,
    nightly_cron: NightlyCron = None,
    intraday_cron: IntradayCron = None,
    timezone: ScheduleTimezone = None,
    dbt_vars: DbtVars = None,
) -> None:
    """Register the three deployments with the Prefect server of PREFECT_API_URL for a work pool (no serving process)."""
    from flows.serve import deploy_to_work_pool

    if not os.environ.get("PREFECT_API_URL"):
        fail("PREFECT_API_URL is not set: point it at your Prefect server (or use `python -m flows serve`)")
    settings = _serve_settings(
        exports=exports,
        warehouse=warehouse,
        published=published,
        nightly_cron=nightly_cron,
        intraday_cron=intraday_cron,
        timezone=timezone,
        dbt_vars=_parse_vars(dbt_vars),
    )
    for name in deploy_to_work_pool(settings, pool):
        console.print(f"deployed {name} to work pool {pool}")
    console.print(f"Start a worker where the warehouse lives: prefect worker start --pool {pool}")


@app.command()
def erase(
    customer: list[str] = typer.Option(..., "--customer", help="customer_id to erase (repeat for several)."),
    reason: str = typer.Option("", "--reason", help="Why (kept in the erasure log, e.g. a ticket number)."),
    exports: LandingExports = None,
    warehouse: BuildWarehouse = None,
    published: PublishedFile = None,
    dbt_vars: DbtVars = None,
) -> None:
    """Right to erasure (GDPR art. 17): remove every personal datum of the customers from the warehouse,
    rebuild every model from raw, validate and publish; their orders stay under an unlinkable key so that
    the figures of closed periods do not change. Later exports of them are quarantined (`erased`).
    Older releases of the publication are deleted."""
    import shutil

    from flows.erasure import erase_customers
    from flows.file_lock import run_when_free
    from flows.release import Layout, prune, read_manifest

    paths = Paths.resolve(exports=exports, warehouse=warehouse, published=published)
    parsed_vars = _parse_vars(dbt_vars)
    try:  # another process writing the warehouse is waited for, as a run waits (flows/file_lock.py)
        report = run_when_free(
            lambda: erase_customers(paths.warehouse, customer, reason),
            paths.warehouse,
            lambda message: err_console.print(message, highlight=False, markup=False),
        )
    except (ValueError, FileNotFoundError) as exc:
        fail(str(exc))
    except Exception as exc:
        fail(one_line(exc))
    touched = ", ".join(f"{table} {n:,}" for table, n in report.rows_touched.items())
    console.print(f"Erased {report.customers} customer(s) from raw: rows touched: {touched}", highlight=False)
    for unknown in report.unknown_ids:
        console.print(f"[yellow]{unknown}: not found in raw[/] (logged: later exports of it are quarantined)")
    # Data Docs of earlier runs may show values of failed rows: they go, the run writes new ones
    shutil.rmtree(paths.output / "data_docs", ignore_errors=True)
    if not paths.exports.is_dir():
        paths.exports.mkdir(parents=True)
    from flows.pipeline import customer_value_pipeline
    from flows.summary.terminal import print_run_report

    # the new publication has the formats of the current one (CSV if it had CSV)
    had_csv = (read_manifest(paths.published) or {}).get("csv") is not None
    try:
        summary = customer_value_pipeline(
            exports=str(paths.exports),
            warehouse=str(paths.warehouse),
            published=str(paths.published),
            full_refresh=True,
            dbt_vars=parsed_vars,
            csv=True if had_csv else None,
        )
    except Exception as exc:
        fail(f"erased from raw, but the rebuild failed (run `python -m flows run --full-refresh`): {one_line(exc)}")
    finally:
        # the older releases hold the customers' rows: only the current one stays
        prune(Layout.of(paths.published), keep=1)
    if summary.report is not None:
        print_run_report(summary.report, console)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
