"""`make demo` twice: the second run changes no file of the home (beyond Dagster's own storage),
and `make ui` stops every process it started."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from pennytrail.core.paths import party_folder


def _hashes(home: Path) -> dict[str, str]:
    out = {}
    for p in sorted(home.rglob("*")):
        rel = p.relative_to(home)
        # Dagster's storage, logs, lock files and SQLite's shared-memory index are not content
        if (not p.is_file() or rel.parts[0] == "dagster" or p.suffix == ".log" or p.name == ".lock"
                or p.name.endswith("-shm")):
            continue
        out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "PENNYTRAIL_"))}


def test_demo_runs_end_to_end_and_a_second_demo_changes_no_file(tmp_path):
    home = tmp_path / "home"
    cmd = [sys.executable, "-m", "pennytrail.cli", "demo", "--home", str(home)]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=CLEAN_ENV)
    assert first.returncode == 0, first.stderr
    assert "exceptions by code" in first.stdout and "Nothing new" not in first.stdout
    before = _hashes(home)
    assert any(k.startswith("confirmations/") and k.endswith(".pdf") for k in before)
    assert any(k.startswith("reports/close-") for k in before) and "pennytrail.duckdb" in before
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=CLEAN_ENV)
    assert second.returncode == 0 and "Nothing new" in second.stdout, second.stderr
    after = _hashes(home)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, changed
    runs = dg.DagsterInstance.from_config(str(home / "dagster")).get_runs()
    # the first demo: ingest_and_reconcile, publish_month and reports_for_month, once each; the
    # second closes as `close` does, so with nothing changed it runs only reports_for_month
    assert sorted(r.job_name for r in runs) == ["ingest_and_reconcile", "publish_month", "reports_for_month",
                                                "reports_for_month"]
    for month in ("2026-01", "2026-02", "2026-03"):  # the demo writes the month's reports
        assert (home / "reports" / f"close-{month}.xlsx").exists()
        for buyer in ("B01", "B02", "B03"):
            assert (party_folder(home / "confirmations", buyer) / f"confirmation-{month}-v1.json").exists()
            assert not (party_folder(home / "confirmations", buyer) / f"confirmation-{month}-v2.json").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _processes_of(marker: str) -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            if marker.encode() in (d / "environ").read_bytes():
                found.append(int(d.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the UI's processes")
def test_ui_stops_every_process_it_started(tmp_path):
    home = tmp_path / "ui-home"
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.ui", "--home", str(home), "--port", str(port)],
                            env=CLEAN_ENV,
                            cwd=Path(__file__).parents[1], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail("the Dagster UI did not start")
        marker = f"PENNYTRAIL_HOME={home.resolve()}"
        assert len(_processes_of(marker)) >= 2  # the launcher, dagster dev and its processes
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while _processes_of(marker) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _processes_of(marker)
    finally:
        if proc.poll() is None:
            proc.kill()
