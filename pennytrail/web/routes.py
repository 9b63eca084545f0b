"""The portal's pages: each handler reads the request's context, calls the application layer and
renders a template. Handlers run in a worker thread; ``PAGES``, this module's part of the route
table (table.py), says who reaches them."""

from __future__ import annotations

import datetime as dt
import logging
import re
import tempfile
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable
from urllib.parse import quote, unquote

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

from pennytrail.app import accounts, browse, casework, complaints, portal_db, signoff, snapshots, trace, verification
from pennytrail.core import codes as statement_codes
from pennytrail.core import confirmations as issued
from pennytrail.core.exception_sign import LEGEND
from pennytrail.core.money import dollars
from pennytrail.core.publish import is_month
from reports.close import write_close_workbook

from .table import PARTY, PUBLIC, Page


@dataclass
class Helpers:
    page: Callable
    error: Callable
    static: dict
    macros: Callable  # a template's name → its macros


# a status's meaning, for its colour: good, warning or failure (anything else is neutral)
GOOD = {"OK", "CONFIRMED", "signed", "resolved", "closed", "remedied", "holds", "active"}
WARNING = {"open", "acknowledged", "UNCONFIRMED", "needs re-sign-off", "not closed", "OVERPAID", "BUYER_OVERPAID",
           "PAID_WITHOUT_WORK", "BILLED_MISMATCH", "disabled"}
FAILURE = {"UNPAID", "UNDERPAID", "BUYER_UNDERPAID", "VOLUME_MISMATCH", "MISSING_PURCHASE", "MISSING_SALE",
           "PASS_THROUGH_SHORTFALL", "UNKNOWN_INVOICE", "PAYEE_NOT_ON_INVOICE", "UNEXPECTED_PAYER",
           "UNEXPECTED_PAYEE", "POOL_WITHOUT_WORKERS", "fails", "revoked"}
# columns that hold a party's id: shown with the party's name beside it
PARTY_COLUMNS = {"buyer_id", "grower_id", "seller_id", "intermediary_id", "payer_id", "payee_id", "party_id"}


def tone(status: object) -> str:
    s = str(status or "")
    return "ok" if s in GOOD else "warn" if s in WARNING else "bad" if s in FAILURE else ""


def add_filters(env) -> None:
    env.filters["dollars"] = lambda c: "" if c is None else dollars(int(c))
    env.filters["tone"] = tone
    env.globals["PARTY_COLUMNS"] = PARTY_COLUMNS
    env.filters["num"] = lambda v: "" if v is None else (f"{v:,}" if isinstance(v, int) else str(v))
    env.filters["cell"] = cell
    env.filters["q"] = lambda v: quote(str(v), safe="")
    env.globals["is_money"] = lambda col: col.kind == "money"


def cell(value, kind: str = "text") -> str:
    if value is None:
        return ""
    if kind == "money":
        return dollars(int(value))
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "date" and isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def offset_param(ctx, name: str = "offset") -> int:
    """A non-negative page offset from the query; anything else, or past 2^62, is 0 or the end."""
    text = ctx.request.query_params.get(name, "0").strip()
    if not text.isdigit() or not text.isascii():
        return 0
    return int(text) if len(text) < 19 else 2 ** 62


def _month(value: str) -> str:
    if not is_month(value):
        raise HTTPException(404)
    return value


# --- public ----------------------------------------------------------------------------------

def healthz(ctx, h) -> Response:
    return PlainTextResponse("ok")


def static(ctx, h, name: str) -> Response:
    found = h.static.get(name)
    if found is None:
        raise HTTPException(404)
    body, kind = found
    return Response(body, media_type=kind, headers={"Cache-Control": "public, max-age=3600"})


def login_form(ctx, h, status: int = 200, message: str | None = None, email: str = "") -> Response:
    nonce = ctx.nonce
    if not nonce or len(nonce) > 100:
        nonce = accounts.secrets.token_urlsafe(24)
        ctx.set_cookies.append(("pt_nonce", nonce, None))
    ctx.nonce = nonce
    if ctx.session is not None and status == 200 and message is None:
        return RedirectResponse("/", status_code=303)
    return h.page(ctx, "login.html", status, login_csrf=accounts.anonymous_csrf(ctx.config.home, nonce),
                  message=message, email=email)


