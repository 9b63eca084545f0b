"""Files the home holds that carry personal data are readable by their owner only.

The warehouse and its write-ahead log and spill folder, the published snapshots, the workbooks,
the confirmations folder, the logs, the portal's database and the Dagster runs hold workers'
names and pay, or what they were paid from. Whatever the user's umask, pennytrail makes them
``0600`` (files) and ``0700`` (folders) when it creates them: a command that writes a home runs
with the umask ``077`` (``owner_only``), and the folders and files pennytrail makes itself are
created with those modes. An older home, made before this rule, is brought to them by the next
command that writes it (``tighten``). A home folder pennytrail creates is ``0700``; an existing
one keeps its mode (it may be a folder the user shares on purpose), since what it holds is
private either way.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import stat
import threading
from pathlib import Path
from typing import Callable, Iterator

FILE_MODE = 0o600
DIR_MODE = 0o700
UMASK = 0o077
# what a home holds that carries personal data (docs/decisions.md: Files readable by their owner only)
PERSONAL = ("pennytrail.duckdb", "pennytrail.duckdb.wal", "pennytrail.duckdb.tmp", "published", "reports",
            "confirmations", "logs", "portal", "dagster")

_lock = threading.Lock()
_depth = 0
_saved = 0


@contextlib.contextmanager
def owner_only(home: Path | None = None, create: bool = False) -> Iterator[None]:
    """Within: every file and folder this process creates is its owner's only (umask ``077``);
    with ``home``, what it holds already is tightened, and with ``create`` it is made (``0700``)
    if missing."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = os.umask(UMASK)
        _depth += 1
    try:
        if home is not None:
            if create:
                make_dir(Path(home))
            tighten(Path(home))
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                os.umask(_saved)


def of_home(fn: Callable) -> Callable:
    """``fn``, run within ``owner_only`` of its ``home`` argument."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def run(*args, **kwargs):
        home = signature.bind_partial(*args, **kwargs).arguments.get("home")
        with owner_only(home):
            return fn(*args, **kwargs)
    return run


def make_dir(path: Path) -> Path:
    """``path`` and its missing parents made as ``0700`` folders (an existing folder keeps its
    mode); ``path``."""
    missing = []
    p = Path(path)
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        try:
            os.mkdir(p, DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(p, DIR_MODE)
    return Path(path)


def private_dir(path: Path) -> Path:
    """``path`` made (with its parents) and set to ``0700`` whatever it was; ``path``."""
    make_dir(path)
    os.chmod(path, DIR_MODE)
    return Path(path)


def tighten(home: Path) -> None:
    """Every file and folder of the home that carries personal data set to ``0600`` / ``0700``
    (a symbolic link is left as it is, never followed)."""
    for name in PERSONAL:
        _tighten(Path(home) / name)


def _tighten(path: Path) -> None:
    try:
        st = os.lstat(path)
    except OSError:
        return
    if stat.S_ISLNK(st.st_mode):
        return
    if stat.S_ISDIR(st.st_mode):
        _chmod(path, st, DIR_MODE)
        for top, dirs, files in os.walk(path):
            for name in dirs + files:
                p = os.path.join(top, name)
                try:
                    s = os.lstat(p)
                except OSError:
                    continue
                if stat.S_ISDIR(s.st_mode):
                    _chmod(p, s, DIR_MODE)
                elif stat.S_ISREG(s.st_mode):
                    _chmod(p, s, FILE_MODE)
    elif stat.S_ISREG(st.st_mode):
        _chmod(path, st, FILE_MODE)


def _chmod(path, st: os.stat_result, mode: int) -> None:
    if stat.S_IMODE(st.st_mode) & ~mode:
        try:
            os.chmod(path, stat.S_IMODE(st.st_mode) & mode)
        except OSError:
            pass


def create_file(path: Path) -> int:
    """A new file at ``path``, created ``0600`` whatever the umask (``O_EXCL``: never one that
    exists); its descriptor, open for writing."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd
