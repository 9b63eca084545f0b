"""`make ui`: the Dagster UI over the home, stopped cleanly.

`dagster dev` runs the web server, the daemon and a code server as processes of its own. Run
straight from `make`, a Ctrl-C reaches all of them at once and some are left behind. Here
`dagster dev` runs in a process group of its own; a Ctrl-C (or a SIGTERM) is passed to it once,
it is given ``GRACE_S`` seconds to stop its processes, and whatever of the group is still running
then is killed.

Example: ``python -m pipelines.ui --home .pennytrail``
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

GRACE_S = 15


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.ui", description=__doc__.splitlines()[0])
    parser.add_argument("--home", default=".pennytrail", help="home folder (default .pennytrail)")
    parser.add_argument("--port", default="3000")
    args = parser.parse_args(argv)
    home = Path(args.home).resolve()
    (home / "dagster").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DAGSTER_HOME": str(home / "dagster"), "PENNYTRAIL_HOME": str(home),
           "PENNYTRAIL_DATA": str(home / "data")}
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.Popen([str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", args.port],
                            env=env, start_new_session=True)
    stopping = []

    def stop(signum, _frame) -> None:
        if not stopping:
            stopping.append(time.monotonic())
            try:
                os.killpg(proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while True:
        try:
            code = proc.wait(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            if stopping and time.monotonic() - stopping[0] > GRACE_S:
                os.killpg(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + GRACE_S
    while _group_alive(proc.pid) and time.monotonic() < deadline:  # its children, after it ended
        time.sleep(0.2)
    if _group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)
    return 0 if stopping else code


if __name__ == "__main__":
    sys.exit(main())
