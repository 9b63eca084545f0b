"""Each conservation identity, broken alone in a real warehouse, stops publication: through the
`close` job the inbox sensor and the monthly schedule request, and through `pennytrail close`.

The warehouse is the hand-written boundary program ingested and reconciled but not yet
published. One statement breaks one identity (the others still hold: the run's failed checks
are exactly that one), and the reconciliation keeps the broken working tables because its
inputs have not changed, as it would keep a warehouse broken by a bug.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pennytrail.cli import main
from pipelines.runner import definitions_for

# identity → the statement that breaks it, and it alone
BREAKS = {
    "pool_shares_add_up":
        "UPDATE w_worker_audit SET funded_cents = funded_cents + 1 WHERE grower_id = 'G5' AND worker_id = 'G5-a'",
    "received_reaches_pools":
        "UPDATE w_invoice_grower SET received_cents = received_cents + 1 WHERE invoice_id = 'P1'",
    "invoice_money_is_conserved":
        "UPDATE w_pass_through SET held_cents = held_cents + 1 WHERE invoice_id = 'RZ'",
    "every_row_accounted_for":
        "UPDATE ingest_log SET rows_accepted = rows_accepted + 1 WHERE file = 'inbox/payroll/all/2026-01.csv'",
    "reference_covers_every_row":
        "UPDATE w_lines SET owed_cents = NULL WHERE invoice_id = 'U1'",
    "handshake_covers_every_line":
        "DELETE FROM w_volume_handshake WHERE invoice_id = 'U1'",
}


@pytest.fixture(scope="module")
def reconciled(boundary_home, tmp_path_factory) -> Path:
    """HOME of the boundary program ingested and reconciled, with nothing published."""
    home = tmp_path_factory.mktemp("reconciled")
    shutil.copytree(boundary_home / "data", home / "data")
    from pipelines.partitions import record_first_month
    from pipelines.runner import prepare_home, run_job

    prepare_home(home / "data", home)
    run_job("ingest_and_reconcile", home / "data", home)  # reconciled, nothing published
    record_first_month(home, "2026-01")  # the months start with the data's first, as a close records them
    assert main(["keys", "create", "--home", str(home)]) == 0  # the close job also issues confirmations
    with duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM worker_audit").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM w_worker_audit WHERE month = '2026-01'").fetchone()[0] == 41
    return home


def broken(reconciled: Path, tmp_path: Path, identity: str) -> Path:
    home = tmp_path / "home"
    shutil.copytree(reconciled, home, ignore=shutil.ignore_patterns("dagster"))
    with duckdb.connect(str(home / "pennytrail.duckdb")) as con:
        assert con.execute(BREAKS[identity]).fetchone()[0] >= 1
    return home


def published(home: Path) -> int:
    with duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True) as con:
        return con.execute("SELECT count(*) FROM worker_audit").fetchone()[0]


def run_requested(home: Path, request: dg.RunRequest, job_name: str, monkeypatch):
    """Run what a sensor or schedule requested, as the daemon would: the requested job over the
    home's data, in the ephemeral instance."""
    defs = definitions_for("2026-01")  # as the UI's code location loads them over this home

    assert job_name == "close"
    job = defs.resolve_job_def(job_name)
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), partition_key=request.partition_key,
                                  tags=request.tags, raise_on_error=False)


def failed_checks(result) -> set[str]:
    return {e.event_specific_data.asset_check_key.name for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed}


def materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}


def sensor_request(home: Path, monkeypatch) -> tuple[dg.RunRequest, str]:
    defs = definitions_for("2026-01")  # as the UI's code location loads them over this home

    sensor = defs.resolve_sensor_def("inbox_sensor")
    # the sensor's `pennytrail` resource, configured as the Definitions configure it (the UI's environment)
    with dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), definitions=defs,
                                 resources={"pennytrail": defs.resources["pennytrail"]}) as ctx:
        requests = list(sensor(ctx))
    (request,) = [r for r in requests if r.partition_key == "2026-01"]
    return request, sensor.job_name


def schedule_request(home: Path, monkeypatch) -> tuple[dg.RunRequest, str]:
    defs = definitions_for("2026-01")  # as the UI's code location loads them over this home

    schedule = defs.resolve_schedule_def("close_schedule")
    ctx = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 2, 5, 6, 0),
                                    repository_def=defs.get_repository_def())
    (request,) = schedule.evaluate_tick(ctx).run_requests
    assert request.partition_key == "2026-01"
    return request, schedule.job_name


@pytest.mark.parametrize("identity", BREAKS)
def test_broken_identity_stops_the_close_job_the_sensor_and_the_schedule_request(reconciled, tmp_path, monkeypatch,
                                                                                  identity):
    home = broken(reconciled, tmp_path, identity)
    monkeypatch.setenv("PENNYTRAIL_DATA", str(home / "data"))
    monkeypatch.setenv("PENNYTRAIL_HOME", str(home))
    by_sensor, sensor_job = sensor_request(home, monkeypatch)
    by_schedule, schedule_job = schedule_request(home, monkeypatch)
    # both ask for the same thing: the `close` job for January
    assert (sensor_job, by_sensor.partition_key) == (schedule_job, by_schedule.partition_key) == ("close", "2026-01")
    result = run_requested(home, by_schedule, schedule_job, monkeypatch)
    assert failed_checks(result) == {identity}
    assert "monthly_audit" not in materialized(result) and "month_reports" not in materialized(result)
    assert published(home) == 0


@pytest.mark.parametrize("identity", BREAKS)
def test_broken_identity_stops_pennytrail_close(reconciled, tmp_path, capsys, identity):
    home = broken(reconciled, tmp_path, identity)
    capsys.readouterr()
    assert main(["close", "--data", str(home / "data"), "--home", str(home)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("pennytrail: the close did not complete: check ") and identity in err[-1]
    assert published(home) == 0


def test_the_unbroken_warehouse_publishes(reconciled, tmp_path, monkeypatch):
    """The control: the same path over the warehouse unbroken publishes January."""
    home = tmp_path / "home"
    shutil.copytree(reconciled, home, ignore=shutil.ignore_patterns("dagster"))
    monkeypatch.setenv("PENNYTRAIL_DATA", str(home / "data"))
    monkeypatch.setenv("PENNYTRAIL_HOME", str(home))
    request, job_name = schedule_request(home, monkeypatch)
    result = run_requested(home, request, job_name, monkeypatch)
    assert result.success and not failed_checks(result)
    assert published(home) == 41
