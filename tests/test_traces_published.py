"""Traces read what was published for a month, never the reconciliation's working tables: a
correction ingested by the close of a later month does not show in an earlier month's trace,
and a month not closed yet shows nothing."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pennytrail.app import UserError, close
from pennytrail.app.trace import trace_grower, trace_invoice, trace_worker

INVOICE = ("B01", "T001-260202")
FEB_END = dt.date(2026, 2, 28)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pennytrail.cli", *args], capture_output=True, text=True, timeout=600)


def tables(trace) -> dict[str, list[dict]]:
    return {t.title: t.rows for t in trace.tables}


def february(trace) -> dict[str, list[dict]]:
    """A worker trace's pay periods of February and their source rows."""
    periods = [r for r in trace.tables[0].rows if r["period_end"] <= FEB_END]
    refs = {f"{r['grower_id']}/{r['worker_id']}/{r['period_start']}" for r in periods}
    return {"periods": periods, "sources": [s for s in trace.tables[1].rows if s["ref"] in refs]}


def same_pools(after: dict, before: dict) -> dict:
    """``after``'s tables with its pools fed cut to those published before (February's)."""
    keys = {(r["grower_id"], r["period_start"]) for r in before["Pools fed"]}
    return after | {"Pools fed": [r for r in after["Pools fed"] if (r["grower_id"], r["period_start"]) in keys]}


@pytest.fixture(scope="module")
def closed(demo_data, tmp_path_factory):
    """The demo with February published alone; the traces then; a correction of a February
    invoice line and one of a worker's February payroll row, ingested by closing March only; the
    traces after."""
    home = tmp_path_factory.mktemp("traces-published")
    data = home / "data"
    shutil.copytree(demo_data, data)
    close(data, home, ["2026-02"])
    worker = duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True).execute(
        "SELECT worker_id FROM worker_audit WHERE grower_id = 'T001' AND month = '2026-02' AND entitled_cents > 0 "
        "ORDER BY worker_id LIMIT 1").fetchone()[0]
    before = {"grower": trace_grower(home, "T001", "2026-02"), "invoice": trace_invoice(home, *INVOICE),
              "worker": trace_worker(home, worker, grower="T001")}
    unpublished = {}
    for what, fn in (("grower", lambda: trace_grower(home, "T001", "2026-03")),
                     ("invoice", lambda: trace_invoice(home, "B01", "T001-260302"))):
        with pytest.raises(UserError) as e:
            fn()
        unpublished[what] = str(e.value)
    unpublished["cli"] = cli("trace", "--home", str(home), "grower", "T001", "--month", "2026-03")
    # the buyer re-sends line 1 of a February invoice with 100 boxes more
    # (B01 exports its own layout; a correction typed in §3's layout sits beside it, which its profile does not read)
    header = "buyer_id,invoice_id,line_no,ship_date,harvest_date,seller_id,grower_id,commodity,quantity,unit,premium_billed"
    (data / "inbox/purchases/B01/fixes").mkdir()
    (data / "inbox/purchases/B01/fixes/2026-02-fix.csv").write_text(
        header + "\nB01,T001-260202,1,2026-02-03,,T001,T001,tomatoes,2299,box_25lb,574.75\n", encoding="utf-8")
    # and the grower re-sends the worker's first February row with more units
    with (data / "inbox/payroll/T001/2026-02.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    row = next(r for r in rows if r["worker_id"] == worker)
    row["units"] = str(Decimal(row["units"]) + 50)
    with (data / "inbox/payroll/T001/2026-02-fix.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerow(row)
    close(data, home, ["2026-03"])
    after = {"grower": trace_grower(home, "T001", "2026-02"), "invoice": trace_invoice(home, *INVOICE),
             "worker": trace_worker(home, worker, grower="T001")}
    return home, before, after, unpublished


def test_the_correction_is_in_the_working_tables_but_not_published(closed):
    home = closed[0]
    with duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True) as con:
        q = "SELECT owed_cents FROM {} WHERE buyer_id = ? AND invoice_id = ?"
        assert con.execute(q.format("w_invoice_audit"), INVOICE).fetchone() != \
            con.execute(q.format("invoice_audit"), INVOICE).fetchone()
        assert con.execute("SELECT count(*) FROM payroll WHERE file LIKE '%2026-02-fix.csv'").fetchone()[0] == 1
        assert con.execute("SELECT file FROM w_lines WHERE buyer_id = ? AND invoice_id = ? AND line_no = '1'",
                           INVOICE).fetchone()[0].endswith("2026-02-fix.csv")
        assert con.execute("SELECT DISTINCT month FROM pool_audit ORDER BY 1").fetchall() == [("2026-02",), ("2026-03",)]


def test_february_traces_show_what_was_published_for_february(closed):
    _, before, after, _ = closed
    assert tables(before["invoice"])["Pools fed"]
    assert same_pools(tables(after["invoice"]), tables(before["invoice"])) == tables(before["invoice"])
    assert tables(after["grower"]) == tables(before["grower"])
    assert february(after["worker"]) == february(before["worker"])
    lines = tables(after["invoice"])["Lines"]
    assert [(r["quantity"], r["file"].endswith("B01/2026-02.csv")) for r in lines if r["line_no"] == "1"] == \
        [(2199, True)]
    assert [r["status"] for r in tables(after["invoice"])["Handshake"] if r["line_no"] == "1"] == ["CONFIRMED"]
    for trace in after.values():
        for t in trace.tables:
            for r in t.rows:
                assert "2026-02-fix" not in str(r.get("file")) + str(r.get("sources")), (t.title, r)
    assert february(after["worker"])["periods"] and any(s["kind"] == "purchases"
                                                      for s in february(after["worker"])["sources"])


def test_february_traces_give_the_source_of_every_figure(closed):
    _, _, after, _ = closed
    grower = tables(after["grower"])
    assert {s["kind"] for s in grower["Source rows"]} == {"purchases", "payments"}
    assert all(s["file"] and s["row"] >= 1 for s in grower["Source rows"])
    assert all(r["file"] and r["row"] for name in ("Lines", "Payments") for r in tables(after["invoice"])[name])
    assert sum(r["entitled_cents"] for r in grower["Invoices"]) == sum(r["entitled_cents"] for r in grower["Pools"])


def test_a_month_not_closed_shows_nothing(closed):
    _, before, after, unpublished = closed
    assert "2026-03 is not closed yet" in unpublished["grower"]
    assert "not closed yet" in unpublished["invoice"]
    done = unpublished["cli"]
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1
    assert "not closed yet" in done.stderr
    # January and March were not closed; then March was
    assert [n for n in before["worker"].notes if n.startswith("Not closed yet")] == \
        ["Not closed yet, so not shown: 2026-01, 2026-03 (nothing is published for them)"]
    assert [n for n in after["worker"].notes if n.startswith("Not closed yet")] == \
        ["Not closed yet, so not shown: 2026-01 (nothing is published for it)"]
    assert {r["period_end"].strftime("%Y-%m") for r in before["worker"].tables[0].rows} == {"2026-02"}
