"""Every month the warehouse knows, with its state: not closed, closed and open, signed off,
changed since sign-off, or with its sign-off revoked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pennytrail.core.publish import month_status, months_available, published_months
from pennytrail.core.warehouse import connect


@dataclass
class Month:
    month: str
    state: str  # not closed | open | signed | needs re-sign-off
    detail: str
    invoices: int
    pools: int
    exceptions: int


def months_with_data(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Months the reconciled data holds (closed or not)."""
    return sorted(set(months_available(con)) | set(published_months(con)))


def month_states(con: duckdb.DuckDBPyConnection) -> list[Month]:
    closed = set(published_months(con))
    out = []
    for m in months_with_data(con):
        counts = con.execute("SELECT (SELECT count(*) FROM invoice_audit WHERE month = $m), "
                             "(SELECT count(*) FROM pool_audit WHERE month = $m), "
                             "(SELECT count(*) FROM exceptions WHERE month = $m)", {"m": m}).fetchone()
        if m not in closed:
            out.append(Month(m, "not closed", "has data; run `pennytrail close` to publish it", 0, 0, 0))
            continue
        state = month_status(con, m)
        last = con.execute("SELECT signed_by, signed_at, revoked_by, revoked_at, revoke_reason FROM signoffs "
                           "WHERE month = ? ORDER BY signed_at DESC, revoked_at IS NULL DESC LIMIT 1", [m]).fetchone()
        if last is None:
            detail = "closed, not signed off"
        elif last[3] is not None:
            detail = (f"sign-off by {last[0]} revoked by {last[2]} at {last[3]:%Y-%m-%d %H:%M} UTC: {last[4]}")
        elif state == "signed":
            detail = f"signed off by {last[0]} at {last[1]:%Y-%m-%d %H:%M} UTC"
        else:
            detail = f"changed since {last[0]} signed it off at {last[1]:%Y-%m-%d %H:%M} UTC; needs a new sign-off"
        out.append(Month(m, state, detail, *counts))
    return out


def list_months(home: Path) -> list[Month]:
    path = home / "pennytrail.duckdb"
    if not path.exists():
        return []
    with connect(path, read_only=True) as con:
        return month_states(con)
