"""Ingest: every submission file exactly once, every row accepted or quarantined (docs/rules.md:
Reference data, Row outcomes).

Order of work: the reference data is read and checked whole (``load_reference``) and written to
the ``ref_*`` tables; then every file under ``<data>/inbox/<kind>/`` that the warehouse has not
seen (by path and SHA-256) is applied, new files in order of their path. They are applied in
batches of about ``BATCH_ROWS`` rows, each in a transaction of its own: rows into the kind's
history table, rejects into ``quarantine``, a line per file into ``ingest_log``. A file whose
bytes were seen before under another name is logged as a ``duplicate`` and changes nothing else.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import logging
import os
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

import data_contracts

from . import infiles
from .reading import FileProblem, RawTable, read_table
from .reference import Reference
from .validate import sender_of, validate_many
from . import mapped as mapped_files
from . import faults
from .freed import give_back
from .warehouse import HISTORY, history_select, quote, raw_json_sql, transaction

log = logging.getLogger(__name__)


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

    @property
    def new_files(self) -> int:
        return self.files_loaded + self.files_duplicate + self.files_rejected


def discover(data_dir: Path) -> list[tuple[str, str | None]]:
    """(path relative to data_dir, kind) of every regular submission file, in path order.

    The kind is the first folder under ``inbox/``; a file in any other folder gets kind None
    (it is rejected, not ignored), and so is a file that is neither .csv nor .xlsx (when read).
    Hidden files and Excel lock files (``~$…``) are skipped. Entries that are not regular files,
    or whose names are not text, are in ``infiles.walk`` (rejected unread), not here.
    """
    return [(f.rel, _kind(f)) for f in infiles.walk(data_dir) if f.problem is None]


def _kind(found: infiles.Found) -> str | None:
    return found.kind_folder if found.kind_folder in data_contracts.INPUT_KINDS else None


_hashed: dict[tuple, str] = {}
changed_files: list[str] = []  # files this process found changing while it read them (read next close)


def sha256_of(path: Path, root: Path | None = None) -> str:
    """The file's SHA-256, read once per process while the file is unchanged: same inode, size,
    and modification and status-change times (any write changes the latter, and no tool sets it
    back). A close fingerprints the inbox and then ingests it; the bytes are hashed once. Only a
    regular file reached without a symbolic link (under ``root``) is read (``infiles``):
    ``FileProblem`` otherwise, and when it changed while it was read."""
    st = os.lstat(path)
    where = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
    key = (where, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if key not in _hashed:
        sha, st = _hash_bytes(path, root)
        key = (where, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        _hashed[key] = sha
    return _hashed[key]


def _hash_bytes(path: Path, root: Path | None = None) -> tuple[str, os.stat_result]:
    h = hashlib.sha256()
    st = infiles.hash_regular(path, root, h)
    return h.hexdigest(), st


def known_hashes() -> list[list]:
    """This process's remembered hashes: [path, inode, size, mtime_ns, ctime_ns, sha256] each."""
    return [[*key, sha] for key, sha in _hashed.items()]


def remember_hashes(entries: list[list], written_before_ns: int) -> int:
    """Take hashes another process computed (``known_hashes``) as if computed here, for files
    whose modification and status-change times are before ``written_before_ns``: a file written
    in the same instant its hash was taken could change again without its times changing. The
    number taken."""
    taken = 0
    for *key, sha in entries:
        if max(key[3], key[4]) < written_before_ns:
            _hashed[tuple(key)] = sha
            taken += 1
    return taken


def hash_files(paths: list[Path], root: Path | None = None) -> list[str | FileProblem | None]:
    """``sha256_of`` each path, several files at a time (hashing and reading release the GIL):
    the SHA-256, the ``FileProblem`` that stops it being read, or None for a file gone since."""
    def one(path: Path) -> str | FileProblem | None:
        try:
            return sha256_of(path, root)
        except FileProblem as e:
            if e.code == infiles.FILE_CHANGED:
                changed_files.append(str(path))
            return e
        except FileNotFoundError:
            return None
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(one, paths))


