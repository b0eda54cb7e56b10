"""Incremental runs give exactly what a full refresh gives.

Day 1: generated exports up to a cutoff date are loaded and built. Day 2 brings the records after
the cutoff (new orders, contacts, survey answers and customers) and hand-written files: a corrected
old order (refunded), an old order moved to another customer (its old customer is left without
orders), an old order with a corrected amount, a late survey answer, a corrected old contact and a
new customer with an order. The day-2 build is incremental; then a copy of the warehouse is rebuilt
with --full-refresh on the same raw data, and every table of staging, intermediate and marts must
hold exactly the same rows in both (compared in SQL with EXCEPT ALL both ways, no rounding).
dbt runs through flows.transform.build, the pipeline's own path.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from flows import ingest, transform
from flows.config import Paths
from flows.sample_data import generate_exports, hold_back_after
from tests.python import parse_state
from tests.python.conftest import skip_unit_tests_of_this_code

pytestmark = pytest.mark.integration

CUTOFF = date(2025, 6, 27)
DAY_2 = (CUTOFF + timedelta(days=1)).isoformat()
COMPARED_SCHEMAS = ("staging", "intermediate", "marts")

#: Tables that are deliberately not identical after a full refresh, with the reason. Extend it
#: when a model keeps history that a full refresh must not rebuild (e.g. a monthly snapshot that
#: survives full refreshes); never to hide a difference.
NOT_COMPARED: dict[str, str] = {
    "marts.customer_persona_history": "a monthly snapshot kept across runs and full refreshes on purpose "
    "(full_refresh: false): its rows are what earlier runs saw, which a rebuild cannot reproduce",
    "marts.persona_transitions": "built from marts.customer_persona_history",
}

#: Tables that are empty on the default vars, with the reason: compared all the same (both must be
#: empty), but their emptiness proves nothing.
EMPTY_BY_DEFAULT: dict[str, str] = {
    "marts.clv_holdout_validation": "no holdout unless var clv_calibration_end lies before the as-of date "
    "(tests/python/test_clv_cdnow.py builds one)",
}

#: Incremental models: every one of them must be among the compared tables.
INCREMENTAL_MODELS = {
    "staging.stg_crm__orders",
    "staging.stg_crm__order_versions",
    "staging.stg_crm__contacts",
    "staging.stg_survey__survey_responses",
    "intermediate.int_customer_order_days_aggregated",
    "intermediate.int_customer_periods_aggregated",
    "intermediate.int_customer_orders_aggregated",
    "intermediate.int_customer_order_costs_aggregated",
    "intermediate.int_survey_responses_categorized",
    "marts.orders",
}


@dataclass
class Scenario:
    incremental: Path  # built on day 1, then incrementally on day 2
    full_refresh: Path  # a copy of `incremental` after day 2, rebuilt with --full-refresh
    day_1_audit_figures: list[tuple]
    changed_orders: dict[str, str]  # order_id -> what the day-2 correction did
    changed_dates: list[date]  # order dates touched by the corrections (old and new versions)
    builds: dict[str, transform.DbtResult]  # day 1, day 2 (incremental), full refresh
    late_crm_record: str  # customer with day-1 orders whose CRM record arrives on day 2


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def build(warehouse: Path, full_refresh: bool = False) -> transform.DbtResult:
    return transform.build(warehouse, warehouse.with_suffix(".dbt"), full_refresh=full_refresh, quiet=True)


def reuse_unit_tests(warehouse: Path) -> None:
    """The session's run passes dbt's unit tests on this very code: the code's fingerprint in the target
    folder makes the builds below skip them (their outcome depends on the code only), without waiting
    for that run (conftest.skip_unit_tests_of_this_code)."""
    skip_unit_tests_of_this_code(warehouse.with_suffix(".dbt"))


def write_day_2_corrections(warehouse: Path, folder: Path) -> tuple[dict[str, str], list[date]]:
    """Hand-written day-2 files that change old records; returns the orders changed and their dates."""
    header = "order_id,customer_id,ordered_at,status,amount,discount_amount,currency,channel\n"

    def order_line(row: tuple, **changes: object) -> str:
        values = dict(zip(("order_id", "customer_id", "ordered_at", "status", "amount", "channel"), row))
        values.update(changes)
        return (
            f"{values['order_id']},{values['customer_id']},{values['ordered_at']},{values['status']},"
            f"{values['amount']},0,EUR,{values['channel']}\n"
        )

    order_columns = (
        "order_id, customer_id, strftime(ordered_at, '%Y-%m-%d %H:%M:%S'), order_status, amount, sales_channel"
    )
    # a completed order of a customer with several orders, in spring 2024: refunded on day 2
    refunded = query(
        warehouse,
        f"""
        select {order_columns} from staging.stg_crm__orders
        where order_status = 'completed' and original_currency = 'EUR' and order_date between '2024-04-01' and '2024-04-30'
          and customer_id in (select customer_id from staging.stg_crm__orders group by 1 having count(*) >= 3)
        order by order_id limit 1""",
    )[0]
    # the only order of a one-order customer: moved to another customer on day 2
    single = query(
        warehouse,
        f"""
        select {order_columns} from staging.stg_crm__orders
        where order_status = 'completed' and original_currency = 'EUR' and order_date between '2024-06-01' and '2024-09-30'
          and customer_id in (select customer_id from staging.stg_crm__orders group by 1 having count(*) = 1)
        order by order_id limit 1""",
    )[0]
    other_customer = query(
        warehouse, "select min(customer_id) from staging.stg_crm__customers where customer_id <> ?", [single[1]]
    )[0][0]
    # an order of late 2024 whose amount is corrected
    repriced = query(
        warehouse,
        f"""
        select {order_columns} from staging.stg_crm__orders
        where order_status = 'completed' and original_currency = 'EUR' and order_date between '2024-11-01' and '2024-11-30'
        order by order_id limit 1""",
    )[0]
    (folder / f"orders_{DAY_2}_corrections.csv").write_text(
        header
        + order_line(refunded, status="refunded")
        + order_line(single, customer_id=other_customer)
        + order_line(repriced, amount=f"{repriced[4] + 10:.2f}")
        + f"O99999001,C9999999,{DAY_2} 10:00:00,completed,123.45,0,EUR,web\n",
        encoding="utf-8",
    )
    (folder / f"customers_{DAY_2}_new.csv").write_text(
        "customer_id,created_at,email,full_name,country,acquisition_channel,referred_by_customer_id\n"
        f"C9999999,{DAY_2} 09:00:00,new.customer@example.com,New Customer,NL,organic,\n",
        encoding="utf-8",
    )
    # a survey answer given in March 2025 that only arrives on day 2
    answered = query(
        warehouse,
        """
        select customer_id, order_id from staging.stg_crm__orders
        where order_status = 'completed' and order_date between '2025-03-01' and '2025-03-31' order by order_id limit 1""",
    )[0]
    (folder / f"survey_responses_{DAY_2}_late.csv").write_text(
        "response_id,customer_id,responded_at,touchpoint_type,touchpoint_id,nps,ces,csat,comment\n"
        f"R9999001,{answered[0]},2025-03-31 12:00:00,order,{answered[1]},3,,2,Late answer\n",
        encoding="utf-8",
    )
    # an old contact corrected: unresolved after all
    contact = query(
        warehouse,
        """
        select contact_id, customer_id, strftime(contacted_at, '%Y-%m-%d %H:%M:%S'), contact_channel, transfers
        from staging.stg_crm__contacts where is_resolved and contact_date between '2024-05-01' and '2024-05-31'
        order by contact_id limit 1""",
    )[0]
    (folder / f"contacts_{DAY_2}_corrections.csv").write_text(
        "contact_id,customer_id,contacted_at,channel,reason,transfers,resolved\n"
        f"{contact[0]},{contact[1]},{contact[2]},{contact[3]},other,{contact[4]},false\n",
        encoding="utf-8",
    )
    changed = {
        refunded[0]: "refunded",
        single[0]: f"moved from {single[1]} to {other_customer}",
        repriced[0]: "amount + 10",
    }
    dates = [date.fromisoformat(row[2][:10]) for row in (refunded, single, repriced)]
    return changed, dates


def hold_back_crm_record(customers_file: Path, later_file: Path) -> str:
    """Move the CRM record of a 2024 customer with orders from the history to a day-2 file."""
    with duckdb.connect() as con:
        con.execute(f"create table records as select * from read_csv('{customers_file}', all_varchar = true)")
        orders = customers_file.parent / "orders_*.csv"
        customer_id = con.execute(
            f"select min(customer_id) from records where customer_id in (select customer_id from read_csv('{orders}', all_varchar = true))"
        ).fetchone()[0]
        later_file.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"copy (select * from records where customer_id = '{customer_id}') to '{later_file}' (header)")
        con.execute(f"copy (select * from records where customer_id <> '{customer_id}') to '{customers_file}' (header)")
    return customer_id


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    root = tmp_path_factory.mktemp("incremental")
    exports, day_2 = root / "exports", root / "day_2"
    generate_exports(exports, customers=600, seed=23, start=date(2023, 1, 1), end=date(2025, 6, 30))
    moved = hold_back_after(exports, CUTOFF, day_2)
    assert moved.get("orders", 0) > 0 and moved.get("customers", 0) > 0
    late_record = hold_back_crm_record(
        exports / "customers_2024-12-31.csv", day_2 / f"customers_{DAY_2}_late_record.csv"
    )

    warehouse = root / "incremental.duckdb"
    reuse_unit_tests(warehouse)
    window = ingest.PlausibleWindow(date(2000, 1, 1), date.today() + timedelta(days=1))
    ingest.load_exports(warehouse, exports, run_id="day-1", window=window)
    builds = {"day 1": build(warehouse)}
    assert query(
        warehouse, f"select bool_or(is_customer_in_crm) from marts.orders where customer_id = '{late_record}'"
    ) == [(False,)]
    day_1_audit_figures = query(
        warehouse, "select * exclude (as_of_date) from marts.customer_audit_figures where is_complete"
    )

    changed_orders, changed_dates = write_day_2_corrections(warehouse, day_2)
    for path in sorted(day_2.iterdir()):
        shutil.copy(path, exports / path.name)
    report = ingest.load_exports(warehouse, exports, run_id="day-2", window=window)
    assert {f.file_name for f in report.by_status("loaded")} == {p.name for p in day_2.iterdir()}
    builds["day 2"] = build(warehouse)

    # the copy keeps the file name (DuckDB's database name) in a folder of its own, and the day-2 target
    # folder with its parse state made the copy's: no second full parse of the project
    full_refresh = root / "full_refresh" / warehouse.name
    full_refresh.parent.mkdir()
    shutil.copy(warehouse, full_refresh)
    shutil.copytree(warehouse.with_suffix(".dbt"), full_refresh.with_suffix(".dbt"))
    assert parse_state.retarget(full_refresh.with_suffix(".dbt"), warehouse, full_refresh)
    builds["full refresh"] = build(full_refresh, full_refresh=True)
    return Scenario(warehouse, full_refresh, day_1_audit_figures, changed_orders, changed_dates, builds, late_record)


def tables(path: Path) -> list[str]:
    schemas = ", ".join(f"'{s}'" for s in COMPARED_SCHEMAS)
    rows = query(
        path,
        f"select table_schema || '.' || table_name from information_schema.tables where table_schema in ({schemas}) order by 1",
    )
    return [r[0] for r in rows]


def differences(left: Path, right: Path, table: str, limit: int = 3) -> tuple[int, int, list[tuple], list[tuple]]:
    """Row counts of `table` in both files, and rows of each that the other does not have
    (EXCEPT ALL: exact values, duplicates counted)."""
    with duckdb.connect() as con:
        con.execute(f"attach '{left}' as a (read_only)")
        con.execute(f"attach '{right}' as b (read_only)")
        counts = [con.execute(f"select count(*) from {db}.{table}").fetchone()[0] for db in ("a", "b")]
        only_a = con.execute(
            f"select * from (select * from a.{table} except all select * from b.{table}) limit {limit}"
        ).fetchall()
        only_b = con.execute(
            f"select * from (select * from b.{table} except all select * from a.{table}) limit {limit}"
        ).fetchall()
    return counts[0], counts[1], only_a, only_b


def test_the_incremental_models_are_built_incrementally(scenario: Scenario) -> None:
    # each incremental model's rows carry the load they came from: day 2's loads are in them
    day_2_loads = query(scenario.incremental, "select min(load_id) from raw.load_manifest where run_id = 'day-2'")[0][0]
    for table in sorted(INCREMENTAL_MODELS):
        assert query(scenario.incremental, f"select count(*) from {table} where load_id >= {day_2_loads}")[0][0] > 0, (
            table
        )


def test_the_same_code_builds_incrementally_without_unit_tests(scenario: Scenario) -> None:
    # day 1 and day 2: the code and vars whose unit tests the session's run passes (the first
    # build of new code, with unit tests, is checked in test_pipeline and in
    # test_new_code_in_a_target_folder_builds_fully_with_unit_tests); then --full-refresh
    day_1, day_2, refresh = (scenario.builds[k] for k in ("day 1", "day 2", "full refresh"))
    assert not day_1.code_changed and day_1.unit_tests_skipped and day_1.count("unit_test") == 0
    # a full refresh of the same code does not run the unit tests again
    assert refresh.full_refresh and not refresh.code_changed and refresh.count("unit_test") == 0
    assert not day_2.full_refresh and not day_2.code_changed
    assert day_2.unit_tests_skipped and day_2.count("unit_test") == 0
    assert day_2.count("test", "pass") > 0  # data tests run on every build
    # day 1 (no earlier build) and the full refresh build everything; day 2 only what is downstream
    # of the sources that got files (no marketing spend on day 2): its marts equal the full refresh's
    assert day_1.selection == [] and refresh.selection == []
    assert day_2.selection == [
        "source:crm.contacts+",
        "source:crm.customers+",
        "source:crm.orders+",
        "source:survey.survey_responses+",
    ]
    assert not any(n.name == "stg_crm__marketing_spend" for n in day_2.nodes)
    assert transform.code_fingerprint({"churn_window_days": 180}) != transform.code_fingerprint()


def test_an_incremental_run_gives_what_a_full_refresh_gives(scenario: Scenario) -> None:
    incremental, full = tables(scenario.incremental), tables(scenario.full_refresh)
    assert incremental == full
    assert INCREMENTAL_MODELS <= set(incremental)
    assert {"marts.customers", "marts.orders", "marts.customer_audit_figures"} <= set(incremental)
    different = {}
    for table in incremental:
        if table in NOT_COMPARED:
            continue
        rows_incremental, rows_full, only_incremental, only_full = differences(
            scenario.incremental, scenario.full_refresh, table
        )
        assert rows_incremental > 0 or table in EMPTY_BY_DEFAULT, (
            f"{table} is empty: the comparison would prove nothing"
        )
        if rows_incremental != rows_full or only_incremental or only_full:
            different[table] = (rows_incremental, rows_full, only_incremental, only_full)
    assert not different, "\n".join(
        f"{t}: {a} rows incremental, {b} full refresh; only incremental {oi}; only full refresh {of}"
        for t, (a, b, oi, of) in different.items()
    )


def test_day_2_corrections_reached_the_marts(scenario: Scenario) -> None:
    statuses = dict(
        query(
            scenario.incremental,
            "select order_id, order_status from marts.orders where order_id in ({})".format(
                ", ".join(f"'{o}'" for o in scenario.changed_orders)
            ),
        )
    )
    assert sorted(statuses.values()).count("refunded") == 1
    moved_from = next(v for v in scenario.changed_orders.values() if v.startswith("moved")).split()[2]
    # the customer left without orders is no longer a buying customer, in order days or the mart
    assert query(
        scenario.incremental,
        f"select count(*) from intermediate.int_customer_order_days_aggregated where customer_id = '{moved_from}'",
    ) == [(0,)]
    assert query(
        scenario.incremental, f"select is_customer from marts.customers where customer_id = '{moved_from}'"
    ) == [(False,)]
    assert query(
        scenario.incremental, "select is_customer, first_order_date from marts.customers where customer_id = 'C9999999'"
    ) == [(True, date.fromisoformat(DAY_2))]
    assert query(
        scenario.incremental, "select count(*) from staging.stg_survey__survey_responses where response_id = 'R9999001'"
    ) == [(1,)]
    assert query(
        scenario.incremental,
        f"select bool_and(is_customer_in_crm) from marts.orders where customer_id = '{scenario.late_crm_record}'",
    ) == [(True,)]


def test_closed_periods_change_only_when_their_data_changed(scenario: Scenario) -> None:
    """A figure of a period only depends on orders up to the period's end, so a closed period that
    ends before the earliest changed order keeps every figure; the periods of the changes differ."""
    columns = [
        r[0]
        for r in query(
            scenario.incremental,
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'customer_audit_figures' "
            "and column_name <> 'as_of_date' order by ordinal_position",
        )
    ]
    period_end = columns.index("period_end")
    key = (columns.index("period_grain"), columns.index("period_start"))
    day_2 = {
        (r[key[0]], r[key[1]]): r
        for r in query(scenario.incremental, f"select {', '.join(columns)} from marts.customer_audit_figures")
    }
    earliest_change = min(scenario.changed_dates)
    unchanged, changed = 0, 0
    for row in scenario.day_1_audit_figures:
        now = day_2[(row[key[0]], row[key[1]])]
        if row[period_end] < earliest_change:
            assert now == row, f"closed period {row[key[0]]} {row[key[1]]} changed without a change in its data"
            unchanged += 1
        elif any(row[key[1]] <= d <= row[period_end] for d in scenario.changed_dates):
            changed += now != row
    assert unchanged >= 12  # 2023 and early 2024: every month, quarter and the year 2023
    assert changed >= 3  # the months of the corrected orders, at least


def test_new_code_in_a_target_folder_builds_fully_with_unit_tests(sample_run: Paths) -> None:
    """The session's run was the first build of this code: a full refresh whose unit tests passed
    (dbt's run_results.json of that build), which wrote the fingerprint the later builds reuse."""
    import json

    results = json.loads((sample_run.dbt_target / "run_results.json").read_text())["results"]
    unit_tests = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit_tests) >= 30 and {r["status"] for r in unit_tests} == {"pass"}
    fingerprint = (sample_run.dbt_target / transform.LAST_BUILD_FINGERPRINT).read_text().strip()
    assert fingerprint == transform.code_fingerprint()
