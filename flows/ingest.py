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
import os
import time
import zlib
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
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
            digest.update(chunk)  # (hashlib releases the GIL: files hash in parallel threads)
    return digest.hexdigest()


#: A file's stat stands for its content (ContentHashes) only when its last change (ctime) was at
#: least this long before its hash was taken: a change within the same timestamp tick as the
#: hashing would not show in the stat (coarse time stamps; git's "racy clean" problem).
STAT_TRUST_MARGIN_NS = 2_000_000_000
#: Threads that hash export files while the loader loads the ones before.
HASH_THREADS = 2


@dataclass(frozen=True)
class FileStat:
    """What the file system tells of a file without reading it. Any write changes its ctime (which,
    unlike the mtime, no tool can set back); a replaced file has another inode."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, path: Path) -> FileStat:
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


class ContentHashes:
    """The content hashes of export files, each read once, in HASH_THREADS background threads, while
    the loader works on the files before it. A file whose stat (path, size, mtime, ctime, inode) is
    the one recorded in `raw.file_hashes` when it was last hashed, at least STAT_TRUST_MARGIN_NS after
    its last change, is not read again: a run with nothing new costs what stat costs, not what
    reading the history costs. Whether a file is loaded is still decided by its content hash (the
    manifest); this table only remembers hashes."""

    def __init__(self, con: duckdb.DuckDBPyConnection, paths: Iterable[Path]) -> None:
        known = {
            row[0]: (FileStat(*row[1:6]), row[6], row[7])
            for row in con.execute(
                f"""select file_path, file_bytes, mtime_ns, ctime_ns, inode, device, content_hash, hashed_at_ns
                    from {RAW_SCHEMA}.file_hashes"""
            ).fetchall()
        }
        self._pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="cvw-hash")
        self._hashes: dict[Path, Future[tuple[str, FileStat, int]] | str] = {}
        for path in paths:
            key = self._key(path)
            before = time.time_ns()
            stat = FileStat.of(path)
            entry = known.get(key)
            if entry is not None and entry[0] == stat and stat.ctime_ns < entry[2] - STAT_TRUST_MARGIN_NS:
                self._hashes[path] = entry[1]
            else:
                self._hashes[path] = self._pool.submit(self._hash, path, stat, before)

    @staticmethod
    def _key(path: Path) -> str:
        return str(Path(path).resolve())

    @staticmethod
    def _hash(path: Path, stat: FileStat, before: int) -> tuple[str, FileStat, int]:
        return file_sha256(path), stat, before

    def get(self, con: duckdb.DuckDBPyConnection, path: Path) -> str:
        """The content hash of `path` (waits for its thread); remembers a newly computed one in raw.file_hashes."""
        found = self._hashes[path]
        if isinstance(found, str):
            return found
        content_hash, stat, hashed_at = found.result()
        con.execute(
            f"insert or replace into {RAW_SCHEMA}.file_hashes values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                self._key(path),
                stat.size,
                stat.mtime_ns,
                stat.ctime_ns,
                stat.inode,
                stat.device,
                content_hash,
                hashed_at,
            ],
        )
        self._hashes[path] = content_hash
        return content_hash

    def forget_others(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop the remembered hashes of paths that are not among this load's files (an exports folder
        moved or a file removed), so that the table holds one row per current export file."""
        con.execute(
            f"delete from {RAW_SCHEMA}.file_hashes where not list_contains(?, file_path)",
            [[self._key(path) for path in self._hashes]],
        )

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


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
        create table if not exists {RAW_SCHEMA}.file_hashes (
          file_path varchar primary key,
          file_bytes bigint not null,
          mtime_ns bigint not null,
          ctime_ns bigint not null,
          inode ubigint not null,
          device ubigint not null,
          content_hash varchar not null,
          hashed_at_ns bigint not null
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
#
# The check query has layers, so that every costly expression (a cast, a regular expression) is
# computed once per value, and a reason's text only for the rows that break a rule:
#   texts:   every contract column's text, trimmed, empty as null (`<name>__text`)
#   parsed:  the typed value (`<name>__value`) and the helpers the rules share (casts, patterns)
#   final:   the typed columns and `_reason`; the reasons are concatenated only where a rule is broken.


@dataclass(frozen=True)
class Rule:
    """One contract rule of a column: `condition` (SQL over the parsed layer, true when the value
    breaks the rule; null counts as kept) and `message` (SQL text, the reason)."""

    condition: str
    message: str


def _text(column: Column) -> str:
    """The parsed layer's name of a column's raw text: trimmed, empty as null."""
    return quote_identifier(f"{column.name}__text")


def _helper(column: Column, name: str) -> str:
    return quote_identifier(f"{column.name}__{name}")


def _parsed(column: Column) -> str:
    """SQL expression (over the texts layer) for the typed value of a column (null where it does not parse)."""
    v = _text(column)
    if column.kind == "decimal":
        # Accept a decimal comma ("12,50") as European exports write it; no thousands separators.
        # (The pattern is only tried on a value with a comma: without one it cannot match.)
        return (
            f"try_cast(case when contains({v}, ',') then (case when regexp_full_match({v}, '-?[0-9]+,[0-9]+') "
            f"then replace({v}, ',', '.') else {v} end) else {v} end as decimal(18, 2))"
        )
    if column.kind == "integer":
        # DuckDB rounds '7.5' to 8: a fraction that is not zero is no whole number, never rounded.
        return (
            f"case when contains({v}, '.') or contains({v}, ',') then (case when regexp_matches({v}, '[.,][0-9]*[1-9]') "
            f"then null else try_cast({v} as integer) end) else try_cast({v} as integer) end"
        )
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


def _separator_pattern(v: str, pattern: str) -> str:
    """`regexp_full_match(v, pattern)` for AMBIGUOUS_NUMBER and BEYOND_CENTS, both of which need one
    separator with at least three characters after it: tried only on such a value (most amounts,
    `114.42`, are not)."""
    last = f"greatest(strpos({v}, '.'), strpos({v}, ','))"
    return f"(case when {last} > 0 and length({v}) - {last} >= 3 then regexp_full_match({v}, {quote_literal(pattern)}) else false end)"


def _helpers(column: Column, native: bool) -> dict[str, str]:
    """The parsed layer's helper columns of a column (name -> SQL over the texts layer), each
    computed once and shared by its rules. `native`: see `_rules`."""
    v = _text(column)
    helpers = {"value": _parsed(column)}
    if column.kind == "timestamp":
        helpers["timestamp"] = f"try_cast({v} as timestamp)"  # the clock as written: DuckDB ignores an offset here
        helpers["timestamptz"] = f"try_cast({v} as timestamptz)"
        # (a 12-hour clock, `10:00 PM`, is no zone: it stays "not a timestamp")
        helpers["zone_named"] = (
            f"(regexp_full_match({v}, {quote_literal(ZONE_NAME)}) "
            f"and not regexp_full_match({v}, {quote_literal(TWELVE_HOUR_CLOCK)}))"
        )
    if column.kind == "decimal":
        helpers["ambiguous"] = "false" if native else _separator_pattern(v, AMBIGUOUS_NUMBER)
        helpers["beyond_cents"] = _separator_pattern(v, BEYOND_CENTS)
    if column.customer_id:  # an e-mail address has an @: the pattern is only tried on a value with one
        helpers["email"] = (
            f"(case when contains({v}, '@') then regexp_full_match({v}, {quote_literal(EMAIL_ADDRESS)}) else false end)"
        )
    return helpers


def _rules(column: Column, window: PlausibleWindow, native: bool = False) -> list[Rule]:
    """The rules of a column, in the order their reasons are listed, over the parsed layer.
    `native`: the file stored the column as a number (Parquet), so its text is DuckDB's rendering,
    which has a decimal point and no thousands separator. `window`: the plausible days of timestamps
    and months."""
    v = _text(column)
    value = _helper(column, "value")
    shown = f"left({v}, 40)"
    name = column.name
    rules: list[Rule] = []
    if column.required:
        rules.append(Rule(f"{v} is null", f"'missing required field {name}'"))
    if column.kind == "decimal":
        # Never a guess, never rounded: `1,234` may be 1234 or 1.234, and `0,005` is not in cents.
        ambiguous = _helper(column, "ambiguous")
        rules.append(
            Rule(
                ambiguous,
                f"'{name}: ambiguous separator (''' || {shown} || '''): a thousands separator or more decimals than cents'",
            )
        )
        rules.append(
            Rule(
                f"not coalesce({ambiguous}, false) and {_helper(column, 'beyond_cents')}",
                f"'{name}: more decimals than cents (''' || {shown} || ''')'",
            )
        )
    if column.kind == "timestamp":
        # DuckDB reads `UTC`, `PST`, `America/New_York` (and `IST` as India, `Etc/GMT+1` as UTC-1), but
        # staging converts offsets only: a zone name would be read as reporting time, on the wrong day.
        rules.append(
            Rule(
                _helper(column, "zone_named"),
                f"'{name}: a time zone name is not accepted, write an offset such as +01:00 (''' || {shown} || ''')'",
            )
        )
    bad = {
        "timestamp": (
            f"{_helper(column, 'timestamptz')} is null and not {_helper(column, 'zone_named')}",
            "not a timestamp",
        ),
        "decimal": (f"{value} is null", "not a number"),
        "integer": (f"{value} is null", "not a whole number"),
        "boolean": (f"{value} is null", "not a boolean"),
        "month": (f"{value} is null", "not a month (YYYY-MM)"),
        "currency": (f"not regexp_full_match({v}, '[A-Za-z]{{3}}')", "not an ISO 4217 currency code"),
    }
    if column.kind in bad:
        condition, label = bad[column.kind]
        rules.append(Rule(f"{v} is not null and {condition}", f"'{name}: {label} (''' || {shown} || ''')'"))
    outside = f"is outside the plausible window {window.earliest.isoformat()} to {window.latest.isoformat()}"
    if column.kind == "timestamp":
        written = _helper(column, "timestamp")
        rules.append(
            Rule(
                f"{written} < timestamp '{window.earliest.isoformat()}' "
                f"or {written} >= timestamp '{(window.latest + timedelta(days=1)).isoformat()}'",
                f"'{name}: ''' || {shown} || ''' {outside}'",
            )
        )
    if column.kind == "month":  # inside when one of its days is
        rules.append(
            Rule(
                f"{value} < date_trunc('month', date '{window.earliest.isoformat()}') "
                f"or {value} > date '{window.latest.isoformat()}'",
                f"'{name}: ''' || {shown} || ''' {outside}'",
            )
        )
    if column.customer_id:
        rules.append(
            Rule(
                _helper(column, "email"),
                f"'{name} looks like an e-mail address (personal data would be published in every mart)'",
            )
        )
    if column.kind == "enum":
        allowed = ", ".join(quote_literal(a) for a in column.allowed)
        rules.append(
            Rule(
                f"{v} is not null and {value} not in ({allowed})",
                f"'{name}: ''' || {shown} || ''' is not one of {'/'.join(column.allowed)}'",
            )
        )
    if column.minimum is not None or column.maximum is not None:
        lo = "-infinity" if column.minimum is None else column.minimum
        hi = "infinity" if column.maximum is None else column.maximum
        conditions = []
        if column.minimum is not None:
            conditions.append(f"{value} < {column.minimum}")
        if column.maximum is not None:
            conditions.append(f"{value} > {column.maximum}")
        span = f"{lo:g}-{hi:g}" if column.maximum is not None else f">= {lo:g}"
        rules.append(Rule(" or ".join(conditions), f"'{name}: ' || {shown} || ' out of range ({span})'"))
    return rules


def check_query(
    entity: Entity,
    source: str,
    window: PlausibleWindow,
    native: Iterable[str] = (),
    erased: bool = False,
) -> str:
    """One query over `source` (text columns, `_pos`, `_line`, `_raw`: the record as read, a struct)
    giving `_pos`, `_line`, every contract column typed, `_reason` (every broken rule of the row, or
    null for a row that keeps the contract), `_erased` and `_record` (the record as JSON text, for the
    quarantine: only on a row with a reason, and not on an erased customer's, whose personal data
    the quarantine does not keep). `native`: contract columns the file stored as numbers (see `_rules`);
    `window`: the plausible days of timestamps and months. `erased`: also quarantine the rows of
    erased customers (temp tables `_erased_hashes` and `_erasure_key`, `_prepare_erased_customers`)
    with reason ERASED_REASON, last."""
    from flows.erasure import ERASED_REASON

    native = set(native)
    texts = ", ".join(f"nullif(trim({quote_identifier(c.name)}), '') as {_text(c)}" for c in entity.columns)
    helpers = ", ".join(
        f"{sql} as {_helper(c, name)}" for c in entity.columns for name, sql in _helpers(c, c.name in native).items()
    )
    rules = [r for c in entity.columns for r in _rules(c, window, c.name in native)]
    erasable = erased and "customer_id" in entity.column_names
    is_erased = (
        "(customer_id__text is not null and sha256((select key from _erasure_key) || customer_id__text) "
        "in (select customer_key_hash from _erased_hashes))"
        if erasable
        else "false"
    )
    rules.append(Rule("_erased", quote_literal(ERASED_REASON)))
    broken = "(" + " or ".join(f"coalesce({r.condition}, false)" for r in rules) + ")"
    reasons = ", ".join(f"case when {r.condition} then {r.message} end" for r in rules)
    typed = ", ".join(f"{_helper(c, 'value')} as {quote_identifier(c.name)}" for c in entity.columns)
    return f"""
        select
          _pos,
          _line,
          {typed},
          case when {broken} then nullif(concat_ws('; ', {reasons}), '') end as _reason,
          _erased,
          case when {broken} and not _erased then to_json(_raw)::varchar end as _record
        from (
          select *, {helpers}, {is_erased} as _erased
          from (select _pos, _line, _raw, {texts} from {source} as src) as texts
        ) as parsed"""


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
        # read where it is used, by DuckDB's parallel Parquet reader (row groups), not copied first:
        # the check reads every row once, the quarantine nothing more (the check keeps the records)
        con.execute(
            f"""create temp view _incoming as
                select * exclude (file_row_number), file_row_number + 1 as _line, file_row_number as _pos
                from (select columns(* exclude (file_row_number))::varchar, file_row_number
                      from read_parquet({literal}, file_row_number = true))"""
        )
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


def _raw_record(con: duckdb.DuckDBPyConnection) -> str:
    """SQL for the whole record as read (every column of the file), a struct."""
    fields = ", ".join(f"{quote_identifier(h)} := {quote_identifier(h)}" for h in _header(con))
    return f"struct_pack({fields})"


def _record_expression(con: duckdb.DuckDBPyConnection) -> str:
    """SQL for the whole record as read (every column of the file, as JSON text), for quarantine rows."""
    return f"to_json({_raw_record(con)})::varchar"


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
    erasures: bool = False,
    content_hash: str | None = None,
) -> FileResult:
    """Load one export file (see the module docstring). Idempotent by content hash (`content_hash`:
    the file's, when known, e.g. from `ContentHashes`). `erasures`: customers were erased
    (`_prepare_erased_customers`), whose rows are quarantined."""
    content_hash = content_hash or file_sha256(path)
    seen = _already_loaded(con, content_hash)
    if seen:
        return FileResult(path.name, entity.name, "skipped", message=f"same content as {seen[0]} ({seen[1]})")

    load_id = _next_load_id(con)
    file_name = quote_literal(path.name)
    try:
        rejected, native_headers = _read_into_temp(con, path)
        good = con.execute("select count(*) from _incoming").fetchone()[0]
        missing, mapping = _missing_columns(con, entity)
        if not missing:  # reads the file (a Parquet file is read here: a corrupt page fails here)
            _check_into_temp(con, entity, mapping, native_headers, window, erasures)
    except UNREADABLE as exc:
        cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        message = cause if isinstance(exc, RejectedFile) else f"unreadable file: {cause}"
        result = FileResult(path.name, entity.name, "rejected", message=message, load_id=load_id)
        _record_manifest(con, result, path, content_hash, run_id)
        return result
    rows_read = good + rejected

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
            loaded, quarantined = con.execute(
                "select count(*) filter (where _reason is null), count(*) filter (where _reason is not null) from _checked"
            ).fetchone()
            columns = ", ".join(quote_identifier(c.name) for c in entity.columns)
            # _checked holds the rows in the file's order; a sort keeps it where DuckDB would not
            in_order = "" if _keeps_insertion_order(con) else "order by _pos"
            con.execute(
                f"""insert into {RAW_SCHEMA}.{entity.name}
                    select {columns}, {load_id}, {file_name}, _line, now()::timestamp
                    from _checked as checked where _reason is null {in_order}"""
            )
            if quarantined:
                con.execute(
                    f"""insert into {RAW_SCHEMA}.quarantine
                        select {load_id}, '{entity.name}', {file_name}, _line, _reason, _record, now()::timestamp
                        from _checked as checked where _reason is not null {in_order}"""
                )
            con.execute(
                f"""insert into {RAW_SCHEMA}.quarantine
                    select {load_id}, '{entity.name}', {file_name}, line, 'malformed line: ' || reason, record,
                           now()::timestamp
                    from _rejects"""
            )
            quarantined += rejected
            result = FileResult(path.name, entity.name, "loaded", rows_read, loaded, quarantined, "", load_id)
        if result.rows_read != result.rows_loaded + result.rows_quarantined:  # pragma: no cover - invariant
            raise AssertionError(f"{path.name}: rows read != rows loaded + rows quarantined")
        _record_manifest(con, result, path, content_hash, run_id)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute("drop table if exists _checked")
    return result


