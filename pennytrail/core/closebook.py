"""The month's close workbook as figures: the sheets accountants read, each a title, typed
columns, lines above the table and its rows, read from what was published for the month (so the
workbook shows what a sign-off covers). ``reports.close`` writes them to Excel.

Sheets: *Summary* (the month's waterfall, ``waterfall.py``, with counts, the sign-off state, the
handshake and overdue counts as of the close and the conservation checks), *Buyers*,
*Invoices*, *Intermediaries*, *Pools*, *Workers*, *Exceptions*, *Handshake*, *Quarantine*,
*Restatements* and *Sign-offs*. Each month's *Quarantine* sheet holds the quarantined rows of
that month: by the row's own date, else by the dates of its file's accepted rows; a row with
neither is in every month's sheet, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import duckdb

from . import conservation
from .exception_sign import LEGEND, shown_sql
from .money import dollars
from .publish import latest_signoff, month_status, published_months
from .reconcile import FORMAT_MACRO
from .tables import Column
from .waterfall import waterfall

M = "money"

HANDSHAKE_SHEET: tuple[str, list[Column], str] = ("Handshake", [
    Column("buyer_id", "Buyer", width=7), Column("invoice_id", "Invoice", width=13),
    Column("line_no", "Line", width=5), Column("seller_id", "Seller", width=8),
    Column("buyer_quantity", "Buyer's quantity", "decimal", 11), Column("buyer_unit", "Buyer's unit", width=9),
    Column("seller_quantity", "Seller's quantity", "decimal", 11), Column("seller_unit", "Seller's unit", width=9),
    Column("buyer_owed", "Owed (buyer's report)", M, 13), Column("seller_owed", "Owed (seller's report)", M, 13),
    Column("status", "Status", width=18), Column("detail", "What differs", width=40),
], """
SELECT h.buyer_id, h.invoice_id, h.line_no, h.seller_id, h.buyer_quantity, h.buyer_unit, h.seller_quantity,
       h.seller_unit, h.buyer_owed_cents, h.seller_owed_cents, h.status,
       coalesce(e.detail, CASE h.status WHEN 'UNCONFIRMED' THEN 'the seller reported no sales shipped this month'
                                        ELSE '' END)
FROM volume_handshake h
LEFT JOIN exceptions e ON e.month = h.month AND e.code = h.status
     AND e.reference = h.buyer_id || '/' || h.invoice_id || '/' || h.line_no
WHERE h.month = $m
ORDER BY CASE h.status WHEN 'CONFIRMED' THEN 2 ELSE 1 END, h.status, h.buyer_id, h.invoice_id,
         try_cast(h.line_no AS BIGINT) NULLS LAST, h.line_no""")


def as_of_date(con: duckdb.DuckDBPyConnection):
    """The last close's as-of date (the latest date of any accepted row), or None before one."""
    exists = con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'w_as_of' "
                         "AND database_name = current_database() AND schema_name = 'main'").fetchone()
    return con.execute("SELECT max(as_of_date) FROM main.w_as_of").fetchone()[0] if exists else None


def handshake_lines(con: duckdb.DuckDBPyConnection, month: str) -> list[str]:
    """The month's handshake counts, and its overdue worker rows as of the close."""
    statuses = con.execute("SELECT status, count(*) FROM volume_handshake WHERE month = ? GROUP BY 1 "
                           "ORDER BY 2 DESC, 1", [month]).fetchall()
    rows, growers = con.execute("SELECT count(*), count(DISTINCT grower_id) FROM worker_audit "
                                "WHERE month = ? AND overdue", [month]).fetchone()
    as_of = as_of_date(con)
    return [
        "Volume handshake (invoice lines shipped in the month): "
        + (", ".join(f"{s} {n:,}" for s, n in statuses) if statuses else "no lines"),
        f"Overdue as of {as_of or 'the close'} (the latest date of any accepted row): {rows:,} worker row(s) "
        f"at {growers:,} grower(s)",
    ]


