"""Publishing a month: the month's slice of the working tables becomes the output.

One transaction for the months published together: delete each month's rows from each output
table and insert the new slice, so a re-run replaces the months and a run that dies leaves the
previous state. The output contracts that must pass first are run by the caller (the
application layer's ``Contracts``). When the month was signed off and the new slice differs
from what was signed, every changed value is recorded in ``restatements`` first; it is never
changed silently, and the month needs a new sign-off (``month_status``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import duckdb

import data_contracts

from . import faults
from .warehouse import set_meta, transaction

# a month as every table, partition key and command writes it: YYYY-MM
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def is_month(text: object) -> bool:
    return isinstance(text, str) and MONTH.fullmatch(text) is not None


# output table -> (working table, key columns)
MONTHLY: dict[str, tuple[str, list[str]]] = {
    "invoice_audit": ("w_invoice_audit", ["buyer_id", "invoice_id"]),
    "pass_through_audit": ("w_pass_through", ["buyer_id", "invoice_id", "intermediary_id"]),
    "volume_handshake": ("w_volume_handshake", ["buyer_id", "invoice_id", "line_no"]),
    "pool_audit": ("w_pool_audit", ["grower_id", "period_start"]),
    "worker_audit": ("w_worker_audit", ["grower_id", "period_start", "worker_id"]),
    "exceptions": ("w_exceptions", ["level", "code", "party_id", "reference", "worker_id"]),
    "invoice_grower_audit": ("w_invoice_grower_audit", ["buyer_id", "invoice_id", "grower_id"]),
    "invoice_line_audit": ("w_line_audit", ["buyer_id", "invoice_id", "line_no"]),
    "payment_audit": ("w_payment_audit", ["payment_id", "line_no"]),
    "pool_invoice_audit": ("w_pool_invoice_audit", ["grower_id", "period_start", "buyer_id", "invoice_id"]),
    "pool_source_audit": ("w_pool_source_audit", ["grower_id", "period_start", "kind", "buyer_id", "invoice_id",
                                                  "reference"]),
}


def columns(table: str) -> list[str]:
    return list(data_contracts.load(table)["columns"])


def months_available(con: duckdb.DuckDBPyConnection) -> list[str]:
    parts = " UNION ".join(f"SELECT DISTINCT month FROM {w}" for w, _ in MONTHLY.values())
    return [r[0] for r in con.execute(f"SELECT month FROM ({parts}) WHERE month IS NOT NULL ORDER BY 1").fetchall()]


def digest(con: duckdb.DuckDBPyConnection, month: str) -> str:
    """SHA-256 over the month's published audit tables: each table's name and its rows as text,
    in a fixed order, computed in the warehouse."""
    parts = []
    for table in MONTHLY:
        cols = ", ".join(columns(table))
        parts.append(con.execute(f"SELECT sha256(? || coalesce(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY "
                                 f"CAST(t AS VARCHAR)), '')) FROM (SELECT ({cols}) AS t FROM {table} "
                                 f"WHERE month = ?)", [table, month]).fetchone()[0])
    return hashlib.sha256("".join(parts).encode()).hexdigest()


PUBLISHED_THROUGH = "published_through_seq:"


def published_through(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Each published month's last file (its ``ingest_log`` seq) when it was published: its
    figures were made from that file and those before it. A month published before this was
    recorded has none."""
    return {k[len(PUBLISHED_THROUGH):]: int(v) for k, v in con.execute(
        "SELECT key, value FROM meta WHERE starts_with(key, ?)", [PUBLISHED_THROUGH]).fetchall()}


def published_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The months that have been closed: those with rows in any published monthly table."""
    parts = " UNION ".join(f"SELECT DISTINCT month FROM {t}" for t in MONTHLY)
    return [r[0] for r in con.execute(f"SELECT month FROM ({parts}) WHERE month IS NOT NULL ORDER BY 1").fetchall()]


def latest_signoff(con: duckdb.DuckDBPyConnection, month: str) -> tuple | None:
    """The sign-off of ``month`` in force (the latest not revoked): (signed_by, signed_at, digest)."""
    return con.execute("SELECT signed_by, signed_at, digest FROM signoffs WHERE month = ? AND revoked_at IS NULL "
                       "ORDER BY signed_at DESC LIMIT 1", [month]).fetchone()


def month_status(con: duckdb.DuckDBPyConnection, month: str, current: str | None = None) -> str:
    """``open`` (never signed), ``signed`` or ``needs re-sign-off`` (changed since signed).
    ``current``: the month's digest, when the caller has it already."""
    last = latest_signoff(con, month)
    if last is None:
        return "open"
    return "signed" if last[2] == (current or digest(con, month)) else "needs re-sign-off"


