"""The close of two versions of pennytrail side by side, on the same data, runs interleaved.

    python bench/close_ab.py REV [--scale season] [--rounds 3]

Version A is the git revision REV of this repository (unpacked into a temporary folder with
``git archive``), version B the working tree. Each round runs A then B, or B then A (the order
alternates, A/B, B/A, …), each as a fresh process over an empty home with the data generated
once into ``bench/.cache/`` (as ``bench/run.py`` does): the first close, then a re-run with
nothing new. Each version runs with its own code on ``sys.path`` and this virtualenv's
libraries. On a shared machine the load changes over minutes, so interleaving is what makes the
two comparable; the figures of every run are printed, then the medians. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import data_for  # noqa: E402


def unpack(rev: str, into: Path) -> Path:
    archive = into / "a.tar"
    with archive.open("wb") as f:
        subprocess.run(["git", "-C", str(ROOT), "archive", rev], stdout=f, check=True)
    with tarfile.open(archive) as t:
        t.extractall(into / "A", filter="data")
    return into / "A"


def timed_close(tree: Path, data: Path, home: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pennytrail.cli", "close", "--data", str(data), "--home", str(home)],
                          cwd=tree, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"close failed in {tree}: {done.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rev", help="the git revision to compare the working tree with (version A)")
    parser.add_argument("--scale", default="season", choices=["demo", "season", "national"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = data_for(args.scale, args.seed)
    work = Path(tempfile.mkdtemp(prefix="pennytrail-ab-"))
    try:
        trees = {"A": unpack(args.rev, work), "B": ROOT}
        mirror = work / "data"
        shutil.copytree(data, mirror, copy_function=os.link)
        runs: dict[str, list[tuple[float, float]]] = {"A": [], "B": []}
        print(f"{args.scale} (seed {args.seed}); A = {args.rev}, B = the working tree; {args.rounds} rounds", flush=True)
        for r in range(args.rounds):
            for name in ("AB" if r % 2 == 0 else "BA"):
                home = work / f"home-{name}"
                shutil.rmtree(home, ignore_errors=True)
                first = timed_close(trees[name], mirror, home)
                again = timed_close(trees[name], mirror, home)
                runs[name].append((first, again))
                load = os.getloadavg()[0]
                print(f"  round {r + 1} {name}: close {first:5.1f} s, re-run with nothing new {again:4.1f} s "
                      f"(load {load:.1f})", flush=True)
        print("medians:")
        for name in "AB":
            firsts, agains = zip(*runs[name])
            print(f"  {name}: close {statistics.median(firsts):5.1f} s ({min(firsts):.1f}–{max(firsts):.1f}), "
                  f"re-run {statistics.median(agains):4.1f} s ({min(agains):.1f}–{max(agains):.1f})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
