"""The reconciliation on Apache Spark equals DuckDB's to the cent: every working table, as text,
row for row, on the demo program, on the boundary program and on a program at the largest
amounts the rules allow; an overflow is the same clean error on both engines; a close on Spark
publishes what a close on DuckDB publishes. One Spark session (``spark_session``) serves them all."""

from __future__ import annotations

import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest

from pennytrail.core import engines, reconcile
from pennytrail.core.money import round_half_up
from pennytrail.core.ingest import ingest, write_reference
from pennytrail.core.warehouse import connect

from .boundary_data import PAYMENT_HEADER, PURCHASE_HEADER, write_program
from .conftest import reference_of, small_data_dir, write
from .test_ingest_bad_input import PAYROLL_HEADER
from .test_ranges_and_ids import SALES_HEADER


def rows_as_text(con, table: str) -> list[tuple]:
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    return con.execute(f"SELECT {', '.join(f'CAST({c} AS VARCHAR)' for c in cols)} FROM {table} "
                       "ORDER BY ALL").fetchall()


def differences(a: Path, b: Path, tables: list[str] | None = None) -> dict[str, str]:
    """Tables (default: every w_*) whose column types or rows as text differ between two warehouses."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    tables = tables or [t for (t,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'a' AND table_name LIKE 'w%' "
        "ORDER BY 1").fetchall() if t.startswith("w_")]
    found = {}
    for t in tables:
        ta, tb = (con.execute(f"DESCRIBE {db}.main.{t}").fetchall() for db in ("a", "b"))
        if ta != tb:
            found[t] = f"types {ta} != {tb}"
            continue
        ra, rb = rows_as_text(con, f"a.main.{t}"), rows_as_text(con, f"b.main.{t}")
        if ra != rb:
            only_a = [r for r in ra if r not in rb][:3]
            only_b = [r for r in rb if r not in ra][:3]
            found[t] = f"{len(ra)} rows on DuckDB, {len(rb)} on Spark; DuckDB only {only_a}; Spark only {only_b}"
    con.close()
    assert tables, "no working tables to compare"
    return found


def ingested(data: Path, wh: Path) -> Path:
    """The data folder's reference data and inbox ingested into a new warehouse ``wh``."""
    ref = reference_of(data)
    with connect(wh) as con:
        write_reference(con, ref)
        ingest(con, data, ref, progress=lambda m: None)
    return wh


def on_both_engines(wh: Path) -> tuple[Path, Path]:
    """The ingested warehouse reconciled on DuckDB and (a copy) on Spark."""
    duck, spk = wh.with_name("duckdb.duckdb"), wh.with_name("spark.duckdb")
    shutil.copy(wh, duck)
    shutil.copy(wh, spk)
    with connect(duck) as con:
        reconcile.run(con)
    with connect(spk) as con:
        engines.reconcile_on(con, "spark", exchange=wh.parent)
    return duck, spk


# The largest values a row may hold (pennytrail.core.money): amounts of $1,000,000,000.00, quantities,
# units and hours of 999,999,999.999, a rate of $1,000 per unit, a factor of 1,000,000; lines that
# each owe the most one line may owe; retentions that round; splits whose products pass 64 bits.
# Its ids are its own, so that it can sit beside the boundary program in one warehouse.
LIMITS_REFERENCE = {
    "programs.csv": """\
        program_id,name,currency,allocation_basis,grower_retention_pct,distribution_deadline_days,period_days,period_anchor
        XTOP,Top,USD,units,33.33,3660,7,2026-01-05
        XWAG,Wages,USD,gross_wages,7.65,3660,14,2026-01-05
        XHRS,Hours,USD,hours,99.99,3660,7,2026-01-05
        """,
    "parties.csv": """\
        party_id,party_type,name,program_id
        XB1,buyer,Buyer at the limits,
        XR1,intermediary,Repacker at the limits,
        XG1,grower,Grower One,XTOP
        XG2,grower,Grower Two,XWAG
        XG3,grower,Grower Three,XHRS
        """,
    "rates.csv": """\
        program_id,commodity,rate,rate_unit,effective_from,effective_to
        XTOP,gold,1000,lb,2020-01-01,
        XWAG,dust,0.000001,lb,2020-01-01,
        XHRS,gold,999.999999,mt,2020-01-01,
        """,
    "units.csv": """\
        unit,base_unit,factor
        lb,lb,1
        mt,lb,1000000
        """,
}


