"""What a buyer may see of the workers its premium reached: the disclosure rule.

A buyer's artefacts (statement, PDF, CSV) must hold no figure from which one worker's pay
follows. Worker-derived figures (how many workers were eligible or paid, how much of a pool's
funded premium reached pay stubs) are shown per pool, the smallest group the audit has, and
only where the group holds at least ``MIN_WORKERS`` workers:

- the number of eligible workers is shown when at least ``MIN_WORKERS`` workers are eligible;
- the number of workers paid, and the share of the funded premium that reached pay stubs, are
  shown when at least ``MIN_WORKERS`` workers were paid (the paid workers are the ones whose pay
  makes up the share: with fewer, the share is a small group's or one worker's pay).

Complementary suppression: a figure made of groups (a total) is shown only when the groups it
hides, taken together, still hold ``MIN_WORKERS`` workers; otherwise the total minus the shown
groups would reveal a hidden one. ``complementary`` decides which further groups to hide, or
that the total must go. Figures that are the grower's (premium owed to it, received, retained,
funded to a pool) are not worker-derived and are always shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Hashable, Mapping

MIN_WORKERS = 5
WITHHELD = f"withheld: fewer than {MIN_WORKERS} workers"


@dataclass(frozen=True)
class PoolFigures:
    """What a buyer may read of one pool's distribution to workers; ``None`` means withheld."""
    workers_eligible: int | None
    workers_paid: int | None
    pct_funded_on_stubs: str | None  # one decimal place, e.g. "98.5"


def pct(part: int, whole: int) -> str | None:
    """``part`` as a percentage of ``whole``, to one decimal place (half up); None when whole ≤ 0."""
    if whole <= 0:
        return None
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def pool_figures(eligible: int, paid_workers: int, funded_cents: int, distributed_cents: int) -> PoolFigures:
    """The worker-derived figures of one pool that may be shown to a buyer."""
    enough_eligible = eligible >= MIN_WORKERS
    enough_paid = paid_workers >= MIN_WORKERS
    return PoolFigures(
        workers_eligible=eligible if enough_eligible else None,
        workers_paid=paid_workers if enough_paid else None,
        pct_funded_on_stubs=pct(distributed_cents, funded_cents) if enough_paid else None,
    )


def complementary(groups: Mapping[Hashable, int], hidden: set) -> tuple[set, bool]:
    """Which groups to hide so that a total over ``groups`` reveals none of them.

    ``groups`` maps each group to its number of workers; ``hidden`` are the groups already
    withheld (below the threshold). The hidden groups' sum follows from the total and the shown
    groups, so together they must hold at least ``MIN_WORKERS`` workers and be more than one
    group. The smallest shown groups are hidden too until that holds. Returns the groups to hide
    and whether the total may be shown at all (False when no choice of groups protects them)."""
    hidden = set(hidden)
    if not hidden:
        return hidden, True
    shown = sorted((g for g in groups if g not in hidden), key=lambda g: (groups[g], str(g)))
    while sum(groups[g] for g in hidden) < MIN_WORKERS or len(hidden) < 2:
        if not shown:
            return set(groups), False
        hidden.add(shown.pop(0))
    return hidden, True
