"""Tracing premium for monitors: from a worker, a grower or an invoice to the source rows.

Each trace returns tables (``pennytrail.core.tables.Table``); the first is the main one. Every figure
can be followed to the rows of the files it came from, in the *Source rows* table: which
payroll rows give a worker's basis and paid premium, which purchase lines make a pool's
entitlement, which payment lines funded it.

"Where the money stopped" names, for each shortfall, who holds it:
- a **buyer** that paid less than it owed on an invoice feeding the pool;
- an **intermediary** that received premium for the invoice and did not pass it all on;
- the **grower**, for funded premium that is not on the worker's pay stubs (or premium paid
  for a period with no recorded work).

Everything comes from the published output tables (docs/rules.md), never from the
reconciliation's working tables: a trace of a month shows what was published for it, however
many files have arrived since, and a month not closed yet shows nothing. A pool's invoices and
source rows are published under the pool's month (``pool_invoice_audit``,
``pool_source_audit``); an invoice's lines, growers and intermediaries under the invoice's
month, its payment lines under the month each was paid in and its handshake lines under each
line's ship month.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import duckdb

import data_contracts

from .money import dollars
from .publish import published_months, published_through
from .tables import Column, Table

M = "money"
SOURCE_COLUMNS = [
    Column("ref", "For", width=24), Column("figure", "Figure", width=12), Column("kind", "Kind", width=10),
    Column("file", "File", width=44), Column("sheet", "Sheet", width=10), Column("row", "Row", "int", 8),
]


class NotFound(LookupError):
    """Nothing in the warehouse matches what was asked for."""


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict | list | None = None) -> list[dict]:
    cur = con.execute(sql, params or {})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _sources(con, ref: str, figure: str, kind: str, sql: str, params: dict) -> list[dict]:
    return [{"ref": ref, "figure": figure, "kind": kind, "file": f, "sheet": s, "row": r}
            for f, s, r in con.execute(sql, params).fetchall()]


def _source_text(sources: list[dict]) -> str:
    return "; ".join(f"{s['figure']}: {s['file']}{'[' + s['sheet'] + ']' if s['sheet'] else ''}#{s['row']}"
                     for s in sources)


POOL_LINES = """SELECT file, sheet, row_number FROM pool_source_audit WHERE grower_id = $g AND period_start = $p
                AND kind = 'purchases' ORDER BY file, row_number"""
POOL_PAYMENTS = """SELECT DISTINCT file, sheet, row_number FROM pool_source_audit WHERE grower_id = $g
                   AND period_start = $p AND kind = 'payments' ORDER BY 1, 3"""


def not_closed(month: str, closed: list[str]) -> str:
    return (f"{month} is not closed yet: nothing is published for it (closed months: "
            f"{', '.join(closed) or 'none'})")


def workers_short(grower: str, period_start: str) -> str:
    """SQL: how many audited workers of the pool (grower, period_start) got less than their funded share."""
    return (f"(SELECT count(*) FROM worker_audit a WHERE a.grower_id = {grower} AND a.period_start = {period_start} "
            "AND a.paid_cents < a.funded_cents)")


def pool_stops(con: duckdb.DuckDBPyConnection, grower: str, period_start: dt.date) -> list[str]:
    """Who holds premium owed for the pool (grower, period) that never reached the grower."""
    params = {"g": grower, "p": period_start}
    stops = []
    invoices = _rows(con, """
        SELECT ig.buyer_id, ig.invoice_id, ig.owed_cents, ig.received_cents, ia.balance_cents
        FROM pool_invoice_audit l
        JOIN invoice_grower_audit ig ON ig.buyer_id = l.buyer_id AND ig.invoice_id = l.invoice_id AND ig.grower_id = $g
        JOIN invoice_audit ia ON ia.buyer_id = l.buyer_id AND ia.invoice_id = l.invoice_id
        WHERE l.grower_id = $g AND l.period_start = $p AND ig.received_cents < ig.owed_cents ORDER BY 1, 2""",
        params)
    for inv in invoices:
        ref = f"{inv['buyer_id']}/{inv['invoice_id']}"
        found = False
        if inv["balance_cents"] > 0:
            stops.append(f"buyer {inv['buyer_id']} underpaid {ref} by {dollars(inv['balance_cents'])}")
            found = True
        for k, held in con.execute("SELECT intermediary_id, held_cents FROM pass_through_audit WHERE buyer_id = ? "
                                   "AND invoice_id = ? AND held_cents > 0 ORDER BY 1",
                                   [inv["buyer_id"], inv["invoice_id"]]).fetchall():
            stops.append(f"intermediary {k} holds {dollars(held)} of {ref}")
            found = True
        if not found:
            stops.append(f"{ref}: grower received {dollars(inv['received_cents'])} of "
                         f"{dollars(inv['owed_cents'])} owed (paid elsewhere)")
    return stops


# --- worker -----------------------------------------------------------------------------------

WORKER_COLUMNS = [
    Column("grower_id", "Grower", width=10), Column("worker_id", "Worker", width=14),
    Column("period_start", "Period start", "date", 12), Column("period_end", "Period end", "date", 12),
    Column("pool_funded_cents", "Pool funded", M, 14), Column("basis_value", "Basis", "decimal", 10),
    Column("entitled_cents", "Entitled", M, 12), Column("funded_cents", "Funded", M, 12),
    Column("paid_cents", "Paid", M, 12), Column("variance_cents", "Variance", M, 12),
    Column("status", "Status", width=18), Column("late", "Late", "bool", 6), Column("overdue", "Overdue", "bool", 8),
    Column("stopped_at", "Where the money stopped", width=60), Column("sources", "Source rows", width=80),
]


def published_names_sql(con: duckdb.DuckDBPyConnection) -> str:
    """SQL of the published workers' names: (grower_id, worker_id, worker_name) of every payroll
    row of a worker with a published audit row, from the files published (``published_rows_sql``)."""
    return (f"SELECT r.grower_id, r.worker_id, r.worker_name FROM ({published_rows_sql(con)}) r "
            "SEMI JOIN worker_audit a ON a.grower_id = r.grower_id AND a.worker_id = r.worker_id")


def published_rows_sql(con: duckdb.DuckDBPyConnection) -> str:
    """SQL of the payroll rows of the files any published month was made from (every file, for a
    warehouse whose months were published before this was recorded)."""
    through = published_through(con)
    if not through:
        return "SELECT * FROM payroll_rows"
    return f"SELECT * FROM payroll_rows WHERE file_seq <= {max(through.values())}"


def find_workers(con: duckdb.DuckDBPyConnection, worker_id: str | None, name: str | None,
                 grower: str | None) -> tuple[list[tuple[str, str]], str]:
    """(grower, worker id) pairs for an id or a name, and how they were found, from what was
    published: a worker with a published pay period, found by id or by a name on the payroll
    rows of the files published. An id that no published worker has is tried as a name: a
    complaint may give a name where an id was asked for."""
    g = "AND grower_id = $g" if grower else ""
    params: dict = {"g": grower} if grower else {}
    if worker_id is not None:
        found = con.execute(f"SELECT DISTINCT grower_id, worker_id FROM worker_audit WHERE worker_id = $w {g} "
                            f"ORDER BY 1, 2", {**params, "w": worker_id}).fetchall()
        if found:
            return found, f"worker id {worker_id}"
        name = name if name is not None else worker_id
    norm = "lower(regexp_replace(trim(strip_accents({})), '\\s+', ' ', 'g'))"
    params["n"] = name
    names = published_names_sql(con)
    found = con.execute(f"SELECT DISTINCT grower_id, worker_id FROM ({names}) WHERE {norm.format('worker_name')} "
                        f"= {norm.format('$n')} {g} ORDER BY 1, 2", params).fetchall()
    if found:
        return found, f"name {name!r}"
    found = con.execute(f"SELECT DISTINCT grower_id, worker_id FROM ({names}) WHERE contains("
                        f"{norm.format('worker_name')}, {norm.format('$n')}) {g} ORDER BY 1, 2", params).fetchall()
    if not found and worker_id is not None:
        return found, f"id or name {worker_id!r}"
    return found, f"name containing {name!r}"


def worker_found(con: duckdb.DuckDBPyConnection, worker_id: str | None = None, name: str | None = None,
                 grower: str | None = None) -> tuple[list[tuple[str, str]], str, dict[tuple[str, str], list[str]]]:
    """The workers an id or a name finds (``find_workers``), how they were found and the names on
    each one's stubs in the files published; ``NotFound`` when none is."""
    who, how = find_workers(con, worker_id, name, grower)
    if not who:
        raise NotFound(f"no worker with {how}" + (f" at grower {grower}" if grower else "")
                       + " in any payroll file")
    published = published_rows_sql(con)
    names = {(g, w): [r[0] for r in con.execute(f"SELECT DISTINCT worker_name FROM ({published}) WHERE grower_id = ? "
                                                "AND worker_id = ? AND worker_name IS NOT NULL ORDER BY 1",
                                                [g, w]).fetchall()] for g, w in who}
    return who, how, names


