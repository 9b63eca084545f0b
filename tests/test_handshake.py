"""The sellers' side of every invoice line: the volume handshake, its findings, and overdue as of
the close. Tiny inline scenarios over the real ingest, reconciliation and conservation checks."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pennytrail.core import conservation, reconcile
from pennytrail.core.ingest import ingest, write_reference
from pennytrail.core.publish import months_available, publish_months
from pennytrail.core.reference import load_reference
from pennytrail.core.warehouse import connect

from .conftest import REFERENCE, write

PURCHASES = "buyer_id,invoice_id,line_no,ship_date,harvest_date,seller_id,grower_id,commodity,quantity,unit,premium_billed"
SALES = "buyer_id,invoice_id,line_no,seller_id,ship_date,grower_id,commodity,quantity,unit"
PAYROLL = ("grower_id,worker_id,period_start,premium_period_start,worker_name,crew_id,period_end,pay_date,"
           "hours,units,gross_wages,premium_paid")
PAYMENTS = "payment_id,line_no,payer_id,payee_id,paid_date,buyer_id,invoice_id,amount"


def put(data: Path, kind: str, name: str, header: str, *rows: str) -> Path:
    return write(data / "inbox" / kind / name, "\n".join([header, *rows]) + "\n")


def close_core(data: Path) -> Path:
    """Ingest, reconcile and check conservation; every identity must hold. The warehouse's path."""
    db = data.parent / "wh.duckdb"
    ref = load_reference(data)
    with connect(db) as con:
        write_reference(con, ref)
        ingest(con, data, ref, progress=lambda m: None)
        reconcile.run(con)
        failed = [str(r) for r in conservation.run_all(con) if not r.passed]
    assert failed == []
    return db


def query(db: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def handshake(db: Path) -> dict[str, str]:
    return dict(query(db, "SELECT buyer_id || '/' || invoice_id || '/' || line_no, status FROM w_volume_handshake"))


def findings(db: Path) -> list[tuple]:
    return sorted(query(db, "SELECT code, level, party_id, reference, amount_cents FROM w_exceptions WHERE code IN "
                            "('VOLUME_MISMATCH', 'MISSING_PURCHASE', 'MISSING_SALE', 'BILLED_MISMATCH')"))


def test_handshake__boxes_and_pounds_of_the_same_volume_are_confirmed(data_dir):
    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-06,,G1,G1,tomatoes,40,box_25lb,")
    put(data_dir, "sales", "g1.csv", SALES, "B1,I1,1,G1,2026-01-06,G1,tomatoes,1000.000,lb")
    db = close_core(data_dir)
    assert handshake(db) == {"B1/I1/1": "CONFIRMED"}
    assert findings(db) == []
    assert query(db, "SELECT buyer_quantity, buyer_unit, seller_quantity, seller_unit, buyer_owed_cents, "
                     "seller_owed_cents, month, seller_id FROM w_volume_handshake") == [
        (Decimal("40.000"), "box_25lb", Decimal("1000.000"), "lb", 1000, 1000, "2026-01", "G1")]


def test_handshake__cwt_and_pounds_of_the_same_milk_are_confirmed_and_a_pound_more_is_not(data_dir):
    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-06,,D1,D1,milk,1234.5,lb,",
        "B1,I1,2,2026-01-06,,D1,D1,milk,1234.5,lb,")
    put(data_dir, "sales", "d1.csv", SALES, "B1,I1,1,D1,2026-01-06,D1,milk,12.345,cwt",
        "B1,I1,2,D1,2026-01-06,D1,milk,12.346,cwt")
    db = close_core(data_dir)
    assert handshake(db) == {"B1/I1/1": "CONFIRMED", "B1/I1/2": "VOLUME_MISMATCH"}
    # 1234.5 lb = 12.345 cwt → 61.725¢ → 62¢; 12.346 cwt → 61.73¢ → 62¢: a volume apart, the same cents
    assert findings(db) == [("VOLUME_MISMATCH", "buyer", "B1", "B1/I1/2", 0)]
    # each side priced by the rate per cwt, whatever unit it reported in
    assert query(db, "SELECT line_no, owed_cents FROM w_lines ORDER BY 1") == [("1", 62), ("2", 62)]
    assert query(db, "SELECT line_no, owed_cents FROM w_sales_lines ORDER BY 1") == [("1", 62), ("2", 62)]


