"""Calendar arithmetic on naive local seconds (Europe/Amsterdam wall-clock time, no time zone library)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from flows.sample_data.params import DAY


def epoch(d: date) -> int:
    """Seconds since 1970-01-01 of midnight at `d` (naive local time)."""
    return (d - date(1970, 1, 1)).days * DAY


def _summer_time(local_seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: start and end (naive local seconds) of that year's Europe/Amsterdam summer time.

    EU rules: from the last Sunday of March 02:00 (clocks jump to 03:00) to the last
    Sunday of October 03:00 (clocks go back to 02:00).
    """
    if len(local_seconds) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    years = local_seconds.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
    years = np.clip(years, 1971, 9998)  # far-off values (never written) need no exact rule
    table_years = range(int(years.min()), int(years.max()) + 1)  # one entry per year, not per row

    def last_sunday(month: int) -> np.ndarray:
        days = [date(y, month, 31) for y in table_years]
        return np.array([epoch(d - timedelta(days=(d.weekday() + 1) % 7)) for d in days], dtype=np.int64)

    i = years - table_years[0]
    return (last_sunday(3) + 2 * 3600)[i], (last_sunday(10) + 3 * 3600)[i]


def skip_dst_gap(local_seconds: np.ndarray) -> np.ndarray:
    """Move times in the hour skipped in spring (02:00-03:00 does not exist) one hour on."""
    summer_from, _ = _summer_time(local_seconds)
    in_gap = (local_seconds >= summer_from) & (local_seconds < summer_from + 3600)
    return local_seconds + np.where(in_gap, 3600, 0)


def utc_offset_hours(local_seconds: np.ndarray) -> np.ndarray:
    """UTC offset of Europe/Amsterdam (1 or 2) for naive local times.

    In the repeated October hour the first (summer-time) reading is used.
    """
    summer_from, summer_to = _summer_time(local_seconds)
    return np.where((local_seconds >= summer_from) & (local_seconds < summer_to), 2, 1)
