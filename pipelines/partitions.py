"""Monthly partitions: a pool, a worker audit row or an invoice belongs to one month.

Partition keys are months as the rest of pennytrail writes them (``2026-03``), from the first
month with data to next month. The first month is recorded in the home's Dagster folder by the
close (``record_first_month``); before any close, the partitions start this month.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import dagster as dg

FIRST_MONTH_FILE = "first-month.txt"


def _first_month_file() -> Path | None:
    home = os.environ.get("PENNYTRAIL_HOME")
    return Path(home) / "dagster" / FIRST_MONTH_FILE if home else None


def first_month() -> str:
    path = _first_month_file()
    if path is not None and path.is_file():
        text = path.read_text(encoding="utf-8").strip()
        if re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", text):
            return text
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")


def record_first_month(month: str) -> bool:
    """Record the first month with data; True when the partitions must be rebuilt to include it."""
    path = _first_month_file()
    if path is not None and (not path.is_file() or path.read_text(encoding="utf-8") != month + "\n"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(month + "\n", encoding="utf-8")
    return month < monthly.get_first_partition_window().start.strftime("%Y-%m")


monthly = dg.MonthlyPartitionsDefinition(start_date=first_month(), fmt="%Y-%m", end_offset=1)


def month_of(partition_key: str) -> str:
    """A partition key is the month itself: ``2026-03``."""
    return partition_key


def partition_of(month: str) -> str:
    return month
