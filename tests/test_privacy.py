"""The disclosure rule, on its own: which worker-derived figures of a pool a buyer may read, and
when a state of a pool may be shown after others were (docs/decisions.md, Disclosure)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as hs

from pennytrail.core import privacy


@pytest.mark.parametrize("eligible,paid,shown", [(1, 1, False), (2, 2, False), (4, 4, False), (5, 5, True),
                                                  (9, 3, False), (5, 4, False), (4, 5, True), (39, 1, False)])
def test_pool_figures_follow_the_threshold(eligible, paid, shown):
    fig = privacy.pool_figures(eligible, paid, 10_000, 9_000)
    assert (fig.pct_funded_on_stubs is not None) == shown and (fig.workers_paid is not None) == shown
    assert (fig.workers_eligible is not None) == (eligible >= privacy.MIN_WORKERS)


def test_shown_figures_are_the_pools_own():
    fig = privacy.pool_figures(7, 6, 10_000, 9_950)
    assert fig == privacy.PoolFigures(workers_eligible=7, workers_paid=6, pct_funded_on_stubs="99.5", note=None)
    assert privacy.pool_figures(4, 3, 10_000, 9_950) == privacy.PoolFigures(None, None, None, privacy.FEW_PAID)


# --- the cases of issue 28: 0, 1, 4 and 5 paid of N eligible, and a one-worker grower ----------

def test_nobody_paid_of_39_is_shown_as_a_failure():
    fig = privacy.pool_figures(39, 0, 188_625, 0)
    assert fig == privacy.PoolFigures(39, 0, "0.0", privacy.NOBODY_PAID)


def test_one_paid_of_n_withholds_what_reached_stubs_and_the_count():
    fig = privacy.pool_figures(39, 1, 188_625, 4_489)
    assert (fig.workers_eligible, fig.workers_paid, fig.pct_funded_on_stubs) == (39, None, None)
    assert fig.note == privacy.FEW_PAID


def test_four_paid_of_n_withholds_what_reached_stubs():
    fig = privacy.pool_figures(6, 4, 10_000, 6_600)
    assert (fig.workers_eligible, fig.workers_paid, fig.pct_funded_on_stubs) == (6, None, None)


def test_five_paid_of_n_shows_everything():
    fig = privacy.pool_figures(6, 5, 10_000, 8_300)
    assert fig == privacy.PoolFigures(6, 5, "83.0", None)


def test_a_one_worker_grower_paid_shows_nothing_and_unpaid_shows_the_failure():
    paid = privacy.pool_figures(1, 1, 777, 777)
    assert (paid.workers_eligible, paid.workers_paid, paid.pct_funded_on_stubs) == (None,) * 3
    unpaid = privacy.pool_figures(1, 0, 777, 0)
    assert unpaid == privacy.PoolFigures(1, 0, "0.0", privacy.NOBODY_PAID)


def test_any_amount_held_by_a_worker_is_not_nobody_paid():
    # no eligible worker paid, but one paid without work (or a clawback): that amount stays withheld
    fig = privacy.pool_figures(6, 0, 10_000, 0, with_amounts=1)
    assert fig.pct_funded_on_stubs is None and fig.workers_paid is None and fig.note == privacy.FEW_PAID
    # a clawback from an eligible worker makes what is on the stubs negative: not nobody paid either
    fig = privacy.pool_figures(6, 0, 10_000, -150, with_amounts=1)
    assert fig.workers_paid is None and fig.pct_funded_on_stubs is None


def test_no_eligible_worker_and_nothing_paid_says_so():
    assert privacy.pool_figures(0, 0, 10, 0) == privacy.PoolFigures(0, 0, "0.0", privacy.NOBODY_PAID)
    assert privacy.pool_figures(0, 0, 0, 0).pct_funded_on_stubs is None  # nothing funded: no share


# --- across versions and buyers -------------------------------------------------------------------

def _pay(n: int, cents: int = 4_400, start: int = 0) -> list[tuple[str, int]]:
    return [(f"W{i}", cents) for i in range(start, start + n)]


def test_a_state_differing_by_one_worker_from_one_shown_is_withheld():
    v1 = privacy.pool_state(_pay(42))
    v2 = privacy.pool_state(_pay(43))  # one payroll row added
    assert privacy.differing(v1, v2) == 1 and privacy.changed_workers(v2, [v1]) == 1
    fig = privacy.pool_figures(43, 43, 188_625, 43 * 4_400, changed_workers=privacy.changed_workers(v2, [v1]))
    assert fig.workers_paid == 43 and fig.pct_funded_on_stubs is None
    assert fig.note == privacy.SMALL_CHANGE


@pytest.mark.parametrize("changed,shown", [(0, True), (1, False), (4, False), (5, True), (12, True)])
def test_a_change_of_five_workers_or_more_is_shown(changed, shown):
    before = privacy.pool_state(_pay(20))
    after = privacy.pool_state(_pay(20 - changed) + _pay(changed, 5_000, 20 - changed))
    n = privacy.changed_workers(after, [before])
    assert privacy.differing(before, after) == changed
    fig = privacy.pool_figures(20, 20, 100_000, 90_000, changed_workers=n)
    assert (fig.pct_funded_on_stubs is not None) == shown


def test_every_state_shown_before_counts_not_only_the_last():
    base = privacy.pool_state(_pay(10))
    five_changed = privacy.pool_state(_pay(5) + _pay(5, 9_000, 5))
    # back to the base but one more worker: six from the last shown, one from the first
    one_more = privacy.pool_state(_pay(11))
    assert privacy.differing(five_changed, one_more) == 6
    assert privacy.changed_workers(one_more, [base, five_changed]) == 1


def test_workers_absent_or_paid_nothing_are_the_same_and_states_hold_no_id_or_amount():
    assert privacy.pool_state([("W1", 0), ("W2", 500)]) == privacy.pool_state([("W2", 500)])
    text = repr(privacy.pool_state([("WORKER-77", 123_456)]))
    assert "WORKER-77" not in text and "123456" not in text


@settings(max_examples=200, deadline=None)
@given(hs.dictionaries(hs.sampled_from([f"W{i}" for i in range(12)]), hs.integers(-500, 5_000), max_size=12),
       hs.dictionaries(hs.sampled_from([f"W{i}" for i in range(12)]), hs.integers(-500, 5_000), max_size=12))
def test_no_two_shown_states_differ_by_one_to_four_workers(a, b):
    """Whatever two pay states of a pool are, the rule shows the second after the first only when
    the difference of what reached pay stubs is the pay of none or of at least 5 workers."""
    first, second = privacy.pool_state(a.items()), privacy.pool_state(b.items())
    n = privacy.changed_workers(second, [first])
    differ = sum(1 for w in set(a) | set(b) if a.get(w, 0) != b.get(w, 0))
    paid = sum(1 for v in b.values() if v > 0)
    fig = privacy.pool_figures(12, paid, 100_000, sum(v for v in b.values()),
                               with_amounts=sum(1 for v in b.values() if v), changed_workers=n)
    if fig.pct_funded_on_stubs is not None and any(b.values()):
        assert differ == 0 or differ >= privacy.MIN_WORKERS


@pytest.mark.parametrize("part,whole,shown", [
    (1, 16, "6.3"),          # 6.25: half up
    (1, 32, "3.1"),          # 3.125: below the half
    (999, 1000, "99.9"),
    (1999, 2000, "100.0"),   # 99.95 rounds up to 100.0
    (0, 500, "0.0"),
    (7, 7, "100.0"),
    (1, 1, "100.0"),         # a pool of one cent is a whole
    (0, 1, "0.0"),
    (3, 0, None),            # nothing funded: no share
    (3, -1, None),
])
def test_pct_is_one_decimal_place_half_up_and_none_without_a_whole(part, whole, shown):
    assert privacy.pct(part, whole) == shown


def test_the_threshold_and_its_words():
    assert privacy.MIN_WORKERS == 5
    assert privacy.WITHHELD == "withheld: fewer than 5 workers"