FOREVER = 2**62  # a month published before its last file was recorded: every file
PAYROLL_KEY = ", ".join(f"r.{c}" for c in data_contracts.load("payroll")["key"])
# the worker's payroll rows as each of its published months saw them: of the files up to the
# month's last one when it was published, the latest version of each row
PUBLISHED_PAYROLL = """
    SELECT m.month, r.period_start, r.premium_period_start, r.premium_paid_cents, r.file, r.sheet, r.row_number
    FROM payroll_rows r
    JOIN (SELECT unnest($months) AS month, unnest($through) AS through) m ON r.file_seq <= m.through
    WHERE r.grower_id = $g AND r.worker_id = $w
    QUALIFY row_number() OVER (PARTITION BY m.month, {key} ORDER BY r.file_seq DESC) = 1
    ORDER BY r.file, r.row_number"""


def _by_period(found: list[tuple]) -> dict:
    """(period, file, sheet, row) rows, in their order, as period → [(file, sheet, row), ...]."""
    out: dict = {}
    for p, *source in found:
        out.setdefault(p, []).append(tuple(source))
    return out


def trace_found(con: duckdb.DuckDBPyConnection, who: list[tuple[str, str]], how: str,
                names: dict[tuple[str, str], list[str]], date_from: dt.date | None = None,
                date_to: dt.date | None = None) -> tuple[list[str], list[Table]]:
    """The trace of workers already found (``who``: (grower, worker id) pairs, found by ``how``;
    ``names``: the names on each one's stubs). The source rows of all of a worker's periods are
    read in one query per kind, not one per period."""
    notes = [f"Trace of {how}: " + ", ".join(f"{w} at {g}" for g, w in who)]
    for g, w in who:
        notes.append(f"Names on {w}'s stubs at {g}: " + ("; ".join(names.get((g, w)) or []) or "none recorded"))
    main = Table("Pay periods", WORKER_COLUMNS)
    sources = Table("Source rows", SOURCE_COLUMNS)
    stops_cache: dict[tuple, list[str]] = {}
    pools: dict[str, tuple[dict, dict]] = {}
    through = published_through(con)
    for g, w in who:
        rows = _rows(con, """
            SELECT a.month, a.grower_id, a.worker_id, a.period_start, a.period_end, p.funded_cents AS pool_funded_cents,
                   a.basis_value, a.entitled_cents, a.funded_cents, a.paid_cents, a.variance_cents,
                   a.upstream_shortfall_cents, a.status, a.late, a.overdue
            FROM worker_audit a LEFT JOIN pool_audit p USING (grower_id, period_start)
            WHERE a.grower_id = $g AND a.worker_id = $w
              AND a.period_end >= coalesce($f, DATE '0001-01-01') AND a.period_start <= coalesce($t, DATE '9999-12-31')
            ORDER BY a.period_start""", {"g": g, "w": w, "f": date_from, "t": date_to})
        if not rows:
            continue
        basis, paid = {}, {}
        for month, p, pp, cents, *source in con.execute(PUBLISHED_PAYROLL.format(key=PAYROLL_KEY), {
                "g": g, "w": w, "months": sorted({r["month"] for r in rows}),
                "through": [through.get(m, FOREVER) for m in sorted({r["month"] for r in rows})]}).fetchall():
            basis.setdefault((month, p), []).append(tuple(source))
            if cents is not None and cents != 0 and pp is not None:
                paid.setdefault((month, pp), []).append(tuple(source))
        if g not in pools:
            pools[g] = (
                _by_period(con.execute("SELECT period_start, file, sheet, row_number FROM pool_source_audit "
                                       "WHERE grower_id = $g AND kind = 'purchases' ORDER BY 1, file, row_number",
                                       {"g": g}).fetchall()),
                _by_period(con.execute("SELECT DISTINCT period_start, file, sheet, row_number FROM pool_source_audit "
                                       "WHERE grower_id = $g AND kind = 'payments' ORDER BY 1, 2, 4",
                                       {"g": g}).fetchall()))
        lines, payments = pools[g]
        for row in rows:
            p = row["period_start"]
            ref = f"{g}/{w}/{p}"
            src = [{"ref": ref, "figure": figure, "kind": kind, "file": f, "sheet": s, "row": r}
                   for figure, kind, found, at in (("basis", "payroll", basis, (row["month"], p)),
                                                   ("paid", "payroll", paid, (row["month"], p)),
                                                   ("entitled", "purchases", lines, p),
                                                   ("funded", "payments", payments, p))
                   for f, s, r in found.get(at, [])]
            stopped = []
            if row["upstream_shortfall_cents"] > 0:
                if (g, p) not in stops_cache:
                    stops_cache[(g, p)] = pool_stops(con, g, p)
                stopped += stops_cache[(g, p)]
            if row["status"] == "PAID_WITHOUT_WORK":
                stopped.append(f"grower {g} paid {dollars(row['paid_cents'])} of premium for a period "
                               "with no recorded work")
            elif row["paid_cents"] < row["funded_cents"]:
                stopped.append(f"grower {g}: {dollars(row['funded_cents'] - row['paid_cents'])} of the funded "
                               "share is not on the pay stubs")
            if not stopped:
                stopped.append("reached the pay stub" if row["paid_cents"] > 0 else "nothing was owed")
            row["stopped_at"] = "; ".join(stopped)
            row["sources"] = _source_text(src)
            del row["month"]
            main.rows.append(row)
            sources.rows += src
    closed = published_months(con)
    waiting = sorted({m for (m,) in con.execute(
        "SELECT DISTINCT strftime(period_end, '%Y-%m') FROM payroll WHERE list_contains($who, [grower_id, worker_id]) "
        "AND period_end >= coalesce($f, DATE '0001-01-01') AND period_start <= coalesce($t, DATE '9999-12-31')",
        {"who": [list(x) for x in who], "f": date_from, "t": date_to}).fetchall()} - set(closed))
    if waiting:
        notes.append(f"Not closed yet, so not shown: {', '.join(waiting)} (nothing is published for "
                     f"{'them' if len(waiting) > 1 else 'it'})")
    if not main.rows:
        notes.append("No published pay period in the range asked for.")
    return notes, [main, sources]


