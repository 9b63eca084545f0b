"""Monitors' cases and accountants' notes on exceptions, kept in the portal's database.

A case is opened for one worker at one grower and the pay periods a complaint concerns, with
each period's status when it was opened. It carries notes, and is closed with an outcome.
Whether it was remedied is read from the published audit: every period it concerns is now
``OK`` although at least one was not when the case was opened.

An exception of a month is acknowledged (seen, being looked at) or resolved, each with a note;
its history is kept and the newest note is its state (``core.exception_queue``, which the close
workbook reads too).
"""

from __future__ import annotations

from pathlib import Path

from ..core.exception_queue import EXCEPTION_KEY, exception_key, exception_states  # noqa: F401 (read by the portal)
from .portal_db import audit, connect, now_text

MAX_NOTE = 4000


class CaseError(ValueError):
    pass


def _note(text: str | None, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise CaseError("a note is needed")
    if len(text) > MAX_NOTE:
        raise CaseError(f"a note may have at most {MAX_NOTE} characters")
    return text


def open_case(home: Path, grower_id: str, worker_id: str, periods: dict[str, tuple[str, int]], by: str,
              role: str, note: str | None = None) -> int:
    """Open a case; ``periods`` maps each period start (YYYY-MM-DD) to its (status, variance) now."""
    if not periods:
        raise CaseError("choose at least one pay period for the case")
    note = _note(note, required=False)
    with connect(home) as con:
        cur = con.execute("INSERT INTO cases (grower_id, worker_id, opened_by, opened_at) VALUES (?, ?, ?, ?)",
                          [grower_id, worker_id, by, now_text()])
        case_id = cur.lastrowid
        con.executemany("INSERT INTO case_periods VALUES (?, ?, ?, ?)",
                        [(case_id, p, s, v) for p, (s, v) in sorted(periods.items())])
        if note:
            con.execute("INSERT INTO case_notes (case_id, at, author, text) VALUES (?, ?, ?, ?)",
                        [case_id, now_text(), by, note])
        audit(con, by, role, "case opened", f"case {case_id}",
              f"worker {worker_id} at {grower_id}, periods {', '.join(sorted(periods))}")
    return case_id


def get_case(home: Path, case_id: int) -> dict | None:
    with connect(home, write=False) as con:
        row = con.execute("SELECT * FROM cases WHERE id = ?", [case_id]).fetchone()
        if row is None:
            return None
        case = dict(row)
        case["periods"] = [dict(r) for r in con.execute(
            "SELECT * FROM case_periods WHERE case_id = ? ORDER BY period_start", [case_id]).fetchall()]
        case["notes"] = [dict(r) for r in con.execute(
            "SELECT * FROM case_notes WHERE case_id = ? ORDER BY id", [case_id]).fetchall()]
        case["history"] = [dict(r) for r in con.execute(
            "SELECT at, actor, action, detail FROM audit WHERE subject = ? ORDER BY id", [f"case {case_id}"]).fetchall()]
    return case


def list_cases(home: Path, state: str | None = None, limit: int = 500) -> list[dict]:
    sql = "SELECT c.*, (SELECT count(*) FROM case_periods p WHERE p.case_id = c.id) AS periods FROM cases c"
    params: list = []
    if state:
        sql += " WHERE state = ?"
        params.append(state)
    with connect(home, write=False) as con:
        return [dict(r) for r in con.execute(sql + " ORDER BY id DESC LIMIT ?", [*params, limit]).fetchall()]


def add_note(home: Path, case_id: int, text: str, by: str, role: str) -> None:
    text = _note(text)
    with connect(home) as con:
        if con.execute("SELECT 1 FROM cases WHERE id = ?", [case_id]).fetchone() is None:
            raise LookupError(f"no case {case_id}")
        con.execute("INSERT INTO case_notes (case_id, at, author, text) VALUES (?, ?, ?, ?)",
                    [case_id, now_text(), by, text])
        audit(con, by, role, "case note", f"case {case_id}", None)


def close_case(home: Path, case_id: int, outcome: str, by: str, role: str) -> None:
    outcome = _note(outcome)
    with connect(home) as con:
        row = con.execute("SELECT state FROM cases WHERE id = ?", [case_id]).fetchone()
        if row is None:
            raise LookupError(f"no case {case_id}")
        if row["state"] == "closed":
            raise CaseError(f"case {case_id} is already closed")
        con.execute("UPDATE cases SET state = 'closed', outcome = ?, closed_by = ?, closed_at = ? WHERE id = ?",
                    [outcome, by, now_text(), case_id])
        audit(con, by, role, "case closed", f"case {case_id}", outcome)


def remedied(periods: list[dict], now_status: dict[str, str]) -> bool:
    """A case is remedied when every period it concerns is OK now and one was not when it was opened."""
    if not periods:
        return False
    return (all(now_status.get(p["period_start"]) == "OK" for p in periods)
            and any(p["status_at_open"] != "OK" for p in periods))


def note_exception(home: Path, month: str, key: str, state: str, note: str, by: str, role: str,
                   label: str) -> None:
    if state not in ("acknowledged", "resolved"):
        raise CaseError("an exception is acknowledged or resolved")
    note = _note(note)
    with connect(home) as con:
        con.execute("INSERT INTO exception_notes (month, exception_key, state, note, author, at) "
                    "VALUES (?, ?, ?, ?, ?, ?)", [month, key, state, note, by, now_text()])
        audit(con, by, role, f"exception {state}", f"month {month}", f"{label}: {note}")
