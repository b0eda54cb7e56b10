"""Shared fixtures. Expensive things (generated data, a dbt build, a Prefect flow run) are made
once per session and shared; each test reads them, never rebuilds them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
os.environ.setdefault("PREFECT_HOME", str(PROJECT_DIR / ".prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


@pytest.fixture()
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory):
    """A realistic generated sample (3,000 customers, 2022-01-01 to 2025-12-31, seed 11) run once
    per session through the user's path, `python -m flows run` (load, dbt build, Great
    Expectations, publish). Tests that check what the marts show on realistic data read it; none
    may write to it. Returns the Paths of the run; the run must have succeeded."""
    import subprocess
    import sys
    from datetime import date

    from flows.config import Paths
    from flows.sample_data import generate_exports

    root = tmp_path_factory.mktemp("sample_run")
    exports = root / "exports"
    generate_exports(exports, customers=3000, seed=11, start=date(2022, 1, 1), end=date(2025, 12, 31))
    paths = Paths.resolve(exports=exports, warehouse=root / "build.duckdb", published=root / "published.duckdb")
    result = subprocess.run(
        [sys.executable, "-m", "flows", "run", "--exports", str(paths.exports),
         "--warehouse", str(paths.warehouse), "--published", str(paths.published)],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=1200,
    )
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    return paths
