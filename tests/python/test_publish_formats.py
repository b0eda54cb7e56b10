"""What every client can open: the published DuckDB file read by a DuckDB 1.x client, and the optional
CSV files for spreadsheets (flows/publish.py, flows/release_files.py)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.publish import csv_format, is_current, publish_marts
from flows.release import Layout
from flows.release_files import CsvFormat, csv_select
from tests.python.conftest import exclusive, flow_options_of_cli_runs

#: The oldest DuckDB client the publication is for (issue 12: DuckDB 1.1 and later).
OLD_DUCKDB = "1.1.3"

#: Every mart as a DuckDB client sees it: its columns and types, its rows, and the rows of its Parquet file.
CLIENT = r"""
import json, os, sys
import duckdb

published, release = sys.argv[1], sys.argv[2]
con = duckdb.connect(published, read_only=True)
tables = [r[0] for r in con.execute(
    "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
seen = {}
for table in tables:
    types = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = ? order by ordinal_position", [table]).fetchall()
    rows = con.execute(f'select count(*) from marts."{table}"').fetchone()[0]
    parquet = os.path.join(release, "parquet", table + ".parquet")
    parquet_rows = con.execute("select count(*) from read_parquet(?)", [parquet]).fetchone()[0] if os.path.exists(parquet) else None
    seen[table] = {"types": [list(t) for t in types], "rows": rows, "parquet_rows": parquet_rows}
print(json.dumps({"version": duckdb.__version__, "marts": seen}))
"""


def client_view(python: list[str], env: dict[str, str] | None, published: Path) -> dict[str, Any]:
    release = os.path.realpath(Layout.of(published).current)
    done = subprocess.run(
        [*python, "-c", CLIENT, str(published), release], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def cache_folder() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "customer-value-warehouse"


@pytest.fixture(scope="session")
def old_duckdb() -> Path:
    """A folder holding python duckdb OLD_DUCKDB, installed from PyPI once (`pip install --target`) into the
    user's cache and reused by later sessions; the client runs on it alone (`python -S`, PYTHONPATH)."""
    folder = cache_folder() / f"duckdb-{OLD_DUCKDB}"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(folder.parent / f"duckdb-{OLD_DUCKDB}.lock"):
        if not (folder / "duckdb").is_dir():
            staging = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}")
            pip = subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                 "--target", str(staging), f"duckdb=={OLD_DUCKDB}"],
                capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            if pip.returncode != 0:
                lines = [line for line in pip.stderr.splitlines() if line.strip()]
                pytest.skip(f"could not install duckdb=={OLD_DUCKDB} from PyPI (unreachable?): {lines[-1:]}")
            os.rename(staging, folder)
    return folder


def test_a_duckdb_1x_client_reads_every_published_mart(sample_run, old_duckdb: Path) -> None:
    """The session's publication, opened read-only by python duckdb 1.1.3: every mart with the same
    columns, types and rows as DuckDB 2.0 sees them; its Parquet files too."""
    old = client_view(
        [sys.executable, "-S"], {"PYTHONPATH": str(old_duckdb), "PATH": os.environ["PATH"]}, sample_run.published
    )
    new = client_view([sys.executable], None, sample_run.published)
    assert old["version"] == OLD_DUCKDB and new["version"] == duckdb.__version__ != OLD_DUCKDB
    assert old["marts"] == new["marts"]
    assert {"customer_audit_figures", "orders", "survey_scores", "_publication"} <= old["marts"].keys()
    assert all(m["parquet_rows"] == m["rows"] for name, m in old["marts"].items() if not name.startswith("_"))
    assert old["marts"]["orders"]["rows"] > 1000


# ------------------------------------------------------------------------------------------------ CSV

