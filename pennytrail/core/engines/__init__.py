"""Where the reconciliation runs: DuckDB, in the warehouse itself (the default), or Apache Spark,
for a program past one machine (docs/scale.md). Both run the same stage statements and leave the
same working tables, to the cent; a test holds the two equal row for row."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from .. import reconcile, stages
from ..stages import dialect
from ..warehouse import quote

ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"


class EngineUnavailable(RuntimeError):
    """The engine asked for cannot run here; ``str(e)`` is one line saying why."""


class Overflow(RuntimeError):
    """A stage computed a number past what its engine holds exactly: the same one-line error on
    every engine (an overflow is an error, never a wrapped or NULL cent), the engine's own words
    at its end."""

    def __init__(self, stage: str, engine: str, detail: str):
        detail = " ".join(detail.split())[:300]
        super().__init__(f"reconciliation stage {stage} failed: a figure is past the largest number the rules "
                         f"compute exactly (an overflow on {engine}: {detail})")
        self.stage = stage




def reconcile_on(con, engine: str = DEFAULT_ENGINE, spark_master: str | None = None, progress=None,
                 since: int | None = None, meta: dict[str, str] | None = None,
                 exchange: Path | None = None) -> dict[str, int]:
    """Rebuild the warehouse's working tables on ``engine``; their row counts. On Spark the
    rebuild is always whole (``since`` is for DuckDB's partial rebuild, whose result is the same)."""
    if engine == "duckdb":
        try:
            return reconcile.run(con, progress=progress, since=since, meta=meta)
        except RuntimeError as e:
            stage = re.match(r"reconciliation stage (\w+) failed", str(e))
            if stage and isinstance(e.__cause__, (duckdb.OutOfRangeException, duckdb.ConversionException)):
                raise Overflow(stage.group(1), "DuckDB", str(e.__cause__)) from e
            raise
    if engine != "spark":
        raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    try:
        from . import spark  # late: only a close on Spark needs pyspark and SQLGlot
    except ImportError as e:
        raise EngineUnavailable(f"the Spark engine is not installed ({e}): pip install 'pennytrail[spark]'") from None

    dialect.install(con)  # DuckDB's twins of the Spark bodies: DuckDB binds the statements for their types
    db = quote(con.execute("SELECT current_database()").fetchone()[0])
    reconcile.set_scope(con, db, None)  # a whole rebuild: every grower in scope, nothing kept
    try:
        return spark.run(con, stages.statements(), spark_master or spark.DEFAULT_MASTER, progress=progress,
                         meta=meta, exchange=exchange)
    finally:
        reconcile.drop_scope(con)
