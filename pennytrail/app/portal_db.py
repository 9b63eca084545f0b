"""The portal's own database: users, sessions, failed sign-ins, the audit log, cases and the
notes on exceptions.

It is a SQLite file in the home (``HOME/portal/portal.sqlite``, WAL mode), apart from the
DuckDB warehouse: a sign-in or a case note never waits for a close, and a close never waits
for the portal. The warehouse stays the record of the money; this file is the record of who
did what in the portal.
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pennytrail.core.exception_queue import portal_database
from pennytrail.core.private import create_file
from pennytrail.core.warehouse import transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('accountant', 'monitor', 'buyer', 'grower', 'intermediary', 'admin')),
    party_id TEXT,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    email TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_email ON login_failures (email, at);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT,
    action TEXT NOT NULL,
    subject TEXT,
    detail TEXT,
    address TEXT
);
CREATE TABLE IF NOT EXISTS cases (
    id INTEGER PRIMARY KEY,
    grower_id TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    outcome TEXT,
    closed_by TEXT,
    closed_at TEXT
);
CREATE TABLE IF NOT EXISTS case_periods (
    case_id INTEGER NOT NULL REFERENCES cases(id),
    period_start TEXT NOT NULL,
    status_at_open TEXT,
    variance_at_open_cents INTEGER,
    PRIMARY KEY (case_id, period_start)
);
CREATE TABLE IF NOT EXISTS case_notes (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    at TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS exception_notes (
    id INTEGER PRIMARY KEY,
    month TEXT NOT NULL,
    exception_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('acknowledged', 'resolved')),
    note TEXT NOT NULL,
    author TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS exception_notes_month ON exception_notes (month, exception_key);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    party_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    stored_path TEXT NOT NULL UNIQUE,
    original_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    periods TEXT NOT NULL DEFAULT '[]',
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    UNIQUE (party_id, kind, sha256)
);
CREATE TABLE IF NOT EXISTS nil_returns (
    id INTEGER PRIMARY KEY,
    party_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    period TEXT NOT NULL,
    declared_by TEXT NOT NULL,
    declared_at TEXT NOT NULL,
    UNIQUE (party_id, kind, period)
);
"""

# the roles a users table of an older version allows (its CHECK is rebuilt with ``SCHEMA``'s)
_OLD_ROLES = "CHECK (role IN ('accountant', 'monitor', 'buyer', 'admin'))"


def _migrate(con: sqlite3.Connection) -> None:
    """Bring a portal database of an earlier version up to ``SCHEMA``: the users table of one
    that knew fewer roles is rebuilt with the new check, its rows and ids unchanged."""
    found = con.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'").fetchone()
    if found is None or _OLD_ROLES not in found[0]:
        return
    create = SCHEMA[SCHEMA.index("CREATE TABLE IF NOT EXISTS users"):SCHEMA.index(");", SCHEMA.index("users")) + 2]
    con.execute("PRAGMA foreign_keys = OFF")
    con.execute("BEGIN IMMEDIATE")
    try:
        if _OLD_ROLES in con.execute("SELECT sql FROM sqlite_master WHERE name = 'users'").fetchone()[0]:
            con.execute(create.replace("IF NOT EXISTS users", "users_new"))
            con.execute("INSERT INTO users_new SELECT id, email, role, party_id, password_hash, disabled, created_at, "
                        "created_by FROM users")
            con.execute("DROP TABLE users")
            con.execute("ALTER TABLE users_new RENAME TO users")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def path(home: Path) -> Path:
    return portal_database(home)


def now_text() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


_ready: set[Path] = set()
_local = threading.local()


def _connection(p: Path) -> sqlite3.Connection:
    """This thread's connection to the file (one per thread and file, kept open)."""
    cons = getattr(_local, "cons", None)
    if cons is None:
        cons = _local.cons = {}
    con = cons.get(p)
    if con is not None and p.exists():
        return con
    if p not in _ready or not p.exists():
        _ready.discard(p)
        p.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(p.parent, 0o700)
        try:  # made 0600 before SQLite opens it: its -wal and -shm files take its mode
            os.close(create_file(p))
        except FileExistsError:
            pass
    con = sqlite3.connect(p, timeout=10, isolation_level=None)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA busy_timeout = 10000")
    if p not in _ready:
        con.execute("PRAGMA journal_mode = WAL")
        con.executescript(SCHEMA)
        _migrate(con)
        os.chmod(p, 0o600)
        _ready.add(p)
    # in WAL mode, NORMAL syncs at checkpoints: a crash of the machine may lose the last commits,
    # never corrupt the file
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute("PRAGMA foreign_keys = ON")
    cons[p] = con
    return con


