"""The loader keeps the data contract: bad rows go to quarantine with their reasons, nothing
is lost (rows read = rows loaded + rows quarantined), and re-running never double counts."""

from __future__ import annotations

import gzip
import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from flows.contract import ENTITIES, entity_for_file
from flows.ingest import LoadReport, PlausibleWindow, entities_without_exports, load_exports
from tests.python.conftest import PROJECT_DIR, write

AMBIGUOUS = "amount: ambiguous separator ('{}'): a thousands separator or more decimals than cents"
ORDERS_HEADER = "order_id,customer_id,ordered_at,status,amount,discount_amount,currency,channel\n"


#: A load today under the project's vars (test_the_plausible_window_comes_from_the_dbt_vars checks them).
TODAY = PlausibleWindow(date(2000, 1, 1), date.today() + timedelta(days=1))


def load(warehouse: Path, exports: Path, window: PlausibleWindow = TODAY) -> LoadReport:
    return load_exports(warehouse, exports, window=window)


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
    report = load(warehouse, exports)

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
    load(warehouse, exports)
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
    load(warehouse, exports)
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
    report = load(warehouse, exports)
    (result,) = report.files
    assert result.status == "rejected"
    assert result.message == "file rejected: missing required column created_at"
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 0, 2)
    assert rows(warehouse, "select count(*) from raw.customers") == [(0,)]


def test_loading_the_same_files_twice_changes_no_row(exports: Path, warehouse: Path) -> None:
    write(
        exports / "orders_2025-01-31.csv", ORDERS_HEADER + "O1,C1,2025-01-05,completed,1,,,\nO2,C1,bad,completed,1,,,\n"
    )
    first = load(warehouse, exports)
    counts = "select (select count(*) from raw.orders), (select count(*) from raw.quarantine), (select count(*) from raw.load_manifest)"
    before = rows(warehouse, counts)
    second = load(warehouse, exports)
    assert [f.status for f in first.files] == ["loaded"]
    assert [f.status for f in second.files] == ["skipped"]
    assert rows(warehouse, counts) == before == [(1, 1, 1)]


def test_a_corrected_re_export_is_loaded_after_the_original(exports: Path, warehouse: Path) -> None:
    write(exports / "orders_2025-01-31.csv", ORDERS_HEADER + "O1,C1,2025-01-05,completed,10,,,\n")
    load(warehouse, exports)
    write(exports / "orders_2025-02-28.csv", ORDERS_HEADER + "O1,C1,2025-01-05,refunded,10,,,\n")
    report = load(warehouse, exports)
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
    load(warehouse, exports)
    assert rows(warehouse, "select month, channel, amount from raw.marketing_spend") == [
        (__import__("datetime").date(2025, 1, 1), "paid_search", __import__("decimal").Decimal("1234.50"))
    ]
    assert rows(warehouse, "select reason from raw.quarantine") == [("month: not a month (YYYY-MM) ('2025-13')",)]
    assert rows(warehouse, "select contact_id, transfers, resolved, _line from raw.contacts") == [("K1", 2, False, 1)]


def test_unknown_files_are_reported_not_loaded(exports: Path, warehouse: Path) -> None:
    write(exports / "notes.txt", "hello")
    report = load(warehouse, exports)
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


def manifest_counts(warehouse: Path, file_name: str) -> tuple[int, int, int]:
    (counts,) = rows(
        warehouse,
        f"select rows_read, rows_loaded, rows_quarantined from raw.load_manifest where file_name = '{file_name}'",
    )
    return counts


