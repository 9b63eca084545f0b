from fractions import Fraction

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import re

from pennytrail.core.money import NumberError, bounded_numeral_regex, cents, dollars, parse_decimal, round_half_up
from pennytrail.core.warehouse import MACROS


@pytest.mark.parametrize("text,expected", [("12.30", 1230), ("12.340", 1234), ("0", 0), (".5", 50), ("-1.05", -105),
                                           ("+7", 700)])
def test_cents__parses_exactly(text, expected):
    assert cents(text) == expected


@pytest.mark.parametrize("text", ["12.345", "1,234.50", "$12.00", "1e3", "", "abc", "12.3.4"])
def test_cents__rejects_what_is_not_whole_cents(text):
    with pytest.raises(NumberError):
        cents(text)


def test_parse_decimal__trailing_zeros_do_not_count():
    assert parse_decimal("1.2340000", 3) == Fraction(1234, 1000)
    with pytest.raises(NumberError):
        parse_decimal("1.2341", 3)


@pytest.mark.parametrize("x,expected", [(Fraction(1, 2), 1), (Fraction(-1, 2), -1), (Fraction(249, 100), 2),
                                        (Fraction(5, 2), 3), (Fraction(-5, 2), -3), (Fraction(7, 3), 2)])
def test_round_half_up__halves_away_from_zero(x, expected):
    assert round_half_up(x) == expected


@settings(deadline=None)  # a DuckDB connection per example: no wall-time limit on a loaded machine
@given(st.integers(-10**15, 10**15), st.integers(1, 10**6))
def test_round_half_up__sql_twin_agrees(num, den):
    con = duckdb.connect()
    con.execute(MACROS)
    assert con.execute("SELECT round_half_up_div(?::HUGEINT, ?::HUGEINT)", [num, den]).fetchone()[0] == \
        round_half_up(Fraction(num, den))


def test_dollars__formats_for_people():
    assert dollars(-123456) == "-$1,234.56"
    assert dollars(5) == "$0.05"
    assert dollars(0) == "$0.00" and dollars(1) == "$0.01" and dollars(-1) == "-$0.01"


def test_decimal_places__count_the_significant_places_only():
    from pennytrail.core.money import decimal_places

    assert [decimal_places(t) for t in ("12", "12.", "12.340", "0.005", "1.0")] == [0, 0, 2, 3, 0]


@pytest.mark.parametrize("text,fits", [
    ("1000000000", True), ("1000000000.", True), ("1000000000.000", True), ("001000000000", True), ("+1000000000", True),
    ("999999999.999", True), ("-999999999", True), (".125", True), ("1.2340000", True), ("0", True),
    ("1000000000.001", False), ("1000000001", False), ("9999999999", False), ("1.2345", False), ("1e3", False),
    ("", False), (".", False), ("1 000", False),
])
def test_bounded_numeral__at_most_three_places_and_not_beyond_a_billion(text, fits):
    """The one regular expression that decides, without parsing, whether a quantity fits the range held."""
    assert (re.fullmatch(bounded_numeral_regex(3, 1_000_000_000), text) is not None) == fits
