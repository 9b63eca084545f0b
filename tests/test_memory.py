"""Peak memory of a close stays under 2 GiB whatever one file holds.

One close over the largest files the limits let through and hostile files built to be as costly
as possible: a sheet spanning nearly the cell limit (the grid the Excel reader allocates), a CSV
at the row and size limits, a sheet that unpacks to more than the limit at a plausible compression ratio,
a 2 GB zip bomb, a sheet with a cell at XFD1048576 and a CSV with a 17 MB line. The close runs in
a process of its own; its peak memory, with its contract process, is read from /proc while it
runs (the bench's launcher), not inferred from time.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import bench.run
from pennytrail.core.screening import LIMITS

from . import hostile
from .test_ingest_bad_input import GOOD_PAYROLL, PAYROLL_HEADER

ROOT = Path(__file__).resolve().parents[1]
LIMIT_KIB = 2 * 1024 * 1024
ROWS = LIMITS.rows


def build(data: Path) -> None:
    payroll = data / "inbox" / "payroll"
    payroll.mkdir(parents=True)
    header = hostile.sheet_xml([PAYROLL_HEADER.split(","), GOOD_PAYROLL.split(",")]).split("</sheetData>")[0]
    # a grid of 16 × 999,999 cells from two rows and one far cell: the largest the reader allocates
    hostile.workbook(payroll / "a-sparse.xlsx", header + hostile.cell("P999999", "x").join(["<row r=\"999999\">",
                                                                                           "</row>"])
                     + "</sheetData></worksheet>")
    hostile.workbook(payroll / "b-xfd.xlsx", header + '<row r="3">' + hostile.cell("XFD1048576", "x")
                     + "</row></sheetData></worksheet>")
    # a 2 GB sheet in a 2 MB file, and about 1.1 GB compressed 10 to 1
    hostile.streamed_sheet(payroll / "c-bomb.xlsx", header, b"<!-- -->" * 128, 2_000_000, "</sheetData></worksheet>")
    block = "".join(f'<row><c t="n"><v>{i * 7919 % 1000003}</v></c></row>' for i in range(2000)).encode()
    hostile.streamed_sheet(payroll / "d-large.xlsx", header, block, 1_100_000_000 // len(block),
                           "</sheetData></worksheet>")
    # a CSV at the row limit and near the size limit: LIMITS.rows rows of about 150 bytes
    name = "Ana Maria de los Angeles Cruz Hernandez y Villanueva de la Sierra Madre"
    with (payroll / "e-limit.csv").open("w") as f:
        f.write(PAYROLL_HEADER + "\n")
        f.writelines(GOOD_PAYROLL.replace("W1", f"W{i:07d}").replace("Ana Cruz", name) + "\n" for i in range(ROWS))
    with (payroll / "f-long.csv").open("w") as f:
        f.write(PAYROLL_HEADER + "\n" + GOOD_PAYROLL.replace("Ana Cruz", "x" * (17 << 20)) + "\n")


def test_peak_memory_of_a_close_over_the_costliest_files_is_under_2_gib(data_dir, tmp_path):
    build(data_dir)
    home = tmp_path / "home"
    done = subprocess.run([sys.executable, "-c", bench.run.LAUNCHER, sys.executable, "-m", "pennytrail.cli", "close",
                           "--data", str(data_dir), "--home", str(home)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    print(f"peak RSS of the close and its contract process: {peak_kib / 1024:,.0f} MiB "
          f"(test process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB)")
    assert peak_kib < LIMIT_KIB
    import duckdb
    con = duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True)
    log = dict(con.execute("SELECT regexp_extract(file, '[^/]+$'), status FROM ingest_log").fetchall())
    codes = dict(con.execute("SELECT regexp_extract(file, '[^/]+$'), code FROM quarantine "
                             "WHERE row_number IS NULL").fetchall())
    rows = con.execute("SELECT rows_accepted FROM ingest_log WHERE file LIKE '%e-limit.csv'").fetchone()[0]
    con.close()
    assert log == {"a-sparse.xlsx": "loaded", "b-xfd.xlsx": "rejected", "c-bomb.xlsx": "rejected",
                   "d-large.xlsx": "rejected", "e-limit.csv": "loaded", "f-long.csv": "rejected"}
    assert codes == {"b-xfd.xlsx": "FILE_TOO_LARGE", "c-bomb.xlsx": "FILE_TOO_LARGE", "d-large.xlsx": "FILE_TOO_LARGE",
                     "f-long.csv": "FILE_TOO_LARGE"}
    assert rows == ROWS
