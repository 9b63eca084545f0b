"""Months: which months a file touches, and each closed month's figures and sign-off state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ..core.publish import latest_signoff, month_status, sign_off as record_sign_off
from ..core.reading import FileProblem, read_table
from ..core.warehouse import connect
from .errors import UserError, need_month

DATE_COLUMNS = ("ship_date", "harvest_date", "paid_date", "period_start", "period_end", "premium_period_start")


def months_touched(path: Path) -> set[str]:
    """Months named by a file's dates, and the month after each (a pool belongs to its period's end)."""
    try:
        table = read_table(path)
    except FileProblem:
        return set()
    months: set[str] = set()
    for col in DATE_COLUMNS:
        if col in table.frame.columns:
            for value in table.frame[col].str.slice(0, 7).unique():
                if len(value) == 7 and value[4] == "-" and value[:4].isdigit() and value[5:].isdigit():
                    y, m = int(value[:4]), int(value[5:])
                    if 1 <= m <= 12:
                        months.add(f"{y:04d}-{m:02d}")
                        months.add(f"{y + m // 12:04d}-{m % 12 + 1:02d}")
    return months


@dataclass
class MonthState:
    """A published month: its pools' figures (cents) and its sign-off state."""
    month: str
    pools: int
    entitled_cents: int
    funded_cents: int
    distributed_cents: int
    invoices: int
    status: str                        # open, signed or needs re-sign-off
    signed_by: str | None = None       # the latest sign-off, if any
    signed_at: dt.datetime | None = None


def months(home: Path) -> list[MonthState]:
    """Every month published in the warehouse (one with pools or invoices), oldest first."""
    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        rows = con.execute("""
            WITH p AS (SELECT month, count(*) AS n, sum(entitled_cents) AS e, sum(funded_cents) AS f,
                              sum(distributed_cents) AS d FROM pool_audit GROUP BY 1),
                 i AS (SELECT month, count(*) AS n FROM invoice_audit GROUP BY 1)
            SELECT coalesce(p.month, i.month), coalesce(p.n, 0), coalesce(p.e, 0), coalesce(p.f, 0),
                   coalesce(p.d, 0), coalesce(i.n, 0)
            FROM p FULL JOIN i USING (month) ORDER BY 1""").fetchall()
        out = []
        for month, n, e, f, d, invoices in rows:
            last = latest_signoff(con, month)
            out.append(MonthState(month, n, int(e), int(f), int(d), invoices, month_status(con, month),
                                  last[0] if last else None, last[1] if last else None))
    return out


def sign_off(home: Path, month: str, by: str) -> str:
    """Record that ``by`` signed off ``month`` as published; the digest of its tables."""
    need_month(month)
    with connect(home / "pennytrail.duckdb") as con:
        try:
            return record_sign_off(con, month, by)
        except ValueError as e:
            raise UserError(str(e)) from None
