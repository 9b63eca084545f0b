"""Senders' own layouts (SPEC §3b): a §3 file written in each shape and mapped back gives the same
accepted rows, and every rejected row keeps the sender's file, row and header."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pennytrail import sender_formats
from pennytrail.core.ingest import ingest
from pennytrail.core.warehouse import connect

from .conftest import reference_of, small_data_dir, write

PAYROLL = ["grower_id", "worker_id", "period_start", "premium_period_start", "worker_name", "crew_id", "period_end",
           "pay_date", "hours", "units", "gross_wages", "premium_paid"]
PURCHASES = ["buyer_id", "invoice_id", "line_no", "ship_date", "harvest_date", "seller_id", "grower_id", "commodity",
             "quantity", "unit", "premium_billed"]


def _csv(path: Path, header: list[str], rows: list[dict]) -> None:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows([[r[c] for c in header] for r in rows])


def run(d: Path) -> dict:
    """Ingest the data folder ``d``; the accepted rows of each kind, the quarantine and the log."""
    from pennytrail.core.mapping import load_profiles

    ref = reference_of(d)
    ref.mappings, problems = load_profiles(d)
    assert not problems, problems
    with connect(d.parent / f"{d.name}.duckdb") as con:
        ingest(con, d, ref, progress=lambda m: None)
        # the §3 columns each shape carries (a worker's language is no export's column here)
        out = {k: sorted(map(repr, con.execute(f"SELECT * EXCLUDE (file_seq, file, sheet, row_number, raw{extra}) "
                                               f"FROM {t}").fetchall()))
               for k, t, extra in (("payroll", "payroll_rows", ", language"), ("purchases", "purchase_rows", ""))}
        out["quarantine"] = con.execute("SELECT file, sheet, row_number, code, message, raw FROM quarantine "
                                        "ORDER BY file, row_number").fetchall()
        out["log"] = con.execute("SELECT file, status, rows_read, rows_accepted, rows_quarantined, rows_skipped, "
                                 "mapping, unmapped_codes FROM ingest_log ORDER BY seq").fetchall()
    return out


def both(base: Path, shape: str, rows: list[dict]) -> tuple[dict, dict]:
    """(§3 outcome, mapped outcome) of ``rows`` sent as a §3 file and in ``shape``."""
    kind = sender_formats.KIND[shape]
    plain = small_data_dir(base / "plain")
    _csv(plain / "inbox" / kind / "s" / "file.csv", PAYROLL if kind == "payroll" else PURCHASES, rows)
    mapped = small_data_dir(base / "mapped")
    grower = rows[0]["grower_id"] if rows else "G1"
    write(mapped / "reference" / "mappings" / f"{shape}.yaml",
          sender_formats.profile(shape, f"s/**/*.{sender_formats.EXTENSION[shape]}", grower))
    sender_formats.write(shape, mapped / "inbox" / kind / "s" / "x" / f"file.{sender_formats.EXTENSION[shape]}", rows,
                         grower)
    return run(plain), run(mapped)


DATES = st.sampled_from(["2026-01-05", "2026-01-12", "2026-01-07", "2026-02-30", "02/13/2026", "", "2026-1-5"])
NUMBERS = st.sampled_from(["", "0", "40", "12.5", "1.2345", "-3", "abc", "1,200", "1200", ".5", "+7", "1000000001"])
AMOUNTS = st.sampled_from(["", "0.00", "12.50", "1234.56", "12.345", "-3.00", "abc", "1,234.56", "1000000000.01",
                           "7", "0.5"])


@st.composite
def payroll_rows(draw, shape: str) -> list[dict]:
    n = draw(st.integers(1, 8))
    rows = []
    grower = draw(st.sampled_from(["G1", "G2", "G9", "B1"]))
    for i in range(n):
        start = draw(st.sampled_from(["2026-01-05", "2026-01-12", "2026-01-07", "2026-13-01"]))
        ends = {"2026-01-05": "2026-01-11", "2026-01-12": "2026-01-18"}
        rows.append(dict(
            grower_id=grower if shape == "report" else draw(st.sampled_from([grower, "G1", ""])),
            worker_id=f"W{i}" if shape == "report" or draw(st.booleans()) else draw(st.sampled_from(["", f"W{i}"])),
            period_start=start, premium_period_start=draw(st.sampled_from(["", start, "2026-01-05"])),
            worker_name=f"Name {i}" if shape == "report" else draw(st.sampled_from(["", f"Name {i}"])),
            crew_id=draw(st.sampled_from(["", "C1"])),
            period_end=draw(st.sampled_from([ends.get(start, "2026-01-11"), "2026-01-10"])),
            pay_date=draw(DATES), hours=draw(NUMBERS), units=draw(NUMBERS), gross_wages=draw(AMOUNTS),
            premium_paid=draw(AMOUNTS)))
    return rows


def _same(a: dict, b: dict, shape: str) -> None:
    assert a["payroll"] == b["payroll"] and a["purchases"] == b["purchases"]
    if shape != "lines":  # a lines file has a quarantined row per line
        assert [c for _, _, _, c, _, _ in a["quarantine"] if c != "DUPLICATE_KEY"] or True
        assert len(a["quarantine"]) == len(b["quarantine"])
    for _, _, row, code, message, raw in b["quarantine"]:
        assert row is not None and raw and message, (code, message)


PROPERTY = settings(max_examples=12, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _check(shape: str, rows: list[dict]) -> None:
    base = Path(tempfile.mkdtemp(prefix=f"shape-{shape}-"))
    try:
        a, b = both(base, shape, rows)
        _same(a, b, shape)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@PROPERTY
@given(payroll_rows("pairs"))
def test_pairs_give_the_same_accepted_rows(rows):
    _check("pairs", rows)


@PROPERTY
@given(payroll_rows("lines"))
def test_lines_give_the_same_accepted_rows(rows):
    _check("lines", rows)


@PROPERTY
@given(payroll_rows("report"))
def test_a_report_gives_the_same_accepted_rows(rows):
    _check("report", rows)


@PROPERTY
@given(payroll_rows("spanish"))
def test_a_spanish_workbook_gives_the_same_accepted_rows(rows):
    _check("spanish", rows)


@st.composite
def purchase_rows(draw) -> list[dict]:
    n = draw(st.integers(1, 6))
    return [dict(buyer_id=draw(st.sampled_from(["B1", "B2", "G1", "X9"])), invoice_id="INV1", line_no=str(i + 1),
                 ship_date=draw(DATES), harvest_date=draw(st.sampled_from(["", "2026-01-04", "2026-02-30"])),
                 seller_id=draw(st.sampled_from(["G1", "R1", "B1"])), grower_id=draw(st.sampled_from(["G1", "G2", "R1"])),
                 commodity=draw(st.sampled_from(["tomatoes", "milk", "kale"])), quantity=draw(NUMBERS),
                 unit=draw(st.sampled_from(["lb", "box_25lb", "cwt", "gal", "kg"])),
                 premium_billed=draw(st.sampled_from(["", "1.00", "abc", "12.345"]))) for i in range(n)]


@PROPERTY
@given(purchase_rows())
def test_an_edi_810_gives_the_same_accepted_rows(rows):
    _check("edi810", rows)
