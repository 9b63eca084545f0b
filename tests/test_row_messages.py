"""What a quarantined row tells its sender: every code's message names the field and the value,
hints appear only where they fit, and the checks that depend on the rate in force find the right
row when earlier rows of the file are already quarantined. The checks are run directly on the
rows of a file (no warehouse), so each case costs a few milliseconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from pennytrail.core import validate
from pennytrail.core.reading import read_table

from .conftest import reference_of, write
from .test_ingest_bad_input import GOOD_LINE, GOOD_PAYROLL, PAYROLL_HEADER, PURCHASE_HEADER

HEADERS = {"payroll": PAYROLL_HEADER, "purchases": PURCHASE_HEADER}


def check(data_dir: Path, kind: str, *rows: str) -> list[tuple[str | None, str | None]]:
    """(code, message) of each row of one file of ``kind``, checked."""
    path = write(data_dir / "inbox" / kind / "f.csv", HEADERS[kind] + "\n" + "\n".join(rows) + "\n")
    c = validate.validate_many([read_table(path)], kind, reference_of(data_dir))
    return list(zip(c.code, c.message))


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
