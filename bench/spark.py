"""The reconciliation on Apache Spark (local[2]) beside DuckDB, on the same warehouse, measured
(never asserted): docs/scale.md.

    python bench/spark.py [--scale demo] [--scale season] [--national] [--no-write]

For each scale (default demo and season; `--national` adds national, which takes long on two
cores), the program generated once into bench/.cache/ (as bench/run.py does) is ingested once
into a warehouse kept there; then, on a copy each, the reconciliation runs on DuckDB
(``reconcile.run``) and on Spark (``engines.reconcile_on(..., "spark")``, the Spark session
started beforehand and timed apart); the two results are compared table by table. The figures
are printed, and written into docs/scale.md between the `spark-bench:start` and
`spark-bench:end` markers (unless --no-write).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from bench.run import CACHE, data_for, say  # noqa: E402
from pennytrail.core import engines, reconcile  # noqa: E402
from pennytrail.core.engines import spark  # noqa: E402
from pennytrail.core.ingest import ingest, write_reference  # noqa: E402
from pennytrail.core.reference import load_reference  # noqa: E402
from pennytrail.core.warehouse import connect  # noqa: E402

DOC = ROOT / "docs" / "scale.md"
START, END = "<!-- spark-bench:start -->", "<!-- spark-bench:end -->"


def warehouse_for(scale: str, seed: int) -> tuple[Path, int]:
    """The scale's program ingested (once) into a warehouse under the cache; its payroll rows."""
    wh = CACHE / f"spark-{scale}-{seed}.duckdb"
    if not wh.exists():
        data = data_for(scale, seed)
        start = time.perf_counter()
        part = wh.with_suffix(".part")
        part.unlink(missing_ok=True)
        with connect(part) as con:
            ref = load_reference(data)
            write_reference(con, ref)
            ingest(con, data, ref, progress=lambda m: None)
        part.rename(wh)
        say(f"  ingested {scale} in {time.perf_counter() - start:.1f} s")
    with connect(wh, read_only=True) as con:
        return wh, con.execute("SELECT count(*) FROM payroll").fetchone()[0]


def same(a: Path, b: Path) -> bool:
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = 'a' "
                                        "AND starts_with(table_name, 'w_')").fetchall()]
    for t in tables:
        for x, y in (("a", "b"), ("b", "a")):
            if con.execute(f"SELECT count(*) FROM (SELECT * FROM {x}.main.{t} EXCEPT ALL SELECT * FROM {y}.main.{t})"
                           ).fetchone()[0]:
                return False
    return bool(tables)


def measure(scale: str, seed: int) -> dict:
    say(f"{scale}:")
    wh, payroll = warehouse_for(scale, seed)
    work = CACHE / "spark-run"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    duck, spk = work / "duckdb.duckdb", work / "spark.duckdb"
    shutil.copy(wh, duck)
    shutil.copy(wh, spk)
    try:
        with connect(duck) as con:
            start = time.perf_counter()
            counts = reconcile.run(con)
            duck_s = time.perf_counter() - start
        say(f"  DuckDB: {duck_s:.1f} s")
        with connect(spk) as con:
            start = time.perf_counter()
            engines.reconcile_on(con, "spark", exchange=work, progress=lambda m: say("    " + m))
            spark_s = time.perf_counter() - start
        say(f"  Spark local[2]: {spark_s:.1f} s")
        equal = same(duck, spk)
        say(f"  working tables equal: {equal}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"scale": scale, "payroll": payroll, "worker_rows": counts["w_worker_audit"], "duckdb": duck_s,
            "spark": spark_s, "equal": equal}


def report(results: list[dict], session_s: float) -> str:
    lines = [f"Measured by `make bench` (`bench/spark.py`) on {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, Spark {spark_version()} "
             f"(local[2], 1 GB driver); the Spark session started in {session_s:.1f} s, not counted below.",
             "",
             "| scale | payroll rows | worker audit rows | DuckDB | Spark local[2] | Spark ÷ DuckDB | equal |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for r in results:
        lines.append(f"| {r['scale']} | {r['payroll']:,} | {r['worker_rows']:,} | {r['duckdb']:.1f} s | "
                     f"{r['spark']:.1f} s | {r['spark'] / r['duckdb']:.0f}× | {'yes' if r['equal'] else 'NO'} |")
    return "\n".join(lines)


def spark_version() -> str:
    import pyspark

    return pyspark.__version__


def write(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    before, rest = doc.split(START, 1)
    _, after = rest.split(END, 1)
    DOC.write_text(f"{before}{START}\n{text}\n{END}{after}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", action="append", choices=["demo", "season", "national"])
    parser.add_argument("--national", action="store_true", help="add the national scale (long on two cores)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/scale.md alone")
    args = parser.parse_args()
    scales = args.scale or ["demo", "season"]
    if args.national and "national" not in scales:
        scales.append("national")
    start = time.perf_counter()
    spark.session("local[2]")
    session_s = time.perf_counter() - start
    results = [measure(s, args.seed) for s in scales]
    text = report(results, session_s)
    print(text)
    if not args.no_write:
        write(text)


if __name__ == "__main__":
    main()
