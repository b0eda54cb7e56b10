"""The hand-made spreadsheet exports of `--messy`: `;`-separated, decimal commas, some contract-breaking rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flows.duckdb_connection import connect

#: Rows of the hand-made spreadsheet exports: (order or response id, the row, why it is bad or "").
_MESSY_ORDERS = (
    ("M-0001", "{customer};{date} 10:15;completed;49,95;5,00;EUR;store", ""),
    ("M-0002", "{customer};{date} 11:30;completed;12,50;;;store", ""),
    ("M-0003", ";{date} 12:00;completed;20,00;;EUR;store", "missing required field customer_id"),
    ("M-0004", "{customer};31-12-{year} 13:00;completed;20,00;;EUR;store", "ordered_at: not a timestamp"),
    ("M-0005", "{customer};{date} 14:00;shipped;20,00;;EUR;store", "status: 'shipped' is not one of"),
    ("M-0006", "{customer};{date} 15:00;completed;-3,00;;EUR;store", "amount: -3"),
)
_MESSY_RESPONSES = (
    ("M-R-0001", "{customer};{date} 18:00;periodic;;9;6;5;", ""),
    ("M-R-0002", "{customer};{date} 18:05;periodic;;11;;;", "nps: 11 out of range"),
    ("M-R-0003", "{customer};{date} 18:10;periodic;;;8;;", "ces: 8 out of range"),
)


def write_messy_exports(out_dir: Path, end: date) -> dict[str, int]:
    """Write two small exports the way they often arrive by hand: `;`-separated, decimal commas,
    and a few rows that break the data contract (a missing customer, a day-first date, an unknown
    status, a negative amount, scores out of range). The loader quarantines the bad rows with
    their reasons and loads the good ones. Returns rows written per entity."""
    out_dir = Path(out_dir)
    pattern = "customers_*.parquet" if any(out_dir.glob("customers_*.parquet")) else "customers_*.csv"
    reader = "read_parquet" if pattern.endswith("parquet") else "read_csv"
    with connect() as con:
        customer = con.execute(f"select min(customer_id) from {reader}('{(out_dir / pattern).as_posix()}')").fetchone()[
            0
        ]
    values = {"customer": customer, "date": end.isoformat(), "year": end.year}
    written: dict[str, int] = {}
    for entity, header, rows in (
        ("orders", "order_id;customer_id;ordered_at;status;amount;discount_amount;currency;channel", _MESSY_ORDERS),
        (
            "survey_responses",
            "response_id;customer_id;responded_at;touchpoint_type;touchpoint_id;nps;ces;csat;comment",
            _MESSY_RESPONSES,
        ),
    ):
        lines = [header] + [f"{key};" + row.format(**values) for key, row, _ in rows]
        path = out_dir / f"{entity}_{end.isoformat()}_spreadsheet.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written[entity] = len(rows)
    return written


def messy_rows_expected() -> dict[str, list[tuple[str, str]]]:
    """The keys and reason fragments of the rows `write_messy_exports` writes, per entity ("" = valid)."""
    return {
        "orders": [(key, reason) for key, _, reason in _MESSY_ORDERS],
        "survey_responses": [(key, reason) for key, _, reason in _MESSY_RESPONSES],
    }
