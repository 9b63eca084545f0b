"""The month's close workbook for program accountants.

Sheets: *Summary* (the month's waterfall from what buyers owed to what reached pay stubs, with
counts, the sign-off state and the conservation checks), *Buyers*, *Invoices*,
*Intermediaries*, *Pools*, *Workers*, *Exceptions*, *Handshake*, *Quarantine*, *Restatements* and
*Sign-offs*. Everything is read from what was published for the month, so the workbook shows
what a sign-off covers.

The waterfall has two bases, both named in the sheet: the buyer end counts the invoices of the
month (their earliest ship date, as `invoice_audit` does) and the grower end counts the pools
whose work period ends in the month (as `pool_audit` does). Each end runs line by line from its
first amount to its last, with a reconciling line for every difference. Each month's
*Quarantine* sheet holds the quarantined rows of that month: by the row's own date, else by the
dates of its file's accepted rows; a row with neither is in every month's sheet, and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import duckdb

from pennytrail.core import conservation
from pennytrail.core.exception_sign import LEGEND, shown_sql
from pennytrail.core.money import dollars
from pennytrail.core.reconcile import FORMAT_MACRO
from pennytrail.core.publish import latest_signoff, month_status, published_months

from . import handshake
from .xlsx import EXCEL_MAX_ROWS, Book, Column

WATERFALL_SQL = """
WITH inv AS (SELECT * FROM invoice_audit WHERE month = $m),
     pass AS (SELECT * FROM pass_through_audit WHERE month = $m),
     ig AS (SELECT * FROM invoice_grower_audit WHERE month = $m),
     pay AS (SELECT a.* FROM payment_audit a JOIN inv ON inv.buyer_id = a.buyer_id AND inv.invoice_id = a.invoice_id),
     pools AS (SELECT * FROM pool_audit WHERE month = $m),
     workers AS (SELECT * FROM worker_audit WHERE month = $m)
SELECT
  (SELECT coalesce(sum(owed_cents), 0) FROM inv) AS owed,
  (SELECT count(*) FROM inv) AS invoices,
  (SELECT coalesce(sum(balance_cents) FILTER (WHERE balance_cents > 0), 0) FROM inv) AS unpaid,
  (SELECT count(*) FROM inv WHERE balance_cents > 0) AS unpaid_n,
  (SELECT coalesce(-sum(balance_cents) FILTER (WHERE balance_cents < 0), 0) FROM inv) AS overpaid,
  (SELECT count(*) FROM inv WHERE balance_cents < 0) AS overpaid_n,
  (SELECT coalesce(sum(paid_by_buyer_cents), 0) FROM inv) AS paid,
  (SELECT coalesce(sum(amount_cents), 0) FROM pay WHERE payer_id <> buyer_id AND payer_type <> 'intermediary')
      AS other_payers,
  (SELECT count(*) FROM pay WHERE payer_id <> buyer_id AND payer_type <> 'intermediary') AS other_payers_n,
  (SELECT coalesce(sum(held_cents), 0) FROM pass) AS held,
  (SELECT count(DISTINCT intermediary_id) FROM pass WHERE held_cents <> 0) AS held_n,
  (SELECT coalesce(sum(amount_cents), 0) FROM pay WHERE payee_type = 'buyer') AS to_buyers,
  (SELECT count(*) FROM pay WHERE payee_type = 'buyer') AS to_buyers_n,
  (SELECT coalesce(sum(amount_cents), 0) FROM pay WHERE payee_type = 'grower' AND NOT payee_on_invoice)
      AS misdirected,
  (SELECT count(*) FROM pay WHERE payee_type = 'grower' AND NOT payee_on_invoice) AS misdirected_n,
  (SELECT coalesce(sum(received_cents), 0) FROM ig) AS received,
  (SELECT count(DISTINCT grower_id) FROM ig WHERE received_cents > 0) AS received_n,
  (SELECT coalesce(sum(amount_cents), 0) FROM exceptions WHERE month = $m AND code = 'UNKNOWN_INVOICE')
      AS unknown_invoices,
  (SELECT count(*) FROM exceptions WHERE month = $m AND code = 'UNKNOWN_INVOICE') AS unknown_invoices_n,
  (SELECT coalesce(sum(funded_cents + retained_cents), 0) FROM pools) AS pool_received,
  (SELECT count(*) FROM pools) AS pools_n,
  (SELECT coalesce(sum(retained_cents), 0) FROM pools) AS retained,
  (SELECT count(*) FROM pools WHERE retained_cents > 0) AS retained_n,
  (SELECT coalesce(sum(funded_cents), 0) FROM pools) AS funded,
  (SELECT coalesce(sum(undistributed_cents), 0) FROM pools) AS undistributed,
  (SELECT count(*) FROM pools WHERE undistributed_cents <> 0) AS undistributed_n,
  (SELECT coalesce(sum(distributed_cents), 0) FROM pools) AS distributed,
  (SELECT count(DISTINCT (grower_id, worker_id)) FROM workers WHERE status <> 'PAID_WITHOUT_WORK' AND paid_cents > 0)
      AS distributed_n,
  (SELECT coalesce(sum(entitled_cents), 0) FROM pools) AS entitled,
  (SELECT coalesce(sum(paid_without_work_cents), 0) FROM pools) AS pww,
  (SELECT count(*) FROM workers WHERE status = 'PAID_WITHOUT_WORK') AS pww_n,
  (SELECT coalesce(sum(s.funded_cents + s.retained_cents), 0) FROM pool_invoice_audit s JOIN inv USING (buyer_id, invoice_id)
     WHERE s.month <> $m) AS to_other_pools,
  (SELECT count(DISTINCT (s.buyer_id, s.invoice_id)) FROM pool_invoice_audit s JOIN inv USING (buyer_id, invoice_id)
     WHERE s.month <> $m) AS to_other_pools_n,
  (SELECT coalesce(sum(s.funded_cents + s.retained_cents), 0) FROM pool_invoice_audit s
     JOIN invoice_audit i ON i.buyer_id = s.buyer_id AND i.invoice_id = s.invoice_id AND i.month <> $m
     WHERE s.month = $m) AS from_other_invoices,
  (SELECT count(DISTINCT (s.buyer_id, s.invoice_id)) FROM pool_invoice_audit s
     JOIN invoice_audit i ON i.buyer_id = s.buyer_id AND i.invoice_id = s.invoice_id AND i.month <> $m
     WHERE s.month = $m) AS from_other_invoices_n
