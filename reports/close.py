"""The month's close workbook for program accountants.

Sheets: *Summary* (the month's waterfall from what buyers owed to what reached pay stubs, with
counts, the sign-off state and the conservation checks), *Buyers*, *Invoices*,
*Intermediaries*, *Pools*, *Workers*, *Exceptions*, *Handshake*, *Quarantine*, *Restatements* and
*Sign-offs*. Everything is read from the published tables (docs/rules.md, "Output tables"; and,
for the grower end of each invoice, from the reconciliation's working table), so the workbook
shows what a sign-off covers.

The waterfall has two bases, both named in the sheet: the buyer end counts the invoices of the
month (their earliest ship date, as `invoice_audit` does) and the grower end counts the pools
whose work period ends in the month (as `pool_audit` does).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

import duckdb

from pennytrail.core import conservation
from pennytrail.core.publish import latest_signoff, month_status

from . import handshake
from .xlsx import Book, Column

WATERFALL_SQL = """
WITH inv AS (SELECT * FROM invoice_audit WHERE month = $m),
     pools AS (SELECT * FROM pool_audit WHERE month = $m),
     pass AS (SELECT * FROM pass_through_audit WHERE month = $m),
     ig AS (SELECT g.* FROM w_invoice_grower g JOIN inv USING (buyer_id, invoice_id)),
     workers AS (SELECT * FROM worker_audit WHERE month = $m)