def test_ambiguous_amounts_and_amounts_beyond_cents_are_quarantined_never_guessed(
    exports: Path, warehouse: Path
) -> None:
    write(
        exports / "orders_comma.csv",
        ORDERS_HEADER
        + "O1,C1,2025-01-05,completed,12.50,,,\n"  # line 2: good
        + 'O2,C1,2025-01-05,completed,"1,234",,,\n'  # line 3: 1234 or 1.234?
        + "O3,C1,2025-01-05,completed,1.234,,,\n"  # line 4: the same with a point
        + "O4,C1,2025-01-05,completed,12.345,,,\n"  # line 5: 12345 or 12.345, either way not cents
        + 'O5,C1,2025-01-05,completed,"0,005",,,\n'  # line 6: beyond cents
        + "O6,C1,2025-01-05,completed,1234.5,0.500,,\n"  # line 7: good (trailing zeros change nothing)
        + "O7,C1,2025-01-05,completed,1234.567,,,\n",  # line 8: beyond cents
    )
    write(
        exports / "marketing_spend_semicolon.csv",
        "month;channel;amount;currency\n2025-01;paid_search;12,50;EUR\n2025-01;email;1.234;EUR\n",
    )
    pq.write_table(
        pa.table({"month": ["2025-02", "2025-03"], "channel": ["tv", "tv"], "amount": [1.234, 1234.0]}),
        exports / "marketing_spend_typed.parquet",
    )
    load(warehouse, exports)

    assert rows(warehouse, "select order_id, amount, discount_amount from raw.orders order by order_id") == [
        ("O1", Decimal("12.50"), None),
        ("O6", Decimal("1234.50"), Decimal("0.50")),
    ]
    assert rows(warehouse, "select file_name, line, reason from raw.quarantine order by file_name, line") == [
        ("marketing_spend_semicolon.csv", 3, AMBIGUOUS.format("1.234")),
        ("marketing_spend_typed.parquet", 1, "amount: more decimals than cents ('1.234')"),
        ("orders_comma.csv", 3, AMBIGUOUS.format("1,234")),
        ("orders_comma.csv", 4, AMBIGUOUS.format("1.234")),
        ("orders_comma.csv", 5, AMBIGUOUS.format("12.345")),
        ("orders_comma.csv", 6, "amount: more decimals than cents ('0,005')"),
        ("orders_comma.csv", 8, "amount: more decimals than cents ('1234.567')"),
    ]
    # a decimal comma in a ';' file still loads; a Parquet number has no separator to guess
    assert rows(warehouse, "select channel, amount from raw.marketing_spend order by channel") == [
        ("paid_search", Decimal("12.50")),
        ("tv", Decimal("1234.00")),
    ]
    assert manifest_counts(warehouse, "orders_comma.csv") == (7, 2, 5)
    assert manifest_counts(warehouse, "marketing_spend_semicolon.csv") == (2, 1, 1)
    assert manifest_counts(warehouse, "marketing_spend_typed.parquet") == (2, 1, 1)


def test_scores_and_counts_that_are_not_whole_numbers_are_quarantined_never_rounded(
    exports: Path, warehouse: Path
) -> None:
    write(
        exports / "survey_responses_halves.csv",
        "response_id,customer_id,responded_at,touchpoint_type,touchpoint_id,nps,ces,csat,comment\n"
        "R1,C1,2025-01-06,order,O1,7,4,5,\n"  # line 2: good
        "R2,C1,2025-01-06,order,O1,7.5,,,\n"  # line 3
        "R3,C1,2025-01-06,order,O1,,4.5,,\n"  # line 4
        'R4,C1,2025-01-06,order,O1,"8,5",,4.0,\n',  # line 5: 4.0 alone would be whole
    )
    write(
        exports / "contacts_halves.csv",
        "contact_id,customer_id,contacted_at,channel,transfers\n"
        "K1,C1,2025-01-06,phone,1.5\nK2,C1,2025-01-06,phone,2\nK3,C1,2025-01-06,chat,0.0\n",
    )
    load(warehouse, exports)

    assert rows(warehouse, "select file_name, line, reason from raw.quarantine order by file_name, line") == [
        ("contacts_halves.csv", 2, "transfers: not a whole number ('1.5')"),
        ("survey_responses_halves.csv", 3, "nps: not a whole number ('7.5')"),
        ("survey_responses_halves.csv", 4, "ces: not a whole number ('4.5')"),
        ("survey_responses_halves.csv", 5, "nps: not a whole number ('8,5')"),
    ]
    assert rows(warehouse, "select response_id, nps, ces, csat from raw.survey_responses") == [("R1", 7, 4, 5)]
    assert rows(warehouse, "select contact_id, transfers from raw.contacts order by contact_id") == [
        ("K2", 2),
        ("K3", 0),
    ]
    assert manifest_counts(warehouse, "survey_responses_halves.csv") == (4, 1, 3)
    assert manifest_counts(warehouse, "contacts_halves.csv") == (3, 2, 1)


