"""A small program written by hand whose every figure sits on a boundary of the rules.

Each scenario is a handful of rows a reader can check with pencil and paper; the expected
figures are worked out in the comments and asserted in ``test_boundaries.py``. Four programs,
each with 14 days to distribute and weekly pay periods from Monday 2026-01-05: ``TOM`` (basis
units, nothing retained), ``RET`` (units, 10% retained), ``WAG`` (gross wages, 7.65% retained)
and ``EQL`` (equal shares, nothing retained). Rates: tomatoes 1¢/lb, peppers ½¢/lb, so that a
single line can owe an exact half cent (0.4¢/lb until 2026-01-05).

Scenarios, one grower each (buyers B1, B2; intermediary R1):
- GO  owed at half cents: 101 lb peppers = 50.5¢ → 51; 8 oz tomatoes = 0.5¢ → 1; 1 lb peppers
      = 0.5¢ → 1; invoice B1/O1 owes 53 (per line, not 51.5 → 52 per invoice). Line 1 billed
      0.50 (a BILLED_MISMATCH of −1), line 2 billed 0.01 (= owed: no finding). A grower (G1)
      also pays 5¢ on B1/U1 (UNEXPECTED_PAYER); B1 pays 4¢ of B1/O1 to G2, which has a line
      on B2/O1 but none on B1/O1 (PAYEE_NOT_ON_INVOICE; B1/O1 is overpaid by 4). The pepper
      rate changes from 0.4¢ to ½¢ on 2026-01-06: B1/O2 (unpaid) owes 40 for 100 lb shipped on
      the old rate's last day and 50 for 100 lb on the new rate's first.
- GH  retention (10%) at half cents, per (invoice, grower): owed 105 → entitled 105 − 11 = 94
      (twice: the pool's 188, where 210 − 21 would give 189); received 115 on owed 100 →
      funded 115 − 12 = 103, retained 12; B1/H4 over two periods of equal weight (owed 110,
      received 130, shipped in January and February: a January invoice): entitled 99 → 50 | 49,
      funded 117 → 59 | 58, retained 13 → 7 | 6, the odd cent to the earlier period.
- GL  due dates: pool 2026-01-05 (paid to the grower 01-09, before the period ends 01-11):
      due 01-25; paid on 01-25 is on time, on 01-26 (on a stub of a later period) is late.
      Pool 2026-01-12 (paid 01-30, after its end 01-18): due 02-13; paid 02-13 on time, 02-14
      late (and 1¢ short: overdue, the last day of the data being 02-14). Pool 2026-01-19
      (paid 01-31): due 02-14, the last day of the data: 1¢ short but not yet overdue. GL-a
      and GL-b are in several pools of January.
- GR  pass-through: held 0 (B1/RZ), held −50 (B1/RN: R1 paid out more than it got; the buyer
      underpaid 50), held 1 (B1/RP: PASS_THROUGH_SHORTFALL of 1¢). The buyer paid R1 on 01-20,
      after R1 paid the grower: the grower's due date counts only payments to the grower.
- G1, G2, G4, G5  pools of 1, 2, 4 and 5 workers (buyer B2): 777 to one; 101 over two equal
      weights → 51 to G2-a, 50 to G2-b; 10 over four equal weights → 3, 3, 2, 2 in string
      order of id (G4-1, G4-10, G4-2, G4-9); 1000 over weights 1..5 → 67, 133, 200, 267, 333.
      G5-z has no units and is paid 10¢: PAID_WITHOUT_WORK. G1's second pool (20¢) has nobody
      on the payroll: POOL_WITHOUT_WORKERS. B2 pays 7¢ of B2/P5 to B1 (UNEXPECTED_PAYEE) and
      2¢ on an invoice nobody reported (UNKNOWN_INVOICE).
- GW  basis gross wages, 7.65% retained (B2/W1): owed 1000 → retained 76.5 → 77, entitled 923;
      received 900 → 68.85 → 69, funded 831. Weights 10000, 5050 and 1000 cents: funded 518,
      261, 52 (two cents left, to the largest remainders), entitled 575, 290, 58. GW-c has hours
      and units but no wages: not eligible, paid 1¢ (PAID_WITHOUT_WORK). GW-d is never paid:
      UNPAID, overdue, not late. B2 paid 100 short (BUYER_UNDERPAID).
- GE  basis equal: GE-1 has hours only, GE-2 units only, GE-4 two rows of one pay period (one
      paying an earlier premium period): each weighs 1; GE-3 has wages only: not eligible. 1000
      → 334, 333, 333. B2/E2 owes 100 in the week of 01-12 and 10 + 10 in the week of 01-19:
      split 100 | 20 by owed (by lines it would be 40 | 80). B1 has an invoice E1 with GE too,
      shipped in the week of 01-12 and paid 01-30: that week's due date, not the one of B2/E1's.
- G2-a also worked in the week of 01-12, when G2 shipped nothing, and was paid 5¢: eligible
  without a pool, so OVERPAID. B2 pays 3¢ on 01-30 and 4¢ on 02-02 on another unknown invoice
  (both in January, the month of its first payment). B2 pays half of G1's second pool (10 of
  20): POOL_WITHOUT_WORKERS carries the 10 funded. R1 bills 1.01 on B1/RZ, which owes 1.00: a
  BILLED_MISMATCH of the intermediary.
- G6  five eligible workers, four paid (G6-5 is UNPAID): a buyer's statement shows the five
      eligible but withholds the workers paid and the share on stubs (fewer than five paid).
      B2 also pays 1¢ on an invoice of B1 that nobody reported (PX3): UNKNOWN_INVOICE and
      UNEXPECTED_PAYER, and not one of B2's payments on its own statement.
- GV  void lines: B2/V1 line 2 corrected to quantity 0 (owes 100, not 140; its line 1 was
      shipped in the next period but harvested in this one); both lines of B2/V2 voided, and
      3¢ paid on it: split over its two periods by equal weights, 2 | 1.
- bad files: a payment whose buyer is an intermediary (WRONG_PARTY_TYPE), one whose payer is
  unknown (UNKNOWN_PARTY), a purchase line whose seller is a buyer (WRONG_PARTY_TYPE), a payroll
  row whose grower is a buyer (WRONG_PARTY_TYPE).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

REFERENCE = {
    "programs.csv": """\
        program_id,name,currency,allocation_basis,grower_retention_pct,distribution_deadline_days,period_days,period_anchor
        TOM,Tomatoes,USD,units,0,14,7,2026-01-05
        RET,Retained,USD,units,10,14,7,2026-01-05
        WAG,Wages,USD,gross_wages,7.65,14,7,2026-01-05
        EQL,Equal,USD,equal,0,14,7,2026-01-05
        """,
    "parties.csv": """\
        party_id,party_type,name,program_id
        B1,buyer,Buyer One,
        B2,buyer,Buyer Two,
        R1,intermediary,Repacker,
        GO,grower,Owed Farm,TOM
        GH,grower,Half Farm,RET
        GL,grower,Late Farm,TOM
        GR,grower,Repacked Farm,TOM
        G1,grower,One Farm,TOM
        G2,grower,Two Farm,TOM
        G4,grower,Four Farm,TOM
        G5,grower,Five Farm,TOM
        G6,grower,Six Farm,TOM
        GV,grower,Void Farm,TOM
        GW,grower,Wage Farm,WAG
        GE,grower,Equal Farm,EQL
        """,
    "rates.csv": """\
        program_id,commodity,rate,rate_unit,effective_from,effective_to
        TOM,tomatoes,0.01,lb,2020-01-01,
        TOM,peppers,0.004,lb,2020-01-01,2026-01-05
        TOM,peppers,0.005,lb,2026-01-06,
        RET,tomatoes,0.01,lb,2020-01-01,
        WAG,tomatoes,0.01,lb,2020-01-01,
        EQL,tomatoes,0.01,lb,2020-01-01,
        """,
    "units.csv": """\
        unit,base_unit,factor
        lb,lb,1
        oz,lb,0.0625
        box_25lb,lb,25
        """,
}

PURCHASE_HEADER = "buyer_id,invoice_id,line_no,ship_date,harvest_date,seller_id,grower_id,commodity,quantity,unit,premium_billed"
PAYMENT_HEADER = "payment_id,line_no,payer_id,payee_id,paid_date,buyer_id,invoice_id,amount"
PAYROLL_HEADER = ("grower_id,worker_id,period_start,premium_period_start,worker_name,crew_id,period_end,pay_date,"
                  "hours,units,gross_wages,premium_paid")

INBOX = {
    "purchases/B1/2026-01.csv": f"""\
        {PURCHASE_HEADER}
        B1,O1,1,2026-01-06,,GO,GO,peppers,101,lb,0.50
        B1,O1,2,2026-01-06,,GO,GO,tomatoes,8,oz,0.01
        B1,O1,3,2026-01-06,,GO,GO,peppers,1,lb,
        B1,U1,1,2026-01-06,,GO,GO,tomatoes,10,lb,
        B1,O2,1,2026-01-05,,GO,GO,peppers,100,lb,
        B1,O2,2,2026-01-06,,GO,GO,peppers,100,lb,
        B1,H1,1,2026-01-06,,GH,GH,tomatoes,105,lb,
        B1,H3,1,2026-01-07,,GH,GH,tomatoes,105,lb,
        B1,H2,1,2026-01-13,,GH,GH,tomatoes,100,lb,
        B1,H4,1,2026-01-20,,GH,GH,tomatoes,55,lb,
        B1,H4,2,2026-02-02,,GH,GH,tomatoes,55,lb,
        B1,L1,1,2026-01-06,,GL,GL,tomatoes,100,lb,
        B1,L2,1,2026-01-13,,GL,GL,tomatoes,100,lb,
        B1,L3,1,2026-01-20,,GL,GL,tomatoes,100,lb,
        B1,RZ,1,2026-01-06,,R1,GR,tomatoes,100,lb,1.01
        B1,RN,1,2026-01-06,,R1,GR,tomatoes,200,lb,
        B1,RP,1,2026-01-06,,R1,GR,tomatoes,200,lb,
        B1,E1,1,2026-01-13,,GE,GE,tomatoes,300,lb,
        """,
    "purchases/B2/2026-01-a.csv": f"""\
        {PURCHASE_HEADER}
        B2,P1,1,2026-01-06,,G1,G1,tomatoes,777,lb,
        B2,P1B,1,2026-01-13,,G1,G1,tomatoes,20,lb,
        B2,O1,1,2026-01-06,,G2,G2,tomatoes,101,lb,
        B2,P4,1,2026-01-06,,G4,G4,tomatoes,10,lb,
        B2,P5,1,2026-01-06,,G5,G5,tomatoes,1000,lb,
        B2,P6,1,2026-01-06,,G6,G6,tomatoes,500,lb,
        B2,V1,1,2026-01-13,2026-01-09,GV,GV,tomatoes,100,lb,
        B2,V1,2,2026-01-06,,GV,GV,tomatoes,40,lb,
        B2,V2,1,2026-01-06,,GV,GV,tomatoes,30,lb,
        B2,V2,2,2026-01-13,,GV,GV,tomatoes,30,lb,
        B2,W1,1,2026-01-06,,GW,GW,tomatoes,1000,lb,
        B2,E1,1,2026-01-06,,GE,GE,tomatoes,1000,lb,
        B2,E2,1,2026-01-13,,GE,GE,tomatoes,100,lb,
        B2,E2,2,2026-01-20,,GE,GE,tomatoes,10,lb,
        B2,E2,3,2026-01-21,,GE,GE,tomatoes,10,lb,
        """,
    "purchases/B2/2026-01-b-void.csv": f"""\
        {PURCHASE_HEADER}
        B2,V1,2,2026-01-06,,GV,GV,tomatoes,0,lb,
        B2,V2,1,2026-01-06,,GV,GV,tomatoes,0,lb,
        B2,V2,2,2026-01-13,,GV,GV,tomatoes,0,lb,
        """,
    "purchases/bad/2026-01.csv": f"""\
        {PURCHASE_HEADER}
        B1,O9,1,2026-01-06,,B2,GO,tomatoes,1,lb,
        """,
    "payments/B1/2026-01.csv": f"""\
        {PAYMENT_HEADER}
        PO1,1,B1,GO,2026-01-09,B1,O1,0.53
        PO1,2,B1,G2,2026-01-09,B1,O1,0.04
        PU1,1,B1,GO,2026-01-09,B1,U1,0.10
        PU2,1,G1,GO,2026-01-10,B1,U1,0.05
        PH1,1,B1,GH,2026-01-09,B1,H1,1.05
        PH3,1,B1,GH,2026-01-09,B1,H3,1.05
        PH2,1,B1,GH,2026-01-16,B1,H2,1.15
        PH4,1,B1,GH,2026-01-30,B1,H4,1.30
        PL1,1,B1,GL,2026-01-09,B1,L1,1.00
        PL2,1,B1,GL,2026-01-30,B1,L2,1.00
        PL3,1,B1,GL,2026-01-31,B1,L3,1.00
        PR1,1,B1,R1,2026-01-20,B1,RZ,1.00
        PR1,2,B1,R1,2026-01-20,B1,RN,1.50
        PR1,3,B1,R1,2026-01-20,B1,RP,2.00
        PE9,1,B1,GE,2026-01-30,B1,E1,3.00
        """,
    "payments/R1/2026-01.csv": f"""\
        {PAYMENT_HEADER}
        PR9,1,R1,GR,2026-01-10,B1,RZ,1.00
        PR9,2,R1,GR,2026-01-10,B1,RN,2.00
        PR9,3,R1,GR,2026-01-10,B1,RP,1.99
        """,
    "payments/B2/2026-01.csv": f"""\
        {PAYMENT_HEADER}
        PP1,1,B2,G1,2026-01-09,B2,P1,7.77
        PP1B,1,B2,G1,2026-01-16,B2,P1B,0.10
        PP2,1,B2,G2,2026-01-09,B2,O1,1.01
        PP4,1,B2,G4,2026-01-09,B2,P4,0.10
        PP5,1,B2,G5,2026-01-09,B2,P5,10.00
        PP5,2,B2,B1,2026-01-09,B2,P5,0.07
        PP6,1,B2,G6,2026-01-09,B2,P6,5.00
        PX3,1,B2,G1,2026-01-09,B1,NOPE3,0.01
        PV1,1,B2,GV,2026-01-09,B2,V1,1.00
        PV2,1,B2,GV,2026-01-09,B2,V2,0.03
        PX1,1,B2,G1,2026-01-09,B2,NOPE,0.02
        PX2,1,B2,G1,2026-01-30,B2,NOPE2,0.03
        PX2,2,B2,G1,2026-02-02,B2,NOPE2,0.04
        PW1,1,B2,GW,2026-01-09,B2,W1,9.00
        PE1,1,B2,GE,2026-01-09,B2,E1,10.00
        PE2,1,B2,GE,2026-01-16,B2,E2,1.20
        """,
    "payments/bad/2026-01.csv": f"""\
        {PAYMENT_HEADER}
        PB1,1,B1,GO,2026-01-09,R1,O1,1.00
        PB2,1,ZZ,GO,2026-01-09,B1,O1,1.00
        """,
    "payroll/all/2026-01.csv": f"""\
        {PAYROLL_HEADER}
        GO,GO-a,2026-01-05,,Ana,,2026-01-11,2026-01-16,40,10,100.00,0.68
        GH,GH-a,2026-01-05,,Bea,,2026-01-11,2026-01-16,40,1,100.00,0.94
        GH,GH-b,2026-01-05,,Cal,,2026-01-11,2026-01-16,40,1,100.00,0.94
        GH,GH-a,2026-01-12,,Bea,,2026-01-18,2026-01-23,40,3,100.00,1.03
        GH,GH-a,2026-01-19,,Bea,,2026-01-25,2026-01-30,40,1,100.00,0.59
        GH,GH-a,2026-02-02,,Bea,,2026-02-08,2026-02-13,40,1,100.00,0.58
        GL,GL-a,2026-01-05,,Dee,,2026-01-11,2026-01-25,40,1,100.00,0.50
        GL,GL-b,2026-01-05,,Eli,,2026-01-11,2026-01-16,40,1,100.00,0.00
        GL,GL-b,2026-01-19,2026-01-05,Eli,,2026-01-25,2026-01-26,0,0,0.00,0.50
        GL,GL-a,2026-01-12,,Dee,,2026-01-18,2026-02-13,40,3,100.00,0.75
        GL,GL-b,2026-01-12,,Eli,,2026-01-18,2026-02-14,40,1,100.00,0.24
        GL,GL-a,2026-01-19,,Dee,,2026-01-25,2026-01-30,40,1,100.00,0.99
        GR,GR-a,2026-01-05,,Fay,,2026-01-11,2026-01-16,40,1,100.00,4.99
        G1,G1-a,2026-01-05,,Gus,,2026-01-11,2026-01-16,40,7,100.00,7.77
        G2,G2-b,2026-01-05,,Hal,,2026-01-11,2026-01-16,40,5,100.00,0.50
        G2,G2-a,2026-01-05,,Ida,,2026-01-11,2026-01-16,40,5,100.00,0.51
        G4,G4-9,2026-01-05,,Jo,,2026-01-11,2026-01-16,40,1,100.00,0.02
        G4,G4-2,2026-01-05,,Kim,,2026-01-11,2026-01-16,40,1,100.00,0.02
        G4,G4-10,2026-01-05,,Lee,,2026-01-11,2026-01-16,40,1,100.00,0.03
        G4,G4-1,2026-01-05,,Max,,2026-01-11,2026-01-16,40,1,100.00,0.03
        G5,G5-e,2026-01-05,,Ned,,2026-01-11,2026-01-16,40,5,100.00,3.33
        G5,G5-d,2026-01-05,,Oto,,2026-01-11,2026-01-16,40,4,100.00,2.67
        G5,G5-c,2026-01-05,,Pia,,2026-01-11,2026-01-16,40,3,100.00,2.00
        G5,G5-b,2026-01-05,,Quy,,2026-01-11,2026-01-16,40,2,100.00,1.33
        G5,G5-a,2026-01-05,,Ray,,2026-01-11,2026-01-16,40,1,100.00,0.67
        G5,G5-z,2026-01-05,,Uma,,2026-01-11,2026-01-16,40,0,100.00,0.10
        G6,G6-1,2026-01-05,,Ari,,2026-01-11,2026-01-16,40,1,100.00,1.00
        G6,G6-2,2026-01-05,,Ben,,2026-01-11,2026-01-16,40,1,100.00,1.00
        G6,G6-3,2026-01-05,,Cat,,2026-01-11,2026-01-16,40,1,100.00,1.00
        G6,G6-4,2026-01-05,,Dov,,2026-01-11,2026-01-16,40,1,100.00,1.00
        G6,G6-5,2026-01-05,,Eve,,2026-01-11,2026-01-16,40,1,100.00,0.00
        GV,GV-a,2026-01-05,,Sol,,2026-01-11,2026-01-16,40,1,100.00,1.02
        GV,GV-a,2026-01-12,,Sol,,2026-01-18,2026-01-23,40,1,100.00,0.01
        G2,G2-a,2026-01-12,,Ida,,2026-01-18,2026-01-23,40,5,100.00,0.05
        GW,GW-a,2026-01-05,,Vic,,2026-01-11,2026-01-16,10,0,100.00,5.18
        GW,GW-b,2026-01-05,,Wes,,2026-01-11,2026-01-16,30,0,50.50,2.61
        GW,GW-d,2026-01-05,,Xia,,2026-01-11,2026-01-16,2,0,10.00,0.00
        GW,GW-c,2026-01-05,,Yan,,2026-01-11,2026-01-16,8,5,0.00,0.01
        GE,GE-1,2026-01-05,,Zed,,2026-01-11,2026-01-16,8,0,80.00,3.34
        GE,GE-2,2026-01-05,,Abe,,2026-01-11,2026-01-16,0,3,19.50,3.33
        GE,GE-3,2026-01-05,,Bo,,2026-01-11,2026-01-16,0,0,50.00,0.00
        GE,GE-4,2026-01-05,,Cy,,2026-01-11,2026-01-16,4,0,40.00,3.33
        GE,GE-4,2026-01-05,2025-12-29,Cy,,2026-01-11,2026-01-16,4,0,40.00,0.00
        GE,GE-1,2026-01-12,,Zed,,2026-01-18,2026-01-23,8,0,80.00,4.00
        GE,GE-1,2026-01-19,,Zed,,2026-01-25,2026-01-30,8,0,80.00,0.20
        """,
    "payroll/bad/2026-01.csv": f"""\
        {PAYROLL_HEADER}
        B1,X-1,2026-01-05,,Tom,,2026-01-11,2026-01-16,40,1,100.00,0.00
        """,
}


def write_program(data: Path) -> Path:
    """Write the reference data and the inbox under ``data``; return ``data``."""
    for name, text in REFERENCE.items():
        _write(data / "reference" / name, text)
    for name, text in INBOX.items():
        _write(data / "inbox" / name, text)
    return data


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
