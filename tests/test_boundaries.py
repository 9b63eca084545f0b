"""Every rule that decides a cent, at its boundary, on a program written by hand.

The rows and the figures worked out from them are in ``tests/boundary_data.py``; this file
asserts the published tables and the buyer's confirmation against those figures. Each test
names the rule; a wrong side of a half cent, a tie broken the other way, a date compared with
``>=`` or a dropped filter changes a figure here.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pennytrail.cli import main

from .test_handshake import PAYMENTS, PAYROLL, PURCHASES, close_core, put, query

D = dt.date


def rows(home: Path, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def invoice(home, buyer, inv):
    return rows(home, "SELECT owed_cents, billed_cents, paid_by_buyer_cents, balance_cents, status FROM invoice_audit "
                      "WHERE buyer_id = ? AND invoice_id = ?", buyer, inv)[0]


def pools(home, grower):
    return rows(home, "SELECT period_start, entitled_cents, funded_cents, retained_cents, distributed_cents, "
                      "eligible_workers, due_date, month FROM pool_audit WHERE grower_id = ? ORDER BY period_start",
                grower)


def workers(home, grower):
    return rows(home, "SELECT period_start, worker_id, entitled_cents, funded_cents, paid_cents, status, late, overdue "
                      "FROM worker_audit WHERE grower_id = ? ORDER BY period_start, worker_id", grower)


def test_owed__each_line_rounds_its_own_half_cent_up(boundary_home):
    # 50.5¢ → 51, 0.5¢ → 1 (8 oz), 0.5¢ → 1: 53 (half down or to even: 50; per invoice: 52)
    assert invoice(boundary_home, "B1", "O1") == (53, 51, 57, -4, "BUYER_OVERPAID")  # 4¢ went to G2
    assert invoice(boundary_home, "B1", "U1") == (10, None, 10, 0, "OK")


def test_owed__a_rate_is_in_force_on_its_first_and_last_day(boundary_home):
    # 100 lb on 2026-01-05 at the old 0.4¢ (its last day) + 100 lb on 2026-01-06 at ½¢ (the new rate's first)
    assert invoice(boundary_home, "B1", "O2") == (90, None, 0, 90, "BUYER_UNDERPAID")


def test_billed_mismatch__a_half_cent_line_billed_at_its_rounded_owed_is_no_finding(boundary_home):
    found = rows(boundary_home, "SELECT level, party_id, reference, amount_cents FROM exceptions "
                                "WHERE code = 'BILLED_MISMATCH' ORDER BY reference")
    # the seller who issued the invoice answers for it, at its own party type: GO billed 0.50 against
    # 51 (line 2 billed 0.01 = owed 1: no finding); intermediary R1 billed 1.01 against 100
    assert found == [("grower", "GO", "B1/O1/1", -1), ("intermediary", "R1", "B1/RZ/1", 1)]
    assert invoice(boundary_home, "B1", "RZ") == (100, 101, 100, 0, "OK")


def test_retention__a_percent_with_two_decimals_rounds_its_exact_half_up(boundary_home):
    # 7.65% of owed 1000 is 76.5 → 77: entitled 923 (7% would give 930); of received 900 it is
    # 68.85 → 69: funded 831, retained 69
    assert [p[:4] for p in pools(boundary_home, "GW")] == [(D(2026, 1, 5), 923, 831, 69)]


def test_retention__entitled_rounds_half_up_per_invoice_and_grower(boundary_home):
    # owed 105 twice at 10%: 105 − round(10.5) = 94 each, 188 (one rounding over 210 would give 189)
    (p1, e1, f1, r1, *_), (p2, e2, f2, r2, *_) = pools(boundary_home, "GH")[:2]
    assert (p1, e1, f1, r1) == (D(2026, 1, 5), 188, 188, 22)
    # owed 100 → entitled 90; received 115 → funded 115 − round(11.5) = 103, retained 12
    assert (p2, e2, f2, r2) == (D(2026, 1, 12), 90, 103, 12)
    # undistributed is what was funded and not paid to eligible workers: 103 − 103, not 90 − 103
    assert rows(boundary_home, "SELECT undistributed_cents FROM pool_audit WHERE grower_id = 'GH' "
                               "AND period_start = DATE '2026-01-12'") == [(0,)]


def test_period_split__the_odd_cent_goes_to_the_earlier_period(boundary_home):
    # B1/H4 over two periods of equal weight: entitled 99 → 50 | 49, funded 117 → 59 | 58, retained 13 → 7 | 6
    got = [(p, e, f, r, m) for p, e, f, r, _, _, _, m in pools(boundary_home, "GH")[2:]]
    assert got == [(D(2026, 1, 19), 50, 59, 7, "2026-01"), (D(2026, 2, 2), 49, 58, 6, "2026-02")]
    # B2/V2: both lines void (all weights 0), 3¢ received: equal weights, 2 | 1
    assert [(p, e, f) for p, e, f, *_ in pools(boundary_home, "GV")] == [(D(2026, 1, 5), 100, 102),
                                                                        (D(2026, 1, 12), 0, 1)]


@pytest.mark.parametrize("grower, shares", [
    ("G1", {"G1-a": 777}),
    ("G2", {"G2-a": 51, "G2-b": 50}),  # a tie: the lower worker id first
    ("G4", {"G4-1": 3, "G4-10": 3, "G4-2": 2, "G4-9": 2}),  # ids in string order, not numeric
    ("G5", {"G5-a": 67, "G5-b": 133, "G5-c": 200, "G5-d": 267, "G5-e": 333}),  # largest remainders
])
def test_worker_split__largest_remainder_ties_to_the_lowest_id(boundary_home, grower, shares):
    got = [w for w in workers(boundary_home, grower) if w[5] != "PAID_WITHOUT_WORK" and w[0] == D(2026, 1, 5)]
    assert {w: f for _, w, _, f, *_ in got} == shares
    assert {w: e for _, w, e, *_ in got} == shares  # nothing retained: entitled splits the same
    assert all(s == "OK" for *_, s, _, _ in got)
    pool = pools(boundary_home, grower)[0]
    assert pool[5] == len(shares) and pool[2] == sum(shares.values())


def test_due_date__paid_on_the_due_date_is_on_time_one_day_after_is_late(boundary_home):
    due = {p: d for p, *_, d, _ in pools(boundary_home, "GL")}
    # 2026-01-05: the grower was paid 01-09, before its period ended (01-11): 01-11 + 14
    # 2026-01-12: paid 01-30, after its period ended (01-18): 01-30 + 14
    # 2026-01-19: paid 01-31: 01-31 + 14, the last day anything happened (GL-b's stub of 02-14)
    assert due == {D(2026, 1, 5): D(2026, 1, 25), D(2026, 1, 12): D(2026, 2, 13), D(2026, 1, 19): D(2026, 2, 14)}
    late = {(p, w): (f, pd, s, lt, od) for p, w, _, f, pd, s, lt, od in workers(boundary_home, "GL")}
    assert late == {
        (D(2026, 1, 5), "GL-a"): (50, 50, "OK", False, False),   # paid 01-25, the due date
        (D(2026, 1, 5), "GL-b"): (50, 50, "OK", True, False),    # paid 01-26, on a later period's stub
        (D(2026, 1, 12), "GL-a"): (75, 75, "OK", False, False),  # paid 02-13, the due date
        # 1¢ short, paid 02-14: late, and overdue since the last day (02-14) is after the due date
        (D(2026, 1, 12), "GL-b"): (25, 24, "UNDERPAID", True, True),
        # 1¢ short, and the last day is the due date itself: not yet overdue
        (D(2026, 1, 19), "GL-a"): (100, 99, "UNDERPAID", False, False),
    }
    assert {p: d for p, *_, d, _ in pools(boundary_home, "GH")}[D(2026, 1, 12)] == D(2026, 2, 1)


def test_pool_month__a_period_across_two_months_is_the_month_it_ends_in(data_dir):
    """Tomatoes shipped 2026-01-27 fall in the week 2026-01-26 to 2026-02-01: the invoice is
    January's (its earliest ship date), the pool and its worker rows February's (the period's end)."""
    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-27,,G1,G1,tomatoes,40,box_25lb,")
    put(data_dir, "payments", "b1.csv", PAYMENTS, "P1,1,B1,G1,2026-01-30,B1,I1,10.00")
    put(data_dir, "payroll", "g1.csv", PAYROLL, "G1,W1,2026-01-26,,Ana,,2026-02-01,2026-02-06,40,100,65.00,10.00")
    db = close_core(data_dir)
    assert query(db, "SELECT month FROM w_invoice_audit") == [("2026-01",)]
    assert query(db, "SELECT month, CAST(period_start AS VARCHAR), CAST(period_end AS VARCHAR) FROM w_pool_audit") == [
        ("2026-02", "2026-01-26", "2026-02-01")]
    assert query(db, "SELECT month, worker_id, status FROM w_worker_audit") == [("2026-02", "W1", "OK")]


def test_basis_gross_wages__weighs_cents_of_wages_and_shows_dollars(boundary_home):
    """Weights 10000, 5050 and 1000 cents (GW-c has hours and units but no wages: not eligible).
    Funded 831: 517.757, 261.467, 51.776 → 517, 261, 51 and the 2 cents left to the largest
    remainders, GW-d then GW-a. Entitled 923: 575.078, 290.414, 57.508 → the cent left to GW-d."""
    got = rows(boundary_home, "SELECT worker_id, basis_value, entitled_cents, funded_cents, paid_cents, "
                              "upstream_shortfall_cents, status, late, overdue FROM worker_audit "
                              "WHERE grower_id = 'GW' ORDER BY worker_id")
    assert [(w, str(b), *rest) for w, b, *rest in got] == [
        ("GW-a", "100.000", 575, 518, 518, 57, "OK", False, False),
        ("GW-b", "50.500", 290, 261, 261, 29, "OK", False, False),
        ("GW-c", "0.000", 0, 0, 1, 0, "PAID_WITHOUT_WORK", False, False),
        # never paid: not late, but overdue (due 01-25, the data runs to 02-14)
        ("GW-d", "10.000", 58, 52, 0, 6, "UNPAID", False, True)]
    assert rows(boundary_home, "SELECT distributed_cents, paid_without_work_cents, undistributed_cents, "
                               "eligible_workers FROM pool_audit WHERE grower_id = 'GW'") == [(779, 1, 52, 3)]


def test_basis_equal__once_per_worker_with_hours_or_units_not_wages(boundary_home):
    """GE-1 has hours only, GE-2 units only, GE-4 two rows of the pay period (one paying an earlier
    premium period): each weighs 1. GE-3 has wages but no hours or units: not eligible. 1000
    over three equal weights: 333 each and the cent left to the lowest id."""
    got = rows(boundary_home, "SELECT worker_id, basis_value, funded_cents, status FROM worker_audit "
                              "WHERE grower_id = 'GE' AND period_start = DATE '2026-01-05' ORDER BY worker_id")
    assert [(w, str(b), f, s) for w, b, f, s in got] == [("GE-1", "1.000", 334, "OK"), ("GE-2", "1.000", 333, "OK"),
                                                        ("GE-4", "1.000", 333, "OK")]


def test_period_split__weighted_by_what_each_period_owes_not_by_its_lines(boundary_home):
    # B2/E2: one line of 100 in the week of 01-12, two of 10 in the week of 01-19: 120 → 100 | 20
    # (by lines, 1 : 2, it would be 40 | 80); B1/E1 adds 300 to the week of 01-12
    assert [p[:3] for p in pools(boundary_home, "GE")] == [(D(2026, 1, 5), 1000, 1000), (D(2026, 1, 12), 400, 400),
                                                          (D(2026, 1, 19), 20, 20)]


def test_due_date__counts_the_payments_of_the_pools_own_invoices_not_another_buyers_of_the_same_id(boundary_home):
    # GE's week of 01-05 is fed by B2/E1 (paid 01-09): due 01-11 + 14. B1 also has an invoice E1 with
    # GE, shipped and paid (01-30) later: it sets the week of 01-12's due date (01-30 + 14), not this one's.
    # The week of 01-19 is fed by B2/E2, paid 01-16 before the week ended (01-25): 01-25 + 14.
    assert {p: d for p, *_, d, _ in pools(boundary_home, "GE")} == {
        D(2026, 1, 5): D(2026, 1, 25), D(2026, 1, 12): D(2026, 2, 13), D(2026, 1, 19): D(2026, 2, 8)}


def test_eligibility_needs_no_pool__premium_for_work_in_a_period_without_one_is_overpaid(boundary_home):
    # G2-a worked (5 units) in the week of 01-12, when G2 shipped nothing, and was paid 5¢ for it
    got = [w for w in workers(boundary_home, "G2") if w[0] == D(2026, 1, 12)]
    assert got == [(D(2026, 1, 12), "G2-a", 0, 0, 5, "OVERPAID", False, False)]
    assert [p[0] for p in pools(boundary_home, "G2")] == [D(2026, 1, 5)]


def test_due_date__counts_only_the_payments_to_the_pools_own_grower(data_dir):
    """One invoice, two growers in the week of 2026-01-05 (ends 01-11): G1 paid 01-09, G2 paid
    01-20. G1's pool is due 01-11 + 14 days; G2's 01-20 + 14, its payment coming after the week."""
    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-06,,G1,G1,tomatoes,40,box_25lb,",
        "B1,I1,2,2026-01-06,,G2,G2,tomatoes,40,box_25lb,")
    put(data_dir, "payments", "b1.csv", PAYMENTS, "P1,1,B1,G1,2026-01-09,B1,I1,10.00",
        "P2,1,B1,G2,2026-01-20,B1,I1,10.00")
    put(data_dir, "payroll", "g.csv", PAYROLL, "G1,W1,2026-01-05,,Ana,,2026-01-11,2026-01-16,40,100,65.00,10.00",
        "G2,W2,2026-01-05,,Bo,,2026-01-11,2026-01-23,40,100,65.00,10.00")
    db = close_core(data_dir)
    assert query(db, "SELECT grower_id, CAST(due_date AS VARCHAR) FROM w_pool_audit ORDER BY 1") == [
        ("G1", "2026-01-25"), ("G2", "2026-02-03")]


