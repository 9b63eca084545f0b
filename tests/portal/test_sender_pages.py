"""The senders' pages over the portal's shared home: grower T001's own file, read through its own
layout from its own folder (conftest's ``add_sender_file``), and the grower's page. Each sender
reaches its own files and rows only; another's file answers 404; nothing of a case shows."""

from __future__ import annotations

import csv
import io

import duckdb
import openpyxl
import pytest

from pennytrail.app import casework, grower_view, portal_db, snapshots
from pennytrail.app.sender_files import file_id

from .conftest import SENDER, SENDER_FILE, sign_in_as

OTHER_GROWER = "T003"


@pytest.fixture(scope="module")
def senders(portal_app, portal_home):
    """Signed-in clients of grower T001, grower T003 and buyer B01's own sender account."""
    home, _ = portal_home
    return {party: sign_in_as(portal_app, home, f"{role}-{party.lower()}@example.org", role, party)
            for role, party in (("grower", SENDER), ("grower", OTHER_GROWER), ("buyer", "B01"))}


@pytest.fixture(scope="module")
def own_id(portal_home) -> str:
    home, _ = portal_home
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    sha = con.execute("SELECT sha256 FROM ingest_log WHERE file = ?", [SENDER_FILE]).fetchone()[0]
    con.close()
    return file_id(SENDER_FILE, sha)


def test_a_grower_reads_what_became_of_its_file(senders, own_id, portal_home):
    c = senders[SENDER]
    listing = c.get("/files")
    assert listing.status_code == 200 and f'href="/files/{own_id}"' in listing.text
    page = c.get(f"/files/{own_id}")
    assert page.status_code == 200
    text = page.text
    assert "20260105-hours.csv" in text and "t001-time-clock.yaml" in text
    assert '<td data-label="Column">Paid On</td>' in text and "13/02/2026" in text
    assert "&#34;Paid On&#34; (pay_date)" in text or "&quot;Paid On&quot; (pay_date)" in text
    home, _ = portal_home
    assert any(e["subject"] == f"file {own_id}" for e in portal_db.audit_log(home, action="view file"))


def test_the_rejected_rows_download_in_the_growers_own_headers(senders, own_id):
    r = senders[SENDER].get(f"/files/{own_id}/rejected.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="20260105-hours-rejected-rows.csv"' in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["Farm", "Worker No", "Worker Name", "Week Start", "Week End", "Paid On", "Hours", "Pieces",
                       "Wages", "Premium", "Rejected: row", "Rejected: code", "Rejected: reason"]
    assert len(rows) == 2
    assert rows[1][1:3] == ["T001-90003", "'=Marta Reloj"] and rows[1][5] == "13/02/2026"
    assert rows[1][10:12] == ["4", "BAD_DATE"] and rows[1][12].startswith('"Paid On" (pay_date)')


@pytest.mark.parametrize("who", [OTHER_GROWER, "B01"])
def test_another_senders_file_is_not_there_for_them(senders, own_id, who):
    c = senders[who]
    for url in (f"/files/{own_id}", f"/files/{own_id}/rejected.csv"):
        r = c.get(url)
        assert r.status_code == 404 and "Marta" not in r.text
    assert own_id not in c.get("/files").text


def test_the_growers_page_is_its_own_and_shows_nothing_of_a_case(senders, portal_home):
    home, _ = portal_home
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    try:
        owed = grower_view.to_pay(con, SENDER)
        others = {w for (w,) in con.execute("SELECT DISTINCT worker_id FROM worker_audit WHERE grower_id <> ?",
                                            [SENDER]).fetchall()}
        months = [m["month"] for m in grower_view.pools_by_month(con, SENDER)]
    finally:
        con.close()
    assert owed and months
    w = owed[0]
    casework.open_case(home, SENDER, w["worker_id"], {w["period_start"].isoformat(): (w["status"], 0)},
                       "monitor@example.org", "monitor", "Worker says the crew boss kept the bonus: CASE-NOTE-7731")
    page = senders[SENDER].get("/grower")
    assert page.status_code == 200
    text = page.text
    assert all(m in text for m in months) and w["worker_id"] in text
    assert "CASE-NOTE-7731" not in text and "case" not in text.lower() and "complain" not in text.lower()
    assert not [o for o in others if o in text]  # no worker of another grower
    csv_text = senders[SENDER].get("/grower/to-pay.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(csv_text)))
    assert len(rows) == len(owed) + 1 and {r[3] for r in rows[1:]} == {r["worker_id"] for r in owed}
    assert "CASE-NOTE-7731" not in csv_text
    book = openpyxl.load_workbook(io.BytesIO(senders[SENDER].get("/grower/to-pay.xlsx").content))
    assert book.active.max_row >= len(owed) + 1
    assert any(e["subject"] == f"grower {SENDER}" for e in portal_db.audit_log(home, action="download"))


def test_a_grower_page_is_for_growers(senders):
    assert senders["B01"].get("/grower").status_code == 403
    other = senders[OTHER_GROWER].get("/grower")
    assert other.status_code == 200 and "T001-" not in other.text
