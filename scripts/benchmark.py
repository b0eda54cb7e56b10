"""Cost of a full run, of incremental runs and of a run with nothing new, at scale (`make benchmark`; README "Performance").

1. Generates sample exports (Parquet) with about 1M orders (`--customers`, or `--scale` times the
   default) and holds back, by date (flows.sample_data.hold_back_after), the last days' records as
   three later deliveries: the days are chosen from the data so that each delivery adds `--shares`
   (default 0.1 %, 1 % and 10 %) new orders to the orders loaded before it.
2. Full run on the history, in a fresh Python process, as `python -m flows run` does it: no
   PREFECT_API_URL, so Prefect starts a temporary server.
3. The same full run in a second warehouse with DuckDB's `memory_limit` at `--memory-limit` (default
   2GB: CVW_DUCKDB_MEMORY_LIMIT, for every step; queries over it spill to disk).
4. The hand-written DuckDB baseline (`baseline_sql`): the audit figures of marts.customer_audit_figures
   straight from the same orders exports, timed in a fresh process and compared with the published mart
   of the full run cell by cell, to the cent ("N of N cells equal"; the benchmark fails when one differs).
5. On a Prefect server started once beforehand (as served deployments run): an incremental run per
   delivery (the held-back files are added to the exports folder), then a run with nothing new.
6. The customer-value fit alone (flows/clv) on `--clv-customers` simulated customers, one line
   (`--clv-only` times just that).

Each run is timed per step: Python and Prefect start-up (imports, the temporary server, flow and task
orchestration: the process's wall time minus the steps), load, dbt start-up and parse, dbt build
(models and tests), Great Expectations validation and publication; below them, dbt's execution time
per kind of node summed over its threads. Peak RSS is the largest sum of the resident set sizes of the
run's process and all its descendants (dbt, the temporary Prefect server), sampled from /proc every
0.2 s. CPU seconds are the user + system time of the run's process and every descendant it waited for
(os.wait4), and of the dbt process alone (dbt's resource report): on a loaded machine they compare runs
where wall seconds do not. Each run's output is in `<workdir>/<run>.log`, dbt's run_results.json in
`<workdir>/<run>.nodes.json` (every node's execution time). `--json PATH` writes every figure. No test
asserts on timings: they depend on the machine.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from flows.config import Paths  # noqa: E402

DEFAULT_CUSTOMERS = 126_000  # about 1,010,000 orders from 2022-01-01 to 2026-10-31 with the default seed
END = date(2026, 10, 31)
DEFAULT_CLV_CUSTOMERS = 1_260_000
DEFAULT_SHARES = "0.1,1,10"
DEFAULT_MEMORY_LIMIT = "2GB"
#: the figure columns of marts.customer_audit_figures the baseline computes and compares
AUDIT_FIGURES = (
    "period_end",
    "customers_start",
    "gross_new_customers",
    "reactivated_customers",
    "lost_customers",
    "net_new_customers",
    "customers_end",
    "active_customers",
    "active_new_customers",
    "active_existing_customers",
    "orders",
    "revenue",
    "revenue_new_customers",
    "revenue_existing_customers",
    "revenue_per_new_customer",
    "revenue_per_existing_customer",
    "average_order_value",
)

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, help=__doc__.splitlines()[0])
# a log or a pipe gets the whole table, not 80 columns
console = Console(width=None if sys.stdout.isatty() else 200)


@app.command(help=__doc__)
def main(
    customers: int | None = typer.Option(
        None, "--customers", min=1, help=f"CRM customers to generate (default {DEFAULT_CUSTOMERS:,}: about 1M orders)."
    ),
    scale: float = typer.Option(
        1.0, "--scale", min=0.001, help="Multiply the default number of customers (10 gives about 10M orders)."
    ),
    shares: str = typer.Option(
        DEFAULT_SHARES,
        "--shares",
        help="New orders of each incremental run, in % of the orders loaded before it, in run order.",
    ),
    memory_limit: str = typer.Option(
        DEFAULT_MEMORY_LIMIT,
        "--memory-limit",
        help="DuckDB memory_limit of the extra full run (CVW_DUCKDB_MEMORY_LIMIT); '' skips that run.",
    ),
    workdir: Path = typer.Option(
        PROJECT_DIR / "warehouse" / "benchmark",
        "--workdir",
        help="Folder for the exports and warehouses (emptied first).",
    ),
    seed: int = typer.Option(42, "--seed"),
    json_out: Path | None = typer.Option(None, "--json", help="Also write every figure to this JSON file."),
    clv_customers: int = typer.Option(
        DEFAULT_CLV_CUSTOMERS, "--clv-customers", min=0, help="Customers of the customer-value fit's timing (0: skip)."
    ),
    clv_only: bool = typer.Option(False, "--clv-only", help="Time the customer-value fit alone (no pipeline runs)."),
) -> None:
    if clv_only:
        print_clv_fit(clv_customers, seed)
        return
    from flows.local_server import start_local_server
    from flows.sample_data import generate_exports, hold_back_after

    targets = [float(share) / 100 for share in shares.split(",") if share.strip()]
    n_customers = customers or round(DEFAULT_CUSTOMERS * scale)
    if workdir.exists():
        shutil.rmtree(workdir)
    exports = workdir / "exports"
    started = time.perf_counter()
    generated = generate_exports(exports, customers=n_customers, seed=seed, end=END, file_format="parquet")
    console.print(
        f"Generated {generated['orders']:,} orders, {generated['customers']:,} customers, "
        f"{generated['survey_responses']:,} survey answers, {generated['contacts']:,} contacts "
        f"in {time.perf_counter() - started:.0f} s"
    )
    # the latest delivery is held back first: each hold-back takes the records after its cutoff
    cutoffs = delivery_cutoffs(exports, targets)
    deliveries: list[dict[str, Any]] = []
    for index in reversed(range(len(targets))):
        folder = workdir / f"delivery_{index + 1}"
        moved = hold_back_after(exports, cutoffs[index], folder)
        deliveries.insert(
            0, {"target": targets[index], "cutoff": cutoffs[index].isoformat(), "moved": moved, "folder": folder}
        )
    loaded = generated["orders"] - sum(d["moved"].get("orders", 0) for d in deliveries)
    history_orders = loaded
    for delivery in deliveries:
        new = delivery["moved"].get("orders", 0)
        delivery["share"] = new / loaded
        loaded += new
        console.print(
            f"delivery after {delivery['cutoff']}: {new:,} new orders = {delivery['share']:.2%} of {loaded - new:,} "
            f"(target {delivery['target']:.1%}); " + ", ".join(f"{n:,} {e}" for e, n in delivery["moved"].items())
        )

    env = {"PREFECT_HOME": str(workdir / ".prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    paths = Paths.resolve(exports=exports, warehouse=workdir / "build.duckdb", published=workdir / "published.duckdb")
    runs: dict[str, dict[str, float]] = {}
    runs["full (temporary server)"] = timed_run(paths, workdir / "full.json", env)
    if memory_limit:
        limited = Paths.resolve(exports=exports, warehouse=workdir / "limited" / "build.duckdb")
        runs[f"full, memory_limit={memory_limit}"] = timed_run(
            limited, workdir / "limited.json", {**env, "CVW_DUCKDB_MEMORY_LIMIT": memory_limit}
        )
        shutil.rmtree(workdir / "limited")
    baseline = timed_baseline(paths, workdir / "baseline.json")
    server = start_local_server(
        prefect_home=workdir / ".prefect", log_path=workdir / "server.log", ui=False, timeout=300
    )
    try:
        served = {**env, "PREFECT_API_URL": server.api_url}
        for number, delivery in enumerate(deliveries, start=1):
            for path in sorted(delivery["folder"].iterdir()):
                shutil.move(str(path), exports / path.name)
            name = f"+{delivery['share']:.2%} new orders"
            runs[name] = timed_run(paths, workdir / f"incremental_{number}.json", served)
        # the quarter-hour run when no export arrived: stops after the load, the publication is current
        runs["nothing new"] = timed_run(paths, workdir / "nothing_new.json", served)
    finally:
        server.stop()
    clv = print_clv_fit(clv_customers, seed) if clv_customers else None
    print_table(runs, history_orders, baseline)
    if json_out is not None:
        figures = {
            "machine": {"cores": os.cpu_count(), "system": f"{platform.system()} {platform.machine()}"},
            "python": platform.python_version(),
            "generated": generated,
            "history_orders": history_orders,
            "deliveries": [{k: v for k, v in d.items() if k != "folder"} for d in deliveries],
            "runs": runs,
            "baseline": baseline,
            "full_over_baseline": runs["full (temporary server)"]["total"] / baseline["seconds"],
            "clv_fit": clv,
            "peak_rss_method": "sum of RSS over the run's process tree, sampled from /proc every 0.2 s",
        }
        json_out.write_text(json.dumps(figures, indent=2, default=str))
        console.print(f"Figures: {json_out}")


def delivery_cutoffs(exports: Path, targets: list[float]) -> list[date]:
    """Per delivery (in run order), the cutoff date after which its orders begin: the last days of the
    data are split into consecutive deliveries, the last first, each of whole days whose orders come
    closest to `target` times the orders before them. Dated as hold_back_after dates them."""
    import duckdb

    with duckdb.connect() as con:
        per_day = con.execute(
            f"""select cast(left(trim(ordered_at), 10) as date) as day, count(*)
                from read_parquet('{exports}/orders_*.parquet') group by day order by day desc"""
        ).fetchall()
    remaining = sum(n for _, n in per_day)
    position = 0
    cutoffs: list[date] = []
    for target in reversed(targets):
        taken, best = 0, None
        for offset, (_day, n) in enumerate(per_day[position:], start=1):
            taken += n
            error = abs(taken / (remaining - taken) - target)
            if best is None or error < best[0]:
                best = (error, offset, taken)
            if taken / (remaining - taken) > target:
                break
        _error, days, orders = best
        position += days
        remaining -= orders
        cutoffs.insert(0, per_day[position - 1][0] - timedelta(days=1))
    return cutoffs


# --------------------------------------------------------------------------- process timing


class PeakTreeRss:
    """The largest sum of resident set sizes of a process and its descendants, sampled from /proc."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _tree_bytes(self) -> int:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        page = os.sysconf("SC_PAGE_SIZE")
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
                fields = stat[stat.rindex(")") + 2 :].split()
                parents[int(entry.name)] = int(fields[1])
                rss[int(entry.name)] = int(fields[21]) * page
            except (OSError, ValueError, IndexError):
                continue
        children: dict[int, list[int]] = {}
        for pid, ppid in parents.items():
            children.setdefault(ppid, []).append(pid)
        tree, frontier = {self.pid}, [self.pid]
        while frontier:
            for child in children.get(frontier.pop(), []):
                if child not in tree:
                    tree.add(child)
                    frontier.append(child)
        return sum(rss.get(pid, 0) for pid in tree)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._tree_bytes())
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_measured(command: list[str], env: dict[str, str], log: Path) -> tuple[float, int, float]:
    """Run `command` in a fresh process (its output into `log`); its wall seconds, the peak RSS of its
    process tree (bytes) and its CPU seconds (user + system of the process and every descendant it
    waited for: dbt, the temporary Prefect server), which a loaded machine does not inflate as it does
    wall seconds."""
    full_env = {**os.environ, **env}
    if "PREFECT_API_URL" not in env:
        full_env.pop("PREFECT_API_URL", None)  # a temporary server, as `python -m flows run` without one
    with log.open("wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=PROJECT_DIR, env=full_env, stdout=output, stderr=subprocess.STDOUT)
        sampler = PeakTreeRss(process.pid)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = code = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
    peak = sampler.stop()
    cpu = usage.ru_utime + usage.ru_stime
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"{' '.join(command[2:5])} ... failed with exit code {code} (log: {log}):\n{tail}")
    return wall, peak, cpu


