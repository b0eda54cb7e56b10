"""Every published figure is what it was before the restructuring, on the same exports (the session's
`sample_run`). The baseline, tests/python/fixtures/published_marts_baseline.json, holds fingerprints
(tests/python/marts_fingerprint.py) computed from the unchanged code; see its `_meta`. Never regenerate
it to make this test pass: a column that is only renamed goes in RENAMED, a deliberate change of meaning
in EXPECTED_CHANGES."""

from __future__ import annotations

import json
from pathlib import Path

from tests.python.marts_fingerprint import compare, fingerprint_file

BASELINE = Path(__file__).parent / "fixtures" / "published_marts_baseline.json"

#: Columns renamed by the restructuring, {table: {old_column: new_column}}; the restructure fills it,
#: e.g. {"revenue_concentration": {"period_type": "period_grain"}}. Values must be unchanged.
RENAMED: dict[str, dict[str, str]] = {"revenue_concentration": {"period_type": "period_grain"}}

#: Tables whose figures change on purpose, {table: reason}: only deliberate meaning changes that the
#: CHANGELOG lists (e.g. survey_scores: period_end of an incomplete period capped at the as-of date).
#: Such a table is not compared at all, so keep the list short and the reason precise.
EXPECTED_CHANGES: dict[str, str] = {}


def test_published_figures_match_the_baseline(sample_run) -> None:
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    assert set(EXPECTED_CHANGES) <= set(baseline), "EXPECTED_CHANGES names a table the baseline lacks"
    # The baseline carries the old names: fingerprint today's columns under their old names.
    old_names = {table: {new: old for old, new in columns.items()} for table, columns in RENAMED.items()}
    current = fingerprint_file(sample_run.published, rename_by_table=old_names)
    kept = {table: value for table, value in baseline.items() if table not in EXPECTED_CHANGES}
    assert compare(kept, {t: v for t, v in current.items() if t not in EXPECTED_CHANGES}) == []
