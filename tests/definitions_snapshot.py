"""The Dagster definitions as plain data, compared with the committed ``definitions.json``.

Asset keys, their dependencies, groups, pools, partitions and backfill policies; every check with
its asset and whether it blocks; every job with the assets and checks it runs and its
partitions; the schedules and the sensors with their jobs and timing. A change to any of them
fails ``tests/test_definitions.py`` until the snapshot is updated on purpose:

    .venv/bin/python -m tests.definitions_snapshot --update    (or: make snapshot)

and the diff of ``tests/snapshots/definitions.json`` is reviewed with the change.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
UPDATE = ".venv/bin/python -m tests.definitions_snapshot --update"


def _partitions(p) -> dict | None:
    if p is None:
        return None
    out = {"type": type(p).__name__}
    for attr in ("cron_schedule", "fmt", "timezone", "end_offset"):
        if hasattr(p, attr):
            out[attr] = getattr(p, attr)
    if hasattr(p, "start"):  # the first month with data in the home (this month before any close)
        out["start"] = "first month with data"
    if hasattr(p, "end"):
        out["end"] = p.end.isoformat() if p.end else None
    return out


def take() -> dict:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    assets = {}
    for key in graph.toposorted_asset_keys:
        node = graph.get(key)
        spec = node.to_asset_spec() if hasattr(node, "to_asset_spec") else None
        definition = graph.assets_def_for_key(key)
        policy = definition.backfill_policy
        assets[key.to_user_string()] = {
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "group": node.group_name,
            "pool": getattr(node, "pool", None) or _pool(definition),
            "partitions": _partitions(node.partitions_def),
            "backfill_policy": str(policy) if policy else None,
            "kinds": sorted(spec.kinds) if spec is not None else None,
        }
    checks = {}
    for ck in sorted(graph.asset_check_keys, key=lambda c: (c.asset_key.to_user_string(), c.name)):
        spec = graph.get_check_spec(ck)
        checks[f"{ck.asset_key.to_user_string()}:{ck.name}"] = {"blocking": bool(spec.blocking)}
    jobs = {}
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        layer = job.asset_layer
        jobs[job.name] = {
            "assets": sorted(k.to_user_string() for k in layer.selected_asset_keys),
            "checks": sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in layer.asset_graph.asset_check_keys),
            "partitions": _partitions(job.partitions_def),
        }
    repo = defs.get_repository_def()
    schedules = {s.name: {"job": s.job_name, "cron": s.cron_schedule, "timezone": s.execution_timezone,
                          "default_status": s.default_status.value} for s in repo.schedule_defs}
    sensors = {s.name: {"job": s.job_name, "minimum_interval_seconds": s.minimum_interval_seconds,
                        "default_status": s.default_status.value} for s in repo.sensor_defs}
    return {"assets": assets, "checks": checks, "jobs": jobs, "schedules": dict(sorted(schedules.items())),
            "sensors": dict(sorted(sensors.items()))}


def _pool(definition) -> str | None:
    pools = {getattr(op, "pool", None) for op in definition.node_def.iterate_op_defs()}
    pools.discard(None)
    return ",".join(sorted(pools)) or None


def text(snapshot: dict) -> str:
    return json.dumps(snapshot, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if argv != ["--update"]:
        print(f"usage: {UPDATE}", file=sys.stderr)
        return 2
    SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT.write_text(text(take()), encoding="utf-8")
    print(f"wrote {SNAPSHOT}: review its diff and commit it with the change to the definitions")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
