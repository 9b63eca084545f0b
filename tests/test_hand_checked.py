"""One small program closed through the real Dagster graph, its figures worked out by hand.

The reference data is the tests' usual one (conftest.REFERENCE): program FFP (tomatoes, 1¢ per
lb, basis units, no retention, 14 days to distribute, weekly pay periods from 2026-01-05) and
program MWD (milk, 5¢ per cwt, basis hours, 10% retained, 21 days, two-week periods from
2026-01-05); growers G1 (FFP) and D1 (MWD), buyers B1 and B2, intermediary R1.
"""

from pennytrail.app import close
from pennytrail.core.warehouse import connect

from .conftest import write
from .test_ingest_bad_input import PAYROLL_HEADER, PURCHASE_HEADER

PAYMENT_HEADER = "payment_id,line_no,payer_id,payee_id,paid_date,buyer_id,invoice_id,amount"

PURCHASES = f"""{PURCHASE_HEADER}
B1,INV-1,1,2026-01-06,,G1,G1,tomatoes,700,lb,
B1,INV-1,2,2026-01-07,,G1,G1,tomatoes,12,box_25lb,
B2,INV-2,1,2026-01-06,,R1,D1,milk,2000,cwt,
"""
PAYMENTS = f"""{PAYMENT_HEADER}
PAY-1,1,B1,G1,2026-01-12,B1,INV-1,7.00
PAY-2,1,B2,R1,2026-01-12,B2,INV-2,100.00
PAY-3,1,R1,D1,2026-01-20,B2,INV-2,90.00
"""
PAYROLL = f"""{PAYROLL_HEADER}
G1,W1,2026-01-05,,,,2026-01-11,2026-01-16,8,10,120.00,2.34
G1,W2,2026-01-05,,,,2026-01-11,2026-01-16,8,10,120.00,2.33
G1,W3,2026-01-05,,,,2026-01-11,2026-01-16,8,10,120.00,0.00
G1,W4,2026-01-05,,,,2026-01-11,2026-01-16,5,0,75.00,1.00
D1,V1,2026-01-05,,,,2026-01-18,2026-01-23,30,0,450.00,60.75
D1,V2,2026-01-05,,,,2026-01-18,2026-01-23,10,0,150.00,20.25
"""


def test_a_small_program_reconciles_to_the_figures_worked_out_by_hand(data_dir, tmp_path):
    write(data_dir / "inbox/purchases/B1/lines.csv", PURCHASES)
    write(data_dir / "inbox/payments/B1/payments.csv", PAYMENTS)
    write(data_dir / "inbox/payroll/G1/payroll.csv", PAYROLL)
    home = tmp_path / "home"
    close(data_dir, home)
    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        invoices = q("SELECT buyer_id, invoice_id, owed_cents, paid_by_buyer_cents, balance_cents, status "
                     "FROM invoice_audit ORDER BY 1, 2")
        held = q("SELECT buyer_id, invoice_id, intermediary_id, received_cents, paid_on_cents, held_cents "
                 "FROM pass_through_audit")
        pools = q("SELECT grower_id, month, entitled_cents, funded_cents, retained_cents, distributed_cents, "
                  "paid_without_work_cents, undistributed_cents, eligible_workers, CAST(due_date AS VARCHAR) "
                  "FROM pool_audit ORDER BY 1")
        workers = q("SELECT worker_id, entitled_cents, funded_cents, paid_cents, variance_cents, "
                    "upstream_shortfall_cents, status, late FROM worker_audit ORDER BY 1")
        bases = q("SELECT worker_id, CAST(basis_value AS VARCHAR) FROM worker_audit ORDER BY 1")
        exceptions = q("SELECT code, party_id, amount_cents FROM exceptions ORDER BY 1, 2")

    # INV-1: 700 lb × 1¢ = $7.00, plus 12 boxes × 25 lb = 300 lb × 1¢ = $3.00: owed 1000¢.
    #        B1 paid $7.00: 1000 − 700 = 300¢ short.
    # INV-2: 2000 cwt × 5¢ = $100.00 = 10000¢, paid in full to R1.
    assert invoices == [("B1", "INV-1", 1000, 700, 300, "BUYER_UNDERPAID"),
                        ("B2", "INV-2", 10000, 10000, 0, "OK")]
    # R1 got $100.00 and paid on $90.00: it holds 10000 − 9000 = 1000¢.
    assert held == [("B2", "INV-2", "R1", 10000, 9000, 1000)]

    # D1 (MWD, 10% retained): entitled 10000 − 10% of 10000 = 9000; received 9000, funded
    #     9000 − 10% of 9000 = 8100, retained 900. Workers split by hours 30 : 10 = 3/4 : 1/4:
    #     entitled 6750 + 2250, funded 6075 + 2025, paid exactly that: distributed 8100.
    #     Due: latest payment to D1 (01-20) is after the period's end (01-18); + 21 days = 02-10.
    # G1 (FFP, nothing retained): entitled 1000, funded 700. W1, W2, W3 have 10 units each
    #     (W4 has none: not eligible). 1000 / 3 = 333 each and 1¢ left, which goes to the first
    #     worker id of the tie: W1 334, W2 333, W3 333. 700 / 3 = 233 each and 1¢ left: W1 234,
    #     W2 233, W3 233. Paid to eligible workers: 234 + 233 + 0 = 467; undistributed
    #     700 − 467 = 233; W4's 100¢ is paid without work. Due: payment 01-12 after the end
    #     01-11, + 14 days = 01-26.
    assert pools == [("D1", "2026-01", 9000, 8100, 900, 8100, 0, 0, 2, "2026-02-10"),
                     ("G1", "2026-01", 1000, 700, 0, 467, 100, 233, 3, "2026-01-26")]
    # variance = paid − funded; upstream shortfall = entitled − funded. Paid 01-16 and 01-23:
    # before both due dates, so nothing is late.
    assert workers == [("V1", 6750, 6075, 6075, 0, 675, "OK", False),
                       ("V2", 2250, 2025, 2025, 0, 225, "OK", False),
                       ("W1", 334, 234, 234, 0, 100, "OK", False),
                       ("W2", 333, 233, 233, 0, 100, "OK", False),
                       ("W3", 333, 233, 0, -233, 100, "UNPAID", False),
                       ("W4", 0, 0, 100, 100, 0, "PAID_WITHOUT_WORK", False)]
    # the basis as the program counts it: hours for D1's workers, units for G1's (W4 has none)
    assert bases == [("V1", "30.000"), ("V2", "10.000"), ("W1", "10.000"), ("W2", "10.000"), ("W3", "10.000"),
                     ("W4", "0.000")]
    assert exceptions == [("BUYER_UNDERPAID", "B1", 300), ("PAID_WITHOUT_WORK", "G1", 100),
                          ("PASS_THROUGH_SHORTFALL", "R1", 1000), ("UNPAID", "G1", -233)]
