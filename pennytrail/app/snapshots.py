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

import os
import re
import secrets
import shutil
import time
from pathlib import Path

import duckdb

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
    example the one a sign-off just used); otherwise the warehouse is opened here."""
    home = Path(home)
    folder = home / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    own = con is None
    if own:
        con = open_for_writing(home, wait)
    try:
        con.execute("CHECKPOINT")
        name = f"warehouse-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}.duckdb"
        partial = folder / (name + ".partial")
        shutil.copyfile(warehouse_path(home), partial)
    finally:
        if own:
            con.close()
    os.replace(partial, folder / name)
    pointer = folder / (POINTER + ".partial")
    pointer.write_text(name + "\n", encoding="utf-8")
    os.replace(pointer, folder / POINTER)
    _prune(folder, name)
    return folder / name


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
    for p in folder.glob("*.partial"):
        if time.time() - p.stat().st_mtime > 3600:
            p.unlink(missing_ok=True)


def buyers(home: Path) -> set[str] | None:
    """The buyers' party ids of the newest published snapshot; None before any."""
    path = current(home)
    if path is None:
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT party_id FROM ref_parties WHERE party_type = 'buyer'").fetchall()}
    finally:
        con.close()
