"""The senders' calendar: what each sender owes the program, when it is due, and whether it came.

Plain functions over plain data (no database, no framework), so that a reader can check them
against docs/calendar.md:

- a **grower** owes its payroll for every pay period of its program in which it has a purchase
  line (the line's work period, §5: ``period_of(harvest_date)``, else ``period_of(ship_date)``),
  due ``distribution_deadline_days`` after the period ends;
- a **buyer** owes its purchases and its payments for every month from the month of its first
  purchase line through the as-of month, due on ``MONTH_DUE_DAY`` of the month after;
- a **seller** (grower or intermediary) that ever sent a sales line owes its sales for every
  month from the month of its first sales line through the as-of month, due likewise.

An item is ``received`` when accepted rows of that sender, kind and period were ingested (the
sender is the party column of §3c: payroll ``grower_id``, purchases ``buyer_id``, payments
``payer_id``, sales ``seller_id``), or when the sender declared a nil return for it. (A file the
sender sent since the last close is noted on the item, which stays open until a close reads it,
but is not the subject of a reminder meanwhile.) Otherwise
it is ``late`` when the as-of date is after its due date, and ``missing`` (not yet due) when it
is not. The as-of date is the close's (§7): the latest day the program has evidence of.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable

MONTH_DUE_DAY = 4  # monthly reports are due by the end of this day of the following month
RECEIVED, MISSING, LATE = "received", "missing", "late"
STATUSES = (LATE, MISSING, RECEIVED)
KINDS = ("payroll", "purchases", "payments", "sales")


@dataclass(frozen=True)
class Program:
    program_id: str
    deadline_days: int
    period_days: int
    anchor: dt.date


@dataclass(frozen=True)
class Item:
    """One report a sender owes: ``period`` is a pay period's first day (``YYYY-MM-DD``, payroll)
    or a month (``YYYY-MM``, the others); ``period_end`` its last day."""
    party_id: str
    party_type: str
    kind: str
    period: str
    period_end: dt.date
    due: dt.date
    status: str
    nil_return: bool = False  # received as a declared nil return, not as rows
    submitted: str | None = None  # not received yet, but a file for it was sent since the last close (its receipt)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.party_id, self.kind, self.period)

    @property
    def open(self) -> bool:
        return self.status != RECEIVED


@dataclass
class Facts:
    """What the calendar is derived from (read from a published snapshot by ``app.calendar``)."""
    as_of: dt.date | None
    programs: dict[str, Program]                           # program_id -> Program
    parties: dict[str, tuple[str, str | None]]             # party_id -> (party_type, program_id)
    grower_work_dates: dict[str, set[dt.date]]             # grower -> work dates of its purchase lines
    buyer_first: dict[str, dt.date]                        # buyer -> ship date of its first purchase line
    seller_first: dict[str, dt.date]                       # seller -> ship date of its first sales line
    received: set[tuple[str, str, str]] = field(default_factory=set)   # (party, kind, period) with rows
    nil_returns: set[tuple[str, str, str]] = field(default_factory=set)  # (party, kind, period) declared nil
    submitted: dict[tuple[str, str, str], str] = field(default_factory=dict)  # sent, not read by a close yet


def period_of(day: dt.date, anchor: dt.date, days: int) -> dt.date:
    """The first day of the block of ``days`` days aligned to ``anchor`` that holds ``day`` (§2)."""
    return anchor + dt.timedelta(days=((day - anchor).days // days) * days)


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_from(first: dt.date, last: dt.date) -> list[str]:
    """Every month from ``first``'s through ``last``'s, in order (empty if ``last`` is earlier)."""
    y, m = first.year, first.month
    out = []
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def month_end(month: str) -> dt.date:
    y, m = int(month[:4]), int(month[5:7])
    nxt = dt.date(y + 1, 1, 1) if m == 12 else dt.date(y, m + 1, 1)
    return nxt - dt.timedelta(days=1)


def month_due(month: str, day: int = MONTH_DUE_DAY) -> dt.date:
    """A monthly report's due date: ``day`` of the month after ``month``."""
    return month_end(month) + dt.timedelta(days=day)


def payroll_due(start: dt.date, program: Program) -> dt.date:
    """A pay period's payroll is due ``deadline_days`` after its last day."""
    return start + dt.timedelta(days=program.period_days - 1 + program.deadline_days)


def status(due: dt.date, received: bool, as_of: dt.date | None) -> str:
    if received:
        return RECEIVED
    return LATE if as_of is not None and as_of > due else MISSING


def items(facts: Facts) -> list[Item]:
    """Every item the senders owe, by sender, kind and period."""
    out: list[Item] = []

    def add(party: str, kind: str, period: str, end: dt.date, due: dt.date) -> None:
        key = (party, kind, period)
        got = key in facts.received
        nil = not got and key in facts.nil_returns
        party_type = facts.parties.get(party, ("", None))[0]
        sent = None if got or nil else facts.submitted.get(key)
        out.append(Item(party, party_type, kind, period, end, due, status(due, got or nil, facts.as_of), nil, sent))

    for grower, dates in facts.grower_work_dates.items():
        program = facts.programs.get(facts.parties.get(grower, ("", None))[1] or "")
        if program is None:  # a grower without a program stops the close (§2): nothing to derive
            continue
        for start in sorted({period_of(d, program.anchor, program.period_days) for d in dates}):
            end = start + dt.timedelta(days=program.period_days - 1)
            add(grower, "payroll", start.isoformat(), end, payroll_due(start, program))
    if facts.as_of is not None:
        for kinds, firsts in ((("purchases", "payments"), facts.buyer_first), (("sales",), facts.seller_first)):
            for party, first in firsts.items():
                for month in months_from(first, facts.as_of):
                    for kind in kinds:
                        add(party, kind, month, month_end(month), month_due(month))
    return sorted(out, key=lambda i: (i.party_id, KINDS.index(i.kind), i.period))


def by_party(found: Iterable[Item]) -> dict[str, list[Item]]:
    """Items grouped by sender, senders in id order, each sender's items in kind and period order."""
    out: dict[str, list[Item]] = {}
    for item in sorted(found, key=lambda i: (i.party_id, KINDS.index(i.kind), i.period)):
        out.setdefault(item.party_id, []).append(item)
    return out


def counts(found: Iterable[Item]) -> dict[str, int]:
    out = {s: 0 for s in STATUSES}
    for item in found:
        out[item.status] += 1
    return out


def due_reminders(open_items: Iterable[Item], last_sent: dict[tuple[str, str, str], dt.datetime],
                  now: dt.datetime, interval: dt.timedelta) -> list[Item]:
    """The open items a reminder may name now: never a received one, nor one whose file was sent
    and awaits the next close, and none reminded of less than ``interval`` before ``now``."""
    out = []
    for item in open_items:
        if not item.open or item.submitted:
            continue
        sent = last_sent.get(item.key)
        if sent is not None and now - sent < interval:
            continue
        out.append(item)
    return out