SELECT * FROM (VALUES
  (1, 'Owed by buyers', (SELECT sum(owed_cents) FROM inv), (SELECT count(*) FROM inv), 'invoices', 'invoices'),
  (2, 'Paid by buyers', (SELECT sum(paid_by_buyer_cents) FROM inv),
      (SELECT count(*) FROM inv WHERE paid_by_buyer_cents > 0), 'invoices with a payment', 'invoices'),
  (3, 'Held by intermediaries', (SELECT sum(held_cents) FROM pass),
      (SELECT count(DISTINCT intermediary_id) FROM pass WHERE held_cents > 0), 'intermediaries holding premium',
      'invoices'),
  (4, 'Received by growers', (SELECT sum(received_cents) FROM ig),
      (SELECT count(DISTINCT grower_id) FROM ig WHERE received_cents > 0), 'growers paid', 'invoices'),
  (5, 'Entitled to worker pools', (SELECT sum(entitled_cents) FROM pools), (SELECT count(*) FROM pools), 'pools',
      'pools'),
  (6, 'Retained by growers', (SELECT sum(retained_cents) FROM pools),
      (SELECT count(*) FROM pools WHERE retained_cents > 0), 'pools with a retention', 'pools'),
  (7, 'Funded to worker pools', (SELECT sum(funded_cents) FROM pools),
      (SELECT count(*) FROM pools WHERE funded_cents > 0), 'pools funded', 'pools'),
  (8, 'Distributed to workers', (SELECT sum(distributed_cents) FROM pools),
      (SELECT count(DISTINCT (grower_id, worker_id)) FROM workers
                 WHERE status <> 'PAID_WITHOUT_WORK' AND paid_cents > 0), 'workers paid', 'pools'),
  (9, 'Undistributed', (SELECT sum(undistributed_cents) FROM pools),
      (SELECT count(*) FROM pools WHERE undistributed_cents <> 0), 'pools not fully distributed', 'pools'),
  (10, 'Paid without work (outside the pools)', (SELECT sum(paid_without_work_cents) FROM pools),
      (SELECT count(*) FROM workers WHERE status = 'PAID_WITHOUT_WORK'), 'worker rows', 'pools')
) t(step, label, cents, n, counted, basis) ORDER BY step
"""

BASIS = {
    "invoices": "invoices of the month (earliest ship date)",
    "pools": "pools whose work period ends in the month",
}

M = "money"


def _name_join(alias: str, column: str) -> str:
    return f"LEFT JOIN ref_parties {alias} ON {alias}.party_id = {column}"


SHEETS: list[tuple[str, list[Column], str]] = [
    ("Buyers", [
        Column("buyer_id", "Buyer", width=10), Column("name", "Name", width=28),
        Column("invoices", "Invoices", "int"), Column("owed", "Owed", M, 14), Column("billed", "Billed", M, 14),
        Column("paid", "Paid by buyer", M, 14), Column("balance", "Balance (owed − paid)", M, 16),
        Column("under", "Invoices underpaid", "int"), Column("over", "Invoices overpaid", "int"),
    ], """
    SELECT i.buyer_id, any_value(p.name), count(*), sum(owed_cents), sum(billed_cents), sum(paid_by_buyer_cents),
           sum(balance_cents), count(*) FILTER (WHERE status = 'BUYER_UNDERPAID'),
           count(*) FILTER (WHERE status = 'BUYER_OVERPAID')
    FROM invoice_audit i LEFT JOIN ref_parties p ON p.party_id = i.buyer_id
    WHERE month = $m GROUP BY i.buyer_id ORDER BY i.buyer_id"""),
    ("Invoices", [
        Column("buyer_id", "Buyer", width=10), Column("invoice_id", "Invoice", width=16),
        Column("owed", "Owed", M, 14), Column("billed", "Billed", M, 14), Column("paid", "Paid by buyer", M, 14),
        Column("balance", "Balance", M, 14), Column("status", "Status", width=18),
    ], """
    SELECT buyer_id, invoice_id, owed_cents, billed_cents, paid_by_buyer_cents, balance_cents, status
    FROM invoice_audit WHERE month = $m ORDER BY buyer_id, invoice_id"""),
    ("Intermediaries", [
        Column("intermediary_id", "Intermediary", width=12), Column("name", "Name", width=28),
        Column("buyer_id", "Buyer", width=10), Column("invoice_id", "Invoice", width=16),
        Column("received", "Received", M, 14), Column("paid_on", "Paid on", M, 14), Column("held", "Held", M, 14),
    ], """
    SELECT t.intermediary_id, p.name, t.buyer_id, t.invoice_id, received_cents, paid_on_cents, held_cents
    FROM pass_through_audit t LEFT JOIN ref_parties p ON p.party_id = t.intermediary_id
    WHERE month = $m ORDER BY held_cents DESC, t.intermediary_id, t.buyer_id, t.invoice_id"""),
    ("Pools", [
        Column("grower_id", "Grower", width=10), Column("name", "Name", width=24),
        Column("program_id", "Program", width=9), Column("period_start", "Period start", "date", 12),
        Column("period_end", "Period end", "date", 12), Column("entitled", "Entitled", M, 14),
        Column("funded", "Funded", M, 14), Column("retained", "Retained", M, 14),
        Column("distributed", "Distributed", M, 14), Column("undistributed", "Undistributed", M, 14),
        Column("pww", "Paid without work", M, 14), Column("eligible", "Eligible workers", "int"),
        Column("due", "Due date", "date", 12),
    ], """
    SELECT a.grower_id, p.name, a.program_id, period_start, period_end, entitled_cents, funded_cents, retained_cents,
           distributed_cents, undistributed_cents, paid_without_work_cents, eligible_workers, due_date
    FROM pool_audit a LEFT JOIN ref_parties p ON p.party_id = a.grower_id
    WHERE month = $m ORDER BY a.grower_id, period_start"""),
    ("Workers", [
        Column("grower_id", "Grower", width=10), Column("period_start", "Period start", "date", 12),
        Column("worker_id", "Worker", width=14), Column("basis", "Basis", "decimal", 12),
        Column("entitled", "Entitled", M, 12), Column("funded", "Funded", M, 12), Column("paid", "Paid", M, 12),
        Column("variance", "Variance (paid − funded)", M, 14),
        Column("shortfall", "Upstream shortfall", M, 14), Column("status", "Status", width=18),
        Column("late", "Late", "bool", 7), Column("overdue", "Overdue", "bool", 9),
    ], """
    SELECT grower_id, period_start, worker_id, basis_value, entitled_cents, funded_cents, paid_cents, variance_cents,
           upstream_shortfall_cents, status, late, overdue
    FROM worker_audit WHERE month = $m ORDER BY grower_id, period_start, worker_id"""),
    ("Exceptions", [
        Column("level", "Level", width=12), Column("code", "Code", width=24),
        Column("party_id", "Responsible", width=12),
        Column("reference", "Reference", width=26), Column("worker_id", "Worker", width=14),
        Column("amount", "Amount", M, 14), Column("detail", "Detail", width=80),
    ], """
    SELECT level, code, party_id, reference, worker_id, amount_cents, detail FROM exceptions WHERE month = $m
    ORDER BY CASE level WHEN 'buyer' THEN 1 WHEN 'intermediary' THEN 2 WHEN 'grower' THEN 3 ELSE 4 END,
             code, party_id, reference, worker_id"""),
    ("Quarantine", [
        Column("file", "File", width=40), Column("sheet", "Sheet", width=10), Column("row", "Row", "int", 8),
        Column("kind", "Kind", width=10), Column("code", "Code", width=22), Column("message", "Message", width=70),
        Column("raw", "Row as read", width=80),
    ], """
    SELECT file, sheet, row_number, kind, code, message, raw FROM quarantine ORDER BY file, row_number, code"""),
    ("Restatements", [
        Column("table_name", "Table", width=16), Column("key", "Key", width=36),
        Column("column_name", "Column", width=24),
        Column("before", "Before", width=16), Column("after", "After", width=16), Column("file", "Files", width=40),
        Column("recorded_at", "Recorded at", width=20),
    ], """
    SELECT table_name, key, column_name, before, after, file, strftime(recorded_at, '%Y-%m-%d %H:%M:%S')
    FROM restatements WHERE month = $m ORDER BY recorded_at, table_name, key, column_name"""),
    ("Sign-offs", [
        Column("signed_by", "Signed by", width=24), Column("signed_at", "Signed at (UTC)", width=20),
        Column("digest", "Digest of the month's tables", width=70),
    ], """
    SELECT signed_by, strftime(signed_at, '%Y-%m-%d %H:%M:%S'), digest FROM signoffs WHERE month = $m
    ORDER BY signed_at"""),
]
SHEETS.insert([title for title, _, _ in SHEETS].index("Exceptions") + 1, handshake.SHEET)


def close_report(con: duckdb.DuckDBPyConnection, month: str, path: Path,
                 progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write the month's close workbook to ``path``; return the rows written per sheet."""
    published = con.execute("SELECT (SELECT count(*) FROM invoice_audit WHERE month = $m) + "
                            "(SELECT count(*) FROM pool_audit WHERE month = $m)", {"m": month}).fetchone()[0]
    if not published:
        raise LookupError(f"month {month} has not been closed: run `pennytrail close --month {month}` first")
    status = month_status(con, month)
    signed = latest_signoff(con, month)
    restated = con.execute("SELECT count(*) FROM restatements WHERE month = ?", [month]).fetchone()[0]
    checks = [conservation.run_check(con, name) for name in conservation.CHECKS]

    book = Book()
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Premium close for {month}", f"Written {now}", f"Sign-off: {status}"
             + (f" (last signed by {signed[0]} at {signed[1]:%Y-%m-%d %H:%M} UTC)" if signed else "")]
    if restated:
        lines.append(f"Restated since sign-off: {restated} value(s); see the Restatements sheet. "
                     "The month needs a new sign-off.")
    lines += handshake.summary_lines(con, month)
    failed = [c for c in checks if not c.passed]
    lines.append("Conservation checks: " + ("all passed" if not failed else
                                             "FAILED: " + "; ".join(str(c) for c in failed)))
    summary = book.sheet("Summary", [
        Column("step", "Step", width=40), Column("amount", "Amount", M, 16), Column("count", "Count", "int", 10),
        Column("counted", "Counted", width=30), Column("basis", "Basis", width=44),
    ], lines)
    for _, label, cents, n, counted, basis in con.execute(WATERFALL_SQL, {"m": month}).fetchall():
        summary.append([label, cents or 0, n, counted, BASIS[basis]])
    counts = {"Summary": summary.rows}
    for title, columns, sql in SHEETS:
        sheet = book.sheet(title, columns)
        cur = con.execute(sql, {"m": month} if "$m" in sql else {})
        while batch := cur.fetchmany(10_000):
            sheet.extend(batch)
        counts[title] = sheet.rows
        if progress:
            progress(f"{title}: {sheet.rows:,} rows")
    book.save(path)
    return counts
