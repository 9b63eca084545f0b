"""Crash safety, sign-off and restatements: the close never leaves half a month."""

from __future__ import annotations

import shutil
import subprocess
import sys

import duckdb

from pennytrail.core.publish import month_status
from pennytrail.core.signoff import sign_off
from pennytrail.core.warehouse import connect
from pennytrail.app import close

from .test_end_to_end import snapshot


def test_late_correction_to_a_signed_month_is_a_restatement(closed_demo, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(closed_demo / "data", data)
    home = tmp_path / "home"
    close(data, home, ["2026-01"], progress=lambda m: None)
    with connect(home / "pennytrail.duckdb") as con:
        sign_off(con, "2026-01", "A. Accountant")
        assert month_status(con, "2026-01") == "signed"
    # T001 reports a worker's premium that was missing: a later file corrects one payroll row
    src = sorted((data / "inbox/payroll/T001").glob("2026-01.csv"))[0]
    header, first = src.read_text().splitlines()[:2]
    cols = first.split(",")
    cols[-1] = "0.00"
    (src.parent / "2026-01-correction.csv").write_text(header + "\n" + ",".join(cols) + "\n")
    close(data, home, ["2026-01"], progress=lambda m: None)
    with connect(home / "pennytrail.duckdb") as con:
        rows = con.execute("SELECT table_name, key, column_name, before, after, file FROM restatements").fetchall()
        assert month_status(con, "2026-01") == "needs re-sign-off"
    changed = {(t, c) for t, _, c, _, _, _ in rows}
    assert ("worker_audit", "paid_cents") in changed and ("worker_audit", "status") in changed
    assert ("pool_audit", "distributed_cents") in changed
    assert all("2026-01-correction.csv" in f for *_, f in rows)
    assert any(a == "UNPAID" for t, _, c, _, a, _ in rows if c == "status")


def test_signoff_needs_a_closed_month(closed_demo, tmp_path):
    home = tmp_path / "h"
    home.mkdir()
    with connect(home / "pennytrail.duckdb") as con:
        try:
            sign_off(con, "2026-01", "A. Accountant")
        except ValueError as e:
            assert "has not been closed" in str(e)
        else:
            raise AssertionError("sign-off of an empty month was accepted")


def test_failed_conservation_check_blocks_publication(closed_demo, tmp_path, monkeypatch):
    from pennytrail.core import conservation
    from pennytrail.app import UserError as CloseFailed

    data = tmp_path / "data"
    shutil.copytree(closed_demo / "data", data)
    identity, _ = conservation.CHECKS["received_reaches_pools"]
    # a warehouse where one cent went missing between the growers and the pools
    monkeypatch.setitem(conservation.CHECKS, "received_reaches_pools",
                        (identity, "SELECT 100 AS pools, 101 AS received, -1 AS difference"))
    try:
        close(data, tmp_path, None, progress=lambda m: None)
    except CloseFailed as e:
        message = str(e)
    else:
        raise AssertionError("the close published despite a failed conservation check")
    assert "received_reaches_pools failed" in message and "'difference': '-1'" in message
    with duckdb.connect(str(tmp_path / "pennytrail.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM worker_audit").fetchone()[0] == 0


def test_a_close_with_nothing_new_does_no_work_and_a_new_file_does(closed_demo, tmp_path):
    import dagster as dg

    home = tmp_path / "home"  # a closed home, moved: the data lie inside it
    shutil.copytree(closed_demo, home)
    data = home / "data"
    cmd = [sys.executable, "-m", "pennytrail.cli", "close", "--data", str(data), "--home", str(home)]
    before = snapshot(home)
    runs = len(dg.DagsterInstance.from_config(str(home / "dagster")).get_runs())
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "nothing new since the last close" in again.stderr
    assert len(dg.DagsterInstance.from_config(str(home / "dagster")).get_runs()) == runs  # no run needed
    assert snapshot(home) == before
    src = sorted((data / "inbox/payroll/T001").glob("2026-01.csv"))[0]
    header, first = src.read_text().splitlines()[:2]
    (src.parent / "2026-01-late.csv").write_text(header + "\n" + first.rsplit(",", 1)[0] + ",0.00\n")
    third = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert third.returncode == 0 and "nothing new" not in third.stderr
    assert len(dg.DagsterInstance.from_config(str(home / "dagster")).get_runs()) == runs + 2
    assert snapshot(home) != before


def test_pool_shares_check_finds_a_cent_missing_from_a_workers_share(closed_demo, tmp_path):
    """The split's identity is checked on the worker audit itself: one cent off one worker's
    share is a failure that names the pool and both sums."""
    from pennytrail.core import conservation

    copy = tmp_path / "w.duckdb"
    shutil.copy(closed_demo / "pennytrail.duckdb", copy)
    with duckdb.connect(str(copy)) as con:
        assert conservation.run_check(con, "pool_shares_add_up").passed
        grower, start = con.execute("SELECT grower_id, period_start FROM w_worker_audit WHERE eligible "
                                    "AND entitled_cents > 0 ORDER BY ALL LIMIT 1").fetchone()
        con.execute("UPDATE w_worker_audit SET entitled_cents = entitled_cents - 1 WHERE rowid = (SELECT min(rowid) "
                    "FROM w_worker_audit WHERE grower_id = ? AND period_start = ? AND eligible AND entitled_cents > 0)",
                    [grower, start])
        result = conservation.run_check(con, "pool_shares_add_up")
    assert not result.passed and result.offenders == 1
    pool = result.sample[0]
    assert (pool["grower_id"], pool["period_start"]) == (grower, str(start))
    assert int(pool["entitled_cents"]) - int(pool["entitled_shares"]) == 1


def test_output_contracts_started_ahead_are_used_only_for_the_same_working_tables(closed_demo, tmp_path, monkeypatch):
    """``Contracts.start_output`` judges the months before their publication; ``output`` takes
    those results only when the months and the reconciliation behind the working tables are
    the same, and otherwise runs the contracts again."""
    from pipelines.contracts import Contracts
    from pennytrail.core import publish
    from pennytrail.core.warehouse import set_meta

    shutil.copy(closed_demo / "pennytrail.duckdb", tmp_path / "w.duckdb")
    runs = []
    contracts = Contracts()
    submit = contracts._submit_output
    monkeypatch.setattr(contracts, "_submit_output", lambda con, months: runs.append(months) or submit(con, months))
    try:
        with connect(tmp_path / "w.duckdb") as con:
            months = publish.months_available(con)
            con.execute("DELETE FROM worker_audit")  # every month differs from what is published
            contracts.start_output(con, months)
            todo, ahead, started = contracts.output(con, months)
            changed = publish.changed_months(con, months)
            assert changed and started and todo == changed and runs == [changed]
            assert all(r.passed for r in ahead.values())
            contracts.start_output(con, months)
            assert not contracts.output(con, months[:1])[2] and runs == [changed, changed, changed[:1]]  # other months
            contracts.start_output(con, months)
            set_meta(con, "reconciliation_fingerprint", "rebuilt since")  # other working tables
            again = contracts.output(con, months)
            assert again[1] == ahead and not again[2] and runs == [changed, changed, changed[:1], changed, changed]
    finally:
        contracts.stop()
