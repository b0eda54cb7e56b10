"""Every DuckDB connection of the flows, made with the one resource setting (flows/config.py `Settings`:
CVW_DUCKDB_MEMORY_LIMIT, CVW_DUCKDB_THREADS, CVW_DUCKDB_TEMP_DIRECTORY). dbt's connection gets the same
values through profiles.yml (`dbt_environment`, which flows/transform.py passes to the dbt subprocess).

With a memory limit below what a query needs, DuckDB spills to the temporary directory instead of
failing (sorts, joins, aggregations): `<database file>.tmp` for a file, the system's temporary folder
for an in-memory connection.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from flows.config import (
    ENV_DUCKDB_MEMORY_LIMIT,
    ENV_DUCKDB_TEMP_DIRECTORY,
    ENV_DUCKDB_THREADS,
    Settings,
    settings,
)

if TYPE_CHECKING:
    import duckdb


def duckdb_config(path: Path | str | None = None, env: Settings | None = None) -> dict[str, str | int]:
    """The DuckDB configuration of a connection to `path` (None or ":memory:": in memory)."""
    env = env or settings()
    config: dict[str, str | int] = {"memory_limit": env.duckdb_memory_limit, "threads": env.duckdb_threads}
    if env.duckdb_temp_directory is not None:
        config["temp_directory"] = str(env.duckdb_temp_directory)
    elif path is None or str(path) == ":memory:":
        config["temp_directory"] = str(Path(tempfile.gettempdir()) / "cvw-duckdb")
    return config


def connect(path: Path | str | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect(path, read_only)` with the memory limit, threads and spill folder of the settings."""
    import duckdb

    target = ":memory:" if path is None else str(path)
    return duckdb.connect(target, read_only=read_only, config=duckdb_config(path))


def dbt_environment(env: Settings | None = None) -> dict[str, str]:
    """The variables profiles.yml reads for dbt's DuckDB: the same limit and threads as `connect`'s."""
    env = env or settings()
    values = {ENV_DUCKDB_MEMORY_LIMIT: env.duckdb_memory_limit, ENV_DUCKDB_THREADS: str(env.duckdb_threads)}
    if env.duckdb_temp_directory is not None:
        values[ENV_DUCKDB_TEMP_DIRECTORY] = str(env.duckdb_temp_directory)
    return values
