"""Senders' uploads (docs/senders.md: Sending files in the portal): what a careless or hostile
sender uploads ends as one clear answer, and nothing is written outside the sender's own inbox
folder and the portal's private folder. A home of its own: the demo's reference data, no close."""

from __future__ import annotations

import csv
import io
import os
import shutil
import threading
from pathlib import Path

import duckdb
import pytest
from starlette.testclient import TestClient

from pennytrail.app import accounts, portal_db, submissions
from pennytrail.web.app import Config, create_app
from pennytrail.web.submission_pages import UPLOAD_BODY

from .. import hostile
from .conftest import signed_in

PASSWORD = "a sender's long password"
SENDERS = {"grower@t002.example.org": ("grower", "T002"), "grower@t001.example.org": ("grower", "T001"),
           "buyer@b01.example.org": ("buyer", "B01"), "intermediary@r01.example.org": ("intermediary", "R01")}
PAYROLL = ["grower_id", "worker_id", "period_start", "premium_period_start", "worker_name", "period_end", "pay_date",
           "hours", "units", "gross_wages", "premium_paid"]


@pytest.fixture(scope="module")
def sender_home(demo_data, tmp_path_factory):
    home = tmp_path_factory.mktemp("senders") / "home"
    shutil.copytree(demo_data / "reference", home / "data" / "reference")
    for email, (role, party) in SENDERS.items():
        accounts.add_user(home, email, role, PASSWORD, party, parties={party: role})
    return home, create_app(Config(home))


def client(app, email: str) -> TestClient:
    return signed_in(app, email, PASSWORD)


def tree(home: Path) -> dict[str, int]:
    """Every file of the home, with its size, but the portal's database (it records the audit)."""
    out = {}
    for root, _, files in os.walk(home):
        for f in files:
            p = Path(root, f)
            if p.parent.name != "portal" or not p.name.startswith("portal.sqlite"):
                out[p.relative_to(home).as_posix()] = p.stat().st_size
    return out


def new_files(before: dict, home: Path) -> set[str]:
    after = tree(home)
    assert not set(before) - set(after), "a file of the home was removed"
    return {p for p in after if p not in before or after[p] != before[p]}


def payroll_csv(grower: str, rows: int = 2, encoding: str = "utf-8", name: str = "José Pérez",
                first: int = 0) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(PAYROLL)
    for i in range(first, first + rows):
        w.writerow([grower, f"W{i}", "2026-01-05", "", name, "2026-01-11", "2026-01-16", "40", "100", "600.00", "1.00"])
    return out.getvalue().encode(encoding)


def upload(c, kind: str, name: str, body: bytes):
    return c.post("/submissions", data={"kind": kind, "csrf_token": c.csrf}, files={"file": (name, body, "text/csv")})


def token_of(html: str) -> str:
    import re

    m = re.search(r'name="token" value="([^"]+)"', html)
    assert m, html[:500]
    return m.group(1)


def submit(c, token: str):
    return c.post("/submissions/submit", data={"token": token, "csrf_token": c.csrf})


def test_a_file_named_to_climb_out_is_stored_under_the_programs_name_in_the_senders_folder(sender_home):
    home, app = sender_home
    c = client(app, "grower@t001.example.org")
    before = tree(home)
    r = upload(c, "payroll", "../../x.csv", payroll_csv("T001", name="Climbing Out"))
    assert r.status_code == 200 and "2 row(s) would be accepted" in r.text, r.text[-2000:]
    r = submit(c, token_of(r.text))
    assert r.status_code == 303 and r.headers["location"].startswith("/receipts/")
    receipt = c.get(r.headers["location"])
    assert "../../x.csv" not in receipt.text and "x.csv" in receipt.text  # the name as metadata, its last segment
    written = new_files(before, home)
    stored = [p for p in written if p.startswith("data/")]
    assert len(stored) == 1 and stored[0].startswith("data/inbox/payroll/senders/T001/"), written
    assert all(p.startswith(("data/inbox/payroll/senders/T001/", "portal/")) for p in written), written
    assert not any(p.endswith("/x.csv") or p == "x.csv" for p in tree(home.parent))
    r = submissions.receipt(home, int(r.headers["location"].rsplit("/", 1)[1]), "T001")
    assert r.original_name == "x.csv" and r.sha256 in receipt.text and r.submitted_at in receipt.text
    assert not [p for p in written if p.startswith("portal/staging/")]  # nothing staged is left once submitted


