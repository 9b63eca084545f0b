"""When buyers' confirmations are issued: for every buyer of every published month (or of some
months), by a close once it published its snapshot (``issue_from_snapshot``), and by a sign-off
and a revocation (``issue_quietly``). What a statement says is ``pennytrail.core.confirmations``'s;
issuing one writes its files (``reports.confirmations``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from reports.confirmations import issue

from ..core import keys, statement as st
from ..core.confirmations import NotConfirmable, buyers_of_month, latest
from ..core.publish import published_months
from . import snapshots


@dataclass
class Round:
    """What one round of issuing did: new versions by (buyer, month), how many were unchanged,
    and, when nothing could be issued, why (one line)."""
    new: list[tuple[str, str, int]]
    unchanged: int
    skipped: str | None = None

    def text(self) -> str:
        if self.skipped:
            return f"buyers' confirmations not issued: {self.skipped}"
        if not self.new:
            return f"buyers' confirmations: {self.unchanged} unchanged, none issued"
        return (f"buyers' confirmations: {len(self.new)} new version(s) issued"
                + (f", {self.unchanged} unchanged" if self.unchanged else ""))


def issue_published(con: duckdb.DuckDBPyConnection, home: Path, months: list[str] | None = None,
                    missing_only: bool = False) -> Round:
    """Issue every buyer's confirmation of each published month (``months``: those only) whose
    figures changed: what the close, a sign-off and a revocation call. ``missing_only``: only
    those of which no version exists (a close that found nothing new: nothing changed, but a key
    may have been made since). Without the signing key nothing is issued, and the round says so."""
    if not keys.key_paths(Path(home))[0].exists():
        return Round([], 0, "the program has no signing key (make it once with "
                            f"`pennytrail keys create --home {home}`)")
    done = published_months(con)
    new, unchanged = [], 0
    for month in done if months is None else [m for m in months if m in done]:
        for buyer in buyers_of_month(con, month):
            if missing_only and latest(Path(home), buyer, month) is not None:
                unchanged += 1
                continue
            issued = issue(con, Path(home), buyer, month)
            if issued.new:
                new.append((buyer, month, issued.version))
            else:
                unchanged += 1
    return Round(new, unchanged)


def issue_quietly(con: duckdb.DuckDBPyConnection, home: Path, months: list[str] | None = None,
                  missing_only: bool = False) -> Round:
    """``issue_published``, where a key or a file that cannot be read is a line in the round, not
    a failure: the close or sign-off that calls it has completed."""
    try:
        return issue_published(con, home, months, missing_only)
    except (keys.KeyProblem, NotConfirmable, st.StatementError, OSError) as e:
        return Round([], 0, str(e).strip("'\""))


def issue_from_snapshot(home: Path, missing_only: bool = False) -> Round:
    """``issue_quietly`` over the snapshot the portal reads (what a close calls once it published)."""
    snapshot = snapshots.current(Path(home))
    if snapshot is None:
        return Round([], 0, "nothing is published yet")
    with duckdb.connect(str(snapshot), read_only=True) as con:
        return issue_quietly(con, Path(home), None, missing_only)
