"""The worker's page (docs/workers.md): a code typed as read aloud, the worker's own statements
in their language with a switch, wrong codes throttled per client address, the code in no log
and no audit entry, and a complaint that reaches the monitors' queue first."""
from __future__ import annotations

import logging
import re

import duckdb
import pytest
from starlette.testclient import TestClient

from pennytrail.app import complaints, portal_db, snapshots
from pennytrail.core import codes
from pennytrail.web.worker_pages import RedactCodes, redact

from .conftest import csrf_of, sign_in


@pytest.fixture(scope="module")
def worker(portal_home):
    """A worker of the demo with a statement code, their language and another worker of the same
    grower (whose name must never show on the first one's page)."""
    home, _ = portal_home
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    try:
        g, w, code, lang = con.execute("""
            SELECT c.grower_id, c.worker_id, c.code, c.language FROM statement_codes c
            WHERE c.revoked_at IS NULL AND c.language = 'ht' AND NOT EXISTS (SELECT 1 FROM worker_audit a
              WHERE a.grower_id = c.grower_id AND a.worker_id = c.worker_id AND a.status <> 'OK')
            ORDER BY 1 DESC, 2 LIMIT 1""").fetchone()  # not a worker another test of the home complains for
        names = dict(con.execute("""SELECT worker_id, max(worker_name) FROM payroll WHERE grower_id = ?
                                    GROUP BY 1""", [g]).fetchall())
    finally:
        con.close()
    others = [n for k, n in names.items() if k != w and n and n != names[w] and not n.startswith("=")]
    return {"g": g, "w": w, "code": code, "lang": lang, "name": names[w], "others": others}


def client(app, address: str = "testclient") -> TestClient:
    return TestClient(app, follow_redirects=False, client=(address, 50000))


def lang_of(html: str) -> str:
    return re.search(r'<html lang="([a-z]+)"', html).group(1)


def test_a_code_read_aloud_lower_case_without_dashes_opens_the_workers_page(portal_app, worker):
    c = client(portal_app, "10.0.0.1")
    form = c.get("/s")
    assert form.status_code == 200 and lang_of(form.text) == "es" and "<script" not in form.text
    r = c.post("/s", data={"code": worker["code"].lower(), "csrf_token": csrf_of(form.text)})
    assert r.status_code == 303 and r.headers["location"] == "/s/" + codes.shown(worker["code"])
    page = c.get(r.headers["location"])
    assert page.status_code == 200 and lang_of(page.text) == worker["lang"] == "ht"
    assert page.headers["referrer-policy"] == "no-referrer" and "<script" not in page.text
    assert worker["name"] in page.text and "Rapò bonis ou yo" in page.text
    assert not [n for n in worker["others"] if n in page.text]  # nobody else is named


@pytest.mark.parametrize("lang,words", [("es", "Sus estados de cuenta del bono"), ("en", "Your premium statements"),
                                        ("ht", "Rapò bonis ou yo")])
def test_the_switch_shows_the_page_in_each_language_and_says_so(portal_app, worker, lang, words):
    page = client(portal_app, "10.0.0.2").get(f"/s/{codes.shown(worker['code'])}?lang={lang}")
    assert lang_of(page.text) == lang and words in page.text
    assert re.search(r'\$[0-9,]+\.[0-9]{2}', page.text)  # money in one form
    assert 'href="?lang=es"' in page.text or lang == "es"


def test_ten_wrong_codes_from_one_address_are_refused_for_fifteen_minutes(portal_app, portal_home, worker):
    home, _ = portal_home
    c = client(portal_app, "10.9.9.9")
    wrong = "/s/" + codes.shown("".join(reversed(worker["code"])))
    assert [c.get(wrong).status_code for _ in range(10)] == [404] * 10
    refused = c.get(wrong)
    assert refused.status_code == 429 and 900 - 5 <= int(refused.headers["retry-after"]) <= 901
    assert c.get("/s/" + codes.shown(worker["code"])).status_code == 429  # even a right code, meanwhile
    form = c.get("/s")
    assert c.post("/s", data={"code": worker["code"], "csrf_token": csrf_of(form.text)}).status_code == 429
    assert client(portal_app, "10.9.9.10").get("/s/" + codes.shown(worker["code"])).status_code == 200
    import time

    assert complaints.refused_for(home, "10.9.9.9", time.time() + 15 * 60 + 1) == 0  # and then no longer


def test_the_code_is_in_no_audit_entry_and_views_are_recorded_by_worker(portal_app, portal_home, worker):
    home, _ = portal_home
    client(portal_app, "10.0.0.3").get("/s/" + worker["code"])
    entries = portal_db.audit_log(home, 5000)
    mine = [e for e in entries if e["actor"] == f"worker {worker['g']}/{worker['w']}"]
    assert any(e["action"] == "view own statements" for e in mine)
    bare = worker["code"]
    assert not [e for e in entries if bare in str(e) or codes.shown(bare) in str(e) or bare.lower() in str(e)]


