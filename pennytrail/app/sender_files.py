"""What became of a sender's files: each file under ``inbox/<kind>/senders/<party_id>/``
(SPEC §3c) with its status and counts, and every row of it that was quarantined, in the sender's
own words (its row number, its column header, the message), read from a published snapshot
(``snapshots.current``: the ``ingest_log`` and ``quarantine`` tables a completed close left).

Every function takes the sender's party id and reaches files through it: a file is found only
among that party's own files, so another party's file id names nothing (the portal answers 404,
as for a file that does not exist).

A file's id is ``f`` and 24 hex digits of the SHA-256 of its path (relative to the data folder)
and its bytes' SHA-256: the same file version has the same id in every snapshot, before a close
read it (a submission waiting) and after, and whether the portal stored it or the program's
staff placed it in the sender's folder. A new version of the same path is a new id. A
submission's own number (the portal's receipt) names the file it stored as well.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import duckdb

import data_contracts

from pennytrail.core.validate import sender_of
from reports.render import csv_text

from . import portal_db

ID = re.compile(r"^f[0-9a-f]{24}$")
WAITING = "waiting"  # submitted, not yet read by a close
# columns added after the sender's own in the rejected rows' CSV; named so that no sender's
# header (a pay code's "Code", say) is taken for them
ROW_COLUMN, CODE_COLUMN, REASON_COLUMN = "Rejected: row", "Rejected: code", "Rejected: reason"
STATUS_WORDS = {
    "loaded": "read by the close",
    "duplicate": "the same file was received before: it changed nothing",
    "rejected": "rejected whole: nothing of it was loaded",
    WAITING: "waiting for the next close",
}


def file_id(file: str, sha256: str) -> str:
    """The id of one version of a file (its path relative to the data folder, its bytes' SHA-256)."""
    return "f" + hashlib.sha256(f"{file}\n{sha256}".encode("utf-8")).hexdigest()[:24]


@dataclass
class SenderFile:
    id: str
    file: str                      # relative to the data folder
    kind: str | None
    sha256: str
    status: str                    # loaded, duplicate, rejected or waiting
    first_seen_at: object = None   # when a close first read it
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    mapping: str | None = None     # the sender's mapping profile that read it
    message: str | None = None     # why the whole file was rejected
    submission: dict | None = None  # the portal's receipt: id, original name, submitted_at

    @property
    def name(self) -> str:
        """What the sender knows the file by: the name it uploaded, else the file's own name."""
        if self.submission and self.submission.get("original_name"):
            return str(self.submission["original_name"])
        return self.file.rsplit("/", 1)[-1]

    @property
    def status_words(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)


@dataclass
class Rejected:
    """A quarantined row of the sender's file, as the sender wrote it."""
    sheet: str | None
    row_number: int | None         # as a spreadsheet shows it; None for the whole file
    code: str
    column: str | None             # the sender's header the message is about, where one is
    message: str
    raw: dict = field(default_factory=dict)  # the sender's header -> text


@dataclass
class FileDetail:
    file: SenderFile
    rows: list[Rejected]           # rows (and whole-file entries) quarantined, in the file's order

    @property
    def row_rejections(self) -> list[Rejected]:
        return [r for r in self.rows if r.row_number is not None]

    @property
    def file_rejection(self) -> Rejected | None:
        return next((r for r in self.rows if r.row_number is None), None)


def _own_files_sql() -> str:
    """ingest_log lines of the files under ``inbox/<kind>/senders/$party/`` (SPEC §3c)."""
    return """
        WITH parts AS (SELECT *, string_split(file, '/') AS p FROM ingest_log)
        SELECT file, sha256, kind, status, first_seen_at, rows_read, rows_accepted, rows_quarantined,
               coalesce(rows_skipped, 0) AS rows_skipped, mapping, message
        FROM parts WHERE len(p) > 4 AND p[1] = 'inbox' AND p[3] = 'senders' AND p[4] = $party
        ORDER BY seq"""


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = ?",
                       [table, column]).fetchone()[0] > 0


def sender_files(con: duckdb.DuckDBPyConnection | None, party: str,
                 submissions: Iterable[dict] = ()) -> list[SenderFile]:
    """The party's files, newest first: every version a close read from its folders (from the
    snapshot ``con``; None before anything was published) and each of its ``submissions`` (the
    portal's receipts: ``id``, ``file`` relative to the data folder, ``sha256``,
    ``original_name``, ``submitted_at``) that no close has read yet (status ``waiting``). A
    receipt for another party's folder is not the party's file and is left out."""
    found: dict[str, SenderFile] = {}
    if con is not None:
        sql = _own_files_sql()
        if not _has_column(con, "ingest_log", "message"):
            sql = sql.replace("mapping, message", "mapping, NULL AS message")
        cur = con.execute(sql, {"party": party})
        names = [d[0] for d in cur.description]
        for r in cur.fetchall():
            row = dict(zip(names, r))
            fid = file_id(row["file"], row["sha256"])
            found[fid] = SenderFile(id=fid, **row)
    waiting = []
    for s in submissions:
        rel, sha = str(s.get("file") or ""), str(s.get("sha256") or "")
        if not rel or not sha or sender_of(rel) != party:
            continue
        fid = file_id(rel, sha)
        receipt = {k: s.get(k) for k in ("id", "reference", "original_name", "submitted_at")}
        if fid in found:
            found[fid].submission = receipt
        else:
            waiting.append(SenderFile(id=fid, file=rel, kind=rel.split("/")[1], sha256=sha, status=WAITING,
                                      submission=receipt))
    read = list(found.values())
    read.reverse()
    waiting.sort(key=lambda f: str(f.submission.get("submitted_at") or ""), reverse=True)
    return waiting + read


