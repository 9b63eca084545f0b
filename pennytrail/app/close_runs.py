"""A close started from the portal: the command `pennytrail close --data DATA --home HOME` in a
process of its own, recorded in the portal's database.

The child takes the home's lock as every close does (``core.homelock``), so a close started
here and one started from the command line never run at once. Its output goes to a log file
in the home (``HOME/logs/close-<n>.log``), never to a page; what the page shows is the run's
record: who started it and when, whether it is running, its exit status and one line of
result. The portal keeps serving meanwhile: it reads published snapshots, never the warehouse.

A thread of the process that started the close waits for it and records its end; a run whose
process is gone without that record (the portal stopped meanwhile) is settled from its log
when it is next read.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..core import homelock
from ..core.private import make_dir
from . import portal_db

SCHEMA = """CREATE TABLE IF NOT EXISTS close_runs (
    id INTEGER PRIMARY KEY,
    started_by TEXT NOT NULL,
    started_at TEXT NOT NULL,
    pid INTEGER,
    log TEXT NOT NULL,
    finished_at TEXT,
    exit_code INTEGER,
    result TEXT
)"""
_children: dict[int, subprocess.Popen] = {}  # run id -> the child this process started and waits for
_starting = threading.RLock()  # a start, and the settling of runs, one at a time in this process


class AlreadyRunning(Exception):
    """A close is running: ``str(e)`` says started by whom and when."""


@dataclass(frozen=True)
class Run:
    id: int
    started_by: str
    started_at: str
    pid: int | None
    log: str
    finished_at: str | None
    exit_code: int | None
    result: str | None

    @property
    def running(self) -> bool:
        return self.finished_at is None

    @property
    def state(self) -> str:
        if self.running:
            return "running"
        if self.exit_code is None:
            return "ended"  # its end was not seen: the result line says what its log says
        return "completed" if self.exit_code == 0 else "failed"


@contextmanager
def _connect(home: Path, write: bool = True) -> Iterator:
    with portal_db.connect(home, write=write) as con:
        con.execute(SCHEMA)
        yield con


def runs(home: Path, limit: int = 20) -> list[Run]:
    """The portal's closes, newest first (a run whose process is gone is settled first)."""
    settle(home)
    with _connect(home, write=False) as con:
        return [Run(**dict(r)) for r in con.execute("SELECT * FROM close_runs ORDER BY id DESC LIMIT ?", [limit])]


def settle(home: Path) -> None:
    """Record the end of runs whose process is gone and that no thread of this process waits for.
    Never while this process is starting a close: a run being started has no process yet."""
    with _starting:
        with _connect(home, write=False) as con:
            open_runs = [dict(r) for r in con.execute("SELECT id, pid, log FROM close_runs WHERE finished_at IS NULL")]
        for r in open_runs:
            if r["id"] in _children or homelock.alive(r["pid"]):
                continue
            _finish(home, r["id"], None, result_line(Path(r["log"]), None) + " (its end was not seen by the portal)")


def result_line(log: Path, code: int | None) -> str:
    """The one line that says how a close ended, from its log."""
    try:
        with open(log, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - 64 * 1024))
            lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return "its log could not be read"
    failed = [ln for ln in lines if ln.startswith("pennytrail: ")]
    if code not in (0, None) or (code is None and failed):
        return failed[-1][len("pennytrail: "):] if failed else f"the close ended with exit status {code}"
    done = [ln for ln in lines if ln.startswith(("closed ", "nothing new since the last close"))]
    return done[-1] if done else ("the close completed" if code == 0 else "the close ended")


def start(home: Path, data: Path, by: str) -> Run:
    """Start a close of ``data`` into ``home`` in a process of its own; ``AlreadyRunning`` when
    one runs (started here or elsewhere)."""
    home, data = Path(home), Path(data)
    with _starting:
        settle(home)
        current = [r for r in runs(home, 5) if r.running]
        if current:
            r = current[0]
            raise AlreadyRunning(f"a close is already running: started by {r.started_by} at {r.started_at}")
        pid = homelock.running(home)
        if pid is not None:
            raise AlreadyRunning("a close is already running" + (f" (pid {pid})" if pid else "")
                                 + ", started outside the portal")
        logs = make_dir(home / "logs")
        with _connect(home) as con:
            run_id = con.execute("INSERT INTO close_runs (started_by, started_at, log) VALUES (?, ?, '')",
                                 [by, portal_db.now_text()]).lastrowid
            log = logs / f"close-{run_id}.log"
            con.execute("UPDATE close_runs SET log = ? WHERE id = ?", [str(log), run_id])
        with open(log, "ab") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(f"--- close started from the portal by {by} at {portal_db.now_text()}\n".encode())
            out.flush()
            child = subprocess.Popen([sys.executable, "-m", "pennytrail.cli", "close", "--data", str(data),
                                      "--home", str(home)], stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, close_fds=True)
        _children[run_id] = child
        with _connect(home) as con:
            con.execute("UPDATE close_runs SET pid = ? WHERE id = ?", [child.pid, run_id])
        threading.Thread(target=_wait, args=(home, run_id, child, log), name=f"close-{run_id}", daemon=True).start()
    return next(r for r in runs(home, 5) if r.id == run_id)


def _wait(home: Path, run_id: int, child: subprocess.Popen, log: Path) -> None:
    code = child.wait()
    try:
        _finish(home, run_id, code, result_line(log, code))
    finally:
        _children.pop(run_id, None)


def _finish(home: Path, run_id: int, code: int | None, result: str) -> None:
    with _connect(home) as con:
        row = con.execute("UPDATE close_runs SET finished_at = ?, exit_code = ?, result = ? "
                          "WHERE id = ? AND finished_at IS NULL RETURNING started_by",
                          [portal_db.now_text(), code, result[:500], run_id]).fetchone()
        if row is not None:
            portal_db.audit(con, row[0], "accountant", "close finished", f"close {run_id}",
                            f"exit status {code if code is not None else 'unknown'}: {result[:300]}")


def wait(home: Path, run_id: int, timeout: float | None = None) -> Run:
    """Wait for a close this process started to end (tests, and a server that stops)."""
    child = _children.get(run_id)
    if child is not None:
        child.wait(timeout)
        deadline = dt.datetime.now() + dt.timedelta(seconds=10)
        while run_id in _children and dt.datetime.now() < deadline:
            threading.Event().wait(0.05)
    return next(r for r in runs(home, 50) if r.id == run_id)


def stop_children(timeout: float = 30.0) -> None:
    """End the closes this process started and still waits for (a portal that stops, a test's end)."""
    for child in list(_children.values()):
        if child.poll() is None:
            child.terminate()
    for child in list(_children.values()):
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