def test_late__judged_on_the_stubs_that_carry_premium_not_a_later_stub_without(data_dir):
    """W1's premium for the week of 2026-01-05 (due 01-25) is paid in full on 01-16; a stub of
    01-30 that names the same premium period carries none. The premium was not late."""
    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-06,,G1,G1,tomatoes,40,box_25lb,")
    put(data_dir, "payments", "b1.csv", PAYMENTS, "P1,1,B1,G1,2026-01-09,B1,I1,10.00")
    put(data_dir, "payroll", "g1.csv", PAYROLL, "G1,W1,2026-01-05,,Ana,,2026-01-11,2026-01-16,40,100,65.00,10.00",
        "G1,W1,2026-01-12,2026-01-05,Ana,,2026-01-18,2026-01-30,0,0,0.00,0.00")
    db = close_core(data_dir)
    assert query(db, "SELECT worker_id, status, late, CAST(due_date AS VARCHAR) FROM w_worker_audit "
                     "WHERE period_start = DATE '2026-01-05'") == [("W1", "OK", False, "2026-01-25")]


def test_late__a_late_top_up_makes_the_premium_late_though_its_first_stub_was_on_time(data_dir):
    """W1's premium for the week of 2026-01-05 (due 01-25): $6.00 on the stub of 01-16, the other
    $4.00 as a top-up on the stub of 01-30. Paid in full, but not all of it in time: late."""
    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-06,,G1,G1,tomatoes,40,box_25lb,")
    put(data_dir, "payments", "b1.csv", PAYMENTS, "P1,1,B1,G1,2026-01-09,B1,I1,10.00")
    put(data_dir, "payroll", "g1.csv", PAYROLL, "G1,W1,2026-01-05,,Ana,,2026-01-11,2026-01-16,40,100,65.00,6.00",
        "G1,W1,2026-01-26,2026-01-05,Ana,,2026-02-01,2026-01-30,0,0,0.00,4.00")
    db = close_core(data_dir)
    assert query(db, "SELECT worker_id, paid_cents, status, late FROM w_worker_audit") == [("W1", 1000, "OK", True)]


