"""The real Dagster graph over generated data: the answer key is found exactly (the independent
reference's agreement, table by table, is in test_reference_impl.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pennytrail.cli import main
from pennytrail.generator import generate
from pennytrail.app import UserError as CloseFailed
from pennytrail.app import close

TABLES = ["worker_audit", "pool_audit", "invoice_audit", "pass_through_audit", "volume_handshake", "exceptions",
          "quarantine"]


def con_of(home: Path):
    return duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True)


def snapshot(home: Path) -> dict:
    with con_of(home) as con:
        out = {t: sorted(map(repr, con.execute(f"SELECT * EXCLUDE (raw) FROM {t}" if t == "quarantine"
                                               else f"SELECT * FROM {t}").fetchall())) for t in TABLES}
        out["ingest_log"] = con.execute("SELECT seq, file, sha256, status, rows_read, rows_accepted, rows_quarantined "
                                        "FROM ingest_log ORDER BY seq").fetchall()
    return out


def test_answer_key_quarantine_is_found_exactly(closed_demo):
    key = json.loads((closed_demo / "data/answer_key.json").read_text())
    with con_of(closed_demo) as con:
        got = sorted(con.execute("SELECT file, row_number, code FROM quarantine").fetchall(), key=repr)
        dups = [r[0] for r in con.execute("SELECT file FROM ingest_log WHERE status = 'duplicate'").fetchall()]
    assert got == sorted([(q["file"], q["row_number"], q["code"]) for q in key["quarantine"]], key=repr)
    assert dups == key["duplicates"]


def test_answer_key_exceptions_are_found_exactly(closed_demo):
    key = json.loads((closed_demo / "data/answer_key.json").read_text())
    with con_of(closed_demo) as con:
        got = sorted(con.execute("SELECT code, party_id, reference, amount_cents FROM exceptions "
                                 "WHERE level <> 'worker'").fetchall())
    assert got == sorted((e["code"], e["party_id"], e["reference"], e["amount_cents"]) for e in key["exceptions"])


def test_answer_key_worker_findings_are_found_exactly(closed_demo):
    key = json.loads((closed_demo / "data/answer_key.json").read_text())
    with con_of(closed_demo) as con:
        got = sorted(con.execute("""
            SELECT grower_id, CAST(period_start AS VARCHAR), worker_id, status, paid_cents, funded_cents, late, overdue
            FROM worker_audit WHERE status <> 'OK' OR late OR overdue""").fetchall())
        worker_exceptions = con.execute("SELECT count(*) FROM exceptions WHERE level = 'worker'").fetchone()[0]
    want = sorted((w["grower_id"], w["period_start"], w["worker_id"], w["status"], w["paid_cents"],
                   w["funded_cents"], w["late"], w["overdue"]) for w in key["workers_findings"])
    assert got == want
    assert worker_exceptions == sum(1 for w in want if w[3] != "OK")


def test_answer_key_handshake_findings_are_found_exactly(closed_demo):
    """Every invoice line either side reported has its handshake status; those not CONFIRMED are
    the answer key's, and the findings carry the key's level, party and amount."""
    key = json.loads((closed_demo / "data/answer_key.json").read_text())
    with con_of(closed_demo) as con:
        got = sorted(con.execute("SELECT buyer_id || '/' || invoice_id || '/' || line_no, status FROM volume_handshake "
                                 "WHERE status <> 'CONFIRMED'").fetchall())
        findings = sorted(con.execute("SELECT code, level, party_id, reference, amount_cents FROM exceptions WHERE code "
                                      "IN ('VOLUME_MISMATCH', 'MISSING_PURCHASE', 'MISSING_SALE')").fetchall())
        confirmed = con.execute("SELECT count(*) FROM volume_handshake WHERE status = 'CONFIRMED'").fetchone()[0]
        across_units = con.execute("SELECT count(*) FROM volume_handshake WHERE status = 'CONFIRMED' "
                                   "AND buyer_unit <> seller_unit").fetchone()[0]
        billed = con.execute("SELECT level, party_id FROM exceptions WHERE code = 'BILLED_MISMATCH'").fetchall()
    assert got == sorted((h["reference"], h["status"]) for h in key["handshake"])
    assert findings == sorted((e["code"], e["level"], e["party_id"], e["reference"], e["amount_cents"])
                              for e in key["exceptions"] if e["code"] in ("VOLUME_MISMATCH", "MISSING_PURCHASE",
                                                                          "MISSING_SALE"))
    assert confirmed > 100 and across_units > 0  # boxes against pounds, cwt against pounds
    assert billed == [("grower", next(e["party_id"] for e in key["exceptions"] if e["code"] == "BILLED_MISMATCH"))]


def versions(con, kind: str, key: str) -> tuple[tuple[int, str], list[str]]:
    """A line's current (quantity, file), and the files of all its versions in the order applied."""
    where = "WHERE buyer_id=? AND invoice_id=? AND line_no=?"
    current = con.execute(f"SELECT quantity, file FROM {kind} {where}", key.split("/")).fetchone()
    history = {"purchases": "purchase_rows", "sales": "sales_rows"}[kind]
    files = [r[0] for r in con.execute(f"SELECT file FROM {history} {where} ORDER BY file_seq", key.split("/")).fetchall()]
    return (int(current[0]), current[1]), files