EXCEPTION_COLUMNS = [
    Column("level", "Level", width=12), Column("code", "Code", width=25),
    Column("party_id", "Party", width=8), Column("party_name", "Party name", width=13),
    Column("reference", "Reference", width=16), Column("worker_id", "Worker", width=10),
    Column("amount", "Amount (+ short, − paid beyond)", M, 13), Column("detail", "Detail", width=30),
    Column("state", "Queue state", width=11), Column("note", "Last note (by, at UTC)", width=22),
]


SHEETS: list[tuple[str, list[Column], str]] = [
    ("Buyers", [
        Column("buyer_id", "Buyer", width=8), Column("name", "Name", width=24),
        Column("invoices", "Invoices", "int", 9), Column("owed", "Owed", M, 14), Column("billed", "Billed", M, 14),
        Column("paid", "Paid by buyer", M, 14), Column("balance", "Balance (owed − paid)", M, 14),
        Column("under", "Invoices underpaid", "int", 10), Column("over", "Invoices overpaid", "int", 10),
    ], """
    SELECT i.buyer_id, any_value(p.name), count(*), sum(owed_cents), sum(billed_cents), sum(paid_by_buyer_cents),
           sum(balance_cents), count(*) FILTER (WHERE status = 'BUYER_UNDERPAID'),
           count(*) FILTER (WHERE status = 'BUYER_OVERPAID')
    FROM invoice_audit i LEFT JOIN ref_parties p ON p.party_id = i.buyer_id
    WHERE month = $m GROUP BY i.buyer_id ORDER BY i.buyer_id"""),
    ("Invoices", [
        Column("buyer_id", "Buyer", width=7), Column("buyer_name", "Buyer name", width=14),
        Column("invoice_id", "Invoice", width=13),
        Column("owed", "Owed", M, 13), Column("billed", "Billed", M, 13), Column("paid", "Paid by buyer", M, 13),
        Column("balance", "Balance (owed − paid)", M, 13), Column("status", "Buyer payment status", width=16),
        Column("held", "Held by intermediaries", M, 12), Column("misdirected", "Paid to others", M, 12),
        Column("received", "Received by growers", M, 13), Column("passed", "Premium passed on", width=21),
    ], """
    WITH pay AS (SELECT buyer_id, invoice_id, sum(amount_cents) FILTER (WHERE payee_type = 'buyer' OR
                        (payee_type = 'grower' AND NOT payee_on_invoice)) AS misdirected
                 FROM payment_audit GROUP BY ALL),
         held AS (SELECT buyer_id, invoice_id, sum(held_cents) AS held,
                         string_agg(intermediary_id, ', ' ORDER BY intermediary_id) FILTER (WHERE held_cents > 0) AS who
                  FROM pass_through_audit GROUP BY ALL),
         got AS (SELECT buyer_id, invoice_id, sum(received_cents) AS received FROM invoice_grower_audit GROUP BY ALL)
    SELECT i.buyer_id, n.name, i.invoice_id, owed_cents, billed_cents, paid_by_buyer_cents, balance_cents, status,
           coalesce(h.held, 0), coalesce(p.misdirected, 0), coalesce(g.received, 0),
           CASE WHEN coalesce(h.held, 0) > 0 THEN 'no: ' || format_cents(h.held) || ' held by ' || h.who
                WHEN coalesce(p.misdirected, 0) > 0 THEN 'no: ' || format_cents(p.misdirected)
                     || ' paid to parties not on the invoice'
                WHEN paid_by_buyer_cents = 0 THEN 'nothing paid yet'
                ELSE 'yes' END
    FROM invoice_audit i
    LEFT JOIN held h USING (buyer_id, invoice_id) LEFT JOIN pay p USING (buyer_id, invoice_id)
    LEFT JOIN got g USING (buyer_id, invoice_id) LEFT JOIN ref_parties n ON n.party_id = i.buyer_id
    WHERE i.month = $m ORDER BY i.buyer_id, i.invoice_id"""),
    ("Intermediaries", [
        Column("intermediary_id", "Intermediary", width=12), Column("name", "Name", width=28),
        Column("buyer_id", "Buyer", width=10), Column("invoice_id", "Invoice", width=16),
        Column("received", "Received", M, 14), Column("paid_on", "Paid on", M, 14), Column("held", "Held", M, 14),
    ], """
    SELECT t.intermediary_id, p.name, t.buyer_id, t.invoice_id, received_cents, paid_on_cents, held_cents
    FROM pass_through_audit t LEFT JOIN ref_parties p ON p.party_id = t.intermediary_id
    WHERE month = $m ORDER BY held_cents DESC, t.intermediary_id, t.buyer_id, t.invoice_id"""),
    ("Pools", [
        Column("grower_id", "Grower", width=8), Column("name", "Name", width=18),
        Column("program_id", "Program", width=9), Column("period_start", "Period start", "date", 11),
        Column("period_end", "Period end", "date", 11), Column("entitled", "Entitled", M, 13),
        Column("funded", "Funded", M, 13), Column("retained", "Retained", M, 12),
        Column("distributed", "Distributed", M, 13), Column("undistributed", "Undistributed", M, 13),
        Column("pww", "Paid without work", M, 12), Column("eligible", "Eligible workers", "int", 9),
        Column("due", "Due date", "date", 11),
    ], """
    SELECT a.grower_id, p.name, a.program_id, period_start, period_end, entitled_cents, funded_cents, retained_cents,
           distributed_cents, undistributed_cents, paid_without_work_cents, eligible_workers, due_date
    FROM pool_audit a LEFT JOIN ref_parties p ON p.party_id = a.grower_id
    WHERE month = $m ORDER BY a.grower_id, period_start"""),
    ("Workers", [
        Column("grower_id", "Grower", width=8), Column("grower_name", "Grower name", width=19),
        Column("period_start", "Period start", "date", 11),
        Column("worker_id", "Worker", width=12), Column("basis", "Basis", "decimal", 10),
        Column("entitled", "Entitled", M, 13), Column("funded", "Funded", M, 13), Column("paid", "Paid", M, 13),
        Column("variance", "Variance (paid − funded)", M, 13),
        Column("shortfall", "Upstream shortfall", M, 13), Column("status", "Status", width=18),
        Column("late", "Late", "bool", 6), Column("overdue", "Overdue", "bool", 9),
    ], """
    SELECT grower_id, p.name, period_start, worker_id, basis_value, entitled_cents, funded_cents, paid_cents,
           variance_cents, upstream_shortfall_cents, status, late, overdue
    FROM worker_audit w LEFT JOIN ref_parties p ON p.party_id = w.grower_id
    WHERE month = $m ORDER BY grower_id, period_start, worker_id"""),
    ("Exceptions", EXCEPTION_COLUMNS, f"""
    SELECT e.level, e.code, e.party_id, p.name, e.reference, e.worker_id, {shown_sql("e.code", "e.amount_cents")},
           e.detail
    FROM exceptions e LEFT JOIN ref_parties p ON p.party_id = e.party_id WHERE e.month = $m
    ORDER BY CASE e.level WHEN 'buyer' THEN 1 WHEN 'intermediary' THEN 2 WHEN 'grower' THEN 3 ELSE 4 END,
             e.code, e.party_id, e.reference, e.worker_id"""),
    ("Quarantine", [
        Column("file", "File", width=26), Column("sheet", "Sheet", width=7), Column("row", "Row", "int", 6),
        Column("kind", "Kind", width=9), Column("code", "Code", width=20), Column("message", "Message", width=40),
        Column("month_from", "Month from", width=12), Column("raw", "Row as read", width=40),
    ], """
    WITH q AS (
        SELECT *, strftime(coalesce(
                   try_cast(json_extract_string(raw, '$.ship_date') AS DATE),
                   try_cast(json_extract_string(raw, '$.paid_date') AS DATE),
                   try_cast(json_extract_string(raw, '$.period_end') AS DATE),
                   try_cast(json_extract_string(raw, '$.pay_date') AS DATE)), '%Y-%m') AS row_month
        FROM quarantine),
    file_month AS (
        SELECT file, strftime(min(d), '%Y-%m') AS month FROM (
            SELECT file, ship_date AS d FROM purchase_rows UNION ALL SELECT file, paid_date FROM payment_rows
            UNION ALL SELECT file, period_end FROM payroll_rows) GROUP BY file)
    SELECT q.file, q.sheet, q.row_number, q.kind, q.code, q.message,
           CASE WHEN q.row_month IS NOT NULL THEN 'its date'
                WHEN f.month IS NOT NULL THEN 'its file''s other rows'
                ELSE 'no date: shown in every month' END,
           q.raw
    FROM q LEFT JOIN file_month f USING (file)
    WHERE coalesce(q.row_month, f.month, $m) = $m
    ORDER BY q.file, q.row_number, q.code"""),
    ("Sign-offs", [
        Column("signed_by", "Signed by", width=20), Column("signed_at", "Signed at (UTC)", width=11),
        Column("open", "Open exceptions", "int", 10), Column("summary", "Open exceptions by code", width=38),
        Column("revoked", "Revoked (UTC)", width=11), Column("revoked_by", "Revoked by", width=18),
        Column("reason", "Reason", width=26), Column("digest", "Digest of the month's tables", width=24),
    ], """
    SELECT signed_by, strftime(signed_at, '%Y-%m-%d %H:%M:%S'), open_exceptions, exceptions_summary,
           strftime(revoked_at, '%Y-%m-%d %H:%M:%S'), revoked_by, revoke_reason, digest
    FROM signoffs WHERE month = $m ORDER BY signed_at"""),
]
SHEETS.insert([title for title, _, _ in SHEETS].index("Exceptions") + 1, HANDSHAKE_SHEET)