def test_handshake__each_difference_is_a_volume_mismatch_with_the_sellers_cents_less_the_buyers(data_dir):
    write(data_dir / "reference/rates.csv", REFERENCE["rates.csv"] + "        FFP,grape_tomatoes,0.02,lb,2020-01-01,\n")
    put(data_dir, "purchases", "b1.csv", PURCHASES,
        "B1,I1,1,2026-01-06,,G1,G1,tomatoes,40,box_25lb,",   # quantity: the buyer reports 10 boxes fewer
        "B1,I1,2,2026-01-06,,G1,G1,tomatoes,40,box_25lb,",   # grower
        "B1,I1,3,2026-01-06,,G1,G1,tomatoes,40,box_25lb,",   # commodity
        "B1,I1,4,2026-01-06,,R1,G1,tomatoes,40,box_25lb,")   # seller
    put(data_dir, "sales", "g1.csv", SALES,
        "B1,I1,1,G1,2026-01-06,G1,tomatoes,50,box_25lb",
        "B1,I1,2,G1,2026-01-06,G2,tomatoes,40,box_25lb",
        "B1,I1,3,G1,2026-01-06,G1,grape_tomatoes,40,box_25lb",
        "B1,I1,4,G1,2026-01-06,G1,tomatoes,40,box_25lb")
    db = close_core(data_dir)
    assert set(handshake(db).values()) == {"VOLUME_MISMATCH"}
    assert findings(db) == [("VOLUME_MISMATCH", "buyer", "B1", f"B1/I1/{n}", cents)
                            for n, cents in ((1, 250), (2, 0), (3, 1000), (4, 0))]
    details = dict(query(db, "SELECT reference, detail FROM w_exceptions"))
    assert details["B1/I1/1"].endswith(": the quantity differ")
    assert "the grower" in details["B1/I1/2"] and "the commodity" in details["B1/I1/3"]
    assert "the seller" in details["B1/I1/4"]
    # the row names the purchase line's seller where both sides reported the line
    assert query(db, "SELECT seller_id FROM w_volume_handshake WHERE line_no = '4'") == [("R1",)]


def test_handshake__a_line_only_the_seller_reported_is_missing_purchase(data_dir):
    put(data_dir, "sales", "g1.csv", SALES, "B2,I9,1,G1,2026-01-06,G1,tomatoes,30,box_25lb")
    db = close_core(data_dir)
    assert handshake(db) == {"B2/I9/1": "MISSING_PURCHASE"}
    assert findings(db) == [("MISSING_PURCHASE", "buyer", "B2", "B2/I9/1", 750)]
    # the handshake only flags: nothing is owed without a purchase line
    assert query(db, "SELECT count(*) FROM w_invoice_audit") == [(0,)]


def test_handshake__missing_sale_needs_a_sales_line_of_the_seller_in_the_same_month(data_dir):
    put(data_dir, "purchases", "b1.csv", PURCHASES,
        "B1,I1,1,2026-01-31,,G1,G1,tomatoes,40,box_25lb,",   # G1 reported another January line
        "B1,I1,2,2026-02-01,,G1,G1,tomatoes,40,box_25lb,",   # G1 reported nothing in February
        "B1,I2,1,2026-01-20,,R1,G2,tomatoes,8,box_25lb,",    # the repacker reported January
        "B1,I3,1,2026-01-20,,G2,G2,tomatoes,8,box_25lb,")    # G2 never reports
    put(data_dir, "sales", "g1.csv", SALES, "B2,X1,1,G1,2026-01-02,G1,tomatoes,1,lb")  # to another buyer
    put(data_dir, "sales", "r1.csv", SALES, "B2,X2,1,R1,2026-01-30,G1,tomatoes,1,lb")
    db = close_core(data_dir)
    assert handshake(db) == {"B1/I1/1": "MISSING_SALE", "B1/I1/2": "UNCONFIRMED", "B1/I2/1": "MISSING_SALE",
                             "B1/I3/1": "UNCONFIRMED", "B2/X1/1": "MISSING_PURCHASE", "B2/X2/1": "MISSING_PURCHASE"}
    assert findings(db) == [("MISSING_PURCHASE", "buyer", "B2", "B2/X1/1", 1),
                            ("MISSING_PURCHASE", "buyer", "B2", "B2/X2/1", 1),
                            ("MISSING_SALE", "grower", "G1", "B1/I1/1", 1000),
                            ("MISSING_SALE", "intermediary", "R1", "B1/I2/1", 200)]
    assert query(db, "SELECT month FROM w_volume_handshake WHERE line_no = '2' AND invoice_id = 'I1'") == [("2026-02",)]


