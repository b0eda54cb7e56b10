"""Headline of the voice of the customer (docs/voice_of_the_customer.md): the latest complete month's scores."""

from __future__ import annotations

from flows.summary.formatting import format_count, format_nps, format_number, format_share
from flows.summary.headlines.base import Headline
from flows.summary.report import HeadlineTable

VOICE_SQL = """
select *
from marts.survey_scores
where period_grain = 'month' and touchpoint_type = 'all' and channel = 'all' and is_complete
order by period_start desc
limit 1
"""

CAPTION = "latest complete month; NPS ± 95 % margin of error; CES 1-7 (7 = easy); CSAT 1-5"


def voice_table(title: str, columns: list[str], rows: list[tuple], currency: str) -> HeadlineTable | None:
    """NPS (with its margin of error), CES and CSAT of one month, each with its answer count."""
    if not rows:
        return None
    month = dict(zip(columns, rows[0]))
    return HeadlineTable(
        title=f"{title}, {month['period_start']:%Y-%m}",
        caption=CAPTION,
        columns=["score", "value", "detail", "answers"],
        rows=[
            ["NPS", format_nps(month["nps"], month["nps_margin_of_error"]), "", format_count(month["nps_answers"])],
            [
                "CES",
                f"mean {format_number(month['ces_mean'])}",
                f"{format_share(month['ces_easy_share'])} easy",
                format_count(month["ces_answers"]),
            ],
            [
                "CSAT",
                f"{format_share(month['csat_score'])} satisfied",
                f"mean {format_number(month['csat_mean'])}",
                format_count(month["csat_answers"]),
            ],
        ],
        label_columns=1,
    )


HEADLINES: list[Headline] = [
    Headline("survey_scores", "Voice of the customer", VOICE_SQL, voice_table),
]
