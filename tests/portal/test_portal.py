"""The portal's behaviour: sign-in and its lockout, CSRF, cookies and headers, errors without
traces, buyers' files and verification, cases, sign-off, and serving beside a running close."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest
from starlette.testclient import TestClient

from pennytrail.app import accounts, casework, portal_db, snapshots
from pennytrail.web.app import Config, create_app

from .conftest import csrf_of, sign_in, unsigned


def one_row(home, sql: str) -> tuple:
    """The first row of a query on the published snapshot."""
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def anon(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


def test_login_form_has_the_contract_fields(portal_app):
    html = anon(portal_app).get("/login").text
    assert re.search(r'<input[^>]+name="email"', html)
    assert re.search(r'<input[^>]+type="password"[^>]+name="password"', html)
    assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]{20,}"', html)


def test_sign_in_sets_a_strict_session_cookie_and_signs_out(portal_app, portal_home):
    home, passwords = portal_home
    c = anon(portal_app)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"email": "Monitor@Example.org ", "password": passwords["monitor"], "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = [v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("pt_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Secure" not in cookie
    assert c.get("/").status_code == 200
    r = c.post("/logout", data={"csrf_token": csrf_of(c.get("/").text)})
    assert r.status_code == 303
    assert c.get("/").status_code == 303  # the old cookie no longer works


def test_cookie_is_secure_behind_a_tls_proxy(portal_app, portal_home):
    _, passwords = portal_home
    c = TestClient(portal_app, base_url="https://portal.example.org", follow_redirects=False)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"email": "buyer@example.org", "password": passwords["buyer"], "csrf_token": token})
    assert r.status_code == 303
    cookie = [v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("pt_session=")][0]
    assert "Secure" in cookie
    assert "max-age" in r.headers.get("strict-transport-security", "")


def test_login_without_its_csrf_token_is_refused(portal_app, portal_home):
    _, passwords = portal_home
    c = anon(portal_app)
    c.get("/login")
    r = c.post("/login", data={"email": "monitor@example.org", "password": passwords["monitor"]})
    assert r.status_code == 403
    r = c.post("/login", data={"email": "monitor@example.org", "password": passwords["monitor"],
                               "csrf_token": "forged"})
    assert r.status_code == 403


def test_sign_ins_sent_side_by_side_cannot_try_more_than_five_passwords(portal_home):
    """Ten wrong passwords at once, from ten threads: five are checked, five refused; the right
    password is then refused too, and a success clears the count once the lock has passed."""
    from concurrent.futures import ThreadPoolExecutor

    home, _ = portal_home
    accounts.add_user(home, "parallel@example.org", "monitor", "the right password")

    def attempt(_):
        try:
            return accounts.authenticate(home, "parallel@example.org", "wrong password!") is None and "failed"
        except accounts.LockedOut:
            return "refused"

    with ThreadPoolExecutor(10) as pool:
        outcomes = sorted(pool.map(attempt, range(10)))
    assert outcomes == ["failed"] * 5 + ["refused"] * 5
    with pytest.raises(accounts.LockedOut):
        accounts.authenticate(home, "parallel@example.org", "the right password")
    with portal_db.connect(home) as con:
        con.execute("UPDATE login_failures SET at = at - 901 WHERE email = 'parallel@example.org'")
    assert accounts.authenticate(home, "parallel@example.org", "the right password") is not None
    with portal_db.connect(home) as con:
        left = con.execute("SELECT count(*) FROM login_failures WHERE email = 'parallel@example.org'").fetchone()[0]
    assert left == 0


def test_five_failures_lock_the_account_for_fifteen_minutes(portal_app, portal_home):
    home, _ = portal_home
    accounts.add_user(home, "locked@example.org", "monitor", "the right password")
    c = anon(portal_app)
    token = csrf_of(c.get("/login").text)
    for _ in range(5):
        r = c.post("/login", data={"email": "locked@example.org", "password": "wrong password!",
                                   "csrf_token": token})
        assert r.status_code == 401
    r = c.post("/login", data={"email": "locked@example.org", "password": "the right password", "csrf_token": token})
    assert r.status_code == 429
    assert 800 < int(r.headers["retry-after"]) <= 901
    # another account is not affected
    accounts.add_user(home, "other@example.org", "monitor", "the other password")
    r = c.post("/login", data={"email": "other@example.org", "password": "the other password", "csrf_token": token})
    assert r.status_code == 303
    # fifteen minutes later it opens again
    with portal_db.connect(home) as con:
        con.execute("UPDATE login_failures SET at = at - 901 WHERE email = 'locked@example.org'")
    c2 = anon(portal_app)
    token = csrf_of(c2.get("/login").text)
    r = c2.post("/login", data={"email": "locked@example.org", "password": "the right password", "csrf_token": token})
    assert r.status_code == 303
    actions = [e["action"] for e in portal_db.audit_log(home, actor="locked@example.org")]
    assert actions.count("sign-in failed") == 5 and "sign-in refused" in actions and "signed in" in actions


def test_a_state_changing_form_without_the_session_token_is_refused(portal_app, portal_home):
    _, passwords = portal_home
    c = sign_in(portal_app, "accountant", passwords["accountant"])
    r = c.post("/months/2026-01/signoff", data={})
    assert r.status_code == 403
    r = c.post("/months/2026-01/signoff", data={"csrf_token": "x" * 43})
    assert r.status_code == 403


def test_every_response_has_the_security_headers(portal_app, portal_home):
    _, passwords = portal_home
    c = sign_in(portal_app, "monitor", passwords["monitor"])
    for url in ("/healthz", "/login", "/", "/workers?q=a", "/no/such/page", "/static/portal.css"):
        h = c.get(url).headers
        csp = h["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "script-src 'none'" in csp
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"]
        assert "server" not in h


def test_no_page_carries_a_script(portal_app, portal_home):
    _, passwords = portal_home
    for role in ("accountant", "monitor", "buyer", "admin"):
        c = sign_in(portal_app, role, passwords[role])
        for url in ("/", "/months", "/months/2026-02", "/workers?q=maria", "/confirmations", "/verify", "/audit",
                    "/admin/users", "/cases"):
            html = c.get(url).text
            assert "<script" not in html.lower() and "onclick" not in html.lower() and "javascript:" not in html


def test_an_unexpected_error_shows_a_generic_page_and_logs_the_trace(portal_home, monkeypatch, caplog):
    from pennytrail.web import routes

    home, passwords = portal_home

    def boom(ctx, h):
        raise RuntimeError("secret detail /etc/passwd")

    monkeypatch.setattr(routes, "PAGES", [dataclasses.replace(p, handler=boom) if p.path == "/" else p
                                          for p in routes.PAGES])
    app = create_app(Config(home))
    c = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    token = csrf_of(c.get("/login").text)
    c.post("/login", data={"email": "admin@example.org", "password": passwords["admin"], "csrf_token": token})
    r = c.get("/")
    assert r.status_code == 500
    assert "secret detail" not in r.text and "Traceback" not in r.text and "incident" in r.text
    assert "secret detail" in caplog.text
    assert r.headers["x-content-type-options"] == "nosniff"


def test_html_in_data_is_escaped(portal_app, portal_home):
    home, passwords = portal_home
    c = sign_in(portal_app, "monitor", passwords["monitor"])
    html = c.get("/workers", params={"q": "<img src=x onerror=alert(1)>"}).text
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_search_finds_a_worker_by_an_accented_name_written_plainly(portal_app, portal_home):
    home, passwords = portal_home
    name, g, w = one_row(home, "SELECT worker_name, grower_id, worker_id FROM payroll_rows "
                               "WHERE worker_name <> strip_accents(worker_name) ORDER BY 1 LIMIT 1")
    plain = "  ".join(name.upper().split())
    import unicodedata
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", plain) if not unicodedata.combining(ch))
    c = sign_in(portal_app, "monitor", passwords["monitor"])
    html = c.get("/workers", params={"q": plain}).text
    assert f'href="/workers/{g}/{w}"' in html
    assert f'href="/workers/{g}/{w}"' in c.get("/workers", params={"q": w.lower()}).text
    entries = portal_db.audit_log(home, actor="monitor@example.org", action="search workers")
    assert any(plain in e["detail"] for e in entries)


def test_worker_page_shows_periods_with_sources_and_is_access_logged(portal_app, portal_home):
    home, passwords = portal_home
    g, w = one_row(home, "SELECT DISTINCT grower_id, worker_id FROM worker_audit WHERE status <> 'OK' ORDER BY 1, 2")
    c = sign_in(portal_app, "accountant", passwords["accountant"])
    html = c.get(f"/workers/{g}/{w}").text
    for head in ("Entitled", "Funded", "Paid", "Status", "Late", "Overdue", "Where the money stopped", "File", "Row"):
        assert head in html
    assert re.search(r"\$[0-9,]+\.[0-9]{2}", html)
    assert ".csv" in html or ".xlsx" in html
    entry = portal_db.audit_log(home, actor="accountant@example.org", action="view worker")[0]
    assert entry["subject"] == f"worker {g}/{w}"


def test_buyer_downloads_and_verifies_its_statement_and_a_changed_pdf_fails(portal_app, portal_home):
    home, passwords = portal_home
    c = sign_in(portal_app, "buyer", passwords["buyer"])
    links = re.findall(r'href="(/confirmations/B01/[0-9-]+\.(?:pdf|csv|json))"', c.get("/confirmations").text)
    assert links and all("/B01/" in x for x in links)
    month = links[0].split("/")[-1][:7]
    pdf = c.get(f"/confirmations/B01/{month}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    statement = c.get(f"/confirmations/B01/{month}.json").content
    csv = c.get(f"/confirmations/B01/{month}.csv").content
    public = anon(portal_app)
    ok = public.post("/verify", files={"statement": ("s.json", statement), "pdf": ("x.pdf", pdf.content),
                                       "csv": ("x.csv", csv)}).text
    assert "<h2>Verified</h2>" in ok and "fails" not in ok
    bad = public.post("/verify", files={"statement": ("s.json", statement),
                                        "pdf": ("x.pdf", pdf.content.replace(b"%PDF", b"%PDX", 1))}).text
    assert "<h2>Not verified</h2>" in bad
    forged = statement.replace(b'"month"', b'"month" ', 1).replace(b"B01", b"B02", 1)
    assert "<h2>Not verified</h2>" in public.post("/verify", files={"statement": ("s.json", forged)}).text
    junk = public.post("/verify", files={"statement": ("s.json", b"\xff\xfe not json")})
    assert junk.status_code == 200 and "not a pennytrail statement" in junk.text
    for deep in (b"[" * 100_000 + b"]" * 100_000, b'{"statement": ' + b"[" * 40 + b"]" * 40 + b', "signature": {}}'):
        nested = public.post("/verify", files={"statement": ("s.json", deep)})
        assert nested.status_code == 200 and "<h2>Not verified</h2>" in nested.text
    downloads = portal_db.audit_log(home, actor="buyer@example.org", action="download")
    assert {e["detail"] for e in downloads} >= {"pdf", "json", "csv"}
    key = public.get("/keys/confirmation.pub.pem")
    assert key.status_code == 200 and b"BEGIN PUBLIC KEY" in key.content


def test_case_shows_remedied_when_a_later_correction_makes_its_periods_ok(portal_app, portal_home):
    home, passwords = portal_home
    g, w, p, ok_p = one_row(home, """
        SELECT a.grower_id, a.worker_id, a.period_start, b.period_start FROM worker_audit a
        JOIN worker_audit b ON a.grower_id = b.grower_id AND a.worker_id = b.worker_id AND b.status = 'OK'
        WHERE a.status <> 'OK' ORDER BY 1, 2, 3 LIMIT 1""")
    c = sign_in(portal_app, "monitor", passwords["monitor"])
    r = c.post("/cases", data={"csrf_token": c.csrf, "grower_id": g, "worker_id": w, "period": [p.isoformat()],
                               "note": "premium missing from the stub"})
    assert r.status_code == 303
    case_id = int(r.headers["location"].rsplit("/", 1)[1])
    html = c.get(f"/cases/{case_id}").text
    assert "premium missing from the stub" in html and 'class="badge ok remedied"' not in html
    assert "Audit of these periods" in html
    # a case opened when the period was not OK, and OK now: remedied
    with portal_db.connect(home) as db:
        db.execute("UPDATE case_periods SET period_start = ?, status_at_open = 'UNDERPAID' WHERE case_id = ?",
                   [ok_p.isoformat(), case_id])
    assert 'class="badge ok remedied"' in c.get(f"/cases/{case_id}").text
    r = c.post(f"/cases/{case_id}/close", data={"csrf_token": c.csrf, "outcome": "paid on the next stub"})
    assert r.status_code == 303
    html = c.get(f"/cases/{case_id}").text
    assert "paid on the next stub" in html and "closed" in html
    assert c.post(f"/cases/{case_id}/close", data={"csrf_token": c.csrf, "outcome": "again"}).status_code == 409
    # a period that is not the worker's is refused
    r = c.post("/cases", data={"csrf_token": c.csrf, "grower_id": g, "worker_id": w, "period": ["1999-01-04"]})
    assert r.status_code == 400
    actions = {e["action"] for e in portal_db.audit_log(home, actor="monitor@example.org")}
    assert {"case opened", "case closed", "view case"} <= actions


def test_accountant_acknowledges_an_exception_with_a_note(portal_app, portal_home):
    home, passwords = portal_home
    c = sign_in(portal_app, "accountant", passwords["accountant"])
    html = c.get("/months/2026-02").text
    key = re.search(r'name="key" value="([0-9a-f]+)"', html).group(1)
    r = c.post("/months/2026-02/exceptions", data={"csrf_token": c.csrf, "key": key, "state": "resolved",
                                                   "note": "buyer sent the difference"})
    assert r.status_code == 303
    assert casework.exception_states(home, "2026-02")[key]["state"] == "resolved"
    assert c.post("/months/2026-02/exceptions", data={"csrf_token": c.csrf, "key": "0" * 20, "state": "resolved",
                                                      "note": "x"}).status_code == 404


def test_month_page_waterfall_and_signoff_records_the_signed_in_user(portal_app, portal_home):
    home, passwords = portal_home
    c = sign_in(portal_app, "accountant", passwords["accountant"])
    html = c.get("/months/2026-03").text
    for step in ("Owed by buyers", "Paid by buyers", "Received by growers", "Funded to worker pools",
                 "Distributed to workers", "Undistributed"):
        assert step in html
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', html).group(1)
    unconfirmed = c.post("/months/2026-03/signoff", data={"csrf_token": c.csrf, "digest": digest})
    assert unconfirmed.status_code == 400 and "open exception" in unconfirmed.text  # it asks first
    r = c.post("/months/2026-03/signoff", data={"csrf_token": c.csrf, "digest": digest, "by": "Somebody Else",
                                                "confirm": "yes"})
    assert r.status_code == 303
    signed = one_row(home, "SELECT signed_by, digest FROM signoffs WHERE month = '2026-03' ORDER BY signed_at DESC")
    assert signed == ("accountant@example.org", digest)
    assert "accountant@example.org" in c.get("/months/2026-03").text
    stale = c.post("/months/2026-03/signoff", data={"csrf_token": c.csrf, "digest": "0" * 64, "confirm": "yes"})
    assert stale.status_code == 409 and "changed" in stale.text


HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("CREATE TABLE IF NOT EXISTS held_by_a_close (x INTEGER)")
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
""")