def test_handshake__a_sales_correction_wins_keeps_its_history_and_a_resend_changes_nothing(data_dir):
    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-06,,G1,G1,tomatoes,40,box_25lb,")
    put(data_dir, "sales", "g1/2026-01-a.csv", SALES, "B1,I1,1,G1,2026-01-06,G1,tomatoes,44,box_25lb")
    db = close_core(data_dir)
    assert handshake(db) == {"B1/I1/1": "VOLUME_MISMATCH"}
    first = put(data_dir, "sales", "g1/2026-01-b.csv", SALES, "B1,I1,1,G1,2026-01-06,G1,tomatoes,1000,lb")
    db = close_core(data_dir)
    assert handshake(db) == {"B1/I1/1": "CONFIRMED"} and findings(db) == []
    assert query(db, "SELECT file, quantity FROM sales_rows ORDER BY file_seq") == [
        ("inbox/sales/g1/2026-01-a.csv", Decimal("44.000")), ("inbox/sales/g1/2026-01-b.csv", Decimal("1000.000"))]
    before = query(db, "SELECT * FROM w_volume_handshake")
    shutil.copy(first, data_dir / "inbox/sales/g1/again.csv")
    db = close_core(data_dir)
    assert query(db, "SELECT status FROM ingest_log WHERE file = 'inbox/sales/g1/again.csv'") == [("duplicate",)]
    assert query(db, "SELECT * FROM w_volume_handshake") == before
    assert query(db, "SELECT count(*) FROM sales_rows") == [(2,)]


def test_handshake__a_void_purchase_line_stays_a_line_of_the_handshake(data_dir):
    put(data_dir, "purchases", "b1-a.csv", PURCHASES, "B1,I1,1,2026-01-06,,G1,G1,tomatoes,40,box_25lb,",
        "B1,I1,2,2026-01-06,,G1,G1,tomatoes,40,box_25lb,")
    put(data_dir, "purchases", "b1-b.csv", PURCHASES, "B1,I1,2,2026-01-06,,G1,G1,tomatoes,0,box_25lb,")
    put(data_dir, "sales", "g1.csv", SALES, "B1,I1,1,G1,2026-01-06,G1,tomatoes,40,box_25lb")
    db = close_core(data_dir)
    assert handshake(db) == {"B1/I1/1": "CONFIRMED", "B1/I1/2": "MISSING_SALE"}
    assert findings(db) == [("MISSING_SALE", "grower", "G1", "B1/I1/2", 0)]


def test_sales_rows_are_quarantined_with_every_code_in_order(data_dir):
    put(data_dir, "sales", "g1.csv", SALES,
        "B1,I1,1,G1,2026-01-06,G1,,40,box_25lb",
        "B1,I1,2,G1,2026-01-32,G1,tomatoes,40,box_25lb",
        "B1,I1,3,G1,2026-01-06,G1,tomatoes,4.0001,box_25lb",
        "B1,I1,4,G1,2026-01-06,G1,tomatoes,-4,box_25lb",
        "B1,I1,5,G9,2026-01-06,G1,tomatoes,40,box_25lb",
        "B1,I1,6,B2,2026-01-06,G1,tomatoes,40,box_25lb",
        "B1,I1,7,G1,2026-01-06,G1,tomatoes,40,crate",
        "B1,I1,8,G1,2026-01-06,G1,peppers,40,box_25lb",
        "B1,I1,9,G1,2026-01-06,G1,tomatoes,40,gal",
        "B1,I1,10,G1,2026-01-06,G1,tomatoes,40,box_25lb",
        "B1,I1,10,G1,2026-01-06,G1,tomatoes,41,box_25lb",
        "B1,I1,11,G1,2026-01-06,G1,tomatoes,40,box_25lb")
    db = close_core(data_dir)
    assert query(db, "SELECT row_number, kind, code FROM quarantine ORDER BY row_number") == [
        (2, "sales", "MISSING_FIELD"), (3, "sales", "BAD_DATE"), (4, "sales", "BAD_NUMBER"),
        (5, "sales", "NEGATIVE_VALUE"), (6, "sales", "UNKNOWN_PARTY"), (7, "sales", "WRONG_PARTY_TYPE"),
        (8, "sales", "UNKNOWN_UNIT"), (9, "sales", "NO_RATE"), (10, "sales", "UNIT_MISMATCH"),
        (11, "sales", "DUPLICATE_KEY"), (12, "sales", "DUPLICATE_KEY")]
    assert query(db, "SELECT rows_read, rows_accepted, rows_quarantined FROM ingest_log") == [(12, 1, 11)]
    assert handshake(db) == {"B1/I1/11": "MISSING_PURCHASE"}


