"""Which export entities are stale, by the rule of `dbt source freshness` (models/staging/*/_*__sources.yml).

An entity's freshness is the load time of its newest export file with rows (raw.load_manifest; every
raw row carries the same time as `_loaded_at`, dbt's loaded_at_field). It warns when that is more than
var freshness_<entity>_warn_days days ago and is an error after freshness_<entity>_error_days. The run
computes it from the manifest in one small query instead of a second dbt invocation, with the vars of
the last build (intermediate.int_run_parameters, read from dbt's manifest).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from flows.duckdb_connection import connect

SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class EntityFreshness:
    entity: str
    last_loaded_at: datetime
    age_days: float
    warn_after_days: int
    error_after_days: int

    @property
    def status(self) -> str:
        """pass | warn | error, as dbt source freshness decides (strictly older than the threshold)."""
        if self.age_days > self.error_after_days:
            return "error"
        return "warn" if self.age_days > self.warn_after_days else "pass"

    def describe(self) -> str:
        return (
            f"{self.entity} exports are stale ({self.status}): the newest was loaded "
            f"{self.last_loaded_at:%Y-%m-%d %H:%M}, {self.age_days:.1f} days ago "
            f"(warn after {self.warn_after_days} days, error after {self.error_after_days})"
        )


def entity_freshness(con: duckdb.DuckDBPyConnection, dbt_vars: Mapping[str, Any]) -> list[EntityFreshness]:
    """Every entity with a loaded file and freshness vars, oldest first. Ages are measured in the
    connection's time zone, the one the loader wrote its naive timestamps in."""
    rows = con.execute(
        """select entity, max(loaded_at), epoch(now()::timestamp - max(loaded_at))
           from raw.load_manifest
           where status = 'loaded' and rows_loaded > 0
           group by entity
           order by max(loaded_at), entity"""
    ).fetchall()
    found = []
    for entity, loaded_at, age_seconds in rows:
        warn, error = dbt_vars.get(f"freshness_{entity}_warn_days"), dbt_vars.get(f"freshness_{entity}_error_days")
        if warn is None or error is None:
            continue
        found.append(EntityFreshness(entity, loaded_at, age_seconds / SECONDS_PER_DAY, int(warn), int(error)))
    return found


def stale_entities(warehouse: Path, dbt_vars: Mapping[str, Any]) -> list[EntityFreshness]:
    """The entities of the build warehouse that warn or fail freshness (empty without a load manifest)."""
    if not Path(warehouse).exists():
        return []
    with connect(str(warehouse), read_only=True) as con:
        has_manifest = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = 'load_manifest'"
        ).fetchone()[0]
        if not has_manifest:
            return []
        return [f for f in entity_freshness(con, dbt_vars) if f.status != "pass"]
