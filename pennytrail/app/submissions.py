"""Senders' own submissions through the portal (docs/senders.md: Sending files in the portal).

A buyer, grower or intermediary signed in to the portal sends its own files: it uploads one,
which is *staged* (kept in the home's private staging folder, ``HOME/portal/staging``, under a
random token, never under a name from the upload), screened and previewed exactly as
``pennytrail preview`` would show it stored in the inbox (the mapping profile that matches
``inbox/<kind>/senders/<party_id>/…`` applies), and only when the sender presses *Submit* is it
stored in ``<data>/inbox/<kind>/senders/<party_id>/`` under a name the program chooses:
``YYYYMMDDTHHMMSSZ-<first 16 hex digits of its SHA-256>.csv|xlsx``. The uploaded name is kept
as metadata in the portal's database (``submissions``), never as a path. The next close reads the
file as any other in the inbox; its rows must be the sender's own (SPEC §3c, ``WRONG_SENDER``).

The same bytes sent twice by the same party for the same kind change nothing: the second
submission answers with the first one's receipt and writes nothing. Two identical submissions at
the same moment also end as one file: the database's unique key (party, kind, SHA-256) admits
one, and the file is created with a hard link that fails if the name exists.

A sender may also declare a *nil return*: nothing to send for a month (purchases, payments,
sales) or a pay period (payroll). It is recorded (``nil_returns``) and listed like a file.

Every upload, preview, submission and nil return is in the audit log.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..core.private import create_file, make_dir
from ..core.publish import is_month
from ..core.reference import ReferenceDataError, load_reference
from ..core.screening import MiB
from . import portal_db
from .portal_db import connect, now_text
from .senders import Preview, preview

# who may send what: the kinds of §3 file each sender's role sends. A grower sends its payroll and
# reports its sales to buyers (the seller's half of the handshake, §4a: any grower may, since
# whether it sells to buyers directly is a matter of its own invoices); an intermediary reports
# the premium it passes on (payments) and its sales; a buyer its purchases and its payments.
KINDS = {"buyer": ("purchases", "payments"), "grower": ("payroll", "sales"),
         "intermediary": ("payments", "sales")}
ENDINGS = (".csv", ".xlsx")
MAX_UPLOAD = 20 * MiB  # one uploaded file
STAGING = ("portal", "staging")
STAGED_FOR = 24 * 3600  # seconds a staged upload waits for its Submit
STAGED_PER_PARTY = 10   # staged uploads a party may hold at once; an older one makes room
MAX_NAME = 200          # characters of the uploaded name kept as metadata
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
# a party id that can be a folder of the inbox as it is (SPEC §3c names the folder by the id)
SAFE_PARTY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class SubmissionError(ValueError):
    """What the sender is told, one line: the upload or declaration is refused."""


class TooLarge(SubmissionError):
    pass


class NotAllowed(SubmissionError):
    """The sender's role may not send that kind."""


def kinds_for(role: str) -> tuple[str, ...]:
    """The kinds of file an account of ``role`` may send (none for staff)."""
    return KINDS.get(role, ())


def stored_folder(data: Path, kind: str, party_id: str) -> Path:
    """``<data>/inbox/<kind>/senders/<party_id>``: where a sender's files are stored (SPEC §3c)."""
    if not SAFE_PARTY.fullmatch(party_id) or party_id in (".", ".."):
        raise SubmissionError(f"the party id {party_id!r} cannot name a folder of the inbox: ask the program to "
                              "give the party a plain id (letters, digits, '.', '-', '_')")
    return Path(data) / "inbox" / kind / "senders" / party_id


