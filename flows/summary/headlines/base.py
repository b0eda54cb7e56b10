"""A headline: a query on one published mart and how its rows become a HeadlineTable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flows.summary.formatting import format_cell
from flows.summary.report import HeadlineTable

#: (title, columns, rows, reporting currency) -> the table, or None to leave the headline out
ToTable = Callable[[str, list[str], list[tuple], str], HeadlineTable | None]
#: the query from the mart's column names (None when the mart lacks what it needs)
QueryFor = Callable[[frozenset[str]], str | None]


def formatted_table(
    title: str, columns: list[str], rows: list[tuple], formats: Mapping[str, Callable[[Any], str]]
) -> HeadlineTable:
    """One column per field of the query, one line per row; the named columns formatted by `formats`,
    the others by format_cell. Every column holds figures (right-aligned)."""
    return HeadlineTable(
        title=title,
        caption=None,
        columns=list(columns),
        rows=[[formats.get(name, format_cell)(value) for name, value in zip(columns, row)] for row in rows],
    )


def default_table(title: str, columns: list[str], rows: list[tuple], currency: str) -> HeadlineTable:
    return formatted_table(title, columns, rows, {})


@dataclass(frozen=True)
class Headline:
    """A table the run ends with, when its mart is published."""

    mart: str  # the mart the query reads (the headline is left out when it is not published)
    title: str
    sql: str | QueryFor  # a query on marts.<mart>, or a function of the mart's columns giving it
    to_table: ToTable = default_table

    def query(self, mart_columns: frozenset[str]) -> str | None:
        return self.sql if isinstance(self.sql, str) else self.sql(mart_columns)
