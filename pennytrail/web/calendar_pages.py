"""The calendar's pages: what each sender owes (``/calendar``: every sender's for the
accountant, with the reminders sent; a sender's own only for a sender), and the close started
from the portal (``/close``: the accountant starts one and follows it)."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from pennytrail.app import accounts, close_runs, reminders
from pennytrail.app import calendar as calendars
from pennytrail.core import calendar as rules

from .table import PARTY, Page

SENDERS = accounts.PARTY_ROLES  # the roles of accounts tied to a party: each sees its own items
TONE = {"received": "ok", "missing": "warn", "late": "bad", "running": "warn", "completed": "ok", "failed": "bad", "ended": "warn",
        "sent": "ok", "refused": "bad"}


def _calendar(ctx, party: str | None) -> calendars.Calendar:
    """The calendar of the published snapshot (its facts read once per snapshot) with the nil
    returns declared and the files sent in the portal until now."""
    con = ctx.db()
    facts = ctx.published.cached("calendar facts", lambda: calendars.facts_of(con))
    names = ctx.published.cached("calendar names", lambda: calendars.party_names(con))
    ingested = ctx.published.cached("ingested files", lambda: calendars.ingested_hashes(con))
    return calendars.from_facts(facts, names, calendars.sent_in_portal(ctx.config.home, party), ingested, party)


def calendar_page(ctx, h) -> Response:
    party = ctx.party_or_every  # None for the accountant: every sender
    cal = _calendar(ctx, party)
    only = ctx.request.query_params.get("status", "")
    groups = cal.by_party()
    if only in rules.STATUSES:
        groups = {p: [i for i in found if i.status == only] for p, found in groups.items()}
        groups = {p: found for p, found in groups.items() if found}
    sent = reminders.history(ctx.config.home, 100) if party is None else []
    return h.page(ctx, "calendar.html", cal=cal, groups=groups, counts=cal.counts(), only=only,
                  statuses=rules.STATUSES, own=party, reminders=sent, tone=TONE)


def close_page(ctx, h, status: int = 200, message: str | None = None) -> Response:
    runs = close_runs.runs(ctx.config.home)
    running = any(r.running for r in runs)
    return h.page(ctx, "close.html", status, runs=runs, running=running, message=message,
                  can_start=ctx.config.data is not None, tone=TONE)


def start_close(ctx, h) -> Response:
    if ctx.config.data is None:
        return close_page(ctx, h, 409, "The portal was started without its data folder (`pennytrail serve --data "
                                       "DIR`): a close cannot be started from here.")
    try:
        run = close_runs.start(ctx.config.home, ctx.config.data, ctx.user.email)
    except close_runs.AlreadyRunning as e:
        return close_page(ctx, h, 409, f"Not started: {e}.")
    ctx.audit("close started", f"close {run.id}", f"log {run.log}")
    return RedirectResponse("/close", status_code=303)


PAGES = [
    Page("GET", "/calendar", calendar_page, ("accountant", *SENDERS), scope=PARTY),
    Page("GET", "/close", close_page, ("accountant",)),
    Page("POST", "/close", start_close, ("accountant",), slow=True),
]
