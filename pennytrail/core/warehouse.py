"""The DuckDB warehouse: schema, connection and the SQL twins of the money rules.

The output tables' DDL is generated from their data contracts, so the schema and the contract
cannot drift apart. Input history tables are generated from the input contracts: every
accepted row version, with the file, sheet and row it came from. ``purchases``, ``payments``,
``payroll`` and ``sales`` are views of the latest version of each key (a later file's row is a
correction that wins).
"""

from __future__ import annotations

import datetime as dt
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

import data_contracts

from . import faults
from .stages import dialect

SQL_TYPES = {
    "month": "VARCHAR", "text": "VARCHAR", "json": "VARCHAR", "date": "DATE", "cents": "BIGINT",
    "bigint": "BIGINT", "decimal": "DECIMAL(18,3)", "boolean": "BOOLEAN", "timestamp": "TIMESTAMP",
}
INPUT_TYPES = {"id": "VARCHAR", "text": "VARCHAR", "unit": "VARCHAR", "date": "DATE", "number": "DECIMAL(18,3)",
               "language": "VARCHAR"}
HISTORY = {"purchases": "purchase_rows", "payments": "payment_rows", "payroll": "payroll_rows", "sales": "sales_rows"}
MEMORY_LIMIT = "3GB"  # DuckDB's memory for a writing connection; PENNYTRAIL_DUCKDB_MEMORY overrides it
EXTRA_COLUMNS = {"ingest_log": {"message": "VARCHAR"}, "quarantine": {"sha256": "VARCHAR"}}

# the SQL names of the money rules (round_half_up_div, period_of, …), defined on every connection
MACROS = dialect.MACROS


def utc_seconds(now: dt.datetime | None = None) -> dt.datetime:
    """``now`` (by default the present) in UTC, to the second and without a zone: how a time someone
    acted at is recorded (a sign-off, a revocation, a confirmation issued). A time without a zone
    is taken to be UTC already."""
    t = now or dt.datetime.now(dt.timezone.utc)
    if t.tzinfo is not None:
        t = t.astimezone(dt.timezone.utc)
    return t.replace(tzinfo=None, microsecond=0)


def output_ddl(table: str) -> str:
    spec = data_contracts.load(table)
    cols = [f"{name} {SQL_TYPES[c['type']]}" for name, c in spec["columns"].items()]
    cols += [f"{name} {t}" for name, t in EXTRA_COLUMNS.get(table, {}).items()]
    return f"CREATE TABLE IF NOT EXISTS {table} (\n    " + ",\n    ".join(cols) + "\n)"


def history_ddl(kind: str) -> str:
    spec = data_contracts.load(kind)
    cols = ["file_seq BIGINT NOT NULL", "file VARCHAR NOT NULL", "sheet VARCHAR", "row_number BIGINT NOT NULL"]
    for name, c in spec["columns"].items():
        if c["type"] == "amount":
            cols.append(f"{name}_cents BIGINT")
        else:
            cols.append(f"{name} {INPUT_TYPES[c['type']]}")
    cols.append("raw VARCHAR")
    return f"CREATE TABLE IF NOT EXISTS {HISTORY[kind]} (\n    " + ",\n    ".join(cols) + "\n)"


def history_select(kind: str, source: str) -> str:
    """SELECT of checked rows from ``source`` (the contract's columns as validated text, blank "",
    plus file_seq, file, sheet, row_number and raw) for the kind's history table. Text becomes
    dates, DECIMAL numbers and integer cents; each cast is exact for text that passed the checks.
    A blank optional value is NULL, or the contract's ``blank_means``."""
    spec = data_contracts.load(kind)["columns"]
    cols = ["file_seq", "file", "sheet", "row_number", "raw"]

    def text(name: str, c: dict) -> str:
        if c.get("blank_means") and c["type"] != "date":
            return f"coalesce(NULLIF({name}, ''), '{c['blank_means']}')"
        return name if c.get("required") else f"NULLIF({name}, '')"

    for name, c in spec.items():
        if c["type"] == "amount":
            cols.append(f"CAST(CAST({text(name, c)} AS DECIMAL(18,2)) * 100 AS BIGINT) AS {name}_cents")
        elif c["type"] == "number":
            cols.append(f"CAST({text(name, c)} AS DECIMAL(18,3)) AS {name}")
        elif c["type"] == "language":  # an ISO 639 code, held in lower case
            cols.append(f"lower({text(name, c)}) AS {name}")
        elif c["type"] == "date":
            value = f"CAST({text(name, c)} AS DATE)"
            if c.get("blank_means"):  # a blank date that means another column's date
                value = f"coalesce({value}, CAST({c['blank_means']} AS DATE))"
            cols.append(f"{value} AS {name}")
        else:
            cols.append(f"{text(name, c)} AS {name}")
    return f"SELECT {', '.join(cols)} FROM {source}"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def raw_json_sql(columns: list[str], sparse: bool = False, source: dict[str, str] | None = None) -> str:
    """A row's raw record as a JSON object of header → text. ``sparse``: the rows come from files
    with different headers, and a column the row's file did not have (NULL) is left out.
    ``source`` names the relation's column holding each header's values (default: the header)."""
    if not columns:
        return "'{}'"
    source = source or {}
    fields = ", ".join(f"{quote(c)} := {quote(source.get(c, c))}" for c in columns)
    return f"json_merge_patch('{{}}', to_json(struct_pack({fields})))" if sparse else f"to_json(struct_pack({fields}))"


