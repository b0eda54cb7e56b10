"""Every published mart has an enforced dbt model contract (README "A schema a BI user can rely on"):
its columns and types are declared, so a change of the published schema fails the build, and the
published file has exactly the declared columns. Read from the session's sample run (its dbt
manifest and published file)."""

from __future__ import annotations

import json

import duckdb
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def manifest(sample_run) -> dict:
    return json.loads((sample_run.dbt_target / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mart_nodes(manifest) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    }


def test_every_published_mart_has_an_enforced_contract_matching_the_publication(sample_run, mart_nodes) -> None:
    with duckdb.connect(str(sample_run.published), read_only=True) as con:
        published = con.execute(
            """select table_name, list(column_name order by ordinal_position), list(data_type order by ordinal_position)
               from information_schema.columns where table_schema = 'marts' and table_name <> '_publication'
               group by table_name"""
        ).fetchall()
    assert {name for name, _, _ in published} == set(mart_nodes)
    for name, columns, types in published:
        node = mart_nodes[name]
        assert node["config"]["contract"]["enforced"], f"{name}: no enforced contract"
        declared = [(c["name"], (c.get("data_type") or "").replace(" ", "").upper()) for c in node["columns"].values()]
        assert declared == [(c, t.replace(" ", "").upper()) for c, t in zip(columns, types)], name


def test_keys_are_constraints_not_tests(manifest, mart_nodes) -> None:
    """A primary key on every non-incremental mart; no not_null test on a column with a not_null or
    primary key constraint, no unique test on a primary key column."""
    generic_tests = [
        (node["attached_node"], node["test_metadata"]["name"], node.get("column_name"))
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node.get("test_metadata")
    ]
    for name, node in mart_nodes.items():
        columns = node["columns"].values()
        not_null = {c["name"] for c in columns for k in c["constraints"] if k["type"] in ("not_null", "primary_key")}
        keys = [k["columns"] for k in node["constraints"] if k["type"] == "primary_key"]
        keys += [[c["name"]] for c in columns for k in c["constraints"] if k["type"] == "primary_key"]
        not_null |= {column for key in keys for column in key}
        if node["config"]["materialized"] != "incremental":
            assert keys, f"{name}: no primary key constraint"
        assert not_null, f"{name}: no not_null constraint"
        redundant = [
            (test, column)
            for attached, test, column in generic_tests
            if attached == node["unique_id"]
            and ((test == "not_null" and column in not_null) or (test == "unique" and [column] in keys))
        ]
        assert redundant == [], f"{name}: generic tests the constraints make redundant"
