"""What a buyer may see of the workers its premium reached: the disclosure rule.

A buyer's artefacts (statement, PDF, CSV) must hold no figure from which one worker's pay
follows. Worker-derived figures (how many workers were eligible or paid, how much of a pool's
funded premium reached pay stubs) are shown per pool, the smallest group the audit has, and
only where the group holds at least ``MIN_WORKERS`` workers:

- the number of eligible workers is shown when at least ``MIN_WORKERS`` workers are eligible;
- the number of workers paid, and the share of the funded premium that reached pay stubs, are
  shown when at least ``MIN_WORKERS`` workers were paid (the paid workers are the ones whose pay
  makes up the share: with fewer, the share is a small group's or one worker's pay).

Worker-derived figures are never totalled over pools: a total minus the pools shown would
reveal a withheld one. Figures that are the grower's (premium owed to it, received, retained,
funded to a pool) are not worker-derived and are always shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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
