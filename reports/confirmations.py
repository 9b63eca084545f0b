"""Issuing a buyer's payment confirmation: the signed statement of the month's figures
(``pennytrail.core.confirmations``) and its PDF and CSV (``confirm.py``), written into the
buyer's folder of ``HOME/confirmations``, as a new version only when the figures changed.

One issuer at a time: the folder of confirmations is locked while what was shown before is read
and added to, and the buyer's folder while its versions are counted and written. A version
exists once its statement is written, last; each file is written whole, then renamed.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from pennytrail.core import keys, statement as st
from pennytrail.core.confirmations import (LEDGER, Disclosures, Issued, buyer_folder, buyers_of_month, changes,
                                           figures, figures_sha256, stem, versions)
from pennytrail.core.warehouse import utc_seconds


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_bytes(data)
    tmp.replace(path)


def issue(con: duckdb.DuckDBPyConnection, home: Path, buyer: str, month: str,
          now: dt.datetime | None = None) -> Issued:
    """Issue the buyer's confirmation of ``month`` if its figures are new; return the latest version."""
    from .confirm import csv_bytes, pdf_bytes  # late: the writers load openpyxl and fpdf, only when a statement is made

    signing = keys.load_signing_key(home)
    fp = keys.fingerprint_of(signing.public_key())
    folder = buyer_folder(home, buyer)
    root = home / "confirmations"
    with _locked(root):  # one issuer at a time reads and adds to what was shown
        disclosed = Disclosures(root / LEDGER)
        content = figures(con, buyer, month, disclosed)
        digest = figures_sha256(content)
        disclosed.record()
        with _locked(folder):
            have = versions(folder, month)
            previous = None
            if have:
                prev_path = folder / f"{stem(month, have[-1])}.json"
                previous, _ = st.parse(prev_path.read_bytes())
                if previous.get("figures_sha256") == digest:
                    s = stem(month, have[-1])
                    return Issued(folder, have[-1], folder / f"{s}.pdf", folder / f"{s}.csv", prev_path, False)
            version = (have[-1] + 1) if have else 1
            issued = utc_seconds(now)
            s = stem(month, version)
            statement = {**content, "version": version, "figures_sha256": digest, "key_fingerprint": fp,
                         "issued_at": issued.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "supersedes": None if previous is None else {
                             "version": previous["version"], "file": f"{stem(month, previous['version'])}.json",
                             "sha256": hashlib.sha256(prev_path.read_bytes()).hexdigest()},
                         "changes": [] if previous is None else changes(previous, content)}
            pdf = pdf_bytes(statement)
            csv = csv_bytes(statement)
            statement["files"] = {"pdf": {"name": f"{s}.pdf", "sha256": hashlib.sha256(pdf).hexdigest()},
                                  "csv": {"name": f"{s}.csv", "sha256": hashlib.sha256(csv).hexdigest()}}
            signature = {"algorithm": st.ALGORITHM, "key_fingerprint": fp,
                         "value": base64.b64encode(signing.sign(st.canonical(statement))).decode("ascii")}
            doc = json.dumps({"statement": statement, "signature": signature}, indent=2, ensure_ascii=False,
                             sort_keys=True) + "\n"
            _write(folder / f"{s}.pdf", pdf)
            _write(folder / f"{s}.csv", csv)
            _write(folder / f"{s}.json", doc.encode("utf-8"))  # last: a version exists once its statement does
            return Issued(folder, version, folder / f"{s}.pdf", folder / f"{s}.csv", folder / f"{s}.json", True)



def issue_month(con: duckdb.DuckDBPyConnection, home: Path, month: str) -> dict[str, Issued]:
    """Issue the month's confirmation to every buyer of it (``buyers_of_month``)."""
    return {b: issue(con, home, b, month) for b in buyers_of_month(con, month)}
