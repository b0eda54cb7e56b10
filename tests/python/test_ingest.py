"""The loader keeps the data contract: bad rows go to quarantine with their reasons, nothing
is lost (rows read = rows loaded + rows quarantined), and re-running never double counts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from flows.contract import ENTITIES, entity_for_file
from flows.ingest import entities_without_exports, load_exports
from tests.python.conftest import PROJECT_DIR, write

ORDERS_HEADER = "order_id,customer_id,ordered_at,status,amount,discount_amount,currency,channel\n"


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_bad_rows_go_to_quarantine_with_file_line_and_reason(exports: Path, warehouse: Path) -> None:
    write(
        exports / "orders_2025-01-31.csv",
        ORDERS_HEADER
        + "O1,C1,2025-01-05 10:00:00,completed,10.50,0,,web\n"  # line 2: good
        + "O2,C1,yesterday,completed,12,,EUR,app\n"  # line 3: unparseable date
        + "O3,C2,2025-01-07,shipped,-3,0,EURO,web\n"  # line 4: three broken rules
        + "O4,,2025-01-07,completed,5,0,,web\n"  # line 5: missing customer
        + "O5,C3,2025-01-08,completed,abc,0,,store\n"  # line 6: not a number
        + "O6,C3,2025-01-08,completed,5,0,,store,surplus\n"  # line 7: malformed line
        + "O7,C3,2025-01-09T08:00:00+00:00,completed,8,1,gbp,store\n",  # line 8: good
    )
    report = load_exports(warehouse, exports)

    (result,) = report.files
    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("loaded", 7, 2, 5)
    assert rows(warehouse, "select order_id, _line from raw.orders order by order_id") == [("O1", 2), ("O7", 8)]
    quarantine = dict(rows(warehouse, "select line, reason from raw.quarantine order by line"))
    assert quarantine[3] == "ordered_at: not a timestamp ('yesterday')"
    assert quarantine[4] == (
        "status: 'shipped' is not one of completed/cancelled/refunded; amount: -3 out of range (>= 0); "
        "currency: not an ISO 4217 currency code ('EURO')"
    )
    assert quarantine[5] == "missing required field customer_id"
    assert quarantine[6] == "amount: not a number ('abc')"
    assert quarantine[7].startswith("malformed line: Expected Number of Columns: 8 Found: 9")
    # the quarantined record keeps what was read, for the person who fixes the export
    assert '"ordered_at":"yesterday"' in rows(warehouse, "select record from raw.quarantine where line = 3")[0][0]


def test_scores_out_of_range_are_quarantined(exports: Path, warehouse: Path) -> None:
    write(
        exports / "survey_responses_2025-02-01.csv",
        "response_id,customer_id,responded_at,touchpoint_type,touchpoint_id,nps,ces,csat,comment\n"
        "R1,C1,2025-01-06,order,O1,10,7,5,great\n"
        "R2,C1,2025-01-06,order,O1,11,,,\n"
        "R3,C1,2025-01-06,contact,K1,,0,6,\n"
        "R4,C1,2025-01-06,survey,,5,,,\n",
    )
    load_exports(warehouse, exports)
    assert rows(warehouse, "select line, reason from raw.quarantine order by line") == [
        (3, "nps: 11 out of range (0-10)"),
        (4, "ces: 0 out of range (1-7); csat: 6 out of range (1-5)"),
        (5, "touchpoint_type: 'survey' is not one of order/contact/periodic"),
    ]
    assert rows(warehouse, "select response_id, nps, ces, csat from raw.survey_responses") == [("R1", 10, 7, 5)]


def test_rows_read_equal_rows_loaded_plus_quarantined_for_every_file(exports: Path, warehouse: Path) -> None:
    write(exports / "orders_a.csv", ORDERS_HEADER + "O1,C1,2025-01-05,completed,1,,,\nO2,C1,x,completed,1,,,\n")
    write(exports / "orders_b.csv", ORDERS_HEADER + 'O3,C1,2025-01-05,completed,1,,,\n,,,,\n"O4,C1\n')
    write(exports / "customers_a.csv", "customer_id,email\nC1,a@example.com\n")  # rejected: no created_at
    load_exports(warehouse, exports)
    manifest = rows(
        warehouse,
        """select m.file_name, m.rows_read, m.rows_loaded, m.rows_quarantined,
                  (select count(*) from raw.orders o where o._load_id = m.load_id)
                  + (select count(*) from raw.customers c where c._load_id = m.load_id),
                  (select count(*) from raw.quarantine q where q.load_id = m.load_id)
           from raw.load_manifest m order by m.file_name""",
    )
    assert len(manifest) == 3
    for file_name, read, loaded, quarantined, in_raw, in_quarantine in manifest:
        assert read == loaded + quarantined, file_name
        assert (loaded, quarantined) == (in_raw, in_quarantine), file_name
        assert read > 0, file_name


def test_a_file_missing_a_required_column_is_rejected_naming_it(exports: Path, warehouse: Path) -> None:
    write(exports / "customers_2025-01-31.csv", "customer_id,email\nC1,a@example.com\nC2,b@example.com\n")
    report = load_exports(warehouse, exports)
    (result,) = report.files
    assert result.status == "rejected"
    assert result.message == "file rejected: missing required column created_at"
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 0, 2)
    assert rows(warehouse, "select count(*) from raw.customers") == [(0,)]


def test_loading_the_same_files_twice_changes_no_row(exports: Path, warehouse: Path) -> None:
    write(
        exports / "orders_2025-01-31.csv", ORDERS_HEADER + "O1,C1,2025-01-05,completed,1,,,\nO2,C1,bad,completed,1,,,\n"
    )
    first = load_exports(warehouse, exports)
    counts = "select (select count(*) from raw.orders), (select count(*) from raw.quarantine), (select count(*) from raw.load_manifest)"
    before = rows(warehouse, counts)
    second = load_exports(warehouse, exports)
    assert [f.status for f in first.files] == ["loaded"]
    assert [f.status for f in second.files] == ["skipped"]
    assert rows(warehouse, counts) == before == [(1, 1, 1)]


def test_a_corrected_re_export_is_loaded_after_the_original(exports: Path, warehouse: Path) -> None:
    write(exports / "orders_2025-01-31.csv", ORDERS_HEADER + "O1,C1,2025-01-05,completed,10,,,\n")
    load_exports(warehouse, exports)
    write(exports / "orders_2025-02-28.csv", ORDERS_HEADER + "O1,C1,2025-01-05,refunded,10,,,\n")
    report = load_exports(warehouse, exports)
    assert [f.status for f in report.files] == ["skipped", "loaded"]
    # raw keeps both versions; the later load wins in staging (see test_pipeline)
    assert rows(warehouse, "select status, _load_id from raw.orders order by _load_id") == [
        ("completed", 1),
        ("refunded", 2),
    ]


def test_semicolon_csv_with_decimal_comma_and_parquet_load(exports: Path, warehouse: Path) -> None:
    write(
        exports / "marketing_spend_2025-01.csv",
        "month;channel;amount;currency\n2025-01;paid_search;1234,50;EUR\n2025-13;email;5;\n",
    )
    table = pa.table(
        {
            "contact_id": ["K1"],
            "customer_id": ["C1"],
            "contacted_at": ["2025-01-03 09:00"],
            "channel": ["phone"],
            "transfers": [2],
            "resolved": [False],
        }
    )
    pq.write_table(table, exports / "contacts_2025-01.parquet")
    load_exports(warehouse, exports)
    assert rows(warehouse, "select month, channel, amount from raw.marketing_spend") == [
        (__import__("datetime").date(2025, 1, 1), "paid_search", __import__("decimal").Decimal("1234.50"))
    ]
    assert rows(warehouse, "select reason from raw.quarantine") == [("month: not a month (YYYY-MM) ('2025-13')",)]
    assert rows(warehouse, "select contact_id, transfers, resolved, _line from raw.contacts") == [("K1", 2, False, 1)]


def test_unknown_files_are_reported_not_loaded(exports: Path, warehouse: Path) -> None:
    write(exports / "notes.txt", "hello")
    report = load_exports(warehouse, exports)
    assert [(f.file_name, f.status) for f in report.files] == [("notes.txt", "ignored")]


def test_entity_is_taken_from_the_file_name() -> None:
    assert entity_for_file("orders_2025-01-31.csv").name == "orders"
    assert entity_for_file("survey_responses.parquet").name == "survey_responses"
    assert entity_for_file("marketing_spend_2025-01.csv.gz").name == "marketing_spend"
    assert entity_for_file("orders-2025.xlsx") is None


def test_dbt_sources_document_exactly_the_contract_columns() -> None:
    documented: dict[str, list[str]] = {}
    for path in (PROJECT_DIR / "models" / "staging").glob("*/_*__sources.yml"):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                documented[table["name"]] = [
                    c["name"] for c in table.get("columns", []) if not c["name"].startswith("_")
                ]
    for entity in ENTITIES:
        assert documented[entity.name] == entity.column_names, entity.name


def test_entities_without_exports_are_those_of_which_no_rows_were_ever_exported(exports: Path, warehouse: Path) -> None:
    """A header-only file is no export; a file whose rows were all quarantined, or a rejected file, is
    one (its data was lost on the way, which must fail validation, not pass as empty)."""
    write(exports / "orders_1.csv", "order_id,customer_id,ordered_at,status,amount\no1,c1,2025-01-02,completed,10.00\n")
    write(exports / "contacts_1.csv", "contact_id,customer_id,contacted_at,channel\n")  # header only
    write(exports / "survey_responses_1.csv", "response_id,customer_id,responded_at,touchpoint_type\nr1,,,order\n")
    write(exports / "customers_1.csv", "name\nAda\n")  # no customer_id: rejected
    report = load_exports(warehouse, exports)
    assert report.by_status("rejected")[0].entity == "customers"
    assert report.not_exported == ["contacts", "marketing_spend"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert entities_without_exports(con) == ["contacts", "marketing_spend"]
        assert con.execute(
            "select rows_quarantined from raw.load_manifest where entity = 'survey_responses'"
        ).fetchone() == (1,)
    with duckdb.connect(str(warehouse.with_name("empty.duckdb"))) as con:
        assert entities_without_exports(con) == []  # no manifest: nothing is known, every entity counts as exported