def test_sales_corrections_win_and_keep_history(closed_demo):
    key = json.loads((closed_demo / "data/answer_key.json").read_text())
    assert key["sales_corrections"]
    with con_of(closed_demo) as con:
        for c in key["sales_corrections"]:
            current, files = versions(con, "sales", c["key"])
            status = con.execute("SELECT status FROM volume_handshake WHERE buyer_id=? AND invoice_id=? AND line_no=?",
                                 c["key"].split("/")).fetchone()[0]
            assert current == (c["quantity"], c["wins"])
            assert files == [c["first"], c["wins"]] and status == "CONFIRMED"


def test_a_grower_that_stops_sending_payroll_is_overdue_as_of_the_close(closed_demo):
    """Its last stub paid no premium and no payroll came after: its own last pay date is before the
    due date, but the program's evidence goes on, so the unpaid workers are overdue."""
    key = json.loads((closed_demo / "data/answer_key.json").read_text())
    with con_of(closed_demo) as con:
        as_of = str(con.execute("SELECT as_of_date FROM w_as_of").fetchone()[0])
        rows = con.execute("""
            SELECT a.grower_id, count(*), bool_and(a.overdue), max(l.last_pay_date) < min(p.due_date)
            FROM worker_audit a JOIN pool_audit p USING (grower_id, period_start)
            JOIN w_last_pay l USING (grower_id)
            WHERE a.status = 'UNPAID' AND a.period_start = (SELECT max(period_start) FROM worker_audit w
                                                            WHERE w.grower_id = a.grower_id)
            GROUP BY a.grower_id""").fetchall()
    assert as_of == key["as_of_date"]
    assert any(n > 5 and overdue and own_last_pay_before_due for _, n, overdue, own_last_pay_before_due in rows)


def test_corrections_win_and_keep_history(closed_demo):
    key = json.loads((closed_demo / "data/answer_key.json").read_text())
    with con_of(closed_demo) as con:
        for c in key["corrections"]:
            current, files = versions(con, "purchases", c["key"])
            assert current == (c["quantity"], c["wins"])
            assert files[0] == c["first"] and files[-1] == c["wins"]


def test_clean_data_has_no_findings(tmp_path):
    data = tmp_path / "data"
    generate(data, seed=3, scale="demo", faults=False)
    close(data, tmp_path, None, progress=lambda m: None)
    with con_of(tmp_path) as con:
        assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM exceptions").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM worker_audit WHERE status <> 'OK' OR late OR overdue").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM worker_audit").fetchone()[0] > 500


def test_rerun_shuffled_and_split_files_change_no_table(closed_demo, tmp_path):
    """Metamorphic: the same rows in another order, split over two files, give the same tables."""
    data = tmp_path / "data"
    shutil.copytree(closed_demo / "data", data)
    for f in sorted((data / "inbox/payroll").glob("T00*/*.csv")):
        lines = f.read_text().splitlines()
        header, body = lines[0], lines[1:]
        if "fixes" in str(f) or len(body) < 4:
            continue
        body = body[::-1]  # another order
        half = len(body) // 2
        f.write_text("\n".join([header] + body[:half]) + "\n")
        (f.parent / (f.stem + "-part2.csv")).write_text("\n".join([header] + body[half:]) + "\n")
    close(data, tmp_path, None, progress=lambda m: None)
    a, b = snapshot(closed_demo), snapshot(tmp_path)
    for t in ["worker_audit", "pool_audit", "invoice_audit", "pass_through_audit", "volume_handshake", "exceptions"]:
        assert a[t] == b[t], t


def test_one_more_cent_moves_one_cent_through_every_stage(tmp_path):
    data = tmp_path / "data"
    generate(data, seed=5, scale="demo", faults=False)
    home1, home2 = tmp_path / "h1", tmp_path / "h2"
    close(data, home1, None, progress=lambda m: None)
    # one more cent paid to the grower on one direct invoice
    f = sorted((data / "inbox/payments/B03").glob("*.csv"))[0]
    lines = f.read_text().splitlines()
    cols = lines[1].split(",")
    amount = cols[-1]
    whole, frac = amount.split(".")
    cents = int(whole) * 100 + int(frac) + 1
    cols[-1] = f"{cents // 100}.{cents % 100:02d}"
    f.write_text("\n".join([lines[0], ",".join(cols)] + lines[2:]) + "\n")
    close(data, home2, None, progress=lambda m: None)
    q = "SELECT sum(received_cents) FROM w_invoice_grower"
    with con_of(home1) as c1, con_of(home2) as c2:
        assert c2.execute(q).fetchone()[0] - c1.execute(q).fetchone()[0] == 1
        for sql in ["SELECT sum(funded_cents + retained_cents) FROM pool_audit",
                    "SELECT sum(paid_by_buyer_cents) FROM invoice_audit",
                    "SELECT sum(funded_cents) + (SELECT sum(retained_cents) FROM pool_audit) FROM worker_audit"]:
            assert c2.execute(sql).fetchone()[0] - c1.execute(sql).fetchone()[0] == 1, sql


def test_broken_reference_stops_the_close_with_a_reason(demo_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    with (data / "reference/rates.csv").open("a") as f:
        f.write("FFP,tomatoes,0.02,lb,2025-01-01,\n")
    with pytest.raises(CloseFailed, match=r"rates.csv row 5"):
        close(data, tmp_path, None, progress=lambda m: None)


def test_cli_close_exits_nonzero_with_one_line(tmp_path, capsys):
    assert main(["close", "--data", str(tmp_path / "nothing"), "--home", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("pennytrail: ") and "no reference data" in err and "\n" not in err