def test_portal_serves_while_another_process_holds_the_warehouse(portal_home, tmp_path):
    src, passwords = portal_home
    home = tmp_path / "home"
    shutil.copytree(src, home, ignore=shutil.ignore_patterns("*.log"))
    unsigned(home, "2026-01")
    snapshots.publish(home)
    app = create_app(Config(home, signoff_wait=0.5))
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(home / "pennytrail.duckdb"), "60"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(duckdb.IOException):  # the warehouse is locked for anyone else
            duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True)
        c = sign_in(app, "accountant", passwords["accountant"])
        assert "Owed by buyers" in c.get("/months/2026-01").text
        assert c.get("/months").status_code == 200
        assert c.get("/months/2026-01/close.xlsx").status_code == 200
        m = sign_in(app, "monitor", passwords["monitor"])
        assert m.get("/workers", params={"q": "a"}).status_code == 200
        start = time.monotonic()
        r = c.post("/months/2026-01/signoff", data={"csrf_token": c.csrf, "confirm": "yes"})
        assert r.status_code == 503 and "Try again" in r.text
        assert time.monotonic() - start < 30
    finally:
        holder.kill()
        holder.wait()
    r = c.post("/months/2026-01/signoff", data={"csrf_token": c.csrf, "confirm": "yes"})
    assert r.status_code == 303