def timed_run(paths: Paths, out: Path, env: dict[str, str]) -> dict[str, float]:
    """One pipeline run in a fresh process (`_run`): its step timings, wall time and peak RSS."""
    command = [sys.executable, __file__, "--", "_run", str(paths.exports), str(paths.warehouse), str(paths.published)]
    wall, peak, cpu = run_measured([*command, str(out)], env, out.with_suffix(".log"))
    steps = json.loads(out.read_text())
    nodes = steps.pop("dbt nodes")
    return {
        "Python and Prefect start-up, orchestration": wall - sum(steps.values()),
        **steps,
        "total": wall,
        "peak RSS (GB)": peak / 1e9,
        "CPU seconds (process tree)": cpu,
        **nodes,
    }


def run_once(exports: str, warehouse: str, published: str, out: str) -> None:
    """Inside the fresh process: run the Prefect flow and write its step timings to `out`."""
    from flows.config import configure_prefect_defaults

    configure_prefect_defaults()
    from flows.pipeline import customer_value_pipeline

    summary = customer_value_pipeline(exports=exports, warehouse=warehouse, published=published)
    dbt_seconds = summary.seconds.get("dbt build", 0.0)
    dbt_elapsed = summary.dbt.elapsed_seconds if summary.dbt is not None else 0.0
    steps = {
        "load": summary.seconds["load"],
        "dbt start-up and parse": dbt_seconds - dbt_elapsed,
        "dbt build (models and tests)": dbt_elapsed,
        "validate (Great Expectations)": summary.seconds.get("validate", 0.0),
        "publish": summary.seconds.get("publish", 0.0),
    }
    # a run with nothing new builds nothing: no dbt artefacts of its own to read
    steps["dbt nodes"] = dbt_node_seconds(Path(summary.paths.output) / "dbt") if summary.dbt is not None else {}
    if summary.dbt is not None:  # every node's time, kept beside the run's figures (the next run overwrites dbt's)
        shutil.copyfile(Path(summary.paths.output) / "dbt" / "run_results.json", Path(out).with_suffix(".nodes.json"))
    Path(out).write_text(json.dumps(steps))


