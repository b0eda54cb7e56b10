"""Load raw export files into the `raw` schema of the DuckDB warehouse.

Each file is read by DuckDB's own readers (`read_csv` with rejects, `read_parquet`),
checked against the data contract (`flows.contract`) in one set-based query, and
then, in one transaction per file:

- the rows that keep the contract are appended to `raw.<entity>` with the file and the physical
  line they start on (flows/csv_lines.py: also after quoted line breaks; an unterminated quote
  costs its own line only);
- the rows that break it go to `raw.quarantine` with the file, line and every reason; a value
  that would have to be guessed, rounded or reinterpreted (`1,234`, `0,005`, NPS `7.5`, a year
  2999, a zone name) breaks it too: nothing is loaded as a different value; so does a customer_id
  that is an e-mail address (it would be published in every mart);
- one row in `raw.load_manifest` records the file's content hash and its counts, where
  rows_read = rows_loaded + rows_quarantined always holds.

A file that cannot be read (a corrupt `.csv.gz`, a header using a loader column name) is rejected
with its reason in the manifest, and the other files still load. A file whose content hash is
already in the manifest is skipped, so re-running a load never double counts. Raw tables keep
every version of a record; staging keeps the latest (the row from the file loaded last wins, by key).

An entity of which no file with rows was ever loaded or rejected (`entities_without_exports`) has
no export: the company does not export it (no survey tool, no service desk, ...). Its marts are
published empty and validated as such; an entity whose rows were exported but lost on the way
(quarantined, rejected) is not one of them.
"""

from __future__ import annotations

import csv
import hashlib
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from flows.contract import ENTITIES, Column, Entity, entity_for_file
from flows.csv_lines import UnreadableCsv, drop_incoming, read_csv_export
from flows.duckdb_connection import connect
from flows.sql import quote_identifier, quote_literal

RAW_SCHEMA = "raw"
#: A number with one separator followed by exactly three digits and at most three digits before it
#: (`1,234`, `1.234`, `12.345`): a thousands separator or a decimal one, nobody can tell.
AMBIGUOUS_NUMBER = r"[+-]?[1-9][0-9]{0,2}[.,][0-9]{3}"
#: A number with a non-zero digit after the cents (`1234.567`, `0,005`): never rounded.
BEYOND_CENTS = r"[+-]?[0-9]*[.,][0-9]{2}0*[1-9][0-9]*"
#: An e-mail address (`ann@example.com`), as a customer_id: it would be published in every mart.
EMAIL_ADDRESS = r"[^@\s]+@[^@\s]+\.[^@\s]+"
#: A timestamp with a time zone name or abbreviation after the date (`... UTC`, `... America/New_York`).
ZONE_NAME = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*[A-Za-z]{2,}.*"
#: ... but not a 12-hour clock (`10:00 PM`), which is simply not a timestamp.
TWELVE_HOUR_CLOCK = r"(?i).*[0-9]\s*[ap]\.?m\.?"
#: Column names the loader gives its own columns (temp tables and raw): a file that uses one is rejected.
RESERVED_COLUMNS = ("_pos", "_file", "_line", "_load_id", "_loaded_at", "_record", "_reason")
#: What reading a file that cannot be read raises (corrupt or truncated gzip, not UTF-8, not a CSV).
UNREADABLE = (duckdb.Error, OSError, EOFError, ValueError, UnicodeError, zlib.error, csv.Error)
TRUE_WORDS = ("true", "t", "1", "yes", "y")
FALSE_WORDS = ("false", "f", "0", "no", "n")

SQL_TYPES = {
    "text": "varchar",
    "timestamp": "varchar",  # kept as exported: staging interprets offsets and the reporting time zone
    "decimal": "decimal(18, 2)",
    "integer": "integer",
    "boolean": "boolean",
    "month": "date",
    "enum": "varchar",
    "currency": "varchar",
}