def test_users_command(portal_home, tmp_path, capsys):
    from pennytrail.cli import main

    home = tmp_path / "h"
    import io
    import sys as _sys
    old = _sys.stdin
    try:
        _sys.stdin = io.StringIO("a good long password\n")
        assert main(["users", "add", "--home", str(home), "--email", "Ana@Example.org", "--role", "monitor",
                     "--password-stdin"]) == 0
        _sys.stdin = io.StringIO("a good long password\n")
        assert main(["users", "add", "--home", str(home), "--email", "b@example.org", "--role", "buyer",
                     "--password-stdin"]) == 1
        _sys.stdin = io.StringIO("short\n")
        assert main(["users", "add", "--home", str(home), "--email", "c@example.org", "--role", "admin",
                     "--password-stdin"]) == 1
    finally:
        _sys.stdin = old
    assert main(["users", "list", "--home", str(home)]) == 0
    assert main(["users", "disable", "--home", str(home), "--email", "ana@example.org"]) == 0
    out = capsys.readouterr()
    assert "ana@example.org" in out.out and "disabled" in out.out
    assert "--party" in out.err and "12 characters" in out.err
    assert all(len(line.split("\n")) == 1 for line in out.err.strip().split("\n"))
    (user,) = accounts.list_users(home)
    assert user.disabled
    with portal_db.connect(home) as con:
        h = con.execute("SELECT password_hash FROM users").fetchone()[0]
    assert h.startswith("$argon2id$") and "a good long password" not in h


