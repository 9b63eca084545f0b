"""Writing tables to Excel safely: money as dollars, text never read as a formula.

A workbook is streamed (openpyxl write-only mode), so a month of a national program's worker
audit fits in memory. Every column has a kind that sets its cell format:

- ``money``: integer cents written as an exact decimal number of dollars (``12345`` → 123.45),
  shown as ``$#,##0.00``. openpyxl writes the decimal's text into the file, so no binary float
  stands between the warehouse and the cell.
- ``text``: stored as a string cell, always. A value such as ``=HYPERLINK(...)``, ``+1``,
  ``-2``, ``@x`` or one starting with a tab stays text and is never evaluated. Characters the
  file format cannot hold are replaced by U+FFFD, and text longer than a cell holds is cut
  with a note of how long it was.
- ``int``, ``decimal``, ``date``, ``bool``, ``pct`` (a fraction shown as a percentage).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

MAX_CELL_TEXT = 32_767
FORMATS = {
    "money": '"$"#,##0.00;[Red]-"$"#,##0.00',
    "int": "#,##0",
    "decimal": "#,##0.000",
    "date": "yyyy-mm-dd",
    "pct": "0.0%",
}
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
TITLE_FONT = Font(bold=True, size=14)


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    kind: str = "text"
    width: int | None = None


def safe_text(value: object) -> str:
    """Text as a spreadsheet cell can hold it, unchanged where possible."""
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
    if len(text) > MAX_CELL_TEXT:
        note = f" …[cut: {len(text):,} characters in all]"
        text = text[: MAX_CELL_TEXT - len(note)] + note
    return text


def cents_to_dollars(cents: int) -> Decimal:
    return Decimal(int(cents)).scaleb(-2)


class Sheet:
    """One streamed worksheet: optional title lines, a header row, then rows of values."""

    def __init__(self, book: "Book", title: str, columns: Sequence[Column], lines: Sequence[str] = ()):
        self.ws = book.wb.create_sheet(title=title)
        self.columns = list(columns)
        self.rows = 0
        for i, col in enumerate(self.columns, start=1):
            width = col.width or max(10, min(60, len(col.header) + 2))
            self.ws.column_dimensions[get_column_letter(i)].width = width
        self.header_row = len(lines) + (1 if lines else 0) + 1
        self.ws.freeze_panes = f"A{self.header_row + 1}"  # before the first row: the view is written with it
        for i, line in enumerate(lines):
            cell = self._text(line)
            if i == 0:
                cell.font = TITLE_FONT
            self.ws.append([cell])
        if lines:
            self.ws.append([])
        header = []
        for col in self.columns:
            cell = self._text(col.header)
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            header.append(cell)
        self.ws.append(header)

    def _text(self, value: object) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value=safe_text(value))
        cell.data_type = "s"  # never a formula, whatever the text starts with
        return cell

    def _cell(self, kind: str, value: object) -> WriteOnlyCell | None:
        if value is None:
            return None
        if kind == "text":
            return self._text(value)
        if kind == "money":
            value = cents_to_dollars(value)
        elif kind == "bool":
            value = bool(value)
        cell = WriteOnlyCell(self.ws, value=value)
        if kind in FORMATS:
            cell.number_format = FORMATS[kind]
        return cell

    def append(self, row: Sequence[object]) -> None:
        self.ws.append([self._cell(col.kind, v) for col, v in zip(self.columns, row)])
        self.rows += 1

    def extend(self, rows: Iterable[Sequence[object]]) -> None:
        for row in rows:
            self.append(row)

    def finish(self) -> None:
        last = get_column_letter(max(1, len(self.columns)))
        self.ws.auto_filter.ref = f"A{self.header_row}:{last}{self.header_row + max(self.rows, 1)}"


class Book:
    """A write-only workbook of ``Sheet``s, saved once."""

    def __init__(self) -> None:
        self.wb = Workbook(write_only=True)
        self._sheets: list[Sheet] = []

    def sheet(self, title: str, columns: Sequence[Column], lines: Sequence[str] = ()) -> Sheet:
        sheet = Sheet(self, title, columns, lines)
        self._sheets.append(sheet)
        return sheet

    def save(self, path: Path) -> Path:
        for sheet in self._sheets:
            sheet.finish()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        self.wb.save(tmp)
        tmp.replace(path)
        return path