@dataclass(frozen=True)
class PlausibleWindow:
    """The days a timestamp or month a person means can fall on, both included. A timestamp
    outside them (`infinity`, `epoch`, year 1900 or 2999) is quarantined: one order dated 2999
    would move the as-of date of every figure. Compared as written (an offset is not applied); a
    month is inside when one of its days is. Set by the dbt vars `earliest_plausible_date` and
    `days_after_load_day` (`from_vars`)."""

    earliest: date
    latest: date

    @classmethod
    def from_vars(cls, dbt_vars: Mapping[str, Any], load_day: date) -> PlausibleWindow:
        """The window of a load on `load_day` under the run's dbt vars (`dbt_artifacts.project_vars`)."""
        try:
            earliest = date.fromisoformat(str(dbt_vars["earliest_plausible_date"]))
            after = int(dbt_vars["days_after_load_day"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                "dbt vars earliest_plausible_date (YYYY-MM-DD) and days_after_load_day (whole days) "
                f"are needed for the loader's plausibility window: {exc}"
            ) from None
        return cls(earliest, load_day + timedelta(days=after))


class RejectedFile(ValueError):
    """A file the loader does not read, with the reason (`file rejected: ...`)."""


@dataclass
class FileResult:
    """What happened to one export file."""

    file_name: str
    entity: str | None
    status: str  # loaded | rejected | skipped (already loaded) | ignored (not an export)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""
    load_id: int | None = None


@dataclass
class LoadReport:
    files: list[FileResult] = field(default_factory=list)
    #: entities of which the warehouse has no export at all (`entities_without_exports`), after the load
    not_exported: list[str] = field(default_factory=list)

    def by_status(self, status: str) -> list[FileResult]:
        return [f for f in self.files if f.status == status]

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- schema


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema, one table per entity, the manifest and the quarantine."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for entity in ENTITIES:
        columns = ",\n  ".join(f"{quote_identifier(c.name)} {SQL_TYPES[c.kind]}" for c in entity.columns)
        con.execute(
            f"""
            create table if not exists {RAW_SCHEMA}.{entity.name} (
              {columns},
              _load_id integer not null,
              _file varchar not null,
              _line bigint not null,
              _loaded_at timestamp not null
            )"""
        )
        # a column the contract gained later (orders.cost_amount) is added to a warehouse made before it
        for c in entity.columns:
            con.execute(
                f"alter table {RAW_SCHEMA}.{entity.name} add column if not exists {quote_identifier(c.name)} {SQL_TYPES[c.kind]}"
            )
    con.execute(
        f"""
        create table if not exists {RAW_SCHEMA}.load_manifest (
          load_id integer primary key,
          run_id varchar,
          entity varchar not null,
          file_name varchar not null,
          file_path varchar not null,
          content_hash varchar not null,
          file_bytes bigint not null,
          status varchar not null,
          rows_read bigint not null,
          rows_loaded bigint not null,
          rows_quarantined bigint not null,
          message varchar,
          loaded_at timestamp not null
        )"""
    )
    con.execute(
        f"""
        create table if not exists {RAW_SCHEMA}.quarantine (
          load_id integer not null,
          entity varchar not null,
          file_name varchar not null,
          line bigint,
          reason varchar not null,
          record varchar,
          quarantined_at timestamp not null
        )"""
    )


def entities_without_exports(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The entities (in contract order) of which raw.load_manifest records no file with rows read
    and no rejected file, over every load: the company does not export them, so their marts are
    empty by design. A file that was read and quarantined whole, or rejected, is an export (its
    data was lost on the way, which must fail validation). Without a manifest: none (nothing is
    known, so every entity is treated as exported)."""
    try:
        exported = {
            row[0]
            for row in con.execute(
                f"select distinct entity from {RAW_SCHEMA}.load_manifest where rows_read > 0 or status = 'rejected'"
            ).fetchall()
        }
    except duckdb.CatalogException:
        return []
    return [entity.name for entity in ENTITIES if entity.name not in exported]


# --------------------------------------------------------------------------- checks


def _value(column: Column) -> str:
    """The raw text of a column: trimmed, empty as null."""
    return f"nullif(trim({quote_identifier(column.name)}), '')"


def _parsed(column: Column) -> str:
    """SQL expression for the typed value of a column (null where it does not parse)."""
    v = _value(column)
    if column.kind == "decimal":
        # Accept a decimal comma ("12,50") as European exports write it; no thousands separators.
        return (
            f"try_cast(case when regexp_full_match({v}, '-?[0-9]+,[0-9]+') "
            f"then replace({v}, ',', '.') else {v} end as decimal(18, 2))"
        )
    if column.kind == "integer":
        # DuckDB rounds '7.5' to 8: a fraction that is not zero is no whole number, never rounded.
        return f"case when not regexp_matches({v}, '[.,][0-9]*[1-9]') then try_cast({v} as integer) end"
    if column.kind == "boolean":
        trues = ", ".join(quote_literal(w) for w in TRUE_WORDS)
        falses = ", ".join(quote_literal(w) for w in FALSE_WORDS)
        return f"case when lower({v}) in ({trues}) then true when lower({v}) in ({falses}) then false end"
    if column.kind == "month":
        return f"case when regexp_full_match({v}, '[0-9]{{4}}-[0-9]{{2}}') then try_cast({v} || '-01' as date) end"
    if column.kind == "enum":
        return f"lower({v})"
    if column.kind == "currency":
        return f"upper({v})"
    return v  # text and timestamp stay text


def _reasons(column: Column, window: PlausibleWindow, native: bool = False) -> list[str]:
    """SQL expressions that give a reason string when the column breaks the contract, else null.
    `native`: the file stored the column as a number (Parquet), so its text is DuckDB's rendering,
    which has a decimal point and no thousands separator. `window`: the plausible days of timestamps
    and months."""
    v = _value(column)
    shown = f"left({v}, 40)"
    name = column.name
    reasons: list[str] = []
    if column.required:
        reasons.append(f"case when {v} is null then 'missing required field {name}' end")
    if column.kind == "decimal":
        # Never a guess, never rounded: `1,234` may be 1234 or 1.234, and `0,005` is not in cents.
        ambiguous = "false" if native else f"regexp_full_match({v}, {quote_literal(AMBIGUOUS_NUMBER)})"
        reasons.append(
            f"case when {ambiguous} then '{name}: ambiguous separator (''' || {shown} || '''): "
            f"a thousands separator or more decimals than cents' "
            f"when regexp_full_match({v}, {quote_literal(BEYOND_CENTS)}) "
            f"then '{name}: more decimals than cents (''' || {shown} || ''')' end"
        )
    # (a 12-hour clock, `10:00 PM`, is no zone: it stays "not a timestamp")
    zone_named = (
        f"(regexp_full_match({v}, {quote_literal(ZONE_NAME)}) "
        f"and not regexp_full_match({v}, {quote_literal(TWELVE_HOUR_CLOCK)}))"
    )
    if column.kind == "timestamp":
        # DuckDB reads `UTC`, `PST`, `America/New_York` (and `IST` as India, `Etc/GMT+1` as UTC-1), but
        # staging converts offsets only: a zone name would be read as reporting time, on the wrong day.
        reasons.append(
            f"case when {zone_named} then '{name}: a time zone name is not accepted, "
            f"write an offset such as +01:00 (''' || {shown} || ''')' end"
        )
    bad = {
        "timestamp": (f"try_cast({v} as timestamptz) is null and not {zone_named}", "not a timestamp"),
        "decimal": (f"{_parsed(column)} is null", "not a number"),
        "integer": (f"{_parsed(column)} is null", "not a whole number"),
        "boolean": (f"{_parsed(column)} is null", "not a boolean"),
        "month": (f"{_parsed(column)} is null", "not a month (YYYY-MM)"),
        "currency": (f"not regexp_full_match({v}, '[A-Za-z]{{3}}')", "not an ISO 4217 currency code"),
    }
    if column.kind in bad:
        condition, label = bad[column.kind]
        reasons.append(f"case when {v} is not null and {condition} then '{name}: {label} (''' || {shown} || ''')' end")
    outside = f"is outside the plausible window {window.earliest.isoformat()} to {window.latest.isoformat()}"
    if column.kind == "timestamp":
        written = f"try_cast({v} as timestamp)"  # the clock as written: DuckDB ignores an offset here
        reasons.append(
            f"case when {written} < timestamp '{window.earliest.isoformat()}' "
            f"or {written} >= timestamp '{(window.latest + timedelta(days=1)).isoformat()}' "
            f"then '{name}: ''' || {shown} || ''' {outside}' end"
        )
    if column.kind == "month":  # inside when one of its days is
        month = _parsed(column)
        reasons.append(
            f"case when {month} < date_trunc('month', date '{window.earliest.isoformat()}') "
            f"or {month} > date '{window.latest.isoformat()}' then '{name}: ''' || {shown} || ''' {outside}' end"
        )
    if column.customer_id:
        reasons.append(
            f"case when regexp_full_match({v}, {quote_literal(EMAIL_ADDRESS)}) then '{name} looks like an e-mail "
            f"address (personal data would be published in every mart)' end"
        )
    if column.kind == "enum":
        allowed = ", ".join(quote_literal(a) for a in column.allowed)
        reasons.append(
            f"case when {v} is not null and lower({v}) not in ({allowed}) "
            f"then '{name}: ''' || {shown} || ''' is not one of {'/'.join(column.allowed)}' end"
        )
    if column.minimum is not None or column.maximum is not None:
        parsed = _parsed(column)
        lo = "-infinity" if column.minimum is None else column.minimum
        hi = "infinity" if column.maximum is None else column.maximum
        conditions = []
        if column.minimum is not None:
            conditions.append(f"{parsed} < {column.minimum}")
        if column.maximum is not None:
            conditions.append(f"{parsed} > {column.maximum}")
        span = f"{lo:g}-{hi:g}" if column.maximum is not None else f">= {lo:g}"
        reasons.append(
            f"case when {' or '.join(conditions)} then '{name}: ' || {shown} || ' out of range ({span})' end"
        )
    return reasons


def check_query(entity: Entity, source: str, window: PlausibleWindow, native: Iterable[str] = ()) -> str:
    """One query over `source` (text columns, `_pos`, `_line`, `_record`) giving every contract column
    typed and `_reason`: every broken rule of the row, or null for a row that keeps the contract.
    `native`: contract columns the file stored as numbers (see `_reasons`); `window`: the plausible
    days of timestamps and months."""
    native = set(native)
    typed = ",\n  ".join(f"{_parsed(c)} as {quote_identifier(c.name)}" for c in entity.columns)
    reasons = ", ".join(r for c in entity.columns for r in _reasons(c, window, c.name in native))
    return f"""
        select
          _pos,
          _line,
          {typed},
          nullif(concat_ws('; ', {reasons}), '') as _reason,
          _record
        from {source} as src"""


# --------------------------------------------------------------------------- reading


def _csv_header(path: Path) -> tuple[str, list[str]]:
    """The delimiter and column names of a CSV export, from its header line
    (`,` by contract; `;` and tab from European spreadsheet tools are accepted too)."""
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as handle:
        header = handle.readline()
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    names = next(csv.reader([header], delimiter=delimiter), [])
    columns: list[str] = []
    for position, name in enumerate(names, start=1):
        name = name.strip() or f"column{position}"
        columns.append(name if name not in columns else f"{name}_{position}")
    if not columns:
        raise ValueError("the file is empty: no header line")
    return delimiter, columns


NUMERIC_TYPES = {
    f"{sign}{width}" for sign in ("", "U") for width in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
} | {"FLOAT", "DOUBLE"}


def _refuse_reserved(header: list[str]) -> None:
    used = [name for name in header if name.strip().lower() in RESERVED_COLUMNS]
    if used:
        raise RejectedFile(
            f"file rejected: column {', '.join(used)} has a name the loader uses itself "
            f"({', '.join(RESERVED_COLUMNS)}); rename or drop it"
        )


def _read_into_temp(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[int, set[str]]:
    """Read a file into temp view `_incoming` (all text, `_pos` = 0-based record position, `_line`
    = the file's physical line, the row for Parquet) and structural rejects into `_rejects` (line,
    reason, text). Returns the number of rejects
    and the columns the file stored as numbers (Parquet), whose text has no separator to guess."""
    drop_incoming(con)
    literal = quote_literal(str(path))
    if path.name.lower().endswith(".parquet"):
        described = con.execute(f"describe select * from read_parquet({literal})").fetchall()
        native = {name for name, kind, *_ in described if kind in NUMERIC_TYPES or kind.startswith("DECIMAL(")}
        _refuse_reserved([name for name, *_ in described])
        con.execute(
            f"""create temp table _incoming_rows as
                select * exclude (file_row_number), file_row_number + 1 as _line
                from (select columns(* exclude (file_row_number))::varchar, file_row_number
                      from read_parquet({literal}, file_row_number = true))"""
        )
        con.execute("create temp view _incoming as select *, rowid as _pos from _incoming_rows")
        con.execute("create temp table _rejects (line bigint, reason varchar, record varchar)")
        return 0, native
    delimiter, header = _csv_header(path)
    _refuse_reserved(header)
    # The header is read above and the dialect is given, so DuckDB does not sniff: a broken line
    # (unterminated quote, wrong number of fields) becomes a reject row, never a failed file; every
    # record and reject gets the physical line it starts on (flows/csv_lines.py).
    try:
        read_csv_export(con, path, delimiter, header)
    except UnreadableCsv as exc:
        raise RejectedFile(f"file rejected: {exc}") from exc
    rejected = con.execute("select count(*) from _rejects").fetchone()[0]
    return rejected, set()


def _header(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute("describe _incoming").fetchall() if row[0] not in ("_pos", "_line")]


def _record_expression(con: duckdb.DuckDBPyConnection) -> str:
    """SQL for the whole record as read (every column of the file, as JSON text), for quarantine rows."""
    fields = ", ".join(f"{quote_identifier(h)} := {quote_identifier(h)}" for h in _header(con))
    return f"to_json(struct_pack({fields}))::varchar"


def _missing_columns(con: duckdb.DuckDBPyConnection, entity: Entity) -> tuple[list[str], dict[str, str]]:
    """Required columns missing from the header, and a map contract name -> header name."""
    header = _header(con)
    by_lower = {h.strip().lower(): h for h in header}
    mapping = {c.name: by_lower[c.name] for c in entity.columns if c.name in by_lower}
    missing = [name for name in entity.required if name not in mapping]
    return missing, mapping


# --------------------------------------------------------------------------- loading


def _next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute(f"select coalesce(max(load_id), 0) + 1 from {RAW_SCHEMA}.load_manifest").fetchone()[0]


def _already_loaded(con: duckdb.DuckDBPyConnection, content_hash: str) -> tuple[str, str] | None:
    row = con.execute(
        f"select file_name, status from {RAW_SCHEMA}.load_manifest where content_hash = ? order by load_id limit 1",
        [content_hash],
    ).fetchone()
    return (row[0], row[1]) if row else None


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    entity: Entity,
    window: PlausibleWindow,
    run_id: str = "",
) -> FileResult:
    """Load one export file (see the module docstring). Idempotent by content hash."""
    content_hash = file_sha256(path)
    seen = _already_loaded(con, content_hash)
    if seen:
        return FileResult(path.name, entity.name, "skipped", message=f"same content as {seen[0]} ({seen[1]})")

    load_id = _next_load_id(con)
    file_name = quote_literal(path.name)
    try:
        rejected, native_headers = _read_into_temp(con, path)
    except UNREADABLE as exc:
        cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        message = cause if isinstance(exc, RejectedFile) else f"unreadable file: {cause}"
        result = FileResult(path.name, entity.name, "rejected", message=message, load_id=load_id)
        _record_manifest(con, result, path, content_hash, run_id)
        return result

    good = con.execute("select count(*) from _incoming").fetchone()[0]
    rows_read = good + rejected
    missing, mapping = _missing_columns(con, entity)

    con.execute("begin transaction")
    try:
        if missing:
            reason = "file rejected: missing required column " + ", ".join(missing)
            con.execute(
                f"""insert into {RAW_SCHEMA}.quarantine
                    select {load_id}, '{entity.name}', {file_name}, _line, {quote_literal(reason)},
                           {_record_expression(con)}, now()::timestamp
                    from _incoming as src
                    union all
                    select {load_id}, '{entity.name}', {file_name}, line, {quote_literal(reason)}, record, now()::timestamp
                    from _rejects"""
            )
            result = FileResult(path.name, entity.name, "rejected", rows_read, 0, rows_read, reason, load_id)
        else:
            # Select the contract's columns by their header names; optional columns absent from the file are null.
            projection = ", ".join(
                f"{quote_identifier(mapping[c.name])} as {quote_identifier(c.name)}"
                if c.name in mapping
                else f"null::varchar as {quote_identifier(c.name)}"
                for c in entity.columns
            )
            con.execute(
                "create or replace temp table _checked as "
                + check_query(
                    entity,
                    f"(select _pos, _line, {projection}, {_record_expression(con)} as _record from _incoming)",
                    window,
                    native=[name for name, header in mapping.items() if header in native_headers],
                )
            )
            _quarantine_erased_customers(con, entity)
            columns = ", ".join(quote_identifier(c.name) for c in entity.columns)
            con.execute(
                f"""insert into {RAW_SCHEMA}.{entity.name}
                    select {columns}, {load_id}, {file_name}, _line, now()::timestamp
                    from _checked as checked where _reason is null order by _pos"""
            )
            con.execute(
                f"""insert into {RAW_SCHEMA}.quarantine
                    select {load_id}, '{entity.name}', {file_name}, _line, _reason, _record, now()::timestamp
                    from _checked as checked where _reason is not null
                    union all
                    select {load_id}, '{entity.name}', {file_name}, line, 'malformed line: ' || reason, record,
                           now()::timestamp
                    from _rejects"""
            )
            loaded, quarantined = con.execute(
                "select count(*) filter (where _reason is null), count(*) filter (where _reason is not null) from _checked"
            ).fetchone()
            quarantined += rejected
            result = FileResult(path.name, entity.name, "loaded", rows_read, loaded, quarantined, "", load_id)
        if result.rows_read != result.rows_loaded + result.rows_quarantined:  # pragma: no cover - invariant
            raise AssertionError(f"{path.name}: rows read != rows loaded + rows quarantined")
        _record_manifest(con, result, path, content_hash, run_id)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return result


def _record_manifest(
    con: duckdb.DuckDBPyConnection, result: FileResult, path: Path, content_hash: str, run_id: str
) -> None:
    con.execute(
        f"""insert into {RAW_SCHEMA}.load_manifest
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::timestamp)""",
        [
            result.load_id,
            run_id,
            result.entity,
            result.file_name,
            str(path),
            content_hash,
            path.stat().st_size,
            result.status,
            result.rows_read,
            result.rows_loaded,
            result.rows_quarantined,
            result.message or None,
        ],
    )


def discover_exports(exports_dir: Path) -> list[tuple[Path, Entity | None]]:
    """Export files in load order: by name, so dated files (`orders_2025-01-31.csv`) load oldest first.
    Entries named like an export that are no file (a directory, a dangling symbolic link) are listed
    too, so that the load reports them as ignored instead of skipping them in silence."""
    if not exports_dir.is_dir():
        raise FileNotFoundError(
            f"exports folder {exports_dir} does not exist (generate one with `python -m flows generate`)"
        )
    files = sorted(
        p
        for p in exports_dir.iterdir()
        if not p.name.startswith(".") and (p.is_file() or entity_for_file(p.name) is not None)
    )
    return [(p, entity_for_file(p.name)) for p in files]


def _prepare_erased_customers(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    """The keyed hashes of erased customers (flows/erasure.py) and their key, as temp tables."""
    from flows.erasure import ensure_erasure_log, erasure_key

    ensure_erasure_log(con)
    key = erasure_key(warehouse)
    con.execute("create or replace temp table _erased_hashes as select distinct customer_key_hash from raw.erasure_log")
    con.execute("create or replace temp table _erasure_key as select ? as key", [key or ""])


def _quarantine_erased_customers(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """A row of an erased customer (GDPR art. 17) is quarantined with reason `erased`, never loaded again."""
    from flows.erasure import ERASED_REASON

    if "customer_id" not in entity.column_names:
        return
    con.execute(
        f"""update _checked set _reason = coalesce(_reason || '; ', '') || {quote_literal(ERASED_REASON)},
                               _record = null  -- the quarantine keeps no personal datum of theirs
            where customer_id is not null
              and (select key from _erasure_key) <> ''
              and sha256((select key from _erasure_key) || customer_id) in (select customer_key_hash from _erased_hashes)"""
    )


def _not_a_file(path: Path) -> str | None:
    """Why `path`, named like an export, is not loaded: it is no regular file (or None: it is one)."""
    if path.is_file():
        return None
    if path.is_symlink():
        target = path.readlink()
        if path.is_dir():
            return f"a symbolic link to a directory ({target}), not an export file; not loaded"
        return f"a symbolic link to a file that does not exist ({target}); not loaded"
    if path.is_dir():
        return "a directory, not an export file; not loaded"
    if not path.exists():
        return "no such file; not loaded"
    return "not a regular file; not loaded"


def load_exports(
    warehouse: Path,
    exports_dir: Path,
    run_id: str = "",
    files: Iterable[Path] | None = None,
    *,
    window: PlausibleWindow,
) -> LoadReport:
    """Load every export file of a folder into the warehouse (see the module docstring).

    A timestamp or month outside `window` (`PlausibleWindow.from_vars`: the run's dbt vars and the
    load day) is quarantined as implausible."""
    report = LoadReport()
    candidates = discover_exports(exports_dir) if files is None else [(p, entity_for_file(p.name)) for p in files]
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with connect(str(warehouse)) as con:
        ensure_raw_schema(con)
        _prepare_erased_customers(con, warehouse)
        for path, entity in candidates:
            if entity is None:
                report.files.append(
                    FileResult(path.name, None, "ignored", message="name matches no export entity; not loaded")
                )
                continue
            not_a_file = _not_a_file(path)
            if not_a_file:
                report.files.append(FileResult(path.name, entity.name, "ignored", message=not_a_file))
                continue
            report.files.append(load_file(con, path, entity, window, run_id))
        report.not_exported = entities_without_exports(con)
    return report