def write_reference(con: duckdb.DuckDBPyConnection, ref: Reference) -> None:
    """Replace the ref_* tables with ``ref``, in one transaction."""
    programs = pd.DataFrame([(p.program_id, p.name, p.currency, p.allocation_basis, str(p.retention_pct),
                              p.deadline_days, p.period_days, p.period_anchor, p.language, p.complaint_line)
                             for p in ref.programs.values()],
                            columns=["program_id", "name", "currency", "allocation_basis", "grower_retention_pct",
                                     "distribution_deadline_days", "period_days", "period_anchor", "language",
                                     "complaint_line"])
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
    faults.point("reference.committed")


def _looks_like(header: list[str]) -> str | None:
    """The kind whose required columns a header has, for a helpful message."""
    for kind in data_contracts.INPUT_KINDS:
        if all(c in header for c in data_contracts.required_columns(kind)):
            return kind
    return None


BATCH_ROWS = 250_000  # rows read before a batch of files is validated and committed


@dataclass
class _Batch:
    """New files read but not yet applied: applied together, in one transaction."""
    entries: list[dict] = field(default_factory=list)
    tables: dict[str, list[tuple[dict, RawTable]]] = field(default_factory=dict)
    rejects: list[dict] = field(default_factory=list)
    rows: int = 0


def ingest(con: duckdb.DuckDBPyConnection, data_dir: Path, ref: Reference,
           progress: Callable[[str], None] = log.info,
           on_raw: Callable[[str, pa.Table], None] | None = None) -> IngestSummary:
    """Apply every new file; ``on_raw(kind, table)`` sees each readable file's raw text rows.

    New files are read in path order and applied in batches of about ``BATCH_ROWS`` rows: a
    batch's files are validated together and committed in one transaction, so a close that
    dies leaves whole files applied or not at all.
    """
    summary = IngestSummary()
    seen_pairs = set(con.execute("SELECT file, sha256 FROM ingest_log").fetchall())
    seen_shas = {sha for _, sha in seen_pairs}
    next_seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM ingest_log").fetchone()[0]
    found = infiles.walk(data_dir)
    summary.files_seen = len(found)
    regular = [f for f in found if f.problem is None]
    shas = dict(zip((f.rel for f in regular), hash_files([data_dir / f.name for f in regular], data_dir)))
    # each new (path, bytes) once; a duplicate's bytes were seen before, or earlier in this run; an
    # entry that is not read (not a file, a name that is not text) once per path and reason
    new = []
    for f in found:
        got = f.problem or shas[f.rel]
        if got is None:
            continue  # gone since the inbox was listed
        if isinstance(got, FileProblem):
            marker = f.marker or infiles.UNREAD + got.code.lower()
            if got.code == infiles.FILE_CHANGED or (f.rel, marker) not in seen_pairs:
                new.append((f.rel, _kind(f), marker, False, got))
        elif (f.rel, got) not in seen_pairs:
            new.append((f.rel, _kind(f), got, got in seen_shas, None))
            seen_shas.add(got)
    profiles = {rel: mapped_files.profiles_for(ref.mappings, rel)
                for rel, kind, _, _, unread in new if kind is not None and unread is None}
    reads = _read_ahead([(data_dir / rel, sha) for rel, kind, sha, duplicate, unread in new
                         if kind is not None and not duplicate and unread is None and not profiles[rel]], data_dir)
    batch = _Batch()
    for rel, kind, sha, duplicate, unread in new:
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        entry = {"seq": next_seq, "file": rel, "sha256": sha, "kind": kind, "first_seen_at": now,
                 "rows_read": 0, "rows_accepted": 0, "rows_quarantined": 0, "message": None,
                 "rows_skipped": 0, "mapping": None, "unmapped_codes": None}
        next_seq += 1
        batch.entries.append(entry)
        if duplicate:
            entry.update(status="duplicate", message="the same bytes were ingested before under another name")
            summary.files_duplicate += 1
            continue
        if unread is None and kind is not None and profiles[rel]:  # a sender's own layout (§3b)
            read = mapped_files.read_for_ingest(data_dir, rel, profiles[rel], entry, sha)
        else:
            read = unread if unread is not None or kind is None else next(reads)
        raw = read if isinstance(read, mapped_files.MappedFile) else _read_file(rel, kind, read, entry, batch, summary)
        if raw is not None:
            if on_raw is not None:
                on_raw(kind, raw.table)
            batch.tables.setdefault(kind, []).append((entry, raw))
            batch.rows += raw.rows
        if batch.rows >= BATCH_ROWS:
            _apply(con, ref, batch, summary, progress)
            batch = _Batch()
            give_back()  # what the batch's checks and load freed, before the next files are read
    _apply(con, ref, batch, summary, progress)
    give_back()
    return summary


