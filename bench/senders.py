"""The close with senders' own layouts (SPEC §3b), side by side with the close before them.

One `season` program (seed 1), each close from an empty home, configurations in turns (A/B
interleaved, since the machine is shared), several rounds:
- before: the close as it stood before mapping profiles (a source tree given by --before), over
  the program with every file in §3's layout;
- now, no mapped files: this tree over the same data;
- now, a third of payroll mapped: this tree over the same program with every third payroll
  grower sending its own layout (ADP-style pairs, Datatech-style lines, a payroll journal, a
  Spanish workbook in turn) and a profile for each.

Prints a table of wall times and writes nothing else; docs/performance.md records the figures.
Usage: python bench/senders.py --before /path/to/old/tree [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache" / "senders"
SHAPES = ("pairs", "lines", "report", "spanish")


def third_of_payroll(seed: int = 1) -> dict[str, str]:
    """Every third payroll grower of the season, with a shape in turn."""
    from pennytrail.generator import SCALES

    scale = SCALES["season"]
    growers = [f"T{i + 1:03d}" for i in range(scale.tomato_growers)] + [f"T9{i:02d}" for i in range(1, 5)] \
        + [f"D{i + 1:03d}" for i in range(scale.dairy_growers)]
    return {g: SHAPES[i % len(SHAPES)] for i, g in enumerate(growers[::3])}


def data(name: str, senders: dict[str, str]) -> Path:
    from pennytrail.generator import generate

    out = CACHE / name
    if not (out / "answer_key.json").exists():
        shutil.rmtree(out, ignore_errors=True)
        t = time.perf_counter()
        generate(out, seed=1, scale="season", senders=senders)
        print(f"generated {name} in {time.perf_counter() - t:.0f} s", flush=True)
    return out


def close(tree: Path, data_dir: Path) -> float:
    home = Path(tempfile.mkdtemp(prefix="bench-senders-"))
    env = {**os.environ, "PYTHONPATH": str(tree), "GX_ANALYTICS_ENABLED": "False"}
    start = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-c", "from pennytrail.cli import run; run()", "close", "--data", str(data_dir),
                        "--home", str(home)], cwd=tree, env=env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, type=Path, help="source tree of the close before mapping profiles")
    ap.add_argument("--now", type=Path, default=ROOT, help="source tree of this close (default this one; a copy "
                    "outside the project folder runs with the same working folder conditions as --before)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only-plain", action="store_true", help="leave out the close with a third of payroll mapped")
    args = ap.parse_args()
    plain = data("plain", {})
    mapped = data("third-mapped", third_of_payroll())
    runs = [("before, no mapped files", args.before, plain), ("now, no mapped files", args.now, plain),
            ("now, a third of payroll mapped", args.now, mapped)][:2 if args.only_plain else 3]
    times: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    for r in range(args.rounds):
        for name, tree, d in (runs if r % 2 == 0 else runs[::-1]):
            times[name].append(close(tree, d))
            print(f"round {r + 1}: {name}: {times[name][-1]:.1f} s", flush=True)
    base = statistics.median(times[runs[0][0]])
    print("\n| close | " + " | ".join(f"round {i + 1}" for i in range(args.rounds)) + " | median |")
    print("|---|" + "---|" * (args.rounds + 1))
    for name, _, _ in runs:
        m = statistics.median(times[name])
        print(f"| {name} | " + " | ".join(f"{t:.1f} s" for t in times[name])
              + f" | {m:.1f} s ({(m / base - 1) * 100:+.0f}%) |")


if __name__ == "__main__":
    main()
