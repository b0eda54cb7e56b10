"""Run dbt over the build warehouse.

dbt runs as a subprocess, one invocation at a time per warehouse file: DuckDB allows one
writing process per file, and a subprocess is sure to release it when it ends (dbt-core
does not support parallel in-process invocations either). The per-node outcome is read
from dbt's own `run_results.json`.

Incremental models keep rows computed by earlier runs, so they are only right while the code and
vars that computed them are unchanged; dbt's unit tests check the SQL on fixed, hand-written input,
so their outcome depends on the code and vars only, never on the data. `build` therefore keeps a
fingerprint of the dbt code and vars of its last successful build in the target folder: when the
fingerprint differs (or is missing) the build is a full refresh with unit tests; when it is the
same, the build is incremental (or a full refresh when asked for) and skips the unit tests, which
passed on this very code (README "Incremental runs").

An incremental build builds only what new data can change: the models (and their tests) downstream
of the sources that received a load since the last successful build (`changed_source_selection`);
every other model is a function of unchanged raw tables, code and vars, so it already holds what a
rebuild would give. The as-of date comes from the orders only, so a load of survey answers alone
does not move it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from flows.config import ENV_WAREHOUSE, PROJECT_DIR, dbt_vars_json
from flows.duckdb_connection import connect, dbt_environment
from flows.errors import is_lock_message

if TYPE_CHECKING:
    import duckdb

T = TypeVar("T")


@dataclass
class NodeResult:
    name: str
    resource_type: str  # model | test | seed | unit_test | snapshot
    status: str  # success | pass | warn | fail | error | skipped
    message: str = ""
    failures: int | None = None


@dataclass
class DbtResult:
    command: list[str]
    return_code: int
    nodes: list[NodeResult] = field(default_factory=list)
    elapsed_seconds: float = 0.0
    unit_tests_skipped: bool = False  # the code and vars were those of a build that passed them
    #: DuckDB's lock error when dbt could not open the warehouse (another process writes it), from dbt's log
    lock_error: str = ""
    full_refresh: bool = False
    code_changed: bool = False  # the dbt code or vars differ from the last successful build's
    #: the `--select` of an incremental build limited to the sources with new loads ([]: everything)
    selection: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.return_code == 0

    def count(self, resource_type: str, *statuses: str) -> int:
        return sum(1 for n in self.nodes if n.resource_type == resource_type and (not statuses or n.status in statuses))

    @property
    def failed(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in ("fail", "error")]

    @property
    def warned(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status == "warn"]

    def failure_summary(self) -> str:
        if not self.failed:
            return f"dbt exited with code {self.return_code} (see the dbt log above)"
        names = ", ".join(
            f"{n.name} ({n.status}{f', {n.failures} rows' if n.failures else ''})" for n in self.failed[:5]
        )
        more = f" and {len(self.failed) - 5} more" if len(self.failed) > 5 else ""
        return f"dbt: {len(self.failed)} failed: {names}{more}"


class DbtError(RuntimeError):
    """dbt failed; the message names the failing models and tests."""

    def __init__(self, result: DbtResult) -> None:
        super().__init__(result.failure_summary())
        self.result = result


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def node_name(unique_id: str) -> str:
    """The name a person knows a node by: `model.customer_value.orders` -> orders, a generic test
    `test.customer_value.unique_orders_order_id.eb544cb895` -> unique_orders_order_id (not its hash),
    `unit_test.customer_value.orders.some_test` -> orders.some_test."""
    kind, _, rest = unique_id.partition(".")
    _package, _, name = rest.partition(".")
    if kind == "unit_test":
        return name
    return name.split(".")[0]


def dbt_arguments(args: list[str], target_path: Path, dbt_vars: dict[str, object] | None = None) -> list[str]:
    """`args` with the project's directories, `target_path` (its logs inside) and `--vars`: every dbt
    invocation of the flows (a subprocess here, dbt in-process for Spark: flows/spark_build.py)."""
    command = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path / "logs"),
    ]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars, default=str)]  # a YAML date (1997-09-30) as its text
    return command


def run_dbt(
    args: list[str],
    warehouse: Path,
    target_path: Path,
    dbt_vars: dict[str, object] | None = None,
    quiet: bool = False,
) -> DbtResult:
    """Run `dbt <args>` from the project directory against `warehouse`; never raises on dbt failure."""
    target_path.mkdir(parents=True, exist_ok=True)
    command = [dbt_executable(), *dbt_arguments(args, target_path, dbt_vars)]
    env = {**os.environ, **dbt_environment(), ENV_WAREHOUSE: str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    run_results = target_path / "run_results.json"
    run_results.unlink(missing_ok=True)
    log_file = target_path / "logs" / "dbt.log"
    log_offset = log_file.stat().st_size if log_file.exists() else 0
    completed = subprocess.run(
        command,
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL if quiet else None,
        check=False,
    )
    result = DbtResult(command=command, return_code=completed.returncode)
    if completed.returncode != 0:
        result.lock_error = _lock_error_in_log(log_file, log_offset)
    if run_results.exists():
        data = json.loads(run_results.read_text())
        result.elapsed_seconds = float(data.get("elapsed_time") or 0.0)
        for item in data.get("results", []):
            unique_id: str = item["unique_id"]
            result.nodes.append(
                NodeResult(
                    name=node_name(unique_id),
                    resource_type=unique_id.split(".")[0],
                    status=str(item.get("status")),
                    message=str(item.get("message") or ""),
                    failures=item.get("failures"),
                )
            )
    return result


def _lock_error_in_log(log_file: Path, offset: int) -> str:
    """DuckDB's lock error in what this invocation wrote to dbt's log ('' when there is none): dbt
    reports a warehouse it cannot open only there, as a runtime error with exit code 2."""
    if not log_file.exists():
        return ""
    with log_file.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode("utf-8", errors="replace")
    for line in text.splitlines():
        if is_lock_message(line):
            start = min((i for i in (line.find("IO Error"), line.find("Could not set lock")) if i >= 0), default=0)
            return line[start:].strip()
    return ""


#: Folders and files whose content the unit tests' outcome depends on (flows/clv: the fit the dbt
#: Python models import).
CODE_PATHS = ("models", "macros", "tests/dbt", "seeds", "snapshots", "dbt_project.yml", "flows/clv")
LAST_BUILD_FINGERPRINT = "last_build_code.sha256"


def code_fingerprint(dbt_vars: dict[str, object] | None = None) -> str:
    """SHA-256 of the dbt project's code (CODE_PATHS), the vars given and the dbt version."""
    from importlib.metadata import version

    dbt_version = f"{version('dbt-core')} {version('dbt-duckdb')} duckdb {version('duckdb')}"
    digest = hashlib.sha256(f"dbt {dbt_version}\nvars {dbt_vars_json(dbt_vars)}\n".encode())
    for name in CODE_PATHS:
        root = PROJECT_DIR / name
        files = (
            sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            if root.is_dir()
            else [root]
            if root.exists()
            else []
        )
        for path in files:
            digest.update(f"{path.relative_to(PROJECT_DIR)}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


#: The newest load of raw.load_manifest when the last successful build started (load_id and
#: content_hash): the next incremental build selects the sources with later loads.
LAST_BUILD_LOAD = "last_build_load.json"
RAW_SCHEMA = "raw"


def newest_load(warehouse: Path) -> dict[str, Any] | None:
    """{load_id, content_hash} of the newest load in `warehouse`'s raw.load_manifest (None without one)."""
    if not warehouse.exists():
        return None
    row = _read_unless_locked(
        warehouse,
        lambda con: con.execute(
            f"select load_id, content_hash from {RAW_SCHEMA}.load_manifest order by load_id desc limit 1"
        ).fetchone(),
    )
    return {"load_id": int(row[0]), "content_hash": str(row[1])} if row else None


def _read_unless_locked(warehouse: Path, read: Callable[[duckdb.DuckDBPyConnection], T]) -> T | None:
    """`read(con)` on the warehouse opened read-only; None when a table it reads is missing or another
    process writes the file (dbt then reports the lock itself: WarehouseLocked)."""
    import duckdb

    try:
        with connect(warehouse, read_only=True) as con:
            return read(con)
    except duckdb.CatalogException:
        return None
    except duckdb.IOException as exc:
        if is_lock_message(str(exc)):
            return None
        raise


def source_selectors(manifest: dict[str, Any], entities: set[str]) -> list[str] | None:
    """`source:<source>.<table>+` for each raw table of `entities` in a dbt manifest, sorted; None when
    an entity has no source there (then nothing is known and everything must be built)."""
    raw_tables = {
        (node.get("identifier") or node["name"]): f"source:{node['source_name']}.{node['name']}+"
        for node in manifest.get("sources", {}).values()
        if node.get("schema") == RAW_SCHEMA
    }
    if not entities <= raw_tables.keys():
        return None
    return sorted(raw_tables[entity] for entity in entities)


def changed_source_selection(warehouse: Path, target_path: Path) -> list[str] | None:
    """The `--select` of an incremental build: the models downstream of the sources that received a
    loaded file since the last successful build in `target_path`. None (build everything) when that
    is not known for sure: no record of the last build, its newest load is not in this warehouse's
    manifest with the same content hash (another warehouse), a model of the manifest has no table in
    the warehouse, no source got a load (a re-run after a failed validation or publish builds all),
    an entity without a dbt source got one, or another process holds the warehouse (then dbt
    reports the lock)."""
    record, manifest_file = target_path / LAST_BUILD_LOAD, target_path / "manifest.json"
    if not record.is_file() or not manifest_file.is_file() or not warehouse.exists():
        return None
    last = json.loads(record.read_text())
    manifest = json.loads(manifest_file.read_text())
    models = {
        (node["schema"], node.get("alias") or node["name"])
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model" and node.get("config", {}).get("materialized") != "ephemeral"
    }

    def changes(con: duckdb.DuckDBPyConnection) -> tuple[set, set[str]] | None:
        same_load = con.execute(
            f"select count(*) from {RAW_SCHEMA}.load_manifest where load_id = ? and content_hash = ?",
            [last["load_id"], last["content_hash"]],
        ).fetchone()[0]
        if not same_load:
            return None
        tables = set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())
        entities = {
            row[0]
            for row in con.execute(
                f"select distinct entity from {RAW_SCHEMA}.load_manifest where load_id > ? and status = 'loaded'",
                [last["load_id"]],
            ).fetchall()
        }
        return tables, entities

    found = _read_unless_locked(warehouse, changes)
    if found is None:
        return None
    tables, entities = found
    if not models <= tables or not entities:
        return None
    return source_selectors(manifest, entities)


