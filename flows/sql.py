"""Quoting for the few SQL statements the Python side composes (DuckDB syntax)."""

from __future__ import annotations


def quote_identifier(identifier: str) -> str:
    """`name` as a quoted SQL identifier: "name" (embedded quotes doubled)."""
    return '"' + identifier.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """`value` as a SQL string literal: 'value' (embedded quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"