def test_status__a_worker_of_a_pool_funded_with_nothing_is_ok_and_the_shortfall_is_upstream(data_dir):
    """B1 never paid its $10.00: G1 received nothing for the week, so W1's funded share is 0 and
    being paid 0 is what it was owed by the grower. The money stopped upstream: 1000¢."""
    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-06,,G1,G1,tomatoes,40,box_25lb,")
    put(data_dir, "payroll", "g1.csv", PAYROLL, "G1,W1,2026-01-05,,Ana,,2026-01-11,2026-01-16,40,100,65.00,0.00")
    db = close_core(data_dir)
    assert query(db, "SELECT worker_id, entitled_cents, funded_cents, paid_cents, upstream_shortfall_cents, status, "
                     "late, overdue FROM w_worker_audit") == [("W1", 1000, 0, 0, 1000, "OK", False, False)]
    assert query(db, "SELECT code, party_id, amount_cents FROM w_exceptions") == [("BUYER_UNDERPAID", "B1", 1000)]


def test_payer__another_buyer_paying_an_invoice_is_unexpected_and_not_paid_by_its_buyer(data_dir):
    """B1's invoice I1 owes $10.00; B1 pays it in full and B2 adds 5¢ to the grower: the grower
    received 1005¢, B1 paid 1000¢ (the invoice is balanced) and B2 is an unexpected payer."""
    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-06,,G1,G1,tomatoes,40,box_25lb,")
    put(data_dir, "payments", "b.csv", PAYMENTS, "P1,1,B1,G1,2026-01-09,B1,I1,10.00", "P2,1,B2,G1,2026-01-09,B1,I1,0.05")
    db = close_core(data_dir)
    assert query(db, "SELECT paid_by_buyer_cents, balance_cents, status FROM w_invoice_audit") == [(1000, 0, "OK")]
    assert query(db, "SELECT level, code, party_id, reference, amount_cents FROM w_exceptions "
                     "WHERE code <> 'POOL_WITHOUT_WORKERS'") == [("buyer", "UNEXPECTED_PAYER", "B2", "P2/1", 5)]
    assert query(db, "SELECT received_cents FROM w_invoice_grower") == [(1005,)]