"""

INVOICES = "invoices of the month (earliest ship date)"
POOLS = "pools whose work period ends in the month"
BASIS_CHANGE = "from the month's invoices to the month's pools"


def waterfall(con: duckdb.DuckDBPyConnection, month: str) -> list[tuple]:
    """The month's waterfall, line by line: (step, amount in cents, count, what is counted, basis).

    Each section runs from a starting amount through signed reconciling lines (``Less:`` is
    negative, ``Add:`` positive) to a subtotal (``=``) that is their sum, so the sheet adds up on
    the page; a difference no line explains gets a line of its own rather than disappearing."""
    cur = con.execute(WATERFALL_SQL, {"m": month})
    v = dict(zip([d[0] for d in cur.description], cur.fetchone()))
    rows = [
        ("Owed by buyers (rate card)", v["owed"], v["invoices"], "invoices", INVOICES),
        ("Less: not paid by buyers", -v["unpaid"], v["unpaid_n"], "invoices underpaid", INVOICES),
        ("Add: paid by buyers beyond what was owed", v["overpaid"], v["overpaid_n"], "invoices overpaid", INVOICES),
        ("= Paid by buyers", v["paid"], None, "", INVOICES),
        ("Add: paid by parties that are neither the buyer nor an intermediary", v["other_payers"],
         v["other_payers_n"], "payment lines", INVOICES),
        ("Less: held by intermediaries (negative: paid out more than received)", -v["held"], v["held_n"],
         "intermediaries", INVOICES),
        ("Less: paid to buyers", -v["to_buyers"], v["to_buyers_n"], "payment lines", INVOICES),
        ("Less: paid to growers with no line on the invoice (misdirected)", -v["misdirected"],
         v["misdirected_n"], "payment lines", INVOICES),
    ]
    explained = v["paid"] + v["other_payers"] - v["held"] - v["to_buyers"] - v["misdirected"]
    if explained != v["received"]:
        rows.append(("Less: difference the published payments do not explain", v["received"] - explained, None,
                     "see Exceptions", INVOICES))
    rows += [
        ("= Received by growers on their invoices", v["received"], v["received_n"], "growers paid", INVOICES),
        ("Less (change of basis): received on these invoices for pools of other months", -v["to_other_pools"],
         v["to_other_pools_n"], "invoices", BASIS_CHANGE),
        ("Add (change of basis): received on other months' invoices for this month's pools",
         v["from_other_invoices"], v["from_other_invoices_n"], "invoices", BASIS_CHANGE),
    ]
    explained = v["received"] - v["to_other_pools"] + v["from_other_invoices"]
    if explained != v["pool_received"]:
        rows.append(("Add: difference the published pools do not explain", v["pool_received"] - explained, None,
                     "see Exceptions", BASIS_CHANGE))
    rows += [
        ("= Received by growers for the month's pools (funded + retained)", v["pool_received"], v["pools_n"],
         "pools", POOLS),
        ("Less: retained by growers (the program's retention)", -v["retained"], v["retained_n"],
         "pools with a retention", POOLS),
        ("= Funded to worker pools", v["funded"], None, "", POOLS),
        ("Less: Undistributed, funded but not on pay stubs (negative: paid beyond the funded shares)",
         -v["undistributed"], v["undistributed_n"], "pools not fully distributed", POOLS),
        ("= Distributed to workers (eligible workers' pay stubs)", v["distributed"], v["distributed_n"],
         "workers paid", POOLS),
        ("Memo: paid on invoices no purchases report names (not above)", v["unknown_invoices"],
         v["unknown_invoices_n"], "payment lines", "payments first made in the month"),
        ("Memo: entitled to worker pools (what the rate card owed them)", v["entitled"], None, "", POOLS),
        ("Memo: entitled but never funded (upstream shortfall)", v["entitled"] - v["funded"], None, "", POOLS),
        ("Memo: paid without work (outside the pools)", v["pww"], v["pww_n"], "worker rows", POOLS),
    ]
    return rows


def adds_up(lines: list[tuple]) -> list[str]:
    """The lines of a waterfall whose subtotal (``=``) is not the sum of the lines above it since
    the last subtotal (``Memo:`` lines stand apart): empty when it adds up line by line."""
    wrong, total = [], None
    for label, cents, *_ in lines:
        if label.startswith("Memo:"):
            continue
        if total is None:
            total = cents
        elif label.startswith("="):
            if cents != total:
                wrong.append(f"{label}: {cents} but the lines above make {total}")
            total = cents
        else:
            total += cents
    return wrong


M = "money"
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
SHEETS.insert([title for title, _, _ in SHEETS].index("Exceptions") + 1, handshake.SHEET)

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


def close_report(con: duckdb.DuckDBPyConnection, month: str, path: Path,
                 progress: Callable[[str], None] | None = None,
                 queue: Callable[[dict], dict | None] | None = None) -> dict[str, int]:
    """Write the month's close workbook to ``path``; return the rows written per sheet.

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

    book = Book()
    lines = [f"Premium close for {month}", "Figures as published for the month. Money is in US dollars.",
             f"Sign-off: {status}" + (f" (signed by {signed[0]} at {signed[1]:%Y-%m-%d %H:%M} UTC)" if signed else "")]
    if restated and status == "needs re-sign-off":
        lines.append(f"Restated since sign-off: {restated} value(s); see the Restatements sheet. "
                     "The month needs a new sign-off.")
    elif restated:
        lines.append(f"Restated after an earlier sign-off: {restated} value(s); see the Restatements sheet. "
                     f"The sign-off in force covers them.")
    lines += handshake.summary_lines(con, month)
    failed = [c for c in checks if not c.passed]
    lines.append("Conservation checks: " + ("all passed" if not failed else
                                             "FAILED: " + "; ".join(str(c) for c in failed)))
    lines.append("The waterfall adds up line by line: each = line is the sum of the lines above it since the last = "
                 "line; Memo lines stand apart. " + LEGEND)
    for title, _, sql in SHEETS:  # a sheet longer than Excel allows continues on further sheets
        n = con.execute(f"SELECT count(*) FROM ({sql})", {"m": month} if "$m" in sql else {}).fetchone()[0]
        if n > EXCEL_MAX_ROWS - 2:
            lines.append(f"{title}: {n:,} rows, more than one sheet holds; continued on sheets "
                         f"'{title[:25]} (2)' and after.")
    summary = book.sheet("Summary", [
        Column("step", "Step", width=56), Column("amount", "Amount", M, 15), Column("count", "Count", "int", 8),
        Column("counted", "Counted", width=24), Column("basis", "Basis", width=34),
    ], lines)
    summary.extend(waterfall(con, month))
    counts = {"Summary": summary.rows}
    for title, columns, sql in SHEETS:
        sheet = book.sheet(title, columns, SHEET_LINES.get(title, ()))
        cur = con.execute(sql, {"m": month} if "$m" in sql else {})
        while batch := cur.fetchmany(10_000):
            if title == "Exceptions":
                batch = [_with_queue_state(r, queue) for r in batch]
            sheet.extend(batch)
        sheet.total()
        counts[title] = sheet.rows
        if progress:
            progress(f"{title}: {sheet.rows:,} rows")
        if title == "Quarantine":
            sheet = book.sheet("Restatements", RESTATEMENTS)
            sheet.extend(_restated(r) for r in con.execute(RESTATEMENTS_SQL, {"m": month}).fetchall())
            sheet.total()
            counts["Restatements"] = sheet.rows
    book.save(path)
    return counts
