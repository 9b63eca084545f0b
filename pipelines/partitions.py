"""Monthly partitions: a pool, a worker audit row or an invoice belongs to one month."""

import dagster as dg

monthly = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_offset=1)


def month_of(partition_key: str) -> str:
    """``2026-03-01`` → ``2026-03``."""
    return partition_key[:7]


def partition_of(month: str) -> str:
    return f"{month}-01"