def dbt_node_seconds(target: Path) -> dict[str, float]:
    """Execution time of dbt's nodes by kind (summed over dbt's threads), from run_results.json."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    manifest = json.loads((target / "manifest.json").read_text())
    kinds: dict[str, float] = {}
    for result in results:
        unique_id = result["unique_id"]
        kind = unique_id.split(".")[0]
        if kind == "model":
            kind = f"{manifest['nodes'][unique_id]['config']['materialized']} models"
        else:
            kind = {"test": "data tests", "unit_test": "unit tests", "seed": "seeds"}.get(kind, kind)
        key = f"  dbt {kind} (thread seconds)"
        kinds[key] = kinds.get(key, 0.0) + float(result["execution_time"])
    cpu = dbt_cpu_seconds(target / "logs" / "dbt.log")
    if cpu is not None:
        kinds["  dbt process CPU seconds (user + system)"] = cpu
    return dict(sorted(kinds.items()))


def dbt_cpu_seconds(log: Path) -> float | None:
    """User + system CPU seconds of the last dbt invocation, from the resource report dbt logs at its end."""
    if not log.exists():
        return None
    reports = [line for line in log.read_text(errors="replace").splitlines() if "Resource report: " in line]
    if not reports:
        return None
    report = json.loads(reports[-1].split("Resource report: ", 1)[1])
    return float(report["process_user_time"]) + float(report["process_kernel_time"])


# --------------------------------------------------------------------------- the hand-written baseline


def baseline_sql(exports: Path, rates_csv: Path, dbt_vars: dict[str, Any]) -> str:
    """The audit figures of marts.customer_audit_figures (docs/audit_figures.md) in one query, straight
    from the orders exports: one row per month, quarter and year from the first completed order's period
    to the as-of date's."""
    timezone = dbt_vars["reporting_timezone"]
    currency = dbt_vars["reporting_currency"]
    window = int(dbt_vars["churn_window_days"])  # W
    as_of = f"date '{dbt_vars['as_of_date']}'" if dbt_vars.get("as_of_date") else "null"
    return f"""
    with

    -- every record of every orders export, in load order: files by name, records by position
    records as (
        select *, filename as file_name, file_row_number
        from read_parquet('{exports}/orders_*.parquet', filename = true, file_row_number = true)
    ),

    -- the latest version of each order: its last record in the last file that has it
    latest as (
        select * from records
        qualify row_number() over (partition by trim(order_id) order by file_name desc, file_row_number desc) = 1
    ),

    -- monthly rates: one unit of `currency` in the reporting currency, from the rate's month on
    rates as (
        select cast(month as date) as month, currency, cast(rate as decimal(18, 8)) as rate
        from read_csv('{rates_csv}', header = true, all_varchar = true)
    ),

    -- completed orders with their date in the reporting time zone (a timestamp with an offset is
    -- converted; one without is local time already) and their amount in the reporting currency
    typed as (
        select
            trim(customer_id) as customer_id,
            lower(trim(status)) as status,
            cast(trim(amount) as decimal(18, 2)) as amount,
            coalesce(upper(nullif(trim(currency), '')), '{currency}') as currency,
            case
                when regexp_matches(trim(ordered_at), '[T ][0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}(\\.[0-9]+)?)?\\s*(Z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$')
                    then timezone('{timezone}', cast(trim(ordered_at) as timestamptz))
                else cast(trim(ordered_at) as timestamp)
            end as ordered_at
        from latest
    ),

    completed as (
        select
            customer_id,
            cast(ordered_at as date) as order_date,
            case when typed.currency = '{currency}' then amount
                 else cast(round(amount * rates.rate, 2) as decimal(18, 2)) end as amount
        from typed
        asof left join rates on rates.currency = typed.currency and rates.month <= cast(ordered_at as date)
        where status = 'completed'
    ),

    -- the as-of date: var as_of_date, else the last completed order's date; later orders are ignored
    as_of as (select coalesce({as_of}, max(order_date)) as as_of_date, min(order_date) as first_date from completed),

    orders_to_date as (select completed.* from completed, as_of where order_date <= as_of_date),

    -- one row per customer and order day, with the customer's previous and next order day
    order_days as (
        select
            customer_id,
            order_date,
            lag(order_date) over by_day as previous_day,
            lead(order_date) over by_day as next_day,
            min(order_date) over (partition by customer_id) as acquired_on
        from (select distinct customer_id, order_date from orders_to_date)
        window by_day as (partition by customer_id order by order_date)
    ),

    -- +1 into the base on acquisition (first order day) and on reactivation (an order day more than W
    -- days after the previous one); -1 on a lapse, W days after an order day with no order in those W
    -- days, counted only once it is on or before the as-of date
    events as (
        select order_date as day, 1 as acquired, 0 as reactivated, 0 as lapsed
        from order_days where previous_day is null
        union all
        select order_date, 0, 1, 0 from order_days where order_date - previous_day > {window}
        union all
        select order_date + {window}, 0, 0, 1
        from order_days, as_of
        where (next_day is null or next_day - order_date > {window}) and order_date + {window} <= as_of_date
    ),

    daily as (
        select day, sum(acquired) as acquired, sum(reactivated) as reactivated, sum(lapsed) as lapsed
        from events group by day
    ),

    -- months, quarters and years from the first completed order's to the as-of date's; the last one
    -- ends on the as-of date
    periods as (
        select
            grain as period_grain,
            cast(period_start as date) as period_start,
            least(cast(period_start + to_months(months) - interval 1 day as date), as_of_date) as period_end
        from (values ('month', 1), ('quarter', 3), ('year', 12)) as grains (grain, months), as_of,
            unnest(generate_series(date_trunc(grain, first_date), as_of_date, to_months(months))) as t (period_start)
    ),

    -- the base before and at the end of the period (running sums of the events) and the events in it
    base as (
        select
            period_grain,
            period_start,
            coalesce(sum(acquired + reactivated - lapsed) filter (where day < period_start), 0) as customers_start,
            coalesce(sum(acquired) filter (where day >= period_start), 0) as gross_new_customers,
            coalesce(sum(reactivated) filter (where day >= period_start), 0) as reactivated_customers,
            coalesce(sum(lapsed) filter (where day >= period_start), 0) as lost_customers,
            coalesce(sum(acquired + reactivated - lapsed), 0) as customers_end
        from periods left join daily on daily.day <= periods.period_end
        group by period_grain, period_start
    ),

    -- per period and customer: their completed orders and revenue in it, and whether they are new in it
    customer_periods as (
        select
            grain as period_grain,
            cast(date_trunc(grain, order_date) as date) as period_start,
            customer_id,
            count(*) as orders,
            sum(amount) as revenue
        from orders_to_date, (values ('month'), ('quarter'), ('year')) as grains (grain)
        group by all
    ),

    activity as (
        select
            period_grain,
            period_start,
            count(*) as active_customers,
            count(*) filter (where acquired_on >= period_start) as active_new_customers,
            count(*) filter (where acquired_on < period_start) as active_existing_customers,
            sum(orders) as orders,
            sum(revenue) as revenue,
            coalesce(sum(revenue) filter (where acquired_on >= period_start), 0) as revenue_new_customers,
            coalesce(sum(revenue) filter (where acquired_on < period_start), 0) as revenue_existing_customers
        from customer_periods
        join (select distinct customer_id, acquired_on from order_days) using (customer_id)
        group by period_grain, period_start
    )

    select
        period_grain,
        period_start,
        period_end,
        customers_start,
        gross_new_customers,
        reactivated_customers,
        lost_customers,
        gross_new_customers + reactivated_customers - lost_customers as net_new_customers,
        customers_end,
        coalesce(active_customers, 0) as active_customers,
        coalesce(active_new_customers, 0) as active_new_customers,
        coalesce(active_existing_customers, 0) as active_existing_customers,
        coalesce(orders, 0) as orders,
        coalesce(revenue, 0) as revenue,
        coalesce(revenue_new_customers, 0) as revenue_new_customers,
        coalesce(revenue_existing_customers, 0) as revenue_existing_customers,
        -- averages rounded to cents, null without a denominator
        cast(round(revenue_new_customers / nullif(gross_new_customers, 0), 2) as decimal(18, 2))
            as revenue_per_new_customer,
        cast(round(revenue_existing_customers / nullif(active_existing_customers, 0), 2) as decimal(18, 2))
            as revenue_per_existing_customer,
        cast(round(revenue / nullif(orders, 0), 2) as decimal(18, 2)) as average_order_value
    from periods
    join base using (period_grain, period_start)
    left join activity using (period_grain, period_start)
    """


