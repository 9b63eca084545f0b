"""Ingest: every submission file exactly once, every row accepted or quarantined (SPEC.md §2–§3).

Order of work: the reference data is read and checked whole (``load_reference``) and written to
the ``ref_*`` tables; then every file under ``<data>/inbox/<kind>/`` that the warehouse has not
seen (by path and SHA-256) is applied, new files in order of their path, each in a
transaction of its own: rows into the kind's history table, rejects into ``quarantine``, a line
into ``ingest_log``. A file whose bytes were seen before under another name is logged as a
``duplicate`` and changes nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd
import pyarrow as pa

import data_contracts

from .reading import FileProblem, RawTable, read_table
from .reference import Reference
from .validate import validate
from .warehouse import HISTORY, history_select, transaction

log = logging.getLogger(__name__)
SUFFIXES = (".csv", ".xlsx")


@dataclass
class IngestSummary:
    files_seen: int = 0
    files_loaded: int = 0
    files_duplicate: int = 0
    files_rejected: int = 0
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    codes: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)

    @property
    def new_files(self) -> int:
        return self.files_loaded + self.files_duplicate + self.files_rejected


def discover(data_dir: Path) -> list[tuple[str, str | None]]:
    """(path relative to data_dir, kind) of every submission file, in path order.

    The kind is the first folder under ``inbox/``; a file in any other folder gets kind None
    (it is rejected, not ignored). Hidden files and Excel lock files (``~$…``) are skipped.
    """
    inbox = data_dir / "inbox"
    found = []
    if not inbox.is_dir():
        return found
    for path in inbox.rglob("*"):
        if not path.is_file() or path.suffix.lower() not in SUFFIXES:
            continue
        if any(part.startswith((".", "~$")) for part in path.relative_to(inbox).parts):
            continue
        rel = path.relative_to(data_dir).as_posix()
        top = path.relative_to(inbox).parts[0]
        found.append((rel, top if top in data_contracts.INPUT_KINDS and len(path.relative_to(inbox).parts) > 1 else None))
    return sorted(found)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_reference(con: duckdb.DuckDBPyConnection, ref: Reference) -> None:
    """Replace the ref_* tables with ``ref``, in one transaction."""
    programs = pd.DataFrame([(p.program_id, p.name, p.currency, p.allocation_basis, str(p.retention_pct),
                              p.deadline_days, p.period_days, p.period_anchor) for p in ref.programs.values()],
                            columns=["program_id", "name", "currency", "allocation_basis", "grower_retention_pct",
                                     "distribution_deadline_days", "period_days", "period_anchor"])
    parties = pd.DataFrame([(k, *v) for k, v in ref.parties.items()],
                           columns=["party_id", "party_type", "name", "program_id"])
    rates = pd.DataFrame([(r.program_id, r.commodity, str(r.rate), r.rate_unit, r.effective_from, r.effective_to)
                          for r in ref.rates],
                         columns=["program_id", "commodity", "rate", "rate_unit", "effective_from", "effective_to"])
    units = pd.DataFrame([(u, b, str(f)) for u, (b, f) in ref.units.items()], columns=["unit", "base_unit", "factor"])
    with transaction(con):
        for table, frame in (("ref_programs", programs), ("ref_parties", parties), ("ref_rates", rates),
                             ("ref_units", units)):
            con.execute(f"DELETE FROM {table}")
            if len(frame):
                con.register("_frame", frame)
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")
                con.unregister("_frame")


def _looks_like(header: list[str]) -> str | None:
    """The kind whose required columns a header has, for a helpful message."""
    for kind in data_contracts.INPUT_KINDS:
        if all(c in header for c in data_contracts.required_columns(kind)):
            return kind
    return None


def ingest(con: duckdb.DuckDBPyConnection, data_dir: Path, ref: Reference,
           progress: Callable[[str], None] = log.info,
           on_raw: Callable[[str, pd.DataFrame], None] | None = None) -> IngestSummary:
    """Apply every new file; ``on_raw(kind, frame)`` sees each readable file's raw text rows."""
    summary = IngestSummary()
    seen_pairs = set(con.execute("SELECT file, sha256 FROM ingest_log").fetchall())
    seen_shas = {sha for _, sha in seen_pairs}
    next_seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM ingest_log").fetchone()[0]
    files = discover(data_dir)
    summary.files_seen = len(files)
    for rel, kind in files:
        sha = sha256_of(data_dir / rel)
        if (rel, sha) in seen_pairs:
            continue
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        entry = {"seq": next_seq, "file": rel, "sha256": sha, "kind": kind, "first_seen_at": now,
                 "rows_read": 0, "rows_accepted": 0, "rows_quarantined": 0, "message": None}
        next_seq += 1
        seen_pairs.add((rel, sha))
        with transaction(con):
            if sha in seen_shas:
                entry.update(status="duplicate", message="the same bytes were ingested before under another name")
                summary.files_duplicate += 1
            else:
                seen_shas.add(sha)
                _apply_file(con, data_dir, ref, rel, kind, entry, summary, on_raw)
            con.execute("INSERT INTO ingest_log BY NAME SELECT * FROM (SELECT "
                        + ", ".join(f"? AS {k}" for k in entry) + ")", list(entry.values()))
        progress(f"{entry['status']:9} {rel}: {entry['rows_read']} rows, {entry['rows_accepted']} accepted, "
                 f"{entry['rows_quarantined']} quarantined")
    return summary