RESTATEMENTS = [
    Column("table_name", "Table", width=14), Column("key", "Key", width=30), Column("column_name", "Column", width=18),
    Column("before", "Before", width=14), Column("after", "After", width=14), Column("change", "Change", M, 13),
    Column("file", "Files", width=30), Column("recorded_at", "Recorded at (UTC)", width=11),
]
RESTATEMENTS_SQL = """
    SELECT table_name, key, column_name, before, after, file, strftime(recorded_at, '%Y-%m-%d %H:%M:%S')
    FROM restatements WHERE month = $m ORDER BY recorded_at, table_name, key, column_name"""


SHEET_LINES = {"Exceptions": [
    "Exceptions of the month, with their state in the portal's exception queue",
    LEGEND + " Each amount is shown this way whatever the code; the exceptions table keeps each "
             "code's own sign (docs/decisions.md)."]}


def _with_queue_state(row: tuple, queue: Callable[[dict], dict | None] | None) -> tuple:
    level, code, party_id, name, reference, worker_id, amount, detail = row
    found = queue({"level": level, "code": code, "party_id": party_id, "reference": reference,
                   "worker_id": worker_id}) if queue else None
    if not found:
        return (*row, "open", None)
    return (*row, found["state"], f"{found['note']} ({found['author']}, {found['at']})")


