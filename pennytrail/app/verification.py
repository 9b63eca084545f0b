"""Checking a statement that someone uploads (the portal's /verify), with the program's key.

The statement and the PDF and CSV uploaded with it are written to a temporary folder under the
names the statement gives them (only plain file names are accepted), and checked with
``reports.confirm.verify`` against the key given, as ``pennytrail verify`` checks files on disk.
A file the statement names that was not uploaded is reported as not checked.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from reports.confirm import VerifyError, verify

MAX_FILE = 15 * 1024 * 1024
PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


@dataclass
class Outcome:
    verified: bool
    checks: list[tuple[str, bool, str]]
    not_checked: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    problem: str | None = None


def fingerprint(public_key_file: Path) -> str:
    """The key's id as statements carry it (SHA-256 of the raw public key)."""
    from cryptography.hazmat.primitives import serialization

    from reports.confirm import key_id

    return key_id(serialization.load_pem_public_key(Path(public_key_file).read_bytes()))


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
        doc = json.loads(statement.decode("utf-8"))
        files = doc["statement"].get("files", {}) if isinstance(doc, dict) else {}
        if not isinstance(files, dict):
            raise TypeError("files is not an object")
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as e:
        return Outcome(False, [], problem=f"this is not a pennytrail statement ({e.__class__.__name__})")
    summary = {k: doc["statement"].get(k) for k in ("buyer_id", "buyer_name", "month", "issued_at")
               if isinstance(doc["statement"].get(k), (str, int))}
    with tempfile.TemporaryDirectory(prefix="pennytrail-verify-") as tmp:
        folder = Path(tmp)
        path = folder / "statement.json"
        path.write_bytes(statement)
        not_checked = []
        for kind, meta in sorted(files.items()):
            name = meta.get("name") if isinstance(meta, dict) else None
            if not isinstance(name, str) or not PLAIN_NAME.match(name) or name == "statement.json":
                return Outcome(False, [], summary=summary, problem="the statement names a file that is not a plain "
                                                                   "file name")
            if kind in companions:
                (folder / name).write_bytes(companions[kind])
            else:
                not_checked.append(name)
        for kind in companions:
            if kind not in files:
                not_checked.append(f"the uploaded {kind.upper()} (the statement names no {kind.upper()})")
        try:
            checks = verify(path, public_key_file)
        except VerifyError as e:
            return Outcome(False, [], summary=summary, problem=str(e).replace(str(path), "the statement"))
    skipped = {n for n in not_checked}
    checks = [(what, ok, detail) for what, ok, detail in checks if what not in skipped]
    verified = bool(checks) and all(ok for _, ok, _ in checks) and any(w == "signature" for w, _, _ in checks)
    return Outcome(verified, checks, not_checked, summary)
