"""Speed and memory of the close, measured (never asserted), against the alternatives.

    python bench/run.py [--scale season] [--scale national] [--seed 1] [--no-write]

For each scale (default: season and national), on data generated once into bench/.cache/:
1. each stage of the close in one process, with the library's own functions: wall seconds,
   rows per second, and the process's peak RSS so far;
2. the real close, `pennytrail close` (the Dagster graph), in a fresh process: wall seconds,
   peak RSS (of the close and its contract process together), and the seconds of each Dagster
   step;
3. the close workbook of the largest month (`pennytrail report close`), and (season) one
   payroll CSV of about a million rows ingested alone (`bench/one_file.py`);
4. a re-run with nothing new, and a re-run after one corrected payroll file;
5. the same rules as a plain DuckDB SQL script over the raw CSV files (`bench/baseline.sql`, the
   lower bound) and as a straightforward pandas script (`bench/baseline_pandas.py`), each in a
   fresh process, on the same data (Excel files converted to CSV first, untimed).
The figures are printed, and written with the machine's details into docs/performance.md
between the `bench:start` and `bench:end` markers (unless --no-write).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.contracts import Contracts  # noqa: E402
from pennytrail.core import conservation, publish, reconcile  # noqa: E402
from pennytrail.generator import generate  # noqa: E402
from pennytrail.core.ingest import ingest, write_reference  # noqa: E402
from pennytrail.core.reading import FileProblem, read_table  # noqa: E402
from pennytrail.core.reference import load_reference  # noqa: E402
from pennytrail.core.warehouse import connect  # noqa: E402

CACHE = ROOT / "bench" / ".cache"
# Runs of the close and of each baseline per scale; the median is reported, with the range.
# Timings on a shared 2-core machine vary by a third from run to run.
REPEATS = {"demo": 3, "season": 3, "national": 1}
PERF = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def say(msg: str) -> None:
    print(msg, flush=True)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def data_for(scale: str, seed: int) -> Path:
    out = CACHE / f"{scale}-{seed}"
    if not (out / "answer_key.json").exists():
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        generate(out, seed=seed, scale=scale, progress=lambda m: say("  " + m))
        say(f"  generated {scale} in {time.perf_counter() - start:.1f} s")
    return out


def csv_for(data: Path) -> Path:
    """The data with every Excel file as CSV, for the baselines (which read CSV only)."""
    out = data.with_name(data.name + "-csv")
    if not (out / ".complete").exists():
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(data, out, ignore=shutil.ignore_patterns("*.xlsx"), copy_function=os.link)
        for path in data.rglob("*.xlsx"):
            try:
                table = read_table(path)
            except FileProblem:
                continue
            table.frame.to_csv(out / path.relative_to(data).with_suffix(".csv"), index=False)
        (out / ".complete").touch()
    return out


def one_file_for(csv_data: Path) -> Path:
    """The data's payroll rows as one CSV file (about a million rows at season scale), with its
    reference data: the single-file ingest the ingest issue sets a target for."""
    import duckdb

    out = csv_data.with_name(csv_data.name + "-one-file")
    if not (out / ".complete").exists():
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(csv_data / "reference", out / "reference")
        (out / "inbox" / "payroll").mkdir(parents=True)
        with duckdb.connect() as con:
            con.execute(f"COPY (SELECT * FROM read_csv('{csv_data}/inbox/payroll/**/*.csv', all_varchar = true, "
                        f"union_by_name = true)) TO '{out}/inbox/payroll/payroll.csv' (HEADER)")
        (out / ".complete").touch()
    return out


# A small launcher between the bench and what it measures: a forked child's peak RSS starts at
# its parent's size, so measuring from this (large) process would overstate every child.
# Runs a command and prints, last on stderr, the peak RSS in KiB of it and its child processes
# together (the close's contract process): the sum over the process tree, sampled every 50 ms,
# or the command's own peak if that is higher (a peak between samples).
LAUNCHER = """
import os, subprocess, sys, threading
proc = subprocess.Popen(sys.argv[1:])
peak, done = 0, threading.Event()

