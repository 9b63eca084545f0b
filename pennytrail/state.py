"""What a close depends on, as one fingerprint: when it equals the last completed close's, the
close has nothing to do.

It covers every submission file (path and SHA-256), the reference files, the months asked for
and pennytrail's own rules (the source of its modules and contracts). The close records it
after it completes; a close that failed or died records nothing, so the next one runs in full.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import data_contracts

from .ingest import discover, hash_files
from .warehouse import connect, get_meta, set_meta

KEY = "last_close"


def fingerprint(data: Path, months: list[str] | None) -> str:
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


def unchanged(home: Path, print_: str) -> bool:
    """True when the warehouse's last completed close had exactly this fingerprint."""
    path = home / "pennytrail.duckdb"
    if not path.exists():
        return False
    with connect(path, read_only=True) as con:
        return get_meta(con, KEY) == print_


def record(home: Path, print_: str) -> None:
    with connect(home / "pennytrail.duckdb") as con:
        set_meta(con, KEY, print_)
