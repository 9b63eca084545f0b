"""What a quarantined row tells its sender: every code's message names the field and the value,
hints appear only where they fit, and the checks that depend on the rate in force find the right
row when earlier rows of the file are already quarantined. The checks are run directly on the
rows of a file (no warehouse), so each case costs a few milliseconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import data_contracts
from pennytrail.core import validate
from pennytrail.core.reading import read_table, text_column

from .conftest import reference_of, write
from .test_ingest_bad_input import GOOD_LINE, GOOD_PAYROLL, PAYROLL_HEADER, PURCHASE_HEADER

HEADERS = {"payroll": PAYROLL_HEADER, "purchases": PURCHASE_HEADER}


def check(data_dir: Path, kind: str, *rows: str) -> list[tuple[str | None, str | None]]:
    """(code, message) of each row of one file of ``kind``, checked. Each check of the list is
    called here, one after the other on one batch, as ``validate_many`` calls them (a test below
    holds the two equal): what a check calls is then one call away from a test, which is as far
    as mutation testing follows a test (docs/testing.md)."""
    path = write(data_dir / "inbox" / kind / "f.csv", HEADERS[kind] + "\n" + "\n".join(rows) + "\n")
    raw, contract = read_table(path), data_contracts.load(kind)
    text = pd.DataFrame({c: pd.Series(pd.arrays.ArrowStringArray(text_column([raw.table], c, "")), copy=False)
                         for c in contract["columns"]})
    b = validate.Batch(kind, contract, reference_of(data_dir), text, np.zeros(raw.rows, dtype=int), raw.row_numbers)
    for each in validate.CHECKS:
        each(b)
    return list(zip(b.code, b.message))


def test_the_checks_called_one_by_one_give_what_validate_many_gives(data_dir):
    rows = [GOOD_PAYROLL, GOOD_PAYROLL.replace("W1", ""), GOOD_PAYROLL.replace(",40,", ",4x,"),
            GOOD_PAYROLL.replace("65.00", "65.001"), GOOD_PAYROLL.replace("G1,", "B1,", 1),
            GOOD_PAYROLL.replace("W1", "W2"), GOOD_PAYROLL.replace("W1", "W2"),
            GOOD_PAYROLL.replace("2026-01-11", "2026-01-12"),  # the checks of payroll only
            GOOD_PAYROLL.replace("W1", "W3"), GOOD_PAYROLL.replace("W1", "W3").replace(",,", ",2026-01-05,", 1)]
    got = check(data_dir, "payroll", *rows)
    c = validate.validate_many([read_table(data_dir / "inbox/payroll/f.csv")], "payroll", reference_of(data_dir))
    assert got == list(zip(c.code, c.message))
    assert [code for code, _ in got] == [None, "MISSING_FIELD", "BAD_NUMBER", "BAD_AMOUNT", "WRONG_PARTY_TYPE",
                                         "DUPLICATE_KEY", "DUPLICATE_KEY", "PERIOD_MISALIGNED",
                                         "DUPLICATE_KEY", "DUPLICATE_KEY"]  # a blank premium start is the start


def test_a_flagged_value_is_quoted_as_it_was_with_what_cannot_be_seen_shown_by_its_code():
    shown = validate._values(pd.Series(["G1", "W\u200b1", "x" * 41, ""]))
    assert shown(np.array([0, 1, 2, 3])) == ["'G1'", "'W\\u200b1'", "'" + "x" * 40 + "…'", "''"]
    assert shown(np.array([], dtype=int)) == []


@pytest.mark.parametrize("kind,columns", [
    ("payroll", ["grower_id", "worker_id", "crew_id"]),
    ("purchases", ["buyer_id", "invoice_id", "line_no", "seller_id", "grower_id", "unit"]),
    ("payments", ["payment_id", "line_no", "payer_id", "payee_id", "buyer_id", "invoice_id"]),
])
def test_only_ids_units_and_parties_are_held_to_what_an_id_may_hold(data_dir, kind, columns):
    """A name or a number is not an id: it may hold any letter; what it may hold is its own check."""
    b = validate.Batch(kind, data_contracts.load(kind), reference_of(data_dir), pd.DataFrame(), np.zeros(0, int),
                       np.zeros(0, int))
    assert sorted(validate._id_columns(b)) == sorted(columns)


def test_a_name_may_hold_what_an_id_may_not(data_dir):
    name = "Ana\u200b Cr\u00fcz \uff21"  # a zero-width space, an umlaut and a full-width letter
    got = check(data_dir, "payroll", GOOD_PAYROLL.replace("Ana Cruz", name),
                GOOD_PAYROLL.replace("W1", "W\uff12"))
    assert [code for code, _ in got] == [None, "BAD_ID"]


NOT_A_NUMBER = "hours: expected a number such as 12.5, got '{}'"
PLACES = "hours: expected at most 3 decimal places and 15 digits before the point, got '{}'"
TOO_LARGE = ("hours: '{}' is more than 1,000,000,000, the largest value pennytrail holds; check the value "
             "(a misplaced decimal point?)")


@pytest.mark.parametrize("value,message", [
    ("", None), ("0", None), ("40", None), ("+40", None), ("40.", None), (".5", None), ("0040.500", None),
    ("1.2340000", None),  # trailing zeros are no decimal places
    ("1000000000", None), ("1000000000.000", None), ("999999999.999", None),
    ("1.2345", PLACES), ("0.0001", PLACES), ("1234567890123456", PLACES),
    ("1000000000.001", TOO_LARGE), ("1000000001", TOO_LARGE), ("999999999999999", TOO_LARGE),
    ("4x", NOT_A_NUMBER), ("1e3", NOT_A_NUMBER), ("1 000", NOT_A_NUMBER), ("--4", NOT_A_NUMBER), (".", NOT_A_NUMBER),
    ("1,000", NOT_A_NUMBER + " (remove currency signs and thousands separators)"),
    ("€40", NOT_A_NUMBER + " (remove currency signs and thousands separators)"),
])
def test_a_number_is_a_plain_numeral_of_at_most_three_places_and_a_billion(data_dir, value, message):
    """Each value is told apart by what is wrong with it: not a numeral (with a hint where it
    holds a currency sign or a separator), too many places or digits, or beyond the range held."""
    [(code, got)] = check(data_dir, "payroll", GOOD_PAYROLL.replace(",40,", f',"{value}",'))
    assert (code, got) == (("BAD_NUMBER", message.format(value)) if message else (None, None))


@pytest.mark.parametrize("value,code", [("12.340", None), ("12.345", "BAD_AMOUNT"), ("$12.00", "BAD_AMOUNT"),
                                        ("12,00", "BAD_AMOUNT"), ("-0.00", None), ("-0.01", "NEGATIVE_VALUE"),
                                        ("0.001", "BAD_AMOUNT")])
def test_an_amount_is_whole_cents_and_not_below_zero(data_dir, value, code):
    [(got, message)] = check(data_dir, "payroll", GOOD_PAYROLL.replace("10.00", f'"{value}"'))
    assert got == code
    if code == "BAD_AMOUNT":
        assert message.startswith("premium_paid: expected ") and f"'{value}'" in message
        assert ("(remove currency signs" in message) == ("$" in value or "," in value)


@pytest.mark.parametrize("kind,row,code,words", [
    ("payroll", GOOD_PAYROLL.replace("W1", ""), "MISSING_FIELD", ["worker_id", "blank"]),
    ("payroll", GOOD_PAYROLL.replace("2026-01-16", "2026-02-30"), "BAD_DATE", ["pay_date", "'2026-02-30'"]),
    ("payroll", GOOD_PAYROLL.replace(",40,", ",4x,"), "BAD_NUMBER", ["hours", "'4x'"]),
    ("payroll", GOOD_PAYROLL.replace("65.00", "65.001"), "BAD_AMOUNT", ["gross_wages", "'65.001'"]),
    ("payroll", GOOD_PAYROLL.replace(",100,", ",-100,"), "NEGATIVE_VALUE", ["units", "'-100'"]),
    ("payroll", GOOD_PAYROLL.replace("G1,", "G9,", 1), "UNKNOWN_PARTY", ["grower_id", "'G9'", "parties.csv"]),
    ("payroll", GOOD_PAYROLL.replace("G1,", "B1,", 1), "WRONG_PARTY_TYPE", ["grower_id", "'B1'", "buyer", "grower"]),
    ("payroll", GOOD_PAYROLL.replace("W1", "W\u200b1"), "BAD_ID", ["worker_id", "\\u200b"]),
    ("purchases", GOOD_LINE.replace("box_25lb", "crate"), "UNKNOWN_UNIT", ["unit", "'crate'", "units.csv"]),
    ("purchases", GOOD_LINE.replace("tomatoes", "peppers"), "NO_RATE",
     ["program FFP", "'peppers'", "2026-01-06", "rates.csv"]),
    ("purchases", GOOD_LINE.replace("box_25lb", "gal"), "UNIT_MISMATCH", ["'gal'", "'lb'", "base unit"]),
])
def test_each_code_says_which_field_and_value_and_what_was_expected(data_dir, kind, row, code, words):
    [(got, message)] = check(data_dir, kind, row)
    assert got == code and isinstance(message, str)
    for w in words:
        assert w in message, (w, message)


def test_a_rate_is_in_force_on_its_first_and_its_last_day(data_dir):
    """rates.csv's effective_from and effective_to are both inclusive: a line shipped on either
    day has that rate; the day before and the day after have none."""
    write(data_dir / "reference/rates.csv", "program_id,commodity,rate,rate_unit,effective_from,effective_to\n"
          "FFP,tomatoes,0.01,lb,2026-01-05,2026-01-31\n")
    days = ["2026-01-04", "2026-01-05", "2026-01-31", "2026-02-01"]
    got = check(data_dir, "purchases", *[GOOD_LINE.replace("2026-01-06", d).replace(",1,", f",{i},")
                                         for i, d in enumerate(days)])
    assert [code for code, _ in got] == ["NO_RATE", None, None, "NO_RATE"]


def test_rate_checks_find_their_row_after_rows_already_quarantined(data_dir):
    """The rate in force is kept by row position: a unit mismatch and a line owing too much are
    found on the rows that have them, whatever was quarantined before them."""
    write(data_dir / "reference/rates.csv", "program_id,commodity,rate,rate_unit,effective_from,effective_to\n"
          "FFP,tomatoes,1000,lb,2020-01-01,\n")
    rows = [
        GOOD_LINE.replace("2026-01-06", "someday"),                                     # BAD_DATE
        GOOD_LINE.replace(",1,", ",2,").replace("tomatoes", "peppers"),                 # NO_RATE
        GOOD_LINE.replace(",1,", ",3,").replace("box_25lb", "gal"),                     # UNIT_MISMATCH
        GOOD_LINE.replace(",1,", ",4,").replace(",10,", ",2000000,").replace(",2.50", ","),  # OWED_TOO_LARGE
        GOOD_LINE.replace(",1,", ",5,").replace(",2.50", ","),                          # accepted
    ]
    got = check(data_dir, "purchases", *rows)
    assert [code for code, _ in got] == ["BAD_DATE", "NO_RATE", "UNIT_MISMATCH", "OWED_TOO_LARGE", None]
    assert "'gal'" in got[2][1]
    assert "'2000000' box_25lb owes $50,000,000,000.00" in got[3][1]


@pytest.mark.parametrize("value,hinted", [
    ("46038", True), ("46038.5", True),        # an Excel date number
    ("2026/01/16", False), ("Jan 5", False),   # not a number: five characters is not enough
    ("123456", False), ("4603", False),        # a number, but not five digits before the point
    ("46038.5.1", False),                      # two points: not a number
])
def test_the_excel_date_hint_is_given_only_for_a_date_number(data_dir, value, hinted):
    [(code, message)] = check(data_dir, "payroll", GOOD_PAYROLL.replace("2026-01-16", value))
    assert code == "BAD_DATE" and f"got '{value}'" in message
    assert ("Excel date number" in message) is hinted


@pytest.mark.parametrize("value,hinted", [
    ("$65.00", True), ("1,065.00", True), ("€65", True), ("£65", True),
    ("65 USD", False), ("sixty", False),
])
def test_the_currency_hint_is_given_only_for_currency_signs_and_separators(data_dir, value, hinted):
    [(code, message)] = check(data_dir, "payroll", GOOD_PAYROLL.replace("65.00", f'"{value}"'))
    assert code == "BAD_AMOUNT" and f"got '{value}'" in message
    assert ("remove currency signs" in message) is hinted


def test_a_line_may_owe_exactly_the_limit_and_half_a_cent_more_rounds_over_it(data_dir):
    """What a line owes is exact: a rate per hundredweight on a quantity in pounds is divided by
    the units' factors, the limit itself is allowed, and an owed amount half a cent above it
    rounds up (SPEC's half up) and is refused, with no binary float on the way."""
    write(data_dir / "reference/rates.csv", "program_id,commodity,rate,rate_unit,effective_from,effective_to\n"
          "FFP,tomatoes,500,cwt,2020-01-01,\n")
    line = GOOD_LINE.replace(",2.50", ",")
    got = check(data_dir, "purchases",
                line.replace(",10,box_25lb,", ",200000000,lb,"),                       # $1,000,000,000.00
                line.replace(",1,", ",2,").replace(",10,box_25lb,", ",8000000,box_25lb,"),  # the same in boxes
                line.replace(",1,", ",3,").replace(",10,box_25lb,", ",200000000.001,lb,"))  # $0.005 more
    assert [code for code, _ in got] == [None, None, "OWED_TOO_LARGE"]
    assert "owes $1,000,000,000.01" in got[2][1]


@pytest.mark.parametrize("start,end,pay,code", [
    ("2026-01-12", "2026-01-18", "2026-01-23", None),                 # the period after the anchor's
    ("2025-12-29", "2026-01-04", "2026-01-09", None),                 # the period before it
    ("2026-03-30", "2026-04-05", "2026-04-10", None),                 # twelve periods on
    ("2026-01-13", "2026-01-19", "2026-01-23", "PERIOD_MISALIGNED"),  # a day off
])
def test_any_pay_period_of_the_program_is_aligned_not_only_the_anchors(data_dir, start, end, pay, code):
    row = GOOD_PAYROLL.replace("2026-01-05", start).replace("2026-01-11", end).replace("2026-01-16", pay)
    [(got, _)] = check(data_dir, "payroll", row)
    assert got == code


def test_a_rate_that_is_no_binary_fraction_owes_its_exact_half_cent(data_dir):
    """0.3 has no exact binary float (the nearest is a little less): 133,333,333.334 boxes of 25 lb
    at $0.30 a pound owe exactly $1,000,000,000.005, which rounds half up past the limit; a
    thousandth of a box less owes $999,999,999.9975, which rounds to the limit itself."""
    write(data_dir / "reference/rates.csv", "program_id,commodity,rate,rate_unit,effective_from,effective_to\n"
          "FFP,tomatoes,0.3,lb,2020-01-01,\n")
    line = GOOD_LINE.replace(",2.50", ",")
    got = check(data_dir, "purchases", line.replace(",10,", ",133333333.333,"),
                line.replace(",1,", ",2,").replace(",10,", ",133333333.334,"))
    assert [code for code, _ in got] == [None, "OWED_TOO_LARGE"]
    assert "owes $1,000,000,000.01" in got[1][1]


def test_a_premium_period_start_is_checked_on_its_own_and_a_blank_one_is_the_period_start(data_dir):
    """premium_period_start names a pay period of the program too: an earlier aligned one passes,
    a misaligned one is refused under its own name while its row's period_start is fine, and a
    blank one is the period_start (checked once, as period_start)."""
    base = GOOD_PAYROLL.replace("2026-01-05,,", "2026-01-05,{},")
    got = check(data_dir, "payroll", base.format("2025-12-29"), base.format("2025-12-30").replace("W1", "W2"),
                base.format("").replace("W1", "W3").replace("2026-01-05", "2026-01-06")
                .replace("2026-01-11", "2026-01-12"))
    assert [code for code, _ in got] == [None, "PERIOD_MISALIGNED", "PERIOD_MISALIGNED"]
    rule = " is not the first day of a pay period of the grower's program (periods of 7 days from 2026-01-05)"
    assert got[1][1] == "premium_period_start: 2025-12-30" + rule
    assert got[2][1] == "period_start: 2026-01-06" + rule


@pytest.mark.parametrize("end,code", [("2026-01-11", None), ("2026-01-12", "PERIOD_MISALIGNED"),
                                      ("2026-01-10", "PERIOD_MISALIGNED")])
def test_a_period_ends_on_its_last_day_and_the_message_gives_the_day_expected(data_dir, end, code):
    [(got, message)] = check(data_dir, "payroll", GOOD_PAYROLL.replace("2026-01-11", end))
    assert got == code
    if code:
        assert message == f"period_end: expected 2026-01-11 for a period starting 2026-01-05, got '{end}'"


def test_a_key_twice_in_one_file_quarantines_both_rows_and_names_the_first(data_dir):
    """Within a file a key is one row. payroll's key holds premium_period_start with a blank read as
    period_start: a blank and the same date written out are one key, two premium periods of one
    pay period are two keys. A row already refused for another reason is no duplicate."""
    given = GOOD_PAYROLL.replace("2026-01-05,,", "2026-01-05,2026-01-05,")
    earlier = GOOD_PAYROLL.replace("W1", "W3").replace("2026-01-05,,", "2026-01-05,2025-12-29,")
    got = check(data_dir, "payroll",
                GOOD_PAYROLL,                             # row 2
                GOOD_PAYROLL.replace("W1", "W2"),         # row 3: another worker
                given,                                    # row 4: row 2's key, written out
                GOOD_PAYROLL.replace("W1", "W3"),         # row 5: W3's own premium period
                earlier,                                  # row 6: W3's earlier premium period
                GOOD_PAYROLL.replace("W1", "W2").replace(",40,", ",4x,"))  # row 7: refused first
    assert [code for code, _ in got] == ["DUPLICATE_KEY", None, "DUPLICATE_KEY", None, None, "BAD_NUMBER"]
    message = ("grower_id + worker_id + period_start + premium_period_start appears more than once in this "
               "file (first at row 2); send one row per key")
    assert got[0][1] == got[2][1] == message


def test_a_key_in_two_files_is_no_duplicate_and_each_row_keeps_its_file_and_row(data_dir):
    """The same key in a later file is a correction, not a duplicate. What the checks hand on keeps,
    for every row, its file, sheet and spreadsheet row, and the contract's columns as text."""
    one = write(data_dir / "inbox/payroll/a.csv", PAYROLL_HEADER + "\n" + GOOD_PAYROLL + "\n"
                + GOOD_PAYROLL.replace("W1", "W2") + "\n")
    two = write(data_dir / "inbox/payroll/b.csv", PAYROLL_HEADER + "\n\n" + GOOD_PAYROLL + "\n")
    c = validate.validate_many([read_table(one), read_table(two)], "payroll", reference_of(data_dir))
    assert list(c.code) == [None, None, None]
    assert c.file_index.tolist() == [0, 0, 1] and c.row_numbers.tolist() == [2, 3, 3]
    assert c.sheets.tolist() == [None, None, None]
    assert list(c.text.columns) == PAYROLL_HEADER.split(",") + ["language"]  # an optional column left out is blank
    assert c.text["worker_id"].tolist() == ["W1", "W2", "W1"] and c.text["premium_period_start"].tolist() == ["", "", ""]


def test_no_file_is_no_row(data_dir):
    c = validate.validate_many([], "payroll", reference_of(data_dir))
    assert len(c.text) == len(c.code) == len(c.file_index) == len(c.sheets) == len(c.row_numbers) == 0
    assert c.row_numbers.dtype.kind == "i"


@pytest.mark.parametrize("value,code", [("1000000000.00", None), ("999999999.99", None),
                                        ("1000000000.01", "BAD_AMOUNT"), ("10000000000", "BAD_AMOUNT")])
def test_an_amount_may_be_the_largest_held_and_not_a_cent_more(data_dir, value, code):
    [(got, message)] = check(data_dir, "payroll", GOOD_PAYROLL.replace("10.00", f'"{value}"'))
    assert got == code
    if code:
        assert message == (f"premium_paid: '{value}' is more than $1,000,000,000.00, the largest value pennytrail "
                           "holds; check the value (a misplaced decimal point?)")


def test_a_file_of_one_line_that_owes_too_much_is_refused(data_dir):
    write(data_dir / "reference/rates.csv", "program_id,commodity,rate,rate_unit,effective_from,effective_to\n"
          "FFP,tomatoes,1000,lb,2020-01-01,\n")
    [(code, message)] = check(data_dir, "purchases", GOOD_LINE.replace(",10,", ",2000000,").replace(",2.50", ","))
    assert code == "OWED_TOO_LARGE" and "owes $50,000,000,000.00" in message
