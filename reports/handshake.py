"""The volume handshake and the as-of date, as the close workbook shows them: a *Handshake*
sheet (each invoice line of the month as its buyer and its seller reported it, with its status
and what differs) and the Summary's lines on the handshake and on what is overdue."""

from __future__ import annotations

import duckdb

from .xlsx import Column

M = "money"

SHEET: tuple[str, list[Column], str] = ("Handshake", [
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


def summary_lines(con: duckdb.DuckDBPyConnection, month: str) -> list[str]:
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
