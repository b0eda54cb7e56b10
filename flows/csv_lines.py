"""Read a CSV export with DuckDB's reader, every record numbered by its physical line in the file.

DuckDB numbers the lines of its rejects logically: a record whose quoted value holds a line break
counts as one line, a blank line between records counts as one, and its good records carry no line
at all. The loader wants the line a person sees in an editor (`\\n` ends a line; `\\r\\n` too), so:

- a file whose records are one line each (the usual case, detected by counting the file's lines)
  is numbered by position, skipping the lines of rejects, at no extra cost;
- otherwise each record's *extra* lines are counted: the line breaks inside its values (good
  records) or inside its text (rejects). In DuckDB's order of records, rejects and blank lines,
  the physical line of each is its logical line + the extra lines of the records before it: one
  window over the records, set-based. Blank lines are placed by a few passes over the same window
  (a blank line inside a quoted value is no blank line between records).

An unterminated quote (`O2,C1,"2025-01-05,completed,1`) makes DuckDB read every line after it,
up to the next quote or the end of the file, as one broken record. A broken record that runs over
several lines (whatever DuckDB's error: the quote may close on a later line) is quarantined as the
one line it starts on, and the file is read again from the line after it: the records behind the
broken quote are loaded or quarantined on their own, each with its own line, so rows read counts
the file's records. (A malformed record whose quoted value really holds line breaks is split the
same way: its other lines are quarantined too, each with its line; nothing is hidden.) After
`MAX_BROKEN_RECORDS` of them the file is rejected (its quote character is not `"`, or it is no CSV).
"""

from __future__ import annotations

import gzip
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from flows.sql import quote_identifier, quote_literal

#: How many broken multi-line records a file may hold before it is rejected (each one reads the rest again).
MAX_BROKEN_RECORDS = 20
#: DuckDB's message for a quoted value that does not end where it should.
UNTERMINATED_MESSAGE = "unterminated quote"
UNTERMINATED_REASON = "unterminated quote: a quoted value starts on this line and does not end on it"
#: ... and what the loader did about it, when the value ran over the next lines
READ_AGAIN = " (the lines after it are read as records of their own)"
#: The text of a reject kept for the quarantine (DuckDB's own limit is 10,000 characters).
REJECT_TEXT_LIMIT = 2_000_000
#: Blank lines between records a file with multi-line records may hold (each costs one window).
BLANK_LINE_PASSES = 20
NEWLINE = "chr(10)"
LINE_END_CHARACTERS = "chr(13) || chr(10)"


class UnreadableCsv(ValueError):
    """The file is not a CSV the loader can number (too many unterminated quotes, ...)."""


@dataclass(frozen=True)
class LineCount:
    """The physical lines of a file, trailing blank lines left out."""

    lines: int
    #: the numbers of the blank lines (empty, or `\\r` only) before the last line that is not blank
    blank: tuple[int, ...]


def _opener(path: Path):  # noqa: ANN202 - gzip.open or open
    return gzip.open if path.name.lower().endswith(".gz") else open


def _blank_line_offsets(block: bytes) -> list[int]:
    """Offsets of the blank lines in `block`, which starts at the start of a line."""
    found = [0] if block.startswith((b"\n", b"\r\n")) else []
    for pattern in (b"\n\n", b"\n\r\n"):
        at = block.find(pattern)
        while at >= 0:
            found.append(at + 1)
            at = block.find(pattern, at + 1)
    return sorted(found)


