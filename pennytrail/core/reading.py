"""Reading submission files as text (docs/rules.md: Row outcomes).

A file becomes a ``RawTable``: every value as trimmed text, header names trimmed and
lower-cased, and for each row the number a spreadsheet shows for it (the header is row 1).
Nothing here decides whether a value is valid; that is ``validate``'s job. A file that cannot
be read as a table at all raises ``FileProblem`` with a code and a message for the sender.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from . import infiles, screening
from .screening import FileProblem, screen_csv, screen_xlsx

__all__ = ["FileProblem", "RawTable", "read_table", "text_column", "TRIMMED"]


@dataclass(frozen=True)
class RawTable:
    sheet: str | None
    header: list[str]          # normalized names, in file order
    table: pa.Table            # one text column per header name; blank rows already removed
    row_numbers: np.ndarray    # spreadsheet row number of each row

    @property
    def rows(self) -> int:
        return len(self.row_numbers)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The rows as a frame of Arrow-backed text columns (made on first use, no copy)."""
        if not self.header:
            return pd.DataFrame(index=range(self.rows))
        return pd.DataFrame({name: pd.Series(pd.arrays.ArrowStringArray(self.table.column(name)), copy=False)
                             for name in self.header})


def text_column(tables: list[pa.Table], name: str, missing: str | None) -> pa.ChunkedArray:
    """Column ``name`` of several files' raw text tables as one Arrow text column, no copy; in a
    file without it, every value is ``missing`` (None: null)."""
    chunks = []
    for t in tables:
        if name in t.column_names:
            chunks += [c.cast(pa.string()) for c in t.column(name).chunks]
        elif t.num_rows:
            chunks.append(pa.repeat(pa.scalar(missing, pa.string()), t.num_rows))
    return pa.chunked_array(chunks, pa.string())


def read_hashed(path: Path, root: Path | None = None, sha256: str | None = None) -> bytes:
    """Every byte of the file at ``path``, read once, after its size is checked: only a regular
    file reached without a symbolic link (under ``root``, when given). With ``sha256``, the bytes
    must be the ones hashed (``FILE_CHANGED`` otherwise)."""
    with infiles.open_regular(path, root) as (fd, st):
        screening.screen_size(path.suffix.lower(), st.st_size)
        data = infiles.read_regular(fd, st, path.name)
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise infiles.changed_while_read(path.name)
    return data


