"""Checking a statement that someone uploads (the portal's /verify), with the program's key.

Nothing is written to disk: the statement and the PDF and CSV uploaded with it are checked in
memory by the same rules as ``pennytrail verify`` (``core.statement``), against the program's
public key. A file the statement names that was not uploaded is reported as not checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pennytrail.core import statement as st

from . import keys
from .confirmations import verify_bytes

MAX_FILE = 15 * 1024 * 1024


@dataclass
class Outcome:
    verified: bool
    checks: list[tuple[str, bool, str]]
    not_checked: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    problem: str | None = None


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


def verify_upload(statement: bytes, companions: dict[str, bytes], public_key_file: Path) -> Outcome:
    """``companions`` maps "pdf" and "csv" to the uploaded bytes."""
    try:
        doc, _ = st.parse(statement)
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
    for kind in companions:
        if kind not in files:
            not_checked.append(f"the uploaded {kind.upper()} (the statement names no {kind.upper()})")
    trusted = keys.load_public_keys(Path(public_key_file).read_bytes(), "the program's public key")
    checks = [(c.part, c.passed, c.detail) for c in verify_bytes(statement, trusted, by_name)
              if c.part not in not_checked]
    verified = bool(checks) and all(ok for _, ok, _ in checks) and any(w == "signature" for w, _, _ in checks)
    return Outcome(verified, checks, not_checked, summary)
