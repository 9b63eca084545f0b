"""A closed month's reports in the home: the close workbook and every buyer's confirmation.

What the ``month_reports`` asset writes for each month of a close: ``HOME/reports/close-MONTH.xlsx``
(with the portal's exception queue beside each exception, read-only) and the month's
confirmation to every buyer with an invoice or a payment in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pennytrail.core.confirmations import Issued
from pennytrail.core.exception_queue import queue_states

from .close import close_workbook_path, write_close_workbook
from .confirmations import issue_month


@dataclass
class MonthReports:
    workbook: Path
    rows: dict[str, int]
    confirmations: dict[str, Issued] = field(default_factory=dict)


def write_month_reports(con: duckdb.DuckDBPyConnection, home: Path, month: str) -> MonthReports:
    """Write HOME/reports/close-MONTH.xlsx (rewritten only when its content changed) and issue the
    month's confirmation to every buyer with an invoice or a payment in it (a new version only
    when its figures changed)."""
    path = close_workbook_path(home, month)
    done = MonthReports(path, write_close_workbook(con, month, path, queue=queue_states(home, month)))
    done.confirmations = issue_month(con, home, month)
    return done
