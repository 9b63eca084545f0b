"""A closed month's reports in the home: the close workbook and every buyer's confirmation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from . import confirmations


@dataclass
class MonthReports:
    workbook: Path
    rows: dict[str, int]
    confirmations: dict[str, confirmations.Issued] = field(default_factory=dict)


def close_workbook_path(home: Path, month: str) -> Path:
    return home / "reports" / f"close-{month}.xlsx"


def write_month_reports(con: duckdb.DuckDBPyConnection, home: Path, month: str) -> MonthReports:
    """Write HOME/reports/close-MONTH.xlsx (rewritten only when its content changed) and issue the
    month's confirmation to every buyer with an invoice or a payment in it (a new version only
    when its figures changed)."""
    from reports.close import close_report

    from .casework import queue_states

    path = close_workbook_path(home, month)
    done = MonthReports(path, close_report(con, month, path, queue=queue_states(home, month)))
    done.confirmations = confirmations.issue_month(con, home, month)
    return done
