"""Buyers' payment confirmations: what a buyer's statement of a month says, what changed since
the version before, and how a statement is read back and verified.

A confirmation is three files in the buyer's folder (``HOME/confirmations/<folder>/``, a name
made from the buyer id by ``core.paths``, never the id itself): a PDF to read, a CSV of the same
figures and a signed JSON statement that names the SHA-256 of both. Issuing one writes them
(``reports.confirmations``); the close, a sign-off and a revocation decide when
(``pennytrail.app.confirmations``).

- Everything is read from what was published for the month (``invoice_audit``,
  ``invoice_grower_audit``, ``invoice_line_audit``, ``pass_through_audit``, ``payment_audit``,
  and the published pools the invoices fed); a month that has not been closed cannot be
  confirmed.
- The same figures are issued once: their digest (``figures_sha256``) leaves out when and how a
  statement was issued. A changed figure (a correction, a restatement, a sign-off) makes
  version N+1, which names the version it supersedes and says in words what changed
  (``changes``); the earlier versions stay.
- A buyer that paid premium in a month in which it has no invoice gets a nil statement: no
  invoice, and the payments it made.
- Every difference between what the buyer paid and what the growers received is said in words
  (``_invoice_words``), another payer never named.
- Worker figures follow ``core.privacy``: per pool, a pool in which nobody was paid said so,
  what reached pay stubs withheld where fewer than 5 workers were paid or where it changed for
  fewer than 5 workers since any state of the pool shown before (``Disclosures``), and never a
  total over pools.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from . import keys, privacy, statement as st
from .money import dollars
from .paths import party_folder
from .publish import latest_signoff, month_status, published_months

VERSION_FILE = re.compile(r"^confirmation-(?P<month>[0-9]{4}-[0-9]{2})-v(?P<v>[0-9]{1,6})\.json$")
UNIT_WORDS = {"lb": "pounds", "kg": "kilograms", "cwt": "hundredweight", "gal": "gallons", "oz": "ounces",
              "l": "litres", "t": "tonnes"}
# members of the statement that say when and how it was issued, not what it says
ISSUE_MEMBERS = ("version", "supersedes", "changes", "issued_at", "files", "key_fingerprint", "figures_sha256")


class NotConfirmable(LookupError):
    """No confirmation can be made for this buyer and month; the message says why, in one line."""


@dataclass
class Issued:
    folder: Path
    version: int
    pdf: Path
    csv: Path
    statement: Path
    new: bool  # False when the figures were unchanged and nothing was written


def buyer_folder(home: Path, buyer: str) -> Path:
    return party_folder(home / "confirmations", buyer)


# --- the figures -------------------------------------------------------------------------------

def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> list[dict]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[0])


def unit_words(con: duckdb.DuckDBPyConnection, unit: str) -> str:
    """``box_25lb`` → ``box_25lb (25 pounds each)``; ``lb`` → ``pounds``."""
    row = con.execute("SELECT base_unit, factor FROM ref_units WHERE unit = ?", [unit]).fetchone()
    if row is None or row[0] == unit:
        return UNIT_WORDS.get(unit, unit)
    base, factor = row
    return f"{unit} ({factor.normalize():f} {UNIT_WORDS.get(base, base)} each)"


HANDSHAKE_WORDS = {
    "CONFIRMED": "confirmed by the seller",
    "VOLUME_MISMATCH": "the seller reported a different volume",
    "MISSING_SALE": "the seller did not report this sale",
    "MISSING_PURCHASE": "reported by the seller only",
    "UNCONFIRMED": "the seller does not report its sales yet",
}


def _volume_confirmation(con: duckdb.DuckDBPyConnection, buyer: str, month: str) -> dict[tuple, str]:
    """(invoice_id, grower_id) → whether the seller confirmed the volume, in words, from the
    published volume handshake; empty when the warehouse has none."""
    if not _has_table(con, "volume_handshake"):
        return {}
    rows = con.execute("""
        SELECT l.invoice_id, l.grower_id, h.status, count(*)
        FROM invoice_line_audit l
        JOIN volume_handshake h ON h.buyer_id = l.buyer_id AND h.invoice_id = l.invoice_id AND h.line_no = l.line_no
        WHERE l.buyer_id = $b AND l.month = $m GROUP BY ALL ORDER BY ALL""", {"b": buyer, "m": month}).fetchall()
    out: dict[tuple, list] = {}
    for inv, grower, status, n in rows:
        out.setdefault((inv, grower), []).append((status, n))
    words = {}
    for key, parts in out.items():
        if len(parts) == 1:
            words[key] = HANDSHAKE_WORDS.get(parts[0][0], parts[0][0])
        else:
            words[key] = "; ".join(f"{n} line(s): {HANDSHAKE_WORDS.get(s, s)}" for s, n in parts)
    return words


def _invoice_lines(con: duckdb.DuckDBPyConnection, buyer: str, month: str) -> list[dict]:
    """Each line of the buyer's invoices of the month, and whether its seller's own report
    confirmed its volume (the published volume handshake; none kept: not checked)."""
    handshake = _has_table(con, "volume_handshake")
    rows = _rows(con, f"""
        SELECT l.invoice_id, l.line_no, l.seller_id, l.grower_id, l.commodity, l.quantity, l.unit,
               {"h.status" if handshake else "NULL"} AS handshake
        FROM invoice_line_audit l
        {"LEFT JOIN volume_handshake h ON h.buyer_id = l.buyer_id AND h.invoice_id = l.invoice_id "
         "AND h.line_no = l.line_no" if handshake else ""}
        WHERE l.buyer_id = $b AND l.month = $m
        ORDER BY l.invoice_id, try_cast(l.line_no AS BIGINT) NULLS LAST, l.line_no""", {"b": buyer, "m": month})
    if handshake:  # lines only the seller reported: missing from the buyer's own purchase report
        rows += _rows(con, """
            SELECT invoice_id, line_no, seller_id, NULL AS grower_id, NULL AS commodity, seller_quantity AS quantity,
                   seller_unit AS unit, status AS handshake
            FROM volume_handshake WHERE buyer_id = $b AND month = $m AND status = 'MISSING_PURCHASE'
            ORDER BY invoice_id, try_cast(line_no AS BIGINT) NULLS LAST, line_no""", {"b": buyer, "m": month})
    for r in rows:
        r["quantity"] = None if r["quantity"] is None else f"{r['quantity'].normalize():f}"
        r["seller_confirmed"] = r["handshake"] == "CONFIRMED"
        r["volume_confirmed_by_seller"] = HANDSHAKE_WORDS.get(r["handshake"], "not checked: no seller report is kept")
    return rows


def _invoice_words(inv: dict) -> str:
    """What happened to an invoice's premium, in sentences a compliance officer reads: every
    difference between what the buyer paid and what the growers received is named."""
    owed, paid, held = inv["owed_cents"], inv["paid_by_buyer_cents"], inv["held_by_intermediaries_cents"]
    others, misdirected = inv["paid_by_others_cents"], inv["misdirected_cents"]
    received = inv["received_by_growers_cents"]
    parts = []
    billed = inv["billed_cents"]
    if paid == owed:
        parts.append("paid in full")
    elif paid < owed:
        parts.append(f"underpaid: {dollars(owed - paid)} of the {dollars(owed)} owed has not been paid by you")
    else:
        parts.append(f"overpaid by {dollars(paid - owed)}")
    if billed is not None and billed != owed:
        parts.append(f"the seller billed {dollars(billed)}, {dollars(abs(owed - billed))} "
                     f"{'less' if billed < owed else 'more'} than the rate card gives "
                     "(you owe what the rate card gives)")
    if held > 0:
        parts.append(f"{dollars(held)} is held by an intermediary and has not reached the growers")
    elif held < 0:
        parts.append(f"intermediaries passed on {dollars(-held)} more than they received for it")
    if misdirected:
        parts.append(f"{dollars(misdirected)} was paid to parties that grew nothing on it")
    if others:
        parts.append(f"another party (not you) paid {dollars(others)} on it")
    if received == paid and not (held or misdirected or others):
        parts.append("all of what you paid reached the growers" if paid else "the growers received nothing")
    else:
        parts.append(f"the growers received {dollars(received)}")
    unexplained = received - (paid - held - misdirected + others)
    if unexplained:
        parts.append(f"{dollars(abs(unexplained))} of it the published figures do not attribute to a payer")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def pool_words(pool: dict) -> str:
    """What became of a pool's funded premium, in a sentence; says what is withheld and why."""
    if not pool["pool_closed"]:
        return "The pool's pay period is not closed yet."
    eligible, paid = pool["workers_eligible"], pool["workers_paid"]
    if paid == 0:
        if not eligible:
            return "No worker was eligible: none of the funded premium reached a pay stub."
        return (f"Paid 0 of {eligible} eligible worker{'s' if eligible != 1 else ''}: {dollars(0)} of the funded "
                "premium reached pay stubs.")
    few = privacy.MIN_WORKERS
    if paid is None:  # 1 to 4 paid
        who = (f"{eligible} eligible workers, fewer than {few} paid" if eligible is not None
               else f"Fewer than {few} workers eligible and paid")
        return f"{who}: what reached pay stubs is withheld, as it would be their pay."
    counted = f"{paid} of {eligible if eligible is not None else f'fewer than {few}'} eligible workers were paid"
    if pool["pct_funded_on_stubs"] is not None:
        return f"{counted}; {pool['pct_funded_on_stubs']}% of the funded premium reached pay stubs."
    return f"{counted}; what reached pay stubs is {pool['workers_note'] or privacy.WITHHELD}."


