"""A table of figures as plain data: a title, typed columns and rows of dicts.

The queries of the core return them (a trace, a month's sheets); the writers in ``reports/``
turn them into text, CSV, JSON or a workbook. A column's ``kind`` says how its values are
shown: ``money`` (integer cents), ``text``, ``bool``, ``int``, ``decimal``, ``date`` or ``pct``
(a fraction); ``width`` is its width in a workbook, in characters.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    kind: str = "text"
    width: int | None = None


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
