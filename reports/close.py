"""The month's close workbook for program accountants, written to Excel.

The figures, sheet by sheet, are ``pennytrail.core.closebook``'s (the waterfall is
``pennytrail.core.waterfall``'s); this writes them: the *Summary* first, then each sheet with
its total row. A sheet longer than Excel allows continues on further sheets, and the Summary
says so. Its default place is ``HOME/reports/close-MONTH.xlsx`` (``close_workbook_path``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import duckdb

from pennytrail.core.closebook import SUMMARY_COLUMNS, CloseBook, month_book

from .xlsx import EXCEL_MAX_ROWS, Book


def write_close(book: CloseBook, path: Path, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write the month's close workbook to ``path``; return the rows written per sheet."""
    lines = list(book.lines)
    for sheet in book.sheets:
        if sheet.size > EXCEL_MAX_ROWS - 2:
            lines.append(f"{sheet.title}: {sheet.size:,} rows, more than one sheet holds; continued on sheets "
                         f"'{sheet.title[:25]} (2)' and after.")
    out = Book()
    summary = out.sheet("Summary", SUMMARY_COLUMNS, lines)
    summary.extend(book.waterfall)
    counts = {"Summary": summary.rows}
    for sheet in book.sheets:
        written = out.sheet(sheet.title, sheet.columns, sheet.lines)
        written.extend(sheet.rows)
        written.total()
        counts[sheet.title] = written.rows
        if progress and sheet.title != "Restatements":
            progress(f"{sheet.title}: {written.rows:,} rows")
    out.save(path)
    return counts


def close_workbook_path(home: Path, month: str) -> Path:
    return Path(home) / "reports" / f"close-{month}.xlsx"


def write_close_workbook(con: duckdb.DuckDBPyConnection, month: str, path: Path,
                         progress: Callable[[str], None] | None = None,
                         queue: Callable[[dict], dict | None] | None = None) -> dict[str, int]:
    """Write the month's close workbook (``pennytrail.core.closebook``'s sheets) to ``path``; the
    rows written per sheet. ``queue`` gives an exception's state in the portal's queue
    (``pennytrail.core.exception_queue.queue_states``)."""
    return write_close(month_book(con, month, queue), path, progress)
