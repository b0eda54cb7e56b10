"""What dbt built, read from dbt's own artefacts: the vars a build used.

The dbt vars live in `dbt_project.yml` (overridden per run with `--vars`); the Python side never
parses that file. The model `int_run_parameters` carries the vars it was built with in its
`config(meta=...)`, so dbt writes them into `manifest.json`; `project_vars` reads them from there,
running `dbt parse` first when there is no manifest yet (e.g. `serve` before the first build).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

RUN_PARAMETERS_NODE = "model.customer_value.int_run_parameters"


def manifest_vars(target_path: Path) -> dict[str, Any] | None:
    """The vars recorded in `target_path/manifest.json` (None without a manifest or the node)."""
    manifest = Path(target_path) / "manifest.json"
    if not manifest.is_file():
        return None
    node = json.loads(manifest.read_text()).get("nodes", {}).get(RUN_PARAMETERS_NODE)
    if node is None:
        return None
    meta = dict((node.get("config") or {}).get("meta") or node.get("meta") or {})
    return dict(meta["vars"]) if isinstance(meta.get("vars"), dict) else meta


def project_vars(dbt_vars: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every dbt var as dbt resolves it (dbt_project.yml with `dbt_vars` on top), from `dbt parse`."""
    from flows.transform import run_dbt

    with tempfile.TemporaryDirectory(prefix="cvw-dbt-parse-") as folder:
        target = Path(folder)
        result = run_dbt(["parse"], Path(folder) / "unused.duckdb", target, dbt_vars=dbt_vars, quiet=True)
        found = manifest_vars(target)
    if not result.success or found is None:
        raise RuntimeError(f"dbt parse could not resolve the project's vars (exit code {result.return_code})")
    return found