INJECTED = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def test_the_csv_files_are_for_spreadsheets_and_neutralise_formulas(copy_run) -> None:
    """A copy of the session's build, with text cells that would start a formula: the CSV of each mart
    is `;`-separated UTF-8 with BOM, formulas start with `'`, decimals and doubles have a decimal
    comma and read back as the mart's values."""
    paths = copy_run()
    with duckdb.connect(str(paths.warehouse)) as con:
        ids = [r[0] for r in con.execute("select customer_id from marts.customers order by 1 limit 7").fetchall()]
        for customer_id, value in zip(ids, INJECTED, strict=False):
            con.execute(
                "update marts.customers set acquisition_channel = ? where customer_id = ?", [value, customer_id]
            )
    folder = publish_marts(paths.warehouse, paths.published, run_id="csv", csv=CsvFormat())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["csv"] == {"delimiter": ";", "decimal_separator": ",", "encoding": "utf-8-sig"}
    assert {f["path"] for f in manifest["files"] if f["format"] == "csv"} == {
        f"csv/{mart}.csv" for mart in manifest["marts"]
    }

    raw = (folder / "csv" / "customers.csv").read_bytes()
    with duckdb.connect(str(paths.published), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_name = 'customers' order by ordinal_position"
            ).fetchall()
        ]
        values = {r[0]: r for r in con.execute("select * from marts.customers").fetchall()}
        scores = con.execute("select * from marts.survey_scores").fetchall()
        score_types = con.execute(
            "select data_type from information_schema.columns where table_name = 'survey_scores' order by ordinal_position"
        ).fetchall()
    assert raw.startswith(b"\xef\xbb\xbf" + ";".join(names).encode() + b"\n")
    rows = read_csv(folder / "csv" / "customers.csv")
    assert rows[0] == names and len(rows) - 1 == len(values) == manifest["marts"]["customers"]
    by_id = {row[0]: dict(zip(names, row, strict=True)) for row in rows[1:]}
    assert [by_id[c]["acquisition_channel"] for c in ids] == ["'" + v for v in INJECTED] + [
        values[ids[6]][names.index("acquisition_channel")] or ""
    ]
    revenue = names.index("revenue")
    assert all(Decimal(by_id[c]["revenue"].replace(",", ".")) == v[revenue] for c, v in values.items())
    assert any("," in by_id[c]["revenue"] for c in values)  # decimal comma, never a point
    assert not any("." in by_id[c]["revenue"] for c in values)

    # doubles: the decimal comma, and each cell reads back as exactly the mart's value
    score_rows = read_csv(folder / "csv" / "survey_scores.csv")[1:]
    doubles = [i for i, (t,) in enumerate(score_types) if t == "DOUBLE"]
    assert doubles and len(score_rows) == len(scores)
    assert not any("." in row[i] for row in score_rows for i in doubles)
    parsed = Counter(tuple(float(row[i].replace(",", ".")) if row[i] else None for i in doubles) for row in score_rows)
    expected = Counter(tuple(r[i] for i in doubles) for r in scores)
    assert parsed == expected

    # a spreadsheet-minded reader (DuckDB's own CSV reader with the decimal comma) gets the revenue back
    with duckdb.connect() as con:
        total = con.execute(
            "select sum(revenue) from read_csv(?, delim = ';', decimal_separator = ',', header = true, "
            "types = {'revenue': 'DECIMAL(38,2)'})",
            [str(folder / "csv" / "customers.csv")],
        ).fetchone()[0]
    assert total == sum(v[revenue] for v in values.values() if v[revenue] is not None)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def test_csv_cells_are_rewritten_set_based_for_text_and_numbers() -> None:
    """The select that writes a mart as CSV cells, on hand-made values (no sample needed)."""
    with duckdb.connect() as con:
        con.execute(
            """create table t as select * from (values
                 ('=1+1', 1234.5::decimal(18,2), 0.25::double, -3, date '2025-01-31'),
                 ('a;b"c', -0.5::decimal(18,2), 1e-7::double, 0, null),
                 ('', null, null, null, null),
                 (null, 0::decimal(18,2), -2.5::double, 1, date '2025-02-01'),
                 ('plain - text', 1::decimal(18,2), 3::double, 2, null)) v(s, d, x, i, dt)"""
        )
        columns = con.execute(
            "select column_name, data_type from information_schema.columns where table_name = 't'"
        ).fetchall()
        comma = con.execute(csv_select("t", columns, CsvFormat())).fetchall()
        point = con.execute(csv_select("t", columns, CsvFormat(decimal_separator="."))).fetchall()
    assert comma == [
        ("'=1+1", "1234,50", "0,25", -3, duckdb_date("2025-01-31")),
        ('a;b"c', "-0,50", "1e-07", 0, None),
        ("", None, None, None, None),
        (None, "0,00", "-2,5", 1, duckdb_date("2025-02-01")),
        ("plain - text", "1,00", "3,0", 2, None),
    ]
    assert [r[1:3] for r in point] == [
        (Decimal("1234.50"), 0.25), (Decimal("-0.50"), 1e-7), (None, None), (Decimal("0.00"), -2.5), (Decimal("1.00"), 3.0)
    ]  # fmt: skip
    with pytest.raises(ValueError, match="decimal separator must be ',' or '.'"):
        CsvFormat(decimal_separator=";")


def duckdb_date(text: str) -> object:
    from datetime import date

    return date.fromisoformat(text)


def test_an_empty_mart_has_a_csv_file_with_its_header_only(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts; create table marts.empty (survey_id varchar, nps double)")
        con.execute("create table marts.one as select 1.5 as amount")
    folder = publish_marts(warehouse, tmp_path / "p.duckdb", run_id="r", csv=CsvFormat())
    assert (folder / "csv" / "empty.csv").read_bytes() == b"\xef\xbb\xbfsurvey_id;nps\n"
    assert (folder / "csv" / "one.csv").read_bytes() == b"\xef\xbb\xbfamount\n1,5\n"


def test_a_publication_without_the_csv_asked_for_is_not_current(tmp_path: Path, monkeypatch) -> None:
    """`--csv` (or $CVW_CSV) on a run with nothing new: the publication lacks the CSV files, so the run
    publishes instead of stopping as up to date; with them (same separator) it is current."""
    warehouse, published = tmp_path / "w.duckdb", tmp_path / "p.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts; create table marts.t as select 1 as x")
    publish_marts(warehouse, published, run_id="r1", state="s")
    assert is_current(published, "s") and not is_current(published, "other")
    assert not is_current(published, "s", CsvFormat())
    publish_marts(warehouse, published, run_id="r2", state="s", csv=CsvFormat())
    assert is_current(published, "s", CsvFormat()) and not is_current(published, "s", CsvFormat("."))
    assert is_current(published, "s")  # CSV not asked for: the publication with CSV is current too

    monkeypatch.delenv("CVW_CSV", raising=False)
    assert csv_format() is None and csv_format(True) == CsvFormat(",")
    monkeypatch.setenv("CVW_CSV", "true")
    monkeypatch.setenv("CVW_CSV_DECIMAL_SEPARATOR", ".")
    assert csv_format() == CsvFormat(".") and csv_format(False) is None


def test_the_cli_asks_for_csv_with_the_csv_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m flows run --csv` gives the flow csv=True; without it the flow takes $CVW_CSV (None)."""
    calls = flow_options_of_cli_runs(monkeypatch, tmp_path / "exports", [], ["--csv"])
    assert [c["csv"] for c in calls] == [None, True]
