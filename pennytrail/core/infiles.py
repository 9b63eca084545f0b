"""Finding and opening submission files without reading anything else (docs/rules.md: Files
rejected whole; docs/decisions.md: What a close opens).

Only a regular file inside the data folder is ever opened. The inbox is walked from a folder
descriptor, one folder at a time, with ``O_NOFOLLOW``: a symbolic link (to a file, to a folder, to
itself) is never followed, and no folder outside the data folder is entered, even one swapped in
for a folder while the close runs. A file is opened with ``O_NOFOLLOW | O_NONBLOCK`` (a named pipe
found in place of a file cannot make the close wait) and checked with ``fstat`` to be a regular
file before a byte is read. Every entry that is not a regular file (a symbolic link, a named pipe,
a device, a socket, a folder named like a file) and every name that is not UTF-8 text is a
``Found`` with the problem that rejects it: one row in ``ingest_log`` each, never hashed.

``read_regular`` reads a file whole and says whether it changed while it was read (its size,
times or inode differ before and after, or fewer bytes came than it held): what is hashed and
what is parsed are then the same bytes, taken from one version of the file.
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .screening import FileProblem

NOT_A_FILE = "NOT_A_FILE"
BAD_FILE_NAME = "BAD_FILE_NAME"
FILE_CHANGED = "FILE_CHANGED"

# the ingest_log.sha256 of an entry that is never read: a word, never a SHA-256 of any content
UNREAD = "unread:"
FILE_ENDINGS = (".csv", ".xlsx", ".xls", ".xlsm", ".xlsb", ".ods", ".tsv", ".txt", ".zip")
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class Found:
    """An entry of the inbox. ``rel``: its path relative to the data folder as shown and logged
    (a byte that is not UTF-8 written as ``\\xff``); ``name``: the path as the file system has it;
    ``problem``: why it is rejected unread (None for a regular file with a good name);
    ``marker``: the ingest_log.sha256 of an entry rejected unread."""
    rel: str
    kind_folder: str | None
    name: str
    problem: FileProblem | None = None
    marker: str | None = None


def shown(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (held by Python as lone surrogates) written
    as ``\\xNN``."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def _what(mode: int) -> tuple[str, str]:
    if stat.S_ISLNK(mode):
        return "symlink", "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "fifo", "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device", "a device"
    if stat.S_ISSOCK(mode):
        return "socket", "a socket"
    if stat.S_ISDIR(mode):
        return "folder", "a folder"
    return "other", "not a regular file"


def _not_a_file(rel: str, kind: str | None, name: str, mode: int) -> Found:
    word, what = _what(mode)
    if word == "folder":
        message = (f"{rel} is a folder named like a file, not a file: the files in it are read on their own; "
                   "send the table itself as a file of that name")
    else:
        message = (f"{rel} is {what}, not a file: pennytrail reads only regular files inside the data folder and "
                   "never follows a link; put the file itself in the folder")
    return Found(rel, kind, name, FileProblem(NOT_A_FILE, message), UNREAD + word)


def walk(data_dir: Path) -> list[Found]:
    """Every entry under ``<data>/inbox/`` a close looks at, in order of ``rel``: regular files,
    and the entries rejected unread. Hidden entries (``.…``) and Excel lock files (``~$…``) are
    skipped, as is everything under a hidden folder."""
    found: list[Found] = []
    try:
        root = os.open(os.fspath(data_dir), _DIR & ~os.O_NOFOLLOW)  # the folder the user named
    except OSError:
        return found
    try:
        try:
            inbox = os.open("inbox", _DIR, dir_fd=root)
        except FileNotFoundError:
            return found
        except OSError:
            st = os.lstat("inbox", dir_fd=root)
            if stat.S_ISDIR(st.st_mode):
                raise
            found.append(_not_a_file("inbox", None, "inbox", st.st_mode))
            return found
        try:
            _walk(inbox, "inbox", [], found)
        finally:
            os.close(inbox)
    finally:
        os.close(root)
    return sorted(found, key=lambda f: f.rel)


def _walk(fd: int, name: str, parts: list[str], found: list[Found]) -> None:
    with os.scandir(fd) as entries:
        listed = list(entries)
    for entry in listed:
        if entry.name.startswith((".", "~$")):
            continue
        here = parts + [entry.name]
        path = "/".join(["inbox", *here])
        rel = shown(path)
        kind = here[0] if len(here) > 1 else None
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # gone since it was listed
        if rel != path:
            found.append(Found(rel, kind, path, FileProblem(
                BAD_FILE_NAME, f"the name {rel} is not text (a byte that is not UTF-8, as an old zip or FTP "
                               "program writes): rename it with letters, digits and dashes and send it again"),
                UNREAD + "name"))
            continue
        if stat.S_ISDIR(st.st_mode):
            if entry.name.lower().endswith(FILE_ENDINGS):
                found.append(_not_a_file(rel, kind, path, st.st_mode))
            try:
                sub = os.open(entry.name, _DIR, dir_fd=fd)
            except OSError:
                continue  # swapped for a link or removed since it was listed: looked at next time
            try:
                if os.fstat(sub).st_ino != st.st_ino:
                    continue
                _walk(sub, entry.name, here, found)
            finally:
                os.close(sub)
        elif stat.S_ISREG(st.st_mode):
            found.append(Found(rel, kind, path))
        else:
            found.append(_not_a_file(rel, kind, path, st.st_mode))


@contextlib.contextmanager
def open_regular(path: Path | str, root: Path | str | None = None) -> Iterator[tuple[int, os.stat_result]]:
    """The file at ``path`` opened for reading, with its ``fstat``: only when it is a regular file
    reached without following a symbolic link (under ``root``, when given, no folder on the way may
    be a link either). ``FileProblem`` (``NOT_A_FILE``) otherwise; ``FileNotFoundError`` when it is
    gone."""
    path = os.fspath(path)
    fd = _open_under(path, root)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileProblem(NOT_A_FILE, f"{shown(os.path.basename(path))} is {_what(st.st_mode)[1]}, not a file: "
                                          "pennytrail reads only regular files; put the file itself in the folder")
        yield fd, st
    finally:
        os.close(fd)


def _open_under(path: str, root: Path | str | None) -> int:
    def refuse(e: OSError, at: str) -> FileProblem:
        return FileProblem(NOT_A_FILE, f"{shown(at)} is a symbolic link or not a regular file ({e.strerror}): "
                                       "pennytrail reads only regular files and never follows a link; put the "
                                       "file itself in the folder")
    if root is None:
        try:
            return os.open(path, _FILE)
        except OSError as e:
            if isinstance(e, FileNotFoundError):
                raise
            raise refuse(e, os.path.basename(path)) from None
    rel = os.path.relpath(path, os.fspath(root))
    parts = rel.split(os.sep)
    if rel.startswith("..") or os.path.isabs(rel):
        raise FileProblem(NOT_A_FILE, f"{shown(path)} is outside the data folder: it is not read")
    fd = os.open(os.fspath(root), _DIR & ~os.O_NOFOLLOW)
    try:
        for part in parts[:-1]:
            try:
                nxt = os.open(part, _DIR, dir_fd=fd)
            except OSError as e:
                if isinstance(e, FileNotFoundError):
                    raise
                raise refuse(e, part) from None
            os.close(fd)
            fd = nxt
        try:
            return os.open(parts[-1], _FILE, dir_fd=fd)
        except OSError as e:
            if isinstance(e, FileNotFoundError):
                raise
            raise refuse(e, parts[-1]) from None
    finally:
        os.close(fd)


def same_version(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_ino, a.st_dev, a.st_size, a.st_mtime_ns, a.st_ctime_ns) == \
           (b.st_ino, b.st_dev, b.st_size, b.st_mtime_ns, b.st_ctime_ns)


def changed_while_read(name: str) -> FileProblem:
    return FileProblem(FILE_CHANGED, f"{shown(name)} changed while the close read it (it was being written or "
                                     "copied): it is read again at the next close, as it is then")


def _read_all(fd: int, size: int) -> bytes:
    chunks = []
    left = size + 1  # one byte more than it held: a file that grew is caught
    while left > 0:
        block = os.read(fd, min(left, 8 << 20))
        if not block:
            break
        chunks.append(block)
        left -= len(block)
    return b"".join(chunks)


def read_regular(fd: int, st: os.stat_result, name: str) -> bytes:
    """Every byte of the open file ``fd`` (``fstat`` ``st`` taken when opened), from one version
    of it: ``FileProblem`` (``FILE_CHANGED``) when it changed while it was read."""
    data = _read_all(fd, st.st_size)
    if len(data) != st.st_size or not same_version(st, os.fstat(fd)):
        raise changed_while_read(name)
    return data


def hash_regular(path: Path | str, root: Path | str | None, h) -> os.stat_result:
    """Feed the file's bytes to the hash ``h`` in pieces; its ``fstat``, taken when opened.
    ``FileProblem`` (``FILE_CHANGED``) when it changed while it was read."""
    with open_regular(path, root) as (fd, st):
        total = 0
        while True:
            block = os.read(fd, 1 << 20)
            if not block:
                break
            total += len(block)
            h.update(block)
        if total != st.st_size or not same_version(st, os.fstat(fd)):
            raise changed_while_read(os.path.basename(os.fspath(path)))
        return st
