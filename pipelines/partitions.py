"""Monthly partitions: a pool, a worker audit row or an invoice belongs to one month."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import dagster as dg

monthly = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=1)

# The months a run's close will publish, on a run that is not partitioned itself (the
# `ingest_and_reconcile` run of a close): "all" or "2026-02,2026-03".
MONTHS_TAG = "pennytrail/months"
PARTITION_TAG = "dagster/partition"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def month_of(partition_key: str) -> str:
    """``2026-03-01`` → ``2026-03``."""
    return partition_key[:7]


def partition_of(month: str) -> str:
    return f"{month}-01"


def check_months(months: list[str], error: type[Exception]) -> None:
    """Raise ``error`` for the first month outside the months pennytrail can close."""
    valid = set(monthly.get_partition_keys())
    for month in months:
        if partition_of(month) not in valid:
            raise error(f"month {month} is outside the months pennytrail can close (from 2024-01 to next month)")


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` that pennytrail can close, as a range run covers them."""
    keys = [month_of(k) for k in monthly.get_partition_keys()]
    return [m for m in keys if first <= m <= last]


def months_of_run(tags: Mapping[str, str], available: Callable[[], list[str]]) -> list[str]:
    """The months a run will publish, from its tags: its partition, its range of partitions, or
    ``MONTHS_TAG`` (the range from the first to the last month named, "all" naming every month
    ``available()`` gives, as the close's publication run covers them); none for a run that
    publishes nothing."""
    if MONTHS_TAG in tags:
        named = available() if tags[MONTHS_TAG] == "all" else [m for m in tags[MONTHS_TAG].split(",") if m]
        return months_between(min(named), max(named)) if named else []
    if PARTITION_TAG in tags:
        return [month_of(tags[PARTITION_TAG])]
    if RANGE_START in tags and RANGE_END in tags:
        return months_between(month_of(tags[RANGE_START]), month_of(tags[RANGE_END]))
    return []