def test_billed_mismatch_names_the_seller_who_issued_the_invoice(data_dir):
    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-06,,R1,G1,tomatoes,40,box_25lb,9.00",
        "B1,I2,1,2026-01-06,,G2,G2,tomatoes,40,box_25lb,11.00")
    db = close_core(data_dir)
    assert findings(db) == [("BILLED_MISMATCH", "grower", "G2", "B1/I2/1", 100),
                            ("BILLED_MISMATCH", "intermediary", "R1", "B1/I1/1", -100)]


def _stopped_grower(data: Path) -> None:
    """G1's workers picked in the week of 2026-01-05; its only stub (paid 2026-01-16) carries no
    premium, and G1 sends no payroll after it. The pool is due 2026-01-11 + 14 days (paid 01-09)."""
    put(data, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-06,,G1,G1,tomatoes,40,box_25lb,")
    put(data, "payments", "b1.csv", PAYMENTS, "P1,1,B1,G1,2026-01-09,B1,I1,10.00")
    put(data, "payroll", "g1.csv", PAYROLL, "G1,W1,2026-01-05,,Ana,,2026-01-11,2026-01-16,40,100,65.00,0.00")


def overdue(db: Path) -> list[tuple]:
    return query(db, "SELECT worker_id, status, CAST(due_date AS VARCHAR), overdue FROM w_worker_audit")


def test_overdue__judged_against_the_latest_date_of_any_kind_not_the_growers_own_payroll(data_dir):
    _stopped_grower(data_dir)
    db = close_core(data_dir)
    assert query(db, "SELECT CAST(as_of_date AS VARCHAR) FROM w_as_of") == [("2026-01-16",)]
    assert overdue(db) == [("W1", "UNPAID", "2026-01-25", False)]
    # the program moves on: another grower's payroll, paid the day after the due date
    put(data_dir, "payroll", "g2.csv", PAYROLL, "G2,W9,2026-01-12,,Bo,,2026-01-18,2026-01-26,40,100,65.00,0.00")
    db = close_core(data_dir)
    assert query(db, "SELECT CAST(as_of_date AS VARCHAR) FROM w_as_of") == [("2026-01-26",)]
    assert overdue(db) == [("W1", "UNPAID", "2026-01-25", True)]


def test_overdue__the_due_date_itself_is_not_after_it(data_dir):
    _stopped_grower(data_dir)
    put(data_dir, "purchases", "b2.csv", PURCHASES, "B2,J1,1,2026-01-25,,G2,G2,tomatoes,1,lb,")
    db = close_core(data_dir)
    assert [r[3] for r in overdue(db)] == [False]


def test_overdue__a_sellers_ship_date_is_evidence_too(data_dir):
    _stopped_grower(data_dir)
    put(data_dir, "sales", "g2.csv", SALES, "B2,J1,1,G2,2026-02-02,G2,tomatoes,1,lb")
    db = close_core(data_dir)
    assert query(db, "SELECT CAST(as_of_date AS VARCHAR) FROM w_as_of") == [("2026-02-02",)]
    assert [r[3] for r in overdue(db)] == [True]


def test_overdue__a_buyers_ship_date_is_evidence_too(data_dir):
    _stopped_grower(data_dir)
    put(data_dir, "purchases", "b2.csv", PURCHASES, "B2,J1,1,2026-01-26,,G2,G2,tomatoes,1,lb,")
    db = close_core(data_dir)
    assert query(db, "SELECT CAST(as_of_date AS VARCHAR) FROM w_as_of") == [("2026-01-26",)]
    assert [r[3] for r in overdue(db)] == [True]


def test_handshake__a_row_is_in_the_month_of_the_purchase_lines_ship_date_when_both_reported(data_dir):
    """The buyer shipped on 01-31 and the seller wrote 02-01: one line, January's. A line only the
    seller reported is in the month of the seller's date."""
    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-31,,G1,G1,tomatoes,40,box_25lb,")
    put(data_dir, "sales", "g1.csv", SALES, "B1,I1,1,G1,2026-02-01,G1,tomatoes,40,box_25lb",
        "B1,I1,2,G1,2026-02-01,G1,tomatoes,1,lb")
    db = close_core(data_dir)
    assert query(db, "SELECT line_no, month, status FROM w_volume_handshake ORDER BY 1") == [
        ("1", "2026-01", "CONFIRMED"), ("2", "2026-02", "MISSING_PURCHASE")]


def test_handshake__the_same_number_in_two_base_units_is_no_confirmation(data_dir):
    """Honey's rate changes from per pound to per gallon on 2026-01-10. The buyer reports 10 lb
    shipped on 01-09, the seller 10 gal on 01-10: the same grower, seller, commodity and number,
    but a pound is no gallon."""
    write(data_dir / "reference/rates.csv", REFERENCE["rates.csv"] + "        FFP,honey,0.01,lb,2020-01-01,2026-01-09\n"
          "        FFP,honey,0.01,gal,2026-01-10,\n")
    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-09,,G1,G1,honey,10,lb,")
    put(data_dir, "sales", "g1.csv", SALES, "B1,I1,1,G1,2026-01-10,G1,honey,10,gal")
    db = close_core(data_dir)
    assert handshake(db) == {"B1/I1/1": "VOLUME_MISMATCH"}
    assert query(db, "SELECT detail FROM w_exceptions WHERE code = 'VOLUME_MISMATCH'")[0][0].endswith(
        ": the quantity differ")


def test_the_handshake_only_flags_what_is_owed_paid_and_pooled_comes_from_purchases(data_dir, tmp_path):
    _stopped_grower(data_dir)
    without = close_core(data_dir)
    tables = ["w_invoice_audit", "w_pools", "w_pass_through"]
    before = {t: query(without, f"SELECT * FROM {t} ORDER BY ALL") for t in tables}
    shutil.copytree(data_dir, tmp_path / "second" / "data")
    other = tmp_path / "second" / "data"
    put(other, "sales", "g1.csv", SALES, "B1,I1,1,G1,2026-01-06,G1,tomatoes,90,box_25lb",
        "B1,I1,2,G1,2026-01-06,G1,tomatoes,90,box_25lb")
    with_sales = close_core(other)
    assert {t: query(with_sales, f"SELECT * FROM {t} ORDER BY ALL") for t in tables} == before
    assert sorted(handshake(with_sales).values()) == ["MISSING_PURCHASE", "VOLUME_MISMATCH"]


def test_conservation__every_line_in_exactly_one_handshake_row_can_fail(data_dir):
    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-06,,G1,G1,tomatoes,40,box_25lb,")
    put(data_dir, "sales", "g1.csv", SALES, "B1,I1,1,G1,2026-01-06,G1,tomatoes,40,box_25lb",
        "B1,I1,2,G1,2026-01-06,G1,tomatoes,40,box_25lb")
    db = close_core(data_dir)
    with connect(db) as con:
        con.execute("DELETE FROM w_volume_handshake WHERE line_no = '2'")
        con.execute("INSERT INTO w_volume_handshake SELECT * FROM w_volume_handshake WHERE line_no = '1'")
        result = conservation.run_check(con, "handshake_covers_every_line")
    assert not result.passed and result.offenders == 3
    assert {(r["kind"], r["line_no"], r["handshake_rows"]) for r in result.sample} == {
        ("purchases", "1", "2"), ("sales", "1", "2"), ("sales", "2", "0")}


UNITS = {"lb": 1, "box_25lb": 25, "cwt": 100}
quantities = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(quantities, st.sampled_from(sorted(UNITS)), st.sampled_from(sorted(UNITS)),
                          st.booleans()), min_size=1, max_size=8))
