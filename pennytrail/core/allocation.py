"""The largest-remainder split (docs/rules.md: Allocation to workers), in plain Python.

The warehouse runs the same rule in SQL (``reconcile.SPLIT_SQL``) over whole tables; this
function is the readable statement of it, used by the generator to decide what a correct
grower pays, and by the tests, which hold the two to each other.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Hashable, Mapping, TypeVar

K = TypeVar("K", bound=Hashable)


def split(amount: int, weights: Mapping[K, Fraction | int]) -> dict[K, int]:
    """Split ``amount`` cents over ``weights`` by largest remainder.

    Each key gets ``floor(amount × w / Σw)``; the cents left over go one each to the largest
    fractional remainders, ties broken by the key ascending. Zero weights get nothing. All
    weights zero means equal weights (the rule §5 states for periods). The shares add up to
    ``amount`` exactly.
    """
    if not weights:
        raise ValueError("cannot split over nothing")
    ws = {k: Fraction(w) for k, w in weights.items()}
    if any(w < 0 for w in ws.values()):
        raise ValueError("weights must not be negative")
    total = sum(ws.values())
    if total == 0:
        ws = {k: Fraction(1) for k in ws}
        total = Fraction(len(ws))
    shares: dict[K, int] = {}
    remainders: dict[K, Fraction] = {}
    for k, w in ws.items():
        quota = Fraction(amount) * w / total
        shares[k] = quota.numerator // quota.denominator
        remainders[k] = quota - shares[k]
    left = amount - sum(shares.values())
    for k in sorted(ws, key=lambda k: (-remainders[k], k))[:left]:
        shares[k] += 1
    return shares