def current_view(kind: str) -> str:
    key = ", ".join(data_contracts.load(kind)["key"])
    return (f"CREATE OR REPLACE VIEW {kind} AS SELECT * FROM {HISTORY[kind]} "
            f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY file_seq DESC) = 1")


REFERENCE_DDL = """
CREATE TABLE IF NOT EXISTS ref_programs (program_id VARCHAR, name VARCHAR, currency VARCHAR,
    allocation_basis VARCHAR, grower_retention_pct DECIMAL(5,2), distribution_deadline_days INTEGER,
    period_days INTEGER, period_anchor DATE, language VARCHAR, complaint_line VARCHAR);
ALTER TABLE ref_programs ADD COLUMN IF NOT EXISTS language VARCHAR;
ALTER TABLE ref_programs ADD COLUMN IF NOT EXISTS complaint_line VARCHAR;
CREATE TABLE IF NOT EXISTS ref_parties (party_id VARCHAR, party_type VARCHAR, name VARCHAR, program_id VARCHAR);
CREATE TABLE IF NOT EXISTS ref_rates (program_id VARCHAR, commodity VARCHAR, rate DECIMAL(18,6),
    rate_unit VARCHAR, effective_from DATE, effective_to DATE);
CREATE TABLE IF NOT EXISTS ref_units (unit VARCHAR, base_unit VARCHAR, factor DECIMAL(18,6));
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    from .codes import DDL as CODES_DDL  # late: the codes module takes its transactions from here

    con.execute(REFERENCE_DDL)
    con.execute(CODES_DDL)
    have = set(con.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE table_schema = 'main'").fetchall())
    for kind in data_contracts.INPUT_KINDS:
        con.execute(history_ddl(kind))
        for name, c in data_contracts.load(kind)["columns"].items():  # an optional column a later contract added
            if c["type"] != "amount" and (HISTORY[kind], name) not in have and any(t == HISTORY[kind] for t, _ in have):
                con.execute(f"ALTER TABLE {HISTORY[kind]} ADD COLUMN {name} {INPUT_TYPES[c['type']]}")
        con.execute(current_view(kind))
    for table in data_contracts.OUTPUT_TABLES:
        con.execute(output_ddl(table))
        for name, c in data_contracts.load(table)["columns"].items():
            if (table, name) not in have and any(t == table for t, _ in have):  # a column a later contract added
                con.execute(f"ALTER TABLE {table} ADD COLUMN {name} {SQL_TYPES[c['type']]}")


_held: dict[Path, duckdb.DuckDBPyConnection] = {}


@contextmanager
def held(path: Path | str) -> Iterator[None]:
    """Keep the warehouse open for the whole of the ``with``: every ``connect`` to it inside
    (read-only ones included) is a cursor on this process's one database, and the tables are
    checkpointed to the file once, when it ends, instead of each time a stage's connection
    closes. The commits inside are as durable either way (the WAL); a stage's working tables
    that are dropped before the end are never written to the file at all."""
    path = Path(path).resolve()
    if path in _held:
        yield
        return
    with connect(path) as con:
        _held[path] = con
        try:
            yield
        finally:
            del _held[path]
        faults.point("checkpoint")  # the connection's close below writes the tables into the file


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Write the committed tables into the database file now. DuckDB also checkpoints when the last
    connection closes, but an error there (a full disk) is not reported; here it is raised."""
    con.execute("CHECKPOINT")


class NotWritten(Exception):
    """The warehouse file does not hold what was just committed (``str(e)`` says why)."""


def verify_written(path: Path | str, key: str, value: str) -> None:
    """After the warehouse is closed: its file holds ``meta[key] == value`` and no write-ahead log
    is left over, so what was committed is in the file itself."""
    path = Path(path)
    wal = path.with_name(path.name + ".wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise NotWritten(f"{wal} still holds {wal.stat().st_size:,} bytes that were not written into {path.name}")
    con = duckdb.connect(str(path), read_only=True)
    try:
        found = get_meta(con, key)
    finally:
        con.close()
    if found != value:
        raise NotWritten(f"{path} does not hold the result just committed")


@contextmanager
def connect(path: Path | str, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with the schema in place and the money macros defined."""
    path = Path(path)
    if path.resolve() in _held:
        con = _held[path.resolve()].cursor()  # the held database; its settings and schema are set
        try:
            con.execute(MACROS)  # temporary macros belong to a connection
            yield con
        finally:
            con.close()
        return
    if read_only and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `pennytrail close` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        if not read_only:
            # A checkpoint rewrites the tables it touches: after every big commit it would cost
            # more than the commit. The WAL is checkpointed at 1 GB and when the connection closes.
            con.execute("SET checkpoint_threshold = '1GB'")
            # rows carry their own order (file, row_number): inserts may run in parallel
            con.execute("SET preserve_insertion_order = false")
            # DuckDB's own memory (by default 80% of the machine's) is capped; past the cap, the
            # reconciliation's working tables spill to ``<warehouse>.tmp`` instead of growing
            con.execute("SET memory_limit = ?", [os.environ.get("PENNYTRAIL_DUCKDB_MEMORY", MEMORY_LIMIT)])
            create_schema(con)
        con.execute(MACROS)
        yield con
        if not read_only:
            checkpoint(con)  # a failure to write the file is an error, not a silent loss
    finally:
        con.close()


@contextmanager
def transaction(con, begin: str = "BEGIN TRANSACTION") -> Iterator:
    """Commit everything inside or nothing (``con``: a DuckDB or SQLite connection)."""
    con.execute(begin)
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])
