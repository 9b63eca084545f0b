"""Exactly once: re-sent files change nothing; corrections win and keep their history."""

from pennytrail.core.ingest import ingest
from pennytrail.core.warehouse import connect

from .conftest import reference_of, write
from .boundary_data import PAYMENT_HEADER
from .test_ingest_bad_input import PURCHASE_HEADER

LINE = "B1,I1,1,2026-01-06,,G1,G1,tomatoes,{q},box_25lb,"


def _ingest(data_dir):
    with connect(data_dir.parent / "wh.duckdb") as con:
        ingest(con, data_dir, reference_of(data_dir), progress=lambda m: None)
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
    from pennytrail.core import changes as state

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
    from pennytrail.core import changes as state

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
    from pennytrail.core import changes as state

    write(data_dir / "inbox/purchases/a.csv", PURCHASE_HEADER + "\n" + LINE.format(q=10) + "\n")  # just now
    home = tmp_path / "home"
    with connect(home / "pennytrail.duckdb"):
        pass
    first = _fresh_process_fingerprint(data_dir, home, monkeypatch, trust_new=False)
    state.record(home, first)
    import pennytrail.core.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "_hashed", {})
    assert state.reuse_hashes(state.last_close(home)) == 0


# -- batches, the summary and the log -------------------------------------------------------------


def _mixed_inbox(data_dir):
    """Three one-line purchase files (the third corrects the first), a payment file, two copies of
    files under other names, two files in no kind folder and a file without a required column."""
    write(data_dir / "inbox/a.csv", "anything\n1\n")
    write(data_dir / "inbox/b.csv", "other\n2\n")
    write(data_dir / "inbox/payments/p.csv", PAYMENT_HEADER + "\nP1,1,B1,G1,2026-01-20,B1,I1,0.25\n"
          "P1,2,NOBODY,G1,2026-01-20,B1,I1,0.25\n")
    write(data_dir / "inbox/purchases/1.csv", PURCHASE_HEADER + "\n" + LINE.format(q=10) + "\n")
    write(data_dir / "inbox/purchases/2.csv", PURCHASE_HEADER + "\n" + LINE.format(q=20).replace(",1,", ",2,") + "\n")
    write(data_dir / "inbox/purchases/2-copy.csv", PURCHASE_HEADER + "\n" + LINE.format(q=20).replace(",1,", ",2,") + "\n")
    write(data_dir / "inbox/purchases/3.csv", PURCHASE_HEADER + "\n" + LINE.format(q=12) + "\n")
    write(data_dir / "inbox/purchases/4.csv", "buyer_id,invoice_id\nB1,I9\n")
    write(data_dir / "inbox/purchases/zz-copy.csv", PURCHASE_HEADER + "\n" + LINE.format(q=10) + "\n")


def _outcome(data_dir, monkeypatch, batch_rows=None):
    """Everything an ingest leaves, and the files of each batch it committed."""
    from pennytrail.core import ingest as ingest_module

    batches = []
    apply_batch = ingest_module._apply_batch

    def recorded(con, ref, batch, summary, progress):
        batches.append([e["file"] for e in batch.entries])
        return apply_batch(con, ref, batch, summary, progress)

    seen = []
    path = data_dir.parent / f"wh-{batch_rows}.duckdb"
    with monkeypatch.context() as m, connect(path) as con:
        m.setattr(ingest_module, "_apply_batch", recorded)
        if batch_rows is not None:
            m.setattr(ingest_module, "BATCH_ROWS", batch_rows)
        summary = ingest(con, data_dir, reference_of(data_dir), progress=lambda m: None,
                         on_raw=lambda kind, table: seen.append((kind, table.num_rows)))
        tables = [con.execute(sql).fetchall() for sql in (
            "SELECT seq, file, status, kind, rows_read, rows_accepted, rows_quarantined, message FROM ingest_log "
            "ORDER BY seq",
            "SELECT file, row_number, code FROM quarantine ORDER BY file, row_number",
            "SELECT line_no, quantity, file FROM purchases ORDER BY line_no",
            "SELECT payment_id, line_no, file FROM payments ORDER BY line_no")]
    return summary, tables, seen, batches


def test_an_inbox_applied_in_many_small_batches_leaves_what_one_batch_leaves(data_dir, monkeypatch):
    """With a batch of 2 rows, the files commit in several transactions; every table, the
    summary and the corrections come out as when they commit together."""
    _mixed_inbox(data_dir)
    one = _outcome(data_dir, monkeypatch)
    many = _outcome(data_dir, monkeypatch, batch_rows=2)
    assert many[:3] == one[:3]
    assert len(one[3]) == 1 and len(many[3]) == 3
    # a batch is applied as soon as it holds BATCH_ROWS rows, not one file later
    # (2-copy.csv sorts before 2.csv, which is then the copy; a rejected file adds no rows)
    assert many[3] == [["inbox/a.csv", "inbox/b.csv", "inbox/payments/p.csv"],
                       ["inbox/purchases/1.csv", "inbox/purchases/2-copy.csv"],
                       ["inbox/purchases/2.csv", "inbox/purchases/3.csv", "inbox/purchases/4.csv",
                        "inbox/purchases/zz-copy.csv"]]


