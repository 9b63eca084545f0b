"""Reading submission files as text (SPEC.md §3).

A file becomes a ``RawTable``: every value as trimmed text, header names trimmed and
lower-cased, and for each row the number a spreadsheet shows for it (the header is row 1).
Nothing here decides whether a value is valid; that is ``validate``'s job. A file that cannot
be read as a table at all raises ``FileProblem`` with a code and a message for the sender.
"""

from __future__ import annotations

import csv
import datetime as dt
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


class FileProblem(Exception):
    """The whole file is rejected: ``code`` goes to the quarantine, ``message`` says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


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


def read_table(path: Path) -> RawTable:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".xlsx":
        return _read_xlsx(path)
    raise FileProblem("UNREADABLE_FILE", f"{path.name}: only .csv and .xlsx files are read")


def _read_csv(path: Path) -> RawTable:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FileProblem(
            "BAD_ENCODING",
            f"the file is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); "
            "save it as CSV UTF-8 and send it again",
        ) from None
    if not text.strip():
        raise FileProblem("MISSING_COLUMN", "the file is empty: it has no header row")
    grid = _arrow_csv(data, text)
    if grid is None:
        try:
            frame = pd.read_csv(
                io.StringIO(text), header=None, dtype=str, keep_default_na=False, na_filter=False,
                skip_blank_lines=False, engine="c",
            )
        except (pd.errors.ParserError, ValueError):
            frame = _ragged_csv(text)
        grid = pa.Table.from_pandas(frame.fillna("").astype(str), preserve_index=False)
    return _from_grid(grid, sheet=None)


BLANK_LINE = re.compile(rb"\n[ \t]*\r?\n")


def _arrow_csv(data: bytes, text: str) -> pa.Table | None:
    """The common case, read by Arrow's parser: every line a record of as many fields as the
    header. None when the file has a blank line (a spreadsheet counts it as a row, Arrow drops
    it) or rows of other widths; the general reader takes those."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if BLANK_LINE.search(b"\n" + body.rstrip(b"\r\n")):  # blank lines at the very end number no row
        return None
    width = len(next(csv.reader(io.StringIO(text, newline=""))))
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


def _ragged_csv(text: str) -> pd.DataFrame:
    """Rows with more fields than the header: read them all, padding the short ones."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    width = max(len(r) for r in rows)
    return pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=str)


def _read_xlsx(path: Path) -> RawTable:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as e:  # calamine raises its own error types for broken workbooks
        raise FileProblem("UNREADABLE_FILE", f"the workbook cannot be read ({type(e).__name__}: {e})") from None
    if not rows:
        raise FileProblem("MISSING_COLUMN", f"sheet {sheet.name!r} is empty: it has no header row")
    width = max(len(r) for r in rows)
    cells = [[_cell_text(v) for v in r] + [""] * (width - len(r)) for r in rows]
    grid = pa.table({f"f{i}": pa.array([r[i] for r in cells], pa.string()) for i in range(width)})
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


def _from_grid(grid: pa.Table, sheet: str | None) -> RawTable:
    """A grid of text cells (header row included) as a RawTable: values trimmed, blank rows
    dropped but counted in the row numbers, header names trimmed and lower-cased."""
    cols = [pc.utf8_trim_whitespace(c) for c in grid.columns]  # Arrow kernels, not a Python loop
    blank = np.ones(grid.num_rows, dtype=bool)
    for c in cols:
        blank &= pc.equal(c, "").to_numpy(zero_copy_only=False)
    nonblank = np.flatnonzero(~blank)
    if len(nonblank) == 0:
        raise FileProblem("MISSING_COLUMN", "the file has no header row")
    h = nonblank[0]
    names = [str(c[h].as_py()).lower() for c in cols]
    keep = np.flatnonzero(~blank[h + 1:]) + h + 1
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
