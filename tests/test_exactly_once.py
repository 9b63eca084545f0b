"""Exactly once: re-sent files change nothing; corrections win and keep their history."""

from pennytrail.core.ingest import ingest
from pennytrail.core.reference import load_reference
from pennytrail.core.warehouse import connect

from .conftest import write
from .test_ingest_bad_input import PURCHASE_HEADER

LINE = "B1,I1,1,2026-01-06,,G1,G1,tomatoes,{q},box_25lb,"


def _ingest(data_dir):
    with connect(data_dir.parent / "wh.duckdb") as con:
        ingest(con, data_dir, load_reference(data_dir), progress=lambda m: None)
        return (con.execute("SELECT file, status FROM ingest_log ORDER BY seq").fetchall(),
                con.execute("SELECT quantity, file FROM purchases").fetchall(),
                con.execute("SELECT quantity, file FROM purchase_rows ORDER BY file_seq").fetchall())


def test_the_same_inbox_twice_changes_nothing(data_dir):
    write(data_dir / "inbox/purchases/a.csv", PURCHASE_HEADER + "\n" + LINE.format(q=10) + "\n")
    first = _ingest(data_dir)
    assert _ingest(data_dir) == first


def test_a_resent_file_under_another_name_is_a_duplicate(data_dir):
    write(data_dir / "inbox/purchases/a.csv", PURCHASE_HEADER + "\n" + LINE.format(q=10) + "\n")
    write(data_dir / "inbox/purchases/copy/a.csv", PURCHASE_HEADER + "\n" + LINE.format(q=10) + "\n")
    log, current, history = _ingest(data_dir)
    assert log == [("inbox/purchases/a.csv", "loaded"), ("inbox/purchases/copy/a.csv", "duplicate")]
    assert len(history) == 1


def test_a_correction_wins_and_both_versions_stay(data_dir):
    write(data_dir / "inbox/purchases/a.csv", PURCHASE_HEADER + "\n" + LINE.format(q=10) + "\n")
    _ingest(data_dir)
    write(data_dir / "inbox/purchases/a-fix.csv", PURCHASE_HEADER + "\n" + LINE.format(q=12) + "\n")
    log, current, history = _ingest(data_dir)
    assert [str(q) for q, _ in current] == ["12.000"]
    assert [(str(q), f) for q, f in history] == [("10.000", "inbox/purchases/a.csv"),
                                                  ("12.000", "inbox/purchases/a-fix.csv")]


def test_files_first_seen_together_apply_in_path_order(data_dir):
    write(data_dir / "inbox/purchases/b.csv", PURCHASE_HEADER + "\n" + LINE.format(q=20) + "\n")
    write(data_dir / "inbox/purchases/a.csv", PURCHASE_HEADER + "\n" + LINE.format(q=10) + "\n")
    log, current, _ = _ingest(data_dir)
    assert [f for f, _ in log] == ["inbox/purchases/a.csv", "inbox/purchases/b.csv"]
    assert [str(q) for q, _ in current] == ["20.000"]


def test_a_file_changed_in_place_is_a_new_version(data_dir):
    p = write(data_dir / "inbox/purchases/a.csv", PURCHASE_HEADER + "\n" + LINE.format(q=10) + "\n")
    _ingest(data_dir)
    p.write_text(PURCHASE_HEADER + "\n" + LINE.format(q=0) + "\n")
    log, current, history = _ingest(data_dir)
    assert [s for _, s in log] == ["loaded", "loaded"] and [str(q) for q, _ in current] == ["0.000"]


def _fresh_process_fingerprint(data_dir, home, monkeypatch, forbid_reading: bool = False, trust_new: bool = True):
    """The fingerprint as a new process computes it after ``reuse_hashes``: the hash memo starts
    empty; with ``forbid_reading``, hashing a submission file is an error; with ``trust_new``,
    files written a moment before are trusted (the tests write them just before)."""
    import pennytrail.core.ingest as ingest_module
    from pennytrail.app import changes as state

    monkeypatch.setattr(ingest_module, "_hashed", {})
    if trust_new:
        monkeypatch.setattr(state, "RACY_NS", 0)
    state.reuse_hashes(state.last_close(home))
    if forbid_reading:
        def no_reading(path):
            raise AssertionError(f"{path} was read again")
        monkeypatch.setattr(ingest_module, "_hash_bytes", no_reading)
    return state.fingerprint(data_dir, None)


def test_an_unchanged_inbox_is_not_read_again_but_a_file_changed_in_place_is(data_dir, tmp_path, monkeypatch):
    """The last close's hashes are reused only for files whose inode, size and times are
    unchanged. A same-size edit with its modification time put back still changes the
    status-change time, so it is hashed again and the fingerprint differs."""
    import os

    import pennytrail.core.ingest as ingest_module
    from pennytrail.app import changes as state

    hash_bytes = ingest_module._hash_bytes
    path = write(data_dir / "inbox/purchases/a.csv", PURCHASE_HEADER + "\n" + LINE.format(q=10) + "\n")
    home = tmp_path / "home"
    with connect(home / "pennytrail.duckdb"):
        pass
    first = _fresh_process_fingerprint(data_dir, home, monkeypatch)
    state.record(home, first)
    assert _fresh_process_fingerprint(data_dir, home, monkeypatch, forbid_reading=True) == first
    monkeypatch.setattr(ingest_module, "_hash_bytes", hash_bytes)
    st = path.stat()
    path.write_text(PURCHASE_HEADER + "\n" + LINE.format(q=90) + "\n")  # same size, other bytes
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    assert _fresh_process_fingerprint(data_dir, home, monkeypatch) != first


def test_a_file_written_just_before_the_close_is_hashed_again_next_time(data_dir, tmp_path, monkeypatch):
    """A file whose times are within a moment of when its hash was taken could change again
    without its times changing: its hash is not reused."""
    from pennytrail.app import changes as state

    write(data_dir / "inbox/purchases/a.csv", PURCHASE_HEADER + "\n" + LINE.format(q=10) + "\n")  # just now
    home = tmp_path / "home"
    with connect(home / "pennytrail.duckdb"):
        pass
    first = _fresh_process_fingerprint(data_dir, home, monkeypatch, trust_new=False)
    state.record(home, first)
    import pennytrail.core.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "_hashed", {})
    assert state.reuse_hashes(state.last_close(home)) == 0
