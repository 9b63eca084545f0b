"""Signing off a month, and revoking a sign-off: the one way the command and the portal do it
(the rules are ``core.signoff``).

A sign-off writes to the warehouse, which a running close holds. It waits up to ``wait``
seconds for the warehouse, then says it is busy (``snapshots.Busy``) so the person can retry.
When ``seen_digest`` is given (the digest of the figures the person was shown), the month's
tables must still have that digest, or nothing is recorded (``Changed``): a sign-off covers the
figures that were read. After it is recorded, a new snapshot is published so that the portal
shows it, and the month's confirmations are issued again to every buyer (the month's sign-off
state is on them); a revocation does the same. Each sign-off and revocation is in the portal's
audit log, wherever it was made (the portal's page records its own entry, with the signed-in
user and address).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from pennytrail.core import homelock, publish, signoff
from pennytrail.core.warehouse import connect

from . import confirmations, portal_db, snapshots

SignoffRefused = signoff.SignoffRefused


class Changed(ValueError):
    """The month's figures are not the ones the person signing saw."""


def _wait_for_close(home: Path, wait: float) -> None:
    """Wait up to ``wait`` seconds while another process's close holds the home; ``Busy`` after."""
    deadline = time.monotonic() + wait
    while True:
        pid = homelock.running(home)
        if pid is None or pid == os.getpid():
            return
        if time.monotonic() >= deadline:
            raise snapshots.Busy("the warehouse is in use by a running close")
        time.sleep(0.2)


def _writing(home: Path, wait: float):
    start = time.monotonic()
    _wait_for_close(Path(home), wait)
    return snapshots.open_for_writing(Path(home), max(0.0, wait - (time.monotonic() - start)))


def _audit(home: Path, actor: str, action: str, month: str, detail: str) -> None:
    with portal_db.connect(home) as con:
        portal_db.audit(con, actor, None, action, f"month {month}", detail + "; from the command line")


def sign(home: Path, month: str, signed_by: str, seen_digest: str | None = None, wait: float = 5.0,
         audit: bool = True) -> dict:
    """Record the sign-off of ``month`` by ``signed_by``: what was recorded (digest, open exceptions).
    ``audit``: also write the audit log's entry (the portal writes its own)."""
    con = _writing(home, wait)
    try:
        if seen_digest is not None:
            now = publish.digest(con, month)
            if now != seen_digest:
                raise Changed(f"the figures of {month} changed since they were shown (a close published "
                              "new figures): read the month again, then sign off")
        done = signoff.sign_off(con, month, signed_by)
        snapshots.publish(Path(home), con)
        done["confirmations"] = confirmations.issue_quietly(con, Path(home), [month])
    finally:
        con.close()
    if audit:
        _audit(Path(home), signed_by, "sign-off", month, f"digest {done['digest']}")
    return done


def sign_off(home: Path, month: str, signed_by: str, seen_digest: str | None = None, wait: float = 5.0) -> str:
    """Record the sign-off of ``month`` by ``signed_by``; the digest signed."""
    return sign(home, month, signed_by, seen_digest, wait, audit=False)["digest"]


def revoke(home: Path, month: str, revoked_by: str, reason: str, wait: float = 5.0) -> dict:
    """Revoke the sign-off of ``month`` in force, with who and why; the record stays."""
    con = _writing(home, wait)
    try:
        done = signoff.revoke(con, month, revoked_by, reason)
        snapshots.publish(Path(home), con)
        done["confirmations"] = confirmations.issue_quietly(con, Path(home), [month])
    finally:
        con.close()
    _audit(Path(home), revoked_by, "sign-off revoked", month, f"reason: {reason}")
    return done


def history(home: Path, month: str) -> list[dict]:
    with connect(Path(home) / "pennytrail.duckdb", read_only=True) as con:
        return signoff.history(con, month)
