"""A close as the Dagster UI, the schedule or the sensor runs it: the `close` job of the one
Definitions, with its own contract process (the `contracts` resource), in one run."""

import shutil

import dagster as dg

from pennytrail.core import keys
from pennytrail.core.publish import MONTHLY
from pennytrail.core.warehouse import connect
from pipelines.partitions import record_first_month
from pipelines.runner import definitions_for, prepare_home


def test_a_close_run_from_the_ui_starts_the_output_contracts_ahead_as_the_command_does(demo_data, tmp_path,
                                                                                      monkeypatch):
    data, home = tmp_path / "data", tmp_path / "home"
    shutil.copytree(demo_data, data)
    prepare_home(data, home)
    # the `pennytrail` resource's configuration, as `make ui` gives it to the UI's code location
    monkeypatch.setenv("PENNYTRAIL_DATA", str(data))
    monkeypatch.setenv("PENNYTRAIL_HOME", str(home))
    keys.create(home)  # the close job's reports sign the buyers' confirmations
    record_first_month(home, "2026-01")  # the months start with the data's first, as a close records them
    defs = definitions_for("2026-01")  # as the UI's code location loads them over this home

    result = defs.resolve_job_def("close").execute_in_process(
        partition_key="2026-02", instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    published = {e.asset_key.to_user_string(): e.materialization.metadata
                 for e in result.get_asset_materialization_events()}
    audit = published["monthly_audit"]
    assert audit["published"].value == "2026-02"
    assert audit["output contracts started ahead"].value == "yes"
    assert audit["output contracts passed"].value == f"{len(MONTHLY)} of {len(MONTHLY)}"
    assert published["reconciliation"]["output contracts started"].value == "2026-02"
    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        assert con.execute("SELECT DISTINCT month FROM pool_audit").fetchall() == [("2026-02",)]
