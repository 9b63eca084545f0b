"""Who may do what: the portal's route table (``app.pages()``) iterated page by page, each with
the status every role gets. A page that is added without a line here fails
``test_the_table_covers_every_route``."""

from __future__ import annotations

import io
import secrets
import shutil

import duckdb
import pytest

from pennytrail.app import casework, snapshots, submissions
from pennytrail.app.accounts import PARTY_ROLES
from pennytrail.core import homelock
from pennytrail.web.app import Config, create_app, pages
from pennytrail.web.table import Page

from .conftest import ROLES, SENDER_FILE_ID, sign_in

ANON = "anonymous"
WHO = (ANON, *ROLES)

# (method, route in the route table, concrete URL, form, status by who). {g}/{w}: a worker; {m}: a month;
# {b}: the signed-in buyer's id, {other}: another buyer's; {inv}: an invoice; {case}: a case.
OK, SEE_OTHER, FORBIDDEN, MISSING = 200, 303, 403, 404
ANON_GET = {ANON: SEE_OTHER}
ANON_POST = {ANON: FORBIDDEN}
SENDERS = ("buyer", "grower", "intermediary")
STAFF_ONLY = {**{r: FORBIDDEN for r in ROLES}, "monitor": OK, "accountant": OK}
# the pages of a buyer's and an accountant's only
BUYERS = {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, "buyer": OK, "accountant": OK}
SENDERS_ONLY = {**{r: FORBIDDEN for r in ROLES}, **{r: OK for r in SENDERS}}
NOT_THEIRS = {r: MISSING for r in SENDERS}  # another party's file, or none
GROWER_ONLY = {**{r: FORBIDDEN for r in ROLES}, "grower": OK}
TABLE = [
    ("GET", "/healthz", "/healthz", None, {w: OK for w in WHO}),
    ("GET", "/static/{name}", "/static/portal.css", None, {w: OK for w in WHO}),
    ("GET", "/static/{name}", "/static/..%2Fapp.py", None, {w: MISSING for w in WHO}),
    ("GET", "/login", "/login", None, {ANON: OK, **{r: SEE_OTHER for r in ROLES}}),
    ("POST", "/login", "/login", {"email": "nobody-{who}@example.org", "password": "not the password"},
     {w: 401 for w in WHO}),
    ("POST", "/logout", "/logout", {}, {**ANON_POST, **{r: SEE_OTHER for r in ROLES}}),
    ("GET", "/", "/", None, {**ANON_GET, **{r: OK for r in ROLES}}),
    ("GET", "/keys/confirmation.pub.pem", "/keys/confirmation.pub.pem", None, {w: OK for w in WHO}),
    ("GET", "/verify", "/verify", None, {w: OK for w in WHO}),
    ("POST", "/verify", "/verify", {}, {w: 400 for w in WHO}),
    ("GET", "/confirmations", "/confirmations", None, BUYERS),
    ("GET", "/confirmations/{buyer_id}/{name}", "/confirmations/{b}/{m}.pdf", None, BUYERS),
    ("GET", "/confirmations/{buyer_id}/{name}", "/confirmations/{b}/{m}.json", None, BUYERS),
    ("GET", "/confirmations/{buyer_id}/{name}", "/confirmations/{other}/{m}.pdf", None, {**BUYERS, "buyer": MISSING}),
    ("GET", "/confirmations/{buyer_id}/{name}", "/confirmations/{other}/{m}.csv", None, {**BUYERS, "buyer": MISSING}),
    # a buyer b01 is another party than B01: the buyer B01 gets 404 for its files
    ("GET", "/confirmations/{buyer_id}/{name}", "/confirmations/{lower}/{m_lower}.pdf", None,
     {**BUYERS, "buyer": MISSING}),
    ("GET", "/confirmations/{buyer_id}/{name}", "/confirmations/{lower}/{m_lower}.json", None,
     {**BUYERS, "buyer": MISSING}),
    ("GET", "/confirmations/{buyer_id}/{name}", "/confirmations/{b}/..%2F..%2Fkeys%2Fx.pdf", None,
     {w: MISSING for w in WHO}),  # the decoded path matches no route
    ("GET", "/confirmations/{buyer_id}/{name}", "/confirmations/..%5C..%5Ckeys/{m}.pdf", None,
     {**BUYERS, "buyer": MISSING, "accountant": MISSING}),
    ("GET", "/confirmations/{buyer_id}/{name}", "/confirmations/{b}/1999-01.pdf", None,
     {**BUYERS, "buyer": MISSING, "accountant": MISSING}),
    ("GET", "/workers", "/workers?q={w}", None, {**ANON_GET, **STAFF_ONLY}),
    ("GET", "/workers/{grower_id}/{worker_id:path}", "/workers/{g}/{w}", None, {**ANON_GET, **STAFF_ONLY}),
    ("GET", "/workers/{grower_id}/{worker_id:path}", "/workers/T001/{slashed}", None, {**ANON_GET, **STAFF_ONLY}),
    ("GET", "/workers/{grower_id}/{worker_id:path}", "/workers/{g}/NO-SUCH-WORKER", None,
     {**ANON_GET, **STAFF_ONLY, "monitor": MISSING, "accountant": MISSING}),
    ("GET", "/growers/{grower_id}", "/growers/{g}?month={m}", None, {**ANON_GET, **STAFF_ONLY}),
    ("GET", "/invoices/{buyer_id}/{invoice_id:path}", "/invoices/{b}/{inv}", None, {**ANON_GET, **STAFF_ONLY}),
    ("GET", "/cases", "/cases", None, {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, "monitor": OK}),
    ("POST", "/cases", "/cases", {"grower_id": "{g}", "worker_id": "{w}", "period": "{p}"},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, "monitor": SEE_OTHER}),
    ("GET", "/cases/{case_id:int}", "/cases/{case}", None, {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, "monitor": OK}),
    ("GET", "/cases/{case_id:int}", "/cases/999999", None,
     {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, "monitor": MISSING}),
    ("GET", "/cases/{case_id:int}", "/cases/99999999999999999999", None,
     {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, "monitor": MISSING}),
    ("POST", "/cases/{case_id:int}/notes", "/cases/{case}/notes", {"note": "called back"},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, "monitor": SEE_OTHER}),
    ("POST", "/cases/{case_id:int}/close", "/cases/{closable}/close", {"outcome": "paid"},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, "monitor": SEE_OTHER}),
    ("GET", "/months", "/months", None, {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, "accountant": OK}),
    ("GET", "/months/{month}", "/months/{m}", None, {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, "accountant": OK}),
    ("GET", "/months/{month}", "/months/1999-01", None,
     {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, "accountant": MISSING}),
    ("GET", "/months/{month}/close.xlsx", "/months/{m}/close.xlsx", None,
     {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, "accountant": OK}),
    ("POST", "/months/{month}/signoff", "/months/{m}/signoff", {"confirm": "yes"},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, "accountant": SEE_OTHER}),
    ("POST", "/months/{month}/exceptions", "/months/{m}/exceptions",
     {"key": "{xkey}", "state": "acknowledged", "note": "looking into it"},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, "accountant": SEE_OTHER}),
    ("GET", "/audit", "/audit", None, {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, "accountant": OK, "admin": OK}),
    ("GET", "/admin/users", "/admin/users", None, {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, "admin": OK}),
    ("POST", "/admin/users", "/admin/users", {"email": "new-{who}@example.org", "role": "monitor",
                                              "password": "a long new password"},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, "admin": SEE_OTHER}),
    ("POST", "/admin/users/{user_id:int}/disable", "/admin/users/{spare}/disable", {},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, "admin": SEE_OTHER}),
    ("POST", "/admin/users/{user_id:int}/enable", "/admin/users/{spare}/enable", {},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, "admin": SEE_OTHER}),
    # the worker's page: anyone with a working code, signed in or not, and nobody without one
    ("GET", "/s", "/s", None, {w: OK for w in WHO}),
    ("POST", "/s", "/s", {"code": "{code_typed}"}, {w: SEE_OTHER for w in WHO}),
    ("GET", "/s/{code}", "/s/{code}", None, {w: OK for w in WHO}),
    ("GET", "/s/{code}", "/s/{wrong_code}", None, {w: MISSING for w in WHO}),
    ("POST", "/s/{code}/complaint", "/s/{code}/complaint", {"periods": "{p}", "message": "no bonus on my stub"},
     {w: SEE_OTHER for w in WHO}),
    # senders' own files: each sender its own party's only; staff none (docs/senders.md)
    ("GET", "/submissions", "/submissions", None, {**ANON_GET, **{r: FORBIDDEN for r in ROLES},
                                                   **{r: OK for r in SENDERS}}),
    # a sender uploads a kind it sends (the preview); a buyer's payroll, or a grower's purchases, is refused
    ("POST", "/submissions", "/submissions", {"kind": "{own_kind}", "file": "{upload}"},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, **{r: OK for r in SENDERS}}),
    ("POST", "/submissions", "/submissions", {"kind": "payroll", "file": "{upload}"},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, "grower": OK}),
    ("POST", "/submissions", "/submissions", {"kind": "purchases", "file": "{upload}"},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, "buyer": OK}),
    ("POST", "/submissions/submit", "/submissions/submit", {"token": "{staged}"},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, **{r: SEE_OTHER for r in SENDERS}}),
    # another party's staged upload is not there for it
    ("POST", "/submissions/submit", "/submissions/submit", {"token": "{others_staged}"},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, **{r: 409 for r in SENDERS}}),
    ("POST", "/submissions/discard", "/submissions/discard", {"token": "{staged}"},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, **{r: SEE_OTHER for r in SENDERS}}),
    ("POST", "/submissions/nil", "/submissions/nil", {"kind": "{own_kind}", "period": "2026-05"},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, **{r: OK for r in SENDERS}}),
    ("POST", "/submissions/nil", "/submissions/nil", {"kind": "payroll", "period": "2026-05-04"},
     {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, "grower": OK}),
    ("GET", "/receipts/{submission_id:int}", "/receipts/{own_receipt}", None,
     {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, **{r: OK for r in SENDERS}}),
    # a grower asking for another grower's receipt (and any sender for another party's)
    ("GET", "/receipts/{submission_id:int}", "/receipts/{others_receipt}", None,
     {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, **{r: MISSING for r in SENDERS}}),
    ("GET", "/receipts/{submission_id:int}", "/receipts/99999999999999999999", None,
     {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, **{r: MISSING for r in SENDERS}}),
    # a sender's own files (web/sender_pages.py): grower T001's file is no other party's to see
    ("GET", "/files", "/files", None, {**ANON_GET, **SENDERS_ONLY}),
    ("GET", "/files/{file_id}", f"/files/{SENDER_FILE_ID}", None, {**ANON_GET, **SENDERS_ONLY, **NOT_THEIRS}),
    ("GET", "/files/{file_id}", "/files/{own_receipt}", None, {**ANON_GET, **SENDERS_ONLY}),
    # a grower asking for another grower's file by its receipt (and any sender for another party's)
    ("GET", "/files/{file_id}", "/files/{others_receipt}", None, {**ANON_GET, **SENDERS_ONLY, **NOT_THEIRS}),
    ("GET", "/files/{file_id}", "/files/999999999999", None, {**ANON_GET, **SENDERS_ONLY, **NOT_THEIRS}),
    ("GET", "/files/{file_id}", "/files/f" + "0" * 24, None, {**ANON_GET, **SENDERS_ONLY, **NOT_THEIRS}),
    ("GET", "/files/{file_id}/rejected.csv", f"/files/{SENDER_FILE_ID}/rejected.csv", None,
     {**ANON_GET, **SENDERS_ONLY, **NOT_THEIRS}),
    ("GET", "/files/{file_id}/rejected.csv", "/files/..%2F..%2Fportal/rejected.csv", None,
     {w: MISSING for w in WHO}),  # the decoded path matches no route
    # the grower's own page: its party's pools and workers, for growers only
    ("GET", "/grower", "/grower", None, {**ANON_GET, **GROWER_ONLY}),
    ("GET", "/grower/to-pay.csv", "/grower/to-pay.csv", None, {**ANON_GET, **GROWER_ONLY}),
    ("GET", "/grower/to-pay.xlsx", "/grower/to-pay.xlsx", None, {**ANON_GET, **GROWER_ONLY}),
    # the senders' calendar: every sender's for the accountant, its own for each sender (whose
    # page shows only its party: tests/portal/test_calendar_pages.py); a close started from the
    # portal: accountants only (asked while another close holds the home: refused, 409)
    ("GET", "/calendar", "/calendar", None,
     {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, **{r: OK for r in PARTY_ROLES}, "accountant": OK}),
    ("GET", "/calendar", "/calendar?status=late", None,
     {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, **{r: OK for r in PARTY_ROLES}, "accountant": OK}),
    ("GET", "/close", "/close", None, {**ANON_GET, **{r: FORBIDDEN for r in ROLES}, "accountant": OK}),
    ("POST", "/close", "/close", {}, {**ANON_POST, **{r: FORBIDDEN for r in ROLES}, "accountant": 409}),
    ("GET", None, "/no/such/page", None, {w: MISSING for w in WHO}),
]
CASES = [(who, method, url, form, expected[who], route)
         for method, route, url, form, expected in TABLE for who in WHO]