def _reject(entry: dict, code: str, message: str, sheet: str | None, rows: int, batch: _Batch,
            summary: IngestSummary) -> None:
    batch.rejects.append({"file": entry["file"], "sheet": sheet, "row_number": None, "kind": entry["kind"],
                          "code": code, "message": message, "raw": None, "sha256": entry["sha256"]})
    entry.update(status="rejected", message=message, rows_read=rows, rows_quarantined=rows)
    summary.files_rejected += 1
    summary.codes[code] += 1
    summary.rows_read += rows
    summary.rows_quarantined += rows


READ_AHEAD_BYTES = 64 << 20  # files read before they are needed, at most (one file, however big)
GIVE_BACK_BYTES = 8 << 20  # after reading a CSV this large, or any workbook, what the read freed is given back


def _read_ahead(files: list[tuple[Path, str]], root: Path) -> Iterator[RawTable | FileProblem]:
    """Each file's raw table, or the problem that stops it, in order: read in a second thread
    ahead of need, up to ``READ_AHEAD_BYTES`` of files. Arrow's CSV parser and compute kernels
    release the GIL, so reading the next files overlaps checking and loading the last ones. A
    file is parsed from the bytes whose SHA-256 is logged: one whose bytes are not those hashed
    (it changed since) is ``FILE_CHANGED``."""
    def read(path: Path, sha: str, nbytes: int) -> RawTable | FileProblem:
        try:
            return read_table(path, root, sha)
        except FileProblem as e:
            return e
        except (Exception, MemoryError) as e:  # nothing a file holds may stop the others
            log.warning("reading %s failed", path, exc_info=True)
            return FileProblem("UNREADABLE_FILE", f"the file cannot be read ({type(e).__name__}: "
                                                  f"{(str(e).splitlines() or [''])[0][:200]}); save it again as CSV "
                                                  "UTF-8 or .xlsx and send it again")
        finally:
            if path.suffix.lower() == ".xlsx" or nbytes >= GIVE_BACK_BYTES:
                give_back()  # the parse's copies, or the reader's grid (its extent, not its bytes)

    def size(path: Path) -> int:
        try:
            return os.lstat(path).st_size
        except OSError:
            return 0
    sizes = [size(p) for p, _ in files]
    with ThreadPoolExecutor(1, thread_name_prefix="pennytrail-read") as pool:
        pending: deque = deque()
        queued = nxt = 0
        for _ in files:
            while nxt < len(files) and (not pending or queued + sizes[nxt] <= READ_AHEAD_BYTES):
                pending.append((pool.submit(read, *files[nxt], sizes[nxt]), sizes[nxt]))
                queued += sizes[nxt]
                nxt += 1
            done, size = pending.popleft()
            queued -= size
            yield done.result()


def _read_file(rel: str, kind: str | None, raw: RawTable | FileProblem | None, entry: dict, batch: _Batch,
               summary: IngestSummary) -> RawTable | None:
    """The file's raw table (``raw``, as read), or None when the whole file is rejected. A file
    that changed while it was read is logged under a SHA-256 of no content (``changed:SEQ``), so
    that whatever it holds next is read at the next close."""
    if isinstance(raw, FileProblem) and raw.code in (infiles.NOT_A_FILE, infiles.BAD_FILE_NAME):
        _reject(entry, raw.code, raw.message, None, 0, batch, summary)
        return None
    if isinstance(raw, FileProblem) and raw.code == infiles.FILE_CHANGED:
        entry["sha256"] = f"changed:{entry['seq']}"
        changed_files.append(rel)
        _reject(entry, raw.code, raw.message, None, 0, batch, summary)
        return None
    if kind is None:
        folders = ", ".join(f"inbox/{k}/" for k in data_contracts.INPUT_KINDS)
        _reject(entry, "UNKNOWN_KIND", f"the file is not in a kind folder: put it under one of {folders}",
                None, 0, batch, summary)
        return None
    if isinstance(raw, FileProblem):
        _reject(entry, raw.code, raw.message, None, 0, batch, summary)
        return None
    missing = [c for c in data_contracts.required_columns(kind) if c not in raw.header]
    if missing:
        other = _looks_like(raw.header)
        hint = f"; it looks like a {other} file: move it to inbox/{other}/" if other and other != kind else ""
        _reject(entry, "MISSING_COLUMN", f"the header lacks required {kind} column(s): {', '.join(missing)}{hint}",
                raw.sheet, raw.rows, batch, summary)
        return None
    return raw


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    con.register("_frame", pa.Table.from_pandas(frame, preserve_index=False))
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _frame")
    finally:
        con.unregister("_frame")


