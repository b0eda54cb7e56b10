"""Where a publication lives, and how a new one is switched in (flows/publish.py writes its content).

Every publication is a *release*: a folder holding the DuckDB file, one Parquet file per mart,
optionally one CSV file per mart, other artefacts (e.g. a report) and `manifest.json`. For the
published path `warehouse/published.duckdb` (Paths.published, `$CVW_PUBLISHED`):

    warehouse/published.releases/<UTC time>-<run id>/   one release (the newest few are kept)
        published.duckdb  parquet/<mart>.parquet  csv/<mart>.csv  manifest.json  ...
    warehouse/published           -> published.releases/<the current release>   (symlink)
    warehouse/published.duckdb    -> published/published.duckdb                  (stable symlink)

A release is written into a hidden staging folder, renamed to its final name, and becomes current
when the `published` link is replaced by one pointing at it (`os.replace` of a new symlink: one
atomic rename). Everything under `published/` switches at that instant, so a reader that resolves
the link once (`os.path.realpath`, `readlink -f`) reads the DuckDB file, the Parquet files and the
manifest of one run; `published.duckdb` keeps working for the BI tools that open it. A release
stays on disk until `$CVW_KEEP_RELEASES` (DEFAULT_KEEP_RELEASES) newer ones exist, so a reader that
opened (or resolved) one keeps reading it; open files even survive their deletion. A published path that is a plain
file (the layout before releases) is replaced by the stable link on the next publication: readers
that have it open keep reading it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flows.config import DEFAULT_KEEP_RELEASES

MANIFEST = "manifest.json"
RELEASE_NAME = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[A-Za-z0-9_.-]+$")
STAGING_PREFIX = ".staging-"
#: A staging folder this old was left by a run that died: the next publication removes it.
STALE_STAGING_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class Layout:
    """The paths of the publication of one published path (see the module docstring)."""

    published: Path  # the stable link BI tools open: <dir>/<name>.duckdb -> <current>/<name>.duckdb
    current: Path  # the link to the current release: <dir>/<stem>
    releases: Path  # every release: <dir>/<stem>.releases/

    @classmethod
    def of(cls, published: Path) -> Layout:
        published = Path(published)
        stem = published.stem if published.suffix else f"{published.name}.current"
        return cls(published, published.with_name(stem), published.with_name(f"{stem}.releases"))

    @property
    def duckdb_name(self) -> str:
        """The DuckDB file's name inside a release: the published file's, so that DuckDB names the
        catalog alike (after the file name) whether a reader opens the link or the release's file."""
        return self.published.name

    def current_release(self) -> Path | None:
        """The folder of the current release, or None before the first publication in this layout."""
        if not self.current.is_symlink():
            return None
        target = Path(os.path.realpath(self.current))
        return target if target.is_dir() else None

    def release_folders(self) -> list[Path]:
        """Every complete release, oldest first (names start with their UTC time)."""
        if not self.releases.is_dir():
            return []
        return sorted(p for p in self.releases.iterdir() if p.is_dir() and RELEASE_NAME.match(p.name))

    def check(self) -> None:
        """Refuse a layout whose links are something else (a folder a user made), before writing anything."""
        if self.current.exists() and not self.current.is_symlink():
            raise RuntimeError(
                f"{self.current} should be the link to the current publication, but is a "
                f"{'folder' if self.current.is_dir() else 'file'}: move it away and publish again"
            )
        if self.published.is_dir() and not self.published.is_symlink():
            raise RuntimeError(f"the published path {self.published} is a folder, not a DuckDB file")
        folder = Path(os.path.realpath(self.published.parent))
        if folder.parent.name.endswith(".releases"):
            raise RuntimeError(
                f"the published path {self.published} is inside the release {folder}: "
                "publish to the stable path beside the releases folder instead"
            )


def release_name(run_id: str, at: datetime) -> str:
    """`<UTC time to the microsecond>-<run id>`: sorts by time, names the run."""
    tag = re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)[:40] or uuid.uuid4().hex[:12]
    return f"{at.strftime('%Y%m%dT%H%M%S.%fZ')}-{tag}"


def read_manifest(published: Path) -> dict[str, Any] | None:
    """The manifest of the current release of `published`, or None (no release yet, older layout)."""
    current = Layout.of(published).current_release()
    if current is None or not (current / MANIFEST).is_file():
        return None
    return json.loads((current / MANIFEST).read_text(encoding="utf-8"))


@contextmanager
def staging_folder(layout: Layout) -> Iterator[Path]:
    """A new, hidden folder among the releases to write a release into; removed if the writing fails."""
    layout.releases.mkdir(parents=True, exist_ok=True)
    staging = layout.releases / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _replace_link(link: Path, target: str) -> None:
    """Point `link` at `target` (relative to the link's folder) in one atomic rename."""
    if link.is_symlink() and os.readlink(link) == target:
        return
    temporary = link.with_name(f".{link.name}.{uuid.uuid4().hex[:8]}.tmp")
    os.symlink(target, temporary)
    try:
        os.replace(temporary, link)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def switch_to(layout: Layout, staging: Path, name: str) -> Path:
    """Make the written `staging` folder the release `name` and the current publication; returns its folder.

    Readers resolving `current` see the old release until the link's rename, the new one after it.
    The stable `published` link is made (or, over a plain file of the older layout, replaced) after
    the switch: it points through `current`, so it switches with it from then on."""
    release = layout.releases / name
    os.rename(staging, release)
    _replace_link(layout.current, os.path.relpath(release, layout.current.parent))
    _replace_link(layout.published, f"{layout.current.name}/{layout.duckdb_name}")
    return release


def prune(layout: Layout, keep: int = DEFAULT_KEEP_RELEASES) -> list[Path]:
    """Delete all but the newest `keep` releases (never the current one) and stale staging folders;
    returns what was deleted. A reader with a file of a deleted release open keeps reading it."""
    keep = max(int(keep), 1)
    current = layout.current_release()
    releases = layout.release_folders()
    doomed = [p for p in releases[: max(len(releases) - keep, 0)] if current is None or p != current]
    if layout.releases.is_dir():
        now = time.time()
        doomed += [
            p
            for p in layout.releases.iterdir()
            if p.name.startswith(STAGING_PREFIX) and now - p.stat().st_mtime > STALE_STAGING_SECONDS
        ]
    for folder in doomed:
        shutil.rmtree(folder, ignore_errors=True)
    return doomed
