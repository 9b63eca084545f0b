"""What the warehouse holds, in one look: files, rows, months and their sign-off state, workers and
exceptions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..core.closebook import as_of_date
from ..core.exception_sign import LEGEND, shown_sql
from ..core.money import dollars
from ..core.publish import latest_signoff, month_status, published_months
from ..core.warehouse import connect
from .months import months_with_data


@dataclass
class MonthState:
    """A published month: its pools' figures (cents) and its sign-off state."""
    month: str
    pools: int
    entitled_cents: int
    funded_cents: int
    distributed_cents: int
    invoices: int
    status: str                        # not closed, open, signed or needs re-sign-off
    signed_by: str | None = None       # the latest sign-off, if any
    signed_at: dt.datetime | None = None


def month_figures(home: Path) -> list[MonthState]:
    """Every month the warehouse knows, oldest first: the one list ``pennytrail months``, the
    portal's /months and the close workbooks share (``months.months_with_data``), with its pools'
    figures and its state (``not closed`` for a month with data that no close published yet)."""
    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        closed = set(published_months(con))
        figures = {r[0]: r[1:] for r in con.execute("""
            WITH p AS (SELECT month, count(*) AS n, sum(entitled_cents) AS e, sum(funded_cents) AS f,
                              sum(distributed_cents) AS d FROM pool_audit GROUP BY 1),
                 i AS (SELECT month, count(*) AS n FROM invoice_audit GROUP BY 1)
            SELECT coalesce(p.month, i.month), coalesce(p.n, 0), coalesce(p.e, 0), coalesce(p.f, 0),
                   coalesce(p.d, 0), coalesce(i.n, 0)
            FROM p FULL JOIN i USING (month)""").fetchall()}
        out = []
        for month in months_with_data(con):
            n, e, f, d, invoices = figures.get(month, (0, 0, 0, 0, 0))
            if month not in closed:
                out.append(MonthState(month, 0, 0, 0, 0, 0, "not closed"))
                continue
            last = latest_signoff(con, month)
            out.append(MonthState(month, n, int(e), int(f), int(d), invoices, month_status(con, month),
                                  last[0] if last else None, last[1] if last else None))
    return out


@dataclass
class Summary:
    warehouse: Path
    files: list[tuple[str, int]]                 # (status, files)
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    quarantined_by_code: list[tuple[str, int]]
    months: list[MonthState]
    worker_rows: int
    workers: int
    worker_statuses: list[tuple[str, int]]
    exceptions: list[tuple[str, int, int]]       # (code, count, amount in cents)
    as_of: object                                # the close's as-of date (None before any close)
    overdue_rows: int
    overdue_growers: int
    handshake: list[tuple[str, int]]             # (status, invoice lines)
    # senders' own layouts (SPEC §3b): (profile, file, rows read, accepted, quarantined, skipped)
    mapped_files: list[tuple[str, str, int, int, int, int]] = field(default_factory=list)

    def text(self) -> str:
        out = ["pennytrail summary", "=================="]
        out.append("files: " + ", ".join(f"{n} {s}" for s, n in self.files))
        out.append(f"rows: {self.rows_read:,} read, {self.rows_accepted:,} accepted, "
                   f"{self.rows_quarantined:,} quarantined")
        if self.quarantined_by_code:
            out.append("quarantined by code: " + ", ".join(f"{c} {n}" for c, n in self.quarantined_by_code))
        if self.mapped_files:
            out.append("mapping profiles (files read through each: rows read, accepted, quarantined, skipped):")
            for profile in dict.fromkeys(m[0] for m in self.mapped_files):
                files = [m for m in self.mapped_files if m[0] == profile]
                out.append(f"  {profile}: {len(files)} files, " + ", ".join(
                    f"{sum(m[i] for m in files):,} {w}" for i, w in ((3, "accepted"), (4, "quarantined"), (5, "skipped"))))
                out += [f"    {f}: {r:,} read, {a:,} accepted, {q_:,} quarantined, {k:,} skipped"
                        for _, f, r, a, q_, k in files]
        out.append("months (invoices, pools, entitled, funded, distributed, sign-off):")
        for m in self.months:
            if m.status == "not closed":
                out.append(f"  {m.month}: not closed (run `pennytrail close --month {m.month}` to publish it)")
            else:
                out.append(f"  {m.month}: {m.invoices} invoices, {m.pools} pools, {dollars(m.entitled_cents)} entitled, "
                           f"{dollars(m.funded_cents)} funded, {dollars(m.distributed_cents)} distributed, {m.status}")
        out.append(f"workers audited: {self.worker_rows:,} rows for {self.workers:,} workers ("
                   + ", ".join(f"{s} {n}" for s, n in self.worker_statuses) + ")")
        out.append(f"overdue as of {self.as_of or 'the close (no close yet)'}: {self.overdue_rows:,} worker rows at "
                   f"{self.overdue_growers:,} growers")
        out.append("volume handshake (invoice lines): "
                   + (", ".join(f"{s} {n:,}" for s, n in self.handshake) or "none"))
        out.append("exceptions by code: "
                   + (", ".join(f"{c} {n} ({dollars(a)})" for c, n, a in self.exceptions) or "none"))
        if self.exceptions:
            out.append(LEGEND)
        out.append(f"warehouse: {self.warehouse}")
        out.append(f"Dagster runs: {self.warehouse.parent / 'dagster'} (see them with {ui_command(self.warehouse.parent)})")
        return "\n".join(out)


def ui_command(home: Path) -> str:
    """How to open the Dagster UI over ``home``: `make ui` serves only the checkout's .pennytrail."""
    home = Path(home)
    if home.name == ".pennytrail" and (home.parent / "Makefile").is_file():
        return f"`make ui` in {home.parent}" if home.parent.resolve() != Path.cwd().resolve() else "`make ui`"
    return f"`.venv/bin/python -m pipelines.ui --home {home}`"


def summary(home: Path) -> Summary:
    path = home / "pennytrail.duckdb"
    with connect(path, read_only=True) as con:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        files = q("SELECT status, count(*) FROM ingest_log GROUP BY 1 ORDER BY 1")
        rows = q("SELECT coalesce(sum(rows_read), 0), coalesce(sum(rows_accepted), 0), "
                 "coalesce(sum(rows_quarantined), 0) FROM ingest_log")[0]
        qcodes = q("SELECT code, count(*) FROM quarantine GROUP BY 1 ORDER BY 2 DESC, 1")
        workers = q("SELECT count(*), count(DISTINCT worker_id) FROM worker_audit")[0]
        statuses = q("SELECT status, count(*) FROM worker_audit GROUP BY 1 ORDER BY 2 DESC")
        excs = q(f"SELECT code, count(*), sum({shown_sql()}) FROM exceptions GROUP BY 1 ORDER BY 2 DESC, 1")
        overdue = q("SELECT count(*), count(DISTINCT grower_id) FROM worker_audit WHERE overdue")[0]
        as_of = as_of_date(con)
        handshake = q("SELECT status, count(*) FROM volume_handshake GROUP BY 1 ORDER BY 2 DESC, 1")
        mapped = q("SELECT mapping, file, rows_read, rows_accepted, rows_quarantined, coalesce(rows_skipped, 0) "
                   "FROM ingest_log WHERE mapping IS NOT NULL AND status <> 'duplicate' ORDER BY mapping, seq")
    return Summary(path, files, int(rows[0]), int(rows[1]), int(rows[2]), qcodes, month_figures(home),
                   workers[0], workers[1], statuses, [(c, n, int(a or 0)) for c, n, a in excs],
                   as_of, overdue[0], overdue[1], handshake, mapped)