def test_timestamps_outside_the_plausible_window_are_quarantined(exports: Path, warehouse: Path) -> None:
    write(
        exports / "orders_dates.csv",
        ORDERS_HEADER
        + "O1,C1,2025-03-05 10:00:00,completed,1,,,\n"  # line 2: good
        + "O2,C1,infinity,completed,1,,,\n"  # line 3
        + "O3,C1,epoch,completed,1,,,\n"  # line 4
        + "O4,C1,1900-01-01,completed,1,,,\n"  # line 5
        + "O5,C1,2999-01-01 10:00,completed,1,,,\n"  # line 6
        + "O6,C1,2000-01-01T00:00:00+01:00,completed,1,,,\n"  # line 7: good, first day of the window
        + "O7,C1,2025-03-31 23:59:59,completed,1,,,\n"  # line 8: good, last day of the window
        + "O8,C1,2025-04-01,completed,1,,,\n"  # line 9: a day too late
        + "O9,C1,1999-12-31T23:30:00Z,completed,1,,,\n",  # line 10: compared as written
    )
    load(warehouse, exports, PlausibleWindow(date(2000, 1, 1), date(2025, 3, 31)))

    window = "is outside the plausible window 2000-01-01 to 2025-03-31"
    assert rows(warehouse, "select line, reason from raw.quarantine order by line") == [
        (3, f"ordered_at: 'infinity' {window}"),
        (4, f"ordered_at: 'epoch' {window}"),
        (5, f"ordered_at: '1900-01-01' {window}"),
        (6, f"ordered_at: '2999-01-01 10:00' {window}"),
        (9, f"ordered_at: '2025-04-01' {window}"),
        (10, f"ordered_at: '1999-12-31T23:30:00Z' {window}"),
    ]
    assert rows(warehouse, "select order_id from raw.orders order by order_id") == [("O1",), ("O6",), ("O7",)]
    assert manifest_counts(warehouse, "orders_dates.csv") == (9, 3, 6)


def test_the_plausible_window_ends_the_day_after_the_load_day_by_default(exports: Path, warehouse: Path) -> None:
    tomorrow, later = date.today() + timedelta(days=1), date.today() + timedelta(days=2)
    write(
        exports / "customers_soon.csv",
        f"customer_id,created_at\nC1,{tomorrow} 23:00\nC2,{later} 00:00\nC3,1999-12-31\n",
    )
    load(
        warehouse,
        exports,
        PlausibleWindow.from_vars({"earliest_plausible_date": "1990-01-01", "days_after_load_day": 1}, date.today()),
    )
    assert rows(warehouse, "select customer_id from raw.customers order by 1") == [("C1",), ("C3",)]
    assert rows(warehouse, "select line, reason from raw.quarantine") == [
        (3, f"created_at: '{later} 00:00' is outside the plausible window 1990-01-01 to {tomorrow}")
    ]
    assert manifest_counts(warehouse, "customers_soon.csv") == (3, 2, 1)


def test_timestamps_with_a_time_zone_name_are_quarantined_not_read_as_reporting_time(
    exports: Path, warehouse: Path
) -> None:
    write(
        exports / "orders_zones.csv",
        ORDERS_HEADER
        + "O1,C1,2025-03-05 23:30:00+00:00,completed,1,,,\n"  # line 2: good, an offset
        + "O2,C1,2025-03-05 23:30:00 UTC,completed,1,,,\n"  # line 3
        + "O3,C1,2025-03-05 18:30:00 America/New_York,completed,1,,,\n"  # line 4
        + "O4,C1,2025-03-05T23:30:00Z,completed,1,,,\n"  # line 5: good, Z is an offset
        + "O5,C1,2025-03-05 10:00 CEST,completed,1,,,\n"  # line 6: DuckDB does not even read this one
        + "O6,C1,2025-03-05 10:00 PM,completed,1,,,\n",  # line 7: no zone, no ISO 8601 either
    )
    load(warehouse, exports)

    fix = "a time zone name is not accepted, write an offset such as +01:00"
    assert rows(warehouse, "select line, reason from raw.quarantine order by line") == [
        (3, f"ordered_at: {fix} ('2025-03-05 23:30:00 UTC')"),
        (4, f"ordered_at: {fix} ('2025-03-05 18:30:00 America/New_York')"),
        (6, f"ordered_at: {fix} ('2025-03-05 10:00 CEST')"),
        (7, "ordered_at: not a timestamp ('2025-03-05 10:00 PM')"),
    ]
    assert rows(warehouse, "select order_id, ordered_at from raw.orders order by order_id") == [
        ("O1", "2025-03-05 23:30:00+00:00"),
        ("O4", "2025-03-05T23:30:00Z"),
    ]
    assert manifest_counts(warehouse, "orders_zones.csv") == (6, 2, 4)


