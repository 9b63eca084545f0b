"""A month's reports in the home: the close workbook and every buyer's confirmation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .close import close_report
from .confirm import confirm


@dataclass
class MonthReports:
    workbook: Path
    rows: dict[str, int]
    confirmations: dict[str, Path] = field(default_factory=dict)


def close_workbook_path(home: Path, month: str) -> Path:
    return home / "reports" / f"close-{month}.xlsx"


def write_month_reports(con: duckdb.DuckDBPyConnection, home: Path, month: str) -> MonthReports:
    """Write HOME/reports/close-MONTH.xlsx and HOME/confirmations/BUYER/confirmation-MONTH.* for
    every buyer with an invoice in the month."""
    path = close_workbook_path(home, month)
    done = MonthReports(path, close_report(con, month, path))
    for (buyer,) in con.execute("SELECT DISTINCT buyer_id FROM invoice_audit WHERE month = ? ORDER BY 1",
                                [month]).fetchall():
        done.confirmations[buyer] = confirm(con, home, buyer, month).statement
    return done