def _check_into_temp(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    mapping: dict[str, str],
    native_headers: set[str],
    window: PlausibleWindow,
    erasures: bool,
) -> None:
    """Temp table `_checked`: every record of `_incoming`, checked (`check_query`) in one pass."""
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
            f"(select _pos, _line, {projection}, {_raw_record(con)} as _raw from _incoming)",
            window,
            native=[name for name, header in mapping.items() if header in native_headers],
            erased=erasures,
        )
    )


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


def _prepare_erased_customers(con: duckdb.DuckDBPyConnection, warehouse: Path) -> bool:
    """The keyed hashes of erased customers (flows/erasure.py) and their key, as temp tables; True
    when there are any (a row of an erased customer, GDPR art. 17, is then quarantined with reason
    `erased`, never loaded again: `check_query(erased=True)`)."""
    from flows.erasure import ensure_erasure_log, erasure_key

    ensure_erasure_log(con)
    key = erasure_key(warehouse)
    con.execute("create or replace temp table _erased_hashes as select distinct customer_key_hash from raw.erasure_log")
    con.execute("create or replace temp table _erasure_key as select ? as key", [key or ""])
    return bool(key) and con.execute("select count(*) > 0 from _erased_hashes").fetchone()[0]


def _keeps_insertion_order(con: duckdb.DuckDBPyConnection) -> bool:
    """True when DuckDB keeps the order of rows through a filter (its `preserve_insertion_order`, on by default)."""
    return bool(con.execute("select current_setting('preserve_insertion_order')").fetchone()[0])


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
    ignored: dict[Path, FileResult] = {}
    for path, entity in candidates:
        if entity is None:
            ignored[path] = FileResult(path.name, None, "ignored", message="name matches no export entity; not loaded")
        elif not_a_file := _not_a_file(path):
            ignored[path] = FileResult(path.name, entity.name, "ignored", message=not_a_file)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with connect(str(warehouse)) as con:
        ensure_raw_schema(con)
        erasures = _prepare_erased_customers(con, warehouse)
        hashes = ContentHashes(con, [path for path, _ in candidates if path not in ignored])
        try:
            for path, entity in candidates:
                if path in ignored:
                    report.files.append(ignored[path])
                    continue
                content_hash = hashes.get(con, path)
                report.files.append(load_file(con, path, entity, window, run_id, erasures, content_hash))
            if files is None:  # the whole folder was read: what is not in it is no export any more
                hashes.forget_others(con)
        finally:
            hashes.close()
        report.not_exported = entities_without_exports(con)
    return report
