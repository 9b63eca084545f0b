"""A closed month's waterfall: from what buyers owed to what reached pay stubs, line by line.

The waterfall has two bases, both named on each line: the buyer end counts the invoices of the
month (their earliest ship date, as `invoice_audit` does) and the grower end counts the pools
whose work period ends in the month (as `pool_audit` does). Each end runs line by line from its
first amount to its last, with a reconciling line for every difference. It reads the published
tables only, so it shows what a sign-off covers; the close workbook's *Summary* and the portal's
month page both show it.
"""

from __future__ import annotations

import duckdb

WATERFALL_SQL = """
WITH inv AS (SELECT * FROM invoice_audit WHERE month = $m),
     pass AS (SELECT * FROM pass_through_audit WHERE month = $m),
     ig AS (SELECT * FROM invoice_grower_audit WHERE month = $m),
     pay AS (SELECT a.* FROM payment_audit a JOIN inv ON inv.buyer_id = a.buyer_id AND inv.invoice_id = a.invoice_id),
     pools AS (SELECT * FROM pool_audit WHERE month = $m),
     workers AS (SELECT * FROM worker_audit WHERE month = $m)
SELECT
  (SELECT coalesce(sum(owed_cents), 0) FROM inv) AS owed,
  (SELECT count(*) FROM inv) AS invoices,
  (SELECT coalesce(sum(balance_cents) FILTER (WHERE balance_cents > 0), 0) FROM inv) AS unpaid,
  (SELECT count(*) FROM inv WHERE balance_cents > 0) AS unpaid_n,
  (SELECT coalesce(-sum(balance_cents) FILTER (WHERE balance_cents < 0), 0) FROM inv) AS overpaid,
  (SELECT count(*) FROM inv WHERE balance_cents < 0) AS overpaid_n,
  (SELECT coalesce(sum(paid_by_buyer_cents), 0) FROM inv) AS paid,
  (SELECT coalesce(sum(amount_cents), 0) FROM pay WHERE payer_id <> buyer_id AND payer_type <> 'intermediary')
      AS other_payers,
  (SELECT count(*) FROM pay WHERE payer_id <> buyer_id AND payer_type <> 'intermediary') AS other_payers_n,
  (SELECT coalesce(sum(held_cents), 0) FROM pass) AS held,
  (SELECT count(DISTINCT intermediary_id) FROM pass WHERE held_cents <> 0) AS held_n,
  (SELECT coalesce(sum(amount_cents), 0) FROM pay WHERE payee_type = 'buyer') AS to_buyers,
  (SELECT count(*) FROM pay WHERE payee_type = 'buyer') AS to_buyers_n,
  (SELECT coalesce(sum(amount_cents), 0) FROM pay WHERE payee_type = 'grower' AND NOT payee_on_invoice)
      AS misdirected,
  (SELECT count(*) FROM pay WHERE payee_type = 'grower' AND NOT payee_on_invoice) AS misdirected_n,
  (SELECT coalesce(sum(received_cents), 0) FROM ig) AS received,
  (SELECT count(DISTINCT grower_id) FROM ig WHERE received_cents > 0) AS received_n,
  (SELECT coalesce(sum(amount_cents), 0) FROM exceptions WHERE month = $m AND code = 'UNKNOWN_INVOICE')
      AS unknown_invoices,
  (SELECT count(*) FROM exceptions WHERE month = $m AND code = 'UNKNOWN_INVOICE') AS unknown_invoices_n,
  (SELECT coalesce(sum(funded_cents + retained_cents), 0) FROM pools) AS pool_received,
  (SELECT count(*) FROM pools) AS pools_n,
  (SELECT coalesce(sum(retained_cents), 0) FROM pools) AS retained,
  (SELECT count(*) FROM pools WHERE retained_cents > 0) AS retained_n,
  (SELECT coalesce(sum(funded_cents), 0) FROM pools) AS funded,
  (SELECT coalesce(sum(undistributed_cents), 0) FROM pools) AS undistributed,
  (SELECT count(*) FROM pools WHERE undistributed_cents <> 0) AS undistributed_n,
  (SELECT coalesce(sum(distributed_cents), 0) FROM pools) AS distributed,
  (SELECT count(DISTINCT (grower_id, worker_id)) FROM workers WHERE status <> 'PAID_WITHOUT_WORK' AND paid_cents > 0)
      AS distributed_n,
  (SELECT coalesce(sum(entitled_cents), 0) FROM pools) AS entitled,
  (SELECT coalesce(sum(paid_without_work_cents), 0) FROM pools) AS pww,
  (SELECT count(*) FROM workers WHERE status = 'PAID_WITHOUT_WORK') AS pww_n,
  (SELECT coalesce(sum(s.funded_cents + s.retained_cents), 0) FROM pool_invoice_audit s JOIN inv USING (buyer_id, invoice_id)
     WHERE s.month <> $m) AS to_other_pools,
  (SELECT count(DISTINCT (s.buyer_id, s.invoice_id)) FROM pool_invoice_audit s JOIN inv USING (buyer_id, invoice_id)
     WHERE s.month <> $m) AS to_other_pools_n,
  (SELECT coalesce(sum(s.funded_cents + s.retained_cents), 0) FROM pool_invoice_audit s
     JOIN invoice_audit i ON i.buyer_id = s.buyer_id AND i.invoice_id = s.invoice_id AND i.month <> $m
     WHERE s.month = $m) AS from_other_invoices,
  (SELECT count(DISTINCT (s.buyer_id, s.invoice_id)) FROM pool_invoice_audit s
     JOIN invoice_audit i ON i.buyer_id = s.buyer_id AND i.invoice_id = s.invoice_id AND i.month <> $m
     WHERE s.month = $m) AS from_other_invoices_n
"""

