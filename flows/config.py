"""Settings of a run: every `CVW_*` environment variable is read here, and only here.

`Settings` is a typed pydantic-settings object (environment variables `CVW_EXPORTS`,
`CVW_WAREHOUSE`, ...; empty values count as unset). `Paths` is where one run reads and writes:
an option given on the command line (or as a flow parameter) wins over the environment, which
wins over the defaults. dbt vars are not settings: they live in `dbt_project.yml` and are
overridden per run with `--vars` (`parse_dbt_vars`), exactly as `dbt --vars` takes them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent

#: Environment variable that profiles.yml reads for the build warehouse (dbt run by hand uses it too).
ENV_WAREHOUSE = "CVW_WAREHOUSE"

DEFAULT_WAREHOUSE = PROJECT_DIR / "warehouse" / "customer_value.duckdb"
DEFAULT_PUBLISHED = PROJECT_DIR / "warehouse" / "published.duckdb"
DEFAULT_EXPORTS = PROJECT_DIR / "data" / "exports"
DEFAULT_OUTPUT = PROJECT_DIR / "warehouse" / "output"
DEFAULT_NIGHTLY_CRON = "0 2 * * *"
DEFAULT_INTRADAY_CRON = "*/15 * * * *"
#: An export file modified less than this many seconds ago may still be being written (run and deployments).
DEFAULT_SETTLE_SECONDS = 10.0
DEFAULT_LOCK_NAME = "cvw-warehouse-writer"
DEFAULT_LOCK_TIMEOUT_SECONDS = 6 * 3600.0
#: Releases of the publication kept on disk, the current one included (flows/release.py).
DEFAULT_KEEP_RELEASES = 3
#: DuckDB's memory limit per process unless CVW_DUCKDB_MEMORY_LIMIT says otherwise: DuckDB's own
#: default, 80 % of the machine's RAM (19 GB on 24 GB; set e.g. 2GB on an 8 GB laptop).
DEFAULT_DUCKDB_MEMORY_LIMIT = "80%"
#: Environment variables that profiles.yml reads for dbt's DuckDB (set from Settings by flows/transform.py).
ENV_DUCKDB_MEMORY_LIMIT = "CVW_DUCKDB_MEMORY_LIMIT"
ENV_DUCKDB_THREADS = "CVW_DUCKDB_THREADS"
ENV_DUCKDB_TEMP_DIRECTORY = "CVW_DUCKDB_TEMP_DIRECTORY"


class Settings(BaseSettings):
    """The `CVW_*` environment variables (see README "Configuration")."""

    model_config = SettingsConfigDict(env_prefix="CVW_", env_ignore_empty=True, extra="ignore")

    exports: Path | None = None
    warehouse: Path | None = None
    published: Path | None = None
    output: Path | None = None
    #: schedules of the served deployments; the time zone defaults to the dbt var reporting_timezone
    nightly_cron: str = DEFAULT_NIGHTLY_CRON
    intraday_cron: str = DEFAULT_INTRADAY_CRON
    timezone: str | None = None
    #: the Prefect global concurrency limit that lets one run write the warehouse at a time
    lock_name: str = DEFAULT_LOCK_NAME
    #: how long a run waits for that slot, and a step for another process's hold on the warehouse file
    lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS
    #: the publication (flows/publish.py): also CSV per mart (`--csv`), its decimal separator, releases kept
    csv: bool = False
    csv_decimal_separator: str = ","
    keep_releases: int = Field(default=DEFAULT_KEEP_RELEASES, ge=1)
    #: DuckDB's resources in every step (dbt through profiles.yml, the loader, validation, publish, report,
    #: erasure: flows/duckdb_connection.py): memory_limit as DuckDB takes it ("2GB", "80%"), threads
    #: (default one per core), and where a query over the limit spills (None: `<database file>.tmp`, or the
    #: system's temporary folder for in-memory connections)
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_threads: int = Field(default_factory=lambda: _usable_cores(), ge=1)
    duckdb_temp_directory: Path | None = None


def _usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def settings() -> Settings:
    """The settings as the environment holds them now (read on every call: tests and runs change it)."""
    return Settings()


def _absolute(path: Path | str, follow_links: bool = True) -> Path:
    """`path` made absolute; with `follow_links` also with every symlink resolved. The published path is
    a link into the current release (flows/release.py), so it is kept as given."""
    if follow_links:
        return Path(path).expanduser().resolve()
    return Path(os.path.abspath(Path(path).expanduser()))


@dataclass(frozen=True)
class Paths:
    """Where one pipeline run reads and writes."""

    exports: Path
    warehouse: Path  # the build warehouse: raw, staging, intermediate and unvalidated marts
    published: Path  # the DuckDB file BI tools read: validated marts only (a link into the current release)
    output: Path  # run artefacts: dbt target, GX Data Docs, run summaries

    @classmethod
    def resolve(
        cls,
        exports: Path | str | None = None,
        warehouse: Path | str | None = None,
        published: Path | str | None = None,
        output: Path | str | None = None,
    ) -> Paths:
        env = settings()
        warehouse_path = _absolute(warehouse or env.warehouse or DEFAULT_WAREHOUSE)
        # By default the published file and the run output sit beside the build warehouse.
        if warehouse_path == DEFAULT_WAREHOUSE:
            default_published, default_output = DEFAULT_PUBLISHED, DEFAULT_OUTPUT
        else:
            default_published = warehouse_path.with_name(warehouse_path.stem + "_published.duckdb")
            default_output = warehouse_path.with_name(warehouse_path.stem + "_output")
        return cls(
            exports=_absolute(exports or env.exports or DEFAULT_EXPORTS),
            warehouse=warehouse_path,
            published=_absolute(published or env.published or default_published, follow_links=False),
            output=_absolute(output or env.output or default_output),
        )

    @property
    def dbt_target(self) -> Path:
        """dbt's target folder of this warehouse: manifest.json, run_results.json, logs."""
        return self.output / "dbt"


def parse_dbt_vars(text: str | None) -> dict[str, Any]:
    """`--vars` as dbt takes it: a YAML (or JSON) mapping, e.g. `{churn_window_days: 180}`.

    Raises ValueError with a one-line cause for anything that is not a mapping."""
    if text is None or not text.strip():
        return {}
    import yaml  # only when there are vars: a run without them does not pay the import

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"--vars is not YAML or JSON: {' '.join(str(exc).split())}") from None
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise ValueError(
            f"--vars must be a mapping of var names to values, like '{{churn_window_days: 180}}', not {text!r}"
        )
    return value


def dbt_vars_json(dbt_vars: dict[str, Any] | None) -> str:
    """The vars as one canonical JSON text (sorted keys): what fingerprints and records compare."""
    return json.dumps(dbt_vars or {}, sort_keys=True, default=str)


def configure_prefect_defaults() -> None:
    """Prefect's local state stays in the project unless the user points Prefect elsewhere; no
    analytics; the temporary server gets time to start on a busy 2-core machine. Call before
    Prefect is imported (the CLI, the test suite and the benchmark do)."""
    os.environ.setdefault("PREFECT_HOME", str(PROJECT_DIR / ".prefect"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
