"""The worker's page (docs/workers.md): ``/s`` to type a statement code, ``/s/{code}`` for the
worker's statements, newest first, in their language (``?lang=`` switches), and a complaint
that opens a case in the monitors' queue. No account, no script.

A code is looked up in the published snapshot. Wrong codes are counted per client address
(``complaints.refused_for``). A code is never logged: the portal's log and the access log carry
``/s/…`` instead (``redact``), pages send no referrer, and the audit log names the worker.
"""

from __future__ import annotations

import logging
import re

from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from pennytrail.app import accounts, browse, casework, complaints, portal_db, statements
from pennytrail.core import codes, worker_statement
from pennytrail.locale import Words, available, language_for

from .table import PUBLIC, Page

CODE_IN_PATH = re.compile(r"/s/[^/\s?#\"']+")
# a code anywhere else (a search for it, say): five groups of four of its symbols, with or without
# dashes, spaces or their URL encodings, in any case
CODE_ANYWHERE = re.compile(r"(?<![0-9A-Za-z])[2-9A-HJKMNP-Za-hjkmnp-z]{4}(?:(?:-|\+|%20|%2D| )?"
                           r"[2-9A-HJKMNP-Za-hjkmnp-z]{4}){4}(?![0-9A-Za-z])")


def redact(text: str) -> str:
    """``text`` with any code in a /s/ path, or anything shaped like a code, replaced by an ellipsis."""
    return CODE_ANYWHERE.sub("…", CODE_IN_PATH.sub("/s/…", text))


class RedactCodes(logging.Filter):
    """Takes statement codes out of a log record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def install_log_redaction() -> None:
    """Redact codes in the portal's own log and in uvicorn's access and error logs."""
    for name in ("pennytrail", "pennytrail.portal", "uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCodes) for f in logger.filters):
            logger.addFilter(RedactCodes())
        for handler in logger.handlers:
            if not any(isinstance(f, RedactCodes) for f in handler.filters):
                handler.addFilter(RedactCodes())


install_log_redaction()


def _nonce(ctx) -> str:
    nonce = ctx.nonce
    if not nonce or len(nonce) > 100:
        nonce = accounts.secrets.token_urlsafe(24)
        ctx.set_cookies.append(("pt_nonce", nonce, None))
        ctx.nonce = nonce
    return nonce


def _lang(ctx, default: str) -> str:
    asked = ctx.request.query_params.get("lang", "")
    return asked if asked in available() else statements_language(default)


def statements_language(code: str | None) -> str:
    return language_for(code)


def _languages() -> list[tuple[str, str]]:
    return [(code, Words(code).name) for code in available()]


def _page(ctx, h, name: str, words: Words, status: int = 200, **context) -> Response:
    # the language the visitor chose with the switch, if they did (the page is otherwise in the worker's own)
    chosen = ctx.request.query_params.get("lang") or (ctx.field("lang", 10) if ctx.form is not None else "")
    response = h.page(ctx, name, status, _=words.gettext, lang=words.code, languages=_languages(), w=words,
                      chosen=chosen if chosen in available() else None, **context)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _too_many(ctx, h, words: Words, wait: int) -> Response:
    _ = words.gettext
    response = _page(ctx, h, "worker_code.html", words, 429,
                     message=_("Too many wrong codes from this connection. Try again in {minutes} minutes.",
                               minutes=wait // 60 + 1),
                     csrf_token=accounts.anonymous_csrf(ctx.config.home, _nonce(ctx)))
    response.headers["Retry-After"] = str(wait)
    return response


def code_form(ctx, h) -> Response:
    words = Words(_lang(ctx, "es"))
    return _page(ctx, h, "worker_code.html", words, csrf_token=accounts.anonymous_csrf(ctx.config.home, _nonce(ctx)))


def code_post(ctx, h) -> Response:
    """The code as typed: on to the worker's page, or the form again."""
    words = Words(_lang(ctx, ctx.field("lang", 10) or "es"))
    wait = complaints.refused_for(ctx.config.home, ctx.address)
    if wait:
        return _too_many(ctx, h, words, wait)
    code = codes.typed(ctx.field("code", 100))
    found = codes.find(ctx.db(), code) if code else None
    if found is None:
        complaints.wrong_code(ctx.config.home, ctx.address)  # from the next try on, counted against the limit
        return _page(ctx, h, "worker_code.html", words, 404,
                     message=words.gettext("That code does not work. Check it on your statement and try again."),
                     csrf_token=accounts.anonymous_csrf(ctx.config.home, _nonce(ctx)))
    lang = ctx.request.query_params.get("lang") or ctx.field("lang", 10)
    suffix = f"?lang={lang}" if lang in available() else ""
    return RedirectResponse(f"/s/{codes.shown(code)}{suffix}", status_code=303)


