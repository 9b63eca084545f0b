"""The bench's alternatives compute the same audit as pennytrail, so comparing their speed is fair."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import duckdb

from pennytrail.generator import generate
from pennytrail.app import close

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

from baseline_pandas import compute as pandas_compute  # noqa: E402
from baseline_pandas import run as pandas_run  # noqa: E402
from baselines import duckdb_baseline  # noqa: E402
from run import csv_for  # noqa: E402


def test_baselines_agree_with_pennytrail_on_clean_data(tmp_path):
    data = tmp_path / "data"
    generate(data, seed=4, scale="demo", faults=False, senders={})  # the baselines read §3 files only
    close(data, tmp_path / "home", None, progress=lambda m: None)
    csv_data = csv_for(data)
    assert not list(csv_data.rglob("*.xlsx")) and list(data.rglob("*.xlsx"))  # Excel files became CSV
    with duckdb.connect(str(tmp_path / "home" / "pennytrail.duckdb"), read_only=True) as con:
        ours = set(con.execute("SELECT grower_id, period_start, worker_id, entitled_cents, funded_cents, paid_cents, "
                               "status FROM worker_audit").fetchall())
        pools = con.execute("SELECT count(*) FROM pool_audit").fetchone()[0]
    con = duckdb.connect()
    con.execute((BENCH / "baseline.sql").read_text().replace("$DATA", csv_data.as_posix()))
    theirs = set(con.execute("SELECT grower_id, period_start, worker_id, entitled, funded, paid, status "
                             "FROM worker_audit").fetchall())
    assert theirs == ours
    counts = duckdb_baseline(csv_data)
    assert counts["worker_audit"] == len(ours) and counts["pools"] == pools and counts["not_ok"] == 0
    assert pandas_run(csv_data) == counts
    _, _, audit = pandas_compute(csv_data)
    rows = {(g, p.date(), w, int(e), int(f), int(paid), s) for g, p, w, e, f, paid, s in audit.itertuples(index=False)}
    assert rows == ours
    shutil.rmtree(csv_data)