def test_the_summary_and_the_log_count_every_file_and_row(data_dir, monkeypatch):
    _mixed_inbox(data_dir)
    summary, (log, quarantine, purchases, payments), seen, _ = _outcome(data_dir, monkeypatch)
    assert (summary.files_seen, summary.files_loaded, summary.files_duplicate, summary.files_rejected) == (9, 4, 2, 3)
    assert (summary.rows_read, summary.rows_accepted, summary.rows_quarantined) == (6, 4, 2)
    assert dict(summary.codes) == {"UNKNOWN_KIND": 2, "MISSING_COLUMN": 1, "UNKNOWN_PARTY": 1}
    assert [row[0] for row in log] == [1, 2, 3, 4, 5, 6, 7, 8, 9]  # one number per file, in path order
    by_file = {row[1]: row[2:] for row in log}
    assert by_file["inbox/purchases/2.csv"] == (
        "duplicate", "purchases", 0, 0, 0, "the same bytes were ingested before under another name")
    assert by_file["inbox/purchases/4.csv"][:5] == ("rejected", "purchases", 1, 0, 1)
    assert "invoice_id" not in by_file["inbox/purchases/4.csv"][5] and "line_no" in by_file["inbox/purchases/4.csv"][5]
    assert by_file["inbox/a.csv"][:5] == ("rejected", None, 0, 0, 0) and "kind folder" in by_file["inbox/a.csv"][5]
    assert by_file["inbox/payments/p.csv"][:5] == ("loaded", "payments", 2, 1, 1)
    assert [(line, str(q), f) for line, q, f in purchases] == [
        ("1", "12.000", "inbox/purchases/3.csv"), ("2", "20.000", "inbox/purchases/2-copy.csv")]
    assert [row[2] for row in quarantine] == ["UNKNOWN_KIND", "UNKNOWN_KIND", "UNKNOWN_PARTY", "MISSING_COLUMN"]
    # each file that is read and has its columns shows its raw rows once, with its kind
    assert seen == [("payments", 2), ("purchases", 1), ("purchases", 1), ("purchases", 1)]


def test_a_file_in_no_kind_folder_does_not_shift_the_files_after_it(data_dir, monkeypatch):
    """The misplaced file is never read: the files read ahead are exactly those applied, so
    each file gets its own rows."""
    write(data_dir / "inbox/a.csv", PURCHASE_HEADER + "\n" + LINE.format(q=99) + "\n")
    write(data_dir / "inbox/purchases/b.csv", PURCHASE_HEADER + "\n" + LINE.format(q=10) + "\n")
    log, current, _ = _ingest(data_dir)
    assert log == [("inbox/a.csv", "rejected"), ("inbox/purchases/b.csv", "loaded")]
    assert [(str(q), f) for q, f in current] == [("10.000", "inbox/purchases/b.csv")]


def test_first_seen_is_utc_whatever_the_machines_time_zone(data_dir, monkeypatch):
    import datetime as dt
    import time

    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        write(data_dir / "inbox/purchases/a.csv", PURCHASE_HEADER + "\n" + LINE.format(q=10) + "\n")
        with connect(data_dir.parent / "wh.duckdb") as con:
            ingest(con, data_dir, reference_of(data_dir), progress=lambda m: None)
            [(first_seen,)] = con.execute("SELECT first_seen_at FROM ingest_log").fetchall()
    finally:
        monkeypatch.undo()
        time.tzset()
    utc_now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    assert first_seen is not None and abs(utc_now - first_seen) < dt.timedelta(minutes=5)


def test_hashes_from_another_process_are_taken_only_for_files_written_before_they_were_taken():
    from pennytrail.core import ingest as ingest_module

    t = 1_000
    entries = [["/a", 1, 10, t - 2, t - 1, "sha-a"],   # both times before: taken
               ["/b", 2, 10, t - 2, t, "sha-b"],       # changed at the instant: not taken
               ["/c", 3, 10, t, t - 1, "sha-c"],       # written at the instant: not taken
               ["/d", 4, 10, t + 5, t - 1, "sha-d"],   # written after: not taken
               ["/e", 5, 10, t - 9, t - 9, "sha-e"]]
    before = dict(ingest_module._hashed)
    try:
        assert ingest_module.remember_hashes(entries, t) == 2
        assert {k[0] for k in ingest_module._hashed if k not in before} == {"/a", "/e"}
    finally:
        ingest_module._hashed.clear()
        ingest_module._hashed.update(before)