def count_lines(path: Path) -> LineCount:
    """Count the physical lines of a (possibly gzipped) text file in one streaming pass (C speed:
    bytes.count and find, never a Python loop over lines, except over blank lines)."""
    newlines = 0
    blank: list[int] = []
    carry = b""
    with _opener(path)(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            block = carry + chunk
            end = block.rfind(b"\n") + 1
            block, carry = block[:end], block[end:]
            counted, counted_to = newlines, 0
            for offset in _blank_line_offsets(block):
                counted += block.count(b"\n", counted_to, offset)
                counted_to = offset
                blank.append(counted + 1)
            newlines += block.count(b"\n")
    lines = newlines
    if carry:
        lines += 1
        if carry in (b"\r",):
            blank.append(lines)
    while blank and blank[-1] == lines:  # trailing blank lines end the file, they are between no records
        blank.pop()
        lines -= 1
    return LineCount(lines, tuple(blank))


def copy_rest(path: Path, after_line: int, target: Path) -> Path:
    """Write the physical lines of `path` after line `after_line` to `target` (uncompressed)."""
    remaining = after_line
    with _opener(path)(path, "rb") as source, target.open("wb") as out:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            if remaining:
                in_chunk = chunk.count(b"\n")
                if in_chunk < remaining:
                    remaining -= in_chunk
                    continue
                at = -1
                for _ in range(remaining):
                    at = chunk.index(b"\n", at + 1)
                chunk, remaining = chunk[at + 1 :], 0
            out.write(chunk)
    return target


def read_csv_export(con: duckdb.DuckDBPyConnection, path: Path, delimiter: str, header: list[str]) -> None:
    """Read a CSV export into temp view `_incoming` (its columns as text, `_line` = the physical
    line the record starts on, `_pos` = its position) and its malformed records into `_rejects`
    (line, reason, record). Raises UnreadableCsv for a file with more than
    MAX_BROKEN_RECORDS broken multi-line records (unterminated quotes)."""
    columns = "{" + ", ".join(f"{quote_literal(name)}: 'VARCHAR'" for name in header) + "}"
    drop_incoming(con)
    text_columns = ", ".join(f"{quote_identifier(name)} varchar" for name in header)
    con.execute(f"create temp table _incoming_rows ({text_columns}, _line bigint)")
    con.execute("create temp table _rejects (line bigint, reason varchar, record varchar)")
    source, first_line, has_header = path, 1, True
    with tempfile.TemporaryDirectory(prefix="cvw-csv-") as folder:
        for recovered in range(MAX_BROKEN_RECORDS + 1):
            broken = _read_part(con, source, columns, delimiter, has_header, first_line)
            if broken is None:
                break
            if recovered == MAX_BROKEN_RECORDS:
                raise UnreadableCsv(
                    f"more than {MAX_BROKEN_RECORDS} unterminated quotes (the last on line {broken}): "
                    'is the quote character of the file `"`?'
                )
            # read again from the line after the broken one: the rest of the original file
            source = copy_rest(path, broken, Path(folder) / f"rest_{recovered}.csv")
            first_line, has_header = broken + 1, False
    if not con.execute("select count(*) from duckdb_views() where view_name = '_incoming'").fetchone()[0]:
        con.execute("create temp view _incoming as select *, rowid as _pos from _incoming_rows")


def drop_incoming(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what a previous read left: `_incoming` (a view) and the tables behind it, `_rejects`."""
    con.execute("drop view if exists _incoming")
    con.execute("drop table if exists _incoming_rows")
    con.execute("drop table if exists _rejects")


def _drop_part_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("_part", "_part_errors", "_part_scan", "_part_rejects", "_part_extra", "_part_blank"):
        con.execute(f"drop table if exists {table}")
    for table in ("_part_between", "_part_between_next", "_part_layout"):
        con.execute(f"drop table if exists {table}")


def _read_part(
    con: duckdb.DuckDBPyConnection, source: Path, columns: str, delimiter: str, has_header: bool, first_line: int
) -> int | None:
    """Read `source`, whose line 1 is line `first_line` of the export, into `_incoming_rows` and
    `_rejects` up to its first reject that runs over several lines (an unterminated quote). Returns the
    export's line of that quote, or None when the part was read to its end."""
    _drop_part_tables(con)
    con.execute(
        f"""create temp table _part as
            select * from read_csv({quote_literal(str(source))}, header = {str(has_header).lower()},
                                   auto_detect = false, columns = {columns}, delim = {quote_literal(delimiter)},
                                   quote = '"', escape = '"', store_rejects = true,
                                   rejects_table = '_part_errors', rejects_scan = '_part_scan',
                                   rejects_line_size_limit = {REJECT_TEXT_LIMIT})"""
    )
    # DuckDB keeps the file's order of records (insertion order): rowid is the position of a good record
    text = f"trim(any_value(csv_line), {LINE_END_CHARACTERS})"  # a reject's text may start with blank lines
    con.execute(
        f"""create temp table _part_rejects as
            select logical, case when unterminated then {quote_literal(UNTERMINATED_REASON)} else reason end as reason,
                   record, extra, extra > 0 as broken
            from (select line as logical, min(error_message) as reason, {text} as record,
                         length({text}) - length(replace({text}, {NEWLINE}, '')) as extra,
                         bool_or(error_message ilike '%{UNTERMINATED_MESSAGE}%') as unterminated
                  from _part_errors group by line)"""
    )
    goods, rejects, reject_extra, broken = con.execute(
        """select (select count(*) from _part), count(*), coalesce(sum(extra), 0),
                  min(logical) filter (where broken)
           from _part_rejects"""
    ).fetchone()
    start = 2 if has_header else 1  # the logical (and physical) line of the first record
    counted = count_lines(source)
    header_names = [row[0] for row in con.execute("describe _part").fetchall()]
    quoted = [quote_identifier(n) for n in header_names]
    offset = first_line - 1
    one_line_each = not counted.blank and reject_extra == 0 and counted.lines == start - 1 + goods + rejects
    if one_line_each and not rejects:  # the usual case: record n is on line n (+ the header)
        if first_line == 1:  # the whole file: no copy, the lines are the positions
            con.execute("drop table _incoming_rows")
            con.execute("alter table _part rename to _incoming_rows")
            con.execute(
                f"create temp view _incoming as select *, rowid + {start} as _line, rowid as _pos from _incoming_rows"
            )
        else:
            con.execute(
                f"""insert into _incoming_rows ({", ".join(quoted)}, _line)
                    select {", ".join(quoted)}, rowid + {start + offset} from _part order by rowid"""
            )
        _drop_part_tables(con)
        return None
    if one_line_each:  # every record is one line: no value to scan
        con.execute("create temp table _part_extra as select rowid as _part_pos, 0 as extra from _part")
    else:
        newlines = " + ".join(
            f"coalesce(length({c}) - length(replace({c}, {NEWLINE}, '')), 0)"
            for c in map(quote_identifier, header_names)
        )
        con.execute(f"create temp table _part_extra as select rowid as _part_pos, {newlines} as extra from _part")
    multi_line = reject_extra > 0 or bool(con.execute("select bool_or(extra > 0) from _part_extra").fetchone()[0])
    con.execute("create temp table _part_blank (line bigint)")
    if counted.blank:
        con.execute("insert into _part_blank select unnest(?::bigint[])", [list(counted.blank)])
    _place_blank_lines(con, start, multi_line, broken)

    inconsistent = con.execute(
        f"""select count(*) from _part_layout
            where kind <> 'good' and (logical <> taken_logical or sort_key > {goods})
              {f"and taken_logical <= {broken}" if broken is not None else ""}"""
    ).fetchone()[0]
    if inconsistent:
        raise UnreadableCsv("its records could not be numbered by physical line")
    keep = f"l.logical < {broken}" if broken is not None else "true"
    con.execute(
        f"""insert into _incoming_rows ({", ".join(quoted)}, _line)
            select {", ".join("p." + n for n in quoted)}, l.line + {offset}
            from _part as p join _part_layout as l on l._part_pos = p.rowid
            where l.kind = 'good' and {keep} order by l.line"""
    )
    first_text_line = f"rtrim(split_part(r.record, {NEWLINE}, 1), chr(13))"
    con.execute(
        f"""insert into _rejects
            select l.line + {offset},
                   case when r.broken then r.reason || {quote_literal(READ_AGAIN)} else r.reason end,
                   case when r.broken then {first_text_line} else r.record end
            from _part_layout as l join _part_rejects as r on r.logical = l.taken_logical
            where l.kind = 'reject' {f"and l.taken_logical <= {broken}" if broken is not None else ""}"""
    )
    if broken is None:
        broken_line = None
    else:
        broken_line = (
            offset
            + con.execute(
                f"select line from _part_layout where kind = 'reject' and taken_logical = {broken}"
            ).fetchone()[0]
        )
    _drop_part_tables(con)
    return broken_line


def _layout(con: duckdb.DuckDBPyConnection, start: int) -> None:
    """`_part_layout`: every record of the part (good: `_part_pos`; reject and blank line between
    records: `taken_logical`, DuckDB's line) in the file's order, with its logical line and its
    physical `line` = logical line + the extra lines of the records before it. A reject or blank
    line comes after the goods before it: its logical line - `start` - the rejects and blank lines
    before it."""
    con.execute(
        f"""create or replace temp table _part_layout as
            with taken as (
                select logical, extra, 'reject' as kind from _part_rejects
                union all
                select logical, 0, 'blank' from _part_between
            ),
            ranked as (
                select *, logical - {start} - (row_number() over (order by logical) - 1) as goods_before from taken
            ),
            records as (
                select _part_pos as sort_key, 1 as sort_kind, _part_pos, null::bigint as taken_logical, extra,
                       'good' as kind
                from _part_extra
                union all
                select goods_before, 0, null, logical, extra, kind from ranked
            ),
            numbered as (
                select *,
                       {start} - 1 + row_number() over (order by sort_key, sort_kind, taken_logical) as logical,
                       coalesce(sum(extra) over (order by sort_key, sort_kind, taken_logical
                                                 rows between unbounded preceding and 1 preceding), 0) as extra_before
                from records
            )
            select *, logical + extra_before as line from numbered"""
    )


def _place_blank_lines(con: duckdb.DuckDBPyConnection, start: int, multi_line: bool, broken: int | None) -> None:
    """The blank lines between records (`_part_between`, logical lines), then `_part_layout`.
    Without multi-line records a blank line's logical line is its physical one. With them, a blank
    line may also be inside a quoted value: a layout without blank lines between records is right up
    to the first record it starts on a blank line, which no record does, so that blank line comes
    before the record and takes its logical line; one pass (one window) per such blank line."""
    before_broken = f"where logical < {broken}" if broken is not None else ""
    if not multi_line:
        con.execute(
            f"create or replace temp table _part_between as select * from (select line as logical from _part_blank) {before_broken}"
        )
        _layout(con, start)
        return
    con.execute("create or replace temp table _part_between (logical bigint)")
    up_to_broken = f"and l.logical <= {broken}" if broken is not None else ""
    for placed in range(BLANK_LINE_PASSES + 1):
        _layout(con, start)
        on_blank = con.execute(
            f"""select min(l.logical) from _part_layout as l join _part_blank as b on b.line = l.line
                where l.kind <> 'blank' {up_to_broken}"""
        ).fetchone()[0]
        if on_blank is None:
            return
        if placed == BLANK_LINE_PASSES:
            raise UnreadableCsv(
                f"more than {BLANK_LINE_PASSES} blank lines between records in a file whose values hold line "
                "breaks: its records cannot be numbered by line (remove the blank lines)"
            )
        con.execute(f"insert into _part_between values ({on_blank})")
