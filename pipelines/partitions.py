"""Monthly partitions: a pool, a worker audit row or an invoice belongs to one month.

Partition keys are months as the rest of pennytrail writes them (``2026-03``), from the first
month with data to next month (``monthly_from``). The first month is recorded in the home's
Dagster folder by the close (``record_first_month``), where the UI's code location reads it
(``monthly``, over the home `make ui` names); before any close, the partitions start this month.
The application layer's runs build their definitions over the home's recorded first month
(``pipelines.runner.definitions_for``): nothing is reloaded.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import dagster as dg

from pennytrail.core.publish import is_month

FIRST_MONTH_FILE = "first-month.txt"


def _first_month_file(home: Path | None) -> Path | None:
    home = home or os.environ.get("PENNYTRAIL_HOME")  # the UI's code location: the home `make ui` names
    return Path(home) / "dagster" / FIRST_MONTH_FILE if home else None


def first_month(home: Path | None = None) -> str:
    """The first month with data that the close recorded in ``home``, else this month."""
    path = _first_month_file(home)
    if path is not None and path.is_file():
        text = path.read_text(encoding="utf-8").strip()
        if is_month(text):
            return text
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")


def record_first_month(home: Path, month: str) -> None:
    """Record the first month with data in ``home``."""
    path = _first_month_file(home)
    if not path.is_file() or path.read_text(encoding="utf-8") != month + "\n":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(month + "\n", encoding="utf-8")


def monthly_from(first: str) -> dg.MonthlyPartitionsDefinition:
    """The months from ``first`` to next month."""
    return dg.MonthlyPartitionsDefinition(start_date=first, fmt="%Y-%m", end_offset=1)


monthly = monthly_from(first_month())

# The months a run's close will publish, on a run that is not partitioned itself (the
# `ingest_and_reconcile` run of a close): "all" or "2026-02,2026-03".
MONTHS_TAG = "pennytrail/months"
PARTITION_TAG = "dagster/partition"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def month_of(partition_key: str) -> str:
    """A partition key is the month itself: ``2026-03``."""
    return partition_key


def partition_of(month: str) -> str:
    return month


def check_months(months: list[str], error: type[Exception], partitions: dg.PartitionsDefinition = monthly) -> None:
    """Raise ``error`` for the first month outside the months pennytrail can close."""
    keys = partitions.get_partition_keys()
    valid = set(keys)
    for month in months:
        if partition_of(month) not in valid:
            raise error(f"month {month} is outside the months pennytrail can close "
                        f"(from {min(keys)} to next month)")


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (``YYYY-MM``, both included), as a range run covers them."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def months_of_run(tags: Mapping[str, str], available: Callable[[], list[str]]) -> list[str]:
    """The months a run will publish, from its tags: its partition, its range of partitions, or
    ``MONTHS_TAG`` (the range from the first to the last month named, "all" naming every month
    ``available()`` gives, as the close's publication run covers them); none for a run that
    publishes nothing."""
    if MONTHS_TAG in tags:
        named = available() if tags[MONTHS_TAG] == "all" else [
            m for m in tags[MONTHS_TAG].split(",") if is_month(m)]
        return months_between(min(named), max(named)) if named else []
    if PARTITION_TAG in tags:
        return [month_of(tags[PARTITION_TAG])]
    if RANGE_START in tags and RANGE_END in tags:
        return months_between(month_of(tags[RANGE_START]), month_of(tags[RANGE_END]))
    return []
