"""`generate_exports`: run the parts of the model in order and write every export."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from flows.duckdb_connection import connect
from flows.sample_data.clock import epoch
from flows.sample_data.contacts import contacts_frame, contacts_sql, make_contacts, settle
from flows.sample_data.customers import assign_referrers, customers_frame, customers_sql, make_customers
from flows.sample_data.draws import rng_stream
from flows.sample_data.marketing import SPEND_SQL, marketing_spend
from flows.sample_data.messy import write_messy_exports
from flows.sample_data.orders import make_orders, orders_frame, orders_sql
from flows.sample_data.surveys import make_responses, responses_frame, responses_sql
from flows.sample_data.writer import copy_to_file, write_by_year


def _log(progress: bool, started: float, message: str) -> None:
    """Log `message` with the seconds since `started` to stderr, if `progress`."""
    if progress:
        from rich.console import Console

        Console(stderr=True).log(f"[{time.perf_counter() - started:7.1f}s] {message}")


def generate_exports(
    out_dir: Path,
    customers: int = 10_000,
    seed: int = 42,
    start: date = date(2022, 1, 1),
    end: date = date(2026, 10, 31),
    file_format: str = "csv",
    progress: bool = False,
    messy: bool = False,
) -> dict[str, int]:
    """Write deterministic sample exports into `out_dir`; return rows written per entity.

    With `messy`, also write the hand-made spreadsheet exports of `write_messy_exports`, whose
    contract-breaking rows show the quarantine at work.

    Files are split per calendar year of their main timestamp (`orders_2024-12-31.csv`,
    the last year dated `end`: `orders_2026-10-31.csv`); marketing spend is one file,
    `marketing_spend_<end>.csv`. `file_format` is "csv" or "parquet" (all columns as
    text). The same arguments always give byte-identical files.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if end < start:
        raise ValueError("end must not be before start")
    if file_format not in ("csv", "parquet"):
        raise ValueError("file_format must be 'csv' or 'parquet'")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    end_excl = epoch(end + timedelta(days=1))

    cust = make_customers(customers, start, end, seed)
    _log(progress, clock, f"{cust.n:,} customers")

    orders = make_orders(cust, end_excl, seed)
    orders, contacts = settle(cust, orders, make_contacts(cust, orders, seed), end_excl, seed)
    _log(progress, clock, f"{orders.n:,} orders, {contacts.n:,} contacts")

    first_order = np.full(cust.n, np.iinfo(np.int64).max)
    np.minimum.at(first_order, orders.customer, orders.at)
    assign_referrers(cust, first_order, rng_stream(seed, 10))

    responses = make_responses(cust, orders, contacts, start, end, end_excl, seed)
    _log(progress, clock, f"{responses.n:,} survey responses")

    counts: dict[str, int] = {}
    con = connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        counts["customers"] = write_by_year(
            con,
            "customers",
            customers_frame(cust, seed),
            cust.created,
            customers_sql(cust.n),
            out_dir,
            start,
            end,
            file_format,
        )
        counts["orders"] = write_by_year(
            con,
            "orders",
            orders_frame(orders, cust, seed),
            orders.at,
            orders_sql(orders.n, cust.n),
            out_dir,
            start,
            end,
            file_format,
        )
        counts["contacts"] = write_by_year(
            con,
            "contacts",
            contacts_frame(contacts),
            contacts.at,
            contacts_sql(contacts.n, cust.n),
            out_dir,
            start,
            end,
            file_format,
        )
        counts["survey_responses"] = write_by_year(
            con,
            "survey_responses",
            responses_frame(responses, cust, seed),
            responses.at,
            responses_sql(responses.n, cust.n, orders.n, contacts.n),
            out_dir,
            start,
            end,
            file_format,
        )
        spend = marketing_spend(cust, start, end, seed)
        copy_to_file(con, spend, SPEND_SQL, out_dir / f"marketing_spend_{end.isoformat()}.{file_format}", file_format)
        counts["marketing_spend"] = spend.num_rows
    finally:
        con.close()
    if messy:
        for entity, rows in write_messy_exports(out_dir, end).items():
            counts[entity] += rows
    _log(progress, clock, f"written to {out_dir}: {counts}")
    return counts
