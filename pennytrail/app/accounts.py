"""Portal accounts: users and their roles, passwords, sign-in with a lockout, sessions.

Passwords are hashed with argon2id. After ``MAX_FAILURES`` failed sign-ins for one account
(an e-mail address, whether or not a user has it) within ``WINDOW`` seconds, further attempts
are refused without looking at the password until the oldest of those failures is
``WINDOW`` seconds old. Those refusals are cheap and leave one entry in the audit log per lock,
whose detail counts them, not one entry each. A session is a random token in a cookie; only its SHA-256 is stored.
It ends after ``IDLE`` seconds without a request, after ``LIFETIME`` seconds in all, at
sign-out, or when its user is disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from . import portal_db
from .portal_db import audit, connect, now_text

ROLES = ("accountant", "monitor", "buyer", "grower", "intermediary", "admin")
# roles whose account is tied to one party of the same type in the reference parties (a buyer's
# account to a buyer): its own data is all it sees, and it sends its own files (``submissions``)
PARTY_ROLES = ("buyer", "grower", "intermediary")
MAX_FAILURES = 5
WINDOW = 15 * 60
IDLE = 30 * 60
LIFETIME = 12 * 3600
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{1,63}$")

_hasher = PasswordHasher()  # argon2id with the library's recommended memory and time costs
_dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
# each check takes 64 MiB for a tenth of a second: a burst of sign-ins waits its turn instead
# of taking the machine's memory
_checking = threading.BoundedSemaphore(2)


class AccountError(ValueError):
    """A user asked for cannot be made or changed (one line for the user, in words that fit the
    portal's form and the command alike); ``option``: the command's option it concerns, if any."""

    def __init__(self, message: str, option: str | None = None):
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class User:
    id: int
    email: str
    role: str
    party_id: str | None
    disabled: bool = False


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    token_hash: str
    token: str = ""  # the cookie's value: only on the session that sign-in returns


def normal_email(email: str) -> str:
    return email.strip().lower()


def _user(row) -> User:
    return User(row["id"], row["email"], row["role"], row["party_id"], bool(row["disabled"]))


def check_password(password: str) -> None:
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"a password may have at most {MAX_PASSWORD} characters")
    if len(password.strip()) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters, not counting spaces at its ends")
    if len(set(password.strip())) < 4:
        raise AccountError("a password needs at least 4 different characters")


def add_user(home: Path, email: str, role: str, password: str, party_id: str | None = None,
             by: str = "command line", parties: dict[str, str] | None = None) -> User:
    """Add a user. A buyer, grower or intermediary (``PARTY_ROLES``) needs the party id of a
    party of that type, checked against ``parties`` (party id → party type, from the reference
    parties) when the caller knows them; other roles have none."""
    email = normal_email(email)
    if not EMAIL.match(email):
        raise AccountError(f"{email!r} is not an e-mail address")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if role in PARTY_ROLES:
        if not party_id or not party_id.strip():
            raise AccountError(f"a {role}'s account needs the party id of its {role}", f"--party {role.upper()}_ID")
        party_id = party_id.strip()
        if parties is not None and parties.get(party_id) != role:
            raise AccountError(f"no {role} {party_id!r} in the reference parties")
    elif party_id:
        raise AccountError(f"a party id is for the accounts of buyers, growers and intermediaries, not for the "
                           f"role {role}", "--party")
    check_password(password)
    with connect(home) as con:
        if con.execute("SELECT 1 FROM users WHERE email = ?", [email]).fetchone():
            raise AccountError(f"a user {email} already exists")
        cur = con.execute("INSERT INTO users (email, role, party_id, password_hash, created_at, created_by) "
                          "VALUES (?, ?, ?, ?, ?, ?)", [email, role, party_id, _hasher.hash(password), now_text(), by])
        audit(con, by, None, "user added", email, f"role {role}" + (f", party {party_id}" if party_id else ""))
        return User(cur.lastrowid, email, role, party_id)


def list_users(home: Path) -> list[User]:
    with connect(home, write=False) as con:
        return [_user(r) for r in con.execute("SELECT * FROM users ORDER BY role, email").fetchall()]


def set_disabled(home: Path, email: str, disabled: bool = True, by: str = "command line") -> User:
    email = normal_email(email)
    with connect(home) as con:
        row = con.execute("SELECT * FROM users WHERE email = ?", [email]).fetchone()
        if row is None:
            raise AccountError(f"no user {email}")
        con.execute("UPDATE users SET disabled = ? WHERE id = ?", [int(disabled), row["id"]])
        if disabled:
            con.execute("DELETE FROM sessions WHERE user_id = ?", [row["id"]])
        audit(con, by, None, "user disabled" if disabled else "user enabled", email)
        return User(row["id"], row["email"], row["role"], row["party_id"], disabled)


def set_password(home: Path, email: str, password: str, by: str = "command line") -> None:
    check_password(password)
    email = normal_email(email)
    with connect(home) as con:
        row = con.execute("SELECT id FROM users WHERE email = ?", [email]).fetchone()
        if row is None:
            raise AccountError(f"no user {email}")
        con.execute("UPDATE users SET password_hash = ? WHERE id = ?", [_hasher.hash(password), row["id"]])
        con.execute("DELETE FROM sessions WHERE user_id = ?", [row["id"]])
        audit(con, by, None, "password set", email)


class LockedOut(Exception):
    """Too many failed sign-ins for the account: ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed sign-ins: try again in {retry_after // 60 + 1} minutes")
        self.retry_after = retry_after


def _lock_end(con, email: str, now: float) -> float | None:
    """When the account's lock ends, or None when it is not locked."""
    rows = con.execute("SELECT at FROM login_failures WHERE email = ? AND at > ? ORDER BY at DESC LIMIT ?",
                       [email, now - WINDOW, MAX_FAILURES]).fetchall()
    if len(rows) < MAX_FAILURES:
        return None
    return rows[-1]["at"] + WINDOW


def _locked_for(con, email: str, now: float) -> int:
    end = _lock_end(con, email, now)
    return 0 if end is None else max(1, int(end - now) + 1)


class _Refusals:
    """Sign-ins refused while an account is locked: one audit entry per account and lock (the
    time it ends), its detail counting the refusals. One thread at a time writes an account's
    entry; refusals meanwhile are counted and written by that thread after its write, so
    a burst costs a few writes, not one each, and no refusal goes uncounted."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: dict[tuple, dict] = {}

    def refused(self, home: Path, email: str, until: int, address: str | None) -> None:
        key = (str(home), email)
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or entry["until"] != until:
                entry = self.entries[key] = {"until": until, "count": 0, "written": 0, "row": None, "busy": False,
                                             "addresses": set()}
                if len(self.entries) > 10_000:  # locks long over
                    for k in [k for k, e in self.entries.items() if e["until"] < time.time() and not e["busy"]][:5000]:
                        del self.entries[k]
            entry["count"] += 1
            if address and len(entry["addresses"]) < 20:
                entry["addresses"].add(address)
            if entry["busy"]:
                return
            entry["busy"] = True
        try:
            while True:
                with self.lock:
                    count, row, addresses = entry["count"], entry["row"], sorted(entry["addresses"])
                detail = (f"locked out after repeated failures: {count} attempt{'s' if count != 1 else ''} refused "
                          f"until {time.strftime('%H:%M:%S', time.gmtime(until))} UTC"
                          + (f" (from {', '.join(addresses)})" if len(addresses) > 1 else ""))
                with connect(home) as con:
                    if row is None:
                        audit(con, email, None, "sign-in refused", email, detail, address)
                        row = con.execute("SELECT last_insert_rowid()").fetchone()[0]
                    else:
                        con.execute("UPDATE audit SET detail = ? WHERE id = ?", [detail, row])
                with self.lock:
                    entry["row"], entry["written"] = row, count
                    if entry["count"] == count:
                        entry["busy"] = False
                        return
        except BaseException:
            with self.lock:
                entry["busy"] = False
            raise


_refusals = _Refusals()


def authenticate(home: Path, email: str, password: str, address: str | None = None) -> Session | None:
    """Check a sign-in; a new session, or None for a wrong e-mail or password (recorded as a
    failure). ``LockedOut`` when the account has too many recent failures."""
    email = normal_email(email)[:320]
    now = time.time()
    with connect(home, write=False) as con:  # a locked account is refused without the write lock
        end = _lock_end(con, email, now)
    if end is None:
        with connect(home) as con:
            end = _lock_end(con, email, now)
            if end is None:
                # the attempt counts as a failure until its password is found right, so that sign-ins
                # sent side by side (threads, server processes) cannot try more than the limit between them
                con.execute("INSERT INTO login_failures (email, at) VALUES (?, ?)", [email, now])
            row = con.execute("SELECT * FROM users WHERE email = ?", [email]).fetchone()
    if end is not None:
        _refusals.refused(home, email, int(end), address)
        raise LockedOut(max(1, int(end - now) + 1))
    # the hash is checked outside the transaction: it takes a tenth of a second on purpose
    ok = False
    try:
        with _checking:
            ok = _hasher.verify(row["password_hash"] if row else _dummy_hash, password[:MAX_PASSWORD])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    with connect(home) as con:
        if not ok or row is None or row["disabled"]:
            con.execute("DELETE FROM login_failures WHERE at < ?", [now - 2 * WINDOW])
            reason = "disabled account" if ok and row is not None else "wrong e-mail or password"
            audit(con, email, None, "sign-in failed", email, reason, address)
            return None
        if _hasher.check_needs_rehash(row["password_hash"]):
            con.execute("UPDATE users SET password_hash = ? WHERE id = ?", [_hasher.hash(password), row["id"]])
        con.execute("DELETE FROM login_failures WHERE email = ?", [email])
        token = secrets.token_urlsafe(32)
        th = hash_token(token)
        csrf = secrets.token_urlsafe(32)
        con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", [th, row["id"], csrf, now, now])
        con.execute("DELETE FROM sessions WHERE last_seen < ? OR created_at < ?", [now - IDLE, now - LIFETIME])
        audit(con, row["email"], row["role"], "signed in", None, None, address)
        return Session(_user(row), csrf, th, token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def session_for(home: Path, token: str | None, idle: int = IDLE) -> Session | None:
    """The live session of a cookie's token, or None; a request keeps it alive."""
    if not token or len(token) > 100:
        return None
    th = hash_token(token)
    now = time.time()
    with connect(home, write=False) as con:
        row = con.execute("SELECT s.csrf, s.created_at, s.last_seen, u.* FROM sessions s JOIN users u "
                          "ON u.id = s.user_id WHERE s.token_hash = ?", [th]).fetchone()
    if row is None:
        return None
    if row["disabled"] or now - row["last_seen"] > idle or now - row["created_at"] > LIFETIME:
        portal_db.write(home, "DELETE FROM sessions WHERE token_hash = ?", [th])
        return None
    if now - row["last_seen"] > 15:
        portal_db.write(home, "UPDATE sessions SET last_seen = ? WHERE token_hash = ?", [now, th])
    return Session(_user(row), row["csrf"], th)


def end_session(home: Path, session: Session, address: str | None = None) -> None:
    with connect(home) as con:
        con.execute("DELETE FROM sessions WHERE token_hash = ?", [session.token_hash])
        audit(con, session.user.email, session.user.role, "signed out", None, None, address)


def anonymous_csrf(home: Path, nonce: str) -> str:
    """The CSRF token of a form shown before sign-in, bound to the visitor's nonce cookie."""
    return hmac.new(portal_db.secret(home), b"csrf:" + nonce.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
