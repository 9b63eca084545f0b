"""Crash safety by fault injection: a close ended hard at each named point, then run again,
gives the tables of a close that never crashed; and ``transaction()`` is all or nothing.

A crash is injected with ``PENNYTRAIL_CRASH_AT`` (``pennytrail.core.faults``): the process ends
with ``os._exit`` at that point, with no rollback and no checkpoint. Its exit code proves the
point was reached; a test whose point is never reached fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from pennytrail.cli import main
from pennytrail.core import faults
from pennytrail.core.warehouse import transaction

from .test_end_to_end import snapshot

REPO = Path(__file__).resolve().parent.parent


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a command in a session of its own; whatever it leaves behind (the contract process
    of a close that was ended hard) is ended with it."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, **(env or {})}, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=600)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def close_cmd(data: Path, home: Path) -> list[str]:
    return [sys.executable, "-m", "pennytrail.cli", "close", "--data", str(data), "--home", str(home)]


def published_rows(home: Path) -> int:
    with duckdb.connect(str(home / "pennytrail.duckdb")) as con:  # replays the log, as the next close would
        return con.execute("SELECT count(*) FROM worker_audit").fetchone()[0]


# what the warehouse holds right after a crash at each point (worker_audit rows published)
PUBLISHED_AFTER = {"publish.written": 0, "publish.committed": 42, "checkpoint": 42, "reconcile.committed": 0}


@pytest.mark.parametrize("point", faults.POINTS)
def test_a_close_ended_hard_at_a_point_then_run_again_equals_a_clean_close(boundary_home, tmp_path, point):
    data = tmp_path / "data"
    shutil.copytree(boundary_home / "data", data)
    home = tmp_path / "home"
    crashed = run(close_cmd(data, home), env={"PENNYTRAIL_CRASH_AT": point})
    assert crashed.returncode == faults.CRASH_EXIT, (
        f"the close never reached the point {point} (exit {crashed.returncode}): {crashed.stderr[-2000:]}")
    assert f"crash injected at {point}" in crashed.stderr
    if point in PUBLISHED_AFTER:
        assert published_rows(home) == PUBLISHED_AFTER[point]
    assert main(["close", "--data", str(data), "--home", str(home)]) == 0  # the next close, in process
    assert snapshot(home) == snapshot(boundary_home)


def test_every_crash_point_is_tested_and_named_in_the_code():
    core = REPO / "pennytrail" / "core"
    text = "".join(p.read_text(encoding="utf-8") for p in core.glob("*.py") if p.name != "faults.py")
    for name in faults.POINTS:
        assert text.count(f'faults.point("{name}")') == 1, name


def test_transaction__an_error_inside_leaves_nothing(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
        con.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(RuntimeError):
            with transaction(con):
                con.execute("INSERT INTO t VALUES (2)")
                con.execute("DELETE FROM t WHERE x = 1")
                raise RuntimeError("stop")
        assert con.execute("SELECT list(x) FROM t").fetchone()[0] == [1]
        with transaction(con):
            con.execute("INSERT INTO t VALUES (3)")
        assert con.execute("SELECT list(x ORDER BY x) FROM t").fetchone()[0] == [1, 3]


@pytest.mark.parametrize("commit, want", [(False, [1]), (True, [1, 2])])
def test_transaction__a_process_ended_hard_inside_leaves_nothing_after_commit_everything(tmp_path, commit, want):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
        con.execute("INSERT INTO t VALUES (1)")
    script = textwrap.dedent(f"""
        import os, duckdb
        from pennytrail.core.warehouse import transaction
        con = duckdb.connect({str(path)!r})
        con.execute("SET checkpoint_threshold = '1GB'")
        with transaction(con):
            con.execute("INSERT INTO t VALUES (2)")
            if not {commit}:
                os._exit(9)
        os._exit(7)
    """)
    ended = run([sys.executable, "-c", script])
    assert ended.returncode == (7 if commit else 9), ended.stderr
    with duckdb.connect(str(path)) as con:
        assert con.execute("SELECT list(x ORDER BY x) FROM t").fetchone()[0] == want
