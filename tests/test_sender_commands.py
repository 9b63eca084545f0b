"""`pennytrail preview` and `pennytrail mappings`: what a close would make of a sender's file,
with nothing written anywhere."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pennytrail.cli import main

from .conftest import write
from .test_mapping_rules import BASE, HEADER, row


def tree_digest(*roots: Path) -> str:
    """Every file and folder under ``roots``: path, size, bytes and modification time."""
    h = hashlib.sha256()
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames) + dirnames:
                p = Path(dirpath) / name
                st = p.lstat()
                h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
                if p.is_file():
                    h.update(p.read_bytes())
    return h.hexdigest()


def test_preview_shows_the_profile_rows_skips_quarantine_and_totals_and_writes_nothing(data_dir, tmp_path, capsys,
                                                                                          monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    profile = BASE + "skip: [{column: Emp, pattern: '^Total'}]\n"
    write(data_dir / "reference/mappings/p.yaml", profile)
    f = write(data_dir / "inbox/payroll/g1/a.csv", HEADER.replace("Premium", "Premium,Note") +
              row().replace("\n", ",x\n") + row(emp="W2", pay="13/02/2026").replace("\n", ",\n")
              + "Total,,,,,,100.00,1.00,\n")
    before = tree_digest(home, data_dir)
    assert main(["preview", "--data", str(data_dir), str(f)]) == 0
    out = capsys.readouterr().out
    assert "profile: reference/mappings/p.yaml" in out
    assert "row 2: " in out and "pay_date='2026-01-16'" in out and "Pay Date='01/16/2026'" in out
    assert "sender columns no profile key reads: Note" in out
    assert "skipped row 4: \"Emp\" matches '^Total'" in out
    assert 'quarantined row 3: BAD_DATE: "Pay Date" (pay_date): "13/02/2026" is not a date like 02/13/2026' in out
    assert "totals of accepted rows: gross_wages $100.00, premium_paid $1.00" in out
    assert main(["preview", "--data", str(data_dir), str(f), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows_read"] == 3 and doc["rows_skipped"] == 1 and doc["quarantined"][0]["row"] == 3
    assert doc["totals"] == {"gross_wages": "$100.00", "premium_paid": "$1.00"}
    assert tree_digest(home, data_dir) == before


def test_preview_says_when_no_profile_or_two_match(data_dir, capsys):
    f = write(data_dir / "inbox/payroll/other/a.csv", HEADER + row())
    assert main(["preview", "--data", str(data_dir), str(f)]) == 0
    out = capsys.readouterr().out
    assert "none matches" in out and "MISSING_COLUMN" in out
    write(data_dir / "reference/mappings/p.yaml", BASE.replace('"g1/**/*.csv"', '"other/*.csv"'))
    write(data_dir / "reference/mappings/q.yaml", BASE.replace('"g1/**/*.csv"', '"**/a.csv"'))
    assert main(["preview", "--data", str(data_dir), str(f), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["profiles"]) == 2 and "AMBIGUOUS_MAPPING" in doc["outcome"]


def test_preview_of_a_file_outside_the_inbox_is_one_line(data_dir, tmp_path, capsys):
    f = write(tmp_path / "elsewhere.csv", HEADER)
    assert main(["preview", "--data", str(data_dir), str(f)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not under the data folder" in err


def test_mappings_lists_profiles_their_files_two_matches_and_exports_no_profile_reads(data_dir, capsys):
    write(data_dir / "reference/mappings/p.yaml", BASE)
    write(data_dir / "reference/mappings/q.yaml", BASE.replace('"g1/**/*.csv"', '"g1/two/*.csv"'))
    write(data_dir / "inbox/payroll/g1/a.csv", HEADER + row())
    write(data_dir / "inbox/payroll/g1/two/b.csv", HEADER + row())
    write(data_dir / "inbox/payroll/g2/export.csv", HEADER + row())
    write(data_dir / "inbox/payroll/g2/plain.csv", "grower_id,worker_id,period_start,premium_period_start,worker_name,"
          "period_end,pay_date,hours,units,gross_wages,premium_paid\n")
    assert main(["mappings", "--data", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "reference/mappings/p.yaml: valid, payroll, files 'g1/**/*.csv': 2 file(s)" in out
    assert "matched by two profiles (rejected): inbox/payroll/g1/two/b.csv" in out
    assert "no profile matches it: inbox/payroll/g2/export.csv" in out and "plain.csv" not in out
    write(data_dir / "reference/mappings/r.yaml", BASE + "colums: {}\n")
    assert main(["mappings", "--data", str(data_dir)]) == 1
    captured = capsys.readouterr()
    assert "reference/mappings/r.yaml: INVALID: colums: unknown key 'colums'" in captured.out
    assert captured.err.count("\n") == 1