def limits_program(data: Path, beside: bool = False) -> Path:
    """The program at the limits under ``data``; ``beside``: added to the program already there
    (its reference rows appended, the units it already has left out)."""
    if not beside:
        small_data_dir(data)
    for name, text in LIMITS_REFERENCE.items():
        path = data / "reference" / name
        if beside:
            have = path.read_text(encoding="utf-8")
            rows = [r.strip() for r in text.splitlines()[1:] if r.strip() and f"\n{r.strip()}\n" not in have]
            path.write_text(have.rstrip("\n") + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
        else:
            write(path, text)
    big = "1000000000.00"
    lines = [f"XB1,I1,{i},2026-01-0{6 + i % 2},,XG1,XG1,gold,1000000,lb,{big}" for i in range(1, 13)]
    lines += [f"XB1,I2,{i},2026-01-06,,XG2,XG2,dust,999999999.999,mt,{big}" for i in range(1, 6)]
    lines += [f"XB1,I3,{i},2026-01-13,,XG3,XG3,gold,999999.999,lb,999999999.99" for i in range(1, 4)]
    write(data / "inbox/purchases/limits.csv", PURCHASE_HEADER + "\n" + "\n".join(lines) + "\n")
    sales = [f"XB1,I1,{i},XG1,2026-01-06,XG1,gold,1000000,lb" for i in range(1, 13)]
    sales += [f"XB1,I2,{i},XG2,2026-01-06,XG2,dust,999999999.998,mt" for i in range(1, 6)]
    write(data / "inbox/sales/limits.csv", SALES_HEADER + "\n" + "\n".join(sales) + "\n")
    pays = [f"XP1,{i},XB1,XR1,2026-01-20,XB1,I1,{big}" for i in range(1, 13)]
    pays += [f"XP2,{i},XR1,XG1,2026-01-21,XB1,I1,{'999999999.99' if i == 1 else big}" for i in range(1, 13)]
    pays += [f"XP3,{i},XB1,XG2,2026-01-22,XB1,I2,{big}" for i in range(1, 6)]
    pays += [f"XP4,{i},XB1,XG3,2026-01-23,XB1,I3,999999999.97" for i in range(1, 4)]
    write(data / "inbox/payments/limits.csv", PAYMENT_HEADER + "\n" + "\n".join(pays) + "\n")
    payroll = []
    for g, start, end, workers in (("XG1", "2026-01-05", "2026-01-11", 7), ("XG2", "2026-01-05", "2026-01-18", 5),
                                   ("XG3", "2026-01-12", "2026-01-18", 3)):
        for w in range(1, workers + 1):
            units = "999999999.999" if w % 2 else f"{999999999 - w}.{w:03d}"
            payroll.append(f"{g},{g}-{w},{start},,Worker {w},C1,{end},2026-01-30,{units},{units},"
                           f"{'999999999.99' if w % 3 else big},{big}")
    write(data / "inbox/payroll/limits.csv", PAYROLL_HEADER + "\n" + "\n".join(payroll) + "\n")
    return data


def test_the_boundary_program_and_a_program_at_the_limits_are_the_same_on_both_engines(spark_session, tmp_path):
    """One warehouse holding the hand-checked boundary program and, beside it, the program at the
    largest values a row may hold: every working table the same on both engines."""
    data = limits_program(write_program(tmp_path / "data"), beside=True)
    wh = ingested(data, tmp_path / "wh.duckdb")
    with connect(wh, read_only=True) as con:  # every row at the limits accepted
        assert con.execute("SELECT count(*) FROM quarantine WHERE file LIKE '%limits%'").fetchone()[0] == 0
    duck, spk = on_both_engines(wh)
    assert differences(duck, spk) == {}
    with connect(spk, read_only=True) as con:  # the figures are all there
        owed, funded = con.execute("SELECT sum(owed_cents), (SELECT sum(funded_cents) FROM w_pools "
                                   "WHERE grower_id LIKE 'X%') FROM w_invoice_audit WHERE buyer_id = 'XB1'").fetchone()
        # every line of I1 and I2 owes the most one line may owe; I3's are priced per mt
        assert owed == 17 * 10**11 + 3 * round_half_up(Fraction("999999.999") * Fraction("999.999999") * 100 / 10**6)
        assert funded > 10**12
        assert con.execute("SELECT count(*) FROM w_worker_audit WHERE grower_id LIKE 'X%'").fetchone()[0] == 15
        assert con.execute("SELECT count(*) FROM w_worker_audit WHERE grower_id NOT LIKE 'X%'").fetchone()[0] > 10


def test_an_overflow_is_the_same_clean_error_on_both_engines(spark_session, tmp_path):
    """Sums past 64 bits (payments beyond the row limits, written into the warehouse directly):
    both engines stop at the same stage with an overflow, never a wrapped or NULL cent."""
    wh = ingested(limits_program(tmp_path / "data"), tmp_path / "wh.duckdb")
    with connect(wh) as con:
        con.execute("UPDATE payment_rows SET amount_cents = 4611686018427387904 WHERE payment_id = 'XP1'")
    errors = {}
    for engine in ("duckdb", "spark"):
        copy = tmp_path / f"{engine}.duckdb"
        shutil.copy(wh, copy)
        with connect(copy) as con, pytest.raises(engines.Overflow) as e:
            engines.reconcile_on(con, engine, exchange=tmp_path)
        errors[engine] = str(e.value)
        with connect(copy, read_only=True) as con:  # nothing half-written
            assert con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'w_lines'"
                               ).fetchone()[0] == 0
    same = "reconciliation stage w_invoice_audit failed: a figure is past the largest number the rules compute exactly"
    assert errors["duckdb"].startswith(same + " (an overflow on DuckDB: Conversion Error: Type INT128 with value "
                                              "55340232221128654848")
    assert errors["spark"].startswith(same + " (an overflow on Spark: [ARITHMETIC_OVERFLOW]")
    assert all("\n" not in e for e in errors.values())