def test_pool_without_workers__a_pool_of_nothing_is_no_finding(data_dir):
    """G1 shipped 0 lb in the week of 2026-01-05 and sends no payroll: a pool of $0.00 with no
    eligible worker is not POOL_WITHOUT_WORKERS; G2's pool of $0.10 with none is."""
    put(data_dir, "purchases", "b1.csv", PURCHASES, "B1,I1,1,2026-01-06,,G1,G1,tomatoes,0,lb,",
        "B1,I1,2,2026-01-06,,G2,G2,tomatoes,10,lb,")
    db = close_core(data_dir)
    assert query(db, "SELECT grower_id, entitled_cents, eligible_workers FROM w_pool_audit ORDER BY 1") == [
        ("G1", 0, 0), ("G2", 10, 0)]
    # nothing was paid for G2's pool: the finding carries what it was entitled to
    assert query(db, "SELECT party_id, amount_cents FROM w_exceptions WHERE code = 'POOL_WITHOUT_WORKERS'") == [
        ("G2", 10)]


def test_worker_in_two_pools_of_one_month_has_a_row_and_a_share_in_each(boundary_home):
    got = rows(boundary_home, "SELECT worker_id, month, count(*), sum(funded_cents) FROM worker_audit "
                              "WHERE grower_id = 'GL' GROUP BY ALL ORDER BY ALL")
    assert got == [("GL-a", "2026-01", 3, 225), ("GL-b", "2026-01", 2, 75)]


