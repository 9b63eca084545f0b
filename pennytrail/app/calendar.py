"""The senders' calendar read from the newest published snapshot (``core.calendar`` decides it).

``calendar(home, party_id=None)`` is what `pennytrail calendar`, the portal's ``/calendar`` and
the reminders (``app.reminders``) show: every item each sender owes, or one sender's only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..core import calendar as rules
from ..core.closebook import as_of_date
from . import portal_db, snapshots
from .errors import UserError


@dataclass
class Calendar:
    as_of: dt.date | None
    items: list[rules.Item]
    names: dict[str, str]     # party_id -> name, for every sender listed

    def by_party(self) -> dict[str, list[rules.Item]]:
        return rules.by_party(self.items)

    def counts(self) -> dict[str, int]:
        return rules.counts(self.items)

    def text(self) -> str:
        """What `pennytrail calendar` prints: one block per sender, one line per item."""
        if not self.items:
            return "no sender owes anything yet: the calendar follows the first purchase lines"
        c = self.counts()
        lines = [f"as of {self.as_of}: {c['late']} late, {c['missing']} not yet due, {c['received']} received"]
        for party, found in self.by_party().items():
            open_items = [i for i in found if i.open]
            lines.append("")
            lines.append(f"{party} {self.names.get(party, '')} ({found[0].party_type}): "
                         f"{len(open_items)} open of {len(found)}".replace("  ", " "))
            for i in found:
                state = i.status + (" (nil return)" if i.nil_return else "")
                state += f" (sent {i.submitted}, read at the next close)" if i.submitted else ""
                lines.append(f"  {i.kind:<9}  {i.period:<10}  due {i.due}  {state}")
        return "\n".join(lines)


def facts_of(con: duckdb.DuckDBPyConnection, party_id: str | None = None) -> rules.Facts:
    """What the calendar is derived from, read from a snapshot (of one sender's when ``party_id``)."""
    def pairs(sql: str) -> list[tuple]:
        return con.execute(sql, {"p": party_id} if "$p" in sql else {}).fetchall()

    only = lambda column: f" WHERE {column} = $p" if party_id is not None else ""  # noqa: E731
    programs = {p: rules.Program(p, int(deadline), int(days), anchor) for p, deadline, days, anchor in pairs(
        "SELECT program_id, distribution_deadline_days, period_days, period_anchor FROM ref_programs")}
    parties = {p: (t, prog) for p, t, prog in pairs("SELECT party_id, party_type, program_id FROM ref_parties")}
    work: dict[str, set[dt.date]] = {}
    for g, d in pairs("SELECT DISTINCT grower_id, coalesce(harvest_date, ship_date) FROM purchases" + only("grower_id")):
        work.setdefault(g, set()).add(d)
    buyer_first = dict(pairs("SELECT buyer_id, min(ship_date) FROM purchases" + only("buyer_id") + " GROUP BY 1"))
    seller_first = dict(pairs("SELECT seller_id, min(ship_date) FROM sales_rows" + only("seller_id") + " GROUP BY 1"))
    # every version of a row counts as received, a corrected one too: the sender sent it
    received = {(p, "payroll", d.isoformat()) for p, d in pairs(
        "SELECT DISTINCT grower_id, period_start FROM payroll_rows" + only("grower_id"))}
    for kind, table, party, day in (("purchases", "purchase_rows", "buyer_id", "ship_date"),
                                    ("payments", "payment_rows", "payer_id", "paid_date"),
                                    ("sales", "sales_rows", "seller_id", "ship_date")):
        received |= {(p, kind, m) for p, m in pairs(
            f"SELECT DISTINCT {party}, strftime({day}, '%Y-%m') FROM {table}" + only(party))}
    return rules.Facts(as_of_date(con), programs, parties, work, buyer_first, seller_first, received)


def party_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT party_id, name FROM ref_parties").fetchall())


def from_facts(facts: rules.Facts, names: dict[str, str], sent: "Sent | None" = None,
               ingested: set[str] | frozenset[str] = frozenset(), party_id: str | None = None) -> Calendar:
    """The calendar of facts read before (a snapshot's, which the portal keeps) with what the
    senders declared and sent in the portal until now (``sent``; a file whose SHA-256 is among
    the snapshot's ``ingested`` was read by a close, and counts by its rows): every sender's,
    or ``party_id``'s only."""
    sent = sent or Sent(set(), [])
    submitted: dict[tuple[str, str, str], str] = {}
    for party, kind, periods, sha256, reference in sent.submissions:
        if sha256 not in ingested:
            for period in periods:
                submitted.setdefault((party, kind, period), reference)
    facts = dataclasses.replace(facts, nil_returns=set(sent.nil_returns), submitted=submitted)
    found = [i for i in rules.items(facts) if party_id is None or i.party_id == party_id]
    return Calendar(facts.as_of, found, {i.party_id: names.get(i.party_id, "") for i in found})


@dataclass
class Sent:
    """What senders declared and sent in the portal (``submissions``): nil returns as (party,
    kind, period), and files as (party, kind, the periods they report, SHA-256, receipt)."""
    nil_returns: set[tuple[str, str, str]]
    submissions: list[tuple[str, str, list[str], str, str]]


def sent_in_portal(home: Path, party_id: str | None = None) -> Sent:
    """The nil returns and files senders sent in the portal (every sender's, or ``party_id``'s)."""
    where, params = ("WHERE party_id = ?", [party_id]) if party_id is not None else ("", [])
    with portal_db.connect(home, write=False) as con:
        nil = {(r[0], r[1], r[2]) for r in con.execute(
            f"SELECT party_id, kind, period FROM nil_returns {where}", params).fetchall()}
        files = [(r[0], r[1], [p for p in json.loads(r[2] or "[]") if p], r[3], f"S-{r[4]:06d}") for r in con.execute(
            f"SELECT party_id, kind, periods, sha256, id FROM submissions {where}", params).fetchall()]
    return Sent(nil, files)


def ingested_hashes(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The SHA-256 of every file a close read, whatever became of it."""
    return frozenset(r[0] for r in con.execute("SELECT DISTINCT sha256 FROM ingest_log WHERE sha256 IS NOT NULL").fetchall())


def calendar(home: Path, party_id: str | None = None) -> Calendar:
    """The calendar of the newest published snapshot, with what senders declared and sent in the
    portal since: every sender's, or ``party_id``'s only."""
    path = snapshots.current(Path(home))
    if path is None:
        raise UserError(f"nothing is published in {home} yet: run `pennytrail close --data DIR --home {home}` first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        return from_facts(facts_of(con, party_id=party_id), party_names(con), sent_in_portal(home, party_id),
                          ingested_hashes(con), party_id)
    finally:
        con.close()