# --- grower -----------------------------------------------------------------------------------

POOL_COLUMNS = [
    Column("grower_id", "Grower", width=10), Column("period_start", "Period start", "date", 12),
    Column("period_end", "Period end", "date", 12), Column("entitled_cents", "Entitled", M, 14),
    Column("funded_cents", "Funded", M, 14), Column("retained_cents", "Retained", M, 12),
    Column("distributed_cents", "Distributed", M, 14), Column("undistributed_cents", "Undistributed", M, 14),
    Column("eligible_workers", "Eligible", "int", 9), Column("workers_short", "Workers short", "int", 9),
    Column("due_date", "Due", "date", 12), Column("stopped_at", "Where the money stopped", width=60),
    Column("sources", "Source rows", width=80),
]
GROWER_INVOICE_COLUMNS = [
    Column("buyer_id", "Buyer", width=8), Column("invoice_id", "Invoice", width=16),
    Column("period_start", "Period start", "date", 12), Column("entitled_cents", "Entitled share", M, 14),
    Column("funded_cents", "Funded share", M, 14), Column("invoice_status", "Buyer payment status", width=16),
]
GROWER_WORKER_COLUMNS = [
    Column("worker_id", "Worker", width=14), Column("period_start", "Period start", "date", 12),
    Column("entitled_cents", "Entitled", M, 12), Column("funded_cents", "Funded", M, 12),
    Column("paid_cents", "Paid", M, 12), Column("variance_cents", "Variance", M, 12),
    Column("status", "Status", width=18), Column("late", "Late", "bool", 6), Column("overdue", "Overdue", "bool", 8),
]