def figures(con: duckdb.DuckDBPyConnection, buyer: str, month: str, disclosed: "Disclosures | None" = None) -> dict:
    """The statement's figures for one buyer and month, from the published tables. ``disclosed``:
    the states of pools shown before (``Disclosures``); none when not given."""
    party = con.execute("SELECT name FROM ref_parties WHERE party_id = ? AND party_type = 'buyer'", [buyer]).fetchone()
    if party is None:
        raise NotConfirmable(f"no buyer {buyer!r} in parties.csv")
    closed = published_months(con)
    if month not in closed:
        raise NotConfirmable(f"month {month} has not been closed, so it cannot be confirmed "
                             f"(closed months: {', '.join(closed) or 'none'})")
    p = {"b": buyer, "m": month}
    invoices = _rows(con, """
        SELECT i.invoice_id, i.owed_cents, i.billed_cents, i.paid_by_buyer_cents, i.balance_cents, i.status,
               coalesce((SELECT sum(held_cents) FROM pass_through_audit t WHERE t.buyer_id = i.buyer_id
                         AND t.invoice_id = i.invoice_id), 0)::BIGINT AS held_by_intermediaries_cents,
               coalesce((SELECT sum(received_cents) FROM invoice_grower_audit g WHERE g.buyer_id = i.buyer_id
                         AND g.invoice_id = i.invoice_id), 0)::BIGINT AS received_by_growers_cents,
               coalesce((SELECT sum(amount_cents) FROM payment_audit a WHERE a.buyer_id = i.buyer_id
                         AND a.invoice_id = i.invoice_id
                         AND (a.payee_type = 'buyer' OR (a.payee_type = 'grower' AND NOT a.payee_on_invoice))),
                        0)::BIGINT AS misdirected_cents,
               coalesce((SELECT sum(amount_cents) FROM payment_audit a WHERE a.buyer_id = i.buyer_id
                         AND a.invoice_id = i.invoice_id AND a.payer_id <> a.buyer_id
                         AND a.payer_type <> 'intermediary'), 0)::BIGINT AS paid_by_others_cents
        FROM invoice_audit i WHERE i.buyer_id = $b AND i.month = $m ORDER BY i.invoice_id""", p)
    for inv in invoices:
        inv["what_happened"] = _invoice_words(inv)
    intermediaries = _rows(con, """
        SELECT t.invoice_id, t.intermediary_id, coalesce(p.name, t.intermediary_id) AS intermediary_name,
               t.received_cents, t.paid_on_cents, t.held_cents
        FROM pass_through_audit t JOIN invoice_audit i USING (buyer_id, invoice_id)
        LEFT JOIN ref_parties p ON p.party_id = t.intermediary_id
        WHERE t.buyer_id = $b AND i.month = $m ORDER BY t.invoice_id, t.intermediary_id""", p)
    lines = _rows(con, """
        WITH vol AS (
            SELECT invoice_id, grower_id, commodity, unit, sum(quantity) AS quantity
            FROM invoice_line_audit WHERE buyer_id = $b AND month = $m GROUP BY ALL)
        SELECT g.invoice_id, g.grower_id, coalesce(p.name, g.grower_id) AS grower_name, v.commodity,
               v.quantity, v.unit, g.owed_cents AS owed_to_grower_cents,
               g.received_cents AS received_by_grower_cents
        FROM invoice_grower_audit g
        JOIN vol v USING (invoice_id, grower_id)
        LEFT JOIN ref_parties p ON p.party_id = g.grower_id
        WHERE g.buyer_id = $b AND g.month = $m ORDER BY g.invoice_id, g.grower_id, v.commodity, v.unit""", p)
    invoice_lines = _invoice_lines(con, buyer, month)
    confirmed = _volume_confirmation(con, buyer, month)
    for line in lines:
        line["quantity"] = f"{line['quantity'].normalize():f}"
        line["unit_in_words"] = unit_words(con, line["unit"])
        line["volume_confirmed_by_seller"] = confirmed.get((line["invoice_id"], line["grower_id"]),
                                                           "not checked: no seller report is kept")
    pools = _rows(con, """
        WITH fed AS (
            SELECT DISTINCT grower_id, work_period_start AS period_start FROM invoice_line_audit
            WHERE buyer_id = $b AND month = $m),
        paid AS (
            SELECT a.grower_id, a.period_start,
                   count(*) FILTER (WHERE a.paid_cents > 0 AND a.status <> 'PAID_WITHOUT_WORK') AS workers_paid,
                   count(*) FILTER (WHERE a.paid_cents <> 0) AS with_amounts
            FROM worker_audit a JOIN fed USING (grower_id, period_start) GROUP BY ALL)
        SELECT f.grower_id, coalesce(g.name, f.grower_id) AS grower_name, f.period_start, pa.period_end,
               pa.month AS pool_month, pa.funded_cents, pa.distributed_cents, pa.eligible_workers,
               coalesce(pd.workers_paid, 0) AS workers_paid, coalesce(pd.with_amounts, 0) AS with_amounts
        FROM fed f
        LEFT JOIN pool_audit pa USING (grower_id, period_start)
        LEFT JOIN paid pd USING (grower_id, period_start)
        LEFT JOIN ref_parties g ON g.party_id = f.grower_id
        ORDER BY f.grower_id, f.period_start""", p)
    pay: dict[tuple, list] = {}
    for grower, start, worker, cents in con.execute("""
            SELECT a.grower_id, a.period_start, a.worker_id, a.paid_cents FROM worker_audit a
            JOIN (SELECT DISTINCT grower_id, work_period_start AS period_start FROM invoice_line_audit
                  WHERE buyer_id = $b AND month = $m) USING (grower_id, period_start)
            WHERE a.paid_cents <> 0""", p).fetchall():
        pay.setdefault((grower, start.isoformat()), []).append((worker, cents))
    disclosed = disclosed if disclosed is not None else Disclosures(None)
    shown_pools = []
    for pool in pools:
        closed_pool = pool["pool_month"] is not None
        row = {"grower_id": pool["grower_id"], "grower_name": pool["grower_name"],
               "period_start": pool["period_start"].isoformat(), "pool_closed": closed_pool}
        if closed_pool:
            key = (pool["grower_id"], row["period_start"])
            fig = disclosed.pool_figures(key, pool, pay.get(key, []))
            row.update({"period_end": pool["period_end"].isoformat(), "funded_cents": pool["funded_cents"],
                        "workers_eligible": fig.workers_eligible, "workers_paid": fig.workers_paid,
                        "pct_funded_on_stubs": fig.pct_funded_on_stubs, "workers_note": fig.note})
        row["in_words"] = pool_words(row)
        shown_pools.append(row)
    payments = _rows(con, """
        SELECT payment_id, line_no, paid_date, invoice_id, invoice_month,
               CASE WHEN payee_type = 'buyer' THEN '' ELSE payee_id END AS payee_id,
               CASE WHEN payee_type = 'buyer' THEN 'a buyer (not a grower or an intermediary)'
                    ELSE coalesce(p.name, payee_id) END AS payee_name, amount_cents
        FROM payment_audit a LEFT JOIN ref_parties p ON p.party_id = a.payee_id
        WHERE a.payer_id = $b AND a.month = $m AND a.buyer_id = $b ORDER BY paid_date, payment_id, line_no""", p)
    for pay in payments:
        pay["paid_date"] = pay["paid_date"].isoformat()
    if not invoices and not payments:
        raise NotConfirmable(f"buyer {buyer} has no invoice in {month} and made no premium payment in it")
    currencies = sorted({c for (c,) in con.execute(
        "SELECT DISTINCT pr.currency FROM invoice_grower_audit g JOIN ref_programs pr USING (program_id) "
        "WHERE g.buyer_id = $b AND g.month = $m", p).fetchall()}) or ["USD"]
    signed = latest_signoff(con, month)
    totals = {k: sum(i[k] for i in invoices) for k in (
        "owed_cents", "paid_by_buyer_cents", "balance_cents", "held_by_intermediaries_cents",
        "received_by_growers_cents", "misdirected_cents", "paid_by_others_cents")}
    totals["paid_this_month_cents"] = sum(x["amount_cents"] for x in payments)
    return {
        "format": st.FORMAT, "kind": "invoices" if invoices else "nil",
        "buyer_id": buyer, "buyer_name": party[0], "month": month,
        "currency": ", ".join(currencies),
        "month_status": month_status(con, month),
        "month_signed_at": signed[1].strftime("%Y-%m-%dT%H:%M:%SZ") if signed else None,
        "invoices": invoices, "intermediaries": intermediaries, "grower_lines": lines, "invoice_lines": invoice_lines,
        "pools": shown_pools,
        "payments_made_this_month": payments, "totals": totals,
    }


