"""Speed and memory of the close, measured (never asserted).

    python bench/run.py [--scale season] [--scale national] [--seed 1]

For each scale: generates the program once into bench/.cache/ (kept between runs), then
1. times each stage of the close in this process, with the library's own functions: reference
   data, ingest (read, validate, load), the input data contracts (GX), the reconciliation,
   the conservation checks, the output contracts and publication of every month;
2. times the real close (`pennytrail close`, the Dagster graph) in a fresh process, with the
   process's peak memory;
3. times a re-run of that close with nothing new to ingest.
Figures are printed as a table; paste them into docs/performance.md with the machine's details.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data_contracts import gx  # noqa: E402
from pennytrail import conservation, publish, reconcile  # noqa: E402
from pennytrail.generator import generate  # noqa: E402
from pennytrail.ingest import ingest, write_reference  # noqa: E402
from pennytrail.reference import load_reference  # noqa: E402
from pennytrail.warehouse import connect  # noqa: E402

CACHE = ROOT / "bench" / ".cache"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def data_for(scale: str, seed: int) -> Path:
    out = CACHE / f"{scale}-{seed}"
    if not (out / "answer_key.json").exists():
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        generate(out, seed=seed, scale=scale, progress=lambda m: print("  " + m, flush=True))
        print(f"  generated {scale} in {time.perf_counter() - start:.1f} s", flush=True)
    return out


def stages(data: Path) -> list[tuple[str, float, int, float]]:
    """(stage, seconds, rows, peak MiB) for each stage, in this process."""
    rows_out = []
    home = Path(tempfile.mkdtemp(prefix="pennytrail-bench-"))

    def timed(name, rows_fn, fn):
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        rows_out.append((name, seconds, rows_fn(result), peak_mib()))
        print(f"  {name:28} {seconds:8.2f} s", flush=True)
        return result

    try:
        with connect(home / "pennytrail.duckdb") as con:
            ref = timed("reference data", lambda r: len(r.parties), lambda: load_reference(data))
            write_reference(con, ref)
            raw = defaultdict(list)
            summary = timed("ingest (read+validate+load)", lambda s: s.rows_read,
                            lambda: ingest(con, data, ref, progress=lambda m: None,
                                           on_raw=lambda k, f: raw[k].append(f)))
            parties = {pid: p[0] for pid, p in ref.parties.items()}

            timed("input contracts (GX)", lambda n: n,
                  lambda: sum(gx.validate_input(kind, frames, parties, set(ref.units)).rows
                              for kind, frames in raw.items()))
            raw.clear()
            counts = timed("reconciliation", lambda c: c["w_worker_audit"], lambda: reconcile.run(con))
            timed("conservation checks", lambda r: len(r), lambda: conservation.run_all(con))
            months = publish.months_available(con)

            timed("output contracts (GX)", lambda n: n,
                  lambda: sum(r.rows for m in months for r in publish.check_month(con, m).values()))
            timed("publish all months", lambda c: sum(c), lambda: [sum(publish.publish(con, m).values())
                                                                   for m in months])
        del summary, counts
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return rows_out


def cli_close(data: Path, home: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of `pennytrail close` in a fresh process."""
    cmd = [sys.executable, "-m", "pennytrail.cli", "close", "--data", str(data), "--home", str(home)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"close failed: {done.stderr.strip().splitlines()[-1]}")
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", action="append", choices=["demo", "season", "national"],
                        help="scale(s) to measure (default: season)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for scale in args.scale or ["season"]:
        print(f"\n== {scale} ==", flush=True)
        data = data_for(scale, args.seed)
        measured = stages(data)
        print(f"\n{'stage':30}{'seconds':>10}{'rows':>12}{'rows/s':>12}{'peak MiB':>10}")
        for name, seconds, rows, mib in measured:
            print(f"{name:30}{seconds:10.2f}{rows:12,}{rows / seconds if seconds else 0:12,.0f}{mib:10.0f}")
        print(f"{'total (stages)':30}{sum(s for _, s, _, _ in measured):10.2f}")
        home = Path(tempfile.mkdtemp(prefix="pennytrail-bench-home-"))
        try:
            seconds, peak = cli_close(data, home)
            print(f"\n`pennytrail close` (Dagster graph, all months): {seconds:.2f} s, peak {peak:.0f} MiB")
            seconds, _ = cli_close(data, home)
            print(f"re-run with nothing new to ingest:               {seconds:.2f} s")
        finally:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