def timed_baseline(paths: Paths, out: Path) -> dict[str, Any]:
    """The baseline in a fresh process (`_baseline`): its seconds, peak RSS and the cell comparison with the
    published mart; fails when a cell differs."""
    from flows import dbt_artifacts

    dbt_vars = dbt_artifacts.manifest_vars(paths.dbt_target)
    if dbt_vars is None:
        raise RuntimeError(f"no dbt manifest in {paths.dbt_target}: the full run left no build")
    command = [
        sys.executable,
        __file__,
        "--",
        "_baseline",
        str(paths.exports),
        str(paths.published),
        json.dumps(dbt_vars),
    ]
    _wall, peak, _cpu = run_measured([*command, str(out)], {}, out.with_suffix(".log"))
    result = json.loads(out.read_text())
    result["peak RSS (GB)"] = peak / 1e9
    equal = f"{result['cells_equal']:,} of {result['cells']:,} cells equal"
    if result["cells_equal"] != result["cells"]:
        console.print(f"[bold red]baseline: {equal}[/]; first differences: {result['differences']}")
        raise SystemExit(1)
    console.print(f"Hand-written DuckDB baseline: {result['seconds']:.1f} s, {peak / 1e9:.2f} GB; {equal}")
    return result


def baseline_once(exports: str, published: str, vars_json: str, out: str) -> None:
    """Inside the fresh process: time the baseline, then compare it with the published mart cell by cell."""
    from flows.duckdb_connection import connect

    with connect() as con:
        con.execute("set enable_progress_bar = false")
        started = time.perf_counter()
        con.execute(
            "create temp table baseline as "
            + baseline_sql(Path(exports), PROJECT_DIR / "seeds" / "currency_rates.csv", json.loads(vars_json))
        )
        seconds = time.perf_counter() - started
        con.execute(f"attach '{published}' as pub (read_only)")
        # one cell per period and figure; a period missing on either side makes its cells unequal
        cells = " union all ".join(
            f"select '{column}' as figure, b.period_grain, b.period_start, "
            f"cast(b.{column} as varchar) as baseline, cast(m.{column} as varchar) as mart, "
            f"b.{column} is not distinct from m.{column} and b.period_start is not null "
            f"and m.period_start is not null as equal "
            f"from baseline as b full join pub.marts.customer_audit_figures as m using (period_grain, period_start)"
            for column in AUDIT_FIGURES
        )
        con.execute(f"create temp table cells as {cells}")
        total, equal = con.execute("select count(*), count(*) filter (where equal) from cells").fetchone()
        differences = con.execute("select * exclude (equal) from cells where not equal limit 5").fetchall()
    result = {
        "seconds": seconds,
        "cells": total,
        "cells_equal": equal,
        "differences": [list(map(str, d)) for d in differences],
    }
    Path(out).write_text(json.dumps(result))


