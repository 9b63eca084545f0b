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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


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
    frame: pd.DataFrame        # one str column per header name; blank rows already removed
    row_numbers: np.ndarray    # spreadsheet row number of each frame row


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
    try:
        grid = pd.read_csv(
            io.StringIO(text), header=None, dtype=str, keep_default_na=False, na_filter=False,
            skip_blank_lines=False, engine="c",
        )
    except (pd.errors.ParserError, ValueError):
        grid = _ragged_csv(text)
    return _from_grid(grid.fillna(""), sheet=None)


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
    grid = pd.DataFrame([[_cell_text(v) for v in r] + [""] * (width - len(r)) for r in rows], dtype=str)
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


def _from_grid(grid: pd.DataFrame, sheet: str | None) -> RawTable:
    grid = grid.astype("string[pyarrow]").apply(lambda col: col.str.strip())  # Arrow kernels, not a Python loop
    blank = (grid == "").all(axis=1).to_numpy(dtype=bool)
    nonblank = np.flatnonzero(~blank)
    if len(nonblank) == 0:
        raise FileProblem("MISSING_COLUMN", "the file has no header row")
    h = nonblank[0]
    names = [str(v).strip().lower() for v in grid.iloc[h]]
    body = grid.iloc[h + 1:]
    keep_rows = ~blank[h + 1:]
    body = body[keep_rows]
    row_numbers = np.arange(h + 2, h + 2 + len(keep_rows))[keep_rows]
    header: list[str] = []
    columns: dict[str, pd.Series] = {}
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        col = body.iloc[:, i]
        if name == "":
            if bool((col == "").all()):
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
        columns[name] = col.reset_index(drop=True)
    frame = pd.DataFrame(columns) if columns else pd.DataFrame(index=range(len(body)))
    return RawTable(sheet=sheet, header=header, frame=frame, row_numbers=row_numbers)
