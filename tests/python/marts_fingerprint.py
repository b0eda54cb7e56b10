"""Fingerprints of published marts: proof that a restructuring leaves every published figure as it was.

`fingerprint_file` gives, per table of schema `marts`, the row count, the sorted column names and a
sha256 over the rows rendered canonically (in DuckDB) and sorted. Two fingerprints of the same exports
are compared with `compare`. A column can be fingerprinted under another name (`rename`, name in the
table -> name in the fingerprint), so a rename alone changes nothing, while any changed value, row or
column does.

Canonical values: NULL as a token; dates and timestamps in ISO form (timestamptz in UTC); DECIMAL,
integers, booleans and text as DuckDB's exact text; DOUBLE and FLOAT rounded to 9 significant digits and
|x| < 1e-12 as 0 (DuckDB may sum doubles in a different order across threads); lists with canonical
elements, structs and maps as DuckDB's JSON-like text. Columns are taken in sorted (fingerprint) name
order and rows are sorted on their rendered text, so neither column order nor row order matters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import duckdb

SCHEMA = "marts"
#: Bookkeeping, not figures: run id, publication time, source warehouse path and state.
BOOKKEEPING = frozenset({"_publication"})
NULL_TOKEN = "\\N"
DOUBLE_DIGITS = 9
DOUBLE_ZERO = 1e-12
SEPARATOR = "\x1f"  # unit separator between the values of one row

Fingerprint = dict[str, Any]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _canonical(expr: str, type_name: str) -> str:
    """A SQL expression rendering `expr` (of DuckDB type `type_name`) as canonical text, NULL kept."""
    t = type_name.upper()
    if t in ("DOUBLE", "FLOAT", "REAL", "FLOAT8", "FLOAT4"):
        # 9 significant digits in exponent form; nan and inf as plain text. Relative rounding cannot absorb
        # summation noise around an exact 0 (0 vs 1e-17), so |x| < DOUBLE_ZERO is 0 (also turns -0.0 into 0);
        # the smallest non-zero double in the marts is ~1e-2 (the models round their ratios).
        return (
            f"case when isnan({expr}) or isinf({expr}) then cast({expr} as varchar) "
            f"when abs({expr}) < {DOUBLE_ZERO} then '0' "
            f"else printf('%.{DOUBLE_DIGITS - 1}e', cast({expr} as double)) end"
        )
    if t == "DATE":
        return f"strftime({expr}, '%Y-%m-%d')"
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return f"strftime(timezone('UTC', {expr}), '%Y-%m-%dT%H:%M:%S.%fZ')"
    if t.startswith("TIMESTAMP"):
        return f"strftime(cast({expr} as timestamp), '%Y-%m-%dT%H:%M:%S.%f')"
    if t.endswith("[]"):
        inner = _canonical("x", t[:-2])
        return f"cast(list_transform({expr}, lambda x: {inner}) as varchar)"
    # DECIMAL(p,s) renders exactly with its scale; integers, booleans and varchar as themselves; structs
    # and maps as DuckDB's {'k': v} text (exact unless they hold doubles: no mart has one so far).
    return f"cast({expr} as varchar)"


def fingerprint_table(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    rename: dict[str, str] | None = None,
    exclude: AbstractSet[str] = frozenset(),
) -> Fingerprint:
    """Row count, sorted column names and a sha256 of the canonical rows. `rename` maps a column name of
    the table (old) to the name it is fingerprinted under (new); `exclude` names columns (new names) left
    out of columns and hash: say why wherever it is used."""
    rename = rename or {}
    described = con.execute(
        """select column_name, data_type from information_schema.columns
           where table_schema = ? and table_name = ? order by ordinal_position""",
        [schema, table],
    ).fetchall()
    if not described:
        raise LookupError(f"no table {schema}.{table}")
    unknown = set(rename) - {name for name, _ in described}
    if unknown:
        raise KeyError(f"{schema}.{table}: renamed columns not in the table: {sorted(unknown)}")
    columns = sorted(
        (rename.get(name, name), name, type_name)
        for name, type_name in described
        if rename.get(name, name) not in exclude
    )
    rendered = [f"coalesce({_canonical(_ident(old), type_name)}, '{NULL_TOKEN}')" for _, old, type_name in columns]
    row_text = f"concat_ws('{SEPARATOR}', {', '.join(rendered)})" if rendered else "''"
    rows = con.execute(f"select {row_text} from {_ident(schema)}.{_ident(table)}").fetchall()
    digest = hashlib.sha256()
    digest.update(SEPARATOR.join(name for name, _, _ in columns).encode() + b"\n")
    for (text,) in sorted(rows):  # in Python: code-point order, whatever DuckDB's collation
        digest.update(text.encode() + b"\n")
    return {"rows": len(rows), "columns": [name for name, _, _ in columns], "sha256": digest.hexdigest()}


def fingerprint_file(
    path: Path | str,
    rename_by_table: dict[str, dict[str, str]] | None = None,
    skip: AbstractSet[str] = BOOKKEEPING,
    exclude_by_table: dict[str, AbstractSet[str]] | None = None,
) -> dict[str, Fingerprint]:
    """`fingerprint_table` of every table of schema `marts` in the DuckDB file `path`, except `skip`."""
    rename_by_table = rename_by_table or {}
    exclude_by_table = exclude_by_table or {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ? order by table_name",
                [SCHEMA],
            ).fetchall()
            if name not in skip
        ]
        return {
            table: fingerprint_table(con, SCHEMA, table, rename_by_table.get(table), exclude_by_table.get(table, set()))
            for table in tables
        }


def compare(baseline: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Human-readable differences between two `fingerprint_file` results; entries starting with '_'
    (such as `_meta`) are not tables and are ignored."""
    old = {k: v for k, v in baseline.items() if not k.startswith("_")}
    new = {k: v for k, v in current.items() if not k.startswith("_")}
    problems = [f"{t}: missing (in the baseline, not published now)" for t in sorted(old.keys() - new.keys())]
    problems += [f"{t}: extra (published now, not in the baseline)" for t in sorted(new.keys() - old.keys())]
    for table in sorted(old.keys() & new.keys()):
        was, now = old[table], new[table]
        if was["columns"] != now["columns"]:
            gone = sorted(set(was["columns"]) - set(now["columns"]))
            added = sorted(set(now["columns"]) - set(was["columns"]))
            problems.append(f"{table}: columns differ: missing {gone}, extra {added}")
        if was["rows"] != now["rows"]:
            problems.append(f"{table}: {was['rows']} rows in the baseline, {now['rows']} now")
        if was["sha256"] != now["sha256"] and was["columns"] == now["columns"]:
            problems.append(f"{table}: values differ (sha256 {was['sha256'][:12]} -> {now['sha256'][:12]})")
    return problems


def main(argv: list[str] | None = None) -> int:
    """`python tests/python/marts_fingerprint.py PUBLISHED.duckdb [BASELINE.json]`: print the fingerprint
    of a published file as JSON, or, given a baseline, its differences (exit 1 if any)."""
    import json
    import sys

    args = sys.argv[1:] if argv is None else argv
    current = fingerprint_file(args[0])
    if len(args) == 1:
        print(json.dumps(current, indent=2, sort_keys=True))
        return 0
    problems = compare(json.loads(Path(args[1]).read_text(encoding="utf-8")), current)
    print("\n".join(problems) or "no differences")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
