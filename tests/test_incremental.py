"""A re-run after new files recomputes the worker audit only for the growers the files touch,
and its tables are those of a full rebuild, row for row."""

import shutil

import duckdb

from pennytrail.core.changes import rebuilt_since as _since
from pennytrail.core.changes import reconciliation_state as _state
from pennytrail.core import reconcile
from pennytrail.core.ingest import ingest, write_reference
from pennytrail.core.reference import load_reference
from pennytrail.core.warehouse import connect, get_meta

from .test_ingest_bad_input import PAYROLL_HEADER, PURCHASE_HEADER

SALES_HEADER = "buyer_id,invoice_id,line_no,seller_id,ship_date,grower_id,commodity,quantity,unit"


def _working_tables() -> list[str]:
    return [t for t, _ in reconcile.STAGES if not t.startswith("t_")]


def test_incremental_reconciliation_equals_a_full_rebuild(closed_demo, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(closed_demo, home)
    data = home / "data"
    # one cent more premium on a T001 stub, and a T003 purchase line with more boxes (its pools move)
    lines = (data / "inbox/payroll/T001/2026-01.csv").read_text(encoding="utf-8").splitlines()
    row = dict(zip(lines[0].split(","), lines[1].split(",")))
    first = [row[c] for c in PAYROLL_HEADER.split(",")]  # the generator's optional language column left out
    assert first[:3] == ["T001", "T001-00000", "2026-01-05"]
    cents = round(float(first[-1]) * 100) + 1
    first[-1] = f"{cents // 100}.{cents % 100:02d}"
    (data / "inbox/payroll/T001/2026-01-fix.csv").write_text(PAYROLL_HEADER + "\n" + ",".join(first) + "\n")
    (data / "inbox/purchases/B01/fixes/2026-01-fix.csv").parent.mkdir()
    (data / "inbox/purchases/B01/fixes/2026-01-fix.csv").write_text(
        PURCHASE_HEADER + "\nB01,T003-260105,1,2026-01-06,,T003,T003,tomatoes,2300,box_25lb,575.00\n")
    # the seller's side of that line, in pounds, and a sales line shipped later than anything else:
    # the as-of date moves, and the kept growers' rows are judged overdue against it
    (data / "inbox/sales/T003/2026-01-fix.csv").write_text(
        SALES_HEADER + "\nB01,T003-260105,1,T003,2026-01-06,T003,tomatoes,57500,lb\n"
        "B01,T003-260501,1,T003,2026-05-01,T003,tomatoes,10,lb\n")

    messages: list[str] = []
    with connect(home / "pennytrail.duckdb") as con:
        since = _since(get_meta(con, "reconciliation_fingerprint"), _state(con)[0])
        assert since is not None
        before = con.execute("SELECT * FROM w_worker_audit WHERE grower_id = 'T001' AND worker_id = 'T001-00000' "
                             "AND period_start = DATE '2026-01-05'").fetchall()
        summary = ingest(con, data, load_reference(data), progress=lambda m: None)
        assert summary.files_loaded == 3
        reconcile.run(con, progress=messages.append, since=since)
        after = con.execute("SELECT paid_cents FROM w_worker_audit WHERE grower_id = 'T001' "
                            "AND worker_id = 'T001-00000' AND period_start = DATE '2026-01-05'").fetchone()[0]
    assert len(before) == 1 and after == before[0][9] + 1  # paid_cents moved by exactly the cent

    full = tmp_path / "full.duckdb"
    shutil.copy(home / "pennytrail.duckdb", full)
    with connect(full) as con:
        reconcile.run(con)
    with duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True) as con:
        con.execute(f"ATTACH '{full}' AS rebuilt (READ_ONLY)")
        for table in _working_tables():
            n = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            assert n > 0 or table == "w_pass_through", table
            for a, b in ((table, f"rebuilt.{table}"), (f"rebuilt.{table}", table)):
                extra = con.execute(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b})"
                                    ).fetchone()[0]
                assert extra == 0, f"{table}: {extra} row(s) of {a} not in {b}"
    assert "incremental: the worker audit of 2 grower(s) is recomputed, the others' kept" in messages
    with duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True) as con:
        assert str(con.execute("SELECT as_of_date FROM w_as_of").fetchone()[0]) == "2026-05-01"
        assert con.execute("SELECT status FROM w_volume_handshake WHERE invoice_id = 'T003-260105' "
                           "AND line_no = '1'").fetchone()[0] == "CONFIRMED"


def test_a_change_of_reference_data_or_rules_rebuilds_everything(closed_demo, tmp_path):
    """The reconciliation asset only goes incremental on the basis it last ran on."""
    home = tmp_path / "home"
    shutil.copytree(closed_demo, home)
    with connect(home / "pennytrail.duckdb") as con:
        basis, _ = _state(con)
        last = get_meta(con, "reconciliation_fingerprint")
        assert _since(last, basis) is not None
        con.execute("UPDATE ref_programs SET distribution_deadline_days = distribution_deadline_days + 1")
        assert _state(con)[0] != basis and _since(last, _state(con)[0]) is None


def test_incremental_judges_the_kept_growers_overdue_against_the_new_as_of_date(data_dir):
    """G1's unpaid pool is due 2026-01-25 and G1 sends nothing more; G2's new payroll (paid
    2026-01-26) is the only new file. G1's worker rows are kept, but overdue as of the new date."""
    from .test_handshake import PAYMENTS, PAYROLL, PURCHASES, put

    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-06,,G1,G1,tomatoes,40,box_25lb,",
        "B1,I2,1,2026-01-13,,G2,G2,tomatoes,40,box_25lb,")
    put(data_dir, "payments", "b1.csv", PAYMENTS, "P1,1,B1,G1,2026-01-09,B1,I1,10.00")
    put(data_dir, "payroll", "g1.csv", PAYROLL, "G1,W1,2026-01-05,,Ana,,2026-01-11,2026-01-16,40,100,65.00,0.00")
    db = data_dir.parent / "wh.duckdb"
    ref = load_reference(data_dir)
    messages: list[str] = []
    with connect(db) as con:
        write_reference(con, ref)
        ingest(con, data_dir, ref, progress=lambda m: None)
        reconcile.run(con, meta={"reconciliation_fingerprint": _state(con)[1]})
        assert con.execute("SELECT overdue FROM w_worker_audit").fetchall() == [(False,)]
        put(data_dir, "payroll", "g2.csv", PAYROLL, "G2,W9,2026-01-12,,Bo,,2026-01-18,2026-01-26,40,100,65.00,0.00")
        ingest(con, data_dir, ref, progress=lambda m: None)
        since = _since(get_meta(con, "reconciliation_fingerprint"), _state(con)[0])
        assert since is not None
        reconcile.run(con, progress=messages.append, since=since)
        incremental = con.execute("SELECT * FROM w_worker_audit ORDER BY ALL").fetchall()
        reconcile.run(con)
        assert con.execute("SELECT * FROM w_worker_audit ORDER BY ALL").fetchall() == incremental
    assert "incremental: the worker audit of 1 grower(s) is recomputed, the others' kept" in messages
    assert [(r[2], r[5], r[-2]) for r in incremental] == [("G1", "W1", True), ("G2", "W9", False)]
