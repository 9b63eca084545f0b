"""The reconciliation (docs/rules.md: What is owed, paid and received, Pools, Allocation to
workers, The worker audit), run in DuckDB over the warehouse's current tables.

The rules are the statements of ``stages`` (one module per stage of the money's journey, its
SQL beside it), run in order; this module runs them: each into a temporary table, then the
working tables (``w_*``) copied into the warehouse in one transaction. The working tables cover
every month; ``publish`` copies one month's slice into the output tables of §8.
"""

from __future__ import annotations

import duckdb

from . import faults
from .stages import KEPT, SCOPE, SCOPED_FROM, dialect, statements
from .warehouse import quote, set_meta, transaction

# integer cents as dollars in SQL (the close workbook's words use it as the findings do)
FORMAT_MACRO = dialect.MACROS

STAGES: list[tuple[str, str]] = statements()

# Earlier versions kept the temporary stages as w_* tables in the warehouse; those are dropped.
RETIRED = ("w_payroll", "w_basis", "w_shares", "w_paid")

# Growers whose worker audit an incremental run recomputes: those with payroll rows from files
# applied since the last run, and those any of whose pools changed, appeared or went away.
INCREMENTAL_SCOPE = """
CREATE OR REPLACE TEMP TABLE {scope} AS
SELECT DISTINCT grower_id FROM payroll_rows WHERE file_seq > ?
UNION SELECT grower_id FROM (SELECT * FROM temp.main.w_pools EXCEPT SELECT * FROM {db}.main.w_pools)
UNION SELECT grower_id FROM (SELECT * FROM {db}.main.w_pools EXCEPT SELECT * FROM temp.main.w_pools)
"""
# A full rebuild's scope: every grower with payroll rows.
FULL_SCOPE = "CREATE OR REPLACE TEMP TABLE {scope} AS SELECT DISTINCT grower_id FROM payroll_rows"


def set_scope(con: duckdb.DuckDBPyConnection, db: str, since: int | None) -> int:
    """Create the relations the stages read from ``SCOPED_FROM`` on: the growers in scope, and
    for the others the rows of the warehouse's last tables (none on a full rebuild). Returns
    the number of growers in scope."""
    if since is None:
        con.execute(FULL_SCOPE.format(scope=SCOPE))
    else:
        con.execute(INCREMENTAL_SCOPE.format(scope=SCOPE, db=db), [int(since)])
    for name, (table, columns) in KEPT.items():
        if since is None:
            cols = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns.items())
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {cols} WHERE false")
        else:
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {', '.join(columns)} FROM {db}.main.{table} "
                        f"WHERE grower_id NOT IN (SELECT grower_id FROM {SCOPE})")
    return con.execute(f"SELECT count(*) FROM {SCOPE}").fetchone()[0]


def drop_scope(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what ``set_scope`` created."""
    for name in KEPT:
        con.execute(f"DROP VIEW IF EXISTS temp.main.{name}")
    con.execute(f"DROP TABLE IF EXISTS temp.main.{SCOPE}")


def write_working(con: duckdb.DuckDBPyConnection, db: str, tables: list[str], meta: dict[str, str] | None) -> None:
    """Replace the warehouse's working tables ``tables`` with this connection's temporary tables
    of the same names, drop the retired ones and record ``meta``, in one transaction: a close
    that dies leaves the previous tables whole. Every engine's rebuild ends here."""
    with transaction(con):
        for table in RETIRED:
            con.execute(f"DROP TABLE IF EXISTS {db}.main.{table}")
        for table in tables:
            con.execute(f"CREATE OR REPLACE TABLE {db}.main.{quote(table)} AS SELECT * FROM temp.main.{quote(table)}")
        for key, value in (meta or {}).items():
            set_meta(con, key, value)
        faults.point("reconcile.written")
    faults.point("reconcile.committed")


def run(con: duckdb.DuckDBPyConnection, progress=None, since: int | None = None,
        meta: dict[str, str] | None = None) -> dict[str, int]:
    """Rebuild every working table; return their row counts.

    Every stage is first built as a temporary table of this connection: tables named ``t_*``
    are read only by the stages after them, and the ``w_*`` ones are then copied into the
    warehouse in one transaction (with ``meta``, if given), so a close that dies leaves the
    previous tables whole. (A query reading a table written earlier in the same open
    transaction runs several times slower in DuckDB; building outside it avoids that.)

    ``since``: the ingest_log seq the warehouse's working tables were last built from, with the
    same reference data and rules. Everything above the worker level is rebuilt (it is small);
    the worker audit, which depends on nothing outside its grower, is recomputed only for the
    growers in scope (``INCREMENTAL_SCOPE``), and kept as it was for the others. The result is
    the same as a full rebuild's; a test holds the two equal.
    """
    dialect.install(con)
    db = quote(con.execute("SELECT current_database()").fetchone()[0])
    counts = {}
    try:
        for table, sql in STAGES:
            if table == SCOPED_FROM:
                growers = set_scope(con, db, since)
                if progress and since is not None:
                    progress(f"incremental: the worker audit of {growers} grower(s) is recomputed, "
                             "the others' kept")
            try:
                con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
            except duckdb.Error as e:
                raise RuntimeError(f"reconciliation stage {table} failed: {e}") from e
            counts[table] = con.execute(f"SELECT count(*) FROM temp.main.{table}").fetchone()[0]
            if progress:
                progress(f"{table}: {counts[table]:,} rows")
        drop_scope(con)
        for table, _ in STAGES:  # the memory of the stages nothing else reads, freed before the copy
            if table.startswith("t_"):
                con.execute(f"DROP TABLE temp.main.{table}")
        write_working(con, db, [table for table, _ in STAGES if not table.startswith("t_")], meta)
    finally:
        drop_scope(con)
        for table, _ in STAGES:
            con.execute(f"DROP TABLE IF EXISTS temp.main.{table}")
    return counts
