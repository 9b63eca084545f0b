"""The reconciliation and the conservation checks in one process, with no Dagster run: a small
program ingested, reconciled and checked, then broken one identity at a time. Quick enough to
hold the core's SQL-building Python under mutation testing; the rules themselves are checked
figure by figure by the boundary program (tests/test_boundaries.py)."""

from __future__ import annotations

import pytest

from pennytrail.core import conservation, reconcile
from pennytrail.core.ingest import ingest, write_reference
from pennytrail.core.reference import load_reference
from pennytrail.core.warehouse import connect

from .boundary_data import PAYMENT_HEADER
from .conftest import REFERENCE, write
from .test_ingest_bad_input import GOOD_PAYROLL, PAYROLL_HEADER, PURCHASE_HEADER
from .test_ranges_and_ids import SALES_HEADER



@pytest.fixture(scope="module")
def reconciled(tmp_path_factory):
    """A grower paid $10.00 for 1,000 lb shipped in its first pay period, passed in full to two
    workers (six of seven units to one): every identity holds. Built once; a test that breaks
    it does so inside a transaction it rolls back."""
    data_dir = tmp_path_factory.mktemp("direct") / "data"
    for name, text in REFERENCE.items():
        write(data_dir / "reference" / name, text)
    write(data_dir / "inbox/purchases/b.csv", PURCHASE_HEADER + "\nB1,I1,1,2026-01-06,,G1,G1,tomatoes,1000,lb,10.00\n")
    write(data_dir / "inbox/sales/s.csv", SALES_HEADER + "\nB1,I1,1,G1,2026-01-06,G1,tomatoes,1000,lb\n")
    write(data_dir / "inbox/payments/p.csv", PAYMENT_HEADER + "\nP1,1,B1,G1,2026-01-20,B1,I1,10.00\n")
    write(data_dir / "inbox/payroll/g.csv", PAYROLL_HEADER + "\n"
          + GOOD_PAYROLL.replace(",40,100,65.00,10.00", ",40,600,65.00,8.57") + "\n"
          + GOOD_PAYROLL.replace("W1", "W2").replace(",40,100,65.00,10.00", ",40,100,65.00,1.43") + "\n")
    ref = load_reference(data_dir)
    with connect(data_dir.parent / "wh.duckdb") as con:
        write_reference(con, ref)
        ingest(con, data_dir, ref, progress=lambda m: None)
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


@pytest.mark.parametrize("name,sql", [
    ("pool_shares_add_up", "UPDATE w_worker_audit SET funded_cents = funded_cents + 1 WHERE worker_id = 'W1'"),
    ("received_reaches_pools", "UPDATE w_invoice_grower SET received_cents = received_cents + 1"),
    ("every_row_accounted_for", "UPDATE ingest_log SET rows_accepted = rows_accepted + 1 WHERE file LIKE '%g.csv'"),
    ("handshake_covers_every_line", "DELETE FROM w_volume_handshake"),
])
def test_each_identity_broken_alone_fails_alone_and_names_its_offenders(reconciled, name, sql):
    con, _, _ = reconciled
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(sql)
        failed = [r for r in conservation.run_all(con) if not r.passed]
    finally:
        con.execute("ROLLBACK")
    assert [r.name for r in failed] == [name]
    assert failed[0].offenders >= 1 and failed[0].sample
    assert str(failed[0]).startswith(f"{name} failed ({conservation.CHECKS[name][0]}): ")
