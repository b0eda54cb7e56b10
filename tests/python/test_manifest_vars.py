"""`manifest_vars` reads a manifest once per version of the file: a run asks three times."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flows.dbt_artifacts import RUN_PARAMETERS_NODE, manifest_vars


def write_manifest(folder: Path, churn_window_days: int) -> None:
    node = {"config": {"meta": {"vars": {"churn_window_days": churn_window_days, "grains": ["month"]}}}}
    (folder / "manifest.json").write_text(json.dumps({"nodes": {RUN_PARAMETERS_NODE: node}}))


@pytest.mark.unit
def test_a_rewritten_manifest_is_read_again_and_callers_get_their_own_copy(tmp_path: Path) -> None:
    assert manifest_vars(tmp_path) is None
    write_manifest(tmp_path, 365)
    first = manifest_vars(tmp_path)
    assert first == {"churn_window_days": 365, "grains": ["month"]}
    first["grains"].append("year")  # a caller changing its answer changes no later answer
    assert manifest_vars(tmp_path) == {"churn_window_days": 365, "grains": ["month"]}
    write_manifest(tmp_path, 180)  # the next build's manifest (same size: the modification time tells)
    stat = (tmp_path / "manifest.json").stat()
    os.utime(tmp_path / "manifest.json", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert manifest_vars(tmp_path) == {"churn_window_days": 180, "grains": ["month"]}
    (tmp_path / "manifest.json").unlink()
    assert manifest_vars(tmp_path) is None
