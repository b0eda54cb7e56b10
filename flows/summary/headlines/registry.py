"""Every headline in the order a run shows them, and reading them from the published file."""

from __future__ import annotations

from pathlib import Path

from flows.duckdb_connection import connect
from flows.summary.headlines import audit, personas, value, voice
from flows.summary.headlines.base import Headline
from flows.summary.report import HeadlineTable

HEADLINES: list[Headline] = [*audit.HEADLINES, *voice.HEADLINES, *personas.HEADLINES, *value.HEADLINES]


def read_headlines(published: Path, reporting_currency: str) -> list[HeadlineTable]:
    """The headline tables of the published file (what BI tools see); those whose mart is not
    published, or that come out empty, are left out. No file: no headlines."""
    path = Path(published)
    if not path.exists():
        return []
    tables: list[HeadlineTable] = []
    with connect(str(path), read_only=True) as con:
        mart_columns: dict[str, set[str]] = {}
        for table_name, column_name in con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
        ).fetchall():
            mart_columns.setdefault(table_name, set()).add(column_name)
        for headline in HEADLINES:
            if headline.mart not in mart_columns:
                continue
            sql = headline.query(frozenset(mart_columns[headline.mart]))
            if sql is None:
                continue
            relation = con.sql(sql)
            table = headline.to_table(headline.title, relation.columns, relation.fetchall(), reporting_currency)
            if table is not None:
                tables.append(table)
    return tables
