"""Statement codes (docs/rules.md: What each worker is told): one per grower and worker.

A code is how a worker reaches their statements without an account, and how a complaint line
finds the worker. It is random (``secrets``), 20 symbols of an alphabet of 31 (about 99 bits),
never derived from the worker's id or name, and written in five groups of four that a person can
read out over the phone: the alphabet has no ``0``/``O`` and no ``1``/``I``/``L``. A code stays
the worker's from close to close; a reissued code (a lost statement) replaces it, and the old
one stops working but stays in the table, so that no code is ever given twice.

The table ``statement_codes`` holds the codes in the warehouse (and so in the published
snapshot the portal reads). A code is a secret: nothing here logs one.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

import duckdb
import pyarrow as pa

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, no 1/I/L
GROUPS, GROUP = 5, 4
LENGTH = GROUPS * GROUP

DDL = """
CREATE TABLE IF NOT EXISTS statement_codes (
    grower_id VARCHAR NOT NULL,
    worker_id VARCHAR NOT NULL,
    code VARCHAR NOT NULL,          -- 20 symbols, no dashes; a secret
    language VARCHAR,               -- the worker's language as of the last close
    issued_at TIMESTAMP NOT NULL,
    issued_by VARCHAR NOT NULL,     -- 'close', or who reissued it
    revoked_at TIMESTAMP,           -- when it was replaced; NULL while it works
    reason VARCHAR                  -- why it was reissued
)
"""


# Each (grower, worker) of the worker audit and the language they are told in: their payroll's
# latest row that names one (latest pay date, then period, then file), else their program's, else
# Spanish (docs/decisions.md).
WORKER_LANGUAGE_SQL = """
SELECT k.grower_id, k.worker_id, coalesce(pl.language, pr.language, 'es') AS language
FROM (SELECT DISTINCT grower_id, worker_id FROM worker_audit) k
LEFT JOIN (SELECT grower_id, worker_id, language FROM payroll WHERE language IS NOT NULL
           QUALIFY row_number() OVER (PARTITION BY grower_id, worker_id
               ORDER BY pay_date DESC, period_start DESC, premium_period_start DESC, file_seq DESC,
                        row_number DESC) = 1) pl
       ON pl.grower_id = k.grower_id AND pl.worker_id = k.worker_id
LEFT JOIN ref_parties g ON g.party_id = k.grower_id
LEFT JOIN ref_programs pr ON pr.program_id = g.program_id
"""


def new_code() -> str:
    """A fresh code, 20 symbols without dashes."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def shown(code: str) -> str:
    """A code as printed and read out: five groups of four, joined by dashes."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def typed(text: str) -> str | None:
    """A code as a person typed it (any case, with or without dashes or spaces) in the form the
    table holds, or None when it cannot be a code at all."""
    if not isinstance(text, str) or len(text) > 80:
        return None
    bare = re.sub(r"[\s\-–—.]", "", text).upper()
    if len(bare) != LENGTH or any(ch not in ALPHABET for ch in bare):
        return None
    return bare


def _taken(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT code FROM statement_codes").fetchall()}


def issue(con: duckdb.DuckDBPyConnection, now: dt.datetime, languages_sql: str) -> int:
    """Give a code to every (grower, worker) with a row in the published ``worker_audit`` that has
    none in force, and set each working code's language (``languages_sql``: a query of
    grower_id, worker_id, language). The number of codes issued. The caller commits."""
    con.execute(DDL)
    missing = con.execute("""
        SELECT DISTINCT a.grower_id, a.worker_id FROM worker_audit a
        WHERE NOT EXISTS (SELECT 1 FROM statement_codes c WHERE c.grower_id = a.grower_id
                          AND c.worker_id = a.worker_id AND c.revoked_at IS NULL)
        ORDER BY 1, 2""").fetchall()
    taken = _taken(con) if missing else set()
    rows = []
    for grower_id, worker_id in missing:
        code = new_code()
        while code in taken:
            code = new_code()
        taken.add(code)
        rows.append((grower_id, worker_id, code, now))
    if rows:  # one insert of a table: a program issues up to a code per payroll row at its first close
        con.register("_new_codes", pa.table({name: [r[i] for r in rows] for i, name in
                                             enumerate(("grower_id", "worker_id", "code", "issued_at"))}))
        try:
            con.execute("INSERT INTO statement_codes (grower_id, worker_id, code, issued_at, issued_by) "
                        "SELECT grower_id, worker_id, code, issued_at, 'close' FROM _new_codes")
        finally:
            con.unregister("_new_codes")
    con.execute(f"""
        UPDATE statement_codes c SET language = l.language FROM ({languages_sql}) l
        WHERE c.grower_id = l.grower_id AND c.worker_id = l.worker_id AND c.revoked_at IS NULL
          AND c.language IS DISTINCT FROM l.language""")
    return len(rows)


def issue_after_close(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> int:
    """``issue`` for every worker of the published audit, in a transaction of its own."""
    from .warehouse import transaction  # late: the warehouse imports this module's DDL

    with transaction(con):
        return issue(con, now, WORKER_LANGUAGE_SQL)


def reissue(con: duckdb.DuckDBPyConnection, grower_id: str, worker_id: str, by: str, reason: str,
            now: dt.datetime) -> str:
    """Replace the worker's code in force with a new one; the new code. ``LookupError`` when the
    worker has no code at that grower. The caller commits."""
    con.execute(DDL)
    old = con.execute("SELECT code, language FROM statement_codes WHERE grower_id = ? AND worker_id = ? "
                      "AND revoked_at IS NULL", [grower_id, worker_id]).fetchone()
    if old is None:
        raise LookupError(f"worker {worker_id!r} has no statement code at grower {grower_id!r}")
    taken = _taken(con)
    code = new_code()
    while code in taken:
        code = new_code()
    con.execute("UPDATE statement_codes SET revoked_at = ?, reason = ? WHERE grower_id = ? AND worker_id = ? "
                "AND revoked_at IS NULL", [now, reason, grower_id, worker_id])
    con.execute("INSERT INTO statement_codes (grower_id, worker_id, code, language, issued_at, issued_by) "
                "VALUES (?, ?, ?, ?, ?, ?)", [grower_id, worker_id, code, old[1], now, by])
    return code


def find(con: duckdb.DuckDBPyConnection, code: str) -> tuple[str, str, str | None] | None:
    """(grower_id, worker_id, language) of the working code ``code`` (as ``typed`` returns it), or None."""
    try:
        return con.execute("SELECT grower_id, worker_id, language FROM statement_codes WHERE code = ? "
                           "AND revoked_at IS NULL", [code]).fetchone()
    except duckdb.CatalogException:  # a warehouse from before codes were issued
        return None


def of_grower(con: duckdb.DuckDBPyConnection, grower_id: str) -> list[tuple[str, str, str | None]]:
    """(worker_id, code, language) of every working code of the grower, by worker id."""
    try:
        return con.execute("SELECT worker_id, code, language FROM statement_codes WHERE grower_id = ? "
                           "AND revoked_at IS NULL ORDER BY worker_id", [grower_id]).fetchall()
    except duckdb.CatalogException:
        return []
