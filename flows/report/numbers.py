"""Numbers as the reporting locale writes them, in the report's text and in its charts.

One source for both: the d3-format locale that vl-convert ships (`vl_convert.get_format_locale`, the
locale Vega formats the charts' axes and tooltips with), with the currency symbol of the reporting
currency in the place that locale puts its own. nl-NL (the default, dbt var reporting_locale) writes
€ 1.234,56 and 12,5 %; en-GB writes €1,234.56.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows.summary.formatting import CURRENCY_SYMBOLS

DEFAULT_LOCALE = "nl-NL"
NBSP = "\u00a0"


@dataclass(frozen=True)
class NumberFormat:
    locale: str
    decimal: str
    thousands: str
    currency_prefix: str
    currency_suffix: str
    percent_sign: str = "%"

    @classmethod
    def for_locale(cls, locale: str | None, currency: str | None) -> NumberFormat:
        """The locale's separators and currency placement with the reporting currency's symbol
        ('€' for EUR, '$', '£'; another code as itself). An unknown locale is an error."""
        import vl_convert as vlc

        name = (locale or DEFAULT_LOCALE).strip() or DEFAULT_LOCALE
        try:
            spec = vlc.get_format_locale(name)
        except ValueError as exc:
            reason = str(exc).splitlines()[0]
            raise ValueError(f"reporting_locale {name!r} is not a locale vl-convert knows ({reason})") from None
        code = (currency or "EUR").strip().upper()
        symbol = CURRENCY_SYMBOLS.get(code, code)
        prefix, suffix = spec["currency"]
        # keep the locale's placement and spacing, swap its symbol for the reporting currency's
        if prefix.strip():
            prefix = symbol + (NBSP if prefix.endswith((" ", NBSP)) or len(symbol) > 1 else "")
        if suffix.strip():
            suffix = (NBSP if suffix.startswith((" ", NBSP)) or len(symbol) > 1 else "") + symbol
        # a locale that writes 12,5 % puts a space before the percent sign: nl-NL and de-DE do
        percent = NBSP + "%" if spec["decimal"] == "," else "%"
        return cls(name, spec["decimal"], spec["thousands"], prefix, suffix, percent)

    # ------------------------------------------------------------------ text

    def number(self, value: Any, decimals: int = 0) -> str:
        if value is None or value != value:  # None or NaN
            return "–"
        text = f"{abs(float(value)):,.{decimals}f}"
        text = text.replace(",", "\0").replace(".", self.decimal).replace("\0", self.thousands)
        return ("-" if float(value) < 0 and text.strip("0.,") else "") + text

    def count(self, value: Any) -> str:
        return self.number(value, 0)

    def signed(self, value: Any, decimals: int = 0) -> str:
        text = self.number(value, decimals)
        return text if text.startswith(("-", "–")) or float(value) == 0 else "+" + text

    def money(self, value: Any, decimals: int = 2) -> str:
        text = self.number(value, decimals)
        if text == "–":
            return text
        sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
        return f"{sign}{self.currency_prefix}{digits}{self.currency_suffix}"

    def share(self, value: Any, decimals: int = 1) -> str:
        if value is None or value != value:
            return "–"
        return self.number(100 * float(value), decimals) + self.percent_sign

    # ------------------------------------------------------------------ charts

    def vega_locale(self) -> dict[str, Any]:
        """The d3-format locale for vega-embed's `formatLocale`: axes and tooltips use these separators."""
        return {
            "decimal": self.decimal,
            "thousands": self.thousands,
            "grouping": [3],
            "currency": [self.currency_prefix, self.currency_suffix],
            "percent": self.percent_sign,
        }