# -- the rewrites' values on Spark beside DuckDB's ------------------------------------------------

B = 2**63
DIVISIONS = [(B - 1, 1), (B - 1, 2), (-B, 7), (B, 3), (B + 1, 1), (2 * B + 1, 2), (-(2 * B) - 1, 3),
             (10**31 + 3, 7), (-(10**31), 7), (-7, 2), (7, -2), (0, 5), (5, 0)]


def test_integer_division_is_exact_past_64_bits_and_null_by_zero_as_in_duckdb(spark_session):
    select = ", ".join(f"CAST({a} AS HUGEINT) // CAST({b} AS HUGEINT) AS q{i}, "
                       f"CAST({a} AS HUGEINT) % CAST({b} AS HUGEINT) AS r{i}" for i, (a, b) in enumerate(DIVISIONS))
    duck = duckdb.connect().execute(f"SELECT {select}").fetchone()
    from pennytrail.core.engines import translate

    on_spark = spark_session.sql(translate.to_spark(f"SELECT {select}", {})).collect()[0]
    assert [None if v is None else int(v) for v in on_spark] == list(duck)
    assert duck[10] == (2 * B + 1) // 2 and duck[-2] is None  # past 2^63, and by zero


def test_the_spark_bodies_of_the_dialect_give_duckdbs_values(spark_session):
    from pennytrail.core.engines import translate
    from pennytrail.core.stages import dialect

    cases = {
        "round_half_up_div": [(5, 2), (-5, 2), (7, 3), (-7, 3), ((B - 2) * 100 + 50, 100), (-(B - 2) * 100 - 50, 100), (0, 9)],
        "muldiv": [(10**11, 10**12, 3 * 10**12 + 1), (-(10**11), 7, 3), (B - 1, 1, 1), (5, 0, 1)],
        "mulmod": [(10**11, 10**12, 3 * 10**12 + 1), (-(10**11), 7, 3), (B - 1, 2, 3)],
        "as_int128": [(B - 1,)],
        "base_quantity": [("1234.567", "0.453592"), ("-0.001", "1000000"), ("99999999999.999", "1000000")],
        "owed_cents": [("1234.567", "1", "0.015", "1"), ("1000", "0.453592", "0.01", "1"), ("0.5", "1", "0.01", "1"),
                       ("-0.5", "1", "0.01", "1"), ("3", "1", "0.01", "3.785412"), ("99999999999.999", "1", "0.5", "1")],
        "format_cents": [(0,), (5,), (-5,), (123456789,), (-(B - 1),)],
        "period_of": [("DATE '2026-01-04'", "DATE '2026-01-05'", 7), ("DATE '2026-01-18'", "DATE '2026-01-05'", 14),
                      ("DATE '1999-12-31'", "DATE '2026-01-05'", 14)],
        "month_of": [("DATE '2026-12-31'",)],
        "add_days": [("DATE '2026-02-27'", 2)],
    }
    assert set(cases) == set(translate.SPARK_MACROS)
    select = ", ".join(f"{name}({', '.join(str(a) for a in args)})" for name, calls in cases.items() for args in calls)
    con = duckdb.connect()
    dialect.install(con)
    duck = con.execute(f"SELECT {select}").fetchone()
    on_spark = spark_session.sql(translate.to_spark(f"SELECT {select}", {})).collect()[0]
    assert [str(v) for v in on_spark] == [str(v) for v in duck]


def test_spark_that_cannot_start_is_one_line():
    code = ("from pennytrail.core.engines import spark\n"
            "spark.java_home = lambda: '/nonexistent/java'\n"
            "try:\n    spark.session('local[1]')\nexcept spark.SparkUnavailable as e:\n    print('ERROR', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.startswith("ERROR Spark could not start on local[1]") and out.count("\n") == 1, out


# -- a whole close on Spark ----------------------------------------------------------------------

PUBLISHED = ["worker_audit", "pool_audit", "invoice_audit", "pass_through_audit", "volume_handshake", "exceptions",
             "quarantine"]


def test_a_close_on_spark_publishes_what_a_close_on_duckdb_publishes(spark_session, closed_demo, demo_data,
                                                                      tmp_path):
    """The demo program closed with the reconciliation on Spark (the app's close, as `pennytrail close
    --engine spark` runs it) and on DuckDB (``closed_demo``): the same working and published tables."""
    from pennytrail.app import close

    home = tmp_path / "home"
    shutil.copytree(demo_data, home / "data")
    messages = []
    close(home / "data", home, None, progress=messages.append, engine="spark")
    a, b = closed_demo / "pennytrail.duckdb", home / "pennytrail.duckdb"
    assert differences(a, b) == {}
    assert differences(a, b, PUBLISHED) == {}
    assert not list(home.glob("pennytrail-spark-*"))  # the Parquet exchange is gone
