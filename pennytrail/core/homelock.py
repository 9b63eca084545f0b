"""One close at a time per home: a lock file that names the running close's process.

``hold(home)`` takes an exclusive lock on ``HOME/pennytrail.lock`` for as long as a close (or
another command that writes the warehouse) runs, and writes its pid there; ``running(home)``
says whose close holds it, without waiting. The operating system releases the lock when the
process ends, however it ends, so a killed close leaves no stale lock. The application layer
takes it where it writes (a close, the demo, a sign-off, a statement code's reissue).
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

NAME = "pennytrail.lock"


class Busy(Exception):
    """Another process holds the home; ``pid`` is its process id (None if it could not be read)."""

    def __init__(self, home: Path, pid: int | None):
        self.home, self.pid = home, pid
        who = f" (pid {pid})" if pid else ""
        super().__init__(f"a close is running{who} on {home}: wait for it to finish")


def _pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


@contextmanager
def hold(home: Path) -> Iterator[None]:
    """Hold the home for the ``with``; ``Busy`` at once if another process (or another ``hold``
    of this one) holds it."""
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(home, _pid(fd)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def running(home: Path) -> int | None:
    """The pid of the close holding ``home`` (0 if it could not be read), or None if none does."""
    path = home / NAME
    if not path.exists():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _pid(fd) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def alive(pid: int | None) -> bool:
    """Whether a process ``pid`` of this machine is running (one of another user's counts)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
