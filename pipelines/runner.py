"""Running the asset graph in this process, with runs recorded in the home's Dagster instance.

The application layer's close (``pennytrail.app.close``) runs the same jobs the UI shows
(`dagster dev -w workspace.yaml` with the same DAGSTER_HOME): `ingest_and_reconcile` once,
then `publish_month` once for the range of months, handing both runs its contract process as
the `contracts` resource. The months to publish go with the first run as a tag
(``MONTHS_TAG``), so the reconciliation starts their output contracts as a `close` run in the
UI does.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Callable

import dagster as dg

from pennytrail.core.homelock import alive
from pennytrail.core.publish import months_available
from pennytrail.core.warehouse import connect

from . import definitions, partitions
from .partitions import MONTHS_TAG, RANGE_END, RANGE_START
from .resources import PennytrailResource

DAGSTER_YAML = """\
# The pennytrail instance: runs of `pennytrail close` and of `make ui` are recorded here.
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


class CloseFailed(Exception):
    """The close could not complete; ``str(e)`` is the one-line reason, ``details`` what the log
    should hold besides (the failed steps' errors with their stacks)."""

    def __init__(self, reason: str, details: str = ""):
        super().__init__(reason)
        self.details = details


def prepare_home(data: Path, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    dagster_home = home / "dagster"
    dagster_home.mkdir(exist_ok=True)
    cfg = dagster_home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(dagster_home.resolve())  # where Dagster finds the home's instance


def _failed_check(result: dg.ExecuteInProcessResult) -> str | None:
    """The first ERROR-severity check that failed in the run, described, or None."""
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            ev = event.event_specific_data
            if not ev.passed and ev.severity == dg.AssetCheckSeverity.ERROR:
                return f"check {ev.asset_check_key.name} failed: {ev.description or 'see its metadata in the UI'}"
    return None


def _reason(result: dg.ExecuteInProcessResult) -> str:
    failed = _failed_check(result)
    if failed:
        return failed
    for event in result.all_events:
        if event.is_step_failure:
            err = event.event_specific_data.error
            line = (((err.cause or err).message or err.message).strip().splitlines() or ["a step failed"])[0]
            return re.sub(r"^(?:\w+\.)+\w+: ", "", line)  # the exception's dotted class name says nothing to a user
    return "the run did not succeed (see the Dagster UI for its logs)"


def _details(result: dg.ExecuteInProcessResult) -> str:
    """Every failed step's error, with its stack and the metadata of a ``Failure``, as text."""
    parts = []
    for event in result.all_events:
        if event.is_step_failure:
            data = event.event_specific_data
            parts.append(f"step {event.step_key} failed:\n{data.error.to_string()}")
            metadata = getattr(data.user_failure_data, "metadata", None) if data.user_failure_data else None
            for key, value in (metadata or {}).items():
                parts.append(f"{key}: {getattr(value, 'value', value)}")
    return "\n".join(parts)


PID_TAG = "pennytrail/pid"
HOST_TAG = "pennytrail/host"


def release_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs of this machine whose process died (a killed close) are marked failed and their
    concurrency slots freed; otherwise the warehouse pool (limit 1) would stay taken forever."""
    released = []
    host = os.uname().nodename
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED,
                                                                 dg.DagsterRunStatus.STARTING])):
        pid = run.tags.get(PID_TAG)
        if pid and run.tags.get(HOST_TAG) == host and not alive(int(pid)):
            instance.report_run_failed(run)
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            released.append(run.run_id)
    return released




_instances: dict[str, dg.DagsterInstance] = {}


def _instance() -> dg.DagsterInstance:
    """The home's Dagster instance, opened once per process (DAGSTER_HOME set by ``prepare_home``)."""
    home = os.environ["DAGSTER_HOME"]
    if home not in _instances:
        _instances[home] = dg.DagsterInstance.get()
    return _instances[home]


def run_job(name: str, data: Path, home: Path, partition_key: str | None = None,
            partition_range: tuple[str, str] | None = None, tags: dict[str, str] | None = None,
            resources: dict | None = None, ops: dict | None = None) -> str:
    """Run the job ``name`` of the one ``Definitions`` in this process over the data folder
    ``data`` and the home ``home`` (the `pennytrail` resource's configuration), with
    ``resources`` besides (the `contracts` process); its run id. ``ops``: the run configuration
    of its assets (asset name → config). A run that did not succeed, or whose blocking check
    failed, raises ``CloseFailed``."""
    job = definitions_for(partitions.first_month(home)).resolve_job_def(name)
    instance = _instance()
    release_dead_runs(instance)
    # Dagster's console log stays quiet: a failure is one line from the command, and its details
    # (the step's error and stack) go to the home's log file (``CloseFailed.details``)
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    tags = {**(tags or {}), PID_TAG: str(os.getpid()), HOST_TAG: os.uname().nodename}
    if partition_range is not None:  # one run for a range of months (assets with a single-run policy)
        tags.update({RANGE_START: partition_range[0], RANGE_END: partition_range[1]})
    run_config = {**quiet, "ops": {op: {"config": config} for op, config in (ops or {}).items()}}
    resources = {"pennytrail": PennytrailResource(data_dir=str(data.resolve()), home_dir=str(home.resolve())),
                 **(resources or {})}
    result = job.execute_in_process(instance=instance, partition_key=partition_key, raise_on_error=False,
                                    run_config=run_config, tags=tags, resources=resources)
    # a blocking check that failed skips what depends on it without failing the run: a failure all the same
    if not result.success or _failed_check(result):
        raise CloseFailed(_reason(result), _details(result))
    return result.run_id


@functools.cache
def definitions_for(first: str) -> dg.Definitions:
    """The one Definitions (``definitions.build``) over the months from ``first``: a run of the
    application layer's covers the months of the home it closes, whatever the process loaded."""
    return definitions.build(partitions.monthly_from(first))


def run_close(data: Path, home: Path, months: list[str] | None, contracts,
              progress: Callable[[str], None] = print, engine: dict[str, str] | None = None) -> list[str]:
    """Ingest, reconcile and publish ``months`` (all months with data when None), handing both
    runs ``contracts`` (a ``pipelines.contracts.Contracts``). A month without data is
    refused, after the ingest (its files may be the ones this close reads). ``engine``: the
    reconciliation's configuration (``assets.reconcile.EngineConfig``; default DuckDB)."""
    if not (data / "reference").is_dir():
        raise CloseFailed(f"no reference data: {data / 'reference'} does not exist")
    prepare_home(data, home)
    progress("ingest and reconcile …")
    run_job("ingest_and_reconcile", data, home, tags={MONTHS_TAG: ",".join(months) if months else "all"},
            resources={"contracts": contracts}, ops={"reconciliation": engine} if engine else None)
    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        have = months_available(con)
    if have:  # the months start with the data's first, for the UI as for the runs below
        partitions.record_first_month(home, have[0])
    months_def = partitions.monthly_from(partitions.first_month(home))
    if months is None:
        months = have
    missing = [m for m in months if m not in have]
    if missing:
        raise CloseFailed(f"no data for {', '.join(missing)}, so nothing to close; months with data: "
                          f"{', '.join(have) or 'none'}")
    partitions.check_months(months, CloseFailed, months_def)
    partition_of = partitions.partition_of
    if not months:
        return months
    first, last = partition_of(min(months)), partition_of(max(months))
    progress(f"publish {min(months)} to {max(months)} …" if first != last else f"publish {months[0]} …")
    if first == last:
        run_job("publish_month", data, home, first, resources={"contracts": contracts})
    else:  # one run publishes the whole range (months without data in it are published empty)
        run_job("publish_month", data, home, partition_range=(first, last), resources={"contracts": contracts})
    return months