def test_a_file_that_cannot_be_read_is_rejected_by_name_and_the_others_still_load(
    exports: Path, warehouse: Path
) -> None:
    good = "O1,C1,2025-01-05,completed,1,,,\n"
    body = (ORDERS_HEADER + "".join(f"T{i},C1,2025-01-05,completed,1,,,\n" for i in range(20_000))).encode()
    compressed = gzip.compress(body)
    (exports / "orders_a_corrupt.csv.gz").write_bytes(b"not gzip at all\n")
    (exports / "orders_b_truncated.csv.gz").write_bytes(compressed[: len(compressed) // 2])
    write(exports / "orders_c_pos.csv", ORDERS_HEADER.strip() + ",_pos\n" + good.strip() + ",1\n")
    write(exports / "orders_d_load_id.csv", ORDERS_HEADER.strip() + ",_LOAD_ID\n" + good.strip() + ",1\n")
    pq.write_table(pa.table({"order_id": ["P1"], "_file": ["x.csv"]}), exports / "orders_e_file.parquet")
    (exports / "orders_f_garbage.parquet").write_bytes(b"PAR1 garbage")
    write(exports / "orders_g_good.csv", ORDERS_HEADER + good)
    report = load(warehouse, exports)

    reserved = "has a name the loader uses itself (_pos, _file, _line, _load_id, _loaded_at, _record, _reason)"
    results = {f.file_name: (f.status, f.message) for f in report.files}
    assert results["orders_a_corrupt.csv.gz"] == ("rejected", "unreadable file: Not a gzipped file (b'no')")
    assert results["orders_b_truncated.csv.gz"][0] == "rejected"
    assert results["orders_b_truncated.csv.gz"][1].startswith("unreadable file: IO Error: Unexpected end of GZIP")
    assert results["orders_c_pos.csv"] == ("rejected", f"file rejected: column _pos {reserved}; rename or drop it")
    assert results["orders_d_load_id.csv"] == (
        "rejected",
        f"file rejected: column _LOAD_ID {reserved}; rename or drop it",
    )
    assert results["orders_e_file.parquet"] == (
        "rejected",
        f"file rejected: column _file {reserved}; rename or drop it",
    )
    assert results["orders_f_garbage.parquet"][0] == "rejected"
    assert results["orders_f_garbage.parquet"][1].startswith("unreadable file: Invalid Input Error:")
    assert results["orders_g_good.csv"] == ("loaded", "")
    # every file is in the manifest with its reason; the good one loaded
    manifest = rows(
        warehouse, "select file_name, status, message, rows_read, rows_loaded, rows_quarantined from raw.load_manifest"
    )
    assert {(name, status, message) for name, status, message, *_ in manifest} == {
        (name, status, message or None) for name, (status, message) in results.items()
    }
    assert all(read == loaded + quarantined for *_, read, loaded, quarantined in manifest)
    assert rows(warehouse, "select order_id, _file from raw.orders") == [("O1", "orders_g_good.csv")]
    assert manifest_counts(warehouse, "orders_g_good.csv") == (1, 1, 0)


def test_a_directory_or_dangling_symlink_named_like_an_export_is_reported_as_ignored(
    exports: Path, warehouse: Path
) -> None:
    (exports / "orders_2025-01.csv").mkdir()
    (exports / "customers_2025-01.csv").symlink_to(exports / "gone.csv")
    (exports / "archive").mkdir()  # named like no export: not listed, as before
    write(exports / "orders_2025-02.csv", ORDERS_HEADER + "O1,C1,2025-02-05,completed,1,,,\n")
    report = load(warehouse, exports)

    assert [(f.file_name, f.entity, f.status, f.message) for f in report.files] == [
        (
            "customers_2025-01.csv",
            "customers",
            "ignored",
            f"a symbolic link to a file that does not exist ({exports / 'gone.csv'}); not loaded",
        ),
        ("orders_2025-01.csv", "orders", "ignored", "a directory, not an export file; not loaded"),
        ("orders_2025-02.csv", "orders", "loaded", ""),
    ]
    assert rows(warehouse, "select order_id from raw.orders") == [("O1",)]
    assert manifest_counts(warehouse, "orders_2025-02.csv") == (1, 1, 0)


def test_entities_without_exports_are_those_of_which_no_rows_were_ever_exported(exports: Path, warehouse: Path) -> None:
    """A header-only file is no export; a file whose rows were all quarantined, or a rejected file, is
    one (its data was lost on the way, which must fail validation, not pass as empty)."""
    write(exports / "orders_1.csv", "order_id,customer_id,ordered_at,status,amount\no1,c1,2025-01-02,completed,10.00\n")
    write(exports / "contacts_1.csv", "contact_id,customer_id,contacted_at,channel\n")  # header only
    write(exports / "survey_responses_1.csv", "response_id,customer_id,responded_at,touchpoint_type\nr1,,,order\n")
    write(exports / "customers_1.csv", "name\nAda\n")  # no customer_id: rejected
    report = load(warehouse, exports)
    assert report.by_status("rejected")[0].entity == "customers"
    assert report.not_exported == ["contacts", "marketing_spend"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert entities_without_exports(con) == ["contacts", "marketing_spend"]
        assert con.execute(
            "select rows_quarantined from raw.load_manifest where entity = 'survey_responses'"
        ).fetchone() == (1,)
    with duckdb.connect(str(warehouse.with_name("empty.duckdb"))) as con:
        assert entities_without_exports(con) == []  # no manifest: nothing is known, every entity counts as exported


def test_an_unterminated_quote_costs_its_own_line_only(exports: Path, warehouse: Path) -> None:
    """DuckDB reads the lines after an unterminated quote as one broken record; the loader
    quarantines the line the quote starts on and reads the rest again, record by record."""
    write(
        exports / "orders_quote.csv",
        ORDERS_HEADER
        + "O1,C1,2025-01-05,completed,1,,,\n"  # line 2: good
        + 'O2,C1,"2025-01-05,completed,1,,,\n'  # line 3: the quote never ends
        + "O3,C1,2025-01-06,completed,2,,,\n"  # line 4: good
        + "O4,C1,2025-01-07,shipped,3,,,\n",  # line 5: bad on its own
    )
    write(
        exports / "orders_quotes.csv.gz",  # two broken quotes, one closed by a quote further down
        ORDERS_HEADER
        + 'O5,"C1,2025-01-05,completed,1,,,\n'  # line 2
        + "O6,C1,2025-01-05,completed,1,,,\n"  # line 3: good
        + 'O7,C1,"2025-01-05",completed,1,,,web\n'  # line 4: good (its quote closes DuckDB's broken record)
        + 'O8,C1,2025-01-05,completed,"1,,,\n',  # line 5: unterminated at the end of the file
    )
    gz = exports / "orders_quotes.csv.gz"
    gz.write_bytes(gzip.compress(gz.read_bytes()))
    report = load(warehouse, exports)

    assert manifest_counts(warehouse, "orders_quote.csv") == (4, 2, 2)
    assert manifest_counts(warehouse, "orders_quotes.csv.gz") == (4, 2, 2)
    assert {f.file_name: f.rows_read for f in report.files} == {"orders_quote.csv": 4, "orders_quotes.csv.gz": 4}
    assert rows(warehouse, "select _file, order_id, _line from raw.orders order by _file, _line") == [
        ("orders_quote.csv", "O1", 2),
        ("orders_quote.csv", "O3", 4),
        ("orders_quotes.csv.gz", "O6", 3),
        ("orders_quotes.csv.gz", "O7", 4),
    ]
    unterminated = "malformed line: unterminated quote: a quoted value starts on this line and does not end on it"
    read_again = " (the lines after it are read as records of their own)"
    assert rows(warehouse, "select file_name, line, reason, record from raw.quarantine order by file_name, line") == [
        ("orders_quote.csv", 3, unterminated + read_again, 'O2,C1,"2025-01-05,completed,1,,,'),
        (
            "orders_quote.csv",
            5,
            "status: 'shipped' is not one of completed/cancelled/refunded",
            '{"order_id":"O4","customer_id":"C1","ordered_at":"2025-01-07","status":"shipped","amount":"3",'
            '"discount_amount":null,"currency":null,"channel":null}',
        ),
        ("orders_quotes.csv.gz", 2, unterminated + read_again, 'O5,"C1,2025-01-05,completed,1,,,'),
        ("orders_quotes.csv.gz", 5, unterminated, 'O8,C1,2025-01-05,completed,"1,,,'),
    ]


def test_quarantine_lines_are_physical_lines_after_quoted_line_breaks_and_blank_lines(
    exports: Path, warehouse: Path
) -> None:
    header = "response_id,customer_id,responded_at,touchpoint_type,touchpoint_id,nps,ces,csat,comment\n"
    write(
        exports / "survey_responses_comments.csv",
        header
        + 'R1,C1,2025-01-06,order,O1,9,,,"great\n\nservice,\nthanks"\n'  # lines 2-5: one record
        + "R2,C1,2025-01-06,order,O1,11,,,\n"  # line 6: out of range
        + "\n"  # line 7: blank, between records
        + "R3,C1,2025-01-06,order,O1,8,,,too,many\n"  # line 8: malformed
        + 'R4,C1,2025-01-06,order,O1,7,,,"a\r\nb"\n'  # lines 9-10 (a CRLF inside the value)
        + "R5,C1,2025-01-06,periodic,,7.5,,,\n"  # line 11: not a whole number
        + "R6,C1,2025-01-06,periodic,,6,,,\n\n\n",  # line 12: good; trailing blank lines
    )
    load(warehouse, exports)

    assert rows(warehouse, "select response_id, _line from raw.survey_responses order by _line") == [
        ("R1", 2),
        ("R4", 9),
        ("R6", 12),
    ]
    assert rows(warehouse, "select line, left(reason, 40) from raw.quarantine order by line") == [
        (6, "nps: 11 out of range (0-10)"),
        (8, "malformed line: Expected Number of Colum"),
        (11, "nps: not a whole number ('7.5')"),
    ]
    assert rows(warehouse, "select comment from raw.survey_responses where response_id = 'R1'") == [
        ("great\n\nservice,\nthanks",)
    ]
    assert manifest_counts(warehouse, "survey_responses_comments.csv") == (6, 3, 3)


def test_a_customer_id_that_is_an_e_mail_address_is_quarantined_in_every_entity(exports: Path, warehouse: Path) -> None:
    email = "customer_id looks like an e-mail address (personal data would be published in every mart)"
    write(
        exports / "customers_ids.csv",
        "customer_id,created_at,referred_by_customer_id\n"
        "ann@example.com,2025-01-05,\n"  # line 2
        "C2,2025-01-05,ann@example.com\n"  # line 3: the referrer's id is a customer_id too
        "C@3,2025-01-05,\n"  # line 4: an @ alone makes no e-mail address
        "0612345678,2025-01-05,C2\n",  # line 5: digits only: an id like any other (phone numbers are not guessed)
    )
    write(exports / "orders_ids.csv", ORDERS_HEADER + "O1, Bob.Smith@mail.example.org ,2025-01-05,completed,1,,,\n")
    write(exports / "contacts_ids.csv", "contact_id,customer_id,contacted_at,channel\nK1,a@b.eu,2025-01-05,phone\n")
    write(
        exports / "survey_responses_ids.csv",
        "response_id,customer_id,responded_at,touchpoint_type\nR1,a@b.eu,2025-01-05,periodic\nR2,C2,2025-01-05,periodic\n",
    )
    load(warehouse, exports)

    assert rows(warehouse, "select file_name, line, reason from raw.quarantine order by file_name, line") == [
        ("contacts_ids.csv", 2, email),
        ("customers_ids.csv", 2, email),
        ("customers_ids.csv", 3, email.replace("customer_id", "referred_by_customer_id", 1)),
        ("orders_ids.csv", 2, email),
        ("survey_responses_ids.csv", 2, email),
    ]
    assert rows(warehouse, "select customer_id from raw.customers order by 1") == [("0612345678",), ("C@3",)]
    assert rows(warehouse, "select customer_id from raw.survey_responses") == [("C2",)]
    assert manifest_counts(warehouse, "customers_ids.csv") == (4, 2, 2)


def test_months_outside_the_plausible_window_are_quarantined(exports: Path, warehouse: Path) -> None:
    write(
        exports / "marketing_spend_months.csv",
        "month,channel,amount\n"
        "2999-01,tv,1\n"  # line 2
        "1900-01,tv,1\n"  # line 3
        "2000-01,tv,1\n"  # line 4: the month of the earliest day
        "2025-03,tv,1\n"  # line 5: the month of the latest day
        "2025-04,tv,1\n"  # line 6: starts after the latest day
        "1999-12,tv,1\n",  # line 7
    )
    load(warehouse, exports, PlausibleWindow(date(2000, 1, 15), date(2025, 3, 1)))

    window = "is outside the plausible window 2000-01-15 to 2025-03-01"
    assert rows(warehouse, "select line, reason from raw.quarantine order by line") == [
        (2, f"month: '2999-01' {window}"),
        (3, f"month: '1900-01' {window}"),
        (6, f"month: '2025-04' {window}"),
        (7, f"month: '1999-12' {window}"),
    ]
    assert rows(warehouse, "select strftime(month, '%Y-%m') from raw.marketing_spend order by 1") == [
        ("2000-01",),
        ("2025-03",),
    ]


@pytest.mark.integration  # runs dbt parse
def test_the_plausible_window_comes_from_the_dbt_vars(tmp_path: Path) -> None:
    """dbt_project.yml's vars with --vars on top, as dbt resolves them (one dbt parse); a current
    manifest is reused: the parse's own, or the last build's."""
    from flows.dbt_artifacts import PARSE_FINGERPRINT, PARSE_FOLDER, project_vars
    from flows.transform import LAST_BUILD_FINGERPRINT, code_fingerprint

    target = tmp_path / "dbt"
    overrides = {"days_after_load_day": 3}
    resolved = project_vars(overrides, target)
    assert PlausibleWindow.from_vars(resolved, date(2026, 12, 1)) == PlausibleWindow(
        date(2000, 1, 1), date(2026, 12, 4)
    )
    assert (resolved["earliest_plausible_date"], resolved["days_after_load_day"]) == ("2000-01-01", 3)

    parsed = target / PARSE_FOLDER / "manifest.json"
    written = parsed.stat().st_mtime_ns
    assert project_vars(overrides, target) == resolved and parsed.stat().st_mtime_ns == written  # not parsed again
    # a build's manifest of the same code and vars is current too
    (target / "manifest.json").write_bytes(parsed.read_bytes())
    (target / LAST_BUILD_FINGERPRINT).write_text(code_fingerprint(overrides) + "\n")
    (target / PARSE_FOLDER / PARSE_FINGERPRINT).unlink()
    assert project_vars(overrides, target) == resolved and not (target / PARSE_FOLDER / PARSE_FINGERPRINT).exists()
    with pytest.raises(ValueError, match="earliest_plausible_date"):
        PlausibleWindow.from_vars({"days_after_load_day": 1}, date(2026, 12, 1))


def test_a_parquet_file_with_a_corrupt_page_is_rejected_and_the_others_load(exports: Path, warehouse: Path) -> None:
    """Parquet is read where it is checked: a page that does not decompress rejects its file there,
    before anything of it is written."""
    table = pa.table({"order_id": [f"O{i}" for i in range(5000)], "customer_id": ["C1"] * 5000})
    table = table.append_column("ordered_at", pa.array(["2025-01-05 10:00:00"] * 5000))
    table = table.append_column("status", pa.array(["completed"] * 5000))
    table = table.append_column("amount", pa.array([f"{i % 100}.25" for i in range(5000)]))
    pq.write_table(table, exports / "orders_a.parquet", compression="snappy")
    data = bytearray((exports / "orders_a.parquet").read_bytes())
    for at in range(len(data) // 4, len(data) // 4 + 400):  # inside the first column's pages, not the footer
        data[at] = (data[at] * 7 + 3) % 256
    (exports / "orders_a.parquet").write_bytes(bytes(data))
    write(exports / "orders_b.csv", ORDERS_HEADER + "O1,C1,2025-02-05,completed,1,,,\n")
    report = load(warehouse, exports)

    results = {f.file_name: (f.status, f.rows_read) for f in report.files}
    assert results == {"orders_a.parquet": ("rejected", 0), "orders_b.csv": ("loaded", 1)}
    assert report.files[0].message.startswith("unreadable file: ")
    assert rows(warehouse, "select order_id, _file from raw.orders") == [("O1", "orders_b.csv")]
    assert rows(warehouse, "select count(*) from raw.quarantine") == [(0,)]


def test_rows_of_an_erased_customer_are_quarantined_without_their_record(exports: Path, warehouse: Path) -> None:
    from flows.erasure import ERASED_REASON, ensure_erasure_log, erasure_key, keyed_hash_sql

    key = erasure_key(warehouse, create=True)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw")
        ensure_erasure_log(con)
        erased = keyed_hash_sql(key, "'C2'")
        con.execute(f"insert into raw.erasure_log select 'e1', now()::timestamp, {erased}, null, '{{}}'")
    write(
        exports / "orders_2025-01.csv",
        ORDERS_HEADER
        + "O1,C1,2025-01-05,completed,1,,,\n"
        + "O2, C2 ,2025-01-05,completed,2,,,\n"  # the erased customer (trimmed, as loaded)
        + "O3,C2,yesterday,completed,3,,,\n",  # erased and broken: both reasons, the erasure last
    )
    report = load(warehouse, exports)

    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 1, 2)
    assert rows(warehouse, "select order_id from raw.orders") == [("O1",)]
    assert rows(warehouse, "select line, reason, record from raw.quarantine order by line") == [
        (3, ERASED_REASON, None),
        (4, f"ordered_at: not a timestamp ('yesterday'); {ERASED_REASON}", None),
    ]


def test_a_file_is_read_again_only_when_its_stat_changed_or_was_too_fresh_to_trust(
    exports: Path, warehouse: Path
) -> None:
    """ContentHashes: a file whose stat is the one recorded when it was hashed, at least
    STAT_TRUST_MARGIN_NS after its last change, is not read (its remembered hash is used); a changed
    file, or one hashed right after a change (same time stamp tick), is read and hashed again."""
    from flows.ingest import STAT_TRUST_MARGIN_NS, ContentHashes, ensure_raw_schema, file_sha256

    path = write(exports / "orders_2025-01.csv", ORDERS_HEADER + "O1,C1,2025-01-05,completed,1,,,\n")
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_schema(con)

        def hash_now() -> str:
            hashes = ContentHashes(con, [path])
            try:
                return hashes.get(con, path)
            finally:
                hashes.close()

        assert hash_now() == file_sha256(path)
        # just written: too fresh to trust, hashed again (a remembered wrong hash would show)
        con.execute("update raw.file_hashes set content_hash = 'remembered'")
        assert hash_now() == file_sha256(path)
        # as if hashed long after its last change: the stat is trusted, the file is not read
        con.execute(
            f"update raw.file_hashes set content_hash = 'remembered', hashed_at_ns = ctime_ns + {STAT_TRUST_MARGIN_NS} + 1"
        )
        assert hash_now() == "remembered"
        # the same size, other content: its ctime (and mtime) moved, so it is read again
        path.write_text(ORDERS_HEADER + "O2,C1,2025-01-05,completed,1,,,\n", encoding="utf-8")
        assert hash_now() == file_sha256(path)
        assert con.execute("select count(*) from raw.file_hashes").fetchall() == [(1,)]


def test_remembered_hashes_are_those_of_the_current_export_files(
    exports: Path, warehouse: Path, tmp_path: Path
) -> None:
    """raw.file_hashes holds one row per export file of the last load of the whole folder: the hashes
    of a moved folder's old paths (or of a removed file) are forgotten, not kept run after run."""
    write(exports / "orders_2025-01.csv", ORDERS_HEADER + "O1,C1,2025-01-05,completed,1,,,\n")
    write(exports / "orders_2025-02.csv", ORDERS_HEADER + "O2,C1,2025-02-05,completed,1,,,\n")
    load(warehouse, exports)
    moved = tmp_path / "moved"
    shutil.copytree(exports, moved)
    (moved / "orders_2025-02.csv").unlink()
    load(warehouse, moved)
    assert rows(warehouse, "select file_path from raw.file_hashes") == [
        (str((moved / "orders_2025-01.csv").resolve()),)
    ]