# --------------------------------------------------------------------------- the customer-value fit


def simulated_summaries(customers: int, seed: int):
    """Per-customer (x, t_x, T, m) in weeks drawn from BG/NBD (r 0.25, alpha 4, a 0.8, b 2.5) and
    Gamma-Gamma (p 6, q 4, gamma 15), first purchases spread over 4 years, times on whole days. A
    loop over the purchase number, not over customers."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.25, 1 / 4.0, customers)
    dropout = rng.beta(0.8, 2.5, customers)
    age = np.floor(rng.uniform(0, 4 * 365, customers)) / 7
    x = np.zeros(customers)
    t_x = np.zeros(customers)
    t = np.zeros(customers)
    alive = rng.random(customers) >= 0  # everyone is alive after the first purchase
    while alive.any():
        t = np.where(alive, t + rng.exponential(1 / np.maximum(rate, 1e-12)), t)
        bought = alive & (t <= age)
        day = np.floor(t * 7) / 7
        new_day = bought & (day > t_x)  # same-day purchases are one
        x += new_day
        t_x = np.where(new_day, day, t_x)
        alive = bought & (rng.random(customers) >= dropout)
    nu = rng.gamma(4.0, 1 / 15.0, customers)
    spend = rng.gamma(6.0 * np.maximum(x, 1), 1 / nu) / np.maximum(x, 1)
    return x, t_x, age, np.where(x > 0, spend, 0.0)


def print_clv_fit(customers: int, seed: int) -> dict[str, float]:
    """One line: the customer-value fit's time on `customers` simulated customers (also returned)."""
    from flows.clv import bgnbd, gamma_gamma, value

    x, t_x, age, m = simulated_summaries(customers, seed)
    started, cpu_started = time.perf_counter(), time.process_time()
    bg = bgnbd.fit(x, t_x, age)
    fitted_bg = time.perf_counter()
    gg = gamma_gamma.fit(x, m)
    fitted = time.perf_counter()
    params = bg.estimates
    bgnbd.p_alive(params, x, t_x, age)
    discounted = value.discounted_expected_purchases(params, x, t_x, age, 7, 36, 0.10)
    (gamma_gamma.conditional_mean_spend(gg.estimates, x, m) * discounted).sum()
    predicted = time.perf_counter()
    console.print(
        f"Customer-value fit on {customers:,} customers: BG/NBD {fitted_bg - started:.1f} s "
        f"(converged {bg.converged}, r {bg.params['r']:.3f}, alpha {bg.params['alpha']:.2f}, "
        f"a {bg.params['a']:.3f}, b {bg.params['b']:.2f}), Gamma-Gamma {fitted - fitted_bg:.1f} s "
        f"(converged {gg.converged}), P(alive) and 36-month CLV {predicted - fitted:.1f} s; "
        f"total {predicted - started:.1f} s ({time.process_time() - cpu_started:.1f} s CPU) on {os.cpu_count()} cores"
    )
    return {
        "customers": customers,
        "bgnbd_seconds": fitted_bg - started,
        "gamma_gamma_seconds": fitted - fitted_bg,
        "predict_seconds": predicted - fitted,
        "cpu_seconds": time.process_time() - cpu_started,
    }