def test_pass_through__held_zero_or_below_raises_nothing_one_cent_held_does(boundary_home):
    held = rows(boundary_home, "SELECT invoice_id, received_cents, paid_on_cents, held_cents FROM pass_through_audit "
                               "ORDER BY invoice_id")
    assert held == [("RN", 150, 200, -50), ("RP", 200, 199, 1), ("RZ", 100, 100, 0)]
    found = rows(boundary_home, "SELECT party_id, reference, amount_cents FROM exceptions "
                                "WHERE code = 'PASS_THROUGH_SHORTFALL'")
    assert found == [("R1", "B1/RP", 1)]
    assert invoice(boundary_home, "B1", "RN") == (200, None, 150, 50, "BUYER_UNDERPAID")
    # the grower received 100 + 200 + 199 of 500 owed: one cent short upstream
    assert [(w, e, f, pd) for _, w, e, f, pd, *_ in workers(boundary_home, "GR")] == [("GR-a", 500, 499, 499)]
    assert rows(boundary_home, "SELECT upstream_shortfall_cents FROM worker_audit WHERE grower_id = 'GR'") == [(1,)]


def test_void_lines_stay_on_their_invoice_owing_nothing(boundary_home):
    assert invoice(boundary_home, "B2", "V1") == (100, None, 100, 0, "OK")  # 140 before line 2 was voided
    assert invoice(boundary_home, "B2", "V2") == (0, None, 3, -3, "BUYER_OVERPAID")  # both its lines voided
    history = rows(boundary_home, "SELECT invoice_id, line_no, quantity, file FROM purchase_rows WHERE grower_id = 'GV' "
                                  "ORDER BY invoice_id, line_no, file_seq")
    assert [(i, n, int(q)) for i, n, q, _ in history] == [("V1", "1", 100), ("V1", "2", 40), ("V1", "2", 0),
                                                           ("V2", "1", 30), ("V2", "1", 0), ("V2", "2", 30),
                                                           ("V2", "2", 0)]
    # V1's first line was shipped in the next period but harvested in this one: it feeds this pool
    assert [p[:3] for p in pools(boundary_home, "GV")][0] == (D(2026, 1, 5), 100, 102)


