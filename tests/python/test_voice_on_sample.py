"""What the voice marts show on the generated sample (the session's `sample_run`, read from the
published file, what BI tools see). The generator builds in: a worse experience (an unresolved
contact, transfers, a refund) gives lower scores and makes customers leave more often. The tests
check the direction of that relation in the marts, never a number."""

from __future__ import annotations

import duckdb
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def published(sample_run):
    with duckdb.connect(str(sample_run.published), read_only=True) as con:
        yield con


def _by_category(con: duckdb.DuckDBPyConnection, score_type: str) -> dict[str, tuple[int, float]]:
    rows = con.execute(
        "select category, answers, repurchase_share from marts.satisfaction_vs_loyalty where score_type = ?",
        [score_type],
    ).fetchall()
    return {category: (answers, share) for category, answers, share in rows}


@pytest.mark.parametrize(
    ("score_type", "better", "worse"),
    [("nps", "promoter", "detractor"), ("csat", "satisfied", "dissatisfied"), ("ces", "easy", "hard")],
)
def test_better_scores_repurchase_more(published, score_type: str, better: str, worse: str) -> None:
    categories = _by_category(published, score_type)
    assert categories[better][0] >= 30 and categories[worse][0] >= 30, categories  # enough judged answers
    assert categories[better][1] > categories[worse][1], categories


def test_every_category_has_some_customers_who_repurchase_and_some_who_leave(published) -> None:
    """Satisfaction predicts loyalty only loosely: no category is all loyal or all lost."""
    shares = [r[0] for r in published.execute("select repurchase_share from marts.satisfaction_vs_loyalty").fetchall()]
    assert shares and all(0 < share < 1 for share in shares)


def _pooled_after_contacts(published) -> dict[str, float]:
    """Repurchase rates and NPS after effortful and easy contacts over all months (weighted)."""
    row = published.execute(
        """select
               sum(effortful_repurchase_rate * effortful_contacts_judged) / sum(effortful_contacts_judged),
               sum(easy_repurchase_rate * easy_contacts_judged) / sum(easy_contacts_judged),
               sum(effortful_nps * effortful_nps_answers) / sum(effortful_nps_answers),
               sum(easy_nps * easy_nps_answers) / sum(easy_nps_answers),
               sum(effortful_contacts_judged), sum(easy_contacts_judged),
               sum(effortful_nps_answers), sum(easy_nps_answers)
           from marts.service_effort
           where contact_channel = 'all'"""
    ).fetchone()
    names = [
        "effortful_repurchase_rate", "easy_repurchase_rate", "effortful_nps", "easy_nps",
        "effortful_judged", "easy_judged", "effortful_nps_answers", "easy_nps_answers",
    ]  # fmt: skip
    return dict(zip(names, (float(v) for v in row)))


def test_customers_repurchase_more_after_an_easy_contact_than_after_an_effortful_one(published) -> None:
    pooled = _pooled_after_contacts(published)
    assert pooled["effortful_judged"] >= 30 and pooled["easy_judged"] >= 30, pooled
    assert pooled["easy_repurchase_rate"] > pooled["effortful_repurchase_rate"], pooled


def test_nps_is_lower_after_effortful_contacts(published) -> None:
    pooled = _pooled_after_contacts(published)
    assert pooled["effortful_nps_answers"] >= 30 and pooled["easy_nps_answers"] >= 30, pooled
    assert pooled["effortful_nps"] < pooled["easy_nps"], pooled