def _load_checked(con: duckdb.DuckDBPyConnection, kind: str, entries: list[dict], raws: list[RawTable],
                  checked) -> None:
    """Accepted rows into the kind's history table and the others into quarantine, typed and
    with their raw records made in the warehouse (JSON: a quarantined row's every column as read,
    an accepted row's extra columns), one statement each. The files' own columns go
    to the warehouse as read (Arrow, no copy); a column some files lack is NULL in the others."""
    table = pa.concat_tables([r.table for r in raws], promote_options="default")
    header = table.column_names
    contract = list(data_contracts.load(kind)["columns"])
    # a sender's column keeps its name only if it is a contract column; every other one is held
    # under a positional internal name, so nothing in a header can collide with the internal
    # columns below (the raw record still uses the header's names)
    source = {c: (c if c in contract else f"__extra_{i}") for i, c in enumerate(header)}
    table = table.rename_columns([source[c] for c in header])
    n = table.num_rows
    for col in contract:
        if col not in header:
            table = table.append_column(col, pa.nulls(n, pa.string()))
    files = pa.array(checked.file_index.astype(np.int32))

    def per_file(key: str) -> pa.DictionaryArray:  # a file's text once, not once per row
        return pa.DictionaryArray.from_arrays(files, pa.array([e[key] for e in entries], pa.string()))
    meta = {
        "file_seq": pa.array(np.array([e["seq"] for e in entries], dtype=np.int64)[checked.file_index]),
        "file": per_file("file"),
        "sha256": per_file("sha256"),
        "sheet": pa.array(checked.sheets, pa.string()),
        "row_number": pa.array(checked.row_numbers.astype(np.int64)),
        "code": pa.array(checked.code, pa.string()),
        "message": pa.array(checked.message, pa.string()),
    }
    for name, values in meta.items():
        table = table.append_column(f"__{name}", values)
    sparse = not all(r.header == raws[0].header for r in raws)
    extra = [c for c in header if c not in contract]
    # an accepted row's raw record holds its extra columns (its contract columns are its typed
    # columns); a quarantined row's holds every column as read
    kept = f"NULLIF({raw_json_sql(extra, sparse, source)}, '{{}}')" if extra else "CAST(NULL AS VARCHAR)"

    def rows(raw: str) -> str:
        return ("(SELECT " + ", ".join(quote(c) for c in contract) + ", "
                + ", ".join(f"__{m} AS {m}" for m in meta) + f", {raw} AS raw FROM _rows)")
    con.register("_rows", table)
    try:
        con.execute(f"INSERT INTO {HISTORY[kind]} BY NAME {history_select(kind, rows(kept))} WHERE code IS NULL")
        con.execute(f"INSERT INTO quarantine BY NAME SELECT file, sheet, row_number, '{kind}' AS kind, code, "
                    f"message, raw, sha256 FROM {rows(raw_json_sql(header, sparse, source))} WHERE code IS NOT NULL")
    finally:
        con.unregister("_rows")


# Errors a file's contents can cause while a batch is checked and loaded (a value the warehouse
# cannot hold, say); an error of the warehouse itself (disk, memory, a lost connection) is not one.
DATA_ERRORS = (duckdb.ConversionException, duckdb.OutOfRangeException, duckdb.InvalidInputException,
               duckdb.BinderException, duckdb.ParserException, duckdb.TypeMismatchException,
               duckdb.NotImplementedException, duckdb.ConstraintException, pa.ArrowException, ValueError,
               TypeError, KeyError, IndexError, ArithmeticError, UnicodeError)


