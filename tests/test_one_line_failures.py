"""Every failure of every command is one line on stderr and a non-zero exit; the details go to
the home's log, and the line says where. A busy home says whose close is running; a close
reports success only when the warehouse file holds its result."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pennytrail import cli
from pennytrail.core import homelock, warehouse

from .conftest import write

ROOT = Path(__file__).resolve().parents[1]


def failure_line(err: str) -> str:
    """The one failure line of a command's stderr (progress lines may come before it)."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err and "STEP_FAILURE" not in err and " - dagster - " not in err, err
    failing = [ln for ln in lines if ln.startswith("pennytrail:")]
    assert len(failing) == 1 and failing[0] == lines[-1], err
    return failing[0]


def contradiction(data: Path) -> None:
    with (data / "reference/rates.csv").open("a") as f:
        f.write("FFP,tomatoes,0.02,lb,2025-01-01,\n")


def test_a_reference_contradiction_is_one_line_and_its_details_are_logged(data_dir, tmp_path, capsys):
    contradiction(data_dir)
    home = tmp_path / "home"
    assert cli.main(["close", "--data", str(data_dir), "--home", str(home)]) == 1
    line = failure_line(capsys.readouterr().err)
    assert "rates.csv row 4, effective_from" in line and "details: " in line
    log = (home / "logs/pennytrail.log").read_text()
    assert "rates.csv row 4" in log and "Traceback" in log or "File " in log


def test_usage_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["close", "--data"])
    assert e.value.code == 2
    line = failure_line(capsys.readouterr().err)
    assert "--data" in line and "--help" in line


@pytest.mark.parametrize("command", [["summary"], ["trace", "worker", "W1"], ["report", "close", "--month", "2026-01"],
                                     ["confirm", "--buyer", "B1", "--month", "2026-01"],
                                     ["signoff", "--month", "2026-01", "--by", "A"]])
def test_a_damaged_warehouse_is_one_line_for_every_command(tmp_path, capsys, command):
    home = tmp_path / "home"
    home.mkdir()
    (home / "pennytrail.duckdb").write_bytes(b"this is not a warehouse" * 1000)
    args = command[:1] + ["--home", str(home)] + command[1:]
    assert cli.main(args) == 1
    line = failure_line(capsys.readouterr().err)
    assert "cannot be read" in line and "restore it" in line


def test_a_second_close_on_a_busy_home_says_whose_close_is_running(data_dir, tmp_path, capsys):
    home = tmp_path / "home"
    with homelock.hold(home):
        assert cli.main(["close", "--data", str(data_dir), "--home", str(home)]) == 1
        line = failure_line(capsys.readouterr().err)
        assert line == f"pennytrail: a close is running (pid {os.getpid()}) on {home}: wait for it to finish"
        for command in (["summary"], ["trace", "worker", "W1"], ["signoff", "--month", "2026-01", "--by", "A"]):
            assert cli.main(command[:1] + ["--home", str(home)] + command[1:]) == 1
            assert "a close is running" in failure_line(capsys.readouterr().err)
    assert homelock.running(home) is None  # released when the close ends


def test_the_lock_names_the_running_process_and_dies_with_it(tmp_path):
    home = tmp_path / "home"
    code = ("import sys, time; from pathlib import Path; from pennytrail.core import homelock\n"
            "with homelock.hold(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(home)], stdout=subprocess.PIPE, cwd=ROOT, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        assert homelock.running(home) == proc.pid
    finally:
        proc.kill()
        proc.wait()
    assert homelock.running(home) is None  # a killed close leaves no stale lock


def test_a_failed_final_checkpoint_is_a_failure_not_a_success(demo_data, tmp_path, capsys, monkeypatch):
    """Disk full when the close writes the warehouse file at its end: the close must not say it
    closed; the committed stages stay in the write-ahead log, and the next close completes."""
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    home = tmp_path / "home"
    real_checkpoint = warehouse.checkpoint
    ended = []

    def full_disk(con):
        if ended:
            raise duckdb.IOException("Could not write file \"pennytrail.duckdb\": No space left on device")
        real_checkpoint(con)
    monkeypatch.setattr(warehouse, "checkpoint", full_disk)
    real_set_meta = warehouse.set_meta  # the close's token is its last write before the warehouse is written

    def set_meta(con, key, value):
        if key == "last_close_token":
            ended.append(1)
        return real_set_meta(con, key, value)
    monkeypatch.setattr(warehouse, "set_meta", set_meta)
    assert cli.main(["close", "--data", str(data), "--home", str(home)]) == 1
    err = capsys.readouterr().err
    assert "closed" not in err and "disk is full" in failure_line(err)
    monkeypatch.setattr(warehouse, "checkpoint", real_checkpoint)
    monkeypatch.setattr(warehouse, "set_meta", real_set_meta)
    # the committed stages were in the write-ahead log: the next close finds them all
    assert cli.main(["close", "--data", str(data), "--home", str(home)]) == 0
    assert "files: " in capsys.readouterr().out


def test_a_warehouse_that_does_not_hold_the_result_is_reported(tmp_path):
    db = tmp_path / "w.duckdb"
    with warehouse.connect(db) as con:
        warehouse.set_meta(con, "last_close_token", "old")
    with pytest.raises(warehouse.NotWritten):
        warehouse.verify_written(db, "last_close_token", "new")
    warehouse.verify_written(db, "last_close_token", "old")


def test_a_read_only_home_is_one_line(data_dir, tmp_path):
    """A home the command cannot write: made read-only by its mode, or (root writes anywhere)
    by mounting it read-only."""
    home = tmp_path / "home"
    home.mkdir()
    mounted = False
    if os.geteuid() == 0:
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(home)],
                          capture_output=True).returncode != 0:
            pytest.skip("running as root, and this machine does not allow a read-only mount")
        mounted = True
    else:
        os.chmod(home, 0o555)
    try:
        done = subprocess.run([sys.executable, "-m", "pennytrail.cli", "close", "--data", str(data_dir),
                               "--home", str(home)], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 1
        line = failure_line(done.stderr)
        assert "cannot write" in line and str(home) in line
    finally:
        if mounted:
            subprocess.run(["umount", str(home)])
        else:
            os.chmod(home, 0o755)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="mounting a small disk needs root")
def test_a_full_disk_is_one_line(demo_data, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(home)]).returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        done = subprocess.run([sys.executable, "-m", "pennytrail.cli", "close", "--data", str(demo_data),
                               "--home", str(home)], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 1 and "closed" not in done.stderr
        line = failure_line(done.stderr)
        assert "disk is full" in line or "No space left" in line
    finally:
        subprocess.run(["umount", str(home)])


def test_an_unexpected_error_is_one_line_with_its_traceback_logged(tmp_path, capsys, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setattr(cli.app, "summary", lambda h: 1 / 0)
    assert cli.main(["summary", "--home", str(home)]) == 1
    line = failure_line(capsys.readouterr().err)
    assert "unexpected error (ZeroDivisionError" in line and str(home / "logs/pennytrail.log") in line
    assert "ZeroDivisionError" in (home / "logs/pennytrail.log").read_text()


def test_the_command_itself_prints_one_line(data_dir, tmp_path):
    contradiction(data_dir)
    write(data_dir / "inbox/payroll/x.csv", "a\n1\n")
    done = subprocess.run([sys.executable, "-m", "pennytrail.cli", "close", "--data", str(data_dir),
                           "--home", str(tmp_path / "home")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and "rates.csv row 4" in failure_line(done.stderr)
