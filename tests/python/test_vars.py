"""`--vars` reaches the whole run: dbt build, the code fingerprint that decides a full refresh, the GX
suites, the run summary and the publication's recorded state."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import duckdb
import pytest

from flows.config import Paths, parse_dbt_vars
from tests.python.conftest import copy_paths, run_cli, run_on


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{churn_window_days: 180}", {"churn_window_days": 180}),
        (
            '{"churn_window_days": 180, "as_of_date": "2025-06-30"}',
            {"churn_window_days": 180, "as_of_date": "2025-06-30"},
        ),
        ("churn_window_days: 90", {"churn_window_days": 90}),
        ("", {}),
        (None, {}),
    ],
)
def test_vars_are_read_as_dbt_reads_them_yaml_or_json(text: str | None, expected: dict) -> None:
    assert parse_dbt_vars(text) == expected


@pytest.mark.parametrize("text", ["[1, 2]", "180", "{churn_window_days: [", "{1: 2}"])
def test_vars_that_are_not_a_mapping_are_refused_with_a_one_line_cause(text: str) -> None:
    with pytest.raises(ValueError, match="--vars") as raised:
        parse_dbt_vars(text)
    assert "\n" not in str(raised.value)


@pytest.mark.e2e
def test_a_bad_vars_option_fails_the_cli_with_a_one_line_cause(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    result = run_cli(
        "run",
        "--exports",
        str(tmp_path / "exports"),
        "--warehouse",
        str(tmp_path / "w.duckdb"),
        "--vars",
        "[180]",
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: --vars must be a mapping")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def run_with_vars(
    sample_run: Paths, tmp_path_factory: pytest.TempPathFactory, prefect_api: str
) -> tuple[Paths, subprocess.CompletedProcess[str]]:
    """The session's run, copied, then run again with another churn window."""
    paths = copy_paths(sample_run, tmp_path_factory.mktemp("vars"))
    result = run_on("run", paths, "--vars", "{churn_window_days: 180}", api_url=prefect_api)
    return paths, result


@pytest.mark.e2e
def test_another_churn_window_rebuilds_validates_and_publishes_its_figures(
    run_with_vars: tuple[Paths, subprocess.CompletedProcess[str]], sample_run: Paths
) -> None:
    paths, result = run_with_vars
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    # new vars: the fingerprint differs, so the build is a full refresh; the GX suites passed on it
    dbt_line = result.stdout.split("dbt build:")[1].splitlines()[0]
    assert "full refresh (dbt code or vars changed)" in dbt_line and ", 0 failed" in dbt_line
    assert "Great Expectations: passed" in result.stdout and "Published marts" in result.stdout
    # the published figures follow the var, and differ from the 365-day figures of the same exports
    assert rows(paths.published, "select distinct churn_window_days from marts.customer_audit_figures") == [(180,)]
    assert rows(paths.published, "select count(*) from marts.customers where is_in_base <> (recency_days < 180)") == [
        (0,)
    ]
    lost = "select sum(lost_customers) from marts.customer_audit_figures where period_grain = 'year'"
    assert rows(paths.published, lost) != rows(sample_run.published, lost)
    # the publication records the vars it stands on
    [(recorded,)] = rows(paths.published, "select dbt_vars from marts._publication")
    assert json.loads(recorded) == {"churn_window_days": 180}
    # the run summary's audit table says which window its figures use
    assert "W = 180 days" in result.stdout


@pytest.mark.e2e
def test_the_same_vars_again_find_nothing_new_and_other_vars_rebuild(
    run_with_vars: tuple[Paths, subprocess.CompletedProcess[str]], prefect_api: str
) -> None:
    paths, first = run_with_vars
    assert first.returncode == 0
    again = run_on(
        "run",
        paths,
        "--vars",
        '{"churn_window_days": 180}',
        api_url=prefect_api,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Nothing new" in again.stdout  # same files, same code, same vars (JSON or YAML alike)
