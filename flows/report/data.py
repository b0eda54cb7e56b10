"""What the report reads: the published DuckDB file (read-only, schema marts) and dbt's docs.

The report describes one publication and nothing else: every figure comes from the published marts
(`PublishedMarts`), opened read-only once and closed when the report is written. The one-line
definitions come from dbt's manifest (the column descriptions of the marts' yml, doc blocks
rendered), the same text `dbt docs` shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flows.duckdb_connection import connect
from flows.sql import quote_identifier

MARTS_SCHEMA = "marts"
PUBLICATION_TABLE = "_publication"


@dataclass(frozen=True)
class Publication:
    """What marts._publication records about the run that wrote the file."""

    run_id: str
    published_at: datetime | None
    tables_published: int | None
    dbt_vars: dict[str, Any] = field(default_factory=dict)


class PublishedMarts:
    """The marts of one published file. Use as a context manager (the connection is read-only)."""

    def __init__(self, published: Path) -> None:
        published = Path(published)
        if not published.is_file():
            raise FileNotFoundError(f"published file {published} does not exist: run `python -m flows run` first")
        self.path = published
        self.con = connect(str(published), read_only=True)
        rows = self.con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by table_name",
            [MARTS_SCHEMA],
        ).fetchall()
        self.tables = frozenset(r[0] for r in rows)
        if PUBLICATION_TABLE not in self.tables:
            self.con.close()
            raise ValueError(f"{published} has no {MARTS_SCHEMA}.{PUBLICATION_TABLE}: it is not a publication")

    def __enter__(self) -> PublishedMarts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()

    def has(self, mart: str) -> bool:
        return mart in self.tables

    def columns(self, mart: str) -> list[str]:
        rows = self.con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [MARTS_SCHEMA, mart],
        ).fetchall()
        return [r[0] for r in rows]

    def rows(self, mart: str) -> int:
        return int(self.con.sql(f"select count(*) from {MARTS_SCHEMA}.{quote_identifier(mart)}").fetchall()[0][0])

    def frame(self, sql: str, parameters: list[Any] | None = None):
        """A query's result as a pandas DataFrame."""
        return self.con.execute(sql, parameters or []).df()

    def records(self, sql: str, parameters: list[Any] | None = None) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, parameters or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def publication(self) -> Publication:
        columns = set(self.columns(PUBLICATION_TABLE))
        record = self.records(f"select * from {MARTS_SCHEMA}.{PUBLICATION_TABLE} limit 1")
        row = record[0] if record else {}
        raw_vars = row.get("dbt_vars") if "dbt_vars" in columns else None
        return Publication(
            run_id=str(row.get("run_id") or ""),
            published_at=row.get("published_at"),
            tables_published=row.get("tables_published"),
            dbt_vars=json.loads(raw_vars) if raw_vars else {},
        )

    def as_of_date(self) -> date | None:
        """The one as-of date of every figure (each audit mart carries it)."""
        for mart in ("customer_audit_figures", "customers", "customer_personas"):
            if self.has(mart) and "as_of_date" in self.columns(mart):
                found = self.con.sql(f"select max(as_of_date) from {MARTS_SCHEMA}.{mart}").fetchall()[0][0]
                if found is not None:
                    return found.date() if isinstance(found, datetime) else found
        return None


def column_definitions(manifest: Path | None) -> dict[str, dict[str, str]]:
    """{mart: {column: description}} from dbt's manifest.json (empty without one): the yml's wording,
    doc blocks rendered."""
    if manifest is None or not Path(manifest).is_file():
        return {}
    nodes = json.loads(Path(manifest).read_text(encoding="utf-8")).get("nodes", {})
    found: dict[str, dict[str, str]] = {}
    for node in nodes.values():
        if node.get("resource_type") != "model" or node.get("schema") != MARTS_SCHEMA:
            continue
        columns = {name: " ".join((c.get("description") or "").split()) for name, c in node.get("columns", {}).items()}
        found[node["name"]] = {name: text for name, text in columns.items() if text}
    return found


def release_manifest(published: Path) -> dict[str, Any]:
    """The manifest.json a release folder keeps beside its DuckDB file, when there is one."""
    path = Path(published).parent / "manifest.json"
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
