"""The voice-of-the-customer headline (flows/summary/headlines/voice.py) on the hand-made published file:
the scores of the latest complete month with their answer counts."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.python.summary.helpers import printed, table_line


def test_scores_of_the_latest_complete_month_with_their_answers(published: Path) -> None:
    text = printed(published)
    assert "Voice of the customer, 2025-02" in text
    assert table_line(text, "NPS") == ["-12.3 ± 8.8", "", "1,234"]
    assert table_line(text, "CES") == ["mean 5.20", "72.0% easy", "143"]
    assert table_line(text, "CSAT") == ["68.4% satisfied", "mean 3.96", "2,301"]


def test_no_complete_month_leaves_the_voice_headline_out(published: Path) -> None:
    with duckdb.connect(str(published)) as con:
        con.execute("update marts.survey_scores set is_complete = false")
    text = printed(published)
    assert "Voice of the customer" not in text
    assert "Audit figures, last complete year and month" in text  # the other headlines stay
