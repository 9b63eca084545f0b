"""A sensor on `<data>/inbox`: new or changed files request a close for the months they touch."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from pennytrail.core.ingest import discover
from pennytrail.core.reading import FileProblem, read_table

from .partitions import monthly, partition_of

DATE_COLUMNS = ("ship_date", "harvest_date", "paid_date", "period_start", "period_end", "premium_period_start")


def months_touched(path: Path) -> set[str]:
    """Months named by a file's dates, and the month after each (a pool belongs to its period's end)."""
    try:
        table = read_table(path)
    except FileProblem:
        return set()
    months: set[str] = set()
    for col in DATE_COLUMNS:
        if col in table.frame.columns:
            for value in table.frame[col].str.slice(0, 7).unique():
                if len(value) == 7 and value[4] == "-" and value[:4].isdigit() and value[5:].isdigit():
                    y, m = int(value[:4]), int(value[5:])
                    if 1 <= m <= 12:
                        months.add(f"{y:04d}-{m:02d}")
                        months.add(f"{y + m // 12:04d}-{m % 12 + 1:02d}")
    return months


def build_inbox_sensor(job: dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
               description="Watches <data>/inbox and requests a close for every month that new files touch.")
    def inbox_sensor(context: dg.SensorEvaluationContext):
        data = os.environ.get("PENNYTRAIL_DATA")
        if not data:
            return dg.SkipReason("PENNYTRAIL_DATA is not set")
        seen = json.loads(context.cursor) if context.cursor else {}
        now: dict[str, list[float]] = {}
        touched: set[str] = set()
        for rel, _kind in discover(Path(data)):
            st = (Path(data) / rel).stat()
            now[rel] = [st.st_size, st.st_mtime]
            if seen.get(rel) != now[rel]:
                touched |= months_touched(Path(data) / rel)
        context.update_cursor(json.dumps(now))
        valid = set(monthly.get_partition_keys())
        keys = sorted(p for p in (partition_of(m) for m in touched) if p in valid)
        if not keys:
            return dg.SkipReason("no new or changed files")
        return [dg.RunRequest(run_key=f"{k}:{context.cursor and hash(context.cursor)}", partition_key=k) for k in keys]

    return inbox_sensor