def _worker(ctx, h, code_text: str):
    """(grower_id, worker_id, language, code) of a working code, or a response refusing it."""
    wait = complaints.refused_for(ctx.config.home, ctx.address)
    if wait:
        return None, _too_many(ctx, h, Words(_lang(ctx, "es")), wait)
    code = codes.typed(code_text)
    found = codes.find(ctx.db(), code) if code else None
    if found is None:
        complaints.wrong_code(ctx.config.home, ctx.address)
        words = Words(_lang(ctx, "es"))
        return None, _page(ctx, h, "worker_code.html", words, 404,
                           message=words.gettext("That code does not work. Check it on your statement and try again."),
                           csrf_token=accounts.anonymous_csrf(ctx.config.home, _nonce(ctx)))
    return (found[0], found[1], found[2], code), None


def worker_page(ctx, h, code: str, status: int = 200, problem: str | None = None) -> Response:
    who, refused = _worker(ctx, h, code)
    if refused is not None:
        return refused
    grower_id, worker_id, language, bare = who
    words = Words(_lang(ctx, language))
    con = ctx.db()
    found = statements.of_worker(con, grower_id, worker_id)
    shown = [{"s": s, "blocks": worker_statement.blocks(s, words), "totals": worker_statement.totals(s, words),
              "month": words.month(s.month)} for s in found]
    sent = complaints.of_worker(ctx.config.home, grower_id, worker_id)
    now = {p.period_start.isoformat(): p.status for s in found for p in s.periods}
    for c in sent:
        c["reference"] = complaints.reference(c["id"])
        c["remedied"] = casework.remedied(c["periods"], now)
    portal_db.record(ctx.config.home, complaints.actor(grower_id, worker_id), complaints.WORKER_ROLE,
                     "view own statements", complaints.actor(grower_id, worker_id), f"language {words.code}",
                     ctx.address)
    first = found[0] if found else None
    periods = [(p.period_start.isoformat(), words.date(p.period_start), words.date(p.period_end))
               for s in found for p in s.periods]
    return _page(ctx, h, "worker_page.html", words, status, statements=shown, first=first, code=codes.shown(bare),
                 complaints=sent, periods=periods, problem=problem,
                 sent_ref=next((c["reference"] for c in sent
                                if c["reference"] == ctx.request.query_params.get("sent")), None),  # their own only
                 complaint_line=worker_statement.complaint(first, words) if first else None,
                 csrf_token=accounts.anonymous_csrf(ctx.config.home, _nonce(ctx)))


PROBLEMS = {"periods", "message", "long", "phone", "many"}


def complaint_post(ctx, h, code: str) -> Response:
    who, refused = _worker(ctx, h, code)
    if refused is not None:
        return refused
    grower_id, worker_id, language, bare = who
    lang = ctx.field("lang", 10)
    lang = lang if lang in available() else statements_language(language)
    con = ctx.db()
    now = browse.worker_periods(con, grower_id, worker_id)
    asked = sorted({p for p in ctx.form.getlist("periods") if isinstance(p, str)})
    periods = {p: (now[p]["status"], now[p]["variance_cents"]) for p in asked if p in now}
    if len(periods) != len(asked):
        raise HTTPException(400)
    try:
        case_id = complaints.open_complaint(ctx.config.home, grower_id, worker_id, periods, ctx.field("message", 4000),
                                            lang, ctx.field("phone", 100), ctx.address)
    except complaints.ComplaintError as e:
        ctx.request.scope["query_string"] = f"lang={lang}".encode()
        return worker_page(ctx, h, code, 429 if str(e) == "many" else 400, problem=str(e))
    return RedirectResponse(f"/s/{codes.shown(bare)}?lang={lang}&sent={complaints.reference(case_id)}#complaint",
                            status_code=303)


# the worker's page: no account, the statement code is the key
PAGES = [
    Page("GET", "/s", code_form, (PUBLIC,)),
    Page("POST", "/s", code_post, (PUBLIC,)),
    Page("GET", "/s/{code}", worker_page, (PUBLIC,)),
    Page("POST", "/s/{code}/complaint", complaint_post, (PUBLIC,)),
]