def receipts(home: Path, party: str) -> list[dict]:
    """The party's receipts of the portal's uploads (the portal database's ``submissions``), each
    with ``file``: the stored file's path relative to the data folder (from its ``inbox/``), and
    its ``reference`` as the receipt shows it (``S-000012``)."""
    with portal_db.connect(home, write=False) as con:
        if con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'submissions'").fetchone() is None:
            return []
        got = con.execute("SELECT id, stored_path, sha256, original_name, submitted_at FROM submissions "
                          "WHERE party_id = ? ORDER BY id", [party]).fetchall()
    out = []
    for sid, stored, sha, original, at in got:
        parts = Path(str(stored)).as_posix().split("/")
        rel = "/".join(parts[parts.index("inbox"):]) if "inbox" in parts else ""
        out.append({"id": sid, "reference": f"S-{sid:06d}", "file": rel, "sha256": sha, "original_name": original,
                    "submitted_at": at})
    return out


def sender_file(con: duckdb.DuckDBPyConnection | None, party: str, wanted: str,
                submissions: Iterable[dict] = ()) -> SenderFile | None:
    """The party's file of id ``wanted`` (``file_id``), or of the submission number ``wanted``
    (digits: the portal's receipt); None when the party has no such file, whoever else may."""
    wanted = wanted.strip()
    files = sender_files(con, party, submissions)
    if ID.match(wanted):
        return next((f for f in files if f.id == wanted), None)
    if wanted.isascii() and wanted.isdigit() and len(wanted) < 19:
        return next((f for f in files if f.submission and str(f.submission.get("id")) == str(int(wanted))), None)
    return None


def file_detail(con: duckdb.DuckDBPyConnection | None, party: str, wanted: str,
                submissions: Iterable[dict] = ()) -> FileDetail | None:
    """The party's file ``wanted`` and every row of it that was quarantined; None when the party
    has no such file."""
    f = sender_file(con, party, wanted, submissions)
    if f is None:
        return None
    if con is None or f.status == WAITING or sender_of(f.file) != party:
        return FileDetail(f, [])
    has_sha = _has_column(con, "quarantine", "sha256")
    which = "(sha256 = $sha OR sha256 IS NULL)" if has_sha else "TRUE"
    got = con.execute(f"""SELECT sheet, row_number, code, message, raw FROM quarantine
                          WHERE file = $file AND {which}
                          ORDER BY row_number NULLS FIRST, sheet""", {"file": f.file, "sha": f.sha256}).fetchall()
    header_words = _contract_columns(f.kind)
    rows = []
    for sheet, row_number, code, message, raw in got:
        record = _record(raw)
        rows.append(Rejected(sheet, row_number, code, column_of(code, message or "", record, header_words),
                             message or "", record))
    return FileDetail(f, rows)


def _record(raw: str | None) -> dict:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _contract_columns(kind: str | None) -> set[str]:
    if kind not in data_contracts.INPUT_KINDS:
        return set()
    return set(data_contracts.load(kind)["columns"])


_SENDER_HEADER = re.compile(r'"((?:[^"\\]|\\.)+)" \(([a-z_]+)\)')
_LEADING_COLUMN = re.compile(r"^([a-z_]+): ")


def column_of(code: str, message: str, raw: dict, columns: set[str]) -> str | None:
    """The sender's header a quarantine message is about: a mapped file's message names it beside
    the §3 column (``"Pay Date" (pay_date): …``, SPEC §3b); a §3 file's message starts with the
    column, which is the sender's header as matched (trimmed, lower case). None where the message
    is about no one column (a duplicate key, a rate, a line of the same pay period)."""
    if code == "SIBLING_REJECTED":
        return None
    m = _SENDER_HEADER.search(message)
    if m:
        return m.group(1).replace('\\"', '"')
    m = _LEADING_COLUMN.match(message)
    if m and m.group(1) in columns:
        col = m.group(1)
        return next((k for k in raw if k.strip().lower() == col), col)
    return None


def rejected_csv(detail: FileDetail) -> str:
    """The file's quarantined rows as a CSV in the sender's own headers (every header any of those
    rows holds, in the order the file gave them), then the row, the code and the reason: to correct
    and send again. A cell a spreadsheet would run as a formula (starting with ``= + - @``, a tab
    or a carriage return) is written with a leading ``'``."""
    rows = detail.row_rejections
    headers: list[str] = []
    seen: set[str] = set()
    for r in rows:
        for k in r.raw:
            if k not in seen:
                seen.add(k)
                headers.append(k)
    extra = [ROW_COLUMN, CODE_COLUMN, REASON_COLUMN]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([csv_text(h) for h in headers + extra])
    for r in rows:
        cells = [r.raw.get(h, "") for h in headers] + [str(r.row_number), r.code, r.message]
        w.writerow([csv_text(c) for c in cells])
    return buf.getvalue()


def rejected_csv_name(detail: FileDetail) -> str:
    """A download's name made of the file's own name's safe characters only."""
    stem = detail.file.name.rsplit(".", 1)[0]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")[:80] or "file"
    return f"{safe}-rejected-rows.csv"
