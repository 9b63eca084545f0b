"""Traces: follow premium from a worker, a grower's month or an invoice back to the source rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..core.warehouse import connect
from .errors import UserError, need_month


@dataclass
class Trace:
    subject: dict                     # what was traced, as asked
    notes: list[str]
    tables: list = field(default_factory=list)  # reports.render.Table, main table first


def _date(text: str | dt.date | None) -> dt.date | None:
    if text is None or isinstance(text, dt.date):
        return text
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _run(home: Path, subject: dict, fn, *args) -> Trace:
    from reports.trace import NotFound

    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        try:
            notes, tables = fn(con, *args)
        except NotFound as e:
            raise UserError(str(e)) from None
    return Trace(subject, notes, tables)


def trace_worker(home: Path, worker_id: str | None = None, name: str | None = None, grower: str | None = None,
                 date_from: str | dt.date | None = None, date_to: str | dt.date | None = None) -> Trace:
    """A worker's pay periods: shares, pay, status and where the money stopped. Give a worker id
    or a name (one of them)."""
    from reports import trace

    if (worker_id is None) == (name is None):
        raise UserError("give a WORKER_ID or --name NAME (one of them)")
    start, end = _date(date_from), _date(date_to)
    return _run(home, {"trace": "worker", "worker_id": worker_id, "name": name, "grower": grower},
                trace.trace_worker, worker_id, name, grower, start, end)


def trace_grower(home: Path, grower_id: str, month: str) -> Trace:
    """A grower's pools in a month, the invoices that fed them and its workers."""
    from reports import trace

    need_month(month)
    return _run(home, {"trace": "grower", "grower_id": grower_id, "month": month},
                trace.trace_grower, grower_id, month)


def trace_invoice(home: Path, buyer: str, invoice: str) -> Trace:
    """An invoice's lines, payments, intermediaries, growers and the pools it fed."""
    from reports import trace

    return _run(home, {"trace": "invoice", "buyer_id": buyer, "invoice_id": invoice},
                trace.trace_invoice, buyer, invoice)
