"""An incremental build selects only the models downstream of the sources with new loads
(flows/transform.py `changed_source_selection`), and builds everything whenever that is not known
for sure. Plain functions on a hand-made warehouse and manifest; the selection on a real day-2 load,
with its marts equal to a full refresh's, is in test_incremental.py."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from flows.transform import LAST_BUILD_LOAD, changed_source_selection, newest_load, source_selectors

pytestmark = pytest.mark.unit

MANIFEST = {
    "sources": {
        "source.customer_value.crm.orders": {"source_name": "crm", "name": "orders", "schema": "raw"},
        "source.customer_value.crm.contacts": {"source_name": "crm", "name": "contacts", "schema": "raw"},
        "source.customer_value.survey.survey_responses": {
            "source_name": "survey",
            "name": "survey_responses",
            "schema": "raw",
            "identifier": "survey_responses",
        },
        "source.customer_value.loader.load_manifest": {
            "source_name": "loader",
            "name": "load_manifest",
            "schema": "raw",
        },
    },
    "nodes": {
        "model.customer_value.stg_crm__orders": {
            "resource_type": "model",
            "schema": "staging",
            "name": "stg_crm__orders",
            "alias": "stg_crm__orders",
            "config": {"materialized": "incremental"},
        },
        "model.customer_value.survey_scores": {
            "resource_type": "model",
            "schema": "marts",
            "name": "survey_scores",
            "alias": "survey_scores",
            "config": {"materialized": "table"},
        },
        "test.customer_value.not_null_survey_scores": {"resource_type": "test", "schema": "x", "name": "t"},
    },
}


def make_warehouse(path: Path, loads: list[tuple[int, str, str, str]], models: bool = True) -> None:
    """raw.load_manifest with (load_id, entity, content_hash, status) rows, and the manifest's model tables."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.load_manifest (load_id integer, entity varchar, content_hash varchar, status varchar)"
        )
        con.executemany("insert into raw.load_manifest values (?, ?, ?, ?)", loads)
        if models:
            for schema, table in (("staging", "stg_crm__orders"), ("marts", "survey_scores")):
                con.execute(f"create schema if not exists {schema}")
                con.execute(f"create table {schema}.{table} (x integer)")


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    target = tmp_path / "dbt"
    target.mkdir()
    (target / "manifest.json").write_text(json.dumps(MANIFEST))
    return tmp_path / "warehouse.duckdb", target


DAY_1 = [(1, "orders", "h1", "loaded"), (2, "contacts", "h2", "loaded"), (3, "survey_responses", "h3", "loaded")]


def record(target: Path, load_id: int, content_hash: str) -> None:
    (target / LAST_BUILD_LOAD).write_text(json.dumps({"load_id": load_id, "content_hash": content_hash}))


def test_selectors_are_the_sources_of_the_entities_and_what_is_downstream() -> None:
    assert source_selectors(MANIFEST, {"survey_responses", "orders"}) == [
        "source:crm.orders+",
        "source:survey.survey_responses+",
    ]
    # an entity without a dbt source: nothing is known, build everything
    assert source_selectors(MANIFEST, {"orders", "marketing_spend"}) is None


def test_only_the_sources_with_later_loaded_files_are_selected(folders: tuple[Path, Path]) -> None:
    warehouse, target = folders
    make_warehouse(warehouse, [*DAY_1, (4, "survey_responses", "h4", "loaded"), (5, "orders", "h5", "rejected")])
    assert newest_load(warehouse) == {"load_id": 5, "content_hash": "h5"}
    record(target, 3, "h3")
    # a rejected file changes no raw table: survey answers only, the audit marts are not rebuilt
    assert changed_source_selection(warehouse, target) == ["source:survey.survey_responses+"]
    record(target, 1, "h1")
    assert changed_source_selection(warehouse, target) == ["source:crm.contacts+", "source:survey.survey_responses+"]


@pytest.mark.parametrize(
    ("case", "loads", "last_load", "models"),
    [
        ("no record of an earlier build", DAY_1, None, True),
        ("no load since the last build (a re-run after a failed validation)", DAY_1, (3, "h3"), True),
        ("the recorded load is another warehouse's (same id, other file)", DAY_1, (3, "other"), True),
        ("the recorded load is not in this warehouse", DAY_1[:2], (3, "h3"), True),
        ("a model's table is missing", [*DAY_1, (4, "orders", "h4", "loaded")], (3, "h3"), False),
        ("an entity without a source got a file", [*DAY_1, (4, "marketing_spend", "h4", "loaded")], (3, "h3"), True),
    ],
)
def test_everything_is_built_when_the_changes_are_not_known_for_sure(
    folders: tuple[Path, Path], case: str, loads: list, last_load: tuple[int, str] | None, models: bool
) -> None:
    warehouse, target = folders
    make_warehouse(warehouse, loads, models=models)
    if last_load:
        record(target, *last_load)
    assert changed_source_selection(warehouse, target) is None, case


def test_no_warehouse_or_manifest_builds_everything(tmp_path: Path) -> None:
    assert newest_load(tmp_path / "missing.duckdb") is None
    assert changed_source_selection(tmp_path / "missing.duckdb", tmp_path) is None