def test_payer_types__only_a_payer_neither_buyer_nor_intermediary_is_unexpected(boundary_home):
    found = rows(boundary_home, "SELECT level, code, party_id, reference, amount_cents FROM exceptions "
                                "WHERE reference LIKE 'P%/%' ORDER BY reference, code DESC")
    assert found == [("buyer", "PAYEE_NOT_ON_INVOICE", "B1", "PO1/2", 4),  # G2 has a line on B2/O1, not B1/O1
                     ("buyer", "UNEXPECTED_PAYEE", "B2", "PP5/2", 7),
                     ("grower", "UNEXPECTED_PAYER", "G1", "PU2/1", 5),  # R1's payments on are not findings
                     ("buyer", "UNKNOWN_INVOICE", "B2", "PX1/1", 2),
                     ("buyer", "UNKNOWN_INVOICE", "B2", "PX2/1", 3),
                     ("buyer", "UNKNOWN_INVOICE", "B2", "PX2/2", 4),
                     # B2 paid on an invoice of B1's: neither its buyer nor an intermediary
                     ("buyer", "UNKNOWN_INVOICE", "B2", "PX3/1", 1),
                     ("buyer", "UNEXPECTED_PAYER", "B2", "PX3/1", 1)]
    # an invoice no purchases file reports takes the month of its earliest payment: 01-30, not 02-02
    assert rows(boundary_home, "SELECT DISTINCT month FROM exceptions WHERE reference LIKE 'PX2/%'") == [("2026-01",)]
    # the grower received both: 10 from its buyer and 5 from G1
    assert [p[1:4] for p in pools(boundary_home, "GO")] == [(153, 68, 0)]  # B1/O2's 90 was never paid


def test_party_types_are_checked_on_every_kind(boundary_home):
    got = rows(boundary_home, "SELECT file, row_number, code FROM quarantine ORDER BY file, row_number")
    assert got == [("inbox/payments/bad/2026-01.csv", 2, "WRONG_PARTY_TYPE"),  # buyer_id is an intermediary
                   ("inbox/payments/bad/2026-01.csv", 3, "UNKNOWN_PARTY"),  # payer ZZ
                   ("inbox/payroll/bad/2026-01.csv", 2, "WRONG_PARTY_TYPE"),  # grower_id is a buyer
                   ("inbox/purchases/bad/2026-01.csv", 2, "WRONG_PARTY_TYPE")]  # seller_id is a buyer


def test_findings_are_exactly_the_boundaries_crossed(boundary_home):
    got = rows(boundary_home, "SELECT month, code, reference, amount_cents FROM exceptions ORDER BY ALL")
    assert got == [("2026-01", "BILLED_MISMATCH", "B1/O1/1", -1),
                   ("2026-01", "BILLED_MISMATCH", "B1/RZ/1", 1),
                   ("2026-01", "BUYER_OVERPAID", "B1/H2", -15),
                   ("2026-01", "BUYER_OVERPAID", "B1/H4", -20),  # the month of its first ship date
                   ("2026-01", "BUYER_OVERPAID", "B1/O1", -4),
                   ("2026-01", "BUYER_OVERPAID", "B2/P5", -7),
                   ("2026-01", "BUYER_OVERPAID", "B2/V2", -3),
                   ("2026-01", "BUYER_UNDERPAID", "B1/O2", 90),
                   ("2026-01", "BUYER_UNDERPAID", "B1/RN", 50),
                   ("2026-01", "BUYER_UNDERPAID", "B2/P1B", 10),
                   ("2026-01", "BUYER_UNDERPAID", "B2/W1", 100),
                   ("2026-01", "OVERPAID", "G2/2026-01-12", 5),
                   ("2026-01", "PAID_WITHOUT_WORK", "G5/2026-01-05", 10),
                   ("2026-01", "PAID_WITHOUT_WORK", "GW/2026-01-05", 1),
                   ("2026-01", "PASS_THROUGH_SHORTFALL", "B1/RP", 1),
                   ("2026-01", "PAYEE_NOT_ON_INVOICE", "PO1/2", 4),
                   ("2026-01", "POOL_WITHOUT_WORKERS", "G1/2026-01-12", 10),  # funded, not entitled
                   ("2026-01", "UNDERPAID", "GL/2026-01-12", -1),
                   ("2026-01", "UNDERPAID", "GL/2026-01-19", -1),
                   ("2026-01", "UNEXPECTED_PAYEE", "PP5/2", 7),
                   ("2026-01", "UNEXPECTED_PAYER", "PU2/1", 5),
                   ("2026-01", "UNEXPECTED_PAYER", "PX3/1", 1),
                   ("2026-01", "UNKNOWN_INVOICE", "PX1/1", 2),
                   ("2026-01", "UNKNOWN_INVOICE", "PX2/1", 3),
                   ("2026-01", "UNKNOWN_INVOICE", "PX2/2", 4),
                   ("2026-01", "UNKNOWN_INVOICE", "PX3/1", 1),
                   ("2026-01", "UNPAID", "G6/2026-01-05", -100),
                   ("2026-01", "UNPAID", "GW/2026-01-05", -52)]
    assert rows(boundary_home, "SELECT count(*) FROM worker_audit WHERE status <> 'OK' OR late OR overdue")[0][0] == 8


