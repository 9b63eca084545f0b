"""What a buyer may see of the workers its premium reached: the disclosure rule.

A buyer's artefacts (statement, PDF, CSV) must hold no figure from which what one worker (or
any group of fewer than ``MIN_WORKERS`` workers) was paid follows, and must still show where
workers were not paid. Worker-derived figures (how many workers were eligible or paid, how much
of a pool's funded premium reached pay stubs) are shown per pool, the smallest group the audit
has:

- **Nobody paid.** When no worker of the pool holds any premium amount (none paid, none paid
  without work, nothing clawed back), the pool shows its eligible workers however few, "paid
  0" and 0.0% ($0.00) on pay stubs: no worker's pay is private when it is nothing, and a pool
  in which no eligible worker was paid is the employer's failure, which the buyer must see.
- **1 to 4 paid.** What reached pay stubs is the pay of those few workers: the share and the
  exact count are withheld. The number of eligible workers is shown when at least
  ``MIN_WORKERS`` are eligible (a count, not pay).
- **5 or more paid.** Eligible workers, workers paid and the share of the funded premium on pay
  stubs (to 0.1%, never the exact amount) are shown, unless the pay behind them differs from
  figures shown before for the same pool by fewer than ``MIN_WORKERS`` workers (below).
- **Across versions and buyers.** Two shown states of one pool (two versions of a statement, or
  two buyers' statements issued at different closes) differ by what the workers whose pay
  changed were paid. So a pool's share is shown only when, against *every* state of that pool
  shown before to anyone, either no worker's pay differs or at least ``MIN_WORKERS`` workers'
  pay does (``changed_workers``); otherwise it is withheld, with words saying why, until the
  difference reaches ``MIN_WORKERS`` workers or goes back to none.

Worker-derived figures are never totalled over pools: a total minus the pools shown would
reveal a withheld one. Figures that are the grower's (premium owed to it, received, retained,
funded to a pool) are not worker-derived and are always shown.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Mapping

MIN_WORKERS = 5
WITHHELD = f"withheld: fewer than {MIN_WORKERS} workers"
FEW_PAID = f"withheld: fewer than {MIN_WORKERS} workers were paid, and it would be their pay"
SMALL_CHANGE = (f"withheld: it changed for fewer than {MIN_WORKERS} workers since it was last shown (in an earlier "
                "version or another buyer's statement), and the change would be their pay")
NOBODY_PAID = "no eligible worker was paid"


@dataclass(frozen=True)
class PoolFigures:
    """What a buyer may read of one pool's distribution to workers; ``None`` means withheld."""
    workers_eligible: int | None
    workers_paid: int | None
    pct_funded_on_stubs: str | None  # one decimal place, e.g. "98.5"
    note: str | None = None  # in words: nobody paid, or why a figure is withheld


def pct(part: int, whole: int) -> str | None:
    """``part`` as a percentage of ``whole``, to one decimal place (half up); None when whole ≤ 0."""
    if whole <= 0:
        return None
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def pool_figures(eligible: int, paid_workers: int, funded_cents: int, distributed_cents: int,
                 with_amounts: int | None = None, changed_workers: int = 0) -> PoolFigures:
    """The worker-derived figures of one pool that may be shown to a buyer.

    ``paid_workers`` counts eligible workers paid more than zero; ``with_amounts`` counts every
    worker of the pool holding any premium amount other than zero (paid without work, a
    clawback; ``paid_workers`` when not given); ``changed_workers`` is the most workers whose pay
    differs from a state of this pool shown before and fewer than ``MIN_WORKERS`` (see
    ``changed_workers``; 0 when none was shown or nothing changed)."""
    with_amounts = paid_workers if with_amounts is None else with_amounts
    shown_eligible = eligible if eligible >= MIN_WORKERS else None
    if with_amounts == 0 and distributed_cents == 0:
        return PoolFigures(eligible, 0, pct(0, funded_cents), NOBODY_PAID)
    if paid_workers < MIN_WORKERS:
        return PoolFigures(shown_eligible, None, None, FEW_PAID)
    if 0 < changed_workers < MIN_WORKERS:
        return PoolFigures(shown_eligible, paid_workers, None, SMALL_CHANGE)
    return PoolFigures(shown_eligible, paid_workers, pct(distributed_cents, funded_cents), None)


# --- states of a pool shown before -------------------------------------------------------------

def pool_state(pay: Iterable[tuple[str, int]]) -> dict[str, str]:
    """A pool's pay, as compared across disclosures: for each worker (by a digest of its id), a
    digest of its id and amount. A worker absent from the pool counts as paid nothing, so only
    workers with an amount other than zero are kept. Holds no id and no amount in clear."""
    state = {}
    for worker, cents in pay:
        if cents:
            key = hashlib.sha256(f"w\x00{worker}".encode()).hexdigest()[:32]
            state[key] = hashlib.sha256(f"p\x00{worker}\x00{cents}".encode()).hexdigest()[:32]
    return state


def differing(a: Mapping[str, str], b: Mapping[str, str]) -> int:
    """How many workers' pay differs between two states of a pool."""
    return sum(1 for k in set(a) | set(b) if a.get(k) != b.get(k))


def changed_workers(state: Mapping[str, str], shown_before: Iterable[Mapping[str, str]]) -> int:
    """The most workers whose pay differs between ``state`` and a state shown before, among the
    differences of 1 to ``MIN_WORKERS - 1`` workers (0 when there is none): the figures of
    ``state`` may be shown when this is 0."""
    small = [n for n in (differing(state, s) for s in shown_before) if 0 < n < MIN_WORKERS]
    return max(small, default=0)