def figures_sha256(content: dict) -> str:
    return hashlib.sha256(st.canonical({k: v for k, v in content.items() if k not in ISSUE_MEMBERS})).hexdigest()


# what changed between two versions, in words -------------------------------------------------

STATUS_CHANGE = {"signed": "The month's close is now signed off by the program's accountant.",
                 "needs re-sign-off": "The month's figures changed since they were signed off; a new sign-off is "
                                      "awaited.",
                 "open": "The month's close is not signed off."}
# the sections of a statement: their name in words, how an item is told apart, how it is named
SECTIONS = {
    "invoices": (("invoice_id",), lambda r: f"Invoice {r['invoice_id']}"),
    "intermediaries": (("invoice_id", "intermediary_id"),
                       lambda r: f"Invoice {r['invoice_id']}, intermediary {r['intermediary_name']} "
                                 f"({r['intermediary_id']})"),
    "grower_lines": (("invoice_id", "grower_id", "commodity", "unit"),
                     lambda r: f"Invoice {r['invoice_id']}, {r['commodity']} from {r['grower_name']} "
                               f"({r['grower_id']})"),
    "invoice_lines": (("invoice_id", "line_no"), lambda r: f"Invoice {r['invoice_id']}, line {r['line_no']}"),
    "pools": (("grower_id", "period_start"),
              lambda r: f"Pool of {r['grower_name']} ({r['grower_id']}) for the pay period from {r['period_start']}"),
    "payments_made_this_month": (("payment_id", "line_no"), lambda r: f"Your payment {r['payment_id']}/{r['line_no']}"),
}
FIELD_WORDS = {
    "owed_cents": "premium owed", "billed_cents": "premium billed", "paid_by_buyer_cents": "paid by you",
    "balance_cents": "still owed", "status": "status", "held_by_intermediaries_cents": "held by intermediaries",
    "received_by_growers_cents": "received by the growers",
    "misdirected_cents": "paid to parties that grew nothing on it", "paid_by_others_cents": "paid by other parties",
    "received_cents": "received", "paid_on_cents": "passed on to growers", "held_cents": "held",
    "quantity": "volume", "owed_to_grower_cents": "owed to the grower",
    "received_by_grower_cents": "received by the grower",
    "volume_confirmed_by_seller": "whether the seller confirmed the volume", "seller_id": "seller",
    "grower_id": "grower",
    "commodity": "product", "unit": "unit", "period_end": "end of the pay period", "pool_closed": "pay period closed",
    "funded_cents": "funded to the pool", "workers_eligible": "eligible workers",
    "workers_paid": "workers paid premium",
    "pct_funded_on_stubs": "share of the funded premium on pay stubs",
    "paid_date": "date paid", "invoice_month": "month of the invoice", "payee_name": "paid to",
    "amount_cents": "amount", "paid_this_month_cents": "premium payments you made in the month",
    "buyer_name": "your name in the program's records", "currency": "currency",
}
# members whose change another member already says in words, or that only restate one
SAID_ELSEWHERE = {"what_happened", "in_words", "workers_note", "handshake", "seller_confirmed", "unit_in_words",
                  "payee_id", "intermediary_name", "grower_name", "format", "buyer_id", "month", "kind"}
