"""The portal's exception queue as a close reads it: the newest note on each exception of a month.

Accountants acknowledge or resolve a month's exceptions in the portal (``pennytrail.app.casework``);
the notes are kept in the portal's database (``HOME/portal/portal.sqlite``). The close workbook
shows each exception's state beside it, so the close reads them here: the database opened
read-only, never created, changed or migrated from this side. A home without a portal has no
notes, and every exception is open.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Callable

# the members of an exception that tell it apart within its month
EXCEPTION_KEY = ("level", "code", "party_id", "reference", "worker_id")


def portal_database(home: Path) -> Path:
    """The portal's database in the home."""
    return Path(home) / "portal" / "portal.sqlite"


def exception_key(row: dict) -> str:
    """An exception's key in the queue: a digest of the members that tell it apart."""
    text = "\x1f".join("" if row.get(k) is None else str(row[k]) for k in EXCEPTION_KEY)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def exception_states(home: Path, month: str) -> dict[str, dict]:
    """The newest note of each exception of the month, by key (``id``, ``month``,
    ``exception_key``, ``state``, ``note``, ``author``, ``at``); none when the home has no portal."""
    path = portal_database(home)
    if not path.is_file():
        return {}
    con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=10)
    try:
        con.row_factory = sqlite3.Row
        kept = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'exception_notes'").fetchone()
        if kept is None:  # a portal database the portal has not yet brought up to its schema
            return {}
        rows = con.execute("SELECT * FROM exception_notes WHERE month = ? ORDER BY id", [month]).fetchall()
    finally:
        con.close()
    return {r["exception_key"]: dict(r) for r in rows}


def queue_states(home: Path, month: str) -> Callable[[dict], dict | None]:
    """The month's exception queue as the close workbook reads it: an exception → its newest
    note (state, note, author, at), or None while it is open."""
    states = exception_states(home, month)
    return lambda e: states.get(exception_key(e))