def test_the_table_covers_every_route():
    served = {p.key for p in pages()}
    listed = {(m, r) for m, r, *_ in TABLE if r is not None}
    assert served - listed == set(), "pages without expectations here"
    assert listed - served == set(), "expectations of pages that are not served"
    app = create_app(Config("/nonexistent"))
    routes = {(m, r.path) for r in app.routes for m in r.methods if m != "HEAD"}
    assert routes == served
    # every page is tried by every role (WHO), and every role of an account is among them
    from pennytrail.app import accounts

    assert set(accounts.ROLES) <= set(ROLES)


@pytest.fixture(scope="module")
def values(portal_home):
    from pennytrail.app import accounts

    home, _ = portal_home
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    g, w, p = con.execute("SELECT grower_id, worker_id, period_start FROM worker_audit ORDER BY 1, 2, 3 LIMIT 1").fetchone()
    b = "B01"
    other = con.execute("SELECT min(buyer_id) FROM invoice_audit WHERE buyer_id <> ?", [b]).fetchone()[0]
    # a month not signed off yet (the browser tests, which share the home, sign one off), so that
    # the accountant's sign-off is one that can be made
    m = con.execute("SELECT min(month) FROM invoice_audit WHERE buyer_id = ? AND month IN "
                    "(SELECT month FROM invoice_audit WHERE buyer_id = ?) AND month NOT IN "
                    "(SELECT month FROM signoffs)", [b, other]).fetchone()[0]
    inv = con.execute("SELECT min(invoice_id) FROM invoice_audit WHERE buyer_id = ?", [b]).fetchone()[0]
    m_lower = con.execute("SELECT min(month) FROM invoice_audit WHERE buyer_id = 'b01'").fetchone()[0]
    code = con.execute("SELECT code FROM statement_codes WHERE grower_id = ? AND worker_id = ? AND revoked_at IS NULL",
                       [g, w]).fetchone()[0]
    x = con.execute("SELECT level, code, party_id, reference, worker_id FROM exceptions WHERE month = ? LIMIT 1",
                    [m]).fetchone()
    con.close()
    xkey = casework.exception_key(dict(zip(casework.EXCEPTION_KEY, x)))
    case = casework.open_case(home, g, w, {p.isoformat(): ("OK", 0)}, "setup@example.org", "monitor")
    spare = accounts.add_user(home, "spare@example.org", "monitor", "spare account password").id
    from urllib.parse import quote

    from pennytrail.core.codes import shown

    from .conftest import CASE_BUYER, SLASH_WORKER

    # a staged upload and a submission of another grower than the demo's sender T002
    data = permission_data(home)
    others_staged = stage("T001", "grower", b"another grower's\n").token
    others = submissions.submit(home, data, stage("T001", "grower", b"received\n").token, "T001", "grower", "test")
    return {"g": g, "w": w, "p": p.isoformat(), "b": b, "other": other, "m": m, "inv": inv, "xkey": xkey,
            "case": case, "spare": spare, "lower": CASE_BUYER, "m_lower": m_lower,
            "slashed": quote(SLASH_WORKER, safe=""), "code": shown(code), "code_typed": code.lower(),
            "wrong_code": shown("".join(reversed(code))), "others_staged": others_staged,
            "others_receipt": others.id}


