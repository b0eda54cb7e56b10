"""MetricFlow's answer to a metric query, in process (the `mf` CLI is the user's way: `make metrics`).

The semantic models, metrics and saved queries live in models/semantic/ (dbt writes them to
`semantic_manifest.json` in the dbt target of every build). MetricFlow compiles a query to DuckDB SQL,
which runs here on a read-only attachment of the build warehouse: no dbt adapter and no write lock, so
it can read a warehouse that other readers share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest
from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

from flows.duckdb_connection import connect


class _DuckDbDialect:
    """What MetricFlow needs of a SQL client to compile (explain) a query: the engine and its renderer."""

    sql_engine_type = SqlEngine.DUCKDB
    sql_plan_renderer = DuckDbSqlPlanRenderer()


@dataclass(frozen=True)
class SemanticLayer:
    """The metrics of a dbt semantic manifest over the build warehouse it was parsed for."""

    semantic_manifest: Path
    warehouse: Path

    @cached_property
    def _manifest(self) -> Any:
        return parse_manifest_from_dbt_generated_manifest(self.semantic_manifest.read_text(encoding="utf-8"))

    @cached_property
    def engine(self) -> MetricFlowEngine:
        return MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(self._manifest),
            sql_client=_DuckDbDialect(),  # type: ignore[arg-type]  # explain only: compiles, never executes
        )

    @property
    def catalog(self) -> str:
        """The database name the compiled SQL uses (dbt-duckdb: the warehouse file's stem at parse time)."""
        return self._manifest.semantic_models[0].node_relation.database

    def sql(
        self,
        metrics: Sequence[str],
        group_by: Sequence[str],
        where: Sequence[str] | None = None,
        order_by: Sequence[str] | None = None,
    ) -> str:
        """MetricFlow's SQL for `metrics` grouped by `group_by` (e.g. metric_time__year)."""
        request = MetricFlowQueryRequest.create(
            metric_names=list(metrics),
            group_by_names=list(group_by),
            where_constraints=list(where) if where else None,
            order_by_names=list(order_by) if order_by else list(group_by),
        )
        return self.engine.explain(request).sql_statement.sql

    def query(
        self,
        metrics: Sequence[str],
        group_by: Sequence[str],
        where: Sequence[str] | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """The rows of a metric query, one dict per row, from a read-only attachment of the warehouse."""
        sql = self.sql(metrics, group_by, where, order_by)
        with connect() as con:
            path = str(self.warehouse).replace("'", "''")
            con.execute(f"attach '{path}' as \"{self.catalog}\" (read_only)")
            relation = con.sql(sql)
            columns = relation.columns
            return [dict(zip(columns, row)) for row in relation.fetchall()]
