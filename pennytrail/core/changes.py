"""The one change detector: what decides a figure, as fingerprints.

A close depends on every submission file (path and SHA-256), the reference files, the months
asked for and pennytrail's own rules: the source of every project package (``pennytrail``,
``pipelines``, ``assets``, ``reports``, ``data_contracts``: its Python, YAML and SQL) and the
contracts (``code_digest``).
``fingerprint`` covers all of it; when it equals the last completed close's, the close has
nothing to do. The close records it last, after its results are in the warehouse file and its
snapshot is published; a close that failed or died before records nothing, so the next one
runs in full.

The reconciliation has a finer fingerprint of its own inputs as the warehouse holds them
(``reconciliation_state``): the reference tables and the same ``code_digest`` make its basis;
the files applied since tell it whether only files were added (rebuilt in part) or anything
else changed (rebuilt in full). The inbox sensor looks at the inbox the same way the close
does (``inbox_listing``), by size and modification time, and asks for a close of the months a
new or changed file names (``months_touched``).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from functools import cache
from pathlib import Path

import duckdb

from .infiles import FILE_CHANGED, hash_regular, shown, walk
from .ingest import hash_files, known_hashes, remember_hashes
from .reading import FileProblem, read_table
from .warehouse import connect, get_meta, set_meta

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pennytrail", "pipelines", "assets", "reports", "data_contracts")
KEY = "last_close"
HASHES_KEY = "last_close_hashes"  # the files' SHA-256 by path, inode, size and times, and when taken
RACY_NS = 2_000_000_000  # a file changed this close to when it was hashed is hashed again
_taken_at_ns = 0  # when this process's fingerprint began hashing


@cache
def code_digest() -> str:
    """SHA-256 over the source of every project package and the data contracts (``*.py``,
    ``*.yaml`` and ``*.sql`` under each, by path relative to the project), read once per process."""
    h = hashlib.sha256()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            if path.suffix in (".py", ".yaml", ".sql") and path.is_file() and "__pycache__" not in path.parts:
                h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


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
    """Every submission entry by path and SHA-256 (an entry that is not read, by path and the
    reason: a symbolic link is never followed to hash what it points to), the reference files,
    the months and the rules."""
    global _taken_at_ns
    _taken_at_ns = time.time_ns()
    h = hashlib.sha256()
    found = walk(data)
    regular = [f for f in found if f.problem is None]
    shas = dict(zip((f.rel for f in regular), hash_files([data / f.name for f in regular], data)))
    for f in found:
        sha = f.marker if f.problem is not None else shas[f.rel]
        if isinstance(sha, FileProblem):
            sha = f"{sha.code}:{time.time_ns()}" if sha.code == FILE_CHANGED else sha.code
        h.update(f"{f.rel}\0{sha}\n".encode("utf-8", "backslashreplace"))
    for folder in ("reference", "reference/mappings"):  # a mapping profile (§3b) is reference data too
        reference = data / folder
        for name in sorted(os.listdir(reference)) if reference.is_dir() else []:
            if name.startswith(".") or (folder == "reference" and name == "mappings"):
                continue
            h.update(shown(f"{folder}/{name}").encode() + b"\0" + _reference_digest(reference / name, data))
    h.update(repr(sorted(months) if months else "all").encode())
    h.update(code_digest().encode())
    return h.hexdigest()


def _reference_digest(path: Path, data: Path) -> bytes:
    """A reference file's SHA-256; for anything that is not a regular file, what it is (it is
    never followed or read)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return b"gone"
    if not stat.S_ISREG(mode):
        return f"not a file: {stat.S_IFMT(mode):o}".encode()
    h = hashlib.sha256()
    try:
        hash_regular(path, data, h)
    except FileProblem as e:
        return e.code.encode() + (str(time.time_ns()).encode() if e.code == FILE_CHANGED else b"")
    except FileNotFoundError:
        return b"gone"
    return h.digest()


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
        st = os.lstat(path)
    except OSError:
        return False
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) == (ino, size, mtime, ctime)


RECONCILIATION_KEY = "reconciliation_fingerprint"
REFERENCE_SQL = """
SELECT (SELECT coalesce(max(seq), 0) FROM ingest_log), (SELECT count(*) FROM ingest_log),
       (SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
           SELECT CAST(p AS VARCHAR) AS t FROM ref_programs p UNION ALL SELECT CAST(q AS VARCHAR) FROM ref_parties q
           UNION ALL SELECT CAST(r AS VARCHAR) FROM ref_rates r UNION ALL SELECT CAST(u AS VARCHAR) FROM ref_units u))
"""


def reconciliation_state(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """(basis, fingerprint) of what the reconciliation is built from: the basis is the reference
    data as loaded and the rules (``code_digest``); the fingerprint, ``basis:seq:files``, adds
    the last file seq and the number of files applied."""
    seq, files, reference = con.execute(REFERENCE_SQL).fetchone()
    basis = hashlib.sha256(f"{reference}|{code_digest()}".encode()).hexdigest()
    return basis, f"{basis}:{seq}:{files}"


def rebuilt_since(last: str | None, basis: str) -> int | None:
    """The file seq the last reconciliation (fingerprint ``last``) was built from, when it was
    built on ``basis``; None when it must be rebuilt in full."""
    if last and last.startswith(basis + ":"):
        return int(last.split(":")[1])
    return None


DATE_COLUMNS = ("ship_date", "harvest_date", "paid_date", "period_start", "period_end", "premium_period_start")


def months_touched(path: Path) -> set[str]:
    """Months named by a file's dates, and the month after each (a pool belongs to its period's
    end): the inbox sensor asks for a close of each."""
    try:
        table = read_table(path)
    except (FileProblem, OSError):
        return set()
    months: set[str] = set()
    for col in DATE_COLUMNS:
        if col in table.frame.columns:
            for value in table.frame[col].str.slice(0, 7).unique():
                if len(value) == 7 and value[4] == "-" and value[:4].isdigit() and value[5:].isdigit():
                    y, m = int(value[:4]), int(value[5:])
                    if 1 <= m <= 12:
                        months.add(f"{y:04d}-{m:02d}")
                        months.add(f"{y + m // 12:04d}-{m % 12 + 1:02d}")
    return months


def inbox_listing(data: Path) -> dict[str, list[int]]:
    """Every submission file of the inbox (as the close finds them) with its size and
    modification time in nanoseconds: what the inbox sensor compares between looks."""
    listing = {}
    for f in walk(data):
        try:
            st = os.lstat(data / f.name)
        except OSError:
            continue
        listing[f.rel] = [st.st_size, st.st_mtime_ns]
    return listing


def run_key(listing: dict[str, list[int]], partition_key: str) -> str:
    """A key for a run requested for ``partition_key`` after the inbox looked like ``listing``:
    the same in every process (a SHA-256, not Python's salted ``hash``)."""
    digest = hashlib.sha256(json.dumps(listing, sort_keys=True).encode()).hexdigest()[:16]
    return f"{partition_key}:{digest}"
