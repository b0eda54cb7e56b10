"""Tests of the sample-data generator (flows/sample_data): contract, determinism, behaviour."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from flows.sample_data import (
    ACQUISITION_CHANNELS,
    CONTACT_CHANNELS,
    CONTACT_REASONS,
    CURRENCIES,
    EXPORT_COLUMNS,
    ORDER_CHANNELS,
    ORDER_STATUSES,
    PAID_CHANNELS,
    TOUCHPOINT_TYPES,
    generate_exports,
    messy_rows_expected,
)
from flows.sample_data.names import name_pools

REQUIRED = {
    "customers": ("customer_id", "created_at"),
    "orders": ("order_id", "customer_id", "ordered_at", "status", "amount"),
    "contacts": ("contact_id", "customer_id", "contacted_at", "channel"),
    "marketing_spend": ("month", "channel", "amount"),
    "survey_responses": ("response_id", "customer_id", "responded_at", "touchpoint_type"),
}
KEYS = {
    "customers": "customer_id",
    "orders": "order_id",
    "contacts": "contact_id",
    "survey_responses": "response_id",
    "marketing_spend": "month || '/' || channel",
}
YEARLY = ("customers", "orders", "contacts", "survey_responses")
STAMPS_DEFAULT = ("2022-12-31", "2023-12-31", "2024-12-31", "2025-12-31", "2026-10-31")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _connect(directory: Path, ext: str = "csv") -> duckdb.DuckDBPyConnection:
    """A connection with one view per entity over all of its files, every column as text."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Europe/Amsterdam'")
    for entity in EXPORT_COLUMNS:
        pattern = str(directory / f"{entity}_*.{ext}")
        if ext == "csv":
            source = f"read_csv('{pattern}', header = true, all_varchar = true, quote = '\"', escape = '\"')"
        else:
            source = f"read_parquet('{pattern}')"
        con.execute(f"CREATE VIEW {entity} AS SELECT * FROM {source}")
    # Orders with their moment as local time (offsets converted), as the warehouse reads them.
    con.execute(
        "CREATE VIEW orders_local AS SELECT *, "
        "CAST(try_cast(ordered_at AS TIMESTAMPTZ) AS TIMESTAMP) AS ordered_local FROM orders"
    )
    return con