def test_another_growers_rows_are_wrong_sender_in_the_preview_and_after_the_close(sender_home):
    from pennytrail.app import close

    home, app = sender_home
    c = client(app, "grower@t001.example.org")
    # workers of its own that no other file of the module sends: the row is not a later file's correction
    mixed = payroll_csv("T003", rows=1, first=50) + payroll_csv("T001", rows=1, first=50).split(b"\n", 1)[1]
    r = upload(c, "payroll", "payroll.csv", mixed)
    assert r.status_code == 200
    assert "WRONG_SENDER" in r.text and "1 row(s) would be accepted, 1 quarantined" in r.text
    r = submit(c, token_of(r.text))
    stored = submissions.receipt(home, int(r.headers["location"].rsplit("/", 1)[1]), "T001").stored_path
    # the close reads it where it is stored, as the file of its sender (SPEC §3c)
    close(home / "data", home, None, progress=lambda m: None)
    con = duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True)
    found = con.execute("SELECT row_number, code, message FROM quarantine WHERE file = ?", [stored]).fetchall()
    accepted = con.execute("SELECT grower_id FROM payroll WHERE file = ?", [stored]).fetchall()
    con.close()
    assert [(n, code) for n, code, _ in found] == [(2, "WRONG_SENDER")] and "T003" in found[0][2]
    assert accepted == [("T001",)]


def test_an_xlsx_bomb_is_rejected_whole_in_the_preview(sender_home, tmp_path):
    home, app = sender_home
    c = client(app, "grower@t001.example.org")
    sheet = hostile.sheet_xml([PAYROLL, ["T001"] * len(PAYROLL)])
    bomb = hostile.streamed_sheet(tmp_path / "b.xlsx", sheet.split("</sheetData>")[0], b"<!-- -->" * 16, 200_000,
                                  "</sheetData></worksheet>")
    far = hostile.workbook(tmp_path / "far.xlsx",
                           hostile.sheet_xml([PAYROLL], extra_cells=hostile.cell("XFD1048576", "x")))
    for path in (bomb, far):
        r = c.post("/submissions", data={"kind": "payroll", "csrf_token": c.csrf},
                   files={"file": (path.name, path.read_bytes(), "application/octet-stream")})
        assert r.status_code == 200 and "rejected whole (FILE_TOO_LARGE)" in r.text, r.text[-1500:]


