"""Figures formatted for people: thousands separators, money with 2 decimals, shares as percentages."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def currency_prefix(currency: str) -> str:
    """'€' for EUR (and '$', '£'); any other currency code followed by a space: 'CHF '; nothing when
    the currency is not known (no build yet)."""
    code = (currency or "").strip().upper()
    return CURRENCY_SYMBOLS.get(code, code + " ") if code else ""


def format_count(value: Any) -> str:
    return "-" if value is None else f"{int(value):,}"


def format_money(value: Any, currency: str) -> str:
    """An amount in the reporting currency: '€1,234.50', '-€0.50'."""
    if value is None:
        return "-"
    sign = "-" if value < 0 else ""
    return f"{sign}{currency_prefix(currency)}{abs(float(value)):,.2f}"


def money_in(currency: str) -> Callable[[Any], str]:
    """format_money with the currency bound, for a column formatter."""
    return lambda value: format_money(value, currency)


def format_number(value: Any, decimals: int = 2) -> str:
    return "-" if value is None else f"{float(value):,.{decimals}f}"


def format_share(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1%}"


def format_nps(nps: Any, margin: Any) -> str:
    """NPS with its margin of error: '+23.5 ± 8.1' (no margin with fewer than 2 answers)."""
    if nps is None:
        return "-"
    return f"{float(nps):+.1f}" + (f" ± {float(margin):.1f}" if margin is not None else "")


def format_cell(value: Any) -> str:
    """A query value without a formatter of its own: whole numbers and decimals with thousands
    separators, nothing for null, anything else as text."""
    if value is None:
        return ""
    return f"{value:,}" if isinstance(value, (int, Decimal)) else str(value)
