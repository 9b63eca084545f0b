"""Where the reconciliation runs: DuckDB, in the warehouse itself (the default), or Apache Spark,
for a program past one machine (docs/scale.md). Both run the same stage statements and leave the
same working tables, to the cent; a test holds the two equal row for row."""

from __future__ import annotations

from pathlib import Path

from .. import reconcile

ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"


class EngineUnavailable(RuntimeError):
    """The engine asked for cannot run here; ``str(e)`` is one line saying why."""


def statements() -> list[tuple[str, str]]:
    """The reconciliation's stages for a full rebuild, in order: (table, DuckDB SELECT)."""
    return [(table, sql.replace("/*scope*/", "").replace("/*kept*/", "").replace("/*kept_last_pay*/", ""))
            for table, sql in reconcile.STAGES]


def reconcile_on(con, engine: str = DEFAULT_ENGINE, spark_master: str | None = None, progress=None,
                 since: int | None = None, meta: dict[str, str] | None = None,
                 exchange: Path | None = None) -> dict[str, int]:
    """Rebuild the warehouse's working tables on ``engine``; their row counts. On Spark the
    rebuild is always whole (``since`` is for DuckDB's partial rebuild, whose result is the same)."""
    if engine == "duckdb":
        return reconcile.run(con, progress=progress, since=since, meta=meta)
    if engine != "spark":
        raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    try:
        from . import spark  # loaded late on purpose: only a close on Spark needs pyspark and SQLGlot
    except ImportError as e:
        raise EngineUnavailable(f"the Spark engine is not installed ({e}): pip install 'pennytrail[spark]'") from None

    con.execute(reconcile.FORMAT_MACRO)
    return spark.run(con, statements(), spark_master or spark.DEFAULT_MASTER, progress=progress, meta=meta,
                     exchange=exchange, retired=reconcile.RETIRED)
