"""Senders send their own files (docs/senders.md: Sending files in the portal): ``/submissions``
to upload a file and read its preview, Submit to store it in the inbox, a nil return when there
is nothing to send, and ``/receipts/{id}`` for a file's receipt. Each a thin call to
``pennytrail.app.submissions``; a sender sees and sends for its own party only."""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from pennytrail.app import submissions
from pennytrail.app.submissions import KINDS, MAX_UPLOAD

from .table import PARTY, Page

SENDERS = tuple(KINDS)  # buyer, grower, intermediary
# the upload's own body limit: the file and the form's few fields
UPLOAD_BODY = MAX_UPLOAD + 256 * 1024
WHAT = {"purchases": "purchases (your invoice lines)", "payments": "premium payments",
        "payroll": "payroll (one pay period or more)", "sales": "sales reports (what you billed to buyers)"}


def _data(ctx) -> Path:
    return Path(ctx.config.data) if ctx.config.data else Path(ctx.config.home) / "data"


def _list_page(ctx, h, status: int = 200, message: str | None = None, good: bool = False) -> Response:
    party = ctx.party
    return h.page(ctx, "submissions.html", status, party=party, kinds=submissions.kinds_for(ctx.user.role),
                  what=WHAT, items=submissions.sent_by(ctx.config.home, party), message=message, good=good,
                  max_mb=MAX_UPLOAD // submissions.MiB)


def list_submissions(ctx, h) -> Response:
    return _list_page(ctx, h)


def upload(ctx, h) -> Response:
    party = ctx.party
    kind = ctx.field("kind", 20)
    sent = ctx.form.get("file")
    if not isinstance(sent, UploadFile) or not sent.filename:
        return _list_page(ctx, h, 400, "Choose the file to send.")
    try:
        staged = submissions.stage(ctx.config.home, _data(ctx), party, ctx.user.role, kind, sent.filename, sent.file,
                                   ctx.user.email, ctx.address)
    except submissions.TooLarge as e:
        return _list_page(ctx, h, 413, f"Not received: {e}.")
    except submissions.NotAllowed as e:
        return _list_page(ctx, h, 403, f"Not received: {e}.")
    except submissions.SubmissionError as e:
        return _list_page(ctx, h, 400, f"Not received: {e}.")
    return h.page(ctx, "submission_preview.html", staged=staged, p=staged.preview, what=WHAT)


def submit(ctx, h) -> Response:
    party = ctx.party
    try:
        r = submissions.submit(ctx.config.home, _data(ctx), ctx.field("token", 64), party, ctx.user.role,
                               ctx.user.email, ctx.address)
    except LookupError:
        return _list_page(ctx, h, 409, "That upload is no longer waiting to be submitted (it was submitted already, "
                                       "or it expired): upload the file again.")
    except submissions.SubmissionError as e:
        return _list_page(ctx, h, 403 if isinstance(e, submissions.NotAllowed) else 400, f"Not submitted: {e}.")
    return RedirectResponse(f"/receipts/{r.id}" + ("?again=1" if r.duplicate else ""), status_code=303)


def discard(ctx, h) -> Response:
    submissions.discard(ctx.config.home, ctx.field("token", 64), ctx.party)
    return RedirectResponse("/submissions", status_code=303)


def nil_return(ctx, h) -> Response:
    party = ctx.party
    kind = ctx.field("kind", 20)
    try:
        n = submissions.declare_nil(ctx.config.home, _data(ctx), party, ctx.user.role, kind,
                                    ctx.field("period", 20), ctx.user.email, ctx.address)
    except submissions.NotAllowed as e:
        return _list_page(ctx, h, 403, f"Not recorded: {e}.")
    except submissions.SubmissionError as e:
        return _list_page(ctx, h, 400, f"Not recorded: {e}.")
    if n.duplicate:
        return _list_page(ctx, h, 200, f"Already declared on {n.declared_at}: nothing of {n.kind} to send for "
                                       f"{n.period}.")
    return _list_page(ctx, h, 200, f"Recorded: nothing of {n.kind} to send for {n.period}.", good=True)


def receipt(ctx, h, submission_id: int) -> Response:
    r = submissions.receipt(ctx.config.home, submission_id, ctx.party)
    if r is None:
        raise HTTPException(404)
    again = ctx.request.query_params.get("again") == "1"
    return h.page(ctx, "receipt.html", r=r, again=again, what=WHAT)


PAGES = [
    Page("GET", "/submissions", list_submissions, SENDERS, scope=PARTY),
    Page("POST", "/submissions", upload, SENDERS, slow=True, scope=PARTY, body=UPLOAD_BODY),
    Page("POST", "/submissions/submit", submit, SENDERS, slow=True, scope=PARTY),
    Page("POST", "/submissions/discard", discard, SENDERS, scope=PARTY),
    Page("POST", "/submissions/nil", nil_return, SENDERS, slow=True, scope=PARTY),
    Page("GET", "/receipts/{submission_id:int}", receipt, SENDERS, scope=PARTY),
]
