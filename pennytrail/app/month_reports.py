"""A closed month's reports in the home: the close workbook and every buyer's confirmation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb

from reports.close import write_close

from ..core.closebook import month_book
from . import confirmations
from .casework import queue_states


@dataclass
class MonthReports:
    workbook: Path
    rows: dict[str, int]
    confirmations: dict[str, confirmations.Issued] = field(default_factory=dict)


def close_workbook_path(home: Path, month: str) -> Path:
    return home / "reports" / f"close-{month}.xlsx"


def write_close_workbook(con: duckdb.DuckDBPyConnection, month: str, path: Path,
                         progress: Callable[[str], None] | None = None,
                         queue: Callable[[dict], dict | None] | None = None) -> dict[str, int]:
    """Write the month's close workbook (``pennytrail.core.closebook``'s sheets) to ``path``; the
    rows written per sheet. ``queue`` gives an exception's state in the portal's queue."""
    return write_close(month_book(con, month, queue), path, progress)


def write_month_reports(con: duckdb.DuckDBPyConnection, home: Path, month: str) -> MonthReports:
    """Write HOME/reports/close-MONTH.xlsx (rewritten only when its content changed) and issue the
    month's confirmation to every buyer with an invoice or a payment in it (a new version only
    when its figures changed)."""
    path = close_workbook_path(home, month)
    done = MonthReports(path, write_close_workbook(con, month, path, queue=queue_states(home, month)))
    done.confirmations = confirmations.issue_month(con, home, month)
    return done