def trace_grower(con: duckdb.DuckDBPyConnection, grower: str, month: str) -> tuple[list[str], list[Table]]:
    name = con.execute("SELECT name FROM ref_parties WHERE party_id = ? AND party_type = 'grower'",
                       [grower]).fetchone()
    if name is None:
        raise NotFound(f"no grower {grower} in parties.csv")
    closed = published_months(con)
    if month not in closed:
        raise NotFound(not_closed(month, closed))
    pools = Table("Pools", POOL_COLUMNS, _rows(con, f"""
        SELECT p.*, {workers_short("p.grower_id", "p.period_start")} AS workers_short
        FROM pool_audit p WHERE grower_id = $g AND month = $m ORDER BY period_start""", {"g": grower, "m": month}))
    if not pools.rows:
        raise NotFound(f"grower {grower} has no pool in {month}")
    sources = Table("Source rows", SOURCE_COLUMNS)
    for row in pools.rows:
        p = row["period_start"]
        ref = f"{grower}/{p}"
        src = (_sources(con, ref, "entitled", "purchases", POOL_LINES, {"g": grower, "p": p})
               + _sources(con, ref, "funded", "payments", POOL_PAYMENTS, {"g": grower, "p": p}))
        stopped = pool_stops(con, grower, p) if row["funded_cents"] < row["entitled_cents"] else []
        if row["undistributed_cents"] > 0:
            stopped.append(f"grower {grower}: {dollars(row['undistributed_cents'])} funded but not on pay stubs")
        row["stopped_at"] = "; ".join(stopped) or "fully distributed"
        row["sources"] = _source_text(src)
        sources.rows += src
    invoices = Table("Invoices", GROWER_INVOICE_COLUMNS, _rows(con, """
        SELECT s.buyer_id, s.invoice_id, s.period_start, s.entitled_cents, s.funded_cents, ia.status AS invoice_status
        FROM pool_invoice_audit s
        LEFT JOIN invoice_audit ia ON ia.buyer_id = s.buyer_id AND ia.invoice_id = s.invoice_id
        WHERE s.grower_id = $g AND s.month = $m ORDER BY 3, 1, 2""",
        {"g": grower, "m": month}))
    workers = Table("Workers", GROWER_WORKER_COLUMNS, _rows(con, """
        SELECT worker_id, period_start, entitled_cents, funded_cents, paid_cents, variance_cents, status, late, overdue
        FROM worker_audit WHERE grower_id = $g AND month = $m
        ORDER BY status = 'OK', period_start, worker_id""", {"g": grower, "m": month}))
    notes = [f"Trace of grower {grower} ({name[0]}) for {month}"]
    return notes, [pools, invoices, workers, sources]


