"""What a close depends on, as one fingerprint: when it equals the last completed close's, the
close has nothing to do.

It covers every submission file (path and SHA-256), the reference files, the months asked for
and pennytrail's own rules (the source of its modules and contracts). The close records it
after it completes; a close that failed or died records nothing, so the next one runs in full.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import data_contracts

from .ingest import discover, hash_files, known_hashes, remember_hashes
from .warehouse import connect, get_meta, set_meta

KEY = "last_close"
HASHES_KEY = "last_close_hashes"  # the files' SHA-256 by path, inode, size and times, and when taken
RACY_NS = 2_000_000_000  # a file changed this close to when it was hashed is hashed again
_taken_at_ns = 0  # when this process's fingerprint began hashing


def last_close(home: Path) -> dict[str, str]:
    """What the last completed close recorded (its fingerprint and its files' hashes), read in
    one look at the warehouse; empty when there is none."""
    path = home / "pennytrail.duckdb"
    if not path.exists():
        return {}
    with connect(path, read_only=True) as con:
        return {key: value for key in (KEY, HASHES_KEY) if (value := get_meta(con, key))}


def reuse_hashes(last: dict[str, str]) -> int:
    """Take the SHA-256 the last completed close (``last_close``) computed for each submission
    file whose inode, size, modification and status-change times are unchanged (as git's index
    does), so an unchanged inbox is not read again. Every write changes a file's status-change
    time, and no tool sets it back; a file whose times are within ``RACY_NS`` of the moment its
    hash was taken is hashed again. The number of hashes taken."""
    if HASHES_KEY not in last:
        return 0
    saved = json.loads(last[HASHES_KEY])
    return remember_hashes(saved["files"], saved["taken_at_ns"] - RACY_NS)


def fingerprint(data: Path, months: list[str] | None) -> str:
    global _taken_at_ns
    _taken_at_ns = time.time_ns()
    h = hashlib.sha256()
    files = [rel for rel, _ in discover(data)]
    for rel, sha in zip(files, hash_files([data / rel for rel in files])):
        h.update(f"{rel}\0{sha}\n".encode())
    for path in sorted((data / "reference").glob("*")):
        if path.is_file():
            h.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    h.update(repr(sorted(months) if months else "all").encode())
    for folder in (Path(__file__).parent, Path(data_contracts.__file__).parent):
        for path in sorted(folder.glob("*.py")) + sorted(folder.glob("*.yaml")):
            h.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def unchanged(last: dict[str, str], print_: str) -> bool:
    """True when the last completed close (``last_close``) had exactly this fingerprint."""
    return last.get(KEY) == print_


def record(home: Path, print_: str) -> None:
    """Record a completed close's fingerprint, and the hashes it took of files still as they were
    (for ``reuse_hashes``)."""
    with connect(home / "pennytrail.duckdb") as con:
        set_meta(con, KEY, print_)
        set_meta(con, HASHES_KEY, json.dumps({"taken_at_ns": _taken_at_ns,
                                              "files": [e for e in known_hashes() if _same_file(e)]}))


def _same_file(entry: list) -> bool:
    path, ino, size, mtime, ctime, _ = entry
    try:
        st = Path(path).stat()
    except OSError:
        return False
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) == (ino, size, mtime, ctime)