def test_handshake__confirmed_exactly_when_the_base_quantities_are_equal(tmp_path_factory, lines):
    """Either the seller reports the buyer's volume converted exactly into its own unit, or a
    quantity a thousandth of its unit off; CONFIRMED exactly when quantity × factor agree."""
    data = tmp_path_factory.mktemp("hs") / "data"
    for name, text in REFERENCE.items():
        write(data / "reference" / name, text)
    bought, sold, want = [], [], {}
    for n, (q, unit, other, same) in enumerate(lines, start=1):
        seller_q = (q * UNITS[unit] / UNITS[other]).quantize(Decimal("0.001")) + (0 if same else Decimal("0.001"))
        bought.append(f"B1,I1,{n},2026-01-06,,G1,G1,tomatoes,{q:f},{unit},")
        sold.append(f"B1,I1,{n},G1,2026-01-06,G1,tomatoes,{seller_q:f},{other}")
        want[f"B1/I1/{n}"] = ("CONFIRMED" if seller_q * UNITS[other] == q * UNITS[unit] else "VOLUME_MISMATCH")
    put(data, "purchases", "b1.csv", PURCHASES, *bought)
    put(data, "sales", "g1.csv", SALES, *sold)
    assert handshake(close_core(data)) == want


def test_reports_show_the_handshake_where_people_look(closed_demo, tmp_path):
    """The close workbook's Handshake sheet, `trace invoice` and each buyer's statement carry the
    handshake rows of the warehouse; an invoice only its seller reported can still be traced."""
    import json

    import openpyxl

    from pennytrail.core.confirmations import figures
    from reports.close import write_close_workbook
    from pennytrail.core.trace import trace_invoice

    key = json.loads((closed_demo / "data/answer_key.json").read_text())
    missing = next(h["reference"] for h in key["handshake"] if h["status"] == "MISSING_PURCHASE")
    buyer, invoice, line = missing.split("/")
    db = closed_demo / "pennytrail.duckdb"
    month = query(db, "SELECT month FROM volume_handshake WHERE buyer_id = ? AND invoice_id = ? AND line_no = ?",
                  [buyer, invoice, line])[0][0]
    with connect(db, read_only=True) as con:
        write_close_workbook(con, month, tmp_path / "close.xlsx")
        notes, tables = trace_invoice(con, buyer, invoice)
        statement = figures(con, buyer, month)
    sheet = openpyxl.load_workbook(tmp_path / "close.xlsx")["Handshake"]
    rows = {(r[0], r[1], r[2]): r[10] for r in list(sheet.iter_rows(min_row=2, values_only=True))[:-1]}  # not the total
    assert rows == {(b, i, n): s for b, i, n, s in query(
        db, "SELECT buyer_id, invoice_id, line_no, status FROM volume_handshake WHERE month = ?", [month])}
    summary = [r[0] for r in openpyxl.load_workbook(tmp_path / "close.xlsx")["Summary"].iter_rows(values_only=True)]
    assert any(str(s).startswith("Overdue as of " + key["as_of_date"]) for s in summary)
    handshake_table = next(t for t in tables if t.title == "Handshake")
    assert {r["line_no"]: r["status"] for r in handshake_table.rows}[line] == "MISSING_PURCHASE"
    assert any("MISSING_PURCHASE" in n for n in notes)
    lines = {(h["invoice_id"], h["line_no"]): h for h in statement["invoice_lines"]}
    assert lines[(invoice, line)]["seller_confirmed"] is False
    confirmed = query(db, "SELECT invoice_id, line_no FROM w_volume_handshake WHERE buyer_id = ? AND status = "
                          "'CONFIRMED' AND invoice_id IN (SELECT invoice_id FROM invoice_audit WHERE buyer_id = ? "
                          "AND month = ?)", [buyer, buyer, month])
    assert confirmed and all(lines[k]["seller_confirmed"] for k in confirmed)


def test_trace_invoice__an_invoice_only_its_seller_reported(data_dir):
    from pennytrail.core.trace import trace_invoice

    put(data_dir, "sales", "g1.csv", SALES, "B2,I9,1,G1,2026-01-06,G1,tomatoes,30,box_25lb")
    db = close_core(data_dir)
    with connect(db) as con:
        publish_months(con, months_available(con))
    with connect(db, read_only=True) as con:
        notes, tables = trace_invoice(con, "B2", "I9")
    assert [r["status"] for r in next(t for t in tables if t.title == "Handshake").rows] == ["MISSING_PURCHASE"]
    assert any("MISSING_PURCHASE" in n for n in notes)
