"""The largest-remainder split (docs/rules.md: Allocation to workers), in plain Python, and the
two splits the reconciliation's SQL writes out, run alone on small inline data.

The warehouse runs the rule in SQL twice: over the work periods of an invoice
(``pools.sql``, ``w_period_shares``: all weights zero split equally, the earlier period first on
a tie) and over the eligible workers of a pool (``allocation.sql``, ``t_shares``: a worker with
no basis is not eligible and gets no row). ``split`` is the readable statement of the rule;
the tests hold both SQL forms to it.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Hashable, Iterable, Mapping, TypeVar

import duckdb
import pandas as pd

from pennytrail.core.stages import allocation, dialect, pools

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


def _statement(stage, table: str) -> str:
    return dict(stage.STATEMENTS)[table]


_con: duckdb.DuckDBPyConnection | None = None


def _connection() -> duckdb.DuckDBPyConnection:
    """One in-memory connection for every split of the process (making one per property
    example would cost more than the split), a cursor of it per call."""
    global _con
    if _con is None:
        _con = duckdb.connect()
    con = _con.cursor()
    dialect.install(con)
    return con


def sql_split_over_periods(rows: Iterable[tuple]) -> dict[tuple, int]:
    """``w_period_shares`` over rows (group, period, amount, weight): each group one invoice of
    one grower whose amount is split over its periods, weighted by what each owes. Returns
    (group, period) -> share."""
    rows = list(rows)
    lines = pd.DataFrame([(g, "I", "G", p, w) for g, p, _, w in rows],
                         columns=["buyer_id", "invoice_id", "grower_id", "work_period_start", "owed_cents"])
    amounts = {g: a for g, _, a, _ in rows}
    invoice_grower = pd.DataFrame([(g, "I", "G", a, a, a) for g, a in amounts.items()],
                                  columns=["buyer_id", "invoice_id", "grower_id", "entitled_cents", "funded_cents",
                                           "retained_cents"])
    con = _connection()
    con.register("w_lines", lines)
    con.register("w_invoice_grower", invoice_grower)
    got = con.execute(f"SELECT buyer_id, work_period_start, measure, share FROM ({_statement(pools, 'w_period_shares')}) s"
                      ).fetchall()
    con.close()
    by_measure = {m: {(g, p): s for g, p, m2, s in got if m2 == m} for m in ("entitled", "funded", "retained")}
    assert by_measure["entitled"] == by_measure["funded"] == by_measure["retained"]  # the same split, thrice
    return by_measure["entitled"]


def sql_split_over_workers(rows: Iterable[tuple], funded: Mapping | None = None) -> dict[tuple, tuple[int, int]]:
    """``t_shares`` over rows (group, worker, amount, weight): each group one pool whose
    entitled amount (and funded amount, ``funded[group]``, by default the same) is split over
    its workers with a weight above 0. Returns (group, worker) -> (entitled share, funded share)."""
    rows = list(rows)
    entitled = {g: a for g, _, a, _ in rows}
    funded = funded or entitled
    pools_frame = pd.DataFrame([(g, "2026-01-05", a, funded[g]) for g, a in entitled.items()],
                               columns=["grower_id", "period_start", "entitled_cents", "funded_cents"])
    basis = pd.DataFrame([(g, k, "2026-01-05", w, w) for g, k, _, w in rows],
                         columns=["grower_id", "worker_id", "period_start", "weight", "basis_value"])
    con = _connection()
    con.register("w_pools", pools_frame)
    con.register("t_basis", basis)
    got = con.execute(f"SELECT grower_id, worker_id, entitled_share, funded_share "
                      f"FROM ({_statement(allocation, 't_shares')}) s").fetchall()
    con.close()
    return {(g, k): (e, f) for g, k, e, f in got}