def _restated(row: tuple) -> list:
    """A restatement with money in dollars: a ``*_cents`` value is shown as dollars, with its change."""
    table, key, column, before, after, files, at = row
    change = None
    if column.endswith("_cents"):
        b, a = (int(x) if x not in (None, "") else None for x in (before, after))
        before, after = (dollars(x) if x is not None else None for x in (b, a))
        change = (a or 0) - (b or 0)
    return [table, key, column.removesuffix("_cents"), before, after, change, files, at]


SUMMARY_COLUMNS = [
    Column("step", "Step", width=56), Column("amount", "Amount", M, 15), Column("count", "Count", "int", 8),
    Column("counted", "Counted", width=24), Column("basis", "Basis", width=34),
]


@dataclass
class SheetRows:
    """One sheet: ``rows`` are read from the warehouse as they are taken (in the order of the
    sheets, over the one connection); ``size`` is how many there are."""
    title: str
    columns: list[Column]
    lines: Sequence[str]
    size: int
    rows: Iterator[Sequence[object]]


@dataclass
class CloseBook:
    month: str
    lines: list[str]                  # the Summary's lines above the waterfall
    waterfall: list[tuple]
    sheets: list[SheetRows] = field(default_factory=list)


def _batches(con: duckdb.DuckDBPyConnection, sql: str, params: dict,
             each: Callable[[tuple], Sequence[object]] | None = None) -> Iterator[Sequence[object]]:
    cur = con.execute(sql, params)
    while batch := cur.fetchmany(10_000):
        yield from (map(each, batch) if each else batch)


