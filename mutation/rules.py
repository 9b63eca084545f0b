"""Rule mutations of the SQL stages (``pennytrail/core/stages/*.sql``, the names of
``stages/dialect.py``, and the few rules written in Python around them), applied
one at a time to a copy of the repository, each run against the fast tests that guard it.

    .venv/bin/python mutation/rules.py            # every mutant; prints the score and every survivor
    .venv/bin/python mutation/rules.py --list     # the kept list
    .venv/bin/python mutation/rules.py ID ...     # some of them

A mutant is one exact text replacement (``old`` must occur exactly once in ``file``; a list
entry whose text is gone is reported STALE and fails the run, so the list follows the code).
It is killed when its tests fail. A mutant that survives must carry ``equivalent``: the reason
it cannot change any output; any other survivor fails the run. ``make mutants`` runs this after
mutmut.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STAGES = "pennytrail/core/stages/"
OWED = STAGES + "owed.sql"
HANDSHAKE = STAGES + "handshake.sql"
PAYMENTS = STAGES + "payments.sql"
POOLS = STAGES + "pools.sql"
ALLOCATION = STAGES + "allocation.sql"
WORKER_AUDIT = STAGES + "worker_audit.sql"
FINDINGS = STAGES + "findings.sql"
DIALECT = STAGES + "dialect.py"
WAREHOUSE = "pennytrail/core/warehouse.py"
CONSERVATION = "pennytrail/core/conservation.py"
PRIVACY = "pennytrail/core/privacy.py"
STATEMENT = "pennytrail/core/statement.py"
PUBLISH = "pennytrail/core/publish.py"
CONFIRMATIONS = "pennytrail/core/confirmations.py"
SIGNOFF = "pennytrail/core/signoff.py"

# the fast tests: the hand-written boundary program (one close), the properties and the splits
RULE_TESTS = ["tests/test_boundaries.py", "tests/test_properties.py", "tests/test_allocation.py", "tests/test_money.py"]
PRIVACY_TESTS = ("tests/test_privacy.py", "tests/test_boundaries.py")
CHECK_TESTS = ["tests/test_reconcile_direct.py", "tests/test_conservation.py", "tests/test_definitions.py"]


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str
    old: str
    new: str
    what: str
    tests: tuple[str, ...] = tuple(RULE_TESTS)
    equivalent: str | None = None  # why it cannot change any output, if it survives


MUTANTS = [
    # -- rounding ------------------------------------------------------------------------------
    Mutant("period-of-truncates-before-the-anchor", DIALECT,
           "anchor + CAST((d - anchor) - ((((d - anchor) % days) + days) % days) AS INTEGER)",
           "anchor + CAST((d - anchor) - ((d - anchor) % days) AS INTEGER)",
           "a date before the anchor falls in the period after its own"),
    Mutant("round-half-down", DIALECT, "((2 * abs(CAST(num AS HUGEINT)) + den) // (2 * CAST(den AS HUGEINT)))",
           "((2 * abs(CAST(num AS HUGEINT)) + den - 1) // (2 * CAST(den AS HUGEINT)))",
           "round_half_up rounds an exact half down"),
    Mutant("round-floor", DIALECT, "((2 * abs(CAST(num AS HUGEINT)) + den) // (2 * CAST(den AS HUGEINT)))",
           "(abs(CAST(num AS HUGEINT)) // CAST(den AS HUGEINT))", "round_half_up truncates"),
    Mutant("entitled-retention-half-down", POOLS,
           "owed_cents - round_half_up_div(owed_cents * retention_bp, 10000) AS entitled_cents",
           "owed_cents - round_half_up_div(owed_cents * retention_bp - 1, 10000) AS entitled_cents",
           "the retention of entitled rounds an exact half to the workers' side"),
    Mutant("funded-retention-half-down", POOLS,
           "received_cents - round_half_up_div(received_cents * retention_bp, 10000) AS funded_cents",
           "received_cents - round_half_up_div(received_cents * retention_bp - 1, 10000) AS funded_cents",
           "the retention of funded rounds an exact half to the workers' side"),
    Mutant("retained-from-entitled", POOLS, "received_cents - funded_cents AS retained_cents",
           "owed_cents - entitled_cents AS retained_cents", "retained computed from owed instead of received"),
    # -- owed ------------------------------------------------------------------------------------
    Mutant("unit-join-key-swapped", OWED, "LEFT JOIN ref_units fu ON fu.unit = p.unit",
           "LEFT JOIN ref_units fu ON fu.unit = r.rate_unit", "the line's unit factor taken from the rate unit"),
    Mutant("rate-from-exclusive", OWED,
           "AND p.ship_date BETWEEN r.effective_from AND coalesce(r.effective_to, DATE '9999-12-31')",
           "AND p.ship_date > r.effective_from AND p.ship_date <= coalesce(r.effective_to, DATE '9999-12-31')",
           "a rate not in force on its first day"),
    Mutant("rate-to-exclusive", OWED,
           "AND p.ship_date BETWEEN r.effective_from AND coalesce(r.effective_to, DATE '9999-12-31')",
           "AND p.ship_date >= r.effective_from AND p.ship_date < coalesce(r.effective_to, DATE '9999-12-31')",
           "a rate not in force on its last day"),
    Mutant("work-period-from-ship-date", OWED, "period_of(coalesce(p.harvest_date, p.ship_date),",
           "period_of(p.ship_date,", "the work period ignores the harvest date"),
    # the price of a line, purchases' and sellers' alike (``owed_cents`` and ``base_quantity``)
    Mutant("owed-ignores-the-rate-unit", DIALECT,
           "as_int128(1000) * 1000000 * as_int128(CAST(rate_factor AS DECIMAL(38,6)) * 1000000)",
           "as_int128(1000) * 1000000 * 1000000", "a rate per hundredweight or per gallon priced as per base unit",
           tests=("tests/test_handshake.py", *RULE_TESTS)),
    Mutant("base-quantity-factor-in-hundredths", DIALECT, "as_int128(CAST(factor AS DECIMAL(38,6)) * 1000000)",
           "as_int128(CAST(factor AS DECIMAL(38,2)) * 1000000)",
           "a unit's factor (0.453592 lb to the kg) cut to two places before it prices or compares a line",
           tests=("tests/test_handshake.py", *RULE_TESTS)),
    Mutant("owed-quantity-in-whole-units", DIALECT, "as_int128(quantity * 1000) * as_int128(CAST(factor",
           "as_int128(CAST(quantity AS BIGINT) * 1000) * as_int128(CAST(factor",
           "a quantity's thousandths dropped before it is priced or compared",
           tests=("tests/test_handshake.py", *RULE_TESTS)),
    # -- invoices and payments -------------------------------------------------------------------
    Mutant("invoice-month-latest", PAYMENTS, "month_of(min(ship_date)) AS month",
           "month_of(max(ship_date)) AS month", "an invoice belongs to its latest ship date's month"),
    Mutant("paid-by-anyone", PAYMENTS, "coalesce(sum(p.amount_cents) FILTER (WHERE p.payer_is_buyer), 0)",
           "coalesce(sum(p.amount_cents), 0)", "paid_by_buyer counts every payer"),
    Mutant("underpaid-at-zero", PAYMENTS, "CASE WHEN balance_cents > 0 THEN 'BUYER_UNDERPAID'",
           "CASE WHEN balance_cents >= 0 THEN 'BUYER_UNDERPAID'", "a balanced invoice reported underpaid"),
    Mutant("payment-join-without-buyer", PAYMENTS,
           "LEFT JOIN w_invoices i ON i.buyer_id = p.buyer_id AND i.invoice_id = p.invoice_id",
           "LEFT JOIN w_invoices i ON i.invoice_id = p.invoice_id", "payments matched to invoices by id alone"),
    Mutant("payee-on-invoice-without-buyer", PAYMENTS,
           "LEFT JOIN invoice_growers ig ON ig.buyer_id = p.buyer_id AND ig.invoice_id = p.invoice_id",
           "LEFT JOIN invoice_growers ig ON ig.invoice_id = p.invoice_id",
           "a payee is on an invoice when another buyer's invoice of the same id has its line"),
    Mutant("received-from-every-payee", POOLS, "FROM w_payments WHERE payee_type = 'grower' GROUP BY buyer_id, invoice_id, payee_id",
           "FROM w_payments GROUP BY buyer_id, invoice_id, payee_id", "received counts payments to intermediaries and buyers",
           equivalent="the received amounts are joined to the (invoice, grower) pairs of purchase lines on "
                      "grower_id = payee_id, and a party id names one party of one type: a payment to an "
                      "intermediary or a buyer never meets a grower's line"),
    Mutant("held-zero-is-shortfall", FINDINGS, "FROM w_pass_through WHERE held_cents > 0",
           "FROM w_pass_through WHERE held_cents >= 0", "held 0 raises PASS_THROUGH_SHORTFALL"),
    Mutant("held-received-by-payer", PAYMENTS, "FROM w_payments WHERE payee_type = 'intermediary'",
           "FROM w_payments WHERE payer_type = 'intermediary'", "an intermediary's receipts counted from its payments"),
    Mutant("unexpected-payer-any-non-buyer", FINDINGS,
           "FROM w_payments WHERE NOT payer_is_buyer AND payer_type <> 'intermediary'",
           "FROM w_payments WHERE NOT payer_is_buyer", "an intermediary paying on is an unexpected payer"),
    Mutant("unexpected-payee-dropped", FINDINGS, "FROM w_payments WHERE payee_type = 'buyer'",
           "FROM w_payments WHERE false", "money paid to a buyer raises nothing"),
    Mutant("payee-not-on-invoice-dropped", FINDINGS, "AND payee_type = 'grower' AND NOT payee_on_invoice",
           "AND payee_type = 'grower' AND false", "a grower paid on an invoice it has no line on raises nothing"),
    Mutant("billed-mismatch-null-filter-dropped", FINDINGS,
           "WHERE l.premium_billed_cents IS NOT NULL AND l.premium_billed_cents <> l.owed_cents",
           "WHERE l.premium_billed_cents <> l.owed_cents", "the test for a blank premium_billed dropped",
           equivalent="NULL <> owed is NULL, which WHERE treats as false: a blank premium_billed is never a "
                      "mismatch either way"),
    # -- pools -----------------------------------------------------------------------------------
    Mutant("period-tie-to-later", POOLS, "ORDER BY remainder DESC, work_period_start) AS place",
           "ORDER BY remainder DESC, work_period_start DESC) AS place",
           "the odd cent of an invoice's split goes to the later period"),
    Mutant("period-weights-zero-not-equal", POOLS, "CASE WHEN sum_w = 0 THEN 1 ELSE weight END AS w",
           "weight AS w", "all-zero weights are not split equally"),
    Mutant("split-largest-remainder-reversed", POOLS, "ORDER BY remainder DESC, work_period_start) AS place",
           "ORDER BY remainder ASC, work_period_start) AS place",
           "the left-over cents of an invoice's split over periods go to the smallest remainders"),
    Mutant("entitled-split-largest-remainder-reversed", ALLOCATION, "ORDER BY entitled_rem DESC, worker_id)",
           "ORDER BY entitled_rem ASC, worker_id)", "the left-over cents of entitled go to the smallest remainders"),
    Mutant("funded-split-largest-remainder-reversed", ALLOCATION, "ORDER BY funded_rem DESC, worker_id)",
           "ORDER BY funded_rem ASC, worker_id)", "the left-over cents of funded go to the smallest remainders"),
    Mutant("split-tie-reversed", ALLOCATION, "ORDER BY entitled_rem DESC, worker_id)",
           "ORDER BY entitled_rem DESC, worker_id DESC)", "ties of entitled shares go to the highest worker id"),
    Mutant("funded-split-tie-reversed", ALLOCATION, "ORDER BY funded_rem DESC, worker_id)",
           "ORDER BY funded_rem DESC, worker_id DESC)", "ties of funded shares go to the highest worker id"),
    Mutant("split-left-over-cents-from-entitled", ALLOCATION,
           "funded_cents - sum(funded_floor) OVER (PARTITION BY grower_id, period_start) AS funded_left",
           "entitled_cents - sum(entitled_floor) OVER (PARTITION BY grower_id, period_start) AS funded_left",
           "the cents left over of funded counted as those of entitled"),
    Mutant("pool-month-of-start", POOLS, "SELECT month_of(add_days(s.period_start, pr.period_days - 1)) AS month",
           "SELECT month_of(s.period_start) AS month", "a pool belongs to the month its period starts"),
    Mutant("due-date-ignores-payments", POOLS,
           "greatest(add_days(s.period_start, pr.period_days - 1), coalesce(lp.last_paid_date, DATE '0001-01-01'))",
           "add_days(s.period_start, pr.period_days - 1)", "the due date ignores when the grower was paid"),
    Mutant("due-date-any-payee", POOLS,
           "p.invoice_id = l.invoice_id AND p.payee_id = l.grower_id", "p.invoice_id = l.invoice_id",
           "the due date counts payments to anyone on the invoice"),
    Mutant("pool-without-workers-at-zero", FINDINGS,
           "WHERE (p.entitled_cents > 0 OR p.funded_cents > 0) AND a.eligible_workers = 0",
           "WHERE a.eligible_workers = 0", "an empty pool of nothing is a finding"),
    # -- workers ---------------------------------------------------------------------------------
    Mutant("eligible-at-zero-basis", ALLOCATION, "AND b.period_start = p.period_start AND b.weight > 0",
           "AND b.period_start = p.period_start AND b.weight >= 0", "a worker with no basis is eligible"),
    Mutant("late-on-due-date", WORKER_AUDIT, "coalesce(last_paid_pay_date > due_date, false) AS late",
           "coalesce(last_paid_pay_date >= due_date, false) AS late", "a premium paid on its due date is late"),
    Mutant("late-from-unpaid-rows", WORKER_AUDIT, "max(pay_date) FILTER (WHERE premium_paid_cents > 0) AS last_paid_pay_date",
           "max(pay_date) AS last_paid_pay_date", "late judged on stubs with no premium"),
    Mutant("overdue-on-due-date", WORKER_AUDIT, "(SELECT as_of_date FROM w_as_of) > due_date",
           "(SELECT as_of_date FROM w_as_of) >= due_date", "overdue on the due date itself"),
    Mutant("overdue-when-paid-in-full", WORKER_AUDIT, "coalesce(paid_cents < funded_cents AND",
           "coalesce(paid_cents <= funded_cents AND", "overdue though paid in full"),
    Mutant("as-of-without-payments", WORKER_AUDIT, "(SELECT max(last_pay_date) FROM w_last_pay), (SELECT max(paid_date) FROM payments),",
           "(SELECT max(last_pay_date) FROM w_last_pay),", "the as-of date ignores payment dates",
           tests=("tests/test_handshake.py", *RULE_TESTS)),
    Mutant("unpaid-at-or-below-zero", WORKER_AUDIT, "WHEN paid = 0 THEN 'UNPAID'", "WHEN paid <= 0 THEN 'UNPAID'",
           "UNPAID for paid at or below zero",
           equivalent="paid is a sum of premium_paid, which is never below zero (NEGATIVE_VALUE quarantines it)"),
    Mutant("underpaid-at-equal", WORKER_AUDIT, "WHEN paid < funded THEN 'UNDERPAID'", "WHEN paid <= funded THEN 'UNDERPAID'",
           "UNDERPAID when paid equals funded",
           equivalent="paid = funded is decided as OK by the branch before it"),
    Mutant("distributed-counts-paid-without-work", WORKER_AUDIT,
           "CAST(sum(paid_cents) FILTER (WHERE eligible) AS BIGINT) AS distributed_cents",
           "CAST(sum(paid_cents) AS BIGINT) AS distributed_cents", "distributed counts premium paid without work"),
    Mutant("corrections-lose", WAREHOUSE, "ORDER BY file_seq DESC) = 1", "ORDER BY file_seq ASC) = 1",
           "the first version of a key wins over its correction"),
    # -- the volume handshake (the handshake tests' tiny scenarios guard these) ---------------------
    Mutant("handshake-ignores-grower", HANDSHAKE, "AND buyer_grower_id = seller_grower_id\n", "\n",
           "a line confirmed by a sales line of another grower", tests=("tests/test_handshake.py",)),
    Mutant("handshake-raw-quantity", HANDSHAKE, "AND buyer_base_quantity = seller_base_quantity THEN 'CONFIRMED'",
           "AND buyer_quantity = seller_quantity THEN 'CONFIRMED'", "quantities compared before conversion",
           tests=("tests/test_handshake.py",)),
    Mutant("missing-sale-any-month", HANDSHAKE, "AND m.month = month_of(d.buyer_ship_date)",
           "AND m.month IS NOT NULL", "a seller that reported any month makes every missing line MISSING_SALE",
           tests=("tests/test_handshake.py",)),
    # -- more rules, each with the boundary that decides it ----------------------------------------
    Mutant("rate-of-any-program", OWED,
           "LEFT JOIN ref_rates r ON r.program_id = g.program_id AND r.commodity = p.commodity",
           "LEFT JOIN ref_rates r ON r.commodity = p.commodity", "a line priced at another program's rate too"),
    Mutant("retention-whole-percent", POOLS, "CAST(pr.grower_retention_pct * 100 AS BIGINT) AS retention_bp",
           "CAST(pr.grower_retention_pct AS BIGINT) * 100 AS retention_bp",
           "a retention of 7.65% taken as 7%"),
    Mutant("overpaid-at-zero", PAYMENTS, "WHEN balance_cents < 0 THEN 'BUYER_OVERPAID'",
           "WHEN balance_cents <= 0 THEN 'BUYER_OVERPAID'", "a balanced invoice reported overpaid"),
    Mutant("unknown-invoice-month-latest", PAYMENTS,
           "month_of(min(p.paid_date) OVER (PARTITION BY p.buyer_id, p.invoice_id))",
           "month_of(max(p.paid_date) OVER (PARTITION BY p.buyer_id, p.invoice_id))",
           "a payment on an unknown invoice takes the month of its latest payment"),
    Mutant("received-by-payer", POOLS,
           "SELECT buyer_id, invoice_id, payee_id AS grower_id, CAST(sum(amount_cents) AS BIGINT) AS received_cents,",
           "SELECT buyer_id, invoice_id, payer_id AS grower_id, CAST(sum(amount_cents) AS BIGINT) AS received_cents,",
           "a grower's receipts counted from what it paid"),
    Mutant("period-weight-by-lines", POOLS,
           "SELECT buyer_id, invoice_id, grower_id, work_period_start, CAST(sum(owed_cents) AS BIGINT) AS weight",
           "SELECT buyer_id, invoice_id, grower_id, work_period_start, count(*) AS weight",
           "an invoice's periods weighted by their number of lines, not by owed"),
    Mutant("due-date-other-buyers-invoice", POOLS,
           "JOIN w_payments p ON p.buyer_id = l.buyer_id AND p.invoice_id = l.invoice_id AND p.payee_id = l.grower_id",
           "JOIN w_payments p ON p.invoice_id = l.invoice_id AND p.payee_id = l.grower_id",
           "the due date counts a payment on another buyer's invoice of the same id"),
    Mutant("basis-equal-counted-per-row", ALLOCATION, "THEN sum(w) ELSE max(w) END AS BIGINT)",
           "THEN sum(w) ELSE sum(w) END AS BIGINT)", "basis equal counts a worker once per payroll row"),
    Mutant("basis-equal-needs-hours-and-units", ALLOCATION, "ELSE CAST(r.hours > 0 OR r.units > 0 AS BIGINT) END AS w",
           "ELSE CAST(r.hours > 0 AND r.units > 0 AS BIGINT) END AS w",
           "basis equal needs both hours and units"),
    Mutant("basis-equal-from-wages", ALLOCATION, "ELSE CAST(r.hours > 0 OR r.units > 0 AS BIGINT) END AS w",
           "ELSE CAST(r.hours > 0 OR r.units > 0 OR r.gross_wages_cents > 0 AS BIGINT) END AS w",
           "basis equal counts a worker with wages but no hours or units"),
    Mutant("basis-wages-as-hours", ALLOCATION, "WHEN 'gross_wages' THEN r.gross_wages_cents",
           "WHEN 'gross_wages' THEN CAST(r.hours * 1000 AS BIGINT)", "basis gross_wages weighs hours"),
    Mutant("basis-value-wages-in-cents", ALLOCATION,
           "CASE allocation_basis WHEN 'gross_wages' THEN CAST(weight AS DECIMAL(18,0)) * 0.01",
           "CASE allocation_basis WHEN 'gross_wages' THEN CAST(weight AS DECIMAL(18,0)) * 1",
           "basis_value of wages shown in cents, not dollars"),
    Mutant("paid-without-share-never-eligible", WORKER_AUDIT,
           "SELECT pd.grower_id, pd.period_start, pd.worker_id, coalesce(b.weight, 0) > 0,",
           "SELECT pd.grower_id, pd.period_start, pd.worker_id, false,",
           "a worker with work in a period without a pool is audited as paid without work"),
    Mutant("upstream-shortfall-reversed", WORKER_AUDIT, "entitled - funded AS upstream_shortfall_cents",
           "funded - entitled AS upstream_shortfall_cents", "upstream shortfall with its sign reversed"),
    Mutant("undistributed-from-entitled", WORKER_AUDIT,
           "p.funded_cents - coalesce(a.distributed_cents, 0) AS undistributed_cents",
           "p.entitled_cents - coalesce(a.distributed_cents, 0) AS undistributed_cents",
           "undistributed counted from entitled, not funded"),
    Mutant("billed-mismatch-blames-buyer", FINDINGS, "l.seller_id AS party_id", "l.buyer_id AS party_id",
           "BILLED_MISMATCH names the buyer, not the seller who issued the invoice"),
    Mutant("billed-mismatch-level-buyer", FINDINGS, "sp.party_type AS level", "'buyer' AS level",
           "BILLED_MISMATCH at level buyer, not the seller's party type"),
    Mutant("pool-without-workers-amount-entitled", FINDINGS,
           "CASE WHEN p.funded_cents > 0 THEN p.funded_cents ELSE p.entitled_cents END",
           "p.entitled_cents", "POOL_WITHOUT_WORKERS carries entitled even when funded"),
    Mutant("late-when-never-paid", WORKER_AUDIT, "coalesce(last_paid_pay_date > due_date, false) AS late",
           "coalesce(last_paid_pay_date > due_date, true) AS late", "a worker never paid is late"),
    Mutant("as-of-without-sales", WORKER_AUDIT, ", (SELECT max(ship_date) FROM sales)) AS as_of_date",
           ") AS as_of_date", "the as-of date ignores the sales reports",
           tests=("tests/test_handshake.py", *RULE_TESTS)),
    Mutant("as-of-without-purchases", WORKER_AUDIT, "(SELECT max(ship_date) FROM purchases), ", "",
           "the as-of date ignores the purchase lines", tests=("tests/test_handshake.py", *RULE_TESTS)),
    Mutant("worker-month-of-start", WORKER_AUDIT,
           "SELECT month_of(period_end) AS month, program_id, grower_id, period_start, period_end, worker_id,",
           "SELECT month_of(period_start) AS month, program_id, grower_id, period_start, period_end, worker_id,",
           "a worker row belongs to the month its period starts"),
    Mutant("handshake-ignores-seller", HANDSHAKE,
           "WHEN buyer_seller_id = seller_seller_id AND buyer_grower_id = seller_grower_id",
           "WHEN buyer_grower_id = seller_grower_id", "a line confirmed by a sales line of another seller",
           tests=("tests/test_handshake.py",)),
    Mutant("handshake-ignores-commodity", HANDSHAKE,
           "AND buyer_commodity = seller_commodity AND buyer_base_unit = seller_base_unit",
           "AND buyer_base_unit = seller_base_unit", "a line confirmed by a sales line of another commodity",
           tests=("tests/test_handshake.py",)),
    Mutant("handshake-ignores-base-unit", HANDSHAKE,
           "AND buyer_commodity = seller_commodity AND buyer_base_unit = seller_base_unit",
           "AND buyer_commodity = seller_commodity", "10 gal confirmed by 10 lb",
           tests=("tests/test_handshake.py",)),
    Mutant("handshake-month-of-sale", HANDSHAKE, "month_of(coalesce(b.ship_date, s.ship_date)) AS month",
           "month_of(coalesce(s.ship_date, b.ship_date)) AS month",
           "a handshake row in the month of the seller's ship date", tests=("tests/test_handshake.py",)),
    Mutant("handshake-seller-of-sale", HANDSHAKE, "coalesce(b.seller_id, s.seller_id) AS seller_id",
           "coalesce(s.seller_id, b.seller_id) AS seller_id", "a handshake row names the sales line's seller",
           tests=("tests/test_handshake.py",)),
    Mutant("paid-by-pay-period", WORKER_AUDIT,
           "SELECT grower_id, worker_id, premium_period_start AS period_start,\n       CAST(sum(premium_paid_cents)",
           "SELECT grower_id, worker_id, period_start,\n       CAST(sum(premium_paid_cents)",
           "premium counted for the pay period of its stub, not the premium period it names"),
    Mutant("due-date-without-deadline", POOLS, "pr.distribution_deadline_days) AS due_date", "0) AS due_date",
           "the due date without the days the program gives to distribute"),
    Mutant("period-end-a-day-late", POOLS, "s.period_start, add_days(s.period_start, pr.period_days - 1) AS period_end,",
           "s.period_start, add_days(s.period_start, pr.period_days) AS period_end,", "a pay period ends a day late"),
    Mutant("due-date-earliest", POOLS, "greatest(add_days(s.period_start, pr.period_days - 1), coalesce",
           "least(add_days(s.period_start, pr.period_days - 1), coalesce",
           "the due date counts from the earlier of the period's end and the last payment"),
    Mutant("basis-hours-as-units", ALLOCATION, "WHEN 'hours' THEN CAST(r.hours * 1000 AS BIGINT)",
           "WHEN 'hours' THEN CAST(r.units * 1000 AS BIGINT)", "basis hours weighs units",
           tests=("tests/test_hand_checked.py", *RULE_TESTS)),
    Mutant("basis-units-as-hours", ALLOCATION, "WHEN 'units' THEN CAST(r.units * 1000 AS BIGINT)",
           "WHEN 'units' THEN CAST(r.hours * 1000 AS BIGINT)", "basis units weighs hours"),
    Mutant("split-without-128-bits", DIALECT, "ELSE CAST((CAST(a AS HUGEINT) * b) // c AS BIGINT) END;",
           "ELSE CAST((CAST(a AS BIGINT) * b) // c AS BIGINT) END;",
           "a share whose product overflows 64 bits computed in 64 bits",
           tests=("tests/test_ranges_and_ids.py", "tests/test_properties.py")),
    Mutant("split-remainder-without-128-bits", DIALECT, "ELSE CAST((CAST(a AS HUGEINT) * b) % c AS BIGINT) END;",
           "ELSE CAST((CAST(a AS BIGINT) * b) % c AS BIGINT) END;",
           "a remainder whose product overflows 64 bits computed in 64 bits",
           tests=("tests/test_ranges_and_ids.py", "tests/test_properties.py")),
    Mutant("paid-on-counted-by-payee", PAYMENTS,
           "SELECT month, buyer_id, invoice_id, payer_id, 0, amount_cents\n    FROM w_payments WHERE payer_type = 'intermediary'",
           "SELECT month, buyer_id, invoice_id, payer_id, 0, amount_cents\n    FROM w_payments WHERE payee_type = 'intermediary'",
           "what an intermediary paid on counted from what it received"),
    Mutant("unknown-invoice-dropped", FINDINGS, "FROM w_payments WHERE NOT invoice_known\n",
           "FROM w_payments WHERE false\n", "a payment on an invoice nobody reported raises nothing"),
    Mutant("billed-mismatch-sign", FINDINGS, "CAST(l.premium_billed_cents - l.owed_cents AS BIGINT) AS amount_cents",
           "CAST(l.owed_cents - l.premium_billed_cents AS BIGINT) AS amount_cents", "BILLED_MISMATCH's amount with its sign reversed"),
    Mutant("volume-mismatch-sign", FINDINGS,
           "CASE status WHEN 'VOLUME_MISMATCH' THEN seller_owed_cents - buyer_owed_cents",
           "CASE status WHEN 'VOLUME_MISMATCH' THEN buyer_owed_cents - seller_owed_cents",
           "VOLUME_MISMATCH's amount with its sign reversed", tests=("tests/test_handshake.py",)),
    Mutant("missing-purchase-buyers-amount", FINDINGS,
           "WHEN 'MISSING_PURCHASE' THEN seller_owed_cents ELSE buyer_owed_cents END AS amount_cents,",
           "ELSE buyer_owed_cents END AS amount_cents,", "MISSING_PURCHASE carries the buyer's side, which is blank",
           tests=("tests/test_handshake.py",)),
    Mutant("worker-findings-dropped", FINDINGS, "FROM w_worker_audit WHERE status <> 'OK'\n",
           "FROM w_worker_audit WHERE status NOT IN ('OK', 'UNPAID')\n", "an unpaid worker raises nothing"),
    Mutant("restatement-misses-appearing-rows", PUBLISH, "WHERE o.{c} IS DISTINCT FROM n.{c}", "WHERE o.{c} <> n.{c}",
           "a row that appears or goes away, or a blank that gets a value, is not restated",
           tests=("tests/test_restatements.py",)),
    Mutant("republish-without-delete", PUBLISH, 'con.execute(f"DELETE FROM {table} WHERE list_contains(?, month)", [months])',
           "pass", "a republished month keeps its old rows beside the new", tests=("tests/test_restatements.py",)),
    Mutant("payer-any-buyer", PAYMENTS, "p.payer_id = p.buyer_id AS payer_is_buyer",
           "pt.party_type = 'buyer' AS payer_is_buyer", "any buyer's payment counts as paid by the invoice's buyer"),
    Mutant("late-from-first-paid-stub", WORKER_AUDIT,
           "max(pay_date) FILTER (WHERE premium_paid_cents > 0) AS last_paid_pay_date",
           "min(pay_date) FILTER (WHERE premium_paid_cents > 0) AS last_paid_pay_date",
           "a late top-up does not make the premium late when its first stub was on time"),
    Mutant("basis-value-hours-scale", ALLOCATION, "WHEN 'hours' THEN CAST(weight AS DECIMAL(18,0)) * 0.001",
           "WHEN 'hours' THEN CAST(weight AS DECIMAL(18,0)) * 0.01", "basis_value of hours shown ten times too large",
           tests=("tests/test_hand_checked.py", *RULE_TESTS)),
    Mutant("unpaid-before-ok", WORKER_AUDIT, "                WHEN paid = funded THEN 'OK'\n                WHEN paid = 0 THEN 'UNPAID'\n",
           "                WHEN paid = 0 THEN 'UNPAID'\n                WHEN paid = funded THEN 'OK'\n",
           "a worker of a pool funded with nothing, paid nothing, is UNPAID"),
    Mutant("cents-shown-with-one-digit", DIALECT, "lpad(CAST(abs(c) % 100 AS VARCHAR), 2, '0')",
           "lpad(CAST(abs(c) % 100 AS VARCHAR), 1, '0')", "a finding's detail shows $1.05 as $1.5"),
    Mutant("restatement-blames-every-file", PUBLISH, "\"AND status = 'loaded'\", [signed[1]]", "\"\", [signed[1]]",
           "a restatement names duplicate and rejected files among its causes", tests=("tests/test_restatements.py",)),
    Mutant("restatement-key-with-blank-never-matches", PUBLISH,
           'join = " AND ".join(f"o.{k} IS NOT DISTINCT FROM n.{k}" for k in key)',
           'join = " AND ".join(f"o.{k} = n.{k}" for k in key)',
           "an unchanged row whose key holds a blank is restated as gone and new", tests=("tests/test_restatements.py",)),
    Mutant("changed-month-misses-an-emptied-table", PUBLISH,
           'f"FULL JOIN ({sql.format(table)}) p ON p.month = w.month "',
           'f"LEFT JOIN ({sql.format(table)}) p ON p.month = w.month "',
           "a month whose rows of a table all went away is not republished", tests=("tests/test_restatements.py",)),
    Mutant("signoff-in-force-earliest", PUBLISH, "ORDER BY signed_at DESC LIMIT 1", "ORDER BY signed_at ASC LIMIT 1",
           "the sign-off in force is the earliest, not the latest", tests=("tests/test_restatements.py",)),
    Mutant("revoke-revokes-every-signoff", SIGNOFF,
           '"WHERE month = ? AND signed_at = ? AND revoked_at IS NULL", [at, name, why, month, last[1]]',
           '"WHERE month = ? AND revoked_at IS NULL", [at, name, why, month]',
           "revoking the sign-off in force revokes the earlier ones too", tests=("tests/test_restatements.py",)),
    Mutant("name-limit-exclusive", SIGNOFF, "if len(value) > limit:", "if len(value) >= limit:",
           "a signer's name of exactly the limit refused", tests=("tests/test_restatements.py",)),
    # -- conservation and publication -------------------------------------------------------------
    Mutant("invoice-identity-never-fails", CONSERVATION,
           "WHERE coalesce(paid_in, 0) <> received + held + unexpected_payees",
           "WHERE coalesce(paid_in, 0) <> coalesce(paid_in, 0)", "the invoice identity can never fail",
           tests=tuple(CHECK_TESTS)),
    Mutant("pool-identity-funded-dropped", CONSERVATION,
           "HAVING sum(a.entitled_cents) <> p.entitled_cents OR sum(a.funded_cents) <> p.funded_cents",
           "HAVING sum(a.entitled_cents) <> p.entitled_cents", "the pool identity ignores funded shares",
           tests=tuple(CHECK_TESTS)),
    Mutant("handshake-identity-never-fails", CONSERVATION, "SELECT * FROM rows_per_line WHERE handshake_rows <> 1",
           "SELECT * FROM rows_per_line WHERE false", "a line in no handshake row is never found",
           tests=tuple(CHECK_TESTS)),
    Mutant("rows-identity-never-fails", CONSERVATION,
           "WHERE l.rows_read <> l.rows_accepted + l.rows_quarantined",
           "WHERE l.rows_read <> l.rows_read", "rows read = accepted + quarantined never checked",
           tests=tuple(CHECK_TESTS)),
    Mutant("received-identity-never-fails", CONSERVATION, ") WHERE pools <> received", ") WHERE false",
           "Σ over pools of (funded + retained) = Σ received is never checked", tests=tuple(CHECK_TESTS)),
    Mutant("pool-identity-entitled-dropped", CONSERVATION,
           "HAVING sum(a.entitled_cents) <> p.entitled_cents OR sum(a.funded_cents) <> p.funded_cents",
           "HAVING sum(a.funded_cents) <> p.funded_cents", "the pool identity ignores entitled shares",
           tests=tuple(CHECK_TESTS)),
    Mutant("rows-identity-ignores-stored-quarantine", CONSERVATION,
           "           OR (l.status = 'loaded' AND l.rows_quarantined <> quarantined_rows_stored)\n", "\n",
           "a file's quarantined count is not held to the quarantined rows stored", tests=tuple(CHECK_TESTS)),
    Mutant("reference-identity-ignores-periods", CONSERVATION,
           "FROM w_lines WHERE owed_cents IS NULL OR work_period_start IS NULL",
           "FROM w_lines WHERE owed_cents IS NULL", "a purchase line with no work period is not caught",
           tests=tuple(CHECK_TESTS)),
    Mutant("handshake-identity-ignores-orphans", CONSERVATION, "WHERE (h.buyer_reported AND NOT EXISTS",
           "WHERE (false AND NOT EXISTS", "a handshake row of a purchase line nobody reported is not caught",
           tests=tuple(CHECK_TESTS)),
    Mutant("check-not-blocking", "assets/reconcile.py", "blocking=True", "blocking=False",
           "a conservation check that does not block publication", tests=tuple(CHECK_TESTS)),
    # -- buyers' confirmations ----------------------------------------------------------------------
    Mutant("no-withholding", PRIVACY, "shown_eligible = eligible if eligible >= MIN_WORKERS else None",
           "shown_eligible = eligible", "the count of eligible workers shown for pools of fewer than 5 workers",
           tests=PRIVACY_TESTS),
    Mutant("no-withholding-of-paid", PRIVACY, "    if paid_workers < MIN_WORKERS:\n", "    if False:\n",
           "the paid workers and the share on stubs shown for pools of fewer than 5 paid workers",
           tests=PRIVACY_TESTS),
    Mutant("withholding-at-five", PRIVACY, "shown_eligible = eligible if eligible >= MIN_WORKERS else None",
           "shown_eligible = eligible if eligible > MIN_WORKERS else None",
           "worker figures withheld for exactly 5 workers",
           tests=PRIVACY_TESTS),
    Mutant("nobody-paid-hidden", PRIVACY, "    if with_amounts == 0 and distributed_cents == 0:\n",
           "    if False:\n", "a pool in which nobody was paid is withheld instead of shown",
           tests=PRIVACY_TESTS),
    Mutant("nobody-paid-despite-amounts", PRIVACY, "    if with_amounts == 0 and distributed_cents == 0:\n",
           "    if paid_workers == 0:\n",
           "a pool whose only amount was paid without work (or clawed back) is shown as nobody paid",
           tests=PRIVACY_TESTS),
    Mutant("versions-differ-by-one-worker", PRIVACY, "    if 0 < changed_workers < MIN_WORKERS:\n",
           "    if False:\n", "a share shown again after fewer than 5 workers' pay changed",
           tests=("tests/test_privacy.py",)),
    Mutant("versions-compared-with-the-last-only", PRIVACY,
           "for s in shown_before) if 0 < n < MIN_WORKERS]",
           "for s in list(shown_before)[-1:]) if 0 < n < MIN_WORKERS]",
           "a state compared only with the last shown, not with every state shown before",
           tests=("tests/test_privacy.py",)),
    Mutant("confirmation-misdirected-misses-buyers", CONFIRMATIONS,
           "(a.payee_type = 'buyer' OR (a.payee_type = 'grower' AND NOT a.payee_on_invoice))",
           "(a.payee_type = 'grower' AND NOT a.payee_on_invoice)",
           "a buyer's statement does not count premium paid to another buyer as misdirected"),
    Mutant("confirmation-counts-paid-without-work", CONFIRMATIONS,
           "WHERE a.paid_cents > 0 AND a.status <> 'PAID_WITHOUT_WORK') AS workers_paid",
           "WHERE a.paid_cents > 0) AS workers_paid",
           "a buyer's statement counts workers paid without work among the workers its pool paid"),
    Mutant("confirmation-lists-payments-on-others-invoices", CONFIRMATIONS,
           "WHERE a.payer_id = $b AND a.month = $m AND a.buyer_id = $b ORDER BY",
           "WHERE a.payer_id = $b AND a.month = $m ORDER BY",
           "a buyer's statement lists and totals its payments on another buyer's invoices"),
    Mutant("confirmation-counts-unpaid-workers-as-paid", CONFIRMATIONS,
           "count(*) FILTER (WHERE a.paid_cents > 0 AND a.status <> 'PAID_WITHOUT_WORK') AS workers_paid",
           "count(*) FILTER (WHERE a.status <> 'PAID_WITHOUT_WORK') AS workers_paid",
           "the workers paid and the share on stubs shown when fewer than five workers were paid"),
    Mutant("verify-skips-csv", STATEMENT, "        body = companion(name)\n",
           '        if kind == "csv":\n            continue\n        body = companion(name)\n',
           "verify does not check the CSV's hash"),
]


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                         capture_output=True, check=True).stdout.decode()
    return [p for p in out.split("\0") if p and not p.startswith("mutants/")]


def copy_repo(dest: Path) -> None:
    for rel in tracked_files():
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def run_tests(copy: Path, tests: tuple[str, ...]) -> tuple[int, str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PENNYTRAIL_CRASH_AT", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           *tests], cwd=copy, env=env, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    return proc.returncode, (lines[0] if lines else proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="example: .venv/bin/python mutation/rules.py late-on-due-date")
    parser.add_argument("ids", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="print the kept list and stop")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.ids or m.id in args.ids]
    if args.list:
        for m in MUTANTS:
            print(f"{m.id:40} {m.file:32} {m.what}" + (" [equivalent]" if m.equivalent else ""))
        return 0
    unknown = set(args.ids) - {m.id for m in MUTANTS}
    if unknown:
        parser.error(f"no such mutant: {', '.join(sorted(unknown))}")
    results = []
    with tempfile.TemporaryDirectory(prefix="pennytrail-rules-") as tmp:
        copy = Path(tmp)
        copy_repo(copy)
        clean, detail = run_tests(copy, tuple(sorted({t for m in chosen for t in m.tests})))
        if clean != 0:
            print(f"the fast tests fail without any mutant ({detail}): fix them first", file=sys.stderr)
            return 2
        for m in chosen:
            target = copy / m.file
            original = target.read_text(encoding="utf-8")
            n = original.count(m.old)
            if n != 1:
                results.append((m, "STALE", f"the text to mutate occurs {n} times in {m.file}: update the list"))
                print(f"STALE     {m.id}: {results[-1][2]}", flush=True)
                continue
            target.write_text(original.replace(m.old, m.new), encoding="utf-8")
            start = time.monotonic()
            try:
                code, detail = run_tests(copy, m.tests)
            finally:
                target.write_text(original, encoding="utf-8")
            outcome = "killed" if code not in (0, 5) else "survived"
            results.append((m, outcome, detail))
            print(f"{outcome:9} {m.id} ({time.monotonic() - start:.0f} s): {m.what}"
                  + (f" — {detail}" if outcome == "killed" and detail else ""), flush=True)
    killed = sum(1 for _, o, _ in results if o == "killed")
    survivors = [(m, d) for m, o, d in results if o == "survived"]
    stale = [m for m, o, _ in results if o == "STALE"]
    explained = [m for m, _ in survivors if m.equivalent]
    unexplained = [m for m, _ in survivors if not m.equivalent]
    scored = len(results) - len(stale) - len(explained)
    print(f"\nrule mutants: {len(results)}, killed {killed}, survived {len(survivors)} "
          f"({len(explained)} equivalent, with a reason), stale {len(stale)}")
    print(f"score: {killed}/{scored} of the non-equivalent mutants killed"
          + (f" ({100 * killed / scored:.1f}%)" if scored else ""))
    for m, _ in survivors:
        print(f"  survivor {m.id} ({m.file}): {m.what}"
              + (f"\n    equivalent: {m.equivalent}" if m.equivalent else "\n    NO REASON: a test is missing"))
    for m, o, _ in results:
        if o == "killed" and m.equivalent:
            print(f"  note: {m.id} is marked equivalent but was killed: drop its reason")
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