# the demo's senders (close.DEMO_USERS), a kind each sends (a month's: a nil return names a month)
PARTY = {"buyer": "B01", "grower": "T002", "intermediary": "R01"}
OWN_KIND = {"buyer": "purchases", "grower": "sales", "intermediary": "payments"}
_home: list = []


def permission_data(home):
    """The data folder the senders' pages of these tests store into: the demo's reference data
    only, so that what they upload never reaches a close of the shared home."""
    data = home.parent / "permission-data"
    if not data.exists():
        shutil.copytree(home / "data" / "reference", data / "reference")
    _home[:] = [home, data]
    return data


def stage(party: str, role: str, body: bytes, kind: str | None = None):
    """A file staged by ``party`` (rejected whole by a close: its header names no column)."""
    home, data = _home
    kind = kind or submissions.kinds_for(role)[0]
    return submissions.stage(home, data, party, role, kind, "x.csv", io.BytesIO(b"not,a,table\n" + body), "test")


def sender_values(who: str, home) -> dict:
    """What a sender's own rows of the table fill in: a fresh staged upload and a receipt of its own."""
    if who not in PARTY:
        return {"own_kind": "purchases", "staged": "x" * 32, "own_receipt": 1}
    party = PARTY[who]
    data = _home[1]
    own = submissions.submit(home, data, stage(party, who, f"{who}'s own\n".encode(), kind=OWN_KIND[who]).token,
                             party, who, "test")
    return {"own_kind": OWN_KIND[who], "staged": stage(party, who, secrets.token_hex(8).encode()).token,
            "own_receipt": own.id}