def test_findings_say_the_amounts_in_dollars_and_cents(boundary_home):
    details = dict(rows(boundary_home, "SELECT reference, detail FROM exceptions WHERE reference IN "
                                       "('B2/W1', 'B1/RP', 'GW/2026-01-05', 'PX2/2') AND coalesce(worker_id, '') "
                                       "IN ('', 'GW-d')"))
    assert details == {
        "B2/W1": "owed $10.00, paid by the buyer $9.00: $1.00 short",
        "B1/RP": "received $2.00 for the invoice but passed on $1.99: $0.01 held",
        "GW/2026-01-05": "worker GW-d: funded share $0.52, paid $0.00, overdue",
        "PX2/2": "paid $0.04 for invoice B2/NOPE2, which no purchases file reports"}


def test_paid_without_work__a_worker_with_no_basis_is_audited_but_not_eligible(boundary_home):
    got = [w for w in workers(boundary_home, "G5") if w[1] == "G5-z"]
    assert got == [(D(2026, 1, 5), "G5-z", 0, 0, 10, "PAID_WITHOUT_WORK", False, False)]
    assert rows(boundary_home, "SELECT distributed_cents, paid_without_work_cents, undistributed_cents, eligible_workers "
                               "FROM pool_audit WHERE grower_id = 'G5'") == [(1000, 10, 0, 5)]


def test_pool_without_workers__funded_with_nobody_on_the_payroll(boundary_home):
    # the second week's pool: 20 owed, 10 received (B2 paid half), nobody on the payroll
    assert [p[:6] for p in pools(boundary_home, "G1")] == [(D(2026, 1, 5), 777, 777, 0, 777, 1),
                                                           (D(2026, 1, 12), 20, 10, 0, 0, 0)]
    assert rows(boundary_home, "SELECT amount_cents FROM exceptions WHERE code = 'POOL_WITHOUT_WORKERS'") == [(10,)]


@pytest.fixture(scope="module")
def confirmation(boundary_home, tmp_path_factory) -> Path:
    """Buyer B2's confirmation of 2026-01, copied out of the home with the public key."""
    from pennytrail.core.confirmations import latest
    from pennytrail.core.keys import key_paths

    if not key_paths(boundary_home)[0].exists():
        assert main(["keys", "create", "--home", str(boundary_home)]) == 0
    assert main(["confirm", "--home", str(boundary_home), "--buyer", "B2", "--month", "2026-01"]) == 0
    issued = latest(boundary_home, "B2", "2026-01")
    out = tmp_path_factory.mktemp("confirmation")
    for f in (issued.pdf, issued.csv, issued.statement):  # the statement names its files
        shutil.copy(f, out / f.name)
    shutil.copy(key_paths(boundary_home)[1], out / "key.pem")
    return out


