"""The warehouse's ranges and the program's ids: a value too large to hold or to sum is quarantined
with the limit in its message, sums of values at the limits do not overflow, and ids that print
the same are the same id or are rejected, never two ids."""

from __future__ import annotations

import pytest

from pennytrail.app import close
from pennytrail.core.warehouse import connect

from .conftest import write
from .test_ingest_bad_input import GOOD_LINE, GOOD_PAYROLL, PAYROLL_HEADER, PURCHASE_HEADER, payroll_csv, run

PAYMENT_HEADER = "payment_id,line_no,payer_id,payee_id,paid_date,buyer_id,invoice_id,amount"


@pytest.mark.parametrize("field,value,code,limit", [
    ("premium_paid", "100000000000000.00", "BAD_AMOUNT", "$1,000,000,000.00"),
    ("premium_paid", "1000000000.01", "BAD_AMOUNT", "$1,000,000,000.00"),
    ("units", "1000000000000", "BAD_NUMBER", "1,000,000,000"),
    ("hours", "1000000000.001", "BAD_NUMBER", "1,000,000,000"),
])
def test_a_value_past_the_limit_is_quarantined_with_the_limit(data_dir, field, value, code, limit):
    row = dict(zip(PAYROLL_HEADER.split(","), GOOD_PAYROLL.split(",")))
    row[field] = value
    payroll_csv(data_dir, ",".join(row.values()))
    log, q, payroll, _ = run(data_dir)
    assert payroll == [] and [r[2] for r in q] == [code]
    assert field in q[0][3] and limit in q[0][3] and value[:20] in q[0][3]


def test_values_at_the_limit_are_accepted(data_dir):
    row = dict(zip(PAYROLL_HEADER.split(","), GOOD_PAYROLL.split(",")))
    row.update(premium_paid="1000000000.00", units="001000000000.000")
    payroll_csv(data_dir, ",".join(row.values()))
    log, q, payroll, _ = run(data_dir)
    assert q == [] and payroll[0][4] == 100_000_000_000


def test_a_line_that_would_owe_too_much_is_quarantined_with_the_amount(data_dir):
    # 100,000,000 boxes of 25 lb at 1¢/lb owe $25,000,000: fine; 10,000,000,000 lb is past BAD_NUMBER;
    # 999,999,999 cwt at a high rate owes more than the limit
    write(data_dir / "reference/rates.csv", "program_id,commodity,rate,rate_unit,effective_from,effective_to\n"
          "FFP,tomatoes,0.01,lb,2020-01-01,\nFFP,gold,999.99,lb,2020-01-01,\n")
    lines = [GOOD_LINE.replace(",10,", ",100000000,"),
             GOOD_LINE.replace(",1,", ",2,").replace("tomatoes", "gold").replace(",10,", ",1000000,"),
             GOOD_LINE.replace(",1,", ",3,").replace("tomatoes", "gold").replace(",10,", ",1000,")]
    write(data_dir / "inbox/purchases/b.csv", PURCHASE_HEADER + "\n" + "\n".join(lines).replace(",2.50", ",") + "\n")
    _, q, _, purchases = run(data_dir)
    assert sorted(r[1] for r in purchases) == ["1", "3"]
    assert [(r[1], r[2]) for r in q] == [(3, "OWED_TOO_LARGE")]
    assert "$24,999,750,000.00" in q[0][3] and "$1,000,000,000.00" in q[0][3]


