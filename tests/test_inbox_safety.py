"""What a close opens, and what it leaves when it fails (issue 29, files): a name that is not text,
entries that are not regular files (links, pipes, devices, sockets, folders named like files),
a file that changes while it is read, a snapshot that cannot be written, and the modes of what
the home holds. Each is one named rejection, never a read outside the inbox, and never a stopped
close."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import socket
import stat

import duckdb
import pytest

from pennytrail.core import infiles
from pennytrail.core import ingest as ingest_module

from .conftest import write
from .test_ingest_bad_input import GOOD_PAYROLL, PAYROLL_HEADER, run

BODY = PAYROLL_HEADER + "\n" + GOOD_PAYROLL + "\n"
# what a link may point to: a file that reads as a good payroll file, so that following it shows
SECRET_ROW = GOOD_PAYROLL.replace("W1", "SECRET").replace("Ana Cruz", "Private Key Holder")


@pytest.fixture
def inbox(data_dir):
    """The data folder with one good payroll file that loads whatever lies beside it."""
    write(data_dir / "inbox/payroll/good.csv", PAYROLL_HEADER + "\n" + GOOD_PAYROLL.replace("W1", "GOOD") + "\n")
    return data_dir


@pytest.fixture
def secret(tmp_path):
    """A file outside the data folder (a signing key, a portal secret): never to be read."""
    path = tmp_path / "outside" / "secret.csv"
    write(path, PAYROLL_HEADER + "\n" + SECRET_ROW + "\n")
    return path


def logged(data_dir):
    """(ingest_log rows by file, quarantine rows by file, accepted payroll worker ids) after an ingest."""
    with duckdb.connect(str(data_dir.parent / "wh.duckdb"), read_only=True) as con:
        log = con.execute("SELECT file, status, sha256, rows_read FROM ingest_log ORDER BY seq").fetchall()
        q = con.execute("SELECT file, code, message, raw, sha256 FROM quarantine ORDER BY file").fetchall()
        workers = [r[0] for r in con.execute("SELECT worker_id FROM payroll_rows").fetchall()]
    return log, q, workers


def one_rejection(data_dir, rel: str, code: str) -> str:
    """The single ingest_log row and the single quarantine row of ``rel``: rejected with ``code``;
    the good file beside it loaded. The message."""
    log, q, workers = logged(data_dir)
    rows = [r for r in log if r[0] == rel]
    assert [r[1] for r in rows] == ["rejected"], log
    assert "GOOD" in workers
    mine = [r for r in q if r[0] == rel]
    assert [r[1] for r in mine] == [code], q
    return mine[0][2]


# -- names that are not text ---------------------------------------------------------------------

def test_a_file_name_that_is_not_utf8_is_one_named_rejection(inbox):
    folder = os.fsencode(inbox / "inbox/payroll")
    with open(os.path.join(folder, b"march\xff.csv"), "wb") as f:
        f.write(BODY.encode())
    run(inbox)
    message = one_rejection(inbox, "inbox/payroll/march\\xff.csv", "BAD_FILE_NAME")
    assert "march\\xff.csv" in message and "rename" in message
    run(inbox)  # the next ingest adds nothing for it
    assert len([r for r in logged(inbox)[0] if "march" in r[0]]) == 1


def test_a_folder_whose_name_is_not_utf8_is_one_rejection(inbox):
    folder = os.path.join(os.fsencode(inbox / "inbox/payroll"), b"T\xe9")
    os.mkdir(folder)
    with open(os.path.join(folder, b"a.csv"), "wb") as f:
        f.write(BODY.encode())
    run(inbox)
    one_rejection(inbox, "inbox/payroll/T\\xe9", "BAD_FILE_NAME")


# -- entries that are not regular files ----------------------------------------------------------

def _not_read(data_dir, secret_path):
    """Nothing of ``secret_path`` reached the warehouse: not its rows, its words or its SHA-256."""
    digest = hashlib.sha256(secret_path.read_bytes()).hexdigest()
    log, q, workers = logged(data_dir)
    assert "SECRET" not in workers
    assert all(digest != r[2] for r in log) and all(digest != r[4] for r in q)
    assert not any("Private Key Holder" in (r[2] or "") + (r[3] or "") for r in q)


@pytest.mark.parametrize("target", ["secret", "/etc/passwd", "missing", "loop"])
def test_a_symbolic_link_is_one_rejection_never_followed_or_hashed(inbox, secret, target):
    link = inbox / "inbox/payroll/link.csv"
    os.symlink({"secret": str(secret), "missing": str(secret) + ".gone", "loop": "link.csv"}.get(target, target),
               link)
    run(inbox)
    message = one_rejection(inbox, "inbox/payroll/link.csv", "NOT_A_FILE")
    assert "symbolic link" in message and "root:" not in message
    assert [r[2] for r in logged(inbox)[0] if r[0].endswith("link.csv")] == ["unread:symlink"]
    _not_read(inbox, secret)
    run(inbox)  # one row, not one a close
    assert len([r for r in logged(inbox)[0] if r[0].endswith("link.csv")]) == 1


def test_a_linked_folder_is_one_rejection_and_not_entered(inbox, secret):
    os.symlink(secret.parent, inbox / "inbox/payroll/linked")
    os.symlink(secret.parent, inbox / "inbox/sales")
    os.symlink("..", inbox / "inbox/payroll/up")  # a loop of folders
    run(inbox)
    for rel in ("inbox/payroll/linked", "inbox/sales", "inbox/payroll/up"):
        assert "symbolic link" in one_rejection(inbox, rel, "NOT_A_FILE")
    _not_read(inbox, secret)
    assert len(logged(inbox)[0]) == 4


def test_a_linked_inbox_is_not_entered(data_dir, secret):
    os.rmdir(data_dir / "inbox")
    (secret.parent / "payroll").mkdir()
    shutil.copy(secret, secret.parent / "payroll" / "p.csv")
    os.symlink(secret.parent, data_dir / "inbox")
    run(data_dir)
    log, q, workers = logged(data_dir)
    assert [(r[0], r[1]) for r in log] == [("inbox", "rejected")] and q[0][1] == "NOT_A_FILE" and not workers


def test_a_named_pipe_is_rejected_without_waiting_for_a_writer(inbox):
    os.mkfifo(inbox / "inbox/payroll/pipe.csv")
    run(inbox)
    assert "named pipe" in one_rejection(inbox, "inbox/payroll/pipe.csv", "NOT_A_FILE")


def test_a_device_is_rejected(inbox):
    try:
        os.mknod(inbox / "inbox/payroll/null.csv", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device needs root")
    run(inbox)
    assert "a device" in one_rejection(inbox, "inbox/payroll/null.csv", "NOT_A_FILE")


def test_a_socket_is_rejected(inbox, tmp_path):
    here = os.getcwd()
    os.chdir(inbox / "inbox/payroll")  # a socket's path is short; bound relative to its folder
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind("sock.csv")
    finally:
        os.chdir(here)
    try:
        run(inbox)
    finally:
        s.close()
    assert "a socket" in one_rejection(inbox, "inbox/payroll/sock.csv", "NOT_A_FILE")


def test_a_folder_named_like_a_file_is_named_and_its_files_read(inbox):
    write(inbox / "inbox/payroll/x.csv/inner.csv", BODY)
    run(inbox)
    assert "a folder named like a file" in one_rejection(inbox, "inbox/payroll/x.csv", "NOT_A_FILE")
    assert ("inbox/payroll/x.csv/inner.csv", "loaded") in [(r[0], r[1]) for r in logged(inbox)[0]]


def test_a_file_swapped_for_a_link_after_it_was_listed_is_not_followed(inbox, secret, monkeypatch):
    """The race: the inbox is listed, then a file is replaced by a link before it is hashed."""
    path = write(inbox / "inbox/payroll/p.csv", BODY)
    walk = infiles.walk

    def swap(data_dir):
        found = walk(data_dir)
        path.unlink()
        os.symlink(secret, path)
        return found
    monkeypatch.setattr(infiles, "walk", swap)
    run(inbox)
    assert "symbolic link" in one_rejection(inbox, "inbox/payroll/p.csv", "NOT_A_FILE")
    _not_read(inbox, secret)


def test_a_reference_file_that_is_a_link_is_not_read(inbox, secret):
    from pennytrail.core.reference import ReferenceDataError, load_reference

    target = inbox / "reference/units.csv"
    shutil.copy(target, secret.parent / "units.csv")
    target.unlink()
    os.symlink(secret.parent / "units.csv", target)
    with pytest.raises(ReferenceDataError) as e:
        load_reference(inbox)
    assert "symbolic link" in str(e.value)


def test_the_fingerprint_never_hashes_what_a_link_points_to(inbox, secret, monkeypatch):
    from pennytrail.core import changes

    os.symlink(secret, inbox / "inbox/payroll/link.csv")
    os.symlink(secret, inbox / "reference/extra.csv")
    read = []
    real = infiles.hash_regular
    monkeypatch.setattr(infiles, "hash_regular", lambda p, *a: (read.append(os.fspath(p)), real(p, *a))[1])
    monkeypatch.setattr(changes, "hash_regular", infiles.hash_regular)
    monkeypatch.setattr(ingest_module, "_hashed", {})
    before = changes.fingerprint(inbox, None)
    assert not any("link" in p or "extra" in p for p in read)
    os.unlink(inbox / "inbox/payroll/link.csv")
    assert changes.fingerprint(inbox, None) != before  # a link coming or going is a change


# -- a file that changes while it is read --------------------------------------------------------

def test_the_hash_logged_is_of_the_bytes_parsed_and_a_file_changed_meanwhile_is_read_next_time(inbox, monkeypatch):
    """The file is hashed (version 1), then rewritten before it is read (version 2): it is
    rejected for this ingest under a hash of no content; the next ingest loads version 2; and
    version 1 sent again is new, not "already seen"."""
    path = write(inbox / "inbox/payroll/p.csv", BODY)
    v1 = path.read_bytes()
    v2 = (PAYROLL_HEADER + "\n" + GOOD_PAYROLL.replace("W1", "V2") + "\n").encode()
    hash_files = ingest_module.hash_files

    def then_rewrite(paths, *args):
        shas = hash_files(paths, *args)
        path.write_bytes(v2)
        return shas
    monkeypatch.setattr(ingest_module, "hash_files", then_rewrite)
    monkeypatch.setattr(ingest_module, "changed_files", [])
    run(inbox)
    message = one_rejection(inbox, "inbox/payroll/p.csv", "FILE_CHANGED")
    assert "next close" in message and ingest_module.changed_files
    log, _, workers = logged(inbox)
    assert "W1" not in workers and "V2" not in workers
    assert [r[2] for r in log if r[0].endswith("p.csv")][0].startswith("changed:")
    monkeypatch.setattr(ingest_module, "hash_files", hash_files)
    run(inbox)
    log, _, workers = logged(inbox)
    assert "V2" in workers and (hashlib.sha256(v2).hexdigest(), "loaded") in [(r[2], r[1]) for r in log]
    path.write_bytes(v1)  # the version first hashed, sent again: read, not taken as seen
    run(inbox)
    log, _, workers = logged(inbox)
    assert "W1" in workers and (hashlib.sha256(v1).hexdigest(), "loaded") in [(r[2], r[1]) for r in log]


def test_a_file_growing_while_it_is_read_is_rejected(inbox, monkeypatch):
    path = write(inbox / "inbox/payroll/p.csv", BODY)
    read_all = infiles._read_all

    def appending(fd, size):
        with open(path, "a") as f:
            f.write(GOOD_PAYROLL.replace("W1", "W9") + "\n")
        return read_all(fd, size)
    monkeypatch.setattr(infiles, "_read_all", appending)
    monkeypatch.setattr(ingest_module, "changed_files", [])
    run(inbox)
    one_rejection(inbox, "inbox/payroll/p.csv", "FILE_CHANGED")


def test_read_regular_takes_one_version(tmp_path):
    path = write(tmp_path / "a.csv", "x\n1\n")
    with infiles.open_regular(path) as (fd, st):
        assert infiles.read_regular(fd, st, "a.csv") == b"x\n1\n"
    with infiles.open_regular(path) as (fd, st):
        path.write_text("x\n12\n")
        with pytest.raises(infiles.FileProblem) as e:
            infiles.read_regular(fd, st, "a.csv")
    assert e.value.code == "FILE_CHANGED"


# -- a failed snapshot is repaired by the next close ------------------------------------------------

def test_a_close_whose_snapshot_fails_on_a_full_disk_is_repaired_by_the_next(closed_demo, tmp_path, monkeypatch):
    """The snapshot copy runs out of space half-way: the close fails with one line, leaves no
    ``.partial`` and the portal's snapshot as it was; the next close does not say "nothing new",
    and publishes the new figures."""
    from pennytrail.app import UserError, close, snapshots

    home = tmp_path / "home"
    shutil.copytree(closed_demo, home)
    data = home / "data"
    before = snapshots.current(home)
    if before is None:
        before = snapshots.publish(home)
    src = sorted((data / "inbox/payroll/T002").glob("2026-01.csv"))[0]
    header, first = src.read_text().splitlines()[:2]
    (src.parent / "2026-01-late.csv").write_text(header + "\n" + first.rsplit(",", 1)[0] + ",0.00\n")
    real = snapshots._copy

    def full_disk(source, target):
        with open(target, "wb") as f:
            f.write(b"\0" * 4096)
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(snapshots, "_copy", full_disk)
    with pytest.raises(UserError) as e:
        close(data, home, None)
    assert "snapshot could not be written" in str(e.value) and "No space left" in str(e.value)
    assert not list((home / "published").glob("*.partial"))
    assert snapshots.current(home) == before
    monkeypatch.setattr(snapshots, "_copy", real)
    again = close(data, home, None)
    assert not again.unchanged and again.snapshot is not None and snapshots.current(home) == again.snapshot
    with duckdb.connect(str(again.snapshot), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM ingest_log WHERE file LIKE '%2026-01-late.csv'").fetchone()[0] == 1
    assert close(data, home, None).unchanged


def test_a_partial_snapshot_left_by_a_crash_is_removed_by_the_next_publication(closed_demo, tmp_path):
    from pennytrail.app import snapshots

    home = tmp_path / "home"
    shutil.copytree(closed_demo, home)
    (home / "published").mkdir(exist_ok=True)
    left = home / "published" / "warehouse-20260101T000000-00000000.duckdb.partial"
    left.write_bytes(b"\0" * 100)
    snapshots.publish(home)
    assert not left.exists()


# -- modes -----------------------------------------------------------------------------------------

def test_a_close_with_hostile_entries_completes_and_what_the_home_holds_is_its_owners_only(demo_data, tmp_path,
                                                                                             secret):
    """One close through the command, under umask 000, over the demo's inbox with a name that is
    not text, a link to a secret, a named pipe and a folder named like a file: it completes with one
    rejection each, reads nothing of the secret, says "nothing new" after; and the warehouse, the
    snapshot, a workbook, a failure's log and the portal's database are made 0600 in 0700 folders."""
    from pennytrail.app import accounts, close
    from pennytrail.cli import main

    home = tmp_path / "home"
    data = tmp_path / "data"
    shutil.copytree(demo_data, data)
    with open(os.path.join(os.fsencode(data / "inbox/payroll"), b"march\xff.csv"), "wb") as f:
        f.write(BODY.encode())
    os.symlink(secret, data / "inbox/payroll/key.csv")
    os.mkfifo(data / "inbox/payments/pipe.csv")
    (data / "inbox/sales/x.csv").mkdir()
    old = os.umask(0)
    try:
        assert main(["close", "--data", str(data), "--home", str(home), "--month", "2026-01"]) == 0
        assert main(["report", "close", "--home", str(home), "--month", "2026-01"]) == 0
        assert main(["close", "--data", str(data), "--home", str(home), "--month", "2026-13"]) == 1  # logged
        accounts.add_user(home, "a@example.org", "accountant", "correct horse battery", None, by="test")
        assert close(data, home, ["2026-01"]).unchanged
    finally:
        os.umask(old)
    with duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT file, code FROM quarantine WHERE code IN ('BAD_FILE_NAME', 'NOT_A_FILE') "
                           "ORDER BY file").fetchall()
    assert rows == [("inbox/payments/pipe.csv", "NOT_A_FILE"), ("inbox/payroll/key.csv", "NOT_A_FILE"),
                    ("inbox/payroll/march\\xff.csv", "BAD_FILE_NAME"), ("inbox/sales/x.csv", "NOT_A_FILE")]
    _not_read_home(home, secret)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    seen = set()
    for name in ("pennytrail.duckdb", "published", "reports", "logs", "portal", "dagster"):
        top = home / name
        assert top.exists(), name
        for p in [top, *top.rglob("*")]:
            if p.is_symlink():
                continue
            mode = stat.S_IMODE(p.lstat().st_mode)
            assert mode == (0o700 if p.is_dir() else 0o600), (p, oct(mode))
            seen.add(p.suffix)
    assert {".duckdb", ".xlsx", ".log", ".sqlite"} <= seen


def _not_read_home(home, secret_path):
    digest = hashlib.sha256(secret_path.read_bytes()).hexdigest()
    with duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True) as con:
        assert not con.execute("SELECT count(*) FROM ingest_log WHERE sha256 = ?", [digest]).fetchone()[0]
        assert not con.execute("SELECT count(*) FROM payroll_rows WHERE worker_id = 'SECRET'").fetchone()[0]


def test_an_older_home_is_tightened_by_the_next_command_that_writes_it(closed_demo, tmp_path):
    from pennytrail.core import private

    home = tmp_path / "home"
    shutil.copytree(closed_demo, home)
    for p in [home / "pennytrail.duckdb", *(home / "published").rglob("*")]:
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    with private.owner_only(home):
        pass
    assert stat.S_IMODE((home / "pennytrail.duckdb").stat().st_mode) == 0o600
    assert all(stat.S_IMODE(p.stat().st_mode) in (0o600, 0o700) for p in (home / "published").rglob("*"))