def read_table(path: Path, root: Path | None = None, sha256: str | None = None) -> RawTable:
    """The file as a table of text; ``FileProblem`` when it cannot be one. Only a regular file
    reached without a symbolic link (under ``root``, when given) is opened, and it is read once:
    the checks that bound the read (size, format, a workbook's parts and extent, ``screening``)
    and the parse see the same bytes. With ``sha256``, those bytes must be the ones hashed
    (``FILE_CHANGED`` otherwise)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise FileProblem("WRONG_FORMAT", f"only .csv and .xlsx files are read, not {suffix or 'a file without an ending'}: "
                                          "save the table as CSV UTF-8 or Excel Workbook (.xlsx) and send it again")
    data = read_hashed(path, root, sha256)
    if suffix == ".csv":
        screen_csv(data, len(data))
        return _read_csv(data)
    screen_xlsx(data, len(data))
    return _read_xlsx(data)


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _read_csv(data: bytes) -> RawTable:
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FileProblem("MALFORMED_CSV", f"the file holds a NUL byte (offset {nul}, line {_line_of(data, nul)}): it "
                                           "is not CSV text; save the table again as CSV UTF-8")
    try:
        data.decode("utf-8")  # checked, not kept: the parsers read the bytes
    except UnicodeDecodeError as e:
        raise FileProblem(
            "BAD_ENCODING",
            f"the file is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}, line "
            f"{_line_of(data, e.start)}); save it as CSV UTF-8 and send it again",
        ) from None
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    del data
    if not body.strip():
        raise FileProblem("MISSING_COLUMN", "the file is empty: it has no header row")
    if body.count(b"\r") > body.count(b"\r\n"):  # old Mac line ends (CR alone): a spreadsheet reads them as rows
        body = re.sub(rb"\r(?!\n)", b"\n", body)
    if body.count(b'"') % 2:
        _unterminated_quote(body)
    header_end = body.find(b"\n")
    header = body if header_end < 0 else body[:header_end]
    width = len(next(csv.reader(io.StringIO(header.decode("utf-8").rstrip("\r"), newline=""))))
    if width > screening.LIMITS.columns:
        raise FileProblem("FILE_TOO_LARGE", f"the header has {width:,} columns, more than {screening.LIMITS.columns:,}: "
                                            "it is not a plain table")
    lines = body.count(b"\n") + 1
    if lines * width > screening.LIMITS.cells:
        raise FileProblem("FILE_TOO_LARGE", f"the file spans {lines:,} lines × {width:,} columns, more than the "
                                            f"{screening.LIMITS.cells:,} cells pennytrail reads from one file: split it")
    grid = _arrow_csv(body, width)
    if grid is None:
        grid = _general_csv(body.decode("utf-8"))
    return _from_grid(grid, sheet=None)


def _unterminated_quote(body: bytes) -> None:
    """An odd number of quotes: reject the file if a quoted field runs to the end of the file (it
    would swallow every row after it), naming the line where it opens."""
    reader = csv.reader(io.StringIO(body.decode("utf-8"), newline=""), strict=True)
    csv.field_size_limit(max(csv.field_size_limit(), len(body) + 1))
    start = 1
    try:
        for _ in reader:
            start = reader.line_num + 1
    except csv.Error:
        pass
    else:
        return  # a stray quote inside an unquoted field: read as text
    raise FileProblem("MALFORMED_CSV", f"a quoted field opens on line {start} and is never closed, so every line after "
                                       "it would be one value: close the quote (or remove it) and send the file again")


BLANK_LINE = re.compile(rb"\n[ \t]*\r?\n")


def _arrow_csv(body: bytes, width: int) -> pa.Table | None:
    """The common case, read by Arrow's parser: every line a record of as many fields as the
    header. None when the file has a blank line (a spreadsheet counts it as a row, Arrow drops
    it), rows of other widths, or a row longer than Arrow's block; the general reader takes those."""
    if BLANK_LINE.search(b"\n" + body.rstrip(b"\r\n")):  # blank lines at the very end number no row
        return None
    names = [f"f{i}" for i in range(width)]
    try:
        return pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid:
        return None


GENERAL_CHUNK = 50_000  # rows the general reader holds as Python lists at once


def _general_csv(text: str) -> pa.Table:
    """Any CSV the fast path did not take (blank lines, rows wider or narrower than the header):
    rows in order, blank lines as blank rows, short rows padded. Read in chunks into Arrow columns,
    so that Python lists of at most ``GENERAL_CHUNK`` rows exist at once."""
    csv.field_size_limit(screening.LIMITS.row_bytes + 1)
    reader = csv.reader(io.StringIO(text, newline=""))
    columns: list[list[pa.Array]] = []
    done = 0
    while True:
        try:
            rows = [r for _, r in zip(range(GENERAL_CHUNK), reader)]
        except csv.Error as e:
            raise FileProblem("FILE_TOO_LARGE" if "field limit" in str(e) else "MALFORMED_CSV",
                              f"line {reader.line_num}: {e}; a value of more than {screening.LIMITS.row_bytes // (1 << 20)} MB "
                              "is not read" if "field limit" in str(e) else
                              f"line {reader.line_num} is not CSV ({e}): fix it and send the file again") from None
        if not rows:
            break
        width = max(len(columns), max(len(r) for r in rows))
        for _ in range(width - len(columns)):  # a wider row: earlier rows have the new column blank
            columns.append([pa.array([""] * done, pa.string())] if done else [])
        for i in range(width):
            columns[i].append(pa.array([r[i] if i < len(r) else "" for r in rows], pa.string()))
        done += len(rows)
    return pa.table({f"f{i}": pa.chunked_array(c, pa.string()) for i, c in enumerate(columns)})


XLSX_CHUNK = 50_000  # sheet rows turned into Python values at once