def _reject(con: duckdb.DuckDBPyConnection, entry: dict, code: str, message: str, sheet: str | None,
            rows: int, summary: IngestSummary) -> None:
    con.execute("INSERT INTO quarantine (file, sheet, row_number, kind, code, message, raw, sha256) "
                "VALUES (?, ?, NULL, ?, ?, ?, NULL, ?)",
                [entry["file"], sheet, entry["kind"], code, message, entry["sha256"]])
    entry.update(status="rejected", message=message, rows_read=rows, rows_quarantined=rows)
    summary.files_rejected += 1
    summary.codes[code] += 1
    summary.rows_read += rows
    summary.rows_quarantined += rows


def _apply_file(con: duckdb.DuckDBPyConnection, data_dir: Path, ref: Reference, rel: str, kind: str | None,
                entry: dict, summary: IngestSummary, on_raw: Callable[[str, pd.DataFrame], None] | None) -> None:
    if kind is None:
        _reject(con, entry, "UNKNOWN_KIND",
                "the file is not in a kind folder: put it under inbox/purchases/, inbox/payments/ or inbox/payroll/",
                None, 0, summary)
        return
    try:
        raw: RawTable = read_table(data_dir / rel)
    except FileProblem as e:
        _reject(con, entry, e.code, e.message, None, 0, summary)
        return
    missing = [c for c in data_contracts.required_columns(kind) if c not in raw.header]
    if missing:
        other = _looks_like(raw.header)
        hint = f"; it looks like a {other} file: move it to inbox/{other}/" if other and other != kind else ""
        _reject(con, entry, "MISSING_COLUMN",
                f"the header lacks required {kind} column(s): {', '.join(missing)}{hint}",
                raw.sheet, len(raw.frame), summary)
        return
    if on_raw is not None:
        on_raw(kind, raw.frame)
    result = validate(raw, kind, ref)
    acc, q = result.accepted, result.quarantine
    if len(acc):
        acc.insert(0, "file_seq", entry["seq"])
        acc.insert(1, "file", rel)
        con.register("_acc", pa.Table.from_pandas(acc, preserve_index=False))
        con.execute(f"INSERT INTO {HISTORY[kind]} BY NAME {history_select(kind, '_acc')}")
        con.unregister("_acc")
    if len(q):
        q = q.assign(file=rel, sheet=raw.sheet, kind=kind, sha256=entry["sha256"])
        con.register("_q", q)
        con.execute("INSERT INTO quarantine BY NAME SELECT * FROM _q")
        con.unregister("_q")
        summary.codes.update(q["code"].tolist())
    entry.update(status="loaded", rows_read=len(acc) + len(q), rows_accepted=len(acc), rows_quarantined=len(q))
    summary.files_loaded += 1
    summary.kinds[kind] += 1
    summary.rows_read += entry["rows_read"]
    summary.rows_accepted += len(acc)
    summary.rows_quarantined += len(q)