def _apply(con: duckdb.DuckDBPyConnection, ref: Reference, batch: _Batch, summary: IngestSummary,
           progress: Callable[[str], None]) -> None:
    """Commit the batch; if a file's contents make that fail, the batch is applied again file by
    file, and a file that fails alone is rejected with the reason: one file never stops the others."""
    if not batch.entries:
        return
    before = copy.deepcopy(summary)
    try:
        _apply_batch(con, ref, batch, summary, progress)
        return
    except DATA_ERRORS:
        log.warning("a batch of %d files failed to load; applying them one by one", len(batch.entries), exc_info=True)
    _restore(summary, before)
    files = [(kind, entry, raw) for kind, tables in batch.tables.items() for entry, raw in tables]
    others = [e for e in batch.entries if all(e is not x for _, x, _ in files)]  # duplicates, rejections
    if others:
        _apply_batch(con, ref, _Batch(entries=others, rejects=batch.rejects), summary, progress)
    for kind, entry, raw in files:
        saved = copy.deepcopy(summary)
        try:
            _apply_batch(con, ref, _Batch(entries=[entry], tables={kind: [(entry, raw)]}), summary, progress)
        except DATA_ERRORS as e:
            log.warning("file %s failed to load", entry["file"], exc_info=True)
            _restore(summary, saved)
            alone = _Batch(entries=[entry])
            _reject(entry, "UNREADABLE_FILE",
                    f"the file's values could not be loaded ({type(e).__name__}: "
                    f"{(str(e).splitlines() or [''])[0][:200]}); check its values and send it again",
                    raw.sheet, 0, alone, summary)
            _apply_batch(con, ref, alone, summary, progress)


def _restore(summary: IngestSummary, saved: IngestSummary) -> None:
    for name in summary.__dataclass_fields__:
        setattr(summary, name, getattr(saved, name))


def _apply_batch(con: duckdb.DuckDBPyConnection, ref: Reference, batch: _Batch, summary: IngestSummary,
                 progress: Callable[[str], None]) -> None:
    """Validate the batch's files kind by kind and commit them, with their log lines, at once."""
    with transaction(con):
        for kind, tables in batch.tables.items():
            for entry, raw in tables:
                if isinstance(raw, mapped_files.MappedFile):
                    mapped_files.apply(con, kind, entry, raw, ref, summary)
            tables = [(e, raw) for e, raw in tables if not isinstance(raw, mapped_files.MappedFile)]
            if not tables:
                continue
            entries = [e for e, _ in tables]
            raws = [raw for _, raw in tables]
            checked = validate_many(raws, kind, ref, senders=[sender_of(e["file"]) for e in entries])
            give_back()  # the checks' intermediate columns, before the load makes its own
            _load_checked(con, kind, entries, raws, checked)
            good = checked.good
            accepted = np.bincount(checked.file_index[good], minlength=len(entries))
            quarantined = np.bincount(checked.file_index[~good], minlength=len(entries))
            summary.codes.update(checked.code[~good].tolist())
            for entry, a, b in zip(entries, accepted.tolist(), quarantined.tolist()):
                entry.update(status="loaded", rows_read=a + b, rows_accepted=a, rows_quarantined=b)
                summary.files_loaded += 1
                summary.rows_read += a + b
                summary.rows_accepted += a
                summary.rows_quarantined += b
        if batch.rejects:
            _insert(con, "quarantine", pd.DataFrame(batch.rejects))
        _insert(con, "ingest_log", pd.DataFrame(batch.entries))
        faults.point("ingest.batch_written")
    faults.point("ingest.batch_committed")
    # a line per file; for a big batch, one line for all its loaded files (ingest_log has each)
    summed = len(batch.entries) > 20
    loaded = [e for e in batch.entries if e["status"] == "loaded"]
    for entry in batch.entries:
        if not (summed and entry["status"] == "loaded"):
            progress(f"{entry['status']:9} {entry['file']}: {entry['rows_read']} rows, {entry['rows_accepted']} "
                     f"accepted, {entry['rows_quarantined']} quarantined"
                     + (f" ({entry['message']})" if entry["message"] else ""))
    if summed and loaded:
        progress(f"loaded    {len(loaded)} files ({loaded[0]['file']} … {loaded[-1]['file']}): "
                 f"{sum(e['rows_read'] for e in loaded):,} rows, {sum(e['rows_accepted'] for e in loaded):,} accepted, "
                 f"{sum(e['rows_quarantined'] for e in loaded):,} quarantined")
