"""Exactly once: re-sent files change nothing; corrections win and keep their history."""

from pennytrail.ingest import ingest
from pennytrail.reference import load_reference
from pennytrail.warehouse import connect

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
