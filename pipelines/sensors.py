"""A sensor on `<data>/inbox`: new or changed files request a close for the months they touch."""

from __future__ import annotations

import json

import dagster as dg

from pennytrail.core.changes import inbox_listing, months_touched, run_key

from .partitions import partition_of
from .resources import PennytrailResource


def build_inbox_sensor(job: dg.UnresolvedAssetJobDefinition, months: dg.PartitionsDefinition) -> dg.SensorDefinition:
    @dg.sensor(job=job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
               description="Watches <data>/inbox and requests a close for every month that new files touch.")
    def inbox_sensor(context: dg.SensorEvaluationContext, pennytrail: PennytrailResource):
        data = pennytrail.data
        seen = json.loads(context.cursor) if context.cursor else {}
        now = inbox_listing(data)
        touched: set[str] = set()
        for rel, stat in now.items():
            if seen.get(rel) != stat:
                touched |= months_touched(data / rel)
        context.update_cursor(json.dumps(now, sort_keys=True))
        valid = set(months.get_partition_keys())
        keys = sorted(p for p in (partition_of(m) for m in touched) if p in valid)
        if not keys:
            return dg.SkipReason("no new or changed files")
        return [dg.RunRequest(run_key=run_key(now, k), partition_key=k) for k in keys]

    return inbox_sensor