def _restatements(con: duckdb.DuckDBPyConnection, table: str, month: str, files: str | None,
                  now: dt.datetime) -> int:
    work, key = MONTHLY[table]
    value_cols = [c for c in columns(table) if c not in key and c != "month"]
    key_text = " || '/' || ".join(f"coalesce(CAST(coalesce(o.{k}, n.{k}) AS VARCHAR), '')" for k in key)
    join = " AND ".join(f"o.{k} IS NOT DISTINCT FROM n.{k}" for k in key)
    diffs = " UNION ALL ".join(
        f"SELECT '{c}' AS column_name, CAST(o.{c} AS VARCHAR) AS before, CAST(n.{c} AS VARCHAR) AS after, "
        f"{key_text} AS key FROM old o FULL JOIN new n ON {join} WHERE o.{c} IS DISTINCT FROM n.{c}"
        for c in value_cols)
    cols = ", ".join(columns(table))
    sql = f"""
    INSERT INTO restatements BY NAME
    WITH old AS (SELECT {cols} FROM {table} WHERE month = $month),
         new AS (SELECT {cols} FROM {work} WHERE month = $month)
    SELECT $month AS month, '{table}' AS table_name, key, column_name, before, after,
           $files AS file, $now AS recorded_at
    FROM ({diffs})
    """
    return con.execute(sql, {"month": month, "files": files, "now": now}).fetchone()[0]


def publish_months(con: duckdb.DuckDBPyConnection, months: list[str]) -> dict[str, dict[str, int]]:
    """Replace each of ``months`` in every monthly output table, all in one transaction; return the
    rows written and restatements per month.

    A signed-off month's changes are recorded in ``restatements`` first (old values against new);
    then each table's rows of all the months are deleted and inserted in one statement each."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    counts: dict[str, dict[str, int]] = {m: {t: 0 for t in MONTHLY} for m in months}
    with transaction(con):
        for month in months:
            counts[month]["restatements"] = _restate(con, month, now)
        for table, (work, _) in MONTHLY.items():
            cols = ", ".join(columns(table))
            con.execute(f"DELETE FROM {table} WHERE list_contains(?, month)", [months])
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {work} WHERE list_contains(?, month)",
                        [months])
            for month, n in con.execute(f"SELECT month, count(*) FROM {table} WHERE list_contains(?, month) "
                                        "GROUP BY month", [months]).fetchall():
                counts[month][table] = n
        last = con.execute("SELECT coalesce(max(seq), 0) FROM ingest_log").fetchone()[0]
        for month in months:  # the files the month's figures were made from: a trace shows no later one
            set_meta(con, PUBLISHED_THROUGH + month, str(last))
        faults.point("publish.written")
    faults.point("publish.committed")
    return counts


def changed_months(con: duckdb.DuckDBPyConnection, months: list[str]) -> list[str]:
    """The months whose working slice differs from what is published, in any monthly table.

    Compared by an order-free hash of each month's rows (rows are unique by key), so a re-run
    after a correction republishes and re-checks only the months the correction changed."""
    changed = set()
    for table, (work, _) in MONTHLY.items():
        cols = ", ".join(columns(table))
        sql = (f"SELECT month, bit_xor(hash({cols})) AS h, count(*) AS n FROM {{}} "
               f"WHERE list_contains($m, month) GROUP BY month")
        diff = con.execute(f"SELECT coalesce(w.month, p.month) FROM ({sql.format(work)}) w "
                           f"FULL JOIN ({sql.format(table)}) p ON p.month = w.month "
                           "WHERE w.h IS DISTINCT FROM p.h OR w.n IS DISTINCT FROM p.n", {"m": months}).fetchall()
        changed.update(m for (m,) in diff)
    return [m for m in months if m in changed]


def _restate(con: duckdb.DuckDBPyConnection, month: str, now: dt.datetime) -> int:
    """If ``month`` was signed off, record every value its republication changes; the count."""
    signed = latest_signoff(con, month)
    if signed is None:
        return 0
    files = con.execute(
        "SELECT string_agg(file, ', ' ORDER BY seq) FROM ingest_log WHERE first_seen_at > ? "
        "AND status = 'loaded'", [signed[1]]).fetchone()[0]
    return sum(_restatements(con, table, month, files, now) for table in MONTHLY)
