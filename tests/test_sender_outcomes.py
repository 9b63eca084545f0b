"""What became of a sender's files, and the grower's own list of workers to pay, read from a
small warehouse written here by hand: each party reaches its own files and rows only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import duckdb
import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pennytrail.app import grower_view, sender_files
from pennytrail.core.warehouse import connect

T1 = "inbox/payroll/senders/G1/20260301-0001.csv"
T1_OLD = "inbox/payroll/senders/G1/20260201-0001.csv"
MAPPED = "inbox/payroll/senders/G1/adp-march.csv"
G2_FILE = "inbox/payroll/senders/G2/20260301-0001.csv"
STAFF = "inbox/payroll/G1/2026-03.csv"  # placed by the program's staff: not held to one sender
LOOK_ALIKE = "inbox/payroll/senders/G1x/a.csv"  # another party whose id starts like G1's


@pytest.fixture
def con(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as c:
        log = [  # seq, file, sha, status, read, accepted, quarantined, skipped, mapping, message
            (1, T1_OLD, "a" * 64, "rejected", 0, 0, 0, 0, None, "the header lacks premium_paid"),
            (2, T1, "b" * 64, "loaded", 3, 1, 2, 0, None, None),
            (3, MAPPED, "c" * 64, "loaded", 4, 2, 1, 1, "g1-adp.yaml", None),
            (4, G2_FILE, "d" * 64, "loaded", 1, 1, 0, 0, None, None),
            (5, STAFF, "e" * 64, "loaded", 1, 1, 0, 0, None, None),
            (6, LOOK_ALIKE, "f" * 64, "loaded", 1, 1, 0, 0, None, None),
            (7, "inbox/payroll/senders/G1/again.csv", "b" * 64, "duplicate", 0, 0, 0, 0, None, None),
        ]
        for seq, file, sha, status, read, acc, q, skipped, mapping, message in log:
            c.execute("INSERT INTO ingest_log (seq, file, sha256, kind, status, first_seen_at, rows_read, rows_accepted, "
                      "rows_quarantined, rows_skipped, mapping, message) VALUES (?, ?, ?, 'payroll', ?, "
                      "TIMESTAMP '2026-03-02 10:00:00', ?, ?, ?, ?, ?, ?)",
                      [seq, file, sha, status, read, acc, q, skipped, mapping, message])
        quarantine = [
            (T1_OLD, None, "a", "MISSING_COLUMN", "the header lacks premium_paid", None),
            (T1, 3, "b", "BAD_DATE", "pay_date: expected a date YYYY-MM-DD, got '13/02/2026'",
             {"grower_id": "G1", "worker_id": "W2", "worker_name": "=HYPERLINK(\"x\")", "pay_date": "13/02/2026",
              "premium_paid": "-3.00"}),
            (T1, 4, "b", "DUPLICATE_KEY", "grower_id + worker_id + period_start + premium_period_start appears more "
             "than once in this file (first at row 2); keep one row per key",
             {"grower_id": "G1", "worker_id": "W3", "worker_name": "@Ana", "pay_date": "2026-02-13",
              "premium_paid": "\t4.00"}),
            (MAPPED, 5, "c", "BAD_DATE", '"Check Date" (pay_date): "13/02/2026" is not a date like 02/13/2026',
             {"Co Code": "G1", "File #": "W9", "Employee Name": "Ana Paz", "Check Date": "13/02/2026", "": ""}),
            (G2_FILE, 2, "d", "BAD_DATE", "pay_date: expected a date YYYY-MM-DD, got 'x'",
             {"grower_id": "G2", "worker_name": "Somebody Else"}),
        ]
        for file, row, sha, code, message, raw in quarantine:
            c.execute("INSERT INTO quarantine (file, sheet, row_number, kind, code, message, raw, sha256) "
                      "VALUES (?, NULL, ?, 'payroll', ?, ?, ?, ?)",
                      [file, row, code, message, json.dumps(raw) if raw is not None else None, sha * 64])
        c.execute("INSERT INTO ref_parties VALUES ('G1', 'grower', 'Grower One', 'FFP'), "
                  "('G2', 'grower', 'Grower Two', 'FFP')")
        pools = [("G1", "2026-02-02", 10000, 9000, 1000, 8000, 1000), ("G1", "2026-02-09", 500, 500, 0, 500, 0),
                 ("G2", "2026-02-02", 7000, 7000, 0, 0, 7000)]
        for g, p, entitled, funded, retained, distributed, undistributed in pools:
            start = dt.date.fromisoformat(p)
            c.execute("INSERT INTO pool_audit VALUES ('2026-02', 'FFP', ?, ?, ?, ?, ?, ?, ?, 0, ?, 2, ?)",
                      [g, start, start + dt.timedelta(days=6), entitled, funded, retained, distributed, undistributed,
                       start + dt.timedelta(days=20)])
        workers = [  # grower, period, worker, funded, paid, status, overdue
            ("G1", "2026-02-02", "W1", 4500, 0, "UNPAID", True),
            ("G1", "2026-02-02", "W2", 4500, 8000, "OVERPAID", False),
            ("G1", "2026-02-09", "W3", 250, 250, "OK", False),
            ("G1", "2026-02-09", "W4", 250, 100, "UNDERPAID", False),
            ("G1", "2026-02-09", "W5", 0, 300, "PAID_WITHOUT_WORK", False),
            ("G2", "2026-02-02", "X1", 3500, 0, "UNPAID", True),
        ]
        for g, p, w, funded, paid, status, overdue in workers:
            start = dt.date.fromisoformat(p)
            c.execute("INSERT INTO worker_audit VALUES ('2026-02', 'FFP', ?, ?, ?, ?, 1, ?, ?, ?, ?, 0, ?, false, ?)",
                      [g, start, start + dt.timedelta(days=6), w, funded, funded, paid, paid - funded, status, overdue])
        for seq, g, w, name in [(2, "G1", "W1", "Old Name"), (3, "G1", "W1", "=Rosa Díaz"), (2, "G1", "W2", "Juan"),
                                (4, "G2", "X1", "Other Grower's Worker")]:
            c.execute("INSERT INTO payroll_rows (file_seq, file, row_number, grower_id, worker_id, period_start, "
                      "premium_period_start, worker_name) VALUES (?, 'x.csv', 2, ?, ?, DATE '2026-02-02', "
                      "DATE '2026-02-02', ?)", [seq, g, w, name])
    c = duckdb.connect(str(path), read_only=True)
    yield c
    c.close()


def ids(files):
    return {f.file: f for f in files}


def test_a_sender_sees_its_own_folders_files_only(con):
    files = ids(sender_files.sender_files(con, "G1"))
    assert set(files) == {T1_OLD, T1, MAPPED, "inbox/payroll/senders/G1/again.csv"}
    assert files[T1].status == "loaded" and (files[T1].rows_read, files[T1].rows_accepted,
                                             files[T1].rows_quarantined) == (3, 1, 2)
    assert files[MAPPED].rows_skipped == 1 and files[MAPPED].mapping == "g1-adp.yaml"
    assert files[T1_OLD].status == "rejected" and files[T1_OLD].message == "the header lacks premium_paid"
    assert files["inbox/payroll/senders/G1/again.csv"].status_words.startswith("the same file was received before")
    assert set(ids(sender_files.sender_files(con, "G2"))) == {G2_FILE}
    assert set(ids(sender_files.sender_files(con, "G1x"))) == {LOOK_ALIKE}
    assert sender_files.sender_files(con, "%") == [] and sender_files.sender_files(con, "G") == []


def test_a_file_id_is_its_version_and_names_nothing_for_another_party(con):
    mine = ids(sender_files.sender_files(con, "G1"))[T1]
    assert mine.id == sender_files.file_id(T1, "b" * 64) and sender_files.ID.match(mine.id)
    assert mine.id != sender_files.file_id(T1, "c" * 64)
    assert sender_files.file_detail(con, "G1", mine.id).file.file == T1
    theirs = ids(sender_files.sender_files(con, "G2"))[G2_FILE].id
    assert sender_files.file_detail(con, "G1", theirs) is None
    assert sender_files.file_detail(con, "G2", mine.id) is None
    for wrong in ("", "../x", mine.id.upper(), mine.id + "0", "1" * 30, "-1"):
        assert sender_files.file_detail(con, "G1", wrong) is None


def test_a_submission_waits_for_the_next_close_and_is_then_the_same_file(con):
    waiting = {"id": 7, "file": "inbox/payroll/senders/G1/20260310-0002.csv", "sha256": "9" * 64,
               "original_name": "march week 2.csv", "submitted_at": "2026-03-10T09:00:00Z"}
    read = {"id": 6, "file": T1, "sha256": "b" * 64, "original_name": "march.csv", "submitted_at": "2026-03-01"}
    someone_elses = {"id": 8, "file": G2_FILE, "sha256": "d" * 64, "original_name": "x.csv", "submitted_at": "x"}
    files = sender_files.sender_files(con, "G1", [waiting, read, someone_elses])
    assert files[0].status == sender_files.WAITING and files[0].name == "march week 2.csv"
    assert files[0].status_words == "waiting for the next close"
    by_file = ids(files)
    assert G2_FILE not in by_file
    assert by_file[T1].status == "loaded" and by_file[T1].name == "march.csv"
    assert sender_files.file_detail(con, "G1", "7", [waiting]).file.status == sender_files.WAITING
    assert sender_files.file_detail(con, "G1", "6", [read]).file.file == T1
    assert sender_files.file_detail(con, "G1", "8", [someone_elses]) is None
    assert sender_files.sender_files(None, "G1", [waiting])[0].status == sender_files.WAITING


def test_each_rejected_row_has_the_senders_row_column_and_message(con):
    files = ids(sender_files.sender_files(con, "G1"))
    d = sender_files.file_detail(con, "G1", files[T1].id)
    assert [(r.row_number, r.code, r.column) for r in d.rows] == [(3, "BAD_DATE", "pay_date"),
                                                                  (4, "DUPLICATE_KEY", None)]
    mapped = sender_files.file_detail(con, "G1", files[MAPPED].id)
    assert [(r.row_number, r.column) for r in mapped.rows] == [(5, "Check Date")]
    whole = sender_files.file_detail(con, "G1", files[T1_OLD].id)
    assert whole.row_rejections == [] and whole.file_rejection.code == "MISSING_COLUMN"


@pytest.mark.parametrize("code, message, raw, column", [
    ("BAD_AMOUNT", '"Earnings 3 Amount" (premium_paid): "1,2" is not an amount like 1234.56', {}, "Earnings 3 Amount"),
    ("UNKNOWN_PARTY", '"Co Code" (grower_id): ZZ is not in reference/parties.csv', {}, "Co Code"),
    ("BAD_DATE", "pay_date: expected a date YYYY-MM-DD, got 'x'", {"Pay_Date ": "x"}, "Pay_Date "),
    ("NO_RATE", "no rate in force for program FFP, commodity 'kale' on ship_date 2026-01-05", {}, None),
    ("SIBLING_REJECTED", 'row 4, a line of the same pay period, was quarantined (BAD_AMOUNT: "Amount" (amount): x)',
     {}, None),
])
def test_the_column_is_the_senders_header(code, message, raw, column):
    assert sender_files.column_of(code, message, raw, {"pay_date", "premium_paid", "grower_id"}) == column


def test_rejected_rows_download_in_the_senders_headers_with_formulas_neutralised(con):
    files = ids(sender_files.sender_files(con, "G1"))
    text = sender_files.rejected_csv(sender_files.file_detail(con, "G1", files[T1].id))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["grower_id", "worker_id", "worker_name", "pay_date", "premium_paid",
                       "Rejected: row", "Rejected: code", "Rejected: reason"]
    assert rows[1][:5] == ["G1", "W2", "'=HYPERLINK(\"x\")", "13/02/2026", "'-3.00"]
    assert rows[1][5:7] == ["3", "BAD_DATE"] and rows[1][7].startswith("pay_date: expected a date")
    assert rows[2][2] == "'@Ana" and rows[2][4] == "'\t4.00"
    assert len(rows) == 3
    for row in rows:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    mapped = list(csv.reader(io.StringIO(sender_files.rejected_csv(
        sender_files.file_detail(con, "G1", files[MAPPED].id)))))
    assert mapped[0][:4] == ["Co Code", "File #", "Employee Name", "Check Date"]
    assert sender_files.rejected_csv_name(sender_files.file_detail(con, "G1", files[MAPPED].id)) == \
        "adp-march-rejected-rows.csv"


def test_the_growers_pools_are_its_own_by_month(con):
    months = grower_view.pools_by_month(con, "G1")
    assert [m["month"] for m in months] == ["2026-02"]
    feb = months[0]
    assert [p["period_start"].isoformat() for p in feb["pools"]] == ["2026-02-02", "2026-02-09"]
    assert (feb["entitled_cents"], feb["received_cents"], feb["funded_cents"], feb["distributed_cents"]) == \
        (10500, 10500, 9500, 8500)
    assert [p["workers_to_pay"] for p in feb["pools"]] == [2, 1]
    assert grower_view.pools_by_month(con, "G3") == []


def test_workers_to_pay_are_the_growers_unpaid_underpaid_overpaid_and_overdue(con):
    got = grower_view.to_pay(con, "G1")
    assert [(r["worker_id"], r["status"], r["to_pay_cents"]) for r in got] == [
        ("W1", "UNPAID", 4500), ("W4", "UNDERPAID", 150), ("W2", "OVERPAID", -3500)]
    assert got[0]["worker_name"] == "=Rosa Díaz"  # the latest stub's name
    assert got[0]["action"] == "pay $45.00 (overdue since 2026-02-22)"
    assert got[1]["action"] == "pay $1.50"
    assert got[2]["action"] == "paid $35.00 beyond the share: nothing to pay"
    assert "Other Grower" not in repr(got) and "X1" not in repr(got)
    assert [r["worker_id"] for r in grower_view.to_pay(con, "G2")] == ["X1"]


def test_the_list_to_pay_downloads_as_csv_and_workbook(con, tmp_path):
    got = grower_view.to_pay(con, "G1")
    rows = list(csv.reader(io.StringIO(grower_view.to_pay_csv(got))))
    assert rows[0][:6] == ["Month", "Period start", "Period end", "Worker id", "Worker name", "Status"]
    assert rows[1][3:5] == ["W1", "'=Rosa Díaz"] and rows[1][8:11] == ["45.00", "0.00", "45.00"]
    assert rows[3][10] == "-35.00"  # an amount, not text: paid beyond the share
    path = grower_view.to_pay_xlsx(got, tmp_path / "to-pay.xlsx", "G1", "Grower One")
    ws = openpyxl.load_workbook(path).active
    cells = [c for row in ws.iter_rows() for c in row if c.value == "=Rosa Díaz"]
    assert cells and all(c.data_type == "s" for c in cells)


def test_receipts_are_the_partys_own_uploads_with_their_stored_path(con, tmp_path):
    from pennytrail.app import portal_db

    home = tmp_path / "home"
    with portal_db.connect(home) as db:
        for sid, party, stored, sha in [(3, "G1", T1, "b" * 64), (4, "G2", G2_FILE, "d" * 64),
                                        (5, "G1", "inbox/payroll/senders/G1/20260310-0002.csv", "9" * 64)]:
            db.execute("INSERT INTO submissions (id, party_id, kind, stored_path, original_name, sha256, size, "
                       "submitted_by, submitted_at) VALUES (?, ?, 'payroll', ?, ?, ?, 10, 'clerk', ?)",
                       [sid, party, stored, f"upload {sid}.csv", sha, f"2026-03-0{sid} 09:00:00 UTC"])
    got = sender_files.receipts(home, "G1")
    assert [(r["id"], r["reference"], r["file"]) for r in got] == [
        (3, "S-000003", T1), (5, "S-000005", "inbox/payroll/senders/G1/20260310-0002.csv")]
    files = sender_files.sender_files(con, "G1", got)
    assert files[0].status == sender_files.WAITING and files[0].name == "upload 5.csv"
    assert ids(files)[T1].submission["reference"] == "S-000003"
    assert sender_files.file_detail(con, "G1", "4", got) is None  # G2's receipt number names nothing for G1
    assert sender_files.file_detail(con, "G1", "3", got).file.file == T1


def test_the_payables_command_writes_the_growers_list(con, tmp_path, capsys):
    """`pennytrail payables` reads the published snapshot: one line and exit 1 before a close
    published one, or for a party that is no grower."""
    import shutil

    from pennytrail.app import snapshots
    from pennytrail.cli import main

    home = tmp_path / "home"
    home.mkdir()
    assert main(["payables", "--home", str(home), "--grower", "G1"]) == 1
    assert "nothing is published" in capsys.readouterr().err
    shutil.copy(tmp_path / "w.duckdb", home / "pennytrail.duckdb")
    snapshots.publish(home)
    assert main(["payables", "--home", str(home), "--grower", "G1"]) == 0
    printed = capsys.readouterr().out
    assert printed == grower_view.to_pay_csv(grower_view.to_pay(con, "G1"))
    assert main(["payables", "--home", str(home), "--grower", "G3"]) == 1
    assert "no grower 'G3'" in capsys.readouterr().err
    assert main(["payables", "--home", str(home), "--grower", "G2", "--out", str(tmp_path / "g2.xlsx")]) == 0
    ws = openpyxl.load_workbook(tmp_path / "g2.xlsx").active
    assert "X1" in [c.value for row in ws.iter_rows() for c in row]


@given(st.lists(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=12), max_size=5), min_size=1,
                max_size=4))
def test_rejected_rows_round_trip_with_every_formula_neutralised(records):
    """Whatever a sender's rows hold, the CSV read back gives each value under its own header,
    every value that a spreadsheet would run as a formula with a leading apostrophe, and no cell
    that starts a formula."""
    rows = [sender_files.Rejected(None, i + 2, "BAD_DATE", None, "=bad", raw) for i, raw in enumerate(records)]
    detail = sender_files.FileDetail(sender_files.SenderFile("f" + "0" * 24, T1, "payroll", "b" * 64, "loaded"), rows)
    back = list(csv.reader(io.StringIO(sender_files.rejected_csv(detail), newline="")))
    headers = list(dict.fromkeys(k for raw in records for k in raw))
    shown = lambda v: "'" + v if v.startswith(("=", "+", "-", "@", "\t", "\r")) else v  # noqa: E731
    assert back[0] == [shown(h) for h in headers] + ["Rejected: row", "Rejected: code", "Rejected: reason"]
    assert len(back) == len(records) + 1
    for i, (raw, line) in enumerate(zip(records, back[1:])):
        assert line == [shown(raw.get(h, "")) for h in headers] + [str(i + 2), "BAD_DATE", "'=bad"]
        assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in line)
