"""The disclosure rule, on its own: which worker-derived figures of a pool a buyer may read."""

from __future__ import annotations

import pytest

from pennytrail.core import privacy


@pytest.mark.parametrize("eligible,paid,shown", [(1, 1, False), (2, 2, False), (4, 4, False), (5, 5, True),
                                                  (9, 3, False), (0, 0, False), (5, 4, False), (4, 5, True)])
def test_pool_figures_follow_the_threshold(eligible, paid, shown):
    fig = privacy.pool_figures(eligible, paid, 10_000, 9_000)
    assert (fig.pct_funded_on_stubs is not None) == shown and (fig.workers_paid is not None) == shown
    assert (fig.workers_eligible is not None) == (eligible >= privacy.MIN_WORKERS)


def test_shown_figures_are_the_pools_own():
    fig = privacy.pool_figures(7, 6, 10_000, 9_950)
    assert fig == privacy.PoolFigures(workers_eligible=7, workers_paid=6, pct_funded_on_stubs="99.5")
    assert privacy.pool_figures(4, 3, 10_000, 9_950) == privacy.PoolFigures(None, None, None)


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