def month_book(con: duckdb.DuckDBPyConnection, month: str,
               queue: Callable[[dict], dict | None] | None = None) -> CloseBook:
    """The month's close workbook as figures (its sheets' rows read as they are taken).

    ``queue``: an exception (level, code, party_id, reference, worker_id) → its latest state in
    the portal's exception queue (``state``, ``note``, ``author``, ``at``), shown on the
    Exceptions sheet; without it every exception is shown open."""
    closed = published_months(con)
    if month not in closed:
        raise LookupError(f"month {month} has not been closed: run `pennytrail close --month {month}` first "
                          f"(closed months: {', '.join(closed) or 'none'})")
    con.execute(FORMAT_MACRO)
    status = month_status(con, month)
    signed = latest_signoff(con, month)
    restated = con.execute("SELECT count(*) FROM restatements WHERE month = ?", [month]).fetchone()[0]
    checks = [conservation.run_check(con, name) for name in conservation.CHECKS]
    lines = [f"Premium close for {month}", "Figures as published for the month. Money is in US dollars.",
             f"Sign-off: {status}" + (f" (signed by {signed[0]} at {signed[1]:%Y-%m-%d %H:%M} UTC)" if signed else "")]
    if restated and status == "needs re-sign-off":
        lines.append(f"Restated since sign-off: {restated} value(s); see the Restatements sheet. "
                     "The month needs a new sign-off.")
    elif restated:
        lines.append(f"Restated after an earlier sign-off: {restated} value(s); see the Restatements sheet. "
                     f"The sign-off in force covers them.")
    lines += handshake_lines(con, month)
    failed = [c for c in checks if not c.passed]
    lines.append("Conservation checks: " + ("all passed" if not failed else
                                             "FAILED: " + "; ".join(str(c) for c in failed)))
    lines.append("The waterfall adds up line by line: each = line is the sum of the lines above it since the last = "
                 "line; Memo lines stand apart. " + LEGEND)
    book = CloseBook(month, lines, waterfall(con, month))
    for title, columns, sql in SHEETS:
        params = {"m": month} if "$m" in sql else {}
        size = con.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0]
        each = (lambda r: _with_queue_state(r, queue)) if title == "Exceptions" else None
        book.sheets.append(SheetRows(title, columns, SHEET_LINES.get(title, ()), size,
                                     _batches(con, sql, params, each)))
        if title == "Quarantine":
            size = con.execute("SELECT count(*) FROM restatements WHERE month = $m", {"m": month}).fetchone()[0]
            book.sheets.append(SheetRows("Restatements", RESTATEMENTS, (), size,
                                         _batches(con, RESTATEMENTS_SQL, {"m": month}, _restated)))
    return book