WORKER_FIGURES = {"workers_eligible", "workers_paid", "pct_funded_on_stubs"}


def _value_words(field: str, value: object) -> str:
    if value is None:
        return "withheld" if field in WORKER_FIGURES else "none"
    if field.endswith("_cents") and isinstance(value, int):
        return dollars(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field == "pct_funded_on_stubs":
        return f"{value}%"
    return str(value)


def _differences(label: str, before: dict, after: dict) -> list[str]:
    said = []
    for field in [k for k in after if k in FIELD_WORDS] + [k for k in before if k in FIELD_WORDS and k not in after]:
        if field in SAID_ELSEWHERE or before.get(field) == after.get(field):
            continue
        said.append(f"{FIELD_WORDS[field]} {_value_words(field, before.get(field))} → "
                    f"{_value_words(field, after.get(field))}")
    return [f"{label}: {'; '.join(said)}."] if said else []


def _summary(section: str, row: dict) -> str:
    if section == "pools":
        return row.get("in_words") or ""
    shown = [f"{FIELD_WORDS[k]} {_value_words(k, v)}" for k, v in row.items()
             if k in FIELD_WORDS and k not in SAID_ELSEWHERE and k.endswith("_cents")]
    return "; ".join(shown)


def changes(before: dict, after: dict, limit: int = 50) -> list[str]:
    """What differs between two statements' figures, in sentences (at most ``limit``): no
    member name of the statement, every amount in dollars, worker figures as shown."""
    out = []
    if before.get("month_status") in ("signed", "needs re-sign-off") and after.get("month_status") == "open":
        out.append("The month's sign-off was revoked: the month is not signed off now.")
    elif before.get("month_status") != after.get("month_status"):
        status = after.get("month_status")
        out.append(STATUS_CHANGE.get(status, f"The month's close is now {status}."))
    elif before.get("month_signed_at") != after.get("month_signed_at") and after.get("month_signed_at"):
        out.append(f"The month was signed off again, at {after['month_signed_at'].replace('T', ' ').rstrip('Z')} UTC.")
    if before.get("kind") != after.get("kind"):
        out.append("The month now has invoices of yours." if after.get("kind") == "invoices"
                   else "No invoice of yours is in the month any longer: this is a statement of your payments only.")
    out += _differences("Your details", before, {k: after.get(k) for k in ("buyer_name", "currency")})
    for section, (key, name) in SECTIONS.items():
        old = {tuple(r.get(k) for k in key): r for r in before.get(section) or []}
        new = {tuple(r.get(k) for k in key): r for r in after.get(section) or []}
        for k in sorted(set(old) | set(new), key=lambda t: tuple("" if v is None else str(v) for v in t)):
            if k not in old:
                out.append(f"New: {name(new[k])}" + (f" ({_summary(section, new[k])})" if _summary(section, new[k])
                                                     else "") + ".")
            elif k not in new:
                out.append(f"No longer on the statement: {name(old[k])}.")
            else:
                lines = _differences(name(new[k]), old[k], new[k])
                note = new[k].get("workers_note")
                if lines and section == "pools" and note and note != old[k].get("workers_note"):
                    lines[-1] = f"{lines[-1][:-1]} ({note.removeprefix('withheld: ')})."
                out += lines
    out += _differences("Totals of the month", before.get("totals") or {}, after.get("totals") or {})
    if not out:  # only words that say the same figures (a newer release of the program)
        out.append("No figure changed: only the words that explain them did.")
    return out[:limit] + ([f"… and {len(out) - limit} more changes."] if len(out) > limit else [])


# --- what was shown before ---------------------------------------------------------------------

LEDGER = ".disclosed-pools"  # JSON; not named *.json, which is a statement


class Disclosures:
    """The states of each pool whose worker figures were shown in any buyer's statement of the
    home (``privacy.pool_state``: digests, no id or amount in clear), kept in
    ``HOME/confirmations/.disclosed-pools`` (readable by its owner only), so that no two shown
    states of a pool differ by the pay of fewer than ``privacy.MIN_WORKERS`` workers.
    ``Disclosures(None)`` remembers nothing (figures read without issuing)."""

    def __init__(self, path: Path | None):
        self.path = path
        self.shown: dict[str, list[dict]] = {}
        if path is not None and path.is_file():
            self.shown = json.loads(path.read_text(encoding="utf-8"))
        self.pending: list[tuple[str, dict]] = []

    @staticmethod
    def _key(pool: tuple[str, str]) -> str:
        return hashlib.sha256("\x00".join(pool).encode()).hexdigest()[:32]

    def pool_figures(self, pool: tuple[str, str], audit: dict, pay: list[tuple[str, int]]) -> privacy.PoolFigures:
        """The figures of a pool a buyer may read now (``privacy.pool_figures``) against what was shown."""
        key, state = self._key(pool), privacy.pool_state(pay)
        fig = privacy.pool_figures(audit["eligible_workers"], audit["workers_paid"], audit["funded_cents"],
                                   audit["distributed_cents"], audit["with_amounts"],
                                   privacy.changed_workers(state, self.shown.get(key, [])))
        if fig.pct_funded_on_stubs is not None:
            self.pending.append((key, state))
        return fig

    def record(self) -> None:
        """Remember the states whose figures the statement just issued shows."""
        if self.path is None or not self.pending:
            return
        for key, state in self.pending:
            if state not in self.shown.setdefault(key, []):
                self.shown[key].append(state)
        self.pending = []
        data = json.dumps(self.shown, sort_keys=True, separators=(",", ":")).encode("utf-8")
        tmp = self.path.with_name(self.path.name + ".partial")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)


