"""A close started from the portal: its one line of result read from its log, a second start
refused while one runs, and a run whose process ended unseen settled from its log. (The real
close from the portal is in tests/portal/test_calendar_pages.py.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

from pennytrail.app import close_runs


def test_the_result_line_of_a_completed_a_failed_and_a_silent_close(tmp_path):
    log = tmp_path / "close.log"
    log.write_text("--- started\nread 3 files\nclosed 4 month(s) in 30.8 s\nfiles: 12\n")
    assert close_runs.result_line(log, 0) == "closed 4 month(s) in 30.8 s"
    log.write_text("--- started\npennytrail: the close did not complete: no reference data: x does not exist "
                   "(details: HOME/logs/pennytrail.log)\n")
    assert close_runs.result_line(log, 1).startswith("the close did not complete: no reference data")
    log.write_text("--- started\n")
    assert close_runs.result_line(log, -15) == "the close ended with exit status -15"
    assert close_runs.result_line(tmp_path / "gone.log", 0) == "its log could not be read"


def test_a_second_start_is_refused_and_a_run_that_ended_unseen_is_settled_from_its_log(tmp_path, monkeypatch):
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    data.mkdir()  # no reference data: the close fails at once, with its one line
    run = close_runs.start(home, data, "ana@example.org")
    assert run.running and run.started_by == "ana@example.org"
    with pytest.raises(close_runs.AlreadyRunning, match="started by ana@example.org at"):
        close_runs.start(home, data, "ben@example.org")
    done = close_runs.wait(home, run.id, timeout=120)
    assert (done.state, done.exit_code) == ("failed", 1)
    assert done.result.startswith("the close did not complete: no reference data")
    # a run whose process is gone and that no thread of this process waits for
    child = subprocess.Popen([sys.executable, "-c", "print('closed 1 month(s) in 1.0 s')"],
                             stdout=open(tmp_path / "other.log", "wb"))
    child.wait()
    with close_runs._connect(home) as con:
        other = con.execute("INSERT INTO close_runs (started_by, started_at, pid, log) VALUES (?, ?, ?, ?)",
                            ["ben@example.org", "2026-01-01 00:00:00 UTC", child.pid,
                             str(tmp_path / "other.log")]).lastrowid
    settled = next(r for r in close_runs.runs(home) if r.id == other)
    assert (settled.state, settled.exit_code) == ("ended", None)
    assert settled.result == "closed 1 month(s) in 1.0 s (its end was not seen by the portal)"


def test_a_page_read_while_a_close_starts_does_not_settle_it(tmp_path, monkeypatch):
    """A run is recorded before its process exists; a page read in that moment (another request's
    thread) waits for the start instead of settling the run as ended."""
    import threading

    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    data.mkdir()
    seen: dict = {}
    real = subprocess.Popen

    def popen(args, **kw):
        reader = threading.Thread(target=lambda: seen.setdefault("runs", close_runs.runs(home)))
        reader.start()
        reader.join(1.0)  # the page is read while the close is being started
        seen["reader"] = reader
        return real([sys.executable, "-c", "import time; time.sleep(3)"], **kw)

    monkeypatch.setattr(close_runs.subprocess, "Popen", popen)
    run = close_runs.start(home, data, "ana@example.org")
    seen["reader"].join(30)
    assert run.running and [r.state for r in seen["runs"]] == ["running"]
    assert close_runs.wait(home, run.id, timeout=60).exit_code == 0