@pytest.fixture(scope="module")
def permission_app(portal_home):
    home, _ = portal_home
    return create_app(Config(home, data=permission_data(home), signoff_wait=0.5))


@pytest.fixture(scope="module")
def clients(permission_app, portal_home):
    from starlette.testclient import TestClient

    _, passwords = portal_home
    out = {role: sign_in(permission_app, role, passwords[role]) for role in ROLES}
    out[ANON] = TestClient(permission_app, follow_redirects=False)
    out[ANON].csrf = ""
    return out


@pytest.mark.parametrize("who, method, url, form, expected, route", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_access(who, method, url, form, expected, route, values, clients, permission_app, portal_home, monkeypatch):
    from pennytrail.app import complaints

    monkeypatch.setattr(complaints, "MAX_PER_DAY", 1000)  # the same worker complains once per visitor here
    if route in ("/submissions/submit", "/submissions/discard", "/receipts/{submission_id:int}",
                 "/files/{file_id}") or (
            form and "{own_kind}" in form.values()):
        values = {**values, **sender_values(who, portal_home[0])}
    fill = lambda s: s.format(**values, who=who)  # noqa: E731
    if method == "POST" and "{closable}" in url:
        home, _ = portal_home
        values = {**values, "closable": casework.open_case(home, values["g"], values["w"],
                                                           {values["p"]: ("OK", 0)}, "setup@example.org", "monitor")}
    client = clients[who]
    if route == "/logout" and who != ANON:  # signing out ends the session: use one of its own
        client = sign_in(permission_app, who, portal_home[1][who])
    if method == "GET":
        r = client.get(fill(url))
    else:
        data = {k: fill(v) for k, v in (form or {}).items() if v != "{upload}"}
        files = {k: ("export.csv", b"not,a,table\n1,2,3\n", "text/csv") for k, v in (form or {}).items()
                 if v == "{upload}"}
        if client.csrf:
            data["csrf_token"] = client.csrf
        elif route == "/login":
            from .conftest import csrf_of
            data["csrf_token"] = csrf_of(client.get("/login").text)
        elif route in ("/s", "/s/{code}/complaint"):  # a worker has no session: the page's own token
            from .conftest import csrf_of
            data["csrf_token"] = csrf_of(client.get("/s").text)
        if (method, route) == ("POST", "/close"):  # refused while a close holds the home: none is started here
            with homelock.hold(portal_home[0]):
                r = client.post(fill(url), data=data)
        else:
            r = client.post(fill(url), data=data, files=files or None)
    assert r.status_code == expected, r.text[:400]
    if expected == SEE_OTHER and who == ANON and not route.startswith("/s"):
        assert r.headers["location"] == "/login"


def test_a_page_that_allows_no_role_is_refused_to_everyone(portal_home, monkeypatch):
    from starlette.responses import PlainTextResponse

    from pennytrail.web import routes

    home, passwords = portal_home
    secret = Page("GET", "/secret", lambda ctx, h: PlainTextResponse("x"), ())
    monkeypatch.setattr(routes, "PAGES", routes.PAGES + [secret])
    app = create_app(Config(home))
    for role in ROLES:
        assert sign_in(app, role, passwords[role]).get("/secret").status_code == 403


def test_a_table_naming_a_route_twice_or_an_unknown_role_is_refused(monkeypatch):
    from pennytrail.web import routes

    for extra in (routes.PAGES[0], Page("GET", "/x", routes.home, ("grocer",)),
                  Page("GET", "/x/{party}", routes.home, ("buyer",), scope="buyer_id")):
        monkeypatch.setattr(routes, "PAGES", routes.PAGES + [extra])
        with pytest.raises(ValueError):
            create_app(Config("/nonexistent"))
