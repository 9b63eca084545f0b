"""The reconciliation and the conservation checks in one process, with no Dagster run: a small
program ingested, reconciled and checked, then broken one identity at a time. Quick enough to
hold the core's SQL-building Python under mutation testing; the rules themselves are checked
figure by figure by the boundary program (tests/test_boundaries.py)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from pennytrail.core import conservation, reconcile
from pennytrail.core.ingest import ingest, write_reference
from pennytrail.core.warehouse import connect

from .boundary_data import PAYMENT_HEADER
from .conftest import reference_of, small_data_dir, write
from .test_ingest_bad_input import GOOD_PAYROLL, PAYROLL_HEADER, PURCHASE_HEADER
from .test_ranges_and_ids import SALES_HEADER


def _ingested(con, data_dir) -> None:
    """The data folder's reference data and every new inbox file, into the warehouse."""
    ref = reference_of(data_dir)
    write_reference(con, ref)
    ingest(con, data_dir, ref, progress=lambda m: None)


@contextmanager
def _broken(con, sql: str):
    """The warehouse with ``sql`` applied, inside a transaction rolled back afterwards."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(sql)
        yield
    finally:
        con.execute("ROLLBACK")


@pytest.fixture(scope="module")
def reconciled(tmp_path_factory):
    """A grower paid $10.00 for 1,000 lb shipped in its first pay period, passed in full to two
    workers (six of seven units to one): every identity holds. Built once; a test that breaks
    it does so inside a transaction it rolls back."""
    data_dir = small_data_dir(tmp_path_factory.mktemp("direct") / "data")
    write(data_dir / "inbox/purchases/b.csv", PURCHASE_HEADER + "\nB1,I1,1,2026-01-06,,G1,G1,tomatoes,1000,lb,10.00\n")
    write(data_dir / "inbox/sales/s.csv", SALES_HEADER + "\nB1,I1,1,G1,2026-01-06,G1,tomatoes,1000,lb\n")
    write(data_dir / "inbox/payments/p.csv", PAYMENT_HEADER + "\nP1,1,B1,G1,2026-01-20,B1,I1,10.00\n")
    write(data_dir / "inbox/payroll/g.csv", PAYROLL_HEADER + "\n"
          + GOOD_PAYROLL.replace(",40,100,65.00,10.00", ",40,600,65.00,8.57") + "\n"
          + GOOD_PAYROLL.replace("W1", "W2").replace(",40,100,65.00,10.00", ",40,100,65.00,1.43") + "\n")
    with connect(data_dir.parent / "wh.duckdb") as con:
        _ingested(con, data_dir)
        messages = []
        counts = reconcile.run(con, progress=messages.append)
        yield con, counts, messages


def test_a_small_program_reconciles_to_the_cent_and_every_identity_holds(reconciled):
    con, counts, messages = reconciled
    assert counts["w_worker_audit"] == 2 and len(messages) == len(reconcile.STAGES)
    assert con.execute("SELECT entitled_cents, funded_cents, retained_cents FROM w_pools").fetchall() == [
        (1000, 1000, 0)]
    assert con.execute("SELECT worker_id, entitled_cents, paid_cents FROM w_worker_audit ORDER BY worker_id"
                       ).fetchall() == [("W1", 857, 857), ("W2", 143, 143)]
    results = conservation.run_all(con)
    assert [r.name for r in results] == list(conservation.CHECKS)
    assert all(r.passed for r in results) and all(str(r) == f"{r.name}: passed" for r in results)


# each part of each identity, broken alone
@pytest.mark.parametrize("name,sql", [
    ("pool_shares_add_up", "UPDATE w_worker_audit SET funded_cents = funded_cents + 1 WHERE worker_id = 'W1'"),
    ("pool_shares_add_up", "UPDATE w_worker_audit SET entitled_cents = entitled_cents + 1 WHERE worker_id = 'W1'"),
    ("received_reaches_pools", "UPDATE w_invoice_grower SET received_cents = received_cents + 1"),
    ("received_reaches_pools", "UPDATE w_pools SET retained_cents = retained_cents + 1"),
    ("invoice_money_is_conserved", "UPDATE w_payments SET payee_type = 'intermediary'"),
    ("every_row_accounted_for", "UPDATE ingest_log SET rows_accepted = rows_accepted + 1 WHERE file LIKE '%g.csv'"),
    # the counts add up, but the file's one quarantined row is not stored
    ("every_row_accounted_for",
     "UPDATE ingest_log SET rows_read = rows_read + 1, rows_quarantined = 1 WHERE file LIKE '%g.csv'"),
    ("reference_covers_every_row", "UPDATE w_lines SET owed_cents = NULL"),
    ("reference_covers_every_row", "UPDATE w_lines SET work_period_start = NULL"),
    ("reference_covers_every_row", "DELETE FROM w_payments"),
    ("reference_covers_every_row", "UPDATE payroll_rows SET grower_id = 'B1'"),
    ("reference_covers_every_row", "UPDATE w_sales_lines SET owed_cents = NULL"),
    ("handshake_covers_every_line", "DELETE FROM w_volume_handshake"),
    # every line still has its row, and a row names a line nobody reported (the buyer's side, the seller's)
    ("handshake_covers_every_line",
     "INSERT INTO w_volume_handshake SELECT * REPLACE ('9' AS line_no, false AS seller_reported) FROM w_volume_handshake"),
    ("handshake_covers_every_line",
     "INSERT INTO w_volume_handshake SELECT * REPLACE ('9' AS line_no, false AS buyer_reported) FROM w_volume_handshake"),
], ids=lambda v: v if v in conservation.CHECKS else "")
def test_each_identity_broken_alone_fails_alone_and_names_its_offenders(reconciled, name, sql):
    con, _, _ = reconciled
    with _broken(con, sql):
        failed = [r for r in conservation.run_all(con) if not r.passed]
    assert [r.name for r in failed] == [name]
    assert failed[0].offenders >= 1 and failed[0].sample
    assert str(failed[0]).startswith(f"{name} failed ({conservation.CHECKS[name][0]}): ")


def test_the_sample_of_a_failed_check_holds_the_offenders_values(reconciled):
    con, _, _ = reconciled
    with _broken(con, "UPDATE w_worker_audit SET funded_cents = funded_cents + 1 WHERE worker_id = 'W1'"):
        result = conservation.run_check(con, "pool_shares_add_up")
    assert result.offenders == 1
    assert result.sample == [{"grower_id": "G1", "period_start": "2026-01-05", "entitled_cents": "1000",
                              "entitled_shares": "1000", "funded_cents": "1000", "funded_shares": "1001"}]


def _tables(con) -> dict[str, list]:
    return {t: con.execute(f"SELECT * FROM main.{t} ORDER BY ALL").fetchall()
            for t, _ in reconcile.STAGES if not t.startswith("t_")}


def test_a_rebuild_from_the_files_added_since_equals_a_full_rebuild_and_keeps_its_meta(data_dir):
    """A second grower's files arrive after a reconciliation: rebuilt from the files added since
    (the other grower's worker audit kept), the working tables equal a full rebuild's, and the
    meta written with them is there."""
    from pennytrail.core.warehouse import get_meta

    write(data_dir / "inbox/purchases/b.csv", PURCHASE_HEADER + "\nB1,I1,1,2026-01-06,,G1,G1,tomatoes,1000,lb,10.00\n")
    write(data_dir / "inbox/payroll/g1.csv", PAYROLL_HEADER + "\n" + GOOD_PAYROLL + "\n")
    with connect(data_dir.parent / "wh.duckdb") as con:
        _ingested(con, data_dir)
        reconcile.run(con)
        since = con.execute("SELECT max(seq) FROM ingest_log").fetchone()[0]
        write(data_dir / "inbox/purchases/b2.csv", PURCHASE_HEADER + "\nB1,I2,1,2026-01-13,,G2,G2,tomatoes,500,lb,5.00\n")
        write(data_dir / "inbox/payroll/g2.csv", PAYROLL_HEADER + "\n" + GOOD_PAYROLL.replace("G1", "G2").replace(
            "2026-01-05", "2026-01-12").replace("2026-01-11", "2026-01-18").replace("2026-01-16", "2026-01-23")
            .replace(",10.00", ",5.00") + "\n")
        _ingested(con, data_dir)
        messages = []
        reconcile.run(con, progress=messages.append, since=since, meta={"basis": "incremental"})
        incremental = _tables(con)
        assert get_meta(con, "basis") == "incremental"
        assert "incremental: the worker audit of 1 grower(s) is recomputed, the others' kept" in messages
        reconcile.run(con)
        assert _tables(con) == incremental
        assert {r[0] for r in con.execute("SELECT grower_id FROM w_worker_audit").fetchall()} == {"G1", "G2"}


def test_a_failed_check_counts_every_offender_and_keeps_the_first_ten(reconciled, monkeypatch):
    con, _, _ = reconciled
    monkeypatch.setitem(conservation.CHECKS, "twelve", ("twelve offenders", "SELECT range AS n FROM range(12)"))
    result = conservation.run_check(con, "twelve")
    assert result.offenders == 12 and result.sample == [{"n": str(i)} for i in range(10)]
    assert str(result) == "twelve failed (twelve offenders): 12 offender(s), first: [{'n': '0'}, {'n': '1'}, {'n': '2'}]"
