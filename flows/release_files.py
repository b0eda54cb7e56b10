"""The files of a release besides its DuckDB file: one Parquet and (optionally) one CSV file per
mart, and manifest.json listing every file with its rows and content hash. All set-based: DuckDB's
COPY writes each file from the published table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from flows.ingest import file_sha256
from flows.release import MANIFEST
from flows.sql import quote_identifier, quote_literal

PARQUET_FOLDER = "parquet"
CSV_FOLDER = "csv"
#: A text cell starting with one of these is a formula to a spreadsheet (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


@dataclass(frozen=True)
class CsvFormat:
    """CSV for spreadsheet users: `;`-separated, UTF-8 with BOM (Excel then reads UTF-8), numbers
    with a decimal comma or point, text cells that would start a formula prefixed with `'`."""

    decimal_separator: str = ","
    delimiter: str = ";"

    def __post_init__(self) -> None:
        if self.decimal_separator not in (",", "."):
            raise ValueError(f"the CSV decimal separator must be ',' or '.', not {self.decimal_separator!r}")
        if self.delimiter == self.decimal_separator:
            raise ValueError("the CSV delimiter and decimal separator must differ")

    def describe(self) -> dict[str, str]:
        return {"delimiter": self.delimiter, "decimal_separator": self.decimal_separator, "encoding": "utf-8-sig"}


def columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of every column of the table, in order."""
    return con.execute(
        """select column_name, data_type from information_schema.columns
           where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position""",
        [catalog, schema, table],
    ).fetchall()


def write_parquet(con: duckdb.DuckDBPyConnection, source: str, path: Path, metadata: dict[str, str]) -> None:
    """`source` (a qualified table) to one Parquet file; `metadata` goes into its key-value metadata
    (the run id: a Parquet file tells which publication it belongs to)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kv = ", ".join(f"{quote_identifier(k)}: {quote_literal(v)}" for k, v in metadata.items())
    con.execute(f"copy {source} to {quote_literal(str(path))} (format parquet, kv_metadata {{{kv}}})")


def csv_select(source: str, table_columns: list[tuple[str, str]], fmt: CsvFormat) -> str:
    """The select that writes `source` as CSV cells: text that would start a formula gets a leading `'`,
    decimals and doubles get the decimal separator; every other value is written as DuckDB writes it."""
    starts = ", ".join(quote_literal(c) for c in FORMULA_STARTS)
    cells = []
    for name, data_type in table_columns:
        column = quote_identifier(name)
        if data_type == "VARCHAR":
            cell = f"case when left({column}, 1) in ({starts}) then '''' || {column} else {column} end"
        elif fmt.decimal_separator != "." and data_type.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL")):
            cell = f"replace(cast({column} as varchar), '.', {quote_literal(fmt.decimal_separator)})"
        else:
            cell = column
        cells.append(f"{cell} as {column}")
    return f"select {', '.join(cells)} from {source}"


def csv_field(value: str, fmt: CsvFormat) -> str:
    """One header field, quoted as DuckDB quotes a data field."""
    if any(c in value for c in (fmt.delimiter, '"', "\n", "\r")):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_csv(
    con: duckdb.DuckDBPyConnection, source: str, table_columns: list[tuple[str, str]], path: Path, fmt: CsvFormat
) -> None:
    """`source` to one CSV file in `fmt`. DuckDB's COPY writes neither a BOM nor a decimal comma: the
    BOM and the header line are its PREFIX, the decimal comma comes from csv_select."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = BOM + fmt.delimiter.join(csv_field(name, fmt) for name, _ in table_columns) + "\n"
    if con.execute(f"select count(*) = 0 from {source}").fetchone()[0]:
        path.write_text(header, encoding="utf-8")  # COPY would add a blank line after the prefix
        return
    con.execute(
        f"""copy ({csv_select(source, table_columns, fmt)}) to {quote_literal(str(path))}
            (format csv, header false, delimiter {quote_literal(fmt.delimiter)},
             prefix {quote_literal(header)}, suffix {quote_literal(chr(10))})"""
    )


FORMATS = {".duckdb": "duckdb", ".parquet": "parquet", ".csv": "csv", ".html": "html", ".json": "json"}


def write_manifest(
    release: Path, facts: dict[str, Any], mart_rows: dict[str, int], hashes: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """manifest.json of the release folder: `facts` (run id, published_at, ...), the rows of every
    mart, and every file of the folder (but the manifest) with its format, bytes and sha256; a file
    of one mart (parquet/<mart>.parquet, csv/<mart>.csv) also with the mart and its rows. `hashes`:
    the sha256 of files already hashed (by path in the release, as the manifest lists it); the
    others are hashed here."""
    hashes = hashes or {}
    files = []
    for path in sorted(p for p in release.rglob("*") if p.is_file() and p.name != MANIFEST):
        relative = path.relative_to(release).as_posix()
        entry: dict[str, Any] = {"path": relative, "format": FORMATS.get(path.suffix, path.suffix.lstrip("."))}
        if path.parent.name in (PARQUET_FOLDER, CSV_FOLDER) and path.parent.parent == release:
            entry |= {"mart": path.stem, "rows": mart_rows[path.stem]}
        entry |= {"bytes": path.stat().st_size, "sha256": hashes.get(relative) or file_sha256(path)}
        files.append(entry)
    manifest = {**facts, "marts": mart_rows, "files": files}
    (release / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
