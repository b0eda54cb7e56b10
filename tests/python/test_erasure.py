"""Right to erasure (GDPR art. 17): `python -m flows erase --customer ID` on a copy of the session run.

Every table of both warehouse files (build and published) and the published Parquet files are
searched for the erased customer's id, e-mail and name; older releases of the publication are
deleted; the audit figures of closed periods stay what they were; the erasure log holds no personal
data; a later export of the customer is quarantined as `erased`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from flows.config import Paths
from flows.publish import publish_marts
from flows.release import Layout
from tests.python.conftest import copy_paths, run_on

pytestmark = pytest.mark.e2e

CLOSED_AUDIT_FIGURES = "select * exclude (as_of_date) from marts.customer_audit_figures where is_complete order by all"


def rows(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def places_holding(path: Path, values: list[str]) -> list[str]:
    """schema.table.column of every text column of every table in `path` with a value equal to one of
    `values`, or containing one as a quoted JSON string or (e-mail, name) anywhere."""
    with duckdb.connect(str(path), read_only=True) as con:
        return holding(con, values)


def parquet_holding(folder: Path, values: list[str]) -> list[str]:
    """places_holding for the Parquet files of a release folder (each file a view)."""
    with duckdb.connect() as con:
        for path in sorted((folder / "parquet").glob("*.parquet")):
            con.execute(f"create view \"{path.stem}\" as select * from read_parquet('{path}')")
        return holding(con, values)


def holding(con: duckdb.DuckDBPyConnection, values: list[str]) -> list[str]:
    """places_holding on an open connection."""
    found = []
    columns = con.execute(
        """select table_schema, table_name, column_name from information_schema.columns
           where data_type = 'VARCHAR' and table_schema not in ('information_schema', 'pg_catalog')"""
    ).fetchall()
    for schema, table, column in columns:
        ref = f'"{schema}"."{table}"."{column}"'
        conditions = " or ".join(
            f"{ref} = ${i} or contains({ref}, '\"' || ${i} || '\"')" + (f" or contains({ref}, ${i})" if i > 1 else "")
            for i in range(1, len(values) + 1)
        )
        count = con.execute(f'select count(*) from "{schema}"."{table}" where {conditions}', values).fetchone()[0]
        if count:
            found.append(f"{schema}.{table}.{column} ({count})")
    return found


def write_later_export(exports: Path, customer_id: str, email: str, full_name: str) -> None:
    """A CRM record and an order of the customer in new export files, as a later delivery brings them."""
    (exports / "customers_2099-01-01_again.csv").write_text(
        "customer_id,created_at,email,full_name,country,acquisition_channel,referred_by_customer_id\n"
        f"{customer_id},2025-12-01 10:00:00,{email},{full_name},NL,organic,\n",
        encoding="utf-8",
    )
    (exports / "orders_2099-01-01_again.csv").write_text(
        "order_id,customer_id,ordered_at,status,amount,discount_amount,currency,channel\n"
        f"O99999999,{customer_id},2025-12-30 10:00:00,completed,10.00,0,EUR,web\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def erased(sample_run: Paths, tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> dict:
    paths = copy_paths(sample_run, tmp_path_factory.mktemp("erasure"))
    # a customer with completed orders, a survey answer with a comment and a service contact
    [(customer_id, email, full_name)] = rows(
        paths.warehouse,
        """select customer_id, email, full_name from raw.customers
           where customer_id in (select customer_id from raw.orders where status = 'completed'
                                 group by 1 having count(*) >= 3)
             and customer_id in (select customer_id from raw.survey_responses where comment is not null)
             and customer_id in (select customer_id from raw.contacts)
             and email is not null and full_name is not null
           order by customer_id limit 1""",
    )
    identity = [customer_id, email, full_name]
    before = {
        "closed": rows(paths.published, CLOSED_AUDIT_FIGURES),
        "in_build": places_holding(paths.warehouse, identity),
        "in_published": places_holding(paths.published, identity),
    }
    # an earlier release in the publication's layout (the copy's published file is a plain file, the
    # older layout): its DuckDB and Parquet files hold the customer, and must go with the erasure
    earlier = publish_marts(paths.warehouse, paths.published, run_id="before-erasure", state="before")
    before["in_earlier_parquet"] = parquet_holding(earlier, identity)
    write_later_export(paths.exports, customer_id, email, full_name)
    result = run_on("erase", paths, "--customer", customer_id, "--reason", "ticket 42", api_url=prefect_api)
    return {"paths": paths, "identity": identity, "before": before, "result": result}


def test_erase_removes_the_customer_from_every_table_of_both_files(erased: dict) -> None:
    paths, identity, result = erased["paths"], erased["identity"], erased["result"]
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    assert "Erased 1 customer(s)" in result.stdout and "Published marts" in result.stdout
    # the search finds them before (so it can find them at all), and nowhere after
    assert any(p.startswith("raw.customers.email") for p in erased["before"]["in_build"])
    assert any(p.startswith("marts.customers.customer_id") for p in erased["before"]["in_published"])
    assert places_holding(paths.warehouse, identity) == []
    assert places_holding(paths.published, identity) == []
    # the publication's older releases are deleted; the new one's Parquet files do not hold them either
    assert any(p.startswith("main.customers.customer_id") for p in erased["before"]["in_earlier_parquet"])
    [release] = Layout.of(paths.published).release_folders()
    assert release == Path(os.path.realpath(Layout.of(paths.published).current))
    assert parquet_holding(release, identity) == []
    # nor in the bytes of the files (no old value left in free blocks)
    for path in (paths.warehouse, paths.published):
        assert identity[1].encode() not in path.read_bytes(), path


def test_the_closed_periods_keep_their_audit_figures(erased: dict) -> None:
    assert erased["result"].returncode == 0
    assert rows(erased["paths"].published, CLOSED_AUDIT_FIGURES) == erased["before"]["closed"]


def test_the_erasure_log_holds_no_personal_data(erased: dict) -> None:
    paths, customer_id = erased["paths"], erased["identity"][0]
    [(key_hash, reason, touched)] = rows(
        paths.warehouse, "select customer_key_hash, reason, rows_touched from raw.erasure_log"
    )
    assert reason == "ticket 42" and len(key_hash) == 64 and customer_id not in key_hash
    touched = json.loads(touched)
    assert touched["orders"] >= 3 and touched["survey_responses"] >= 1 and touched["contacts"] >= 1
    assert touched["customers"] >= 1
    # the key of the keyed hash is beside the warehouse, not in it
    assert Path(str(paths.warehouse) + ".erasure-key").is_file()


def test_a_later_export_of_the_erased_customer_is_quarantined_not_loaded(erased: dict) -> None:
    """The export files written after the erasure request (in the fixture) are loaded by the erase's
    own run, after raw was erased: their rows of the customer are quarantined, without their record."""
    paths = erased["paths"]
    assert erased["result"].returncode == 0
    reasons = rows(
        paths.warehouse, "select entity, reason, record from raw.quarantine where file_name like '%_again.csv'"
    )
    assert sorted(entity for entity, _, _ in reasons) == ["customers", "orders"]
    assert all(reason.startswith("erased") and record is None for _, reason, record in reasons)
    assert rows(paths.published, "select count(*) from marts.orders where order_id = 'O99999999'") == [(0,)]
    assert rows(paths.warehouse, "select count(*) from raw.orders where order_id = 'O99999999'") == [(0,)]
