"""Signing off a month's close: the rules.

- The signer's name is printable text: no control or format characters (a line break, an
  escape sequence or a right-to-left override would make a record say something else than it
  shows), at most ``MAX_NAME`` characters, not blank.
- A month is signed only when it has been closed (published), and not twice for the same
  figures: a sign-off that is in force over the same digest is refused.
- A sign-off records the month's open exceptions (how many, and by code with their amounts),
  and the signer is shown them.
- A sign-off can be revoked, with the name of who revokes it and a reason (both held to the
  same rule); the record stays, marked revoked. The month is then open again.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

import duckdb

from .exception_sign import shown_sql
from .money import dollars
from .publish import digest, latest_signoff, published_months
from .warehouse import utc_seconds

MAX_NAME = 200
MAX_REASON = 2000


class SignoffRefused(ValueError):
    """A sign-off or revocation that the rules refuse; the message is one line."""


def check_text(what: str, text: str, limit: int) -> str:
    """``text`` trimmed, or SignoffRefused naming what is wrong with it."""
    value = text.strip()
    if not value:
        raise SignoffRefused(f"{what} is blank")
    bad = [ch for ch in value if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")]
    if bad:
        raise SignoffRefused(f"{what} holds a control or invisible character ({', '.join(sorted({f'U+{ord(c):04X}' for c in bad}))}); "
                             "type it as plain text")
    if len(value) > limit:
        raise SignoffRefused(f"{what} is {len(value)} characters long; at most {limit} are allowed")
    return value


def open_exceptions(con: duckdb.DuckDBPyConnection, month: str) -> list[tuple[str, int, int]]:
    """The month's published exceptions by code: (code, count, Σ amount in cents, signed as
    ``exception_sign`` shows it: short positive, paid beyond negative)."""
    return con.execute(f"SELECT code, count(*), coalesce(sum({shown_sql()}), 0)::BIGINT FROM exceptions "
                       "WHERE month = ? GROUP BY code ORDER BY count(*) DESC, code", [month]).fetchall()


def exceptions_text(rows: list[tuple[str, int, int]]) -> str:
    return "; ".join(f"{code} {n} ({dollars(cents)})" for code, n, cents in rows) or "none"


def sign_off(con: duckdb.DuckDBPyConnection, month: str, signed_by: str,
             now: dt.datetime | None = None) -> dict:
    """Record a sign-off of ``month``; return what was recorded (digest, open exceptions)."""
    name = check_text("the signer's name", signed_by, MAX_NAME)
    if month not in published_months(con):
        done = ", ".join(published_months(con)) or "none"
        raise SignoffRefused(f"month {month} has not been closed, so it cannot be signed off "
                             f"(closed months: {done})")
    d = digest(con, month)
    last = latest_signoff(con, month)
    if last is not None and last[2] == d:
        raise SignoffRefused(f"{month} is already signed off with these figures, by {last[0]} at "
                             f"{last[1]:%Y-%m-%d %H:%M} UTC; nothing changed since")
    excs = open_exceptions(con, month)
    at = utc_seconds(now)
    con.execute("INSERT INTO signoffs (month, signed_by, signed_at, digest, open_exceptions, exceptions_summary) "
                "VALUES (?, ?, ?, ?, ?, ?)", [month, name, at, d, sum(n for _, n, _ in excs), exceptions_text(excs)])
    return {"month": month, "signed_by": name, "signed_at": at, "digest": d,
            "open_exceptions": sum(n for _, n, _ in excs), "exceptions": excs}


def revoke(con: duckdb.DuckDBPyConnection, month: str, revoked_by: str, reason: str,
           now: dt.datetime | None = None) -> dict:
    """Revoke the sign-off of ``month`` that is in force; the record stays, marked revoked."""
    name = check_text("the name of who revokes", revoked_by, MAX_NAME)
    why = check_text("the reason", reason, MAX_REASON)
    last = latest_signoff(con, month)
    if last is None:
        raise SignoffRefused(f"{month} has no sign-off in force to revoke")
    at = utc_seconds(now)
    con.execute("UPDATE signoffs SET revoked_at = ?, revoked_by = ?, revoke_reason = ? "
                "WHERE month = ? AND signed_at = ? AND revoked_at IS NULL", [at, name, why, month, last[1]])
    return {"month": month, "signed_by": last[0], "signed_at": last[1], "revoked_by": name, "revoked_at": at,
            "reason": why}


def history(con: duckdb.DuckDBPyConnection, month: str) -> list[dict]:
    cols = ["signed_by", "signed_at", "digest", "open_exceptions", "exceptions_summary", "revoked_at", "revoked_by",
            "revoke_reason"]
    rows = con.execute(f"SELECT {', '.join(cols)} FROM signoffs WHERE month = ? ORDER BY signed_at", [month])
    return [dict(zip(cols, r)) for r in rows.fetchall()]