def tree_kib(root):
    children, rss = {}, {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(pid))
            rss[int(pid)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total

def sample():
    global peak
    while not done.wait(0.05):
        peak = max(peak, tree_kib(proc.pid))

threading.Thread(target=sample, daemon=True).start()
_, status, usage = os.wait4(proc.pid, 0)
done.set()
print(max(peak, usage.ru_maxrss), file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def child_rss(cmd: list[str]) -> tuple[float, float, str]:
    """Run a command in a fresh process: (wall seconds, its peak RSS in MiB, its standard output)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        code = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], stdout=out, stderr=err).returncode
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        lines = err.read().decode(errors="replace").strip().splitlines() or ["?"]
        if code != 0:
            raise SystemExit(f"{' '.join(cmd[:4])} … failed: {lines[-2] if len(lines) > 1 else lines[-1]}")
        return seconds, int(lines[-1]) / 1024, out.read().decode()


def median_run(runs: list[tuple]) -> tuple[tuple, tuple[float, float, int]]:
    """The run of median seconds (each run's first field), and (fastest, slowest, runs)."""
    ordered = sorted(runs, key=lambda r: r[0])
    return ordered[len(ordered) // 2], (ordered[0][0], ordered[-1][0], len(ordered))


def stages(data: Path) -> list[tuple[str, float, int, float]]:
    """(stage, seconds, rows, peak MiB so far) for each stage of the close, in this process."""
    rows_out = []
    home = Path(tempfile.mkdtemp(prefix="pennytrail-bench-"))

    def timed(name, rows_fn, fn):
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        rows_out.append((name, seconds, rows_fn(result), peak_mib()))
        say(f"  {name:34} {seconds:8.2f} s")
        return result

    checks = None
    try:
        checks = timed("start the contract process", lambda _: 0, Contracts)  # GX loads there during the ingest
        with connect(home / "pennytrail.duckdb") as con:
            ref = timed("reference data", lambda r: len(r.parties), lambda: load_reference(data))
            write_reference(con, ref)
            contracts = checks.input_contracts({pid: p[0] for pid, p in ref.parties.items()}, set(ref.units))
            timed("ingest + input contracts (GX)", lambda s: s.rows_read,
                  lambda: (ingest(con, data, ref, progress=lambda m: None, on_raw=contracts.add),
                           contracts.results())[0])
            timed("reconciliation", lambda c: c["w_worker_audit"], lambda: reconcile.run(con))
            timed("conservation checks", lambda r: len(r), lambda: conservation.run_all(con))
            months = publish.months_available(con)
            timed("output contracts (GX)", lambda r: sum(x.rows for x in r.values()),
                  lambda: checks.output(con, months)[1])
            timed("publish all months", lambda c: sum(sum(v.values()) for v in c.values()),
                  lambda: publish.publish_months(con, months))
    finally:
        if checks is not None:
            checks.stop()
        shutil.rmtree(home, ignore_errors=True)
    return rows_out


def dagster_steps(home: Path, last: int) -> list[tuple[str, str, float]]:
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    out = []
    for run in reversed(instance.get_runs(limit=last)):
        for step in instance.get_run_step_stats(run.run_id):
            if step.end_time and step.start_time:
                out.append((run.job_name, step.step_key, step.end_time - step.start_time))
    return out


def correct_one_payroll_file(data: Path) -> str:
    """Add a correction file: the first payroll CSV's first row with one cent more premium."""
    src = sorted((data / "inbox/payroll").rglob("*.csv"))[0]
    header, first = src.read_text(encoding="utf-8").splitlines()[:2]
    cols = first.split(",")
    whole, _, frac = cols[-1].partition(".")
    cents = int(whole or 0) * 100 + int((frac + "00")[:2]) + 1
    cols[-1] = f"{cents // 100}.{cents % 100:02d}"
    out = src.with_name(src.stem + "-correction.csv")
    out.write_text(header + "\n" + ",".join(cols) + "\n", encoding="utf-8")
    return out.relative_to(data).as_posix()


def cpu_seconds() -> dict[str, float]:
    """The machine's CPU time so far by kind (/proc/stat): steal is time the hypervisor gave
    to other machines, iowait time spent waiting for the disk."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = os.sysconf("SC_CLK_TCK")
    return {"iowait": int(fields[4]) / ticks, "steal": int(fields[7]) / ticks}


def measure(scale: str, seed: int, pandas: bool) -> dict:
    say(f"\n== {scale} ==")
    started, cpu_before = time.perf_counter(), cpu_seconds()
    data = data_for(scale, seed)
    csv_data = csv_for(data)
    key = json.loads((data / "answer_key.json").read_text())
    result = {"scale": scale, "seed": seed, "payroll_rows": key["payroll_rows"], "workers": key["workers"],
              "purchase_lines": key["purchase_lines"]}
    say("stages in one process:")
    result["stages"] = stages(data)
    if scale == "season":
        one = one_file_for(csv_data)
        seconds, peak, out = child_rss([sys.executable, str(ROOT / "bench" / "one_file.py"), str(one)])
        result["one_file"] = {**json.loads(out), "seconds": seconds, "mib": peak,
                              "mb": (one / "inbox/payroll/payroll.csv").stat().st_size / 1e6}
        say(f"  one payroll CSV: {result['one_file']['ingest_s']:.1f} s ingest, "
            f"{result['one_file']['contract_s']:.1f} s input contract")

    work = Path(tempfile.mkdtemp(prefix="pennytrail-bench-home-"))
    try:
        # a copy of the data by hard links, so a correction can be added without touching the cache
        mirror = work / "data"
        shutil.copytree(data, mirror, copy_function=os.link)
        home = work / "home"
        cli = [sys.executable, "-m", "pennytrail.cli"]
        say(f"pennytrail close (Dagster graph, fresh process, {REPEATS[scale]} run(s) from an empty home) …")
        runs = []
        for _ in range(REPEATS[scale]):
            shutil.rmtree(home, ignore_errors=True)
            seconds, peak, _ = child_rss(cli + ["close", "--data", str(mirror), "--home", str(home)])
            runs.append((seconds, peak, dagster_steps(home, 2)))
            say(f"  {seconds:.1f} s, peak {peak:,.0f} MiB")
        (seconds, peak, steps), result["close_range"] = median_run(runs)
        result["close"] = (seconds, peak)
        result["close_steps"] = steps
        with connect(home / "pennytrail.duckdb", read_only=True) as con:
            month, rows = con.execute("SELECT month, count(*) FROM worker_audit GROUP BY 1 ORDER BY 2 DESC "
                                      "LIMIT 1").fetchone()
        seconds, peak, _ = child_rss(cli + ["report", "close", "--home", str(home), "--month", month,
                                            "--out", str(work / "close.xlsx")])
        result["workbook"] = (month, rows, seconds, peak, (work / "close.xlsx").stat().st_size)
        say(f"  close workbook {month} ({rows:,} worker rows): {seconds:.1f} s")
        seconds, peak, _ = child_rss(cli + ["close", "--data", str(mirror), "--home", str(home)])
        result["rerun"] = (seconds, peak)
        say(f"  re-run, nothing new: {seconds:.1f} s")
        fixed = correct_one_payroll_file(mirror)
        seconds, peak, _ = child_rss(cli + ["close", "--data", str(mirror), "--home", str(home)])
        steps = dagster_steps(home, 2)
        result["rerun_fix"] = (seconds, peak, fixed, steps)
        say(f"  re-run after {fixed}: {seconds:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    say("baselines (fresh processes, same data as CSV):")
    base = [sys.executable, str(ROOT / "bench" / "baselines.py")]
    for name in ["duckdb"] + (["pandas"] if pandas else []):
        runs = [child_rss(base + [name, str(csv_data)]) for _ in range(REPEATS[scale])]
        (seconds, peak, out), result[f"{name}_range"] = median_run(runs)
        result[name] = (seconds, peak, json.loads(out))
        say(f"  {name} script: " + ", ".join(f"{r[0]:.1f} s" for r in runs) + f", peak {peak:,.0f} MiB")
    cpu_after = cpu_seconds()
    result["machine"] = {"wall": time.perf_counter() - started,
                         **{k: cpu_after[k] - cpu_before[k] for k in cpu_before}}
    return result


def spread(r: tuple[float, float, int]) -> str:
    low, high, n = r
    return f"median of {n} runs ({low:.1f}–{high:.1f} s); " if n > 1 else ""


def report(results: list[dict]) -> str:
    import dagster
    import duckdb
    import pandas

    lines = [f"Machine: {platform.platform()}, {os.cpu_count()} cores, "
             f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; Python "
             f"{platform.python_version()}, DuckDB {duckdb.__version__}, pandas {pandas.__version__}, "
             f"Dagster {dagster.__version__}. Taken {time.strftime('%Y-%m-%d')} with `make bench`.", ""]
    for r in results:
        close_s, close_mib = r["close"]
        lines += [f"### {r['scale']} (seed {r['seed']}): {r['payroll_rows']:,} payroll rows, "
                  f"{r['purchase_lines']:,} purchase lines, {r['workers']:,} workers", ""]
        if "machine" in r:
            m = r["machine"]
            share = m["steal"] / m["wall"] / (os.cpu_count() or 1)
            lines += [f"While this scale was measured ({m['wall']:.0f} s), the hypervisor took {m['steal']:.0f} s of "
                      f"CPU time from the machine's {os.cpu_count()} cores ({share:.0%}) and the cores waited "
                      f"{m['iowait']:.0f} s for the disk.", ""]
        lines += [
                  "Stages in one process (peak RSS is this process's peak so far, without its contract process):", "",
                  "| stage | seconds | rows | rows/s | peak RSS MiB |", "|---|---:|---:|---:|---:|"]
        for name, seconds, rows, mib in r["stages"]:
            rate = f"{rows / seconds:,.0f}" if rows and seconds else ""
            lines.append(f"| {name} | {seconds:.2f} | {rows:,} | {rate} | {mib:,.0f} |")
        lines.append(f"| **total** | **{sum(s for _, s, _, _ in r['stages']):.1f}** | | | |")
        lines += ["", "| measure | seconds | peak RSS MiB | note |", "|---|---:|---:|---|",
                  f"| `pennytrail close` (Dagster graph, all months) | {close_s:.1f} | {close_mib:,.0f} | "
                  + spread(r["close_range"])
                  + ", ".join(f"{step} {s:.1f} s" for _, step, s in r["close_steps"] if s >= 0.5) + " |"]
        month, rows, seconds, mib, size = r["workbook"]
        lines.append(f"| close workbook, {month} ({rows:,} worker rows) | {seconds:.1f} | {mib:,.0f} | "
                     f"{size / 2**20:.1f} MiB file |")
        lines.append(f"| re-run, nothing new | {r['rerun'][0]:.1f} | {r['rerun'][1]:,.0f} | |")
        s, mib, fixed, steps = r["rerun_fix"]
        lines.append(f"| re-run after one corrected payroll file | {s:.1f} | {mib:,.0f} | "
                     + ", ".join(f"{step} {x:.1f} s" for _, step, x in steps if x >= 0.5) + " |")
        if "one_file" in r:
            o = r["one_file"]
            lines.append(f"| one payroll CSV, {o['rows']:,} rows ({o['mb']:.0f} MB): ingest with row checks, "
                         f"commit and checkpoint | {o['ingest_s']:.1f} | {o['mib']:,.0f} | input contract (GX) "
                         f"{o['contract_s']:.1f} s more; process {o['seconds']:.1f} s with imports |")
        d_s, d_mib, d_out = r["duckdb"]
        lines.append(f"| plain DuckDB script (lower bound) | {d_s:.1f} | {d_mib:,.0f} | "
                     f"{spread(r['duckdb_range'])}pennytrail close = {close_s / d_s:.1f}× this; "
                     f"{d_out['worker_audit']:,} audit rows |")
        if "pandas" in r:
            p_s, p_mib, p_out = r["pandas"]
            lines.append(f"| pandas script | {p_s:.1f} | {p_mib:,.0f} | {spread(r['pandas_range'])}"
                         f"pennytrail close = {close_s / p_s:.2f}× this; {p_out['worker_audit']:,} audit rows |")
        lines.append("")
    return "\n".join(lines)


def _sections(block: str) -> tuple[str, dict[str, str]]:
    """A figures block as its heading lines and its sections by scale (``### season …``)."""
    head, *parts = block.split("\n### ")
    return head, {part.split(" ", 1)[0]: "### " + part.rstrip("\n") for part in parts}


def write(text: str, scales: list[str]) -> None:
    """Put ``text`` between the markers; a scale this run did not measure keeps its section."""
    doc = PERF.read_text(encoding="utf-8")
    if START in doc and END in doc:
        before, rest = doc.split(START, 1)
        old, after = rest.split(END, 1)
        head, new = _sections(text)
        _, kept = _sections(old.strip("\n"))
        merged = {**{k: v for k, v in kept.items() if k not in scales}, **new}
        order = ["demo", "season", "national"]
        text = head.rstrip("\n") + "\n\n" + "\n\n".join(merged[k] for k in order if k in merged) + "\n"
        if any(k not in scales for k in merged):
            text = text.replace("with `make bench`.", "with `make bench`; " + ", ".join(
                k for k in order if k in merged and k not in scales) + " kept from an earlier run.", 1)
        doc = f"{before}{START}\n{text}\n{END}{after}"
    else:
        doc += f"\n{START}\n{text}\n{END}\n"
    PERF.write_text(doc, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", action="append", choices=["demo", "season", "national"],
                        help="scale(s) to measure (default: season and national)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas script")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md alone")
    args = parser.parse_args()
    say(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    scales = args.scale or ["season", "national"]
    results = [measure(scale, args.seed, not args.no_pandas) for scale in scales]
    text = report(results)
    say("\n" + text)
    if not args.no_write:
        write(text, scales)
        say(f"written to {PERF.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