def _read_xlsx(data: bytes) -> RawTable:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0)
        rows = sheet.iter_rows()
        width = sheet.width
        start = sheet.start or (0, 0)
        columns: list[list[pa.Array]] = [[] for _ in range(start[1] + width)]
        count = start[0]  # rows above the sheet's first cell and columns left of it: blank, counted
        lead = [""] * start[1]
        while True:
            chunk = [lead + [_cell_text(v) for v in r] for _, r in zip(range(XLSX_CHUNK), rows)]
            if not chunk:
                break
            for i, col in enumerate(columns):
                col.append(pa.array([r[i] if i < len(r) else "" for r in chunk], pa.string()))
    except FileProblem:
        raise
    except Exception as e:  # calamine raises its own error types for broken workbooks
        raise FileProblem("UNREADABLE_FILE", f"the workbook cannot be read ({type(e).__name__}: "
                                             f"{str(e).splitlines()[0] if str(e) else ''})") from None
    if not width:
        raise FileProblem("MISSING_COLUMN", f"sheet {sheet.name!r} is empty: it has no header row")
    blank_top = pa.array([""] * count, pa.string())
    grid = pa.table({f"f{i}": pa.chunked_array(([blank_top] if count else []) + c, pa.string())
                     for i, c in enumerate(columns)})
    return _from_grid(grid, sheet=sheet.name)


def _cell_text(v: object) -> str:
    """An Excel cell as the text a person sees, never through Decimal(float)."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        # A numeric id stored as a float (1001.0) reads as 1001; otherwise the shortest
        # decimal that round-trips, which is what Excel displays for a general cell.
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, dt.datetime):
        if v.time() == dt.time(0):
            return v.date().isoformat()
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


# Trimmed from both ends of every value and header name: Unicode white space (the no-break
# spaces included), the invisible zero-width characters and byte-order marks, and control characters.
TRIMMED = ("".join(chr(c) for c in range(0x21)) + "\x7f\x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x2010))
           + "\u2028\u2029\u202f\u205f\u2060\u3000\ufeff")


def _check_row_bytes(cols: list) -> None:
    """No row holds more than ``screening.LIMITS.row_bytes`` of text (whole-column byte lengths, no loop per row)."""
    if not cols or not len(cols[0]):
        return
    total = np.zeros(len(cols[0]), dtype=np.int64)
    for c in cols:
        total += pc.binary_length(c).to_numpy(zero_copy_only=False)
    if total.max() > screening.LIMITS.row_bytes:
        i = int(np.argmax(total > screening.LIMITS.row_bytes))
        raise FileProblem("FILE_TOO_LARGE", f"row {i + 1} holds {total[i]:,} bytes of text, more than the "
                                            f"{screening.LIMITS.row_bytes // (1 << 20)} MB pennytrail reads in one row: shorten it")


def _from_grid(grid: pa.Table, sheet: str | None) -> RawTable:
    """A grid of text cells (header row included) as a RawTable: values trimmed, blank rows
    dropped but counted in the row numbers, header names trimmed and lower-cased."""
    cols = [pc.utf8_trim(c, TRIMMED) for c in grid.columns]  # Arrow kernels, not a Python loop
    _check_row_bytes(cols)
    blank = np.ones(grid.num_rows, dtype=bool)
    for c in cols:
        blank &= pc.equal(c, "").to_numpy(zero_copy_only=False)
    nonblank = np.flatnonzero(~blank)
    if len(nonblank) == 0:
        raise FileProblem("MISSING_COLUMN", "the file has no header row")
    h = nonblank[0]
    names = [str(c[h].as_py()).lower() for c in cols]
    keep = np.flatnonzero(~blank[h + 1:]) + h + 1
    if len(keep) > screening.LIMITS.rows:
        raise FileProblem("FILE_TOO_LARGE", f"the file has {len(keep):,} rows, more than the {screening.LIMITS.rows:,} pennytrail "
                                            "reads from one file (a spreadsheet's own limit): split it into several files")
    take = None if len(keep) == grid.num_rows - 1 else pa.array(keep)  # no blank rows: nothing to drop
    row_numbers = keep + 1
    header: list[str] = []
    arrays: dict[str, pa.ChunkedArray] = {}
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        col = cols[i].slice(1) if take is None else cols[i].take(take)
        if name == "":
            if not pc.any(pc.not_equal(col, "")).as_py():
                continue  # a trailing or stray empty column
            name = f"column_{i + 1}"
        if name in seen:
            raise FileProblem(
                "DUPLICATE_COLUMN",
                f"the header names {name!r} twice (columns {seen[name] + 1} and {i + 1}); "
                "keep one and send the file again",
            )
        seen[name] = i
        header.append(name)
        arrays[name] = col if isinstance(col, pa.ChunkedArray) else pa.chunked_array([col])
    table = pa.table(arrays) if arrays else pa.table({})
    return RawTable(sheet=sheet, header=header, table=table, row_numbers=row_numbers)