def test_sums_of_many_values_at_the_limits_do_not_overflow(data_dir, tmp_path):
    """Lines that each owe the limit, paid in full by payments at the limit, and payroll at the
    limits, through the real close: every audit sum stays exact."""
    write(data_dir / "reference/rates.csv", "program_id,commodity,rate,rate_unit,effective_from,effective_to\n"
          "FFP,tomatoes,1000,lb,2020-01-01,\n")
    n = 300
    lines = [f"B1,I1,{i},2026-01-06,,G1,G1,tomatoes,1000000,lb,1000000000.00" for i in range(n)]
    write(data_dir / "inbox/purchases/b.csv", PURCHASE_HEADER + "\n" + "\n".join(lines) + "\n")
    pays = [f"P1,{i},B1,G1,2026-01-20,B1,I1,1000000000.00" for i in range(n)]
    write(data_dir / "inbox/payments/p.csv", PAYMENT_HEADER + "\n" + "\n".join(pays) + "\n")
    rows = [GOOD_PAYROLL.replace("W1", f"W{i}").replace(",40,100,65.00,10.00", ",1000000000,1000000000,"
                                                        "1000000000.00,1000000000.00") for i in range(n)]
    payroll_csv(data_dir, "\n".join(rows))
    home = tmp_path / "home"
    close(data_dir, home, None, progress=lambda m: None)
    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        owed, paid = con.execute("SELECT owed_cents, paid_by_buyer_cents FROM invoice_audit").fetchone()
        assert owed == paid == n * 100_000_000_000
        funded, distributed = con.execute("SELECT sum(funded_cents), sum(distributed_cents) FROM pool_audit").fetchone()
        assert funded == n * 100_000_000_000 and distributed == n * 100_000_000_000
        assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0


# -- ids -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("worker_id,words", [
    ("W\u200b1", "U+200B ZERO WIDTH SPACE"),
    ("W\u00a01", "U+00A0 NO-BREAK SPACE"),
    ("W\u20601", "U+2060 WORD JOINER"),
    ("W\ufeff1", "U+FEFF"),
    ("W\u202e1", "U+202E"),
    ("W\x071", "control character"),
    ("\uff371", "FULLWIDTH LATIN CAPITAL LETTER W"),
    ("W\u00b9", "SUPERSCRIPT ONE"),
    ("\u0410B1", "CYRILLIC CAPITAL LETTER A"),
    ("Jose\u0301", "COMBINING ACUTE ACCENT"),
])
def test_an_id_that_prints_like_another_is_rejected_naming_the_character(data_dir, worker_id, words):
    payroll_csv(data_dir, GOOD_PAYROLL.replace("W1", worker_id) + "\n" + GOOD_PAYROLL)
    _, q, payroll, _ = run(data_dir)
    assert [r[0] for r in payroll] == ["W1"]
    assert [(r[1], r[2]) for r in q] == [(2, "BAD_ID")] and "worker_id" in q[0][3] and words in q[0][3]
    assert q[0][3].isprintable()  # the invisible character is shown by its code


@pytest.mark.parametrize("padded", ["\u200bW1", "W1\u200b", "\ufeffW1", "\u00a0W1\u00a0", "W1\u2060", "\tW1 "])
def test_invisible_characters_at_the_ends_are_trimmed_like_spaces(data_dir, padded):
    """Trimmed, the id is W1: the same key as W1, so a second row of it is a duplicate."""
    payroll_csv(data_dir, GOOD_PAYROLL.replace("W1", padded) + "\n" + GOOD_PAYROLL)
    _, q, payroll, _ = run(data_dir)
    assert payroll == [] and [r[2] for r in q] == ["DUPLICATE_KEY", "DUPLICATE_KEY"]


def test_ids_stay_case_sensitive_and_accented_ids_are_ids(data_dir):
    payroll_csv(data_dir, "\n".join([GOOD_PAYROLL, GOOD_PAYROLL.replace("W1", "w1"),
                                     GOOD_PAYROLL.replace("W1", "José"), GOOD_PAYROLL.replace("W1", "Ωμέγα")]))
    _, q, payroll, _ = run(data_dir)
    assert q == [] and sorted(r[0] for r in payroll) == ["José", "W1", "w1", "Ωμέγα"]


def test_a_party_id_with_an_invisible_character_is_not_an_unknown_party(data_dir):
    payroll_csv(data_dir, GOOD_PAYROLL.replace("G1,", "G\u200b1,", 1))
    _, q, _, _ = run(data_dir)
    assert [r[2] for r in q] == ["BAD_ID"] and "grower_id" in q[0][3]