def _scalar(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("small")
    return out, generate_exports(out, customers=400, seed=7)


@pytest.fixture(scope="module")
def small_con(small: tuple[Path, dict[str, int]]) -> duckdb.DuckDBPyConnection:
    return _connect(small[0])


@pytest.fixture(scope="module")
def large_con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """A few thousand customers: enough for stable directions of behaviour."""
    out = tmp_path_factory.mktemp("large")
    generate_exports(out, customers=4_000, seed=2024)
    return _connect(out)


# --------------------------------------------------------------------------- determinism and files


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_same_seed_gives_identical_files_and_other_seed_differs(tmp_path: Path) -> None:
    generate_exports(tmp_path / "a", customers=300, seed=5)
    name_pools.cache_clear()  # the name pools must be rebuilt identically too
    generate_exports(tmp_path / "b", customers=300, seed=5)
    generate_exports(tmp_path / "c", customers=300, seed=6)
    a, b, c = (_files(tmp_path / x) for x in "abc")
    assert a == b
    assert a.keys() == c.keys()
    assert a["orders_2025-12-31.csv"] != c["orders_2025-12-31.csv"]
    assert a["customers_2022-12-31.csv"] != c["customers_2022-12-31.csv"]


def test_file_names_per_year_and_end(small: tuple[Path, dict[str, int]]) -> None:
    expected = {f"{e}_{s}.csv" for e in YEARLY for s in STAMPS_DEFAULT} | {"marketing_spend_2026-10-31.csv"}
    assert {p.name for p in small[0].iterdir()} == expected


def test_custom_period_names_and_bounds(tmp_path: Path) -> None:
    counts = generate_exports(tmp_path, customers=200, seed=3, start=date(2023, 3, 1), end=date(2024, 6, 30))
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {f"{e}_{s}.csv" for e in YEARLY for s in ("2023-12-31", "2024-06-30")} | {
        "marketing_spend_2024-06-30.csv"
    }
    con = _connect(tmp_path)
    assert counts["marketing_spend"] == 16 * len(PAID_CHANNELS)  # Mar 2023 .. Jun 2024
    for entity, column in (
        ("customers", "created_at"),
        ("contacts", "contacted_at"),
        ("survey_responses", "responded_at"),
    ):
        lo, hi = con.execute(f"SELECT min({column}::TIMESTAMP), max({column}::TIMESTAMP) FROM {entity}").fetchone()
        assert lo.date() >= date(2023, 3, 1) and hi.date() <= date(2024, 6, 30), entity
    lo, hi = con.execute("SELECT min(ordered_local), max(ordered_local) FROM orders_local").fetchone()
    assert lo.date() >= date(2023, 3, 1) and hi.date() <= date(2024, 6, 30)


def test_columns_match_the_data_contract() -> None:
    from flows import contract  # a broken import of the project's own module fails, never skips

    assert {e.name: tuple(e.column_names) for e in contract.ENTITIES} == EXPORT_COLUMNS
    for entity in contract.ENTITIES:
        assert tuple(entity.required) == REQUIRED[entity.name], entity.name


def test_each_file_has_the_contract_header(small: tuple[Path, dict[str, int]]) -> None:
    for path in small[0].iterdir():
        entity = path.name.rsplit("_", 1)[0]
        with path.open(encoding="utf-8") as handle:
            assert handle.readline().rstrip("\n") == ",".join(EXPORT_COLUMNS[entity]), path.name


def test_returned_counts_equal_rows_in_files(small: tuple[Path, dict[str, int]], small_con) -> None:
    counts = small[1]
    assert set(counts) == set(EXPORT_COLUMNS)
    for entity, n in counts.items():
        assert _scalar(small_con, f"SELECT count(*) FROM {entity}") == n, entity
        assert n > 0, entity


def test_parquet_holds_the_same_data_as_csv(tmp_path: Path) -> None:
    csv_counts = generate_exports(tmp_path / "csv", customers=300, seed=9)
    pq_counts = generate_exports(tmp_path / "pq", customers=300, seed=9, file_format="parquet")
    assert csv_counts == pq_counts
    assert {p.name.replace(".csv", ".parquet") for p in (tmp_path / "csv").iterdir()} == {
        p.name for p in (tmp_path / "pq").iterdir()
    }
    csv, pq = _connect(tmp_path / "csv"), _connect(tmp_path / "pq", "parquet")
    for entity, columns in EXPORT_COLUMNS.items():
        assert [d[0] for d in pq.execute(f"SELECT * FROM {entity} LIMIT 0").description] == list(columns)
        order = ", ".join(columns)
        assert (
            csv.execute(f"SELECT * FROM {entity} ORDER BY {order}").fetchall()
            == pq.execute(f"SELECT * FROM {entity} ORDER BY {order}").fetchall()
        ), entity


# --------------------------------------------------------------------------- the contract


@pytest.mark.parametrize("entity", list(EXPORT_COLUMNS))
def test_required_fields_are_filled_and_keys_unique(small_con, entity: str) -> None:
    for column in REQUIRED[entity]:
        assert _scalar(small_con, f"SELECT count(*) FROM {entity} WHERE coalesce({column}, '') = ''") == 0, column
    assert _scalar(small_con, f"SELECT count(*) - count(DISTINCT {KEYS[entity]}) FROM {entity}") == 0


def test_id_formats(small_con) -> None:
    checks = {
        "customers": ("customer_id", "^C[0-9]{7}$"),
        "orders": ("order_id", "^O[0-9]{8}$"),
        "contacts": ("contact_id", "^K[0-9]{7}$"),
        "survey_responses": ("response_id", "^R[0-9]{7}$"),
        "marketing_spend": ("month", "^[0-9]{4}-(0[1-9]|1[0-2])$"),
    }
    for entity, (column, pattern) in checks.items():
        assert _scalar(small_con, f"SELECT count(*) FROM {entity} WHERE NOT regexp_matches({column}, '{pattern}')") == 0


def test_references_exist(small_con) -> None:
    for entity in ("orders", "contacts", "survey_responses"):
        missing = f"SELECT count(*) FROM {entity} WHERE customer_id NOT IN (SELECT customer_id FROM customers)"
        assert _scalar(small_con, missing) == 0, entity
    assert (
        _scalar(
            small_con,
            """
        SELECT count(*) FROM survey_responses s
        WHERE (touchpoint_type = 'order' AND touchpoint_id NOT IN (SELECT order_id FROM orders))
           OR (touchpoint_type = 'contact' AND touchpoint_id NOT IN (SELECT contact_id FROM contacts))
           OR (touchpoint_type = 'periodic' AND touchpoint_id IS NOT NULL)""",
        )
        == 0
    )
    # A survey is answered by the customer of its touchpoint, after it and within about a week.
    assert (
        _scalar(
            small_con,
            """
        SELECT count(*) FROM survey_responses s
        JOIN (SELECT order_id AS id, customer_id, ordered_local AS at FROM orders_local
              UNION ALL SELECT contact_id, customer_id, contacted_at::TIMESTAMP FROM contacts) t
          ON t.id = s.touchpoint_id
        WHERE s.customer_id <> t.customer_id
           OR s.responded_at::TIMESTAMP <= t.at
           OR s.responded_at::TIMESTAMP > t.at + INTERVAL 8 DAY""",
        )
        == 0
    )


def test_referrals_point_to_earlier_ordering_customers(small_con) -> None:
    assert (
        _scalar(
            small_con,
            """
        SELECT count(*) FROM customers
        WHERE (acquisition_channel = 'referral') <> (referred_by_customer_id IS NOT NULL)""",
        )
        == 0
    )
    assert _scalar(small_con, "SELECT count(*) FROM customers WHERE referred_by_customer_id IS NOT NULL") > 0
    assert (
        _scalar(
            small_con,
            """
        SELECT count(*) FROM customers c
        WHERE referred_by_customer_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM orders_local o
            WHERE o.customer_id = c.referred_by_customer_id AND o.ordered_local < c.created_at::TIMESTAMP)""",
        )
        == 0
    )


def test_allowed_values(small_con) -> None:
    checks = [
        ("customers", f"acquisition_channel IS NOT NULL AND acquisition_channel NOT IN {_in(ACQUISITION_CHANNELS)}"),
        ("customers", "NOT regexp_matches(country, '^[A-Z]{2}$')"),
        ("customers", "email IS NOT NULL AND NOT regexp_matches(email, '^[a-z]+\\.[a-z]+[0-9]+@[a-z.]+$')"),
        ("orders", f"status NOT IN {_in(ORDER_STATUSES)}"),
        ("orders", f"channel NOT IN {_in(ORDER_CHANNELS)}"),
        ("orders", f"currency IS NOT NULL AND currency NOT IN {_in(CURRENCIES)}"),
        ("orders", "NOT regexp_matches(amount, '^[0-9]+\\.[0-9]{2}$')"),
        ("orders", "NOT regexp_matches(discount_amount, '^[0-9]+\\.[0-9]{2}$')"),
        ("contacts", f"channel NOT IN {_in(CONTACT_CHANNELS)}"),
        ("contacts", f"reason IS NOT NULL AND reason NOT IN {_in(CONTACT_REASONS)}"),
        ("contacts", "try_cast(transfers AS INTEGER) IS NULL OR transfers::INTEGER NOT BETWEEN 0 AND 4"),
        ("contacts", "resolved NOT IN ('true', 'false')"),
        ("marketing_spend", f"channel NOT IN {_in(PAID_CHANNELS)} OR currency <> 'EUR'"),
        ("marketing_spend", "NOT regexp_matches(amount, '^[0-9]+\\.[0-9]{2}$')"),
        ("survey_responses", f"touchpoint_type NOT IN {_in(TOUCHPOINT_TYPES)}"),
        ("survey_responses", "nps::INTEGER NOT BETWEEN 0 AND 10"),
        ("survey_responses", "ces::INTEGER NOT BETWEEN 1 AND 7"),
        ("survey_responses", "csat::INTEGER NOT BETWEEN 1 AND 5"),
        ("survey_responses", "touchpoint_type = 'periodic' AND (ces IS NOT NULL OR csat IS NOT NULL)"),
        ("survey_responses", "nps IS NULL AND ces IS NULL AND csat IS NULL AND touchpoint_type <> 'periodic'"),
    ]
    for entity, bad in checks:
        assert _scalar(small_con, f"SELECT count(*) FROM {entity} WHERE {bad}") == 0, (entity, bad)
    # Cross-currency orders only for customers in a country with that currency (USD aside).
    assert (
        _scalar(
            small_con,
            """
        SELECT count(*) FROM orders o JOIN customers c USING (customer_id)
        WHERE currency IN ('GBP', 'SEK', 'DKK', 'PLN', 'CHF')
          AND (currency, country) NOT IN
              (('GBP', 'GB'), ('SEK', 'SE'), ('DKK', 'DK'), ('PLN', 'PL'), ('CHF', 'CH'))""",
        )
        == 0
    )


def test_timestamps_parse_and_orders_follow_creation(small_con) -> None:
    for entity, column in (
        ("customers", "created_at"),
        ("orders", "ordered_at"),
        ("contacts", "contacted_at"),
        ("survey_responses", "responded_at"),
    ):
        assert _scalar(small_con, f"SELECT count(*) FROM {entity} WHERE try_cast({column} AS TIMESTAMPTZ) IS NULL") == 0
    with_offset = _scalar(
        small_con, "SELECT avg(regexp_matches(ordered_at, '(Z|[+-][0-9]{2}:[0-9]{2})$')::INT) FROM orders"
    )
    assert 0 < with_offset < 0.15
    assert (
        _scalar(
            small_con,
            """
        SELECT count(*) FROM orders_local o JOIN customers c USING (customer_id)
        WHERE o.ordered_local::DATE < c.created_at::TIMESTAMP::DATE""",
        )
        == 0
    )
    assert (
        _scalar(
            small_con,
            """
        SELECT count(*) FROM survey_responses WHERE regexp_matches(responded_at, '[TZ+]')""",
        )
        == 0
    )


# --------------------------------------------------------------------------- behaviour (directions)


def test_unresolved_contacts_with_transfers_score_lower(large_con) -> None:
    means = dict(
        large_con.execute("""
        SELECT c.resolved = 'true', avg(s.nps::INTEGER)
        FROM survey_responses s JOIN contacts c ON c.contact_id = s.touchpoint_id
        WHERE c.resolved = 'true' OR c.transfers::INTEGER > 0
        GROUP BY 1""").fetchall()
    )
    assert means[False] < means[True] - 0.5  # unresolved after transfers vs resolved
    ces = dict(
        large_con.execute("""
        SELECT c.transfers::INTEGER >= 2, avg(s.ces::INTEGER)
        FROM survey_responses s JOIN contacts c ON c.contact_id = s.touchpoint_id GROUP BY 1""").fetchall()
    )
    assert ces[True] < ces[False]


def test_promoters_repurchase_more_than_detractors(large_con) -> None:
    share = dict(
        large_con.execute("""
        WITH first_nps AS (
            SELECT customer_id, nps::INTEGER AS nps, responded_at::TIMESTAMP AS at
            FROM survey_responses WHERE nps IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY responded_at, response_id) = 1
        )
        SELECT CASE WHEN nps >= 9 THEN 'promoter' WHEN nps <= 6 THEN 'detractor' ELSE 'passive' END,
               avg(EXISTS (SELECT 1 FROM orders_local o
                           WHERE o.customer_id = f.customer_id AND o.ordered_local > f.at)::INT)
        FROM first_nps f GROUP BY 1""").fetchall()
    )
    assert share["promoter"] > share["detractor"]
    assert share["detractor"] > 0.3  # loosely: plenty of unhappy customers still come back


def test_refunds_and_unhappy_customers(large_con) -> None:
    nps = dict(
        large_con.execute("""
        SELECT o.status, avg(s.nps::INTEGER) FROM survey_responses s
        JOIN orders o ON o.order_id = s.touchpoint_id GROUP BY 1""").fetchall()
    )
    assert nps["refunded"] < nps["completed"]
    assert "cancelled" not in nps


def test_shape_of_the_business(large_con) -> None:
    prospects = _scalar(
        large_con,
        """
        SELECT avg((customer_id NOT IN (SELECT customer_id FROM orders))::INT) FROM customers""",
    )
    assert 0.05 < prospects < 0.25
    per_buyer = _scalar(large_con, "SELECT count(*) / count(DISTINCT customer_id) FROM orders")
    assert 5 < per_buyer < 14
    by_year = dict(
        large_con.execute("SELECT year(created_at::TIMESTAMP), count(*) FROM customers GROUP BY 1").fetchall()
    )
    assert by_year[2025] > by_year[2022]  # growth
    by_month = dict(
        large_con.execute("SELECT month(created_at::TIMESTAMP), count(*) FROM customers GROUP BY 1").fetchall()
    )
    assert by_month[12] > by_month[7]  # seasonality
    statuses = dict(
        large_con.execute("SELECT status, count(*) / sum(count(*)) OVER () FROM orders GROUP BY 1").fetchall()
    )
    assert 0.01 < statuses["cancelled"] < 0.1 and 0.01 < statuses["refunded"] < 0.1
    contacts_per_order = _scalar(large_con, "SELECT (SELECT count(*) FROM contacts) / (SELECT count(*) FROM orders)")
    assert 0.15 < contacts_per_order < 0.5
    # Spend follows acquisitions: the channel bringing more customers costs more in total.
    spend = dict(large_con.execute("SELECT channel, sum(amount::DOUBLE) FROM marketing_spend GROUP BY 1").fetchall())
    assert spend["paid_search"] > spend["email"]


def test_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_exports(tmp_path, customers=0)
    with pytest.raises(ValueError):
        generate_exports(tmp_path, customers=10, start=date(2025, 1, 1), end=date(2024, 1, 1))
    with pytest.raises(ValueError):
        generate_exports(tmp_path, customers=10, file_format="xlsx")


def test_messy_exports_quarantine_exactly_their_bad_rows(tmp_path: Path) -> None:
    """--messy writes hand-made ';' exports with decimal commas: their good rows load with the
    right amounts, and each bad row lands in quarantine with its own reason."""
    from flows.ingest import PlausibleWindow, load_exports

    exports = tmp_path / "exports"
    generate_exports(exports, customers=30, seed=3, start=date(2024, 1, 1), end=date(2024, 6, 30), messy=True)
    warehouse = tmp_path / "w.duckdb"
    report = load_exports(
        warehouse, exports, run_id="messy", window=PlausibleWindow(date(2000, 1, 1), date(2030, 1, 1))
    )
    assert report.rows_read == report.rows_loaded + report.rows_quarantined
    with duckdb.connect(str(warehouse), read_only=True) as con:
        quarantined = con.execute("select file_name, reason from raw.quarantine order by file_name, line").fetchall()
        amounts = con.execute(
            "select order_id, amount, discount_amount from raw.orders where order_id like 'M-%' order by 1"
        ).fetchall()
    expected = messy_rows_expected()
    bad = [(entity, reason) for entity, rows in expected.items() for _, reason in rows if reason]
    assert len(quarantined) == len(bad) == 6
    for (file_name, reason), (entity, fragment) in zip(quarantined, bad):
        assert file_name == f"{entity}_2024-06-30_spreadsheet.csv"
        assert fragment in reason, (fragment, reason)
    from decimal import Decimal

    assert amounts == [("M-0001", Decimal("49.95"), Decimal("5.00")), ("M-0002", Decimal("12.50"), None)]
