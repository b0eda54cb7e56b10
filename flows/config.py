"""Paths and defaults shared by the flows and the CLI.

Every path can be overridden by an environment variable, so that `dbt` run by hand,
the Prefect deployments and the CLI all agree on where the warehouse lives.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

#: Environment variables (also read by profiles.yml for the build warehouse).
ENV_WAREHOUSE = "CVW_WAREHOUSE"
ENV_PUBLISHED = "CVW_PUBLISHED"
ENV_EXPORTS = "CVW_EXPORTS"
ENV_OUTPUT = "CVW_OUTPUT"

DEFAULT_WAREHOUSE = PROJECT_DIR / "warehouse" / "customer_value.duckdb"
DEFAULT_PUBLISHED = PROJECT_DIR / "warehouse" / "published.duckdb"
DEFAULT_EXPORTS = PROJECT_DIR / "data" / "exports"
DEFAULT_OUTPUT = PROJECT_DIR / "warehouse" / "output"


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Paths:
    """Where one pipeline run reads and writes."""

    exports: Path
    warehouse: Path  # the build warehouse: raw, staging, intermediate and unvalidated marts
    published: Path  # the file BI tools read: validated marts only
    output: Path  # run artefacts: dbt target, GX Data Docs, run summaries

    @classmethod
    def resolve(
        cls,
        exports: Path | None = None,
        warehouse: Path | None = None,
        published: Path | None = None,
        output: Path | None = None,
    ) -> "Paths":
        warehouse_path = (
            Path(warehouse).expanduser().resolve() if warehouse else _path_from_env(ENV_WAREHOUSE, DEFAULT_WAREHOUSE)
        )
        # By default the published file and the run output sit beside the build warehouse.
        default_published = (
            DEFAULT_PUBLISHED if warehouse_path == DEFAULT_WAREHOUSE else warehouse_path.with_name(
                warehouse_path.stem + "_published.duckdb"
            )
        )
        default_output = (
            DEFAULT_OUTPUT if warehouse_path == DEFAULT_WAREHOUSE else warehouse_path.with_name(
                warehouse_path.stem + "_output"
            )
        )
        return cls(
            exports=Path(exports).expanduser().resolve() if exports else _path_from_env(ENV_EXPORTS, DEFAULT_EXPORTS),
            warehouse=warehouse_path,
            published=Path(published).expanduser().resolve()
            if published
            else _path_from_env(ENV_PUBLISHED, default_published),
            output=Path(output).expanduser().resolve() if output else _path_from_env(ENV_OUTPUT, default_output),
        )