def shown_name(name: str | None) -> str:
    """The uploaded file's name as metadata: its last path segment, control characters and
    line ends removed, at most ``MAX_NAME`` characters (never a path)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > MAX_NAME:
        stem, dot, ending = name.rpartition(".")
        name = (stem[:MAX_NAME - len(ending) - 2] + "…." + ending) if dot and len(ending) < 10 else name[:MAX_NAME]
    return name or "(no name)"


def _ending(name: str) -> str:
    ending = os.path.splitext(name)[1].lower()
    if ending not in ENDINGS:
        raise SubmissionError(f"only .csv and .xlsx files are accepted, not {ending or 'a file without an ending'}: "
                              "save the table as CSV UTF-8 or Excel Workbook (.xlsx)")
    return ending


def _check_sender(data: Path, party_id: str, role: str, kind: str) -> None:
    if kind not in kinds_for(role):
        allowed = kinds_for(role)
        raise NotAllowed(f"a {role} does not send {kind}" + (f": it sends {' and '.join(allowed)}" if allowed else ""))
    try:
        ref = load_reference(Path(data))
    except ReferenceDataError:
        raise SubmissionError("the program's reference data cannot be read just now: try again later, or tell the "
                              "program's accountant") from None
    found = ref.parties.get(party_id)
    if found is None or found[0] != role:
        raise NotAllowed(f"{party_id!r} is not a {role} in the program's reference parties")


# --- staging -------------------------------------------------------------------------------------

@dataclass
class Staged:
    token: str
    party_id: str
    kind: str
    original_name: str
    sha256: str
    size: int
    ending: str
    preview: Preview
    staged_at: str


def _staging(home: Path) -> Path:
    return make_dir(Path(home).joinpath(*STAGING))


def _sweep(folder: Path, party_id: str) -> None:
    """Remove staged uploads older than ``STAGED_FOR``, and the party's oldest beyond its share."""
    now = time.time()
    mine = []
    for meta in folder.glob("*.json"):
        try:
            st = meta.stat()
            info = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if now - st.st_mtime > STAGED_FOR:
            _discard(folder, meta.stem)
        elif info.get("party_id") == party_id:
            mine.append((st.st_mtime, meta.stem))
    for _, token in sorted(mine)[:max(0, len(mine) - STAGED_PER_PARTY + 1)]:
        _discard(folder, token)


def _discard(folder: Path, token: str) -> None:
    for ending in (*ENDINGS, ".json", ".claimed"):
        (folder / f"{token}{ending}").unlink(missing_ok=True)


