"""What dbt built, read from dbt's own artefacts: the vars a build used.

The dbt vars live in `dbt_project.yml` (overridden per run with `--vars`); the Python side never
parses that file. The model `int_run_parameters` carries the vars it was built with in its
`config(meta=...)`, so dbt writes them into `manifest.json`; `project_vars` reads them from there,
running `dbt parse` first when there is no current manifest (e.g. `serve` before the first build,
or the loader before the first build on this code and these vars).
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

RUN_PARAMETERS_NODE = "model.customer_value.int_run_parameters"
#: Where `project_vars` keeps the manifest of its `dbt parse` (inside a dbt target folder) ...
PARSE_FOLDER = "vars_parse"
#: ... with the code fingerprint (flows/transform.py `code_fingerprint`) it was parsed from.
PARSE_FINGERPRINT = "parsed_code.sha256"
#: dbt's saved parse state in a target folder (what partial parsing starts from).
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


#: manifest_vars' answers by manifest file, its modification time and size: a run asks up to three
#: times (the load's window, the freshness check, the run report) and the file is megabytes of JSON
_MANIFEST_VARS: dict[tuple[str, int, int], dict[str, Any] | None] = {}


def manifest_vars(target_path: Path) -> dict[str, Any] | None:
    """The vars recorded in `target_path/manifest.json` (None without a manifest or the node)."""
    manifest = Path(target_path) / "manifest.json"
    try:
        stat = manifest.stat()
    except OSError:
        return None
    key = (str(manifest.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _MANIFEST_VARS:
        if len(_MANIFEST_VARS) >= 8:  # a long-lived process (serve) sees many builds
            _MANIFEST_VARS.clear()
        _MANIFEST_VARS[key] = _read_manifest_vars(manifest)
    return copy.deepcopy(_MANIFEST_VARS[key])


def _read_manifest_vars(manifest: Path) -> dict[str, Any] | None:
    node = json.loads(manifest.read_text()).get("nodes", {}).get(RUN_PARAMETERS_NODE)
    if node is None:
        return None
    meta = dict((node.get("config") or {}).get("meta") or node.get("meta") or {})
    return dict(meta["vars"]) if isinstance(meta.get("vars"), dict) else meta


def _current(folder: Path, fingerprint_file: str, fingerprint: str) -> dict[str, Any] | None:
    """The vars of `folder`'s manifest when `folder/fingerprint_file` holds `fingerprint`."""
    mark = folder / fingerprint_file
    if mark.is_file() and mark.read_text().strip() == fingerprint:
        return manifest_vars(folder)
    return None


def project_vars(
    dbt_vars: dict[str, Any] | None = None, target_path: Path | None = None, warehouse: Path | None = None
) -> dict[str, Any]:
    """Every dbt var as dbt resolves it (dbt_project.yml with `dbt_vars` on top).

    With `target_path` (a warehouse's dbt target folder), a manifest that is current is reused: the
    one of the last successful build there when it was built from this very dbt code and these vars
    (its `last_build_code.sha256` equals `code_fingerprint(dbt_vars)`), else the one a previous call
    parsed into `target_path/vars_parse` from the same code and vars. Only otherwise does it run
    `dbt parse` (a few seconds), keeping that manifest for the next call.

    With `warehouse` (the build warehouse of `target_path`) the parse runs with that warehouse in the
    profile (`dbt parse` does not open it), and its `partial_parse.msgpack` is copied into
    `target_path`: the build that follows then parses only what changed instead of the whole project
    again (dbt checks the file's vars, profile and code hashes itself and reparses when they differ)."""
    from flows.transform import LAST_BUILD_FINGERPRINT, code_fingerprint, run_dbt

    fingerprint = ""
    if target_path is not None:
        fingerprint = code_fingerprint(dbt_vars)
        for folder, mark in ((target_path, LAST_BUILD_FINGERPRINT), (target_path / PARSE_FOLDER, PARSE_FINGERPRINT)):
            found = _current(Path(folder), mark, fingerprint)
            if found is not None:
                return found
    with tempfile.TemporaryDirectory(prefix="cvw-dbt-parse-") as folder:
        target = Path(folder) if target_path is None else Path(target_path) / PARSE_FOLDER
        (target / PARSE_FINGERPRINT).unlink(missing_ok=True)
        profile_warehouse = Path(warehouse) if warehouse is not None else Path(folder) / "unused.duckdb"
        result = run_dbt(["parse"], profile_warehouse, target, dbt_vars=dbt_vars, quiet=True)
        found = manifest_vars(target)
        if result.success and found is not None and target_path is not None:
            (target / PARSE_FINGERPRINT).write_text(fingerprint + "\n")
            if warehouse is not None and (target / PARTIAL_PARSE_FILE).is_file():
                shutil.copy(target / PARTIAL_PARSE_FILE, Path(target_path) / PARTIAL_PARSE_FILE)
    if not result.success or found is None:
        raise RuntimeError(f"dbt parse could not resolve the project's vars (exit code {result.return_code})")
    return found
