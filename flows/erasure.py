"""Right to erasure (GDPR art. 17): remove every personal datum of given customers from the warehouse.

`erase_customers` works on the build warehouse, in one transaction:

- `raw`: every version of the customers' CRM records keeps only what the figures need (created_at,
  country, acquisition channel) under a *tombstone key* (`erased-<random>`, one per customer, derived
  from nothing: it cannot be linked back to the id); e-mail and name are cleared. Their orders,
  contacts and survey answers move to the tombstone key, survey comments are cleared, and referrals
  to them point to the tombstone. So the audit figures of closed periods stay what they were.
- `raw.quarantine`: every quarantined record that names the customer (id, e-mail or name) is deleted.
- `marts.customer_persona_history` (kept across full refreshes): moved to the tombstone key.
- `raw.erasure_log`: one row per customer with a keyed hash of the id (the key lives beside the
  warehouse, `<warehouse>.erasure-key`, not in it), the date, the reason and the rows touched; no
  personal data. The loader quarantines a later export row of an erased customer with reason `erased`.

The file is then rewritten into a fresh DuckDB file (no deleted bytes survive in free blocks) through
the same connection (the warehouse is opened once: a lock error can only come before anything is
changed, so the CLI waits for the lock and simply tries again, flows/file_lock.py), and
the models of staging, intermediate and marts (but the persona history) are dropped before that: the
caller rebuilds every model from raw (`--full-refresh`), validates and publishes a new file.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from flows.duckdb_connection import connect
from flows.sql import quote_literal

RAW_SCHEMA = "raw"
ERASED_REASON = "erased: the customer's data was erased on request (GDPR art. 17); not loaded again"
#: Entities whose rows belong to a customer, and their free-text columns (cleared).
CUSTOMER_ENTITIES = {"orders": (), "contacts": (), "survey_responses": ("comment",)}


@dataclass
class ErasureReport:
    customers: int
    unknown_ids: list[str] = field(default_factory=list)  # not found anywhere in raw (nothing to erase)
    rows_touched: dict[str, int] = field(default_factory=dict)


def key_file(warehouse: Path) -> Path:
    return Path(str(warehouse) + ".erasure-key")


def erasure_key(warehouse: Path, create: bool = False) -> str | None:
    """The secret of the keyed hashes (hex), from `<warehouse>.erasure-key`; created (mode 0600) if asked."""
    path = key_file(warehouse)
    if path.exists():
        return path.read_text().strip()
    if not create:
        return None
    key = secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key


def keyed_hash_sql(key: str, column: str) -> str:
    """SQL for the keyed hash of a customer id (sha256 of the key and the id): the loader and the log agree."""
    return f"sha256({quote_literal(key)} || {column})"


def ensure_erasure_log(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"""create table if not exists {RAW_SCHEMA}.erasure_log (
              erasure_id varchar not null,
              erased_at timestamp not null,
              customer_key_hash varchar not null,
              reason varchar,
              rows_touched varchar not null
            )"""
    )


#: A quarantined record names a customer when one of their identifiers is a whole value of it: a JSON
#: string value of a parsed row, or anywhere in a malformed line kept as text.
MATCH = (
    "(contains(quarantine.record, '\"' || _identifiers.value || '\"') "
    "or (not coalesce(json_valid(quarantine.record), false) and contains(quarantine.record, _identifiers.value)))"
)


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchone()[0])


def erase_customers(warehouse: Path, customer_ids: list[str], reason: str = "") -> ErasureReport:
    """Erase the customers' personal data from the build warehouse (see the module docstring)."""
    ids = sorted({c.strip() for c in customer_ids if c and c.strip()})
    if not ids:
        raise ValueError("no customer id given")
    if not Path(warehouse).exists():
        raise FileNotFoundError(f"build warehouse {warehouse} does not exist")
    key = erasure_key(warehouse, create=True)
    assert key is not None
    report = ErasureReport(customers=len(ids))
    with connect(str(warehouse)) as con:
        ensure_erasure_log(con)
        con.execute("begin transaction")
        try:
            con.execute("create temp table _erased (customer_id varchar, tombstone varchar)")
            con.executemany("insert into _erased values (?, ?)", [[c, f"erased-{uuid.uuid4().hex[:16]}"] for c in ids])
            found = {
                r[0]
                for r in con.execute(
                    " union ".join(
                        f"select customer_id from {RAW_SCHEMA}.{e} where customer_id in (select customer_id from _erased)"
                        for e in ("customers", *CUSTOMER_ENTITIES)
                    )
                ).fetchall()
            }
            report.unknown_ids = [c for c in ids if c not in found]
            # what identifies them in free text: id, e-mail and name of every CRM version
            con.execute(
                f"""create temp table _identifiers as
                    select customer_id as value from _erased
                    union select email from {RAW_SCHEMA}.customers
                          where customer_id in (select customer_id from _erased) and nullif(trim(email), '') is not null
                    union select full_name from {RAW_SCHEMA}.customers
                          where customer_id in (select customer_id from _erased)
                            and length(trim(full_name)) >= 3"""
            )
            report.rows_touched["quarantine"] = _count(
                con,
                f"""select count(*) from {RAW_SCHEMA}.quarantine
                    where exists (select 1 from _identifiers where {MATCH})""",
            )
            con.execute(
                f"""delete from {RAW_SCHEMA}.quarantine
                    where exists (select 1 from _identifiers where {MATCH})"""
            )
            report.rows_touched["customers"] = _count(
                con,
                f"select count(*) from {RAW_SCHEMA}.customers where customer_id in (select customer_id from _erased)",
            )
            con.execute(
                f"""update {RAW_SCHEMA}.customers set
                      customer_id = (select tombstone from _erased where _erased.customer_id = customers.customer_id),
                      email = null, full_name = null
                    where customer_id in (select customer_id from _erased)"""
            )
            report.rows_touched["referrals"] = _count(
                con,
                f"""select count(*) from {RAW_SCHEMA}.customers
                    where referred_by_customer_id in (select customer_id from _erased)""",
            )
            con.execute(
                f"""update {RAW_SCHEMA}.customers set referred_by_customer_id =
                      (select tombstone from _erased where _erased.customer_id = customers.referred_by_customer_id)
                    where referred_by_customer_id in (select customer_id from _erased)"""
            )
            for entity, free_text in CUSTOMER_ENTITIES.items():
                cleared = "".join(f", {column} = null" for column in free_text)
                report.rows_touched[entity] = _count(
                    con,
                    f"select count(*) from {RAW_SCHEMA}.{entity} where customer_id in (select customer_id from _erased)",
                )
                con.execute(
                    f"""update {RAW_SCHEMA}.{entity} set
                          customer_id = (select tombstone from _erased where _erased.customer_id = {entity}.customer_id)
                          {cleared}
                        where customer_id in (select customer_id from _erased)"""
                )
            has_history = _count(
                con,
                """select count(*) from information_schema.tables
                   where table_schema = 'marts' and table_name = 'customer_persona_history'""",
            )
            if has_history:
                report.rows_touched["customer_persona_history"] = _count(
                    con,
                    """select count(*) from marts.customer_persona_history
                       where customer_id in (select customer_id from _erased)""",
                )
                con.execute(
                    """update marts.customer_persona_history set customer_id =
                         (select tombstone from _erased where _erased.customer_id = customer_persona_history.customer_id)
                       where customer_id in (select customer_id from _erased)"""
                )
            # the models are rebuilt from raw by the caller: dropped here, so that the fresh file
            # written below holds no copy of the erased values (the persona history is kept, moved)
            for schema, table, kind in con.execute(
                """select table_schema, table_name, table_type from information_schema.tables
                   where table_catalog = current_database() and table_schema in ('staging', 'intermediate', 'marts')
                     and not (table_schema = 'marts' and table_name = 'customer_persona_history')"""
            ).fetchall():
                con.execute(f'drop {"view" if kind == "VIEW" else "table"} "{schema}"."{table}"')
            erasure_id = uuid.uuid4().hex[:12]
            con.execute(
                f"""insert into {RAW_SCHEMA}.erasure_log
                    select ?, ?, {keyed_hash_sql(key, "customer_id")}, ?, ? from _erased""",
                [erasure_id, datetime.now(UTC).replace(tzinfo=None), reason, json.dumps(report.rows_touched)],
            )
            # the tombstones are not kept anywhere: nothing links them back to the ids
            con.execute("drop table _erased")
            con.execute("drop table _identifiers")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        rewrite_without_free_blocks(con, Path(warehouse))
    return report


def rewrite_without_free_blocks(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    """Copy the database of `con` (the open `warehouse`) into a fresh file and swap it in: updated and
    deleted values can survive in a DuckDB file's free blocks until they are reused; a fresh copy
    holds only the live rows. The copy is made through the erasure's own connection, so the
    warehouse is opened once: no other process can take it between the erasure and the copy."""
    fresh = warehouse.with_name(f".{warehouse.name}.{uuid.uuid4().hex[:8]}.erasing")
    try:
        database = con.execute("select current_database()").fetchone()[0]
        con.execute(f"attach {quote_literal(str(fresh))} as fresh")
        try:
            con.execute(f"copy from database {database} to fresh")
            con.execute("checkpoint fresh")
        finally:
            con.execute("detach fresh")
        con.close()
        os.replace(fresh, warehouse)
        Path(str(warehouse) + ".wal").unlink(missing_ok=True)
    finally:
        fresh.unlink(missing_ok=True)
        Path(str(fresh) + ".wal").unlink(missing_ok=True)
