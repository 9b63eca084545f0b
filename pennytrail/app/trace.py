"""Traces: follow premium from a worker, a grower's month or an invoice back to the source rows.

The command opens the home's warehouse (``trace_worker``, ``trace_grower``, ``trace_invoice``);
the portal hands the connection to the snapshot it reads (``worker_periods``, ``grower_month``,
``invoice``). Both reach the figures through the same functions here, over the queries of
``pennytrail.core.trace``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ..core import trace
from ..core.tables import Table
from ..core.trace import NotFound
from ..core.warehouse import connect
from .errors import UserError, need_month

__all__ = ["NotFound", "Trace", "grower_month", "invoice", "trace_grower", "trace_invoice", "trace_worker",
           "worker_periods"]


@dataclass
class Trace:
    subject: dict                     # what was traced, as asked
    notes: list[str]
    tables: list[Table] = field(default_factory=list)  # main table first


def _date(text: str | dt.date | None) -> dt.date | None:
    if text is None or isinstance(text, dt.date):
        return text
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _run(home: Path, subject: dict, fn, *args) -> Trace:
    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        try:
            notes, tables = fn(con, *args)
        except NotFound as e:
            raise UserError(str(e)) from None
    return Trace(subject, notes, tables)


def worker_periods(con: duckdb.DuckDBPyConnection, who: list[tuple[str, str]], how: str,
                   names: dict[tuple[str, str], list[str]], date_from: dt.date | None = None,
                   date_to: dt.date | None = None) -> tuple[list[str], list[Table]]:
    """The pay periods and source rows of workers already found (``who``: (grower, worker id)
    pairs, found by ``how``; ``names``: the names on each one's stubs)."""
    return trace.trace_found(con, who, how, names, date_from, date_to)


def _worker(con: duckdb.DuckDBPyConnection, worker_id: str | None, name: str | None, grower: str | None,
            date_from: dt.date | None, date_to: dt.date | None) -> tuple[list[str], list[Table]]:
    who, how, names = trace.worker_found(con, worker_id, name, grower)
    return worker_periods(con, who, how, names, date_from, date_to)


def grower_month(con: duckdb.DuckDBPyConnection, grower_id: str, month: str) -> tuple[list[str], list[Table]]:
    """A grower's pools in a month, the invoices that fed them and its workers; ``NotFound``
    when the grower or its month is not published."""
    return trace.trace_grower(con, grower_id, month)


def invoice(con: duckdb.DuckDBPyConnection, buyer: str, invoice_id: str) -> tuple[list[str], list[Table]]:
    """An invoice's lines, payments, intermediaries, growers and the pools it fed; ``NotFound``
    when no published month holds it."""
    return trace.trace_invoice(con, buyer, invoice_id)


def trace_worker(home: Path, worker_id: str | None = None, name: str | None = None, grower: str | None = None,
                 date_from: str | dt.date | None = None, date_to: str | dt.date | None = None) -> Trace:
    """A worker's pay periods: shares, pay, status and where the money stopped. Give a worker id
    or a name (one of them)."""
    if (worker_id is None) == (name is None):
        raise UserError("give a WORKER_ID or --name NAME (one of them)")
    start, end = _date(date_from), _date(date_to)
    return _run(home, {"trace": "worker", "worker_id": worker_id, "name": name, "grower": grower},
                _worker, worker_id, name, grower, start, end)


def trace_grower(home: Path, grower_id: str, month: str) -> Trace:
    """A grower's pools in a month, the invoices that fed them and its workers."""
    need_month(month)
    return _run(home, {"trace": "grower", "grower_id": grower_id, "month": month}, grower_month, grower_id, month)


def trace_invoice(home: Path, buyer: str, invoice_id: str) -> Trace:
    """An invoice's lines, payments, intermediaries, growers and the pools it fed."""
    return _run(home, {"trace": "invoice", "buyer_id": buyer, "invoice_id": invoice_id}, invoice, buyer, invoice_id)
