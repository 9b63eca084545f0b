"""The senders' own pages: what became of each of their files (``/files``), and the grower's own
pools and the workers it still has to pay (``/grower``).

A sender's account is tied to one party; every handler here reaches data through that party id
(``app.sender_files``, ``app.grower_view``), so a page cannot show another party's file or
rows: another party's file id is answered 404, as a file that does not exist. What the pages
show of workers (names, pay) is recorded in the audit log, who and what, never the values.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response

from pennytrail.app import grower_view, sender_files

from .table import PARTY, Page

SENDERS = ("buyer", "grower", "intermediary")
ROWS_SHOWN = 500  # quarantined rows on a file's page at once; the CSV holds them all


def _submissions(ctx, party: str) -> list[dict]:
    """The party's receipts of the portal's uploads (``file`` relative to the data folder)."""
    return sender_files.receipts(ctx.config.home, party)


def _snapshot(ctx):
    return ctx.published.cursor()  # None before the first close: every submission is then waiting


def files(ctx, h) -> Response:
    party = ctx.party
    found = sender_files.sender_files(_snapshot(ctx), party, _submissions(ctx, party))
    return h.page(ctx, "files.html", files=found)


def _detail(ctx, file_id: str) -> sender_files.FileDetail:
    party = ctx.party
    detail = sender_files.file_detail(_snapshot(ctx), party, file_id, _submissions(ctx, party))
    if detail is None:
        raise HTTPException(404)
    return detail


def file_page(ctx, h, file_id: str) -> Response:
    detail = _detail(ctx, file_id)
    rows = detail.row_rejections
    offset = max(0, min(_offset(ctx), max(0, len(rows) - 1)))
    shown = rows[offset:offset + ROWS_SHOWN]
    if shown:
        ctx.audit("view file", f"file {detail.file.id}", f"{len(shown)} quarantined row(s) with their values")
    return h.page(ctx, "file.html", f=detail.file, whole=detail.file_rejection, rows=shown, total=len(rows),
                  offset=offset, limit=ROWS_SHOWN)


def _offset(ctx) -> int:
    text = ctx.request.query_params.get("offset", "0").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else 0


def rejected_csv(ctx, h, file_id: str) -> Response:
    detail = _detail(ctx, file_id)
    ctx.audit("download", f"file {detail.file.id}", f"rejected rows: {len(detail.row_rejections)}")
    name = sender_files.rejected_csv_name(detail)
    return Response(sender_files.rejected_csv(detail).encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- the grower's own page ---------------------------------------------------------------------

def _grower(ctx):
    party = ctx.party
    con = ctx.db()
    name = grower_view.grower_name(con, party)
    if name is None:
        raise HTTPException(404)
    return con, party, name


def grower(ctx, h) -> Response:
    con, party, name = _grower(ctx)
    months = grower_view.pools_by_month(con, party)
    to_pay = grower_view.to_pay(con, party)
    if to_pay:
        ctx.audit("view grower page", f"grower {party}", f"{len(to_pay)} worker row(s) to pay, with names")
    return h.page(ctx, "my_grower.html", grower_id=party, grower_name=name, months=months, to_pay=to_pay,
                  owed=sum(r["to_pay_cents"] for r in to_pay if r["to_pay_cents"] > 0))


def to_pay_csv(ctx, h) -> Response:
    con, party, _ = _grower(ctx)
    rows = grower_view.to_pay(con, party)
    ctx.audit("download", f"grower {party}", f"workers to pay (CSV): {len(rows)} row(s)")
    return Response(grower_view.to_pay_csv(rows).encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="workers-to-pay.csv"'})


def to_pay_xlsx(ctx, h) -> Response:
    con, party, name = _grower(ctx)
    rows = grower_view.to_pay(con, party)
    ctx.audit("download", f"grower {party}", f"workers to pay (XLSX): {len(rows)} row(s)")
    with tempfile.TemporaryDirectory() as tmp:
        path = grower_view.to_pay_xlsx(rows, Path(tmp) / "workers-to-pay.xlsx", party, name)
        body = path.read_bytes()
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="workers-to-pay.xlsx"'})


PAGES = [
    Page("GET", "/files", files, SENDERS, scope=PARTY),
    Page("GET", "/files/{file_id}", file_page, SENDERS, scope=PARTY, slow=True),
    Page("GET", "/files/{file_id}/rejected.csv", rejected_csv, SENDERS, scope=PARTY, slow=True),
    Page("GET", "/grower", grower, ("grower",), scope=PARTY, slow=True),
    Page("GET", "/grower/to-pay.csv", to_pay_csv, ("grower",), scope=PARTY, slow=True),
    Page("GET", "/grower/to-pay.xlsx", to_pay_xlsx, ("grower",), scope=PARTY, slow=True),
]