def build(
    warehouse: Path,
    target_path: Path,
    full_refresh: bool = False,
    dbt_vars: dict[str, object] | None = None,
    quiet: bool = False,
    unit_tests: bool | None = None,
) -> DbtResult:
    """`dbt build` (seeds, models, snapshots, unit and data tests); raises DbtError naming what failed.

    full_refresh: True rebuilds every model from raw; False builds incrementally, except when the
    dbt code or vars differ from those of the last successful build in `target_path` (then it is a
    full refresh: rows kept from earlier runs were computed by other code). An incremental build
    selects only the models downstream of the sources with new loads (`changed_source_selection`,
    in `DbtResult.selection`).
    unit_tests: None runs dbt's unit tests when the dbt code or vars differ from those of the last
    successful build with unit tests (their outcome depends on nothing else, so a full refresh of
    the same code does not run them again); True or False forces them on or off.
    """
    fingerprint = code_fingerprint(dbt_vars)
    last_build = target_path / LAST_BUILD_FINGERPRINT
    code_changed = not last_build.exists() or last_build.read_text().strip() != fingerprint
    full_refresh = full_refresh or code_changed
    if unit_tests is None:
        unit_tests = code_changed
    selection = None if full_refresh else changed_source_selection(warehouse, target_path)
    loads_seen = newest_load(warehouse)  # read before dbt opens the warehouse
    args = ["build"] + (["--full-refresh"] if full_refresh else [])
    if selection:
        args += ["--select", *selection]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    if code_changed:
        last_build.unlink(missing_ok=True)
    if full_refresh:  # a full refresh that fails leaves no record: the next build builds everything
        (target_path / LAST_BUILD_LOAD).unlink(missing_ok=True)
    result = run_dbt(args, warehouse, target_path, dbt_vars=dbt_vars, quiet=quiet)
    result.unit_tests_skipped = not unit_tests
    result.full_refresh = full_refresh
    result.code_changed = code_changed
    result.selection = selection or []
    if not result.success:
        if result.lock_error:  # another process holds the warehouse: a retry can cure it
            from flows.resilience import WarehouseLocked

            raise WarehouseLocked(warehouse, result.lock_error)
        raise DbtError(result)
    if code_changed and unit_tests:  # a full refresh on this code passed its unit tests
        last_build.write_text(fingerprint + "\n")
    if loads_seen is not None:
        (target_path / LAST_BUILD_LOAD).write_text(json.dumps(loads_seen) + "\n")
    return result