@contextmanager
def connect(home: Path, write: bool = True) -> Iterator[sqlite3.Connection]:
    """A connection in one transaction: committed when the ``with`` ends, rolled back on error.
    ``write=False`` reads without taking the write lock."""
    with transaction(_connection(path(home)), "BEGIN IMMEDIATE" if write else "BEGIN") as con:
        yield con


def secret(home: Path) -> bytes:
    """The portal's secret (for tokens made before sign-in), made on first use, readable by the owner only."""
    p = Path(home) / "portal" / "secret"
    try:
        return p.read_bytes()
    except FileNotFoundError:
        pass
    p.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return p.read_bytes()
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
    return p.read_bytes()


AUDIT_INSERT = "INSERT INTO audit (at, actor, role, action, subject, detail, address) VALUES (?, ?, ?, ?, ?, ?, ?)"


def audit(con: sqlite3.Connection, actor: str, role: str | None, action: str, subject: str | None = None,
          detail: str | None = None, address: str | None = None) -> None:
    con.execute(AUDIT_INSERT, [now_text(), actor, role, action, subject, detail, address])


class _Writer:
    """Writes to one home's file from one thread, in batches: what callers hand it meanwhile is
    committed in one transaction, and each caller returns once its own statement is committed
    (or raises its batch's error). Many threads that each took the write lock in turn would wait
    for one another in SQLite's busy handler, which sleeps for longer the more often it waits."""

    def __init__(self, home: Path):
        self.home = home
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._run, name="portal-db-writer", daemon=True).start()

    def write(self, sql: str, params: list) -> None:
        item = [sql, params, threading.Event(), None]
        self.queue.put(item)
        item[2].wait()
        if item[3] is not None:
            raise item[3]

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < 500:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                with connect(self.home) as con:
                    for sql, params, _, _ in batch:
                        con.execute(sql, params)
            except Exception:  # one at a time, so that only the statement that fails fails
                for item in batch:
                    try:
                        with connect(self.home) as con:
                            con.execute(item[0], item[1])
                    except Exception as e:  # noqa: BLE001 - raised in the caller's thread
                        item[3] = e
            for item in batch:
                item[2].set()


_writers: dict[Path, _Writer] = {}
_writers_lock = threading.Lock()


def write(home: Path, sql: str, params: list) -> None:
    """One statement, committed before this returns, through the home's one writing thread."""
    key = Path(home).resolve()
    writer = _writers.get(key)
    if writer is None:
        with _writers_lock:
            writer = _writers.get(key) or _writers.setdefault(key, _Writer(key))
    writer.write(sql, params)


def record(home: Path, actor: str, role: str | None, action: str, subject: str | None = None,
           detail: str | None = None, address: str | None = None) -> None:
    """One entry in the audit log, committed before this returns."""
    write(home, AUDIT_INSERT, [now_text(), actor, role, action, subject, detail, address])


# what an admin may read of an entry beyond who did what and when: the entries of accounts,
# sign-ins, downloads and sign-offs. The others (searches, workers, cases, exceptions) may name a
# worker or a sum of money, which admins do not see.
ADMIN_READABLE = ("user added", "user disabled", "user enabled", "password set", "sign-in refused",
                  "sign-in failed", "signed in", "signed out", "download", "sign-off", "sign-off revoked")


def audit_log(home: Path, limit: int = 500, offset: int = 0, actor: str | None = None,
              action: str | None = None, viewer_role: str | None = None) -> list[dict]:
    """The newest entries first. For an admin (``viewer_role``), an entry's subject and detail
    are left out unless its action is in ``ADMIN_READABLE`` (``withheld`` says so)."""
    where, params = [], []
    if actor:
        where.append("actor = ?")
        params.append(actor)
    if action:
        where.append("action = ?")
        params.append(action)
    if viewer_role == "admin":
        marks = ", ".join("?" * len(ADMIN_READABLE))
        columns = (f"id, at, actor, role, action, address, action NOT IN ({marks}) AS withheld, "
                   f"CASE WHEN action IN ({marks}) THEN subject END AS subject, "
                   f"CASE WHEN action IN ({marks}) THEN detail END AS detail")
        params = [*ADMIN_READABLE, *ADMIN_READABLE, *ADMIN_READABLE, *params]
    else:
        columns = "*, 0 AS withheld"
    sql = (f"SELECT {columns} FROM audit" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY id DESC LIMIT ? OFFSET ?")
    with connect(home, write=False) as con:
        return [dict(r) for r in con.execute(sql, [*params, limit, offset]).fetchall()]
