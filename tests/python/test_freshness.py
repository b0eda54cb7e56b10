"""Source freshness: the run report's rule (flows/freshness.py) on a hand-made load manifest, the report
lines, and `dbt source freshness` from the repository root on a copy of the session's sample run, with
the same vars and the same verdict."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from flows.freshness import entity_freshness, stale_entities
from flows.summary.markdown import render_markdown
from flows.summary.report import LoadFacts, RunReport

VARS = {
    "freshness_orders_warn_days": 2,
    "freshness_orders_error_days": 7,
    "freshness_customers_warn_days": 2,
    "freshness_customers_error_days": 7,
    "freshness_contacts_warn_days": 2,
    "freshness_contacts_error_days": 7,
}


def manifest_warehouse(path: Path, loads: list[tuple[str, str, int, str]]) -> Path:
    """raw.load_manifest with (entity, status, rows_loaded, age as a DuckDB interval) rows."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.load_manifest (entity varchar, status varchar, rows_loaded bigint, loaded_at timestamp)"
        )
        for entity, status, rows, age in loads:
            con.execute(
                f"insert into raw.load_manifest values (?, ?, ?, now()::timestamp - interval '{age}')",
                [entity, status, rows],
            )
    return path


@pytest.mark.unit
def test_an_entity_is_stale_after_its_newest_file_with_rows(tmp_path: Path) -> None:
    warehouse = manifest_warehouse(
        tmp_path / "w.duckdb",
        [
            ("orders", "loaded", 10, "3 days"),  # warn: older than 2 days
            ("orders", "loaded", 10, "5 days"),
            ("orders", "loaded", 0, "1 hour"),  # a file without rows does not count
            ("orders", "rejected", 0, "1 hour"),  # nor a rejected one
            ("customers", "loaded", 5, "8 days"),  # error: older than 7 days
            ("contacts", "loaded", 5, "47 hours"),  # within 2 days
            ("survey_responses", "loaded", 5, "30 days"),  # no freshness vars: not judged
        ],
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        checked = {f.entity: f for f in entity_freshness(con, VARS)}
    assert {entity: f.status for entity, f in checked.items()} == {
        "customers": "error",
        "orders": "warn",
        "contacts": "pass",
    }
    assert round(checked["orders"].age_days, 2) == 3.0
    stale = stale_entities(warehouse, VARS)
    assert [f.entity for f in stale] == ["customers", "orders"]  # oldest first
    assert stale[1].describe().startswith("orders exports are stale (warn): the newest was loaded ")
    assert stale[1].describe().endswith(", 3.0 days ago (warn after 2 days, error after 7)")


@pytest.mark.unit
def test_no_warehouse_or_manifest_is_not_stale(tmp_path: Path) -> None:
    assert stale_entities(tmp_path / "missing.duckdb", VARS) == []
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    assert stale_entities(tmp_path / "empty.duckdb", VARS) == []


@pytest.mark.unit
def test_the_run_report_names_the_stale_entity(tmp_path: Path) -> None:
    line = "orders exports are stale (warn): the newest was loaded 2026-11-28 10:00, 3.0 days ago"
    report = RunReport("run-1", "", tmp_path / "w", tmp_path / "e", tmp_path / "p", load=LoadFacts(stale=[line]))
    assert f"- **{line}**" in render_markdown(report)


@pytest.mark.integration
def test_dbt_source_freshness_from_the_repository_root_agrees(copy_run, tmp_path: Path) -> None:
    paths = copy_run(published=False)
    with duckdb.connect(str(paths.warehouse)) as con:  # the orders were loaded three days ago
        con.execute("update raw.orders set _loaded_at = _loaded_at - interval 3 day")
        con.execute("update raw.load_manifest set loaded_at = loaded_at - interval 3 day where entity = 'orders'")
    target = tmp_path / "target"
    project = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "source", "freshness", "--target-path", str(target)],
        cwd=project,
        env={**os.environ, "CVW_WAREHOUSE": str(paths.warehouse)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:]  # a warning is not an error
    results = json.loads((target / "sources.json").read_text())["results"]
    statuses = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results}
    assert statuses == {
        "customers": "pass",
        "orders": "warn",
        "contacts": "pass",
        "marketing_spend": "pass",
        "survey_responses": "pass",
    }
    # the run's check: the same verdict with the build's vars, in the summary and its artifact
    from flows.ingest import LoadReport
    from flows.pipeline import RunSummary, check_freshness
    from flows.summary.report import build_run_report

    summary = RunSummary(run_id="run-1", paths=paths, load=LoadReport())
    check_freshness(summary, logging.getLogger(__name__))
    assert [(f.entity, f.status) for f in summary.stale] == [("orders", "warn")]
    markdown = render_markdown(build_run_report(summary, None, "EUR"))
    assert "- **orders exports are stale (warn): the newest was loaded " in markdown
