"""Published snapshots of the warehouse: what the portal reads.

DuckDB lets one process write a database file, and while it writes, no other process can open
it, not even to read. A close keeps the warehouse open for minutes. So the portal never opens
the warehouse to read: after each completed close and after each sign-off, ``publish`` copies
the warehouse into ``HOME/published/`` and switches ``HOME/published/CURRENT`` to the copy with
one atomic rename. The portal reads the newest copy read-only; it keeps serving during a close,
and what it shows is always a state that a completed close (or a sign-off) left.

A snapshot is taken with the warehouse open for writing in this process (so no other process
can be writing it), after a checkpoint (so the file alone holds every committed row).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import threading
import time
from pathlib import Path

import duckdb

from ..core.private import create_file, private_dir

FOLDER = "published"
POINTER = "CURRENT"
KEEP = 3  # snapshots kept: the current one and two before it, which a reader may still have open
NAME = re.compile(r"^warehouse-[0-9]{8}T[0-9]{6}-[0-9a-f]{8}\.duckdb$")


class Busy(RuntimeError):
    """Another process holds the warehouse (a close is running)."""


def warehouse_path(home: Path) -> Path:
    return Path(home) / "pennytrail.duckdb"


def is_lock_error(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, duckdb.IOException) and ("lock" in text or "conflicting" in text)


def open_for_writing(home: Path, wait: float = 0.0) -> duckdb.DuckDBPyConnection:
    """The warehouse opened for writing, waiting up to ``wait`` seconds while another process
    holds it; ``Busy`` when it is still held then."""
    path = warehouse_path(home)
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `pennytrail close` first")
    deadline = time.monotonic() + wait
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as e:
            if not is_lock_error(e):
                raise
            if time.monotonic() >= deadline:
                raise Busy("the warehouse is in use by a running close") from None
            time.sleep(0.2)


def publish(home: Path, con: duckdb.DuckDBPyConnection | None = None, wait: float = 30.0) -> Path:
    """Copy the warehouse to a new snapshot and make it the current one; its path.

    ``con``, when given, is this process's open writing connection to the warehouse (for
    example the one a sign-off just used); otherwise the warehouse is opened here. Everything
    happens while the warehouse is held for writing, so no other publication runs meanwhile: a
    ``.partial`` file found then was left by one that died, and is removed. A copy that fails
    (a full disk) leaves no ``.partial`` and the current snapshot as it was, and is raised. The
    snapshot is readable by its owner only (``core.private``)."""
    home = Path(home)
    folder = private_dir(home / FOLDER)
    own = con is None
    if own:
        con = open_for_writing(home, wait)
    try:
        with _publishing:  # threads of one process share its hold on the warehouse
            name = _publish(home, folder, con)
    finally:
        if own:
            con.close()
    _prune(folder, name)
    return folder / name


_publishing = threading.Lock()


def _publish(home: Path, folder: Path, con: duckdb.DuckDBPyConnection) -> str:
    """Checkpoint, copy to ``NAME.partial``, rename, switch the pointer; the new name."""
    con.execute("CHECKPOINT")
    for left in folder.glob("*.partial"):
        left.unlink(missing_ok=True)
    name = f"warehouse-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}.duckdb"
    partial = folder / (name + ".partial")
    pointer = folder / (POINTER + ".partial")
    switched = False
    try:
        _copy(warehouse_path(home), partial)
        os.replace(partial, folder / name)
        fd = create_file(pointer)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(name + "\n")
        os.replace(pointer, folder / POINTER)
        switched = True
    finally:
        if not switched:
            for p in (partial, pointer, folder / name):
                p.unlink(missing_ok=True)
    return name


def _copy(source: Path, target: Path) -> None:
    """``source`` copied to a new file ``target`` made ``0600``, in the kernel where it can be."""
    fd = create_file(target)
    with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
        if hasattr(os, "sendfile"):
            _sendfile(src, dst)
        else:
            shutil.copyfileobj(src, dst, 8 << 20)


def _sendfile(src, dst) -> None:
    size = os.fstat(src.fileno()).st_size
    offset = 0
    try:
        while offset < size:
            sent = os.sendfile(dst.fileno(), src.fileno(), offset, min(size - offset, 1 << 30))
            if sent == 0:
                break
            offset += sent
    except OSError as e:
        if offset or e.errno not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise
        shutil.copyfileobj(src, dst, 8 << 20)
        return
    if offset != size:
        raise OSError(errno.EIO, f"the snapshot copy stopped at {offset:,} of {size:,} bytes")


def current(home: Path) -> Path | None:
    """The newest published snapshot, or None when nothing was published yet."""
    folder = Path(home) / FOLDER
    try:
        name = (folder / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not NAME.match(name) or not (folder / name).is_file():
        return None
    return folder / name


def _prune(folder: Path, keep_name: str) -> None:
    snaps = sorted(p for p in folder.iterdir() if NAME.match(p.name))
    old = [p for p in snaps if p.name != keep_name][: max(0, len(snaps) - KEEP)]
    for p in old:
        for extra in (p, p.with_name(p.name + ".wal")):
            try:
                extra.unlink()
            except FileNotFoundError:
                pass


def parties(home: Path) -> dict[str, str] | None:
    """Every party's type by its id in the newest published snapshot; None before any."""
    path = current(home)
    if path is None:
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        return dict(con.execute("SELECT party_id, party_type FROM ref_parties").fetchall())
    finally:
        con.close()
