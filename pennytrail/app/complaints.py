"""The worker's side of the portal: reaching one's statements by code, the limit on wrong codes,
and a complaint that opens a case in the monitors' queue (docs/workers.md).

Codes are looked up in the published snapshot; what a worker does is kept in the portal's
database (``portal_db``) and recorded in the audit log by the worker's identity (grower and
worker), never by code. A complaint is a case (``casework``) opened by the worker, with the
language they read the page in, their message and, if they gave one, a phone number to call
back; the grower has no access to any of it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from . import casework, portal_db

WINDOW = 15 * 60      # seconds: wrong codes counted over this long, and how long a client is refused
MAX_WRONG = 10        # wrong codes from one client address within WINDOW; then 429 for WINDOW
MAX_MESSAGE = 2000
MAX_PHONE = 40
MAX_PER_DAY = 5       # complaints one worker may send within 24 hours (a monitor reads each)
WORKER_ROLE = "worker"

DDL = """
CREATE TABLE IF NOT EXISTS worker_code_failures (address TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS worker_code_failures_address ON worker_code_failures (address, at);
CREATE TABLE IF NOT EXISTS worker_complaints (
    case_id INTEGER PRIMARY KEY REFERENCES cases(id),
    language TEXT NOT NULL,
    message TEXT NOT NULL,
    callback_phone TEXT,
    received_at TEXT NOT NULL
);
"""
_ready: set[Path] = set()


def _ensure(home: Path) -> None:
    key = Path(home).resolve()
    if key in _ready and portal_db.path(home).exists():
        return
    with portal_db.connect(home) as con:
        for statement in DDL.split(";"):
            if statement.strip():
                con.execute(statement)
    _ready.add(key)


def actor(grower_id: str, worker_id: str) -> str:
    """How a worker is named in the audit log: by grower and worker id, never by code."""
    return f"worker {grower_id}/{worker_id}"


# --- wrong codes ----------------------------------------------------------------------------------

def refused_for(home: Path, address: str | None, now: float | None = None) -> int:
    """Seconds the client at ``address`` must still wait (0: it may try a code)."""
    _ensure(home)
    now = time.time() if now is None else now
    with portal_db.connect(home, write=False) as con:
        rows = con.execute("SELECT at FROM worker_code_failures WHERE address = ? AND at > ? ORDER BY at DESC "
                           "LIMIT ?", [address or "", now - WINDOW, MAX_WRONG]).fetchall()
    if len(rows) < MAX_WRONG:
        return 0
    return max(1, int(rows[0]["at"] + WINDOW - now) + 1)


def wrong_code(home: Path, address: str | None, now: float | None = None) -> None:
    """Count a wrong code from ``address`` (the code itself is not kept)."""
    _ensure(home)
    now = time.time() if now is None else now
    with portal_db.connect(home) as con:
        con.execute("INSERT INTO worker_code_failures VALUES (?, ?)", [address or "", now])
        con.execute("DELETE FROM worker_code_failures WHERE at < ?", [now - 2 * WINDOW])


# --- complaints ---------------------------------------------------------------------------------

class ComplaintError(ValueError):
    """What is wrong with a complaint, as a key of the worker's page's messages."""


PHONE = re.compile(r"[0-9+() .\-]{7,40}")


def open_complaint(home: Path, grower_id: str, worker_id: str, periods: dict[str, tuple[str, int]], message: str,
                   language: str, phone: str | None, address: str | None) -> int:
    """Open a case in the monitors' queue for the worker's own complaint; its number."""
    _ensure(home)
    message = (message or "").strip()
    phone = (phone or "").strip() or None
    if not periods:
        raise ComplaintError("periods")
    if not message:
        raise ComplaintError("message")
    if len(message) > MAX_MESSAGE:
        raise ComplaintError("long")
    if phone is not None and (not PHONE.fullmatch(phone) or sum(c.isdigit() for c in phone) < 7):
        raise ComplaintError("phone")
    import datetime as dt

    since = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S UTC")
    with portal_db.connect(home, write=False) as con:
        recent = con.execute("SELECT count(*) FROM worker_complaints w JOIN cases c ON c.id = w.case_id "
                             "WHERE c.grower_id = ? AND c.worker_id = ? AND w.received_at >= ?",
                             [grower_id, worker_id, since]).fetchone()[0]
    if recent >= MAX_PER_DAY:
        raise ComplaintError("many")
    who = actor(grower_id, worker_id)
    case_id = casework.open_case(home, grower_id, worker_id, periods, who, WORKER_ROLE, message)
    with portal_db.connect(home) as con:
        con.execute("INSERT INTO worker_complaints VALUES (?, ?, ?, ?, ?)",
                    [case_id, language, message, phone, portal_db.now_text()])
        portal_db.audit(con, who, WORKER_ROLE, "complaint sent", f"case {case_id}",
                        f"language {language}, periods {', '.join(sorted(periods))}", address)
    return case_id


def of_worker(home: Path, grower_id: str, worker_id: str) -> list[dict]:
    """The worker's own complaints, newest first: case number, when, state and periods."""
    _ensure(home)
    with portal_db.connect(home, write=False) as con:
        rows = [dict(r) for r in con.execute("""
            SELECT c.id, c.state, c.opened_at, c.closed_at, w.received_at FROM cases c
            JOIN worker_complaints w ON w.case_id = c.id
            WHERE c.grower_id = ? AND c.worker_id = ? ORDER BY c.id DESC""", [grower_id, worker_id]).fetchall()]
        for r in rows:
            r["periods"] = [dict(p) for p in con.execute(
                "SELECT period_start, status_at_open FROM case_periods WHERE case_id = ? ORDER BY period_start",
                [r["id"]]).fetchall()]
    return rows


def of_case(home: Path, case_id: int) -> dict | None:
    """The worker's complaint behind a case (language, message, phone to call back), or None."""
    _ensure(home)
    with portal_db.connect(home, write=False) as con:
        row = con.execute("SELECT * FROM worker_complaints WHERE case_id = ?", [case_id]).fetchone()
    return dict(row) if row else None


def cases_for_monitors(home: Path) -> list[dict]:
    """Every case, those the workers opened first (newest first within each), each with whether
    it came from the worker and the language the worker used."""
    _ensure(home)
    cases = casework.list_cases(home)
    with portal_db.connect(home, write=False) as con:
        langs = dict(con.execute("SELECT case_id, language FROM worker_complaints").fetchall())
    for c in cases:
        c["from_worker"] = c["id"] in langs
        c["language"] = langs.get(c["id"])
    return sorted(cases, key=lambda c: (not c["from_worker"], -c["id"]))


def reference(case_id: int) -> str:
    """A case's number as a worker reads it out."""
    return f"{case_id:05d}"
