"""Cost of a full run and of an incremental run at scale (`make benchmark`; README "Performance").

1. Generates sample exports (Parquet) with about 1M orders (`--customers`, or `--scale` times the
   default) and holds back the records of the last `--days-held-back` days (about 0.1 % of the
   orders) as the next night's delivery (flows.sample_data.increments).
2. Full run: `customer_value_pipeline` on the history, in a fresh Python process, as
   `python -m flows run` does (a temporary Prefect server is started).
3. Incremental run: the held-back files are added to the exports folder and the pipeline runs
   again in a fresh process: only the new files are loaded and dbt builds incrementally.

4. The customer-value fit alone (flows/clv: BG/NBD and Gamma-Gamma by maximum likelihood, then
   P(alive), expected purchases and the discounted CLV) on `--clv-customers` (default 1.26M)
   customers drawn from the BG/NBD and Gamma-Gamma processes, timed as one line
   (`--clv-only` times just that).

Each run is timed per step: Python and Prefect start-up (imports, temporary server, flow and task
orchestration: the process's wall time minus the steps; with --prefect-server both runs use one
server started beforehand, as served deployments do), load, dbt start-up and parse, dbt build
(models and tests), Great Expectations validation and publication; below them, dbt's execution
time per kind of node (incremental and table models, data and unit tests) summed over its
threads. No test asserts on timings: they depend on the machine.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from flows.config import Paths  # noqa: E402

DEFAULT_CUSTOMERS = 126_000  # about 1,010,000 orders from 2022-01-01 to 2026-10-31 with the default seed
END = date(2026, 10, 31)
DEFAULT_CLV_CUSTOMERS = 1_260_000

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, help=__doc__.splitlines()[0])
console = Console()


@app.command()
def main(
    customers: int | None = typer.Option(
        None, "--customers", min=1, help=f"CRM customers to generate (default {DEFAULT_CUSTOMERS:,}: about 1M orders)."
    ),
    scale: float = typer.Option(
        1.0, "--scale", min=0.001, help="Multiply the default number of customers (2 gives about 2M orders)."
    ),
    days_held_back: int = typer.Option(
        1,
        "--days-held-back",
        min=1,
        help="Days of records delivered by the incremental run (1 day is about 0.1 % of the orders).",
    ),
    workdir: Path = typer.Option(
        PROJECT_DIR / "warehouse" / "benchmark",
        "--workdir",
        help="Folder for the exports and warehouses (emptied first).",
    ),
    seed: int = typer.Option(42, "--seed"),
    prefect_server: bool = typer.Option(
        False,
        "--prefect-server",
        help="Run both against a Prefect server started once beforehand (as served deployments run), instead of a temporary server per run.",
    ),
    clv_customers: int = typer.Option(
        DEFAULT_CLV_CUSTOMERS, "--clv-customers", min=1, help="Customers of the customer-value fit's timing."
    ),
    clv_only: bool = typer.Option(False, "--clv-only", help="Time the customer-value fit alone (no pipeline runs)."),
) -> None:
    """Generate the data set, time a full run, an incremental run and a run with nothing new, and print them per step."""
    import shutil

    if clv_only:
        print_clv_fit(clv_customers, seed)
        return

    from flows.sample_data import generate_exports, hold_back_after

    n_customers = customers or round(DEFAULT_CUSTOMERS * scale)
    if workdir.exists():
        shutil.rmtree(workdir)
    exports, delivery = workdir / "exports", workdir / "delivery"
    started = time.perf_counter()
    generated = generate_exports(exports, customers=n_customers, seed=seed, end=END, file_format="parquet")
    held_back = hold_back_after(exports, END - timedelta(days=days_held_back), delivery)
    console.print(
        f"Generated {generated['orders']:,} orders, {generated['customers']:,} customers, "
        f"{generated['survey_responses']:,} survey answers, {generated['contacts']:,} contacts "
        f"in {time.perf_counter() - started:.0f} s; held back for the incremental run: "
        + ", ".join(f"{n:,} {entity}" for entity, n in held_back.items())
        + f" ({held_back.get('orders', 0) / generated['orders']:.2%} of the orders)"
    )

    paths = Paths.resolve(exports=exports, warehouse=workdir / "build.duckdb", published=workdir / "published.duckdb")
    server = start_prefect_server(workdir) if prefect_server else None
    try:
        full = timed_run(paths, workdir / "full.json")
        for path in sorted(delivery.iterdir()):
            shutil.move(str(path), exports / path.name)
        incremental = timed_run(paths, workdir / "incremental.json")
        # the quarter-hour run when no export arrived: stops after the load, the publication is current
        nothing_new = timed_run(paths, workdir / "nothing_new.json")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    print_table(full, incremental, nothing_new, generated["orders"], held_back.get("orders", 0), prefect_server)
    print_clv_fit(clv_customers, seed)


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


def print_clv_fit(customers: int, seed: int) -> None:
    """One line: the customer-value fit's time on `customers` simulated customers."""
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


def start_prefect_server(workdir: Path) -> subprocess.Popen:
    """`prefect server start` on a free loopback port; the runs use it through PREFECT_API_URL."""
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    os.environ["PREFECT_HOME"] = str(workdir / ".prefect")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("prefect")), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("the Prefect server did not start") from None
            time.sleep(0.5)
    os.environ["PREFECT_API_URL"] = api
    return server


def timed_run(paths: Paths, out: Path) -> dict[str, float]:
    """One pipeline run in a fresh process (`_run`); its step timings and the process's wall time."""
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--",
            "_run",
            str(paths.exports),
            str(paths.warehouse),
            str(paths.published),
            str(out),
        ],
        cwd=PROJECT_DIR,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    steps = json.loads(out.read_text())
    nodes = steps.pop("dbt nodes")
    return {"Python and Prefect start-up, orchestration": wall - sum(steps.values()), **steps, "total": wall, **nodes}


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
    return dict(sorted(kinds.items()))


def print_table(
    full: dict[str, float],
    incremental: dict[str, float],
    nothing_new: dict[str, float],
    orders: int,
    new_orders: int,
    prefect_server: bool,
) -> None:
    server = "a running Prefect server" if prefect_server else "a temporary Prefect server per run"
    table = Table(
        title=f"{orders:,} orders; the incremental run adds {new_orders:,} ({new_orders / orders:.2%}); {server} "
        f"- {os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python {platform.python_version()}",
        title_justify="left",
    )
    table.add_column("step")
    table.add_column("full run (s)", justify="right")
    table.add_column("incremental run (s)", justify="right")
    table.add_column("incremental / full", justify="right")
    table.add_column("nothing new (s)", justify="right")
    for step in {**full, **incremental}:
        before, after, idle = full.get(step, 0.0), incremental.get(step, 0.0), nothing_new.get(step, 0.0)
        share = f"{after / before:.0%}" if before > 0.05 else ""
        table.add_row(
            step,
            f"{before:.1f}",
            f"{after:.1f}",
            share,
            f"{idle:.1f}",
            style="bold" if step == "total" else "dim" if step.startswith(" ") else "",
        )
    console.print(table)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1:3] == ["--", "_run"]:
        run_once(*sys.argv[3:7])
    else:
        app()