# --- what was issued ----------------------------------------------------------------------------

def versions(folder: Path, month: str) -> list[int]:
    """The versions of the month's statement in ``folder``, ascending."""
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        m = VERSION_FILE.match(p.name)
        if m and m["month"] == month:
            found.append(int(m["v"]))
    return sorted(found)


def stem(month: str, version: int) -> str:
    return f"confirmation-{month}-v{version}"


def buyers_of_month(con: duckdb.DuckDBPyConnection, month: str) -> list[str]:
    """Buyers with an invoice in the month, or that paid premium in it (a nil statement)."""
    return [b for (b,) in con.execute("""
        SELECT buyer_id FROM invoice_audit WHERE month = $m
        UNION SELECT payer_id FROM payment_audit WHERE month = $m AND payer_id = buyer_id AND payer_type = 'buyer'
        ORDER BY 1""", {"m": month}).fetchall()]


def latest(home: Path, buyer: str, month: str) -> Issued | None:
    """The latest issued version of a buyer's month, or None (for a web route: no path from input)."""
    folder = buyer_folder(home, buyer)
    have = versions(folder, month)
    if not have:
        return None
    s = stem(month, have[-1])
    return Issued(folder, have[-1], folder / f"{s}.pdf", folder / f"{s}.csv", folder / f"{s}.json", False)


