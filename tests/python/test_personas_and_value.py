"""Personas, revenue concentration and acquisition cost on the realistic sample (session fixture
`sample_run`), and the persona history surviving later runs and a full refresh."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from flows.transform import run_dbt

PERSONAS = {"lapsed", "at_risk", "ambassador", "loyal_passive", "price_shopper", "new"}


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.integration
def test_sample_produces_all_six_personas_in_plausible_shares(sample_run) -> None:
    summary = {
        r[0]: r[1:]
        for r in rows(
            sample_run.published,
            """select persona, customers, customer_share, revenue_12m_per_customer, mean_nps_score, repurchase_rate
               from marts.persona_summary""",
        )
    }
    assert set(summary) == PERSONAS | {"all"}
    for persona in PERSONAS:
        customers, share, _, _, _ = summary[persona]
        assert customers > 0 and 0.01 <= share <= 0.7, (persona, summary[persona])
    assert sum(summary[p][0] for p in PERSONAS) == summary["all"][0]
    [(customers,)] = rows(sample_run.published, "select count(*) from marts.customers where is_customer")
    assert summary["all"][0] == customers
    # what the personas stand for shows in the figures
    assert summary["ambassador"][3] > 9 > summary["at_risk"][3]  # mean latest NPS
    assert summary["ambassador"][2] > summary["at_risk"][2]  # revenue per customer, last 12 months
    assert summary["new"][4] < summary["loyal_passive"][4]  # repurchase rate
    # lapsed: out of the base, no revenue in the last 12 months; at_risk: all still in the base
    assert summary["lapsed"][2] == 0
    [(lapsed_in_base, at_risk_out_of_base, at_risk_p_alive, ambassador_p_alive)] = rows(
        sample_run.published,
        """select count(*) filter (where persona = 'lapsed' and is_in_base),
                  count(*) filter (where persona = 'at_risk' and not is_in_base),
                  avg(p_alive) filter (where persona = 'at_risk'), avg(p_alive) filter (where persona = 'ambassador')
           from marts.customer_personas""",
    )
    assert lapsed_in_base == 0 and at_risk_out_of_base == 0
    assert at_risk_p_alive < ambassador_p_alive


@pytest.mark.integration
def test_sample_revenue_concentration_and_acquisition_cost(sample_run) -> None:
    [(top_1, top_10, top_20, top_50, share_80, gini)] = rows(
        sample_run.published,
        """select top_1_pct_revenue_share, top_10_pct_revenue_share, top_20_pct_revenue_share,
                  top_50_pct_revenue_share, customer_share_for_target_revenue, gini_coefficient
           from marts.revenue_concentration
           where period_grain = 'year' and is_complete order by period_start desc limit 1""",
    )
    assert 0 < top_1 <= top_10 <= top_20 <= top_50 <= 1
    assert 0.3 < top_20 < 0.9 and 0.1 < share_80 < 0.7 and 0.2 < gini < 0.9
    cac = dict(
        rows(
            sample_run.published,
            """select acquisition_channel, sum(spend_amount) / sum(new_customers)
               from marts.acquisition_cost where has_spend group by 1""",
        )
    )
    assert {"paid_search", "paid_social", "all"} <= set(cac) and all(v > 0 for v in cac.values())
    [(organic_cac,)] = rows(
        sample_run.published,
        "select count(cac) from marts.acquisition_cost where acquisition_channel in ('organic', 'referral', 'unknown')",
    )
    assert organic_cac == 0  # no spend recorded: no CAC, not a CAC of 0


@pytest.mark.integration
def test_persona_history_survives_a_later_run_and_a_full_refresh(copy_run, tmp_path: Path) -> None:
    # the later run uses the copy's dbt target (the session's parse state, made the copy's: no full parse)
    paths = copy_run(published=False)
    warehouse = paths.warehouse
    [(as_of, first_month)] = rows(
        warehouse, "select max(snapshot_as_of_date), min(snapshot_month) from marts.customer_persona_history"
    )
    [(previous_month_end,)] = rows(warehouse, f"select date_trunc('month', date '{as_of}') - interval 1 day")
    previous_month_end = previous_month_end.date()

    # backfill the month before with an earlier as-of date ...
    backfill = run_dbt(
        ["run", "-s", "+persona_transitions"],
        warehouse,
        tmp_path / "backfill_target",
        {"as_of_date": str(previous_month_end)},
        quiet=True,
    )
    assert backfill.success, backfill.failure_summary()
    backfilled = rows(warehouse, "select * from marts.customer_persona_history order by all")
    # ... then run on the latest data again, rebuilding everything that can be rebuilt
    later = run_dbt(["run", "-s", "+persona_transitions", "--full-refresh"], warehouse, paths.dbt_target, quiet=True)
    assert later.success, later.failure_summary()

    months = rows(
        warehouse,
        "select snapshot_month, snapshot_as_of_date, count(*) from marts.customer_persona_history group by all order by 1",
    )
    assert [(m, d) for m, d, _ in months] == [
        (previous_month_end.replace(day=1), previous_month_end),
        (first_month, as_of),
    ]
    # the backfilled month is untouched by the later run and the full refresh
    kept = rows(
        warehouse,
        f"select * from marts.customer_persona_history where snapshot_month = date '{previous_month_end.replace(day=1)}' order by all",
    )
    assert kept == [r for r in backfilled if r[1] == previous_month_end.replace(day=1)] and kept
    # the latest month is compared with the one before: every customer of it comes from somewhere
    transitions = rows(
        warehouse,
        f"""select previous_snapshot_month, is_previous_month, sum(customers) filter (where to_persona <> 'none')
            from marts.persona_transitions where snapshot_month = date '{first_month}' group by all""",
    )
    [(customers,)] = rows(warehouse, "select count(*) from marts.customer_personas")
    assert transitions == [(previous_month_end.replace(day=1), True, customers)]