def test_a_code_in_a_path_is_taken_out_of_every_log_line():
    assert redact('GET /s/ABCD-EFGH-JKMN-PQRS-TUVW?lang=ht HTTP/1.1') == "GET /s/…?lang=ht HTTP/1.1"
    assert redact("/s/abcdefghjkmnpqrstuvw/complaint") == "/s/…/complaint"
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("1.2.3.4:5", "GET", "/s/ABCD-EFGH-JKMN-PQRS-TUVW", "1.1", 200), None)
    RedactCodes().filter(record)
    assert "ABCD" not in record.getMessage() and "/s/…" in record.getMessage()
    assert any(isinstance(f, RedactCodes) for f in logging.getLogger("uvicorn.access").filters)


def test_a_complaint_opens_a_case_the_monitors_see_first_and_the_worker_sees_its_number(
        portal_app, portal_home, worker):
    home, passwords = portal_home
    c = client(portal_app, "10.0.0.4")
    url = "/s/" + codes.shown(worker["code"])
    page = c.get(url + "?lang=es").text
    periods = re.findall(r'name="periods" value="([0-9-]+)"', page)
    assert periods
    assert c.post(url + "/complaint", data={"periods": periods[0], "message": "x"}).status_code == 403  # no token
    token = csrf_of(page)
    bad = c.post(url + "/complaint", data={"periods": "1999-01-04", "message": "x", "csrf_token": token})
    assert bad.status_code == 400
    empty = c.post(url + "/complaint", data={"periods": periods[0], "message": " ", "csrf_token": token, "lang": "es"})
    assert empty.status_code == 400 and "Escriba qué está mal." in empty.text
    r = c.post(url + "/complaint", data={"periods": periods[0], "message": "No me pagaron el bono de esa semana",
                                         "phone": "(239) 555-0199", "csrf_token": token, "lang": "es"})
    assert r.status_code == 303
    ref = re.search(r"sent=([0-9]+)", r.headers["location"]).group(1)
    back = c.get(r.headers["location"])
    assert f"Su número de caso es {ref}" in back.text and "Un monitor lo está revisando." in back.text
    monitor = sign_in(portal_app, "monitor", passwords["monitor"])
    queue = monitor.get("/cases").text
    first = re.search(r"<tbody>\s*<tr>(.*?)</tr>", queue, re.S).group(1)
    assert f"#{int(ref)}" in first and "the worker" in first and "language: es" in first
    case = monitor.get(f"/cases/{int(ref)}").text
    assert "No me pagaron el bono de esa semana" in case and "(239) 555-0199" in case and "From the worker" in case
    assert worker["code"] not in case and codes.shown(worker["code"]) not in case


def test_a_buyers_files_hold_no_code_and_no_worker_language(portal_home):
    """Nothing of what workers are told reaches a buyer: no statement code in any confirmation."""
    home, _ = portal_home
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    try:
        all_codes = [c for (c,) in con.execute("SELECT code FROM statement_codes").fetchall()]
    finally:
        con.close()
    files = [p for p in (home / "confirmations").rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".pdf":
            from pypdf import PdfReader

            data = " ".join(p.extract_text() for p in PdfReader(str(path)).pages).encode()
        assert not [c for c in all_codes if c.encode() in data or codes.shown(c).encode() in data], path
        assert b"complaint" not in data.lower() and b"language" not in data.lower(), path


def test_a_monitor_finds_a_worker_by_the_code_read_out_on_the_complaint_line(portal_app, portal_home, worker):
    home, passwords = portal_home
    monitor = sign_in(portal_app, "monitor", passwords["monitor"])
    spoken = " ".join(codes.shown(worker["code"]).lower().split("-"))
    page = monitor.get("/workers", params={"q": spoken})
    assert page.status_code == 200 and f"/workers/{worker['g']}/{worker['w']}" in page.text
    assert "1 found" in page.text
    last = portal_db.audit_log(home, 1, actor="monitor@example.org", action="search workers")[0]
    assert last["detail"] == "by statement code: 1 found" and worker["code"] not in str(last)
    assert "0 found" in monitor.get("/workers", params={"q": "".join(reversed(worker["code"]))}).text


def test_a_case_number_shown_is_one_of_the_workers_own(portal_app, worker):
    page = client(portal_app, "10.0.0.5").get(f"/s/{codes.shown(worker['code'])}?sent=99999&lang=en")
    assert page.status_code == 200 and "Your case number is" not in page.text and "99999" not in page.text


def test_a_worker_may_send_a_few_complaints_a_day(portal_app, portal_home):
    home, _ = portal_home
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    try:
        g, w, code, p = con.execute("""
            SELECT c.grower_id, c.worker_id, c.code, min(a.period_start) FROM statement_codes c
            JOIN worker_audit a ON a.grower_id = c.grower_id AND a.worker_id = c.worker_id
            WHERE c.revoked_at IS NULL AND c.language = 'es' GROUP BY ALL ORDER BY 1 DESC, 2 DESC LIMIT 1""").fetchone()
    finally:
        con.close()
    c = client(portal_app, "10.0.0.6")
    url = "/s/" + codes.shown(code)
    token = csrf_of(c.get(url).text)
    statuses = [c.post(url + "/complaint", data={"periods": p.isoformat(), "message": f"message {i}",
                                                 "csrf_token": token, "lang": "en"}).status_code
                for i in range(complaints.MAX_PER_DAY + 1)]
    assert statuses == [303] * complaints.MAX_PER_DAY + [429]
