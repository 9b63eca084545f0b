"""Run one baseline on a data folder of CSV files and print its result counts as JSON.

    python bench/baselines.py duckdb DATA    # bench/baseline.sql in a fresh in-memory DuckDB
    python bench/baselines.py pandas DATA    # bench/baseline_pandas.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def duckdb_baseline(data: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect()
    con.execute((HERE / "baseline.sql").read_text(encoding="utf-8").replace("$DATA", data.as_posix()))
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("lines", "pools", "worker_audit")}
    counts["not_ok"] = con.execute("SELECT count(*) FROM worker_audit WHERE status <> 'OK'").fetchone()[0]
    return counts


def main() -> None:
    which, data = sys.argv[1], Path(sys.argv[2])
    if which == "duckdb":
        counts = duckdb_baseline(data)
    else:
        sys.path.insert(0, str(HERE))
        from baseline_pandas import run

        counts = run(data)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