def test_confirmation__worker_figures_withheld_below_five_workers(confirmation):
    statement = json.loads(next(confirmation.glob("*.json")).read_text(encoding="utf-8"))["statement"]
    pools: dict[str, list[dict]] = {}
    for pool in statement["pools"]:
        pools.setdefault(pool["grower_id"], []).append(pool)
    assert {"G1", "G2", "G4", "G5", "GV"} <= set(pools)
    for g in ("G1", "G2", "G4", "GV"):  # pools of 1, 2 and 4 workers, paid
        for pool in pools[g]:
            if pool["period_start"] == "2026-01-12" and g == "G1":
                continue
            assert not isinstance(pool.get("workers_eligible"), int), g
            assert pool.get("workers_paid") is None and pool.get("pct_funded_on_stubs") is None, g
    # G1's second pool has nobody on the payroll: nobody was paid, and the statement says so
    empty = next(p for p in pools["G1"] if p["period_start"] == "2026-01-12")
    assert (empty["workers_eligible"], empty["workers_paid"], empty["pct_funded_on_stubs"]) == (0, 0, "0.0")
    assert empty["in_words"] == "No worker was eligible: none of the funded premium reached a pay stub."
    assert any(p.get("workers_eligible") == 5 and p.get("workers_paid") == 5 for p in pools["G5"])
    # G6: five eligible, four paid: the count of eligible workers is shown, what was paid is not
    assert [(p["workers_eligible"], p["workers_paid"], p["pct_funded_on_stubs"]) for p in pools["G6"]] == [
        (5, None, None)]


def test_confirmation__what_the_buyer_owed_paid_and_where_it_went_invoice_by_invoice(confirmation):
    """B2's January, as its statement gives it: owed, paid, balance, held by intermediaries,
    received by growers and paid to parties that grew nothing on the invoice (P5's 7¢ to a buyer)."""
    statement = json.loads(next(confirmation.glob("*.json")).read_text(encoding="utf-8"))["statement"]
    keys = ("owed_cents", "paid_by_buyer_cents", "balance_cents", "held_by_intermediaries_cents",
            "received_by_growers_cents", "misdirected_cents")
    got = {i["invoice_id"]: tuple(i[k] for k in keys) for i in statement["invoices"]}
    assert got == {"E1": (1000, 1000, 0, 0, 1000, 0), "E2": (120, 120, 0, 0, 120, 0), "O1": (101, 101, 0, 0, 101, 0),
                   "P1": (777, 777, 0, 0, 777, 0), "P1B": (20, 10, 10, 0, 10, 0), "P4": (10, 10, 0, 0, 10, 0),
                   "P5": (1000, 1007, -7, 0, 1000, 7), "P6": (500, 500, 0, 0, 500, 0), "V1": (100, 100, 0, 0, 100, 0),
                   "V2": (0, 3, -3, 0, 3, 0),
                   "W1": (1000, 900, 100, 0, 900, 0)}
    # the totals add the invoices up; paid this month also holds 5¢ paid in January on its own
    # invoices that nobody reported (PX1, PX2/1), not PX2/2, paid in February, nor PX3, paid on B1's
    assert statement["totals"] == {"owed_cents": 4628, "paid_by_buyer_cents": 4528, "balance_cents": 100,
                                   "held_by_intermediaries_cents": 0, "received_by_growers_cents": 4521,
                                   "misdirected_cents": 7, "paid_by_others_cents": 0, "paid_this_month_cents": 4533}
    assert "PX3" not in {p["payment_id"] for p in statement["payments_made_this_month"]}
    funded = {(p["grower_id"], p["period_start"]): p["funded_cents"] for p in statement["pools"]}
    assert funded[("GW", "2026-01-05")] == 831 and funded[("G1", "2026-01-12")] == 10
    g5 = [p for p in statement["pools"] if p["grower_id"] == "G5"]
    # G5-z, paid without work, is not one of the workers paid from the pool
    assert [(p["workers_eligible"], p["workers_paid"], p["pct_funded_on_stubs"]) for p in g5] == [(5, 5, "100.0")]


def verify(folder: Path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["verify", str(next(folder.glob("*.json"))), "--public-key", str(folder / "key.pem")])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("changed", ["csv", "pdf"])
def test_verify__a_companion_file_changed_after_signing_fails(confirmation, tmp_path, capsys, changed):
    folder = tmp_path / "c"
    shutil.copytree(confirmation, folder)
    assert verify(folder, capsys)[0] == 0
    target = next(folder.glob(f"*.{changed}"))
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 1  # one bit
    target.write_bytes(bytes(data))
    code, out = verify(folder, capsys)
    assert code == 1 and target.name in out and "NOT verified" in out