SALES_HEADER = "buyer_id,invoice_id,line_no,seller_id,ship_date,grower_id,commodity,quantity,unit"


@pytest.mark.parametrize("line,code", [
    ("B1,I1,1,G1,2026-01-06,G1,tomatoes,10000000000,lb", "BAD_NUMBER"),
    ("B1,I1,1,G\u200b1,2026-01-06,G1,tomatoes,10,lb", "BAD_ID"),
    ("B1,I1,1,G1,2026-01-06,G1,tomatoes,200000000,box_25lb", None),
])
def test_sales_lines_get_the_same_checks(data_dir, line, code):
    """A seller's report of 200,000,000 boxes of 25 lb at 1 ¢/lb owes $50,000,000: accepted."""
    write(data_dir / "inbox/sales/s.csv", SALES_HEADER + "\n" + line + "\n")
    _, q, _, _ = run(data_dir)
    assert [r[2] for r in q] == ([code] if code else [])


def test_a_sales_line_that_would_owe_too_much_is_quarantined(data_dir):
    write(data_dir / "reference/rates.csv", "program_id,commodity,rate,rate_unit,effective_from,effective_to\n"
          "FFP,tomatoes,1000,lb,2020-01-01,\n")
    write(data_dir / "inbox/sales/s.csv", SALES_HEADER + "\nB1,I1,1,G1,2026-01-06,G1,tomatoes,1000001,lb\n")
    _, q, _, _ = run(data_dir)
    assert [r[2] for r in q] == ["OWED_TOO_LARGE"] and "$1,000,001,000.00" in q[0][3]


@pytest.mark.parametrize("value,problem", [
    ("W\u20031", "holds an invisible character at position 2 (U+2003 EM SPACE): remove it"),  # a space, not the plain one
    ("W\ue0001", "holds an invisible character at position 2 (U+E000 an unnamed character): remove it"),
    ("W\x071", "holds an invisible character (U+0007 a control character): remove it"),
    ("W\x851", "holds an invisible character at position 2 (U+0085 a control character): remove it"),
    ("W\u200d1", "holds an invisible character at position 2 (U+200D ZERO WIDTH JOINER): remove it"),
    ("W\ud8001", "holds an invisible character at position 2 (U+D800 an unnamed character): remove it"),
    ("W\u03781", "holds an invisible character at position 2 (U+0378 an unnamed character): remove it"),
    ("W\u20281", "holds an invisible character at position 2 (U+2028 LINE SEPARATOR): remove it"),
    ("W\u20291", "holds an invisible character at position 2 (U+2029 PARAGRAPH SEPARATOR): remove it"),
    ("W\u00a01", "holds an invisible character at position 2 (U+00A0 NO-BREAK SPACE): remove it"),
    ("\uff371", "holds U+FF37 FULLWIDTH LATIN CAPITAL LETTER W, which reads as 'W1': write it as 'W1'"),
    ("W\uff11", "holds U+FF11 FULLWIDTH DIGIT ONE, which reads as 'W1': write it as 'W1'"),
    ("Jose\u0301", "holds U+0301 COMBINING ACUTE ACCENT, an accent typed as a separate mark: retype it as one "
                   "character ('Jos\u00e9')"),
    ("\u1100\u1161", "holds a character typed in parts: retype it as one character ('\uac00')"),
    ("G\u03bf1", "mixes Latin letters with Greek ones, which look alike ('\u03bf' is U+03BF GREEK SMALL LETTER "
                 "OMICRON): type it in one alphabet"),
    ("\u0430W1", "mixes Latin letters with Cyrillic ones, which look alike ('\u0430' is U+0430 CYRILLIC SMALL LETTER "
                 "A): type it in one alphabet"),
    ("\u0391\u0392\u0393", None), ("\u0430\u0431", None),  # one alphabet, whichever
    ("José 1", None),            # the plain space inside an id with an accent is the plain space
    ("Zoë", None),
])
def test_id_problems_name_the_character_and_its_position(value, problem):
    from pennytrail.core.ids import id_problem

    assert id_problem(value) == problem
