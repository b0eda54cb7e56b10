"""Split a folder of exports into the history and a later delivery, to exercise incremental runs.

`hold_back_after(exports, cutoff, later)` moves every record dated after `cutoff` (orders,
contacts, survey answers, customers created) out of the export files into new files in `later`,
dated the day after the cutoff, as the next night's export would bring them. Loading `exports`
and then `later` gives the same records as loading the unsplit folder. Used by the incremental
test and by scripts/benchmark.py; the files keep their format (CSV or Parquet).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from flows.contract import entity_for_file
from flows.duckdb_connection import connect

#: The column that dates a record of each entity (marketing spend stays with the history).
DATED_BY = {
    "customers": "created_at",
    "orders": "ordered_at",
    "contacts": "contacted_at",
    "survey_responses": "responded_at",
}


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _reader(path: Path) -> str:
    if path.suffix == ".parquet":
        return f"read_parquet({_literal(str(path))})"
    return f"read_csv({_literal(str(path))}, header = true, all_varchar = true, delim = ',', quote = '\"')"


def _writer(path: Path) -> str:
    return "(format parquet)" if path.suffix == ".parquet" else "(format csv, header, delimiter ',')"


def hold_back_after(exports: Path, cutoff: date, later: Path) -> dict[str, int]:
    """Move the records dated after `cutoff` from the files of `exports` into one file per entity
    in `later` (`<entity>_<cutoff + 1 day>_delivery.<ext>`); return the records moved per entity."""
    later.mkdir(parents=True, exist_ok=True)
    day = (cutoff + timedelta(days=1)).isoformat()
    moved: dict[str, int] = {}
    with connect() as con:
        con.execute("set preserve_insertion_order = true")
        for path in sorted(exports.iterdir()):
            entity = entity_for_file(path.name)
            if entity is None or entity.name not in DATED_BY:
                continue
            # the date part of an ISO 8601 timestamp, as written by the export
            is_later = f"left(trim({DATED_BY[entity.name]}), 10) > {_literal(cutoff.isoformat())}"
            con.execute(f"create or replace temp table export_rows as select * from {_reader(path)}")
            count = con.execute(f"select count(*) from export_rows where {is_later}").fetchone()[0]
            if not count:
                continue
            target = later / f"{entity.name}_{day}_delivery{path.suffix}"
            existing = f"select * from {_reader(target)} union all " if target.exists() else ""
            con.execute(
                f"create or replace temp table later_rows as {existing}select * from export_rows where {is_later}"
            )
            con.execute(f"copy later_rows to {_literal(str(target))} {_writer(target)}")
            con.execute(
                f"copy (select * from export_rows where not ({is_later})) to {_literal(str(path))} {_writer(path)}"
            )
            moved[entity.name] = moved.get(entity.name, 0) + count
    return moved