def login(ctx, h) -> Response:
    email = ctx.field("email", 320)
    password = ctx.field("password", accounts.MAX_PASSWORD)
    try:
        session = accounts.authenticate(ctx.config.home, email, password, ctx.address)
    except accounts.LockedOut as e:
        response = login_form(ctx, h, 429, f"Too many failed sign-ins for this account. Try again in "
                                           f"{e.retry_after // 60 + 1} minutes.", email)
        response.headers["Retry-After"] = str(e.retry_after)
        return response
    if session is None:
        return login_form(ctx, h, 401, "Wrong e-mail or password.", email)
    ctx.set_cookies.append(("pt_session", session.token, None))
    ctx.set_cookies.append(("pt_nonce", None, None))
    return RedirectResponse("/", status_code=303)


def logout(ctx, h) -> Response:
    accounts.end_session(ctx.config.home, ctx.session, ctx.address)
    ctx.set_cookies.append(("pt_session", None, None))
    return RedirectResponse("/login", status_code=303)


def home(ctx, h) -> Response:
    return h.page(ctx, "home.html")


def public_key(ctx, h) -> Response:
    path = browse.public_key_file(ctx.config.home)
    if not path.is_file():
        raise HTTPException(404, "The program has no confirmation key yet.")
    return Response(path.read_bytes(), media_type="application/x-pem-file",
                    headers={"Content-Disposition": 'attachment; filename="confirmation.pub.pem"'})


def verify_form(ctx, h) -> Response:
    path = browse.public_key_file(ctx.config.home)
    fingerprint = verification.fingerprint(path) if path.is_file() else None
    return h.page(ctx, "verify.html", fingerprint=fingerprint)


def verify(ctx, h) -> Response:
    path = browse.public_key_file(ctx.config.home)
    fingerprint = verification.fingerprint(path) if path.is_file() else None
    uploads = {}
    for name, value in ctx.form.multi_items():
        if isinstance(value, UploadFile) and value.filename:
            data = value.file.read(verification.MAX_FILE + 1)
            if len(data) > verification.MAX_FILE:
                raise HTTPException(413)
            kind = verification.kind_of(name, data)
            if kind in uploads:
                return h.page(ctx, "verify.html", 400, fingerprint=fingerprint,
                              message=f"Upload one {kind.upper() if kind != 'statement' else 'statement'} at a time.")
            uploads[kind] = data
    if "statement" not in uploads:
        return h.page(ctx, "verify.html", 400, fingerprint=fingerprint,
                      message="Choose the statement (the .json file) to verify.")
    if fingerprint is None:
        raise HTTPException(503, "The program has no confirmation key yet.")
    def latest(buyer: str, month: str) -> int | None:
        have = issued.versions(issued.buyer_folder(ctx.config.home, buyer), month)
        return have[-1] if have else None

    result = verification.verify_upload(uploads["statement"], {k: v for k, v in uploads.items() if k != "statement"},
                                        path, latest)
    return h.page(ctx, "verify.html", fingerprint=fingerprint, result=result)


# --- buyers ----------------------------------------------------------------------------------

def confirmations(ctx, h) -> Response:
    con = ctx.db()
    scope = ctx.parties  # a buyer its own party only; an accountant every buyer (None)
    names = browse.buyers(con)
    files = browse.confirmation_files(ctx.config.home)
    shown = []
    for buyer in sorted(scope if scope is not None else names):
        for m in browse.buyer_months(con, buyer):
            exts = [e for e in ("pdf", "csv", "json") if (buyer, m["month"], e) in files]
            statement = files.get((buyer, m["month"], "json"))
            shown.append({**m, "buyer_id": buyer, "buyer_name": names.get(buyer, buyer), "files": exts,
                          "statement_name": statement.name if statement else None})
    return h.page(ctx, "confirmations.html", rows=shown)


def confirmation_file(ctx, h, buyer_id: str, name: str) -> Response:
    m = re.match(r"^([0-9]{4}-[0-9]{2})\.(pdf|csv|json)$", name)  # a buyer's own only: the page's scope
    if m is None:
        raise HTTPException(404)
    month, ext = m.groups()
    path = browse.confirmation_files(ctx.config.home).get((buyer_id, month, ext))
    if path is None:
        raise HTTPException(404)
    ctx.audit("download", f"confirmation {buyer_id} {month}", ext)
    kinds = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "json": "application/json"}
    # saved under the name the signed statement gives it, so that `pennytrail verify` finds the files it names
    return FileResponse(path, media_type=kinds[ext], filename=path.name)


# --- monitors and accountants ------------------------------------------------------------------