def test_a_case_is_remedied_when_a_correction_is_closed(portal_home, tmp_path):
    """A real correction: a later payroll file pays the premium of the case's period; after the
    close, the portal (on the new snapshot) shows the case as remedied."""
    import csv

    src, passwords = portal_home
    home = tmp_path / "home"
    shutil.copytree(src, home, ignore=shutil.ignore_patterns("*.log", "published"))
    snapshots.publish(home)
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    g, w, p, funded = con.execute("""
        SELECT grower_id, worker_id, period_start, funded_cents FROM worker_audit
        WHERE status = 'UNPAID' AND funded_cents > 0 AND NOT late ORDER BY 1, 2, 3 LIMIT 1""").fetchone()
    row = con.execute("SELECT * EXCLUDE (file_seq, file, sheet, row_number, raw) FROM payroll WHERE grower_id = ? "
                      "AND worker_id = ? AND period_start = ? AND premium_period_start = ?", [g, w, p, p]).fetchone()
    names = [d[0] for d in con.description]
    con.close()
    app = create_app(Config(home))
    c = sign_in(app, "monitor", passwords["monitor"])
    r = c.post("/cases", data={"csrf_token": c.csrf, "grower_id": g, "worker_id": w, "period": [p.isoformat()]})
    case_url = r.headers["location"]
    assert 'class="badge ok remedied"' not in c.get(case_url).text
    record = dict(zip(names, row))
    record["gross_wages"] = f"{record.pop('gross_wages_cents') / 100:.2f}"
    record["premium_paid"] = f"{funded // 100}.{funded % 100:02d}"
    record.pop("premium_paid_cents")
    out = home / "data" / "inbox" / "payroll" / g / "correction-premium.csv"
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(record))
        writer.writeheader()
        writer.writerow({k: ("" if v is None else str(v)) for k, v in record.items()})
    done = subprocess.run([sys.executable, "-m", "pennytrail.cli", "close", "--data", str(home / "data"), "--home",
                           str(home)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    html = c.get(case_url).text
    assert 'class="badge ok remedied"' in html
    assert "correction-premium.csv" in html  # the correction is in the audit of the period


def test_confirmations_list_nil_statements_and_download_under_their_signed_names(portal_app, portal_home):
    from pennytrail.core.confirmations import buyers_of_month
    from pennytrail.core.publish import published_months

    home, passwords = portal_home
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    expected = {(b, m) for m in published_months(con) for b in buyers_of_month(con, m)}
    nil = {(b, m) for b, m in expected
           if not con.execute("SELECT count(*) FROM invoice_audit WHERE buyer_id = ? AND month = ?", [b, m]).fetchone()[0]}
    con.close()
    assert nil  # the demo has a buyer that only paid in a month
    c = sign_in(portal_app, "accountant", passwords["accountant"])
    page = c.get("/confirmations").text
    listed = set(re.findall(r'href="/confirmations/([^/"]+)/([0-9]{4}-[0-9]{2})\.json"', page))
    assert listed == expected  # every buyer with figures in a published month, nil statements included
    for buyer, month in sorted(nil):
        r = c.get(f"/confirmations/{buyer}/{month}.json")
        assert r.status_code == 200 and r.json()["statement"]["kind"] == "nil"
    assert "nil statement" in page
    for ext in ("pdf", "csv", "json"):
        r = c.get(f"/confirmations/B01/2026-02.{ext}")
        name = re.search(r'filename="([^"]+)"', r.headers["content-disposition"])[1]
        assert re.fullmatch(rf"confirmation-2026-02-v[0-9]+\.{ext}", name), name
        if ext == "json":
            assert {f["name"] for f in r.json()["statement"]["files"].values()} == {
                name[:-4] + "pdf", name[:-4] + "csv"}


def test_a_sign_off_in_the_portal_issues_the_months_confirmations_anew(portal_app, portal_home):
    from pennytrail.core.confirmations import latest

    home, passwords = portal_home
    unsigned(home, "2026-03")
    before = latest(home, "B01", "2026-03").version
    c = sign_in(portal_app, "accountant", passwords["accountant"])
    page = c.get("/months/2026-03").text
    digest = re.search(r'name="digest" value="([^"]*)"', page)
    r = c.post("/months/2026-03/signoff", data={"csrf_token": c.csrf, "confirm": "yes",
                                                 **({"digest": digest[1]} if digest else {})})
    assert r.status_code == 303, r.text[:300]
    after = latest(home, "B01", "2026-03")
    assert after.version == before + 1
    s = json.loads(after.statement.read_text())["statement"]
    assert s["month_status"] == "signed"
    assert s["changes"][0] == "The month's close is now signed off by the program's accountant."
    assert not any("month_status" in line for line in s["changes"])


def test_the_portal_speaks_in_its_own_words_not_the_commands(portal_app, portal_home):
    """An account the admin's form cannot add is refused in the form's words, not a command's options."""
    home, passwords = portal_home
    c = sign_in(portal_app, "admin", passwords["admin"])
    for party, role in (("", "buyer"), ("B01", "monitor")):
        r = c.post("/admin/users", data={"csrf_token": c.csrf, "email": f"x-{role}@example.org", "role": role,
                                         "party_id": party, "password": "a good long password"})
        assert r.status_code == 400 and "Not added: a" in r.text and "party id" in r.text
        assert "--" not in r.text.split("Not added:", 1)[1].split("<", 1)[0]
