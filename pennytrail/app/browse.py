"""What the portal reads from a published snapshot: months and their totals, a month's
waterfall and exceptions, buyers' confirmations, the directory of workers and a case's audit.

Every function takes a read-only connection to a snapshot (``snapshots.current``) and returns
plain rows; money stays integer cents.
"""

from __future__ import annotations

import bisect
import datetime as dt
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb

from pennytrail.core import conservation
from pennytrail.core.confirmations import buyer_of_folder, stem, versions
from pennytrail.core.exception_sign import shown_sql
from pennytrail.core.keys import key_paths
from pennytrail.core.publish import digest, latest_signoff, month_status, published_months
from pennytrail.core.trace import published_rows_sql
from pennytrail.core.waterfall import waterfall

from .months import months_with_data


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict | list | None = None) -> list[dict]:
    cur = con.execute(sql, params or {})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def months(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every month the snapshot knows (the one list of ``months.months_with_data``, which
    ``pennytrail months`` and ``summary`` print too), newest first, with its totals and state."""
    figures = {r["month"]: r for r in rows(con, """
        WITH i AS (SELECT month, sum(owed_cents) AS owed_cents, sum(paid_by_buyer_cents) AS paid_cents,
                     count(*) AS invoices FROM invoice_audit GROUP BY 1),
        p AS (SELECT month, sum(entitled_cents) AS entitled_cents, sum(funded_cents) AS funded_cents,
                     sum(distributed_cents) AS distributed_cents, count(*) AS pools FROM pool_audit GROUP BY 1),
        e AS (SELECT month, count(*) AS exceptions FROM exceptions GROUP BY 1),
        pay AS (SELECT month, count(*) AS payment_lines FROM payment_audit GROUP BY 1),
        m AS (SELECT month FROM i UNION SELECT month FROM p UNION SELECT month FROM e UNION SELECT month FROM pay)
        SELECT m.month, coalesce(invoices, 0) AS invoices, coalesce(pools, 0) AS pools,
               coalesce(owed_cents, 0) AS owed_cents, coalesce(paid_cents, 0) AS paid_cents,
               coalesce(entitled_cents, 0) AS entitled_cents, coalesce(funded_cents, 0) AS funded_cents,
               coalesce(distributed_cents, 0) AS distributed_cents, coalesce(exceptions, 0) AS exceptions,
               coalesce(payment_lines, 0) AS payment_lines
        FROM m LEFT JOIN i USING (month) LEFT JOIN p USING (month) LEFT JOIN e USING (month)
        LEFT JOIN pay USING (month)""")}
    closed = set(published_months(con))
    out = []
    for month in reversed(months_with_data(con)):
        row = dict(figures.get(month) or {"month": month, "invoices": 0, "pools": 0, "owed_cents": 0, "paid_cents": 0,
                                          "entitled_cents": 0, "funded_cents": 0, "distributed_cents": 0,
                                          "exceptions": 0, "payment_lines": 0})
        row["closed"] = month in closed
        row["state"] = month_status(con, month) if row["closed"] else "not closed"
        out.append(row)
    return out


@dataclass
class MonthView:
    month: str
    state: str
    digest: str
    signed: tuple | None
    waterfall: list[dict]
    checks: list
    by_code: list[dict]
    by_party: list[dict]
    restated: int
    payment_lines: int = 0   # payment lines paid in the month (on invoices of any month)
    payments_cents: int = 0


def conservation_checks(con: duckdb.DuckDBPyConnection) -> list:
    return [conservation.run_check(con, name) for name in conservation.CHECKS]


def month_view(con: duckdb.DuckDBPyConnection, month: str, checks: list | None = None) -> MonthView | None:
    """The month's waterfall (with the conservation checks that make it add up), its
    exceptions counted by code and by party, and its sign-off state; None if not published."""
    if month not in published_months(con):
        return None
    steps = [{"step": i, "label": label, "cents": cents or 0, "count": c, "counted": counted, "basis": basis}
             for i, (label, cents, c, counted, basis) in enumerate(waterfall(con, month), start=1)]
    checks = conservation_checks(con) if checks is None else checks
    by_code = rows(con, f"SELECT level, code, count(*) AS n, sum({shown_sql()}) AS amount_cents FROM exceptions "
                        "WHERE month = ? GROUP BY 1, 2 ORDER BY 3 DESC, 2", [month])
    by_party = rows(con, f"SELECT e.level, e.party_id, any_value(p.name) AS party_name, count(*) AS n, "
                         f"sum({shown_sql('e.code', 'e.amount_cents')}) AS amount_cents FROM exceptions e "
                         "LEFT JOIN ref_parties p ON p.party_id = e.party_id "
                         "WHERE e.month = ? GROUP BY 1, 2 ORDER BY 4 DESC, 2", [month])
    restated = con.execute("SELECT count(*) FROM restatements WHERE month = ?", [month]).fetchone()[0]
    payments = con.execute("SELECT count(*), coalesce(sum(amount_cents), 0) FROM payment_audit WHERE month = ?",
                           [month]).fetchone()
    d = digest(con, month)
    return MonthView(month, month_status(con, month, d), d, latest_signoff(con, month), steps, checks,
                     by_code, by_party, restated, payments[0], int(payments[1]))


class MonthExceptions:
    """A month's exceptions read once from a snapshot, in the queue's order (code, party,
    reference, worker; a missing value last), each with its ``key``: a page of them, of one
    code or party or of all, is then a slice."""

    def __init__(self, con: duckdb.DuckDBPyConnection, month: str, key: Callable[[dict], str]):
        def order(e: dict) -> tuple:
            return tuple((e[c] is None, e[c] or "") for c in ("code", "party_id", "reference", "worker_id"))

        self.rows = sorted(all_exceptions(con, month), key=order)
        for e in self.rows:
            e["key"] = key(e)
        self._subsets: dict[tuple, list[dict]] = {}

    def page(self, code: str | None = None, party: str | None = None, limit: int = 200,
             offset: int = 0) -> tuple[int, list[dict]]:
        """How many there are (of ``code``, of ``party``) and a copy of one page of them."""
        subset = self._subsets.get((code, party))
        if subset is None:
            subset = [e for e in self.rows if (not code or e["code"] == code) and (not party or e["party_id"] == party)]
            if len(self._subsets) < 1000:
                self._subsets[(code, party)] = subset
        return len(subset), [dict(e) for e in subset[offset:offset + limit]]


def all_exceptions(con: duckdb.DuckDBPyConnection, month: str) -> list[dict]:
    """The month's exceptions, each amount signed as ``exception_sign`` shows it, each party with its name."""
    return rows(con, f"SELECT e.level, e.code, e.party_id, p.name AS party_name, e.reference, e.worker_id, "
                     f"{shown_sql('e.code', 'e.amount_cents')} AS amount_cents, e.detail FROM exceptions e "
                     "LEFT JOIN ref_parties p ON p.party_id = e.party_id WHERE e.month = ?", [month])


def party_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every party's name by its id (reference data)."""
    return dict(con.execute("SELECT party_id, name FROM ref_parties ORDER BY 1").fetchall())


def party_types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every party's type by its id (reference data)."""
    return dict(con.execute("SELECT party_id, party_type FROM ref_parties").fetchall())


def buyers(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT party_id, name FROM ref_parties WHERE party_type = 'buyer' ORDER BY 1").fetchall())


def buyer_months(con: duckdb.DuckDBPyConnection, buyer: str) -> list[dict]:
    """The published months in which the buyer has invoices, or made premium payments without
    one (a nil statement: ``invoices`` 0), with what it owed and paid on its invoices."""
    return rows(con, """
        WITH paid AS (SELECT DISTINCT month FROM payment_audit
                      WHERE payer_id = $b AND buyer_id = $b AND payer_type = 'buyer'),
        inv AS (SELECT month, count(*) AS invoices, sum(owed_cents) AS owed_cents,
                       sum(paid_by_buyer_cents) AS paid_cents, sum(balance_cents) AS balance_cents
                FROM invoice_audit WHERE buyer_id = $b GROUP BY 1)
        SELECT month, coalesce(invoices, 0) AS invoices, coalesce(owed_cents, 0)::BIGINT AS owed_cents,
               coalesce(paid_cents, 0)::BIGINT AS paid_cents, coalesce(balance_cents, 0)::BIGINT AS balance_cents
        FROM inv FULL JOIN paid USING (month) ORDER BY 1 DESC""", {"b": buyer})


def confirmation_files(home: Path) -> dict[tuple[str, str, str], Path]:
    """The latest issued confirmation files in the home, by (buyer, month, extension). Looked up by
    what exists: no path is made from a name a visitor sends."""
    found: dict[tuple[str, str, str], Path] = {}
    root = Path(home) / "confirmations"
    if not root.is_dir():
        return found
    for folder in root.iterdir():
        if not folder.is_dir() or folder.is_symlink():
            continue
        buyer = buyer_of_folder(folder)
        if buyer is None:
            continue
        months = {m for m in (p.name[13:20] for p in folder.iterdir() if p.name.startswith("confirmation-"))}
        for month in months:
            have = versions(folder, month)
            if not have:
                continue
            for ext in ("pdf", "csv", "json"):
                f = folder / f"{stem(month, have[-1])}.{ext}"
                if f.is_file() and not f.is_symlink():
                    found[(buyer, month, ext)] = f
    return found


def public_key_file(home: Path) -> Path:
    return key_paths(Path(home))[1]


@dataclass(frozen=True)
class WorkerEntry:
    grower_id: str
    worker_id: str
    names: tuple[str, ...]
    keys: tuple[str, ...]
    id_key: str


def name_key(text: str) -> str:
    """A name as searches compare it: accents, case and runs of spaces do not count
    ("  JOSE   morales" and "José Morales" have the same key)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def id_key(text: str) -> str:
    return text.strip().lower()


def worker_directory(con: duckdb.DuckDBPyConnection) -> list[WorkerEntry]:
    """Every (grower, worker) with a published pay period, with the names on their stubs in the
    files published and those names' match keys."""
    got = con.execute(f"""
        SELECT a.grower_id, a.worker_id,
               list(DISTINCT r.worker_name ORDER BY r.worker_name) FILTER (WHERE r.worker_name IS NOT NULL)
        FROM (SELECT DISTINCT grower_id, worker_id FROM worker_audit) a
        LEFT JOIN ({published_rows_sql(con)}) r ON r.grower_id = a.grower_id AND r.worker_id = a.worker_id
        GROUP BY 1, 2 ORDER BY 1, 2""").fetchall()
    keys: dict[str, str] = {}
    out = []
    for g, w, names in got:
        names = tuple(names or ())
        ks = tuple(dict.fromkeys(keys.get(n) or keys.setdefault(n, name_key(n)) for n in names))
        out.append(WorkerEntry(g, w, names, tuple(k for k in ks if k), id_key(w)))
    return out


class WorkerIndex:
    """The directory of workers, indexed for search once per snapshot: exact ids and name keys
    by dictionary, id prefixes by bisection over the sorted ids, and parts of names by one
    substring search of the text of all the name keys, each on a line of its own (the line
    tells whose key it is)."""

    def __init__(self, directory: list[WorkerEntry]):
        self.entries = directory
        self.by_id: dict[str, list[int]] = {}
        self.by_name: dict[str, list[int]] = {}
        parts, self.starts, self.owner = [], [], []
        at = 0
        for i, e in enumerate(directory):
            self.by_id.setdefault(e.id_key, []).append(i)
            for k in e.keys:
                self.by_name.setdefault(k, []).append(i)
                parts.append(k)
                self.starts.append(at)
                self.owner.append(i)
                at += len(k) + 1
        self.text = "\n".join(parts)
        self.ids = sorted((e.id_key, i) for i, e in enumerate(directory))

    def search(self, q: str, limit: int = 50) -> list[WorkerEntry]:
        """Workers whose id is ``q`` or one of whose names has the key of ``q`` first, then those
        whose id starts with ``q`` or one of whose names holds that key; at most ``limit``."""
        wanted, key = id_key(q), name_key(q)
        if not key and not wanted:
            return []
        found: dict[int, None] = {}
        for i in self.by_id.get(wanted, []) + self.by_name.get(key, []):
            found[i] = None
        if wanted:
            j = bisect.bisect_left(self.ids, (wanted, -1))
            while j < len(self.ids) and self.ids[j][0].startswith(wanted) and len(found) < limit:
                found[self.ids[j][1]] = None
                j += 1
        if key:
            at = self.text.find(key)
            while at >= 0 and len(found) < limit:
                n = bisect.bisect_right(self.starts, at) - 1
                found[self.owner[n]] = None
                at = self.text.find(key, self.starts[n + 1] if n + 1 < len(self.starts) else len(self.text))
        return [self.entries[i] for i in list(found)[:limit]]

    def entry(self, grower_id: str, worker_id: str) -> WorkerEntry | None:
        """The directory's entry of exactly this grower and worker id, or None."""
        for i in self.by_id.get(id_key(worker_id), []):
            e = self.entries[i]
            if e.grower_id == grower_id and e.worker_id == worker_id:
                return e
        return None


def worker_periods(con: duckdb.DuckDBPyConnection, grower: str, worker: str) -> dict[str, dict]:
    """The worker's audited periods now, by period start (YYYY-MM-DD)."""
    got = rows(con, "SELECT period_start, status, variance_cents, paid_cents, funded_cents FROM worker_audit "
                    "WHERE grower_id = ? AND worker_id = ? ORDER BY period_start", [grower, worker])
    return {r["period_start"].isoformat(): r for r in got}


def period_history(con: duckdb.DuckDBPyConnection, grower: str, worker: str, periods: list[str]) -> list[dict]:
    """Every version of the payroll rows for the worker's periods, oldest file first (a later
    file's row is a correction), and the restatements of those periods since a sign-off."""
    days = [dt.date.fromisoformat(p) for p in periods]
    return rows(con, """
        SELECT r.file_seq, r.file, r.sheet, r.row_number, r.period_start, r.premium_period_start, r.period_end,
               r.hours, r.units, r.premium_paid_cents, l.first_seen_at
        FROM payroll_rows r LEFT JOIN ingest_log l ON l.seq = r.file_seq
        WHERE r.grower_id = $g AND r.worker_id = $w
          AND (list_contains($p, r.period_start) OR list_contains($p, r.premium_period_start))
        ORDER BY r.period_start, r.file_seq, r.row_number""", {"g": grower, "w": worker, "p": days})


def restatements_for(con: duckdb.DuckDBPyConnection, grower: str, worker: str) -> list[dict]:
    return rows(con, "SELECT month, table_name, key, column_name, before, after, file, recorded_at FROM restatements "
                     "WHERE table_name = 'worker_audit' AND contains(key, $g) AND contains(key, $w) "
                     "ORDER BY recorded_at", {"g": grower, "w": worker})