def test_a_50_mb_upload_ends_with_413_and_nothing_staged(sender_home):
    from .test_hardening import endless, run_asgi

    home, app = sender_home
    before = tree(home)
    boundary = "b0undary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n").encode()

    def body():
        yield head
        sent = 0
        for chunk in endless(1024 * 1024):
            if sent >= 50 * 1024 * 1024:
                return
            sent += len(chunk)
            yield chunk

    c = client(app, "grower@t001.example.org")
    headers = [(b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
               (b"transfer-encoding", b"chunked"),
               (b"cookie", "; ".join(f"{k}={v}" for k, v in c.cookies.items()).encode())]
    (status, _), pulled = run_asgi(app, "POST", "/submissions", headers, body())
    assert status == 413 and pulled <= UPLOAD_BODY + 1024 * 1024 + len(head)
    # declared: refused before a byte is read, with the limit in words
    r = c.post("/submissions", content=b"x" * (UPLOAD_BODY + 1),
               headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413 and "20 MB" in r.text
    assert new_files(before, home) == set()
    # past the file's own limit but within the request's: the page says so too
    r = upload(c, "payroll", "big.csv", b"a" * (submissions.MAX_UPLOAD + 10))
    assert r.status_code == 413 and "larger than 20 MB" in r.text
    assert new_files(before, home) == set()


def test_the_same_file_sent_twice_at_once_is_stored_once(sender_home):
    home, app = sender_home
    data = home / "data"
    body = payroll_csv("T001", rows=3, name="Twice At Once")
    tokens = [submissions.stage(home, data, "T001", "grower", "payroll", f"copy{i}.csv", io.BytesIO(body), "t").token
              for i in range(6)]
    start = threading.Barrier(len(tokens))
    receipts = []

    def send(token):
        start.wait()
        receipts.append(submissions.submit(home, data, token, "T001", "grower", "t"))

    threads = [threading.Thread(target=send, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(receipts) == 6 and len({r.id for r in receipts}) == 1
    assert sorted(r.duplicate for r in receipts) == [False] + [True] * 5
    folder = data / "inbox" / "payroll" / "senders" / "T001"
    stored = [p for p in folder.iterdir() if receipts[0].sha256[:16] in p.name]
    assert len(stored) == 1 and stored[0].read_bytes() == body
    # and through the portal: the answer names the first receipt, nothing is written
    c = client(app, "grower@t001.example.org")
    before = tree(home)
    r = submit(c, token_of(upload(c, "payroll", "again.csv", body).text))
    assert r.status_code == 303 and r.headers["location"] == f"/receipts/{receipts[0].id}?again=1"
    page = c.get(r.headers["location"]).text
    assert f"Already received on {receipts[0].submitted_at}" in page and receipts[0].reference in page
    assert new_files(before, home) == set()
    assert any(e["action"] == "submission already received" for e in portal_db.audit_log(home, 5))


def test_what_a_sender_may_not_send_or_cannot_be_read_gets_a_clear_answer(sender_home):
    home, app = sender_home
    buyer = client(app, "buyer@b01.example.org")
    before = tree(home)
    r = upload(buyer, "payroll", "payroll.csv", payroll_csv("T001"))
    assert r.status_code == 403 and "a buyer does not send payroll: it sends purchases and payments" in r.text
    grower = client(app, "grower@t001.example.org")
    r = upload(grower, "payroll", "empty.csv", b"")
    assert r.status_code == 400 and "the file is empty" in r.text
    r = upload(grower, "payroll", "payroll.txt", payroll_csv("T001"))
    assert r.status_code == 400 and "only .csv and .xlsx files" in r.text
    assert new_files(before, home) == set()
    r = upload(grower, "payroll", "cp1252.csv", payroll_csv("T001", encoding="cp1252"))
    assert r.status_code == 200 and "rejected whole (BAD_ENCODING)" in r.text and "not UTF-8" in r.text
    # a name holding a NUL, a line end and a thousand characters is kept as plain metadata; a name
    # longer than a form's header line may be is a form that cannot be read
    r = upload(grower, "payroll", "a\x00b\nc" + "é" * 5000 + ".csv", payroll_csv("T001", rows=1, name="Long Name"))
    assert r.status_code == 400 and "could not be read" in r.text
    r = upload(grower, "payroll", "a\x00b\nc" + "é" * 1000 + ".csv", payroll_csv("T001", rows=1, name="Long Name"))
    assert r.status_code == 200
    r = submit(grower, token_of(r.text))
    kept = submissions.receipt(home, int(r.headers["location"].rsplit("/", 1)[1]), "T001").original_name
    assert len(kept) <= submissions.MAX_NAME and kept.endswith(".csv") and not any(ch in kept for ch in "\x00\n/")
    # every upload, preview and refusal is in the audit log
    actions = [e["action"] for e in portal_db.audit_log(home, 50) if e["actor"] in SENDERS]
    assert {"upload", "preview", "upload refused", "submit"} <= set(actions)


def test_a_sender_sees_and_reaches_only_its_own(sender_home):
    home, app = sender_home
    data = home / "data"
    other = submissions.submit(home, data, submissions.stage(
        home, data, "T001", "grower", "sales", "sales.csv", io.BytesIO(b"buyer_id\nB01\n"), "t").token,
        "T001", "grower", "t")
    staged = submissions.stage(home, data, "T001", "grower", "payroll", "p.csv", io.BytesIO(b"x\n1\n"), "t").token
    c = client(app, "grower@t002.example.org")
    assert c.get(f"/receipts/{other.id}").status_code == 404
    assert submit(c, staged).status_code == 409
    assert "sales.csv" not in c.get("/submissions").text
    assert "sales.csv" in client(app, "grower@t001.example.org").get("/submissions").text


def test_nil_returns_are_checked_recorded_once_and_listed_with_the_files(sender_home):
    home, app = sender_home
    c = client(app, "grower@t002.example.org")
    nil = lambda kind, period: c.post("/submissions/nil", data={"kind": kind, "period": period,  # noqa: E731
                                                                "csrf_token": c.csrf})
    r = nil("payroll", "2026-01-06")
    assert r.status_code == 400 and "not the first day of a pay period" in r.text and "2026-01-05" in r.text
    assert nil("payroll", "2026-13-01").status_code == 400
    assert nil("sales", "2026-1").status_code == 400
    assert nil("purchases", "2026-02").status_code == 403
    r = nil("payroll", "2026-01-12")
    assert r.status_code == 200 and "Recorded: nothing of payroll to send for 2026-01-12" in r.text
    assert "Already declared on" in nil("payroll", "2026-01-12").text
    assert nil("sales", "2026-02").status_code == 200
    page = c.get("/submissions").text
    assert "nothing to send" in page and "2026-01-12" in page
    items = submissions.sender_items(home, "T002")
    assert {(i["kind"], i["period"], i["how"]) for i in items} >= {("payroll", "2026-01-12", "nil"),
                                                                    ("sales", "2026-02", "nil")}
    assert all(set(i) == {"kind", "period", "how", "when", "id", "reference"} for i in items)
    # a file counts for every period its accepted rows report
    data = home / "data"
    body = payroll_csv("T001", rows=1).replace(b"2026-01-05,,", b"2026-01-19,,").replace(b"2026-01-11", b"2026-01-25")
    r = submissions.submit(home, data, submissions.stage(home, data, "T001", "grower", "payroll", "p.csv",
                                                         io.BytesIO(body), "t").token, "T001", "grower", "t")
    assert ("payroll", "2026-01-19", "file", r.reference) in {
        (i["kind"], i["period"], i["how"], i["reference"]) for i in submissions.sender_items(home, "T001")}


def test_roles_send_their_own_kinds_and_accounts_name_a_party_of_their_type(tmp_path):
    assert submissions.kinds_for("buyer") == ("purchases", "payments")
    assert submissions.kinds_for("grower") == ("payroll", "sales")
    assert submissions.kinds_for("intermediary") == ("payments", "sales")
    assert submissions.kinds_for("accountant") == ()
    parties = {"B01": "buyer", "T001": "grower", "R01": "intermediary"}
    with pytest.raises(accounts.AccountError, match="no grower 'B01'"):
        accounts.add_user(tmp_path, "g@example.org", "grower", PASSWORD, "B01", parties=parties)
    with pytest.raises(accounts.AccountError, match="needs the party id"):
        accounts.add_user(tmp_path, "i@example.org", "intermediary", PASSWORD, None, parties=parties)
    added = accounts.add_user(tmp_path, "i@example.org", "intermediary", PASSWORD, "R01", parties=parties)
    assert added.party_id == "R01"
    assert submissions.shown_name("../..\\a\x00b\nc\u202e.csv") == "abc.csv"
    assert submissions.shown_name(None) == "(no name)"
    for unsafe in ("..", "a/b", "B 01", ""):
        with pytest.raises(submissions.SubmissionError):
            submissions.stored_folder(tmp_path, "payroll", unsafe)


def test_submit_clicked_twice_stores_the_file_once_and_keeps_its_receipt(sender_home):
    """Two requests submitting one staged upload at once (a double click): one stores it and gets
    the receipt, the other finds nothing staged; the file is in the inbox and its receipt holds."""
    home, _ = sender_home
    data = home / "data"
    body = payroll_csv("T001", rows=2, name="Double Click", first=70)
    token = submissions.stage(home, data, "T001", "grower", "payroll", "click.csv", io.BytesIO(body), "t").token
    start = threading.Barrier(2)
    outcomes = []

    def send():
        start.wait()
        try:
            outcomes.append(submissions.submit(home, data, token, "T001", "grower", "t"))
        except LookupError:
            outcomes.append("nothing staged")

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    receipts = [o for o in outcomes if o != "nothing staged"]
    assert len(outcomes) == 2 and len(receipts) == 1 and not receipts[0].duplicate, outcomes
    stored = data / submissions.receipt(home, receipts[0].id, "T001").stored_path
    assert stored.read_bytes() == body
    assert not list(home.joinpath("portal", "staging").glob(f"{token}*"))  # nothing of it left staged