def _names(ctx) -> dict[str, str]:
    """Every party's name by its id, once per snapshot: pages show a name beside each code."""
    con = ctx.db()
    return ctx.published.cached("party names", lambda: browse.party_names(con))


def _directory(ctx) -> tuple:
    con = ctx.db()
    return con, ctx.published.cached("directory", lambda: browse.WorkerIndex(browse.worker_directory(con)))


def workers(ctx, h) -> Response:
    q = ctx.field("q", 200).strip()
    found = []
    if q:
        con, directory = _directory(ctx)
        code = statement_codes.typed(q)  # a worker calling the complaint line reads out their statement code
        if code is not None:
            who = statement_codes.find(con, code)
            found = [e for e in [directory.entry(who[0], who[1]) if who else None] if e is not None]
            ctx.audit("search workers", None, f"by statement code: {len(found)} found")  # never the code itself
        else:
            found = directory.search(q)
            ctx.audit("search workers", None, f"query {q!r}: {len(found)} found")
    return h.page(ctx, "workers.html", q=q, found=found, names=_names(ctx) if found else {})


def _worker_entry(ctx, grower_id: str, worker_id: str):
    con, directory = _directory(ctx)
    e = directory.entry(grower_id, worker_id)
    if e is None:
        raise HTTPException(404)
    return con, e


def _path_ids(ctx, grower_id: str, worker_id: str) -> tuple[str, str]:
    """The grower's and the worker's id as the link gave them: the path's segments decoded one
    by one, so that an id holding ``/`` (sent as %2F) is read whole."""
    raw = ctx.request.scope.get("raw_path")
    if isinstance(raw, bytes):
        parts = raw.decode("latin-1").split("/")
        if len(parts) < 4 or parts[1] != "workers":
            raise HTTPException(404)
        return unquote(parts[2]), unquote("/".join(parts[3:]))
    return grower_id, worker_id


def worker(ctx, h, grower_id: str, worker_id: str) -> Response:
    grower_id, worker_id = _path_ids(ctx, grower_id, worker_id)
    con, entry = _worker_entry(ctx, grower_id, worker_id)
    # the directory found the worker and the names on its stubs: the trace starts from there
    notes, tables = trace.worker_periods(con, [(grower_id, worker_id)], f"worker id {worker_id}",
                                         {(grower_id, worker_id): list(entry.names)})
    ctx.audit("view worker", f"worker {grower_id}/{worker_id}", "pay periods and source rows")
    open_cases = [c for c in casework.list_cases(ctx.config.home)
                  if c["grower_id"] == grower_id and c["worker_id"] == worker_id]
    return h.page(ctx, "worker.html", entry=entry, notes=notes, periods=tables[0], sources=tables[1],
                  cases=open_cases, names=_names(ctx))


def grower(ctx, h, grower_id: str) -> Response:
    con = ctx.db()
    months = [r[0] for r in con.execute("SELECT DISTINCT month FROM pool_audit WHERE grower_id = ? ORDER BY 1 DESC",
                                        [grower_id]).fetchall()]
    month = ctx.request.query_params.get("month") or (months[0] if months else "")
    if not months or not is_month(month):
        raise HTTPException(404)
    try:
        notes, tables = trace.grower_month(con, grower_id, month)
    except trace.NotFound as e:
        raise HTTPException(404, str(e)) from None
    ctx.audit("view grower", f"grower {grower_id}", f"month {month}: pools and workers")
    return h.page(ctx, "grower.html", grower_id=grower_id, month=month, months=months, notes=notes, tables=tables,
                  names=_names(ctx))


def invoice(ctx, h, buyer_id: str, invoice_id: str) -> Response:
    con = ctx.db()
    try:
        notes, tables = trace.invoice(con, buyer_id, invoice_id)
    except trace.NotFound:
        raise HTTPException(404) from None
    return h.page(ctx, "invoice.html", buyer_id=buyer_id, invoice_id=invoice_id, notes=notes, tables=tables,
                  names=_names(ctx))


# --- cases -----------------------------------------------------------------------------------

def cases(ctx, h) -> Response:
    return h.page(ctx, "cases.html", cases=complaints.cases_for_monitors(ctx.config.home),
                  names=_names(ctx))