# --- invoice ----------------------------------------------------------------------------------

LINE_COLUMNS = [
    Column("line_no", "Line", width=6), Column("grower_id", "Grower", width=8), Column("seller_id", "Seller", width=8),
    Column("ship_date", "Shipped", "date", 12), Column("commodity", "Commodity", width=12),
    Column("quantity", "Quantity", "decimal", 12), Column("unit", "Unit", width=6), Column("rate", "Rate", width=10),
    Column("owed_cents", "Owed", M, 12), Column("premium_billed_cents", "Billed", M, 12),
    Column("work_period_start", "Work period", "date", 12),
    Column("file", "File", width=40), Column("sheet", "Sheet", width=8), Column("row", "Row", "int", 6),
]
INVOICE_COLUMNS = [
    Column("month", "Month", width=8), Column("buyer_id", "Buyer", width=8), Column("invoice_id", "Invoice", width=16),
    Column("owed_cents", "Owed", M, 12), Column("billed_cents", "Billed", M, 12),
    Column("paid_by_buyer_cents", "Paid by buyer", M, 14), Column("balance_cents", "Balance", M, 12),
    Column("status", "Status", width=16),
]
PAYMENT_COLUMNS = [
    Column("payment_id", "Payment", width=12), Column("line_no", "Line", width=6), Column("payer_id", "Payer", width=8),
    Column("payee_id", "Payee", width=8), Column("paid_date", "Paid", "date", 12),
    Column("amount_cents", "Amount", M, 12), Column("file", "File", width=40), Column("sheet", "Sheet", width=8),
    Column("row", "Row", "int", 6),
]
PASS_COLUMNS = [
    Column("intermediary_id", "Intermediary", width=12), Column("received_cents", "Received", M, 12),
    Column("paid_on_cents", "Paid on", M, 12), Column("held_cents", "Held", M, 12),
]
INVOICE_GROWER_COLUMNS = [
    Column("grower_id", "Grower", width=8), Column("owed_cents", "Owed", M, 12),
    Column("received_cents", "Received", M, 12), Column("retained_cents", "Retained", M, 12),
    Column("entitled_cents", "Entitled", M, 12), Column("funded_cents", "Funded", M, 12),
]
FED_COLUMNS = [
    Column("grower_id", "Grower", width=8), Column("period_start", "Period start", "date", 12),
    Column("entitled_cents", "Entitled from invoice", M, 14), Column("funded_cents", "Funded from invoice", M, 14),
    Column("pool_funded_cents", "Pool funded", M, 14), Column("pool_undistributed_cents", "Pool undistributed", M, 14),
    Column("workers_short", "Workers short", "int", 9),
]

