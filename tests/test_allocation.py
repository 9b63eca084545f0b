"""The largest-remainder split (docs/rules.md: Allocation to workers): the Python statement and
the two places the SQL writes it out (over an invoice's work periods, over a pool's workers)."""

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from .split import split, sql_split_over_periods, sql_split_over_workers

weights_st = st.dictionaries(st.text("abcdefgh", min_size=1, max_size=3), st.integers(0, 10**6), min_size=1,
                             max_size=30)


@given(st.integers(0, 10**9), weights_st)
def test_split__always_sums_to_the_amount(amount, weights):
    assert sum(split(amount, weights).values()) == amount


@given(st.integers(0, 10**9), weights_st)
def test_split__each_share_is_floor_or_ceiling_of_its_quota(amount, weights):
    total = sum(weights.values())
    shares = split(amount, weights)
    for k, w in weights.items():
        quota = Fraction(amount * (w if total else 1), total or len(weights))
        assert quota - 1 < shares[k] < quota + 1


@given(st.integers(0, 10**6), weights_st, st.randoms())
def test_split__does_not_depend_on_order(amount, weights, rnd):
    items = list(weights.items())
    rnd.shuffle(items)
    assert split(amount, dict(items)) == split(amount, weights)


@given(st.integers(0, 10**6), weights_st)
def test_split__zero_weight_workers_get_nothing(amount, weights):
    if sum(weights.values()) == 0:
        return
    shares = split(amount, weights)
    assert all(shares[k] == 0 for k, w in weights.items() if w == 0)


def test_split__ties_go_to_lowest_worker_id():
    assert split(1, {"w2": 1, "w1": 1, "w3": 1}) == {"w1": 1, "w2": 0, "w3": 0}
    assert split(2, {"b": 1, "a": 1, "c": 1}) == {"a": 1, "b": 1, "c": 0}


def test_split__refuses_nothing_to_split_over_and_negative_weights_with_a_reason():
    import pytest

    with pytest.raises(ValueError, match="^cannot split over nothing$"):
        split(1, {})
    with pytest.raises(ValueError, match="^weights must not be negative$"):
        split(1, {"a": 1, "b": -1})


def test_split__all_zero_weights_split_equally():
    assert split(10, {"p1": 0, "p2": 0}) == {"p1": 5, "p2": 5}


def _eligible(weights: dict) -> dict:
    """The workers a pool's split is over: those with a basis above 0."""
    return {k: w for k, w in weights.items() if w > 0}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10**7), weights_st), min_size=1, max_size=4))
def test_split__sql_agrees_with_python(groups):
    rows, over_periods, over_workers = [], {}, {}
    for g, (_, amount, weights) in enumerate(groups):
        rows += [(g, k, amount, w) for k, w in weights.items()]
        over_periods.update({(g, k): s for k, s in split(amount, weights).items()})
        if _eligible(weights):
            over_workers.update({(g, k): (s, s) for k, s in split(amount, _eligible(weights)).items()})
    assert sql_split_over_periods(rows) == over_periods
    assert sql_split_over_workers(rows) == over_workers


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**17), st.dictionaries(st.text("abcdefgh", min_size=1, max_size=3),
                                                st.integers(0, 10**12), min_size=1, max_size=8))
def test_split__sql_is_exact_where_amount_times_weight_overflows_bigint(amount, weights):
    """Large amounts and weights take the 128-bit path; the split stays the Python one."""
    rows = [(0, k, amount, w) for k, w in weights.items()]
    assert sql_split_over_periods(rows) == {(0, k): s for k, s in split(amount, weights).items()}
    if _eligible(weights):
        assert sql_split_over_workers(rows) == {(0, k): (s, s) for k, s in split(amount, _eligible(weights)).items()}


def test_split__sql_splits_entitled_and_funded_over_the_same_workers():
    weights = {"a": 3, "b": 1, "c": 0}
    got = sql_split_over_workers([(0, k, 100, w) for k, w in weights.items()], funded={0: 7})
    assert got == {(0, k): (split(100, weights)[k], split(7, weights)[k]) for k in "ab"}  # c has no basis
