"""Tables of a report, rendered for a terminal, for tools (CSV, JSON) and as a workbook.

A ``Table`` (``pennytrail.core.tables``) is a title, typed columns (the kinds of
``reports.xlsx``) and rows of dicts. Money
is integer cents everywhere: dollars in the terminal and the workbook, ``*_cents`` integers in
CSV and JSON. A CSV text value that a spreadsheet would run as a formula (one starting with
``= + - @``, a tab or a carriage return) is written with a leading ``'``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Sequence

from pennytrail.core.money import dollars
from pennytrail.core.tables import Column, Table

from .xlsx import Book

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _plain(value: object) -> object:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _shown(col: Column, value: object) -> str:
    if value is None:
        return ""
    if col.kind == "money":
        return dollars(int(value))
    if col.kind == "bool":
        return "yes" if value else "no"
    if col.kind == "int":
        return f"{int(value):,}"
    if col.kind == "pct":
        return f"{Decimal(value) * 100:.1f}%"
    return str(value)


def text_table(table: Table, limit: int | None = None) -> str:
    """The table for reading; the ``sources`` column is left out (the *Source rows* table lists them)."""
    columns = [c for c in table.columns if c.name != "sources"]
    rows = table.rows if limit is None else table.rows[:limit]
    cells = [[_shown(c, r.get(c.name)) for c in columns] for r in rows]
    heads = [c.header for c in columns]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(heads)]
    right = [c.kind in ("money", "int", "decimal", "pct") for c in columns]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right)).rstrip()

    out = [table.title, line(heads), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    if not table.rows:
        out.append("(none)")
    elif limit is not None and len(table.rows) > limit:
        out.append(f"… and {len(table.rows) - limit:,} more rows (use --format json or --xlsx FILE for all)")
    return "\n".join(out)


def to_text(tables: Sequence[Table], notes: Sequence[str] = (), limit: int | None = 50) -> str:
    parts = list(notes)
    parts += [text_table(t, limit) for t in tables]
    return "\n\n".join(parts) + "\n"


def to_csv(table: Table) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.name for c in table.columns])
    for row in table.rows:
        writer.writerow([csv_text(_plain(row.get(c.name))) if row.get(c.name) is not None else ""
                         for c in table.columns])
    return buf.getvalue()


def to_json(subject: dict, tables: Sequence[Table], notes: Sequence[str] = ()) -> str:
    doc = {**subject, "notes": list(notes),
           "tables": {t.title: [{k: _plain(v) for k, v in r.items()} for r in t.rows] for t in tables}}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def to_xlsx(tables: Sequence[Table], path: Path, notes: Sequence[str] = ()) -> Path:
    book = Book()
    for i, table in enumerate(tables):
        sheet = book.sheet(table.title[:31], table.columns, list(notes) if i == 0 else ())
        sheet.extend([r.get(c.name) for c in table.columns] for r in table.rows)
    return book.save(path)
