"""Headlines of personas and value (docs/personas_and_value.md): the persona mix and revenue concentration."""

from __future__ import annotations

from flows.summary.formatting import format_number, format_share, money_in
from flows.summary.headlines.base import Headline, formatted_table
from flows.summary.report import HeadlineTable

PERSONA_SQL = """
select persona, customers, customer_share as share, revenue_12m, revenue_12m_share,
       mean_nps_score, repurchase_rate
from marts.persona_summary
order by persona_order
"""


def concentration_sql(mart_columns: frozenset[str]) -> str | None:
    """The last complete year (None for a mart without period_grain: a publication older than the rename)."""
    if "period_grain" not in mart_columns:
        return None
    return """
select cast(year(period_start) as varchar) as year, customers, revenue,
       top_20_pct_revenue_share as top_20_pct_share,
       customer_share_for_target_revenue as customer_share_for_80_pct,
       gini_coefficient as gini
from marts.revenue_concentration
where period_grain = 'year' and is_complete
order by period_start desc
limit 1
"""


def persona_table(title: str, columns: list[str], rows: list[tuple], currency: str) -> HeadlineTable:
    return formatted_table(
        title,
        columns,
        rows,
        {
            "share": format_share,
            "revenue_12m": money_in(currency),
            "revenue_12m_share": format_share,
            "mean_nps_score": format_number,
            "repurchase_rate": format_share,
        },
    )


def concentration_table(title: str, columns: list[str], rows: list[tuple], currency: str) -> HeadlineTable:
    return formatted_table(
        title,
        columns,
        rows,
        {
            "revenue": money_in(currency),
            "top_20_pct_share": format_share,
            "customer_share_for_80_pct": format_share,
            "gini": lambda value: format_number(value, 3),
        },
    )


HEADLINES: list[Headline] = [
    Headline("persona_summary", "Persona mix on the as-of date", PERSONA_SQL, persona_table),
    Headline(
        "revenue_concentration", "Revenue concentration, last complete year", concentration_sql, concentration_table
    ),
]
