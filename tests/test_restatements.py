"""A correction that touches a signed-off month is a restatement, value by value: a changed
value, a row that appears, a row that goes away and a blank that gets a value each leave their
line, naming the files that caused it, and the month needs a new sign-off. Sign-offs and their
revocation, and which months a close sees as changed. Tiny scenarios over the real ingest,
reconciliation and publication (no Dagster run)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pennytrail.core import reconcile
from pennytrail.core.ingest import ingest
import pytest

from pennytrail.core.publish import MONTHLY, changed_months, latest_signoff, month_status, publish_months
from pennytrail.core.reference import load_reference
from pennytrail.core.signoff import MAX_NAME, SignoffRefused, history, revoke, sign_off
from pennytrail.core.warehouse import connect

from .test_handshake import PAYMENTS, PAYROLL, PURCHASES, close_core, put



def publish_again(data: Path) -> list[tuple]:
    """Ingest what is new, reconcile, publish January; the restatements as (table, key, column,
    before, after)."""
    with connect(data.parent / "wh.duckdb") as con:
        ingest(con, data, load_reference(data), progress=lambda m: None)
        reconcile.run(con)
        publish_months(con, ["2026-01"])
        return con.execute("SELECT table_name, key, column_name, before, after FROM restatements "
                           "WHERE recorded_at = (SELECT max(recorded_at) FROM restatements)").fetchall()


def signed_january(data: Path, signed: bool = True) -> None:
    put(data, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-06,,G1,G1,tomatoes,40,box_25lb,")
    # and a payment on an invoice nobody reported: an exception with no worker, the same before and after
    put(data, "payments", "b1.csv", PAYMENTS, "P1,1,B1,G1,2026-01-09,B1,I1,10.00", "P2,1,B1,G1,2026-01-09,B1,I9,0.01")
    put(data, "payroll", "g1.csv", PAYROLL, "G1,W1,2026-01-05,,Ana,,2026-01-11,2026-01-16,40,100,65.00,10.00",
        "G1,W9,2026-01-05,,Cy,,2026-01-11,2026-01-16,40,0,65.00,0.01")
    db = close_core(data)
    with connect(db) as con:
        publish_months(con, ["2026-01"])
        # these files were seen a day ago and January was signed off an hour ago: what is ingested
        # from now on comes after the sign-off
        con.execute("UPDATE ingest_log SET first_seen_at = first_seen_at - INTERVAL 1 DAY")
        if signed:
            sign_off(con, "2026-01", "A. Accountant", now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
            assert month_status(con, "2026-01") == "signed"


def correct_january(data: Path) -> None:
    # the seller's billed premium arrives (blank → $10.00, no mismatch); W2 was left off the payroll
    # (it appears, unpaid: W1's share halves); W9's premium without work was a typing error (its row goes)
    put(data, "purchases", "b1-fix.csv", PURCHASES, "B1,I1,1,2026-01-06,,G1,G1,tomatoes,40,box_25lb,10.00")
    put(data, "payroll", "g1-fix.csv", PAYROLL, "G1,W2,2026-01-05,,Bo,,2026-01-11,2026-01-16,40,100,65.00,0.00",
        "G1,W9,2026-01-05,,Cy,,2026-01-11,2026-01-16,40,0,65.00,0.00")
    # sent again under another name: a duplicate, which changes nothing and causes nothing
    put(data, "payments", "b1-again.csv", PAYMENTS, "P1,1,B1,G1,2026-01-09,B1,I1,10.00",
        "P2,1,B1,G1,2026-01-09,B1,I9,0.01")


def test_a_correction_of_a_signed_month_records_every_value_it_changes(data_dir):
    signed_january(data_dir)
    correct_january(data_dir)
    got = publish_again(data_dir)
    assert ("invoice_audit", "B1/I1", "billed_cents", None, "1000") in got
    assert ("worker_audit", "G1/2026-01-05/W1", "funded_cents", "1000", "500") in got
    assert ("worker_audit", "G1/2026-01-05/W1", "status", "OK", "OVERPAID") in got
    assert ("worker_audit", "G1/2026-01-05/W2", "status", None, "UNPAID") in got  # a row that appears
    assert ("worker_audit", "G1/2026-01-05/W9", "status", "PAID_WITHOUT_WORK", None) in got  # a row that goes
    assert ("pool_audit", "G1/2026-01-05", "eligible_workers", "1", "2") in got
    assert ("pool_audit", "G1/2026-01-05", "paid_without_work_cents", "1", "0") in got
    # nothing that stayed the same is restated: W1's paid and the pool's funded did not change
    assert not [r for r in got if r[1:3] in (("G1/2026-01-05/W1", "paid_cents"), ("G1/2026-01-05", "funded_cents"))]
    # the exception of the unknown invoice (no worker: a NULL in its key) did not change
    assert not [r for r in got if r[1].startswith("buyer/UNKNOWN_INVOICE")]
    with connect(data_dir.parent / "wh.duckdb") as con:
        assert month_status(con, "2026-01") == "needs re-sign-off"
        # the files loaded since the sign-off caused it; the duplicate did not
        assert con.execute("SELECT DISTINCT file FROM restatements").fetchall() == [
            ("inbox/payroll/g1-fix.csv, inbox/purchases/b1-fix.csv",)]


def test_the_sign_off_in_force_is_the_latest_and_a_revocation_revokes_only_it(data_dir):
    signed_january(data_dir)
    correct_january(data_dir)
    publish_again(data_dir)
    with connect(data_dir.parent / "wh.duckdb") as con:
        sign_off(con, "2026-01", "B. Accountant")
        assert month_status(con, "2026-01") == "signed" and latest_signoff(con, "2026-01")[0] == "B. Accountant"
        with pytest.raises(SignoffRefused, match="already signed off with these figures, by B. Accountant"):
            sign_off(con, "2026-01", "C. Accountant")
        revoke(con, "2026-01", "C. Controller", "signed before the payroll fix was checked")
        got = [(h["signed_by"], h["revoked_by"]) for h in history(con, "2026-01")]
        assert got == [("A. Accountant", None), ("B. Accountant", "C. Controller")]
        # what is in force again is the first sign-off, over figures that have changed since
        assert latest_signoff(con, "2026-01")[0] == "A. Accountant"
        assert month_status(con, "2026-01") == "needs re-sign-off"


def test_a_signers_name_may_be_as_long_as_the_limit_and_not_a_character_longer(data_dir):
    signed_january(data_dir, signed=False)
    with connect(data_dir.parent / "wh.duckdb") as con:
        with pytest.raises(SignoffRefused, match=f"is {MAX_NAME + 1} characters long; at most {MAX_NAME}"):
            sign_off(con, "2026-01", "A" * (MAX_NAME + 1))
        assert sign_off(con, "2026-01", " " + "A" * MAX_NAME + " ")["signed_by"] == "A" * MAX_NAME


def test_a_month_is_changed_when_any_table_of_it_changes_even_to_nothing(data_dir):
    signed_january(data_dir, signed=False)
    with connect(data_dir.parent / "wh.duckdb") as con:
        assert changed_months(con, ["2026-01"]) == []
        con.execute("DELETE FROM w_exceptions WHERE month = '2026-01'")  # all of January's exceptions go
        assert changed_months(con, ["2026-01"]) == ["2026-01"]
        con.execute("DELETE FROM exceptions WHERE month = '2026-01'")
        assert changed_months(con, ["2026-01"]) == []
        con.execute("UPDATE w_worker_audit SET paid_cents = paid_cents + 1 WHERE worker_id = 'W1'")
        assert changed_months(con, ["2026-01", "2026-02"]) == ["2026-01"]


def test_a_month_not_signed_off_is_republished_without_restatements(data_dir):
    signed_january(data_dir, signed=False)
    correct_january(data_dir)
    assert publish_again(data_dir) == []
    with connect(data_dir.parent / "wh.duckdb") as con:
        assert month_status(con, "2026-01") == "open"
        assert con.execute("SELECT status FROM worker_audit ORDER BY worker_id").fetchall() == [("OVERPAID",),
                                                                                              ("UNPAID",)]


def test_publishing_counts_each_tables_rows_and_the_restatements_of_each_month(data_dir, far_east):
    signed_january(data_dir)
    correct_january(data_dir)
    with connect(data_dir.parent / "wh.duckdb") as con:
        ingest(con, data_dir, load_reference(data_dir), progress=lambda m: None)
        reconcile.run(con)
        counts = publish_months(con, ["2026-01", "2026-02"])
        for month in ("2026-01", "2026-02"):
            rows = {t: con.execute(f"SELECT count(*) FROM {t} WHERE month = ?", [month]).fetchone()[0]
                    for t in MONTHLY}
            restated = con.execute("SELECT count(*) FROM restatements WHERE month = ?", [month]).fetchone()[0]
            assert counts[month] == {**rows, "restatements": restated}
        assert counts["2026-02"] == dict.fromkeys([*MONTHLY, "restatements"], 0)
        # W1 and W2 (W9, paid nothing without work after the correction, has no row)
        assert counts["2026-01"]["worker_audit"] == 2 and counts["2026-01"]["restatements"] > 0
        # every restatement of the run was recorded at the one time the run began, before this test's end
        (at,) = con.execute("SELECT DISTINCT recorded_at FROM restatements").fetchone()
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        assert now - dt.timedelta(minutes=5) <= at <= now  # in UTC, though the machine's clock is not

