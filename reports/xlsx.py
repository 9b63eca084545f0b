"""Writing tables to Excel safely: money as dollars, text never read as a formula.

A workbook is streamed (openpyxl write-only mode), so a month of a national program's worker
audit fits in memory. Every column has a kind that sets its cell format:

- ``money``: integer cents written as an exact decimal number of dollars (``12345`` → 123.45),
  shown as ``$#,##0.00``. The file holds the decimal's text, so no binary float stands between
  the warehouse and the cell.
- ``text``: stored as a string cell, always. A value such as ``=HYPERLINK(...)``, ``+1``,
  ``-2``, ``@x`` or one starting with a tab stays text and is never evaluated. Characters the
  file format cannot hold are replaced by U+FFFD, and text longer than a cell holds is cut
  with a note of how long it was.
- ``bool``: the text ``yes`` or ``no``, the same way in every sheet and row.
- ``int``, ``decimal``, ``date``, ``pct`` (a fraction shown as a percentage).

Every sheet prints on pages as wide as the paper (landscape when its columns are wider than a
portrait page), with its header row repeated on every page. Text wraps within its column's set
width (a cell never spills over the next one, nor past the last column), so a sheet's print
scale is set by its column widths alone, which add up to at most ``PRINT_WIDTH`` so that a
page prints at a readable size. Every row whose text wraps says its height (LibreOffice
does not fit a row to its text when it reads a file), worked out from the widths of DejaVu
Sans, which is wider than Calibri. A detail
sheet ends with a total row (``Sheet.total``): its rows counted and its money columns summed. A sheet never passes Excel's
1,048,576 rows: the rows after the limit go on to a sheet of the same columns named
``Title (2)``, and so on, whose first line says so. The same content gives the same bytes (the
file's dates are fixed), so a workbook written again over unchanged figures is unchanged.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Sequence
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pennytrail.core.tables import Column

MAX_CELL_TEXT = 32_767
FORMATS = {
    "money": '"$"#,##0.00;[Red]-"$"#,##0.00',
    "int": "#,##0",
    "decimal": "#,##0.000",
    "date": "yyyy-mm-dd",
    "pct": "0.0%",
}
TOP = Alignment(vertical="top")
WRAP = Alignment(wrap_text=True, vertical="top")
TOTAL_FONT = Font(bold=True)
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
TITLE_FONT = Font(bold=True, size=14)


def safe_text(value: object) -> str:
    """Text as a spreadsheet cell can hold it, unchanged where possible."""
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
    if len(text) > MAX_CELL_TEXT:
        note = f" …[cut: {len(text):,} characters in all]"
        text = text[: MAX_CELL_TEXT - len(note)] + note
    return text


def dollars_value(cents: int) -> Decimal:
    """Integer cents as the exact number of dollars a money cell holds: 12345 → Decimal('123.45')
    (written in the file as ``123.45``, never through a binary float)."""
    return Decimal(int(cents)).scaleb(-2)


LINE_HEIGHT = 13  # points: a line of 10-point text


@functools.lru_cache(maxsize=1)
def _advances() -> dict[str, float]:
    """Each character's width in DejaVu Sans (the type LibreOffice prints a workbook in when
    Calibri is absent; wider than Calibri), in column-width units: a column's width is counted
    in digits, and a digit is 0.636 em wide."""
    from fontTools.ttLib import TTFont

    from .confirm import font_files  # late: the PDF writer's fonts, read only when a row's height is worked out

    font = TTFont(str(font_files()[""]), lazy=True)
    em = font["head"].unitsPerEm
    digit = font["hmtx"][font.getBestCmap()[ord("0")]][0]
    out = {chr(code): font["hmtx"][glyph][0] / digit for code, glyph in font.getBestCmap().items() if code < 0x3000}
    font.close()
    return out if em else {}


def text_width(text: str) -> float:
    """How many column-width units ``text`` takes (a character the font lacks counts as 1.2)."""
    widths = _advances()
    return sum(widths.get(c, 1.2) for c in text)


def wrapped_lines(text: str, width: int) -> int:
    """How many lines ``text`` takes when wrapped at spaces within a column ``width`` units
    wide (a word longer than a line is broken)."""
    room = max(1.0, width - 1.0)  # a cell's padding
    space = text_width(" ")
    lines = 0
    for part in text.split("\n"):
        lines += 1
        at = 0.0
        for word in part.split(" "):
            n = text_width(word)
            if at and at + space + n > room:
                lines += 1
                at = 0.0
            while n > room:  # a long word fills lines of its own
                lines += 1
                n -= room
            at += (space if at else 0) + n
    return lines


EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_MAX_ROWS = 1_048_576
FIXED_TIME = dt.datetime(2000, 1, 1)  # the file's creation date: the same content gives the same bytes
PORTRAIT_WIDTH = 95  # column widths (characters) that fit a portrait page; wider sheets print landscape
PRINT_WIDTH = 160  # the most column widths a sheet's columns may add up to: a landscape page then prints
                   # at 70% or more, its 10-point type at 7 points or more
STREAM_AFTER = 1_000  # data rows written cell by cell by openpyxl; later rows are streamed (see Sheet)


class Sheet:
    """One streamed worksheet: optional title lines, a header row, then rows of values.

    The first ``STREAM_AFTER`` data rows are written by openpyxl, cell by cell. Later rows (a
    month's worker audit can have a million) are written as the same cell XML openpyxl writes,
    with the workbook's own style ids, into a temporary file that ``Book.save`` splices into the
    sheet: openpyxl's per-cell objects cost about 30 µs a cell, which is minutes for such a sheet.
    Rows past ``EXCEL_MAX_ROWS`` go on to a continuation sheet (``rows`` counts them all).
    """

    def __init__(self, book: "Book", title: str, columns: Sequence[Column], lines: Sequence[str] = (),
                 part: int = 1):
        self.book, self.title, self.part = book, title, part
        self.ws = book.wb.create_sheet(title=title if part == 1 else f"{title[:25]} ({part})")
        self.number = len(book.wb.worksheets)  # openpyxl saves it as xl/worksheets/sheet<number>.xml
        self.columns = list(columns)
        self.rows = 0  # rows of this sheet and its continuations
        self._here = 0  # rows of this sheet
        self._next: Sheet | None = None
        self._letters = [get_column_letter(i) for i in range(1, len(self.columns) + 1)]
        self._stream = None
        self._styles: dict[str, int] = {}
        self._sums = [0 if col.kind == "money" else None for col in self.columns]
        self._totalled = 0  # the total row, written after the data rows (outside the filter)
        widths = self._widths = []
        for i, col in enumerate(self.columns, start=1):
            width = col.width or max(10, min(60, len(col.header) + 2))
            widths.append(width)
            self.ws.column_dimensions[get_column_letter(i)].width = width
        self.header_row = len(lines) + (1 if lines else 0) + 1
        self._print_setup(sum(widths))
        self.ws.freeze_panes = f"A{self.header_row + 1}"  # before the first row: the view is written with it
        across = sum(widths)
        last = get_column_letter(max(1, len(self.columns)))
        for i, line in enumerate(lines):
            # a line spans the sheet's columns and wraps within them, never past the last one
            cell = self._text(line)
            if i == 0:
                cell.font = TITLE_FONT
            else:
                self.ws.row_dimensions[i + 1].height = LINE_HEIGHT * wrapped_lines(str(line), across) + 2
            self.ws.append([cell])
            if len(self.columns) > 1:
                self.ws.merged_cells.add(f"A{i + 1}:{last}{i + 1}")
        if lines:
            self.ws.append([])
        header = []
        # a header wraps to as many lines as its longest header needs in its column
        lines_needed = max([1] + [wrapped_lines(c.header, w - 1) for c, w in zip(self.columns, widths)])
        self.ws.row_dimensions[self.header_row].height = LINE_HEIGHT * lines_needed + 2
        for col in self.columns:
            cell = self._text(col.header)
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            header.append(cell)
        self.ws.append(header)

    def _print_setup(self, width: int) -> None:
        ws = self.ws
        ws.page_setup.orientation = "landscape" if width > PORTRAIT_WIDTH else "portrait"
        ws.page_setup.paperSize = "1"  # Letter
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = ws.page_margins.bottom = 0.6
        ws.page_margins.header = ws.page_margins.footer = 0.3
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = f"{self.header_row}:{self.header_row}"
        ws.print_options.gridLines = True
        ws.oddFooter.center.text = "&A, page &P of &N"

    def _text(self, value: object) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value=safe_text(value))
        cell.data_type = "s"  # never a formula, whatever the text starts with
        cell.alignment = WRAP
        return cell

    def _cell(self, kind: str, value: object) -> WriteOnlyCell | None:
        if value is None:
            return None
        if kind == "text":
            return self._text(value)
        if kind == "bool":
            return self._text("yes" if value else "no")
        if kind == "money":
            value = dollars_value(value)
        elif kind == "date" and isinstance(value, dt.datetime):
            value = value.date()
        cell = WriteOnlyCell(self.ws, value=value)
        if kind in FORMATS:
            cell.number_format = FORMATS[kind]
        cell.alignment = TOP
        return cell

    def append(self, row: Sequence[object]) -> None:
        self.rows += 1
        for i, v in enumerate(row):
            if self._sums[i] is not None and v is not None:
                self._sums[i] += int(v)
        if self._next is not None:
            self._next.append(row)
            return
        if self.header_row + self._here >= EXCEL_MAX_ROWS:
            first = self.rows - 1
            self._next = Sheet(self.book, self.title, self.columns,
                               [f"{self.title}, continued: rows {first + 1:,} onwards (a sheet holds at most "
                                f"{EXCEL_MAX_ROWS:,} rows)"], self.part + 1)
            self.book._sheets.append(self._next)
            self._next.append(row)
            return
        if self._here < STREAM_AFTER:
            height = self._height(row)
            if height:
                self.ws.row_dimensions[self.header_row + self._here + 1].height = height
            self.ws.append([self._cell(col.kind, v) for col, v in zip(self.columns, row)])
        else:
            self._stream_row(row)
        self._here += 1

    def _height(self, row: Sequence[object]) -> float | None:
        """The height (points) of a row whose text wraps to more than one line in its column, as
        its longest cell needs; None for a row of one line. LibreOffice does not fit a row it
        reads to its text, so the row says it."""
        lines = 1
        for col, width, v in zip(self.columns, self._widths, row):
            if v is not None and col.kind in ("text", "bool"):
                text = str(v)
                if len(text) * 1.6 >= width - 1 or not text.isascii() or "\n" in text:  # no ASCII is wider than 1.6
                    lines = max(lines, wrapped_lines(text, width))
        return None if lines == 1 else LINE_HEIGHT * lines + 2

    def _style(self, kind: str) -> int:
        """The workbook's style id for a cell of ``kind`` (registered in the workbook if new)."""
        if kind not in self._styles:
            proto = WriteOnlyCell(self.ws)
            if kind == "text":
                proto.alignment = WRAP
            else:
                proto.number_format = FORMATS[kind]
                proto.alignment = TOP
            self._styles[kind] = proto.style_id
        return self._styles[kind]

    def _stream_row(self, row: Sequence[object]) -> None:
        if self._stream is None:
            self._stream = tempfile.TemporaryFile("w+", encoding="utf-8")
        r = self.header_row + self._here + 1
        height = self._height(row)
        out = [f'<row r="{r}" ht="{height}" customHeight="1">' if height else f'<row r="{r}">']
        for letter, col, v in zip(self._letters, self.columns, row):
            if v is None:
                continue
            kind = col.kind
            if kind == "bool":
                kind, v = "text", "yes" if v else "no"
            if kind == "text":
                out.append(f'<c r="{letter}{r}" s="{self._style("text")}" t="inlineStr"><is><t xml:space="preserve">'
                           f'{escape(safe_text(v))}</t></is></c>')
            else:
                if kind == "money":
                    text = f"{dollars_value(v):f}"
                elif kind == "date":
                    text = str(((v.date() if isinstance(v, dt.datetime) else v) - EXCEL_EPOCH).days)
                else:
                    text = str(v)
                out.append(f'<c r="{letter}{r}" s="{self._style(kind)}" t="n"><v>{text}</v></c>')
        out.append("</row>")
        self._stream.write("".join(out))

    def extend(self, rows: Iterable[Sequence[object]]) -> None:
        for row in rows:
            self.append(row)

    def total(self, label: str = "Total") -> None:
        """End the sheet (its last continuation) with a bold row: ``label`` and the number of rows
        in the first column, the sum of each money column under it."""
        if self._next is not None:
            self._next._sums = self._sums
            self._next.total(label)
            return
        cells = []
        for i, (col, s) in enumerate(zip(self.columns, self._sums)):
            if i == 0:
                cell = self._text(f"{label} ({self.rows:,} row{'s' if self.rows != 1 else ''})")
            elif s is not None:
                cell = self._cell("money", s)
            else:
                cell = None
            if cell is not None:
                cell.font = TOTAL_FONT
            cells.append(cell)
        height = self._height([cells[0].value] if cells and cells[0] is not None else [])
        if self._here < STREAM_AFTER and self._stream is None:
            if height:
                self.ws.row_dimensions[self.header_row + self._here + 1].height = height
            self.ws.append(cells)
        else:  # after streamed rows: the same XML, bold, at the end of the stream
            if self._stream is None:
                self._stream = tempfile.TemporaryFile("w+", encoding="utf-8")
            r = self.header_row + self._here + 1
            out = [f'<row r="{r}" ht="{height}" customHeight="1">' if height else f'<row r="{r}">']
            for letter, cell in zip(self._letters, cells):
                if cell is None:
                    continue
                if cell.data_type == "s":
                    out.append(f'<c r="{letter}{r}" s="{cell.style_id}" t="inlineStr"><is><t xml:space="preserve">'
                               f'{escape(str(cell.value))}</t></is></c>')
                else:
                    out.append(f'<c r="{letter}{r}" s="{cell.style_id}" t="n"><v>{cell.value:f}'
                               f'</v></c>')
            out.append("</row>")
            self._stream.write("".join(out))
        self._totalled = 1

    def finish(self) -> None:
        last = get_column_letter(max(1, len(self.columns)))
        self.ws.auto_filter.ref = f"A{self.header_row}:{last}{self.header_row + max(self._here, 1)}"


class Book:
    """A write-only workbook of ``Sheet``s, saved once."""

    def __init__(self) -> None:
        self.wb = Workbook(write_only=True)
        self.wb.properties.creator = "pennytrail"
        self.wb.properties.created = self.wb.properties.modified = FIXED_TIME
        self._sheets: list[Sheet] = []

    def sheet(self, title: str, columns: Sequence[Column], lines: Sequence[str] = ()) -> Sheet:
        sheet = Sheet(self, title, columns, lines)
        self._sheets.append(sheet)
        return sheet

    def save(self, path: Path) -> Path:
        """Write the workbook to ``path``; a file that already holds the same bytes is left as it is."""
        for sheet in self._sheets:
            sheet.finish()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        self.wb.save(tmp)
        _rewrite(tmp, {f"xl/worksheets/sheet{s.number}.xml": s._stream for s in self._sheets if s._stream})
        if path.exists() and _same(path, tmp):
            tmp.unlink()
        else:
            tmp.replace(path)
        return path


def _same(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def _rewrite(path: Path, streamed: dict) -> None:
    """Rewrite the file with every entry dated ``FIXED_TIME`` (a zip entry carries the time it was
    written), putting each streamed sheet's rows at the end of its sheetData."""
    out = path.with_name(path.name + ".spliced")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = item.external_attr
            data = zin.read(item.filename)
            if item.filename == "docProps/core.xml":  # openpyxl dates it when it saves
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + FIXED_TIME.strftime(
                    "%Y-%m-%dT%H:%M:%SZ").encode("ascii"), data)
            if item.filename not in streamed:
                zout.writestr(info, data)
                continue
            head, tail = data.decode("utf-8").split("</sheetData>", 1)
            rows = streamed[item.filename]
            rows.seek(0)
            with zout.open(info, "w", force_zip64=True) as f:
                f.write(head.encode("utf-8"))
                while chunk := rows.read(1 << 20):
                    f.write(chunk.encode("utf-8"))
                f.write(("</sheetData>" + tail).encode("utf-8"))
            rows.close()
    os.replace(out, path)