def open_case(ctx, h) -> Response:
    grower_id, worker_id = ctx.field("grower_id", 100), ctx.field("worker_id", 100)
    con, entry = _worker_entry(ctx, grower_id, worker_id)
    now = browse.worker_periods(con, grower_id, worker_id)
    asked = sorted({part for name in ("period", "periods", "period_start") for p in ctx.form.getlist(name)
                    if isinstance(p, str) for part in re.split(r"[\s,;]+", p.strip()) if part})
    unknown = [p for p in asked if p not in now]
    if unknown or not asked:
        raise HTTPException(400, "Choose at least one of the worker's pay periods for the case."
                            if not asked else "A period chosen is not one of the worker's pay periods.")
    periods = {p: (now[p]["status"], now[p]["variance_cents"]) for p in asked}
    try:
        case_id = casework.open_case(ctx.config.home, grower_id, worker_id, periods, ctx.user.email, ctx.user.role,
                                     ctx.field("note"))
    except casework.CaseError as e:
        raise HTTPException(400, str(e)) from None
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


def case(ctx, h, case_id: int) -> Response:
    found = casework.get_case(ctx.config.home, case_id)
    if found is None:
        raise HTTPException(404)
    con = ctx.db()
    now = browse.worker_periods(con, found["grower_id"], found["worker_id"])
    periods = [p["period_start"] for p in found["periods"]]
    ctx.audit("view case", f"case {case_id}", f"worker {found['grower_id']}/{found['worker_id']}")
    return h.page(ctx, "case.html", case=found, now=now, names=_names(ctx), complaint=complaints.of_case(ctx.config.home, case_id),
                  remedied=casework.remedied(found["periods"], {k: v["status"] for k, v in now.items()}),
                  history=browse.period_history(con, found["grower_id"], found["worker_id"], periods),
                  restatements=browse.restatements_for(con, found["grower_id"], found["worker_id"]))


def _case_change(ctx, case_id: int, change: Callable, text_field: str, refused: int) -> Response:
    try:
        change(ctx.config.home, case_id, ctx.field(text_field), ctx.user.email, ctx.user.role)
    except LookupError:
        raise HTTPException(404) from None
    except casework.CaseError as e:
        raise HTTPException(refused, str(e)) from None
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


def case_note(ctx, h, case_id: int) -> Response:
    return _case_change(ctx, case_id, casework.add_note, "note", 400)


def case_close(ctx, h, case_id: int) -> Response:
    return _case_change(ctx, case_id, casework.close_case, "outcome", 409)


# --- accountants -----------------------------------------------------------------------------

def months(ctx, h) -> Response:
    con = ctx.db()
    return h.page(ctx, "months.html", months=ctx.published.cached("months", lambda: browse.months(con)),
                  legend=LEGEND)


def _month_view(ctx, month: str):
    _month(month)
    con = ctx.db()
    view = ctx.published.cached(("month", month), lambda: browse.month_view(con, month, _checks(ctx.published, con)))
    if view is None:
        raise HTTPException(404)
    return con, view


def _queue(published, con, month: str, h) -> browse.MonthExceptions:
    """The month's exception queue, once per snapshot, each exception with the cells of its row."""
    def compute():
        queue = browse.MonthExceptions(con, month, casework.exception_key)
        cells = h.macros("queue.html").cells
        for e in queue.rows:
            e["cells"] = cells(e)
        return queue

    return published.cached(("exceptions", month), compute)


def _checks(published, con) -> list:
    """The conservation checks: of the whole warehouse, so once per snapshot."""
    return published.cached("checks", lambda: browse.conservation_checks(con))


def month_page(ctx, h, month: str, status: int = 200, message: str | None = None) -> Response:
    con, view = _month_view(ctx, month)
    code = ctx.request.query_params.get("code") or None
    party = ctx.request.query_params.get("party") or None
    offset = offset_param(ctx)
    total, page = _queue(ctx.published, con, month, h).page(code, party, 200, offset)
    with_workers = sum(1 for e in page if e.get("worker_id"))
    if with_workers:  # workers' ids and amounts unpaid are personal data: who saw them is logged
        ctx.audit("view exceptions", f"month {month}",
                  f"{with_workers} of workers shown" + (f", code {code}" if code else "")
                  + (f", party {party}" if party else "") + (f", from {offset + 1}" if offset else ""))
    states = casework.exception_states(ctx.config.home, month)
    for e in page:
        e["note"] = states.get(e["key"])
    counts = {"acknowledged": 0, "resolved": 0}
    for s in states.values():
        counts[s["state"]] += 1
    return h.page(ctx, "month.html", status, view=view, exceptions=page, total=total, offset=offset, code=code,
                  party=party, counts=counts, message=message or _done(ctx, view),
                  legend=LEGEND, names=_names(ctx), all_exceptions=sum(r["n"] for r in view.by_code))


