"""Properties aimed at the boundaries: exact half cents, tied remainders and equal dates are
drawn on purpose (random integers almost never land on them), and each rule's Python and SQL
forms are held to an independent statement of it."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pennytrail.core.money import round_half_up
from pennytrail.core.warehouse import MACROS

from .reference_impl import lr_split, rhu
from .split import split, sql_split_over_periods, sql_split_over_workers

SETTINGS = settings(max_examples=150, deadline=None)


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute(MACROS)
    yield c
    c.close()


def by_decimal(num: int, den: int) -> int:
    """Half up, away from zero, by the decimal module: a third statement of the rule."""
    with localcontext() as ctx:
        ctx.prec = 80
        return int((Decimal(num) / Decimal(den)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@st.composite
def on_a_half(draw):
    """num / den exactly k + ½ (den even), or one unit of num either side of it, of either sign."""
    m = draw(st.integers(1, 10**6))
    k = draw(st.integers(0, 10**9))
    nudge = draw(st.sampled_from([0, 0, 0, -1, 1]))
    sign = draw(st.sampled_from([1, -1]))
    return sign * ((2 * k + 1) * m + nudge), 2 * m


@SETTINGS
@given(on_a_half())
def test_round_half_up__at_and_beside_exact_halves(con, case):
    num, den = case
    want = by_decimal(num, den)
    assert round_half_up(Fraction(num, den)) == want
    assert rhu(Fraction(num, den)) == want
    assert con.execute("SELECT round_half_up_div(?::HUGEINT, ?::HUGEINT)", [num, den]).fetchone()[0] == want


@SETTINGS
@given(st.integers(0, 10**12), st.sampled_from([1, 250, 500, 765, 1000, 1250, 1500, 5000, 9999]))
def test_retention__the_grower_keeps_its_rounded_share_and_no_cent_is_lost(con, amount, bp):
    """A retention of bp hundredths of a percent on an amount: at the exact halves that amounts
    ending in 5, 50 or 500 give, the kept cent is rounded up, and kept + passed on = amount."""
    kept = con.execute("SELECT round_half_up_div(?::BIGINT * ?, 10000)", [amount, bp]).fetchone()[0]
    assert kept == by_decimal(amount * bp, 10000)
    assert 0 <= amount - kept <= amount


@st.composite
def tied_split(draw):
    """A split whose remainders tie: equal weights (or weights in a few equal groups, or all
    zero), an amount that is not a multiple of their total, and ids whose string order is not
    their numeric order."""
    n = draw(st.integers(1, 6))
    ids = draw(st.permutations(["1", "10", "2", "9", "a", "B"]))[:n]
    kind = draw(st.sampled_from(["equal", "groups", "zero"]))
    if kind == "equal":
        w = draw(st.integers(1, 10**6))
        weights = {i: w for i in ids}
    elif kind == "groups":
        weights = {i: draw(st.sampled_from([1, 2, 2, 4])) for i in ids}
    else:
        weights = {i: 0 for i in ids}
    total = sum(weights.values()) or n
    amount = draw(st.integers(0, 10**9)) * total + draw(st.integers(1, max(total - 1, 1)))
    return amount, weights


def sql_split(amount: int, weights: dict) -> dict:
    """The split as the SQL runs it over a pool's workers (those with a weight above 0; none
    when every weight is 0) and over an invoice's periods, which must agree."""
    rows = [(0, k, amount, w) for k, w in weights.items()]
    over_periods = {k: s for (_, k), s in sql_split_over_periods(rows).items()}
    shares = sql_split_over_workers(rows)
    assert all(e == f for e, f in shares.values())  # entitled and funded alike, split in one pass
    over_workers = {k: e for (_, k), (e, _) in shares.items()}
    if any(weights.values()):
        assert over_workers == {k: s for k, s in over_periods.items() if weights[k] > 0}
    else:
        assert over_workers == {}
    return over_periods


@SETTINGS
@given(tied_split())
def test_split__tied_remainders_go_to_the_lowest_id_in_string_order(case):
    amount, weights = case
    want = lr_split(amount, weights, tie=lambda k: k)
    assert split(amount, weights) == want
    assert sql_split(amount, weights) == want
    assert sum(want.values()) == amount


@SETTINGS
@given(tied_split())
def test_split__over_periods_the_earlier_period_wins_a_tie(case):
    amount, weights = case
    start = dt.date(2026, 1, 5)
    periods = {start + dt.timedelta(days=7 * i): w for i, w in enumerate(weights.values())}
    want = lr_split(amount, periods, tie=lambda k: k)
    got = {p: s for (_, p), s in sql_split_over_periods((0, p, amount, w) for p, w in periods.items()).items()}
    assert got == want


@SETTINGS
@given(st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)), st.sampled_from([7, 14]),
       st.integers(-200, 200), st.sampled_from([0, -1, 1]))
def test_period_of__a_date_on_or_beside_a_period_start(con, anchor, days, k, nudge):
    """Dates drawn on a period's first day, its last day and the day after, either side of the anchor."""
    d = anchor + dt.timedelta(days=days * k + nudge)
    want = anchor + dt.timedelta(days=((d - anchor).days // days) * days)
    assert con.execute("SELECT period_of(?::DATE, ?::DATE, ?)", [d, anchor, days]).fetchone()[0] == want
    assert want <= d < want + dt.timedelta(days=days)
