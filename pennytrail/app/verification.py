"""Checking a statement that someone uploads (the portal's /verify), with the program's key.

Nothing is written to disk: the statement and the PDF and CSV uploaded with it are checked in
memory by the same rules as ``pennytrail verify`` (``core.statement``), against the program's
public key. A file the statement names that was not uploaded is reported as not checked.

A statement is bounded before it is parsed: at most ``MAX_STATEMENT`` bytes, ``MAX_CONTAINERS``
objects and lists and ``MAX_VALUES`` values (counted on the bytes, so a file of millions of
empty objects is refused unread), and it is parsed once. The outcome says "verified" only when
the signature holds, every file the statement names was uploaded and matches, and no later
version of the statement was issued: a genuine but superseded statement, or one whose PDF and
CSV were not checked, is told as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pennytrail.core import keys, statement as st

MAX_FILE = 15 * 1024 * 1024  # a PDF or a CSV
MAX_STATEMENT = 8 * 1024 * 1024  # a season's statement of a large buyer is a few MB
MAX_CONTAINERS = 100_000  # objects and lists
MAX_VALUES = 500_000  # members and items


@dataclass
class Outcome:
    verified: bool  # the signature and every named file hold, all were checked, the latest version
    checks: list[tuple[str, bool, str]]
    not_checked: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    problem: str | None = None
    genuine: bool = False  # signed by the program's key and unchanged since (files aside)
    superseded_by: int | None = None  # a later version the program issued

    @property
    def verdict(self) -> str:
        """One line: what the upload is."""
        if self.verified:
            return "Verified"
        if not self.genuine or any(not ok for _, ok, _ in self.checks):
            return "Not verified"
        if self.superseded_by is not None:
            return f"Genuine but superseded by version {self.superseded_by}"
        unchecked = " and ".join(self.not_checked) or "not every file it names"
        return f"Signature valid, but {unchecked} {'was' if len(self.not_checked) < 2 else 'were'} not checked"


def shape_problem(data: bytes) -> str | None:
    """Why ``data`` is too large or too many-valued to be a statement, read as bytes, or None."""
    if len(data) > MAX_STATEMENT:
        return f"{len(data):,} bytes: a statement has at most {MAX_STATEMENT:,}"
    containers = data.count(b"{") + data.count(b"[")
    if containers > MAX_CONTAINERS:
        return f"{containers:,} objects and lists: a statement has at most {MAX_CONTAINERS:,}"
    values = data.count(b",") + 1
    if values > MAX_VALUES:
        return f"{values:,} values: a statement has at most {MAX_VALUES:,}"
    return None


def fingerprint(public_key_file: Path) -> str:
    """The key's fingerprint as statements carry it."""
    return next(iter(keys.load_public_keys(Path(public_key_file).read_bytes(), "the program's public key")))


def kind_of(field_name: str, data: bytes) -> str:
    """What an uploaded file is: "pdf", "csv" or "statement", by its content first (a PDF starts
    with %PDF, a statement is a JSON object), then by the form field it came in."""
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.lstrip()[:1] == b"{":
        return "statement"
    if field_name in ("pdf", "csv", "statement"):
        return field_name
    return "csv"


def verify_upload(statement: bytes, companions: dict[str, bytes], public_key_file: Path,
                  latest: Callable[[str, str], int | None] | None = None) -> Outcome:
    """``companions`` maps "pdf" and "csv" to the uploaded bytes; ``latest(buyer, month)`` is the
    latest version the program issued of a buyer's month (None when unknown)."""
    problem = shape_problem(statement)
    if problem is not None:
        return Outcome(False, [], problem=f"this is not a pennytrail statement: {problem}")
    try:
        doc, signature = st.parse(statement)
    except st.StatementError as e:
        return Outcome(False, [], problem=f"this is not a pennytrail statement: {e}")
    summary = {k: doc.get(k) for k in ("buyer_id", "buyer_name", "month", "version", "issued_at")
               if isinstance(doc.get(k), (str, int))}
    files = doc.get("files") if isinstance(doc.get("files"), dict) else {}
    by_name, not_checked = {}, []
    for kind, meta in sorted(files.items()):
        name = meta.get("name") if isinstance(meta, dict) else None
        if not isinstance(name, str):
            continue
        if kind in companions:
            by_name[name] = companions[kind]
        else:
            not_checked.append(name)
    extra = [f"the uploaded {kind.upper()} (the statement names no {kind.upper()})"
             for kind in companions if kind not in files]
    trusted = keys.load_public_keys(Path(public_key_file).read_bytes(), "the program's public key")
    checks = [(c.part, c.passed, c.detail)
              for c in st.check(doc, signature, keys.verifiers(trusted), by_name.get)
              if c.part not in not_checked]
    genuine = (bool(checks) and all(ok for _, ok, _ in checks)
               and any(w == "signature" and ok for w, ok, _ in checks))
    superseded_by = None
    if genuine and latest is not None and isinstance(doc.get("buyer_id"), str) and isinstance(doc.get("month"), str) \
            and isinstance(doc.get("version"), int):
        newest = latest(doc["buyer_id"], doc["month"])
        if newest is not None and newest > doc["version"]:
            superseded_by = newest
    verified = genuine and not not_checked and bool(by_name) and superseded_by is None
    return Outcome(verified, checks, not_checked + extra, summary, genuine=genuine, superseded_by=superseded_by)