def print_table(runs: dict[str, dict[str, float]], orders: int, baseline: dict[str, Any]) -> None:
    full = runs["full (temporary server)"]
    table = Table(
        title=f"{orders:,} orders in the full run; incremental runs and nothing new on a running Prefect server "
        f"- {os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python {platform.python_version()}",
        title_justify="left",
    )
    table.add_column("step")
    for name in runs:
        table.add_column(name, justify="right")
    steps = list(dict.fromkeys(step for run in runs.values() for step in run))
    for step in steps:
        cells = []
        for name, run in runs.items():
            value = run.get(step, 0.0)
            cell = f"{value:.2f}" if step == "peak RSS (GB)" else f"{value:.1f}"
            if step == "total" and name != "full (temporary server)" and full["total"] > 0:
                cell += f" ({value / full['total']:.0%})"
            cells.append(cell)
        table.add_row(step, *cells, style="bold" if step == "total" else "dim" if step.startswith(" ") else "")
    console.print(table)
    console.print(
        f"Hand-written DuckDB baseline of the audit figures on the full run's files: {baseline['seconds']:.1f} s, "
        f"peak RSS {baseline['peak RSS (GB)']:.2f} GB, {baseline['cells_equal']:,} of {baseline['cells']:,} cells "
        f"equal; full run / baseline = {full['total'] / baseline['seconds']:.1f}"
    )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1:3] == ["--", "_run"]:
        run_once(*sys.argv[3:7])
    elif len(sys.argv) > 2 and sys.argv[1:3] == ["--", "_baseline"]:
        baseline_once(*sys.argv[3:7])
    else:
        app()