HANDSHAKE_COLUMNS = [
    Column("line_no", "Line", width=6), Column("status", "Handshake", width=17), Column("seller_id", "Seller", width=8),
    Column("buyer_quantity", "Buyer's quantity", "decimal", 12), Column("buyer_unit", "Unit", width=10),
    Column("seller_quantity", "Seller's quantity", "decimal", 12), Column("seller_unit", "Unit", width=10),
    Column("buyer_owed_cents", "Owed (buyer)", M, 12), Column("seller_owed_cents", "Owed (seller)", M, 12),
    Column("file", "Seller's file", width=40), Column("sheet", "Sheet", width=8), Column("row", "Row", "int", 6),
]


def trace_invoice(con: duckdb.DuckDBPyConnection, buyer: str, invoice: str) -> tuple[list[str], list[Table]]:
    key = {"b": buyer, "i": invoice}
    head = Table("Invoice", INVOICE_COLUMNS, _rows(con, "SELECT * FROM invoice_audit WHERE buyer_id = $b "
                                                         "AND invoice_id = $i", key))
    payments = Table("Payments", PAYMENT_COLUMNS, _rows(con, """
        SELECT payment_id, line_no, payer_id, payee_id, paid_date, amount_cents, file, sheet, row_number AS row
        FROM payment_audit WHERE buyer_id = $b AND invoice_id = $i ORDER BY paid_date, payment_id, line_no""", key))
    handshake = Table("Handshake", HANDSHAKE_COLUMNS, _rows(con, """
        SELECT line_no, status, seller_id, buyer_quantity, buyer_unit, seller_quantity, seller_unit, buyer_owed_cents,
               seller_owed_cents, seller_file AS file, seller_sheet AS sheet, seller_row_number AS row
        FROM volume_handshake WHERE buyer_id = $b AND invoice_id = $i
        ORDER BY try_cast(line_no AS BIGINT) NULLS LAST, line_no""", key))
    if not head.rows and not payments.rows and not handshake.rows:
        reported = con.execute("SELECT EXISTS (SELECT 1 FROM purchases WHERE buyer_id = $b AND invoice_id = $i) "
                               "OR EXISTS (SELECT 1 FROM payments WHERE buyer_id = $b AND invoice_id = $i) "
                               "OR EXISTS (SELECT 1 FROM sales WHERE buyer_id = $b AND invoice_id = $i)",
                               key).fetchone()[0]
        if reported:
            raise NotFound(f"invoice {buyer}/{invoice} is not closed yet: its month has not been published")
        raise NotFound(f"no invoice {buyer}/{invoice} in any purchases, payments or sales file")
    lines = Table("Lines", LINE_COLUMNS, _rows(con, """
        SELECT line_no, grower_id, seller_id, ship_date, commodity, quantity, unit,
               rate, owed_cents, billed_cents AS premium_billed_cents,
               work_period_start, file, sheet, row_number AS row
        FROM invoice_line_audit WHERE buyer_id = $b AND invoice_id = $i ORDER BY line_no""", key))
    passing = Table("Intermediaries", PASS_COLUMNS, _rows(con, """
        SELECT intermediary_id, received_cents, paid_on_cents, held_cents FROM pass_through_audit
        WHERE buyer_id = $b AND invoice_id = $i ORDER BY 1""", key))
    growers = Table("Growers", INVOICE_GROWER_COLUMNS, _rows(con, """
        SELECT grower_id, owed_cents, received_cents, retained_cents, entitled_cents, funded_cents
        FROM invoice_grower_audit WHERE buyer_id = $b AND invoice_id = $i ORDER BY 1""", key))
    fed = Table("Pools fed", FED_COLUMNS, _rows(con, f"""
        SELECT s.grower_id, s.period_start, s.entitled_cents, s.funded_cents,
               p.funded_cents AS pool_funded_cents, p.undistributed_cents AS pool_undistributed_cents,
               {workers_short("s.grower_id", "s.period_start")} AS workers_short
        FROM pool_invoice_audit s
        LEFT JOIN pool_audit p ON p.grower_id = s.grower_id AND p.period_start = s.period_start
        WHERE s.buyer_id = $b AND s.invoice_id = $i ORDER BY 1, 2""", key))
    notes = [f"Trace of invoice {buyer}/{invoice}"]
    if not head.rows:
        notes.append("No purchases file reports this invoice: its payments are UNKNOWN_INVOICE exceptions"
                     + (", and the lines its seller reported are MISSING_PURCHASE." if handshake.rows else "."))
    statuses = Counter(r["status"] for r in handshake.rows)
    if handshake.rows:
        notes.append("Volume handshake: " + ", ".join(f"{n} line(s) {s}" for s, n in sorted(statuses.items()))
                     + ". The handshake only flags: what is owed comes from the buyer's lines.")
    return notes, [lines, head, handshake, payments, passing, growers, fed]
