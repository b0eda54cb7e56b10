"""Direct personal data in the VALUES of a mart: e-mail addresses and phone numbers in any string
column, found by one set-based DuckDB scan per mart (`scan_personal_data_values`), never a loop
over rows. The personal-data expectation (flows.validation.common) fails on what it finds.

What counts (docs/checks.md, "Personal data"):

- e-mail-like: `[^@\\s]+@[^@\\s]+\\.[a-z]{2,}` anywhere in the value (case-insensitive);
- phone-like: the whole value is a phone number as people write one, `+`, digits, spaces,
  brackets, dots, slashes and dashes (`+31 6 1234 5678`, `(020) 123-4567`, `06-12345678`,
  `+31612345678`) with at least 8 digits, but not a plain number (an id such as `100234567` or an
  amount such as `1234567.89`: digits with at most one separator) and holds no date (`2024-01-05`,
  `05/01/2024`, `2024-01-01 2024-03-31`). ISO timestamps hold a `:` or a `T`, ids hold letters or no separator: neither looks
  like a phone number.

A finding names the mart's column, how many values look like what, and an example row by its key
(the suite's key columns, else DuckDB's rowid), masked (`j***`) when the key itself looks like
personal data: the value is never written to a log or a report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows.sql import quote_identifier, quote_literal

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

#: An e-mail address anywhere in a value (DuckDB regexp, matched case-insensitively).
EMAIL_LIKE = r"[^@\s]+@[^@\s]+\.[a-z]{2,}"
#: The shape of a whole value that is a phone number: + and ( allowed in front, separators inside.
PHONE_SHAPE = r"\+?\(?[0-9][0-9 ()./-]{7,}[0-9]"
#: ... with at least this many digits.
PHONE_MIN_DIGITS = 8
#: ... and none of these: a plain number (an id or an amount) or a date.
NOT_PHONE = (
    r"[0-9]+([.,][0-9]+)?",
    r"[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}",
    r"[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}",
    r".*[0-9]{4}-[0-9]{2}-[0-9]{2}.*",
)
KINDS = {"email": "e-mail-like", "phone": "phone-number-like"}


def email_like(expression: str) -> str:
    """SQL: `expression` (varchar) holds an e-mail address."""
    return f"(contains({expression}, '@') and regexp_matches({expression}, {quote_literal(EMAIL_LIKE)}, 'i'))"


def phone_like(expression: str) -> str:
    """SQL: `expression` (varchar) is a phone number (see the module docstring)."""
    value = f"trim({expression})"
    excluded = " or ".join(f"regexp_full_match({value}, {quote_literal(p)})" for p in NOT_PHONE)
    return (
        f"(length({value}) >= {PHONE_MIN_DIGITS} and regexp_full_match({value}, {quote_literal(PHONE_SHAPE)}) "
        f"and length(regexp_replace({value}, '[^0-9]', '', 'g')) >= {PHONE_MIN_DIGITS} and not ({excluded}))"
    )


#: The first characters a phone-like value can start with (ASCII codes): a space (trimmed), `(`,
#: `+` and the digits.
PHONE_FIRST_CHARACTERS = (32, 40, 43, *range(48, 58))


def email_like_gated(expression: str) -> str:
    """SQL: `email_like`, its regular expression evaluated only on the values holding an `@`.

    DuckDB evaluates both sides of an `and` over a whole vector; a `case` evaluates its result only
    for the rows its condition selects. The gate is a necessary condition, so the outcome is that of
    `email_like` (on 1M orders: 1.2 s without the gate, 0.2 s with it)."""
    return f"(case when contains({expression}, '@') then {email_like(expression)} else false end)"


def phone_like_gated(expression: str) -> str:
    """SQL: `phone_like`, its regular expressions evaluated only on the values at least 8 characters
    long that start with a space, `(`, `+` or a digit (necessary conditions: the outcome is that of
    `phone_like`; on 1M orders 13 s without the gate, 0.3 s with it)."""
    first = ", ".join(str(code) for code in PHONE_FIRST_CHARACTERS)
    gate = f"length({expression}) >= {PHONE_MIN_DIGITS} and ascii({expression}) in ({first})"
    return f"(case when {gate} then {phone_like(expression)} else false end)"


def masked_key(expression: str) -> str:
    """SQL: a key value as shown in a finding: itself, or its first character and `***` when it
    looks like personal data (a customer_id that is an e-mail address)."""
    value = f"cast({expression} as varchar)"
    return f"case when {email_like(value)} or {phone_like(value)} then left({value}, 1) || '***' else {value} end"


def scan_personal_data_values(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, key_columns: tuple[str, ...] = ()
) -> list[str]:
    """Findings (one line per column and kind) for the e-mail- and phone-like values of every
    varchar column of `schema.table`; [] when there are none.

    One aggregate query over the table (one pass, whatever its size): per column and kind, how
    many values match and the row with the smallest key among them (by rowid). Only when something
    was found, a second query looks up the keys of those rows (masked)."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    names = [name for name, _ in columns]
    varchar = [name for name, data_type in columns if data_type.upper() == "VARCHAR"]
    if not varchar:
        return []
    relation = f"{quote_identifier(schema)}.{quote_identifier(table)}"
    keys = [k for k in key_columns if k in names]
    key_label = ", ".join(keys) if keys else "rowid"
    if not keys:
        order = "rowid"
    elif len(keys) == 1:
        order = quote_identifier(keys[0])
    else:
        order = "struct_pack(" + ", ".join(f"k{i} := {quote_identifier(k)}" for i, k in enumerate(keys)) + ")"
    flags, aggregates, labels = [], [], []
    for column in varchar:
        quoted = quote_identifier(column)
        for kind, predicate in (("email", email_like_gated(quoted)), ("phone", phone_like_gated(quoted))):
            flag = f"f{len(labels)}"
            flags.append(f"{predicate} as {flag}")
            aggregates += [f"count(*) filter (where {flag})", f"arg_min(_row, _order) filter (where {flag})"]
            labels.append((column, kind))
    row = con.execute(
        f"select {', '.join(aggregates)} "
        f"from (select rowid as _row, {order} as _order, {', '.join(flags)} from {relation})"
    ).fetchone()
    found = [(column, kind, row[2 * i], row[2 * i + 1]) for i, (column, kind) in enumerate(labels) if row[2 * i]]
    if not found:
        return []
    key_sql = (
        "concat_ws(' ', " + ", ".join(masked_key(quote_identifier(k)) for k in keys) + ")"
        if keys
        else "cast(rowid as varchar)"
    )
    rowids = sorted({int(example) for _, _, _, example in found})
    examples = dict(
        con.execute(
            f"select rowid, {key_sql} from {relation} where rowid in ({', '.join(map(str, rowids))})"
        ).fetchall()
    )
    return [
        f"{table}.{column}: {count} {KINDS[kind]} value{'s' if count != 1 else ''} "
        f"(e.g. the row {key_label} {examples.get(int(example))})"
        for column, kind, count, example in found
    ]