def _done(ctx, view) -> str | None:
    """What a redirect after an action says it did: a known word only, and only if it is so."""
    done = ctx.request.query_params.get("done")
    if done == "signed" and view.state == "signed":
        return "signed"
    return None


def close_workbook(ctx, h, month: str) -> Response:
    con, view = _month_view(ctx, month)
    folder = ctx.config.home / snapshots.FOLDER / "workbooks"
    folder.mkdir(parents=True, exist_ok=True)
    # the exception queue's notes are in the workbook: a new note makes a new file
    states = casework.exception_states(ctx.config.home, month)
    queued = max([0] + [int(s["id"]) for s in states.values()])
    path = folder / f"{ctx.published.name}-close-{month}-q{queued}.xlsx"
    with _file_lock(path):
        if not path.exists():
            tmp = Path(tempfile.mkstemp(dir=folder, suffix=".xlsx.partial")[1])
            try:
                write_close_workbook(con, month, tmp, queue=lambda e: states.get(casework.exception_key(e)))
                tmp.replace(path)
            finally:
                tmp.unlink(missing_ok=True)
    ctx.audit("download", f"close workbook {month}", None)
    return FileResponse(path, filename=f"close-{month}.xlsx",
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


_locks: dict[str, threading.Lock] = {}


def _file_lock(path: Path) -> threading.Lock:
    return _locks.setdefault(str(path), threading.Lock())


def month_signoff(ctx, h, month: str) -> Response:
    con, view = _month_view(ctx, month)
    seen = ctx.field("digest", 100) or view.digest
    open_now = sum(r["n"] for r in view.by_code)
    if open_now and ctx.field("confirm", 10) != "yes":
        return month_page(ctx, h, month, 400, f"Not signed off: the month has {open_now} open exception(s). Read them "
                                              "below, then tick the box that you sign off with them open.")
    try:
        d = signoff.sign_off(ctx.config.home, month, ctx.user.email, seen, wait=ctx.config.signoff_wait)
    except snapshots.Busy:
        return month_page(ctx, h, month, 503, "Not signed off: a close is running and holds the warehouse. "
                                          "Try again in a few minutes.")
    except signoff.Changed as e:
        return month_page(ctx, h, month, 409, f"Not signed off: {e}.")
    except ValueError as e:
        return month_page(ctx, h, month, 409, f"Not signed off: {e}.")
    ctx.audit("sign-off", f"month {month}", f"digest {d}")
    return RedirectResponse(f"/months/{month}?done=signed", status_code=303)


def month_exception(ctx, h, month: str) -> Response:
    con, view = _month_view(ctx, month)
    key = ctx.field("key", 40)
    found = [e for e in browse.all_exceptions(con, month) if casework.exception_key(e) == key]
    if not found:
        raise HTTPException(404)
    e = found[0]
    label = f"{e['code']} {e['party_id'] or ''} {e['reference'] or ''}".strip()
    try:
        casework.note_exception(ctx.config.home, month, key, ctx.field("state", 20), ctx.field("note"),
                                ctx.user.email, ctx.user.role, label)
    except casework.CaseError as err:
        raise HTTPException(400, str(err)) from None
    back = f"/months/{month}"
    return RedirectResponse(back + f"?code={quote(e['code'])}#x-{key}", status_code=303)


def audit(ctx, h) -> Response:
    offset = offset_param(ctx)
    actor = ctx.request.query_params.get("actor") or None
    action = ctx.request.query_params.get("action") or None
    entries = portal_db.audit_log(ctx.config.home, 200, offset, actor, action, viewer_role=ctx.user.role)
    return h.page(ctx, "audit.html", entries=entries, offset=offset, actor=actor, action=action)


# --- admins ----------------------------------------------------------------------------------

def users(ctx, h, status: int = 200, message: str | None = None) -> Response:
    return h.page(ctx, "users.html", status, users=accounts.list_users(ctx.config.home), roles=accounts.ROLES,
                  message=message)


def add_user(ctx, h) -> Response:
    parties = None
    con = ctx.published.cursor()
    if con is not None:
        parties = browse.party_types(con)
    try:
        accounts.add_user(ctx.config.home, ctx.field("email", 320), ctx.field("role", 20),
                          ctx.field("password", accounts.MAX_PASSWORD), ctx.field("party_id", 64) or None,
                          by=ctx.user.email, parties=parties)
    except accounts.AccountError as e:
        return users(ctx, h, 400, f"Not added: {e}.")
    return RedirectResponse("/admin/users", status_code=303)


def _set_disabled(ctx, h, user_id: int, disabled: bool) -> Response:
    target = [u for u in accounts.list_users(ctx.config.home) if u.id == user_id]
    if not target:
        raise HTTPException(404)
    if target[0].id == ctx.user.id and disabled:
        return users(ctx, h, 409, "You cannot disable your own account.")
    accounts.set_disabled(ctx.config.home, target[0].email, disabled, by=ctx.user.email)
    return RedirectResponse("/admin/users", status_code=303)


def disable_user(ctx, h, user_id: int) -> Response:
    return _set_disabled(ctx, h, user_id, True)


def enable_user(ctx, h, user_id: int) -> Response:
    return _set_disabled(ctx, h, user_id, False)


def warm(published, h) -> None:
    """Compute what every page of a new snapshot needs (the worker index, the months and each
    month's figures and exception queue) before the first visitors ask for it."""
    try:
        con = published.cursor()
        published.cached("directory", lambda: browse.WorkerIndex(browse.worker_directory(con)))
        found = published.cached("months", lambda: browse.months(con))
        for m in found:
            published.cached(("month", m["month"]), lambda: browse.month_view(con, m["month"], _checks(published, con)))
            _queue(published, con, m["month"], h)
    except Exception:  # a page computes what it needs itself; this only saves it the wait
        logging.getLogger("pennytrail.portal").exception("warming the snapshot's cache")


# /verify's body: a statement, its PDF and its CSV
MAX_VERIFY = verification.MAX_STATEMENT + 2 * verification.MAX_FILE + 64 * 1024
ROLES = accounts.ROLES
STAFF = ("monitor", "accountant")
ANYONE = (PUBLIC,)

PAGES = [
    Page("GET", "/healthz", healthz, ANYONE),
    Page("GET", "/static/{name}", static, ANYONE),
    Page("GET", "/login", login_form, ANYONE),
    Page("POST", "/login", login, ANYONE, slow=True),  # a password hash
    Page("POST", "/logout", logout, ROLES),
    Page("GET", "/", home, ROLES),
    Page("GET", "/keys/confirmation.pub.pem", public_key, ANYONE),
    Page("GET", "/verify", verify_form, ANYONE),
    # a form that changes nothing: no token needed
    Page("POST", "/verify", verify, ANYONE, csrf=False, body=MAX_VERIFY),
    Page("GET", "/confirmations", confirmations, ("buyer", "accountant"), scope=PARTY),
    Page("GET", "/confirmations/{buyer_id}/{name}", confirmation_file, ("buyer", "accountant"), slow=True,
         scope="buyer_id"),
    Page("GET", "/workers", workers, STAFF),
    Page("GET", "/workers/{grower_id}/{worker_id:path}", worker, STAFF, slow=True),
    Page("GET", "/growers/{grower_id}", grower, STAFF, slow=True),
    Page("GET", "/invoices/{buyer_id}/{invoice_id:path}", invoice, STAFF, slow=True),
    Page("GET", "/cases", cases, ("monitor",)),
    Page("POST", "/cases", open_case, ("monitor",)),
    Page("GET", "/cases/{case_id:int}", case, ("monitor",)),
    Page("POST", "/cases/{case_id:int}/notes", case_note, ("monitor",)),
    Page("POST", "/cases/{case_id:int}/close", case_close, ("monitor",)),
    Page("GET", "/months", months, ("accountant",)),
    Page("GET", "/months/{month}", month_page, ("accountant",)),
    Page("GET", "/months/{month}/close.xlsx", close_workbook, ("accountant",), slow=True),
    Page("POST", "/months/{month}/signoff", month_signoff, ("accountant",), slow=True),
    Page("POST", "/months/{month}/exceptions", month_exception, ("accountant",), slow=True),
    Page("GET", "/audit", audit, ("accountant", "admin")),
    Page("GET", "/admin/users", users, ("admin",)),
    Page("POST", "/admin/users", add_user, ("admin",)),
    Page("POST", "/admin/users/{user_id:int}/disable", disable_user, ("admin",)),
    Page("POST", "/admin/users/{user_id:int}/enable", enable_user, ("admin",)),
]