def _read_bounded(stream: BinaryIO, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        chunk = stream.read(1024 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the file is larger than {limit // MiB} MB, the most the portal takes in one upload: "
                           "split it into several files")
        chunks.append(chunk)


def stage(home: Path, data: Path, party_id: str, role: str, kind: str, filename: str | None, stream: BinaryIO,
          by: str, address: str | None = None) -> Staged:
    """Keep an upload in the staging folder and preview it as it would be stored; the token
    that ``submit`` takes. ``SubmissionError`` (one line for the sender) when it is refused
    before it could be read as a table: a kind the role does not send, an ending that is not
    .csv or .xlsx, an empty file, a file over ``MAX_UPLOAD``. Whatever the preview finds in a
    file it can read (a workbook too large unpacked, text that is not UTF-8, rows of another
    party) is the preview's outcome, shown to the sender."""
    home, data = Path(home), Path(data)
    name = shown_name(filename)
    try:
        _check_sender(data, party_id, role, kind)
        ending = _ending(name)
        body = _read_bounded(stream, MAX_UPLOAD)
        if not body.strip():
            raise SubmissionError("the file is empty: send the table with its header row")
        folder_of_party = stored_folder(data, kind, party_id)
    except SubmissionError as e:
        portal_db.record(home, by, role, "upload refused", f"{kind} of {party_id}", f"{name!r}: {e}", address)
        raise
    folder = _staging(home)
    _sweep(folder, party_id)
    token = secrets.token_urlsafe(24)
    path = folder / f"{token}{ending}"
    sha = hashlib.sha256(body).hexdigest()
    fd = create_file(path)
    with os.fdopen(fd, "wb") as f:
        f.write(body)
    del body
    place = (folder_of_party / f"upload{ending}").relative_to(data).as_posix()
    seen = preview(data, path, rows=10, place=place)
    staged_at = now_text()
    meta = {"party_id": party_id, "kind": kind, "original_name": name, "sha256": sha, "size": path.stat().st_size,
            "ending": ending, "by": by, "staged_at": staged_at, "periods": seen.periods}
    fd = create_file(folder / f"{token}.json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(meta, f)
    portal_db.record(home, by, role, "upload", f"{kind} of {party_id}",
                     f"{name!r}, {meta['size']} bytes, SHA-256 {sha}", address)
    portal_db.record(home, by, role, "preview", f"{kind} of {party_id}",
                     f"{name!r}: {seen.outcome}; {seen.rows_accepted} accepted, {seen.rows_quarantined} quarantined, "
                     f"{seen.rows_skipped} skipped", address)
    return Staged(token, party_id, kind, name, sha, meta["size"], ending, seen, staged_at)


def _staged_meta(home: Path, token: str, party_id: str) -> tuple[Path, dict]:
    """The staged upload of ``token`` and its metadata; LookupError when there is none of the party."""
    if not TOKEN.fullmatch(token or ""):
        raise LookupError(token)
    folder = Path(home).joinpath(*STAGING)
    try:
        meta = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise LookupError(token) from None
    if meta.get("party_id") != party_id or meta.get("ending") not in ENDINGS:
        raise LookupError(token)
    return folder / f"{token}{meta['ending']}", meta


def discard(home: Path, token: str, party_id: str) -> None:
    """Drop a staged upload the sender decided not to submit."""
    try:
        _staged_meta(home, token, party_id)
    except LookupError:
        return
    _discard(Path(home).joinpath(*STAGING), token)


# --- submitting ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Receipt:
    id: int
    party_id: str
    kind: str
    stored_path: str          # relative to the data folder
    original_name: str
    sha256: str
    size: int
    submitted_by: str
    submitted_at: str
    periods: tuple[str, ...]
    duplicate: bool = False   # the same bytes were received before: this is the first receipt

    @property
    def reference(self) -> str:
        return f"S-{self.id:06d}"


def _receipt(row, duplicate: bool = False) -> Receipt:
    return Receipt(row["id"], row["party_id"], row["kind"], row["stored_path"], row["original_name"], row["sha256"],
                   row["size"], row["submitted_by"], row["submitted_at"], tuple(json.loads(row["periods"] or "[]")),
                   duplicate)


def _place(source: Path, target: Path) -> None:
    """``target`` made with ``source``'s bytes at once, never replacing a file: a hard link
    (``EEXIST`` if the name is taken), or, across file systems, a hidden copy in the target's
    folder (a close skips hidden files) linked into place."""
    try:
        os.link(source, target)
        return
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
    hidden = target.parent / f".{target.name}.{secrets.token_hex(4)}.part"
    fd = create_file(hidden)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())
        os.link(hidden, target)
    finally:
        hidden.unlink(missing_ok=True)


def submit(home: Path, data: Path, token: str, party_id: str, role: str, by: str,
           address: str | None = None) -> Receipt:
    """Store the staged upload of ``token`` in the party's inbox folder; its receipt.
    ``LookupError``: no such staged upload of the party (expired, submitted already, another
    party's). The same bytes received before from the party for the kind: the first receipt
    (``duplicate``), nothing written."""
    home, data = Path(home), Path(data)
    staged, meta = _staged_meta(home, token, party_id)
    kind = meta["kind"]
    _check_sender(data, party_id, role, kind)
    # one submit of a staged upload: its metadata is claimed by a rename, which one request wins;
    # a second click of Submit finds nothing staged (LookupError) and stores nothing twice
    claimed = staged.parent / f"{token}.claimed"
    try:
        os.rename(staged.parent / f"{token}.json", claimed)
    except FileNotFoundError:
        raise LookupError(token) from None
    try:
        body = staged.read_bytes()
    except FileNotFoundError:
        claimed.unlink(missing_ok=True)
        raise LookupError(token) from None
    sha = hashlib.sha256(body).hexdigest()
    if sha != meta["sha256"]:  # changed since it was previewed: nothing of it is kept
        _discard(staged.parent, token)
        raise LookupError(token)
    del body
    folder = stored_folder(data, kind, party_id)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"{stamp}-{sha[:16]}{meta['ending']}"
    rel = target.relative_to(data).as_posix()
    with connect(home) as con:
        cur = con.execute("INSERT OR IGNORE INTO submissions (party_id, kind, stored_path, original_name, sha256, "
                          "size, periods, submitted_by, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          [party_id, kind, rel, meta["original_name"], sha, meta["size"], json.dumps(meta["periods"]),
                           by, now_text()])
        row = con.execute("SELECT * FROM submissions WHERE party_id = ? AND kind = ? AND sha256 = ?",
                          [party_id, kind, sha]).fetchone()
        fresh = cur.rowcount == 1
        if not fresh:
            portal_db.audit(con, by, role, "submission already received", f"{kind} of {party_id}",
                            f"{meta['original_name']!r}, SHA-256 {sha}: receipt S-{row['id']:06d} of "
                            f"{row['submitted_at']}", address)
    if not fresh:
        _discard(staged.parent, token)
        return _receipt(row, duplicate=True)
    try:
        make_dir(folder)
        _place(staged, target)
    except BaseException:
        with connect(home) as con:
            con.execute("DELETE FROM submissions WHERE id = ?", [row["id"]])
        os.replace(claimed, staged.parent / f"{token}.json")  # staged again: the sender may submit it anew
        raise
    _discard(staged.parent, token)
    portal_db.record(home, by, role, "submit", f"{kind} of {party_id}",
                     f"{meta['original_name']!r} stored as {rel}, SHA-256 {sha}, receipt S-{row['id']:06d}", address)
    return _receipt(row)


def receipt(home: Path, submission_id: int, party_id: str | None) -> Receipt | None:
    """A submission's receipt; None when there is none, or it is not ``party_id``'s (None: any party)."""
    with connect(home, write=False) as con:
        row = con.execute("SELECT * FROM submissions WHERE id = ?", [submission_id]).fetchone()
    if row is None or (party_id is not None and row["party_id"] != party_id):
        return None
    return _receipt(row)


# --- nil returns ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class NilReturn:
    id: int
    party_id: str
    kind: str
    period: str
    declared_by: str
    declared_at: str
    duplicate: bool = False


def _check_period(data: Path, party_id: str, kind: str, period: str) -> str:
    period = period.strip()
    if kind != "payroll":
        if not is_month(period):
            raise SubmissionError(f"a month is written YYYY-MM, like 2026-02, not {period[:20]!r}")
        return period
    try:
        day = dt.date.fromisoformat(period) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", period) else None
    except ValueError:
        day = None
    if day is None:
        raise SubmissionError(f"a pay period is named by its first day, YYYY-MM-DD, not {period[:20]!r}")
    program = load_reference(data).program_of(party_id)
    if program is None:
        raise SubmissionError(f"{party_id!r} has no program in the reference parties: its pay periods are not known")
    if (day - program.period_anchor).days % program.period_days:
        off = (day - program.period_anchor).days % program.period_days
        before = day - dt.timedelta(days=off)
        raise SubmissionError(f"{period} is not the first day of a pay period of {program.name}: its periods are "
                              f"{program.period_days} days long, one starts on {before.isoformat()}")
    return period


def declare_nil(home: Path, data: Path, party_id: str, role: str, kind: str, period: str, by: str,
                address: str | None = None) -> NilReturn:
    """Record that the party has nothing of ``kind`` to send for ``period`` (a month YYYY-MM, or
    for payroll the first day of a pay period of its program). Declared before: that record
    (``duplicate``), nothing written."""
    home, data = Path(home), Path(data)
    try:
        _check_sender(data, party_id, role, kind)
        period = _check_period(data, party_id, kind, period)
    except SubmissionError as e:
        portal_db.record(home, by, role, "nil return refused", f"{kind} of {party_id}", str(e), address)
        raise
    with connect(home) as con:
        cur = con.execute("INSERT OR IGNORE INTO nil_returns (party_id, kind, period, declared_by, declared_at) "
                          "VALUES (?, ?, ?, ?, ?)", [party_id, kind, period, by, now_text()])
        row = con.execute("SELECT * FROM nil_returns WHERE party_id = ? AND kind = ? AND period = ?",
                          [party_id, kind, period]).fetchone()
        fresh = cur.rowcount == 1
        portal_db.audit(con, by, role, "nil return" if fresh else "nil return already declared",
                        f"{kind} of {party_id}", f"nothing to send for {period}", address)
    return NilReturn(row["id"], row["party_id"], row["kind"], row["period"], row["declared_by"], row["declared_at"],
                     not fresh)


# --- what a sender sent --------------------------------------------------------------------------

def sent_by(home: Path, party_id: str) -> list[dict]:
    """The party's submissions and nil returns, newest first, for its page: each a dict with
    ``how`` (``file`` or ``nil``), ``id``, ``kind``, ``when``, ``periods`` (list), and for a
    file ``name`` (as uploaded), ``sha256``, ``size``, ``reference``."""
    with connect(home, write=False) as con:
        files = con.execute("SELECT * FROM submissions WHERE party_id = ?", [party_id]).fetchall()
        nils = con.execute("SELECT * FROM nil_returns WHERE party_id = ?", [party_id]).fetchall()
    out = [{"how": "file", "id": r["id"], "kind": r["kind"], "when": r["submitted_at"], "name": r["original_name"],
            "sha256": r["sha256"], "size": r["size"], "periods": json.loads(r["periods"] or "[]"),
            "reference": f"S-{r['id']:06d}", "by": r["submitted_by"]} for r in files]
    out += [{"how": "nil", "id": r["id"], "kind": r["kind"], "when": r["declared_at"], "name": None, "sha256": None,
             "size": None, "periods": [r["period"]], "reference": None, "by": r["declared_by"]} for r in nils]
    return sorted(out, key=lambda i: (i["when"], i["how"], i["id"]), reverse=True)


def sender_items(home: Path, party_id: str) -> list[dict]:
    """What the party has sent, one item per kind and period it covers, oldest first: a dict of

    - ``kind``: ``purchases``, ``payments``, ``payroll`` or ``sales``;
    - ``period``: the month ``YYYY-MM`` (purchases and sales by ship date, payments by paid
      date), or for payroll the pay period's first day ``YYYY-MM-DD``: each period its file's
      rows report that the preview accepted at upload; None for a file none of whose rows
      were accepted (it counts for no period);
    - ``how``: ``file`` (a submitted file: one item per period it covers) or ``nil`` (a nil
      return: nothing to send for that period);
    - ``when``: when it was received, ``YYYY-MM-DD HH:MM:SS UTC`` (text, sorts as time);
    - ``id``: the submission's or the nil return's number; ``reference``: a file's receipt
      (``S-000012``), None for a nil return.

    Files placed in the inbox by the program's staff are not here (they are no sender's)."""
    items = []
    for s in sent_by(home, party_id):
        for period in s["periods"] or [None]:
            items.append({"kind": s["kind"], "period": period, "how": s["how"], "when": s["when"], "id": s["id"],
                          "reference": s["reference"]})
    return sorted(items, key=lambda i: (i["when"], i["how"], i["id"], i["period"] or ""))