INVOICES = "invoices of the month (earliest ship date)"
POOLS = "pools whose work period ends in the month"
BASIS_CHANGE = "from the month's invoices to the month's pools"


def waterfall(con: duckdb.DuckDBPyConnection, month: str) -> list[tuple]:
    """The month's waterfall, line by line: (step, amount in cents, count, what is counted, basis).

    Each section runs from a starting amount through signed reconciling lines (``Less:`` is
    negative, ``Add:`` positive) to a subtotal (``=``) that is their sum, so the sheet adds up on
    the page; a difference no line explains gets a line of its own rather than disappearing."""
    cur = con.execute(WATERFALL_SQL, {"m": month})
    v = dict(zip([d[0] for d in cur.description], cur.fetchone()))
    rows = [
        ("Owed by buyers (rate card)", v["owed"], v["invoices"], "invoices", INVOICES),
        ("Less: not paid by buyers", -v["unpaid"], v["unpaid_n"], "invoices underpaid", INVOICES),
        ("Add: paid by buyers beyond what was owed", v["overpaid"], v["overpaid_n"], "invoices overpaid", INVOICES),
        ("= Paid by buyers", v["paid"], None, "", INVOICES),
        ("Add: paid by parties that are neither the buyer nor an intermediary", v["other_payers"],
         v["other_payers_n"], "payment lines", INVOICES),
        ("Less: held by intermediaries (negative: paid out more than received)", -v["held"], v["held_n"],
         "intermediaries", INVOICES),
        ("Less: paid to buyers", -v["to_buyers"], v["to_buyers_n"], "payment lines", INVOICES),
        ("Less: paid to growers with no line on the invoice (misdirected)", -v["misdirected"],
         v["misdirected_n"], "payment lines", INVOICES),
    ]
    explained = v["paid"] + v["other_payers"] - v["held"] - v["to_buyers"] - v["misdirected"]
    if explained != v["received"]:
        rows.append(("Less: difference the published payments do not explain", v["received"] - explained, None,
                     "see Exceptions", INVOICES))
    rows += [
        ("= Received by growers on their invoices", v["received"], v["received_n"], "growers paid", INVOICES),
        ("Less (change of basis): received on these invoices for pools of other months", -v["to_other_pools"],
         v["to_other_pools_n"], "invoices", BASIS_CHANGE),
        ("Add (change of basis): received on other months' invoices for this month's pools",
         v["from_other_invoices"], v["from_other_invoices_n"], "invoices", BASIS_CHANGE),
    ]
    explained = v["received"] - v["to_other_pools"] + v["from_other_invoices"]
    if explained != v["pool_received"]:
        rows.append(("Add: difference the published pools do not explain", v["pool_received"] - explained, None,
                     "see Exceptions", BASIS_CHANGE))
    rows += [
        ("= Received by growers for the month's pools (funded + retained)", v["pool_received"], v["pools_n"],
         "pools", POOLS),
        ("Less: retained by growers (the program's retention)", -v["retained"], v["retained_n"],
         "pools with a retention", POOLS),
        ("= Funded to worker pools", v["funded"], None, "", POOLS),
        ("Less: Undistributed, funded but not on pay stubs (negative: paid beyond the funded shares)",
         -v["undistributed"], v["undistributed_n"], "pools not fully distributed", POOLS),
        ("= Distributed to workers (eligible workers' pay stubs)", v["distributed"], v["distributed_n"],
         "workers paid", POOLS),
        ("Memo: paid on invoices no purchases report names (not above)", v["unknown_invoices"],
         v["unknown_invoices_n"], "payment lines", "payments first made in the month"),
        ("Memo: entitled to worker pools (what the rate card owed them)", v["entitled"], None, "", POOLS),
        ("Memo: entitled but never funded (upstream shortfall)", v["entitled"] - v["funded"], None, "", POOLS),
        ("Memo: paid without work (outside the pools)", v["pww"], v["pww_n"], "worker rows", POOLS),
    ]
    return rows


def adds_up(lines: list[tuple]) -> list[str]:
    """The lines of a waterfall whose subtotal (``=``) is not the sum of the lines above it since
    the last subtotal (``Memo:`` lines stand apart): empty when it adds up line by line."""
    wrong, total = [], None
    for label, cents, *_ in lines:
        if label.startswith("Memo:"):
            continue
        if total is None:
            total = cents
        elif label.startswith("="):
            if cents != total:
                wrong.append(f"{label}: {cents} but the lines above make {total}")
            total = cents
        else:
            total += cents
    return wrong