def buyer_of_folder(folder: Path) -> str | None:
    """The buyer whose confirmations a folder holds (read from its statements, and only if the
    folder is that buyer's own), or None."""
    for p in sorted(folder.iterdir()):
        if VERSION_FILE.match(p.name) and p.is_file():
            try:
                buyer = st.parse(p.read_bytes())[0].get("buyer_id")
            except (st.StatementError, OSError):
                continue
            if isinstance(buyer, str) and party_folder(folder.parent, buyer) == folder:
                return buyer
    return None


# --- verifying ---------------------------------------------------------------------------------

def trusted_keys(public_key_file: Path | None = None, trust_list: Path | None = None) -> dict:
    """The keys the reader chose: a public key file, else a trust list (given, or the reader's own)."""
    if public_key_file is not None:
        return keys.load_public_keys(public_key_file.read_bytes(), str(public_key_file))
    target = trust_list or keys.trust_file()
    if not target.exists():
        raise keys.KeyProblem(f"no key to verify against: pass --public-key FILE (the program's public key, from "
                              f"a source you trust) or keep a trust list ({target}; `pennytrail keys trust`)")
    return keys.load_public_keys(target.read_bytes(), str(target))


def verify_bytes(data: bytes, trusted: dict, companions: dict[str, bytes]) -> list[st.Check]:
    """Verify a statement's bytes against the given public keys (by fingerprint) and the bytes of
    the files issued with it (by name). For a web route: nothing is read from disk."""
    return st.verify(data, keys.verifiers(trusted), companions.get)


def verify_file(path: Path, trusted: dict) -> tuple[list[st.Check], list[str]]:
    """Verify a statement file and the files beside it that it names; also notes (a later
    version beside it supersedes this one)."""
    data = path.read_bytes()
    folder = path.parent

    def companion(name: str) -> bytes | None:
        p = folder / name
        return p.read_bytes() if p.is_file() else None

    checks = st.verify(data, keys.verifiers(trusted), companion)
    notes = []
    m = VERSION_FILE.match(path.name)
    if m:
        later = [v for v in versions(folder, m["month"]) if v > int(m["v"])]
        if later:
            notes.append(f"superseded: version {later[-1]} of this month's statement is beside it "
                         f"({stem(m['month'], later[-1])}.json)")
    return checks, notes
