"""The reconciliation (docs/rules.md: What is owed, paid and received, Pools, Allocation to
workers, The worker audit), as SQL over the warehouse's current tables.

Each stage is one statement that reads the tables before it and writes one working table
(``w_*``), top-down: owed per line (§4), the sellers' lines and the volume handshake (§4a),
invoices and payments (§4), (invoice, grower)
amounts with retention (§4), their split over work periods and the pools (§5), the
allocation to workers (§6), the worker audit (§7) and the findings. All money is integer
cents; every division is integer arithmetic on exact quantities (128-bit where 64 bits could
overflow), and rounding is ``round_half_up_div``, the SQL twin of ``money.round_half_up``.

The working tables cover every month; ``publish`` copies one month's slice into the output
tables of §8. Stages named ``t_*`` are temporary: only the stages after them read them.
"""

from __future__ import annotations

import duckdb

from . import faults
from .warehouse import quote, set_meta, transaction

BIGINT_MAX = 2**63 - 1


def split_sql(source: str, group: str, tiebreak: str, amounts: dict[str, str] | None = None) -> str:
    """The largest-remainder split of §6 over a relation with columns ``weight`` and the amounts.

    ``amounts`` maps each amount column to the name of its share column (default: ``amount`` to
    ``share``); several amounts are split over the same weights in one pass. ``group`` lists the
    columns of one split (each group's amounts are the same on all its rows); ``weight`` is a
    non-negative integer; all weights zero means equal weights. Each row gets
    ``floor(amount × w / Σw)``, and the cents left over go one each to the largest remainders,
    ties broken by ``tiebreak`` ascending. Exact: the remainders are compared as integers over
    the group's common denominator Σw. Σw must fit a BIGINT (a sum beyond 9.2 × 10¹⁸ is an
    error, never a wrong share).
    """
    amounts = amounts or {"amount": "share"}
    n = range(len(amounts))
    internal = ", ".join(f"_base{i}, _rem{i}, _left{i}, _rank{i}" for i in n)
    shares = ", ".join(f"_base{i} + CAST(_rank{i} <= _left{i} AS BIGINT) AS {share}"
                       for i, share in enumerate(amounts.values()))
    ranks = ", ".join(f"{a} - sum(_base{i}) OVER g AS _left{i}, "
                      f"row_number() OVER (PARTITION BY {group} ORDER BY _rem{i} DESC, {tiebreak}) AS _rank{i}"
                      for i, a in enumerate(amounts))
    # amount × w in BIGINT when it cannot overflow (|amount| ≤ max ÷ Σw); 128-bit arithmetic,
    # which is many times slower, only where it could.
    quotients = ", ".join(
        f"CASE WHEN abs({a}) <= {BIGINT_MAX} // total THEN ({a}::BIGINT * w) // total "
        f"ELSE CAST((CAST({a} AS HUGEINT) * w) // total AS BIGINT) END AS _base{i}, "
        f"CASE WHEN abs({a}) <= {BIGINT_MAX} // total THEN ({a}::BIGINT * w) % total "
        f"ELSE CAST((CAST({a} AS HUGEINT) * w) % total AS BIGINT) END AS _rem{i}" for i, a in enumerate(amounts))
    return f"""
    SELECT * EXCLUDE (w, total, {internal}), {shares}
    FROM (
        SELECT *, {ranks}
        FROM (
            SELECT *, {quotients}
            FROM (
                SELECT * EXCLUDE (sum_w, n),
                       CASE WHEN sum_w = 0 THEN 1 ELSE weight END AS w,
                       CASE WHEN sum_w = 0 THEN n ELSE sum_w END AS total
                FROM (SELECT *, CAST(sum(weight) OVER g AS BIGINT) AS sum_w, count(*) OVER g AS n FROM {source}
                      WINDOW g AS (PARTITION BY {group}))
            )
        )
        WINDOW g AS (PARTITION BY {group})
    )"""


# qty_in_rate_unit × rate in cents of a line ``p``, as one exact quotient:
# quantity·1e3 × factor(unit)·1e6 × rate·1e6 × 100 / (1e3 × 1e6 × factor(rate_unit)·1e6)
OWED = """round_half_up_div(
               CAST(p.quantity * 1000 AS HUGEINT) * CAST(fu.factor * 1000000 AS HUGEINT)
                   * CAST(r.rate * 1000000 AS HUGEINT) * 100,
               CAST(1000 AS HUGEINT) * 1000000 * CAST(fr.factor * 1000000 AS HUGEINT))"""
# the grower's program, the rate in force on the ship date for it and the commodity, and the units
RATE_JOINS = """LEFT JOIN ref_parties g ON g.party_id = p.grower_id
    LEFT JOIN ref_programs pr ON pr.program_id = g.program_id
    LEFT JOIN ref_rates r ON r.program_id = g.program_id AND r.commodity = p.commodity
         AND p.ship_date BETWEEN r.effective_from AND coalesce(r.effective_to, DATE '9999-12-31')
    LEFT JOIN ref_units fu ON fu.unit = p.unit
    LEFT JOIN ref_units fr ON fr.unit = r.rate_unit AND fr.base_unit = fu.base_unit"""
# a quantity in thousandths of a millionth of its base unit (quantity·1e3 × factor·1e6): exact
BASE_QUANTITY = "CAST({q}.quantity * 1000 AS HUGEINT) * CAST({u}.factor * 1000000 AS HUGEINT)"

# §7: paid below the funded share, and the close's as-of date after the pool's due date
OVERDUE = "coalesce({paid} < {funded} AND (SELECT as_of_date FROM w_as_of) > due_date, false)"

STAGES: list[tuple[str, str]] = [
    # §4: owed per purchase line, and its work period (§5).
    ("w_lines", f"""
    SELECT p.buyer_id, p.invoice_id, p.line_no, p.ship_date, p.harvest_date, p.seller_id, p.grower_id,
           p.commodity, p.quantity, p.unit, p.premium_billed_cents, p.file, p.sheet, p.row_number,
           g.program_id, r.rate, r.rate_unit, {OWED} AS owed_cents,
           period_of(coalesce(p.harvest_date, p.ship_date), pr.period_anchor, pr.period_days) AS work_period_start
    FROM purchases p
    {RATE_JOINS}
    """),
    # §4a: the sellers' side of the invoice lines, with what each gives by the same rule as §4.
    ("w_sales_lines", f"""
    SELECT p.buyer_id, p.invoice_id, p.line_no, p.seller_id, p.ship_date, p.grower_id, p.commodity, p.quantity,
           p.unit, p.file, p.sheet, p.row_number, g.program_id, r.rate, r.rate_unit, {OWED} AS owed_cents
    FROM sales p
    {RATE_JOINS}
    """),
    # §4a: the volume handshake, one row per line key either side reported. Both sides agree when
    # seller, grower, commodity and the quantity in the base unit are the same; a line only the
    # buyer reported is MISSING_SALE when its seller reported sales in the month of its ship date.
    ("w_volume_handshake", f"""
    WITH seller_months AS (
        SELECT DISTINCT seller_id, strftime(ship_date, '%Y-%m') AS month FROM w_sales_lines
    ), sides AS (
        SELECT coalesce(b.buyer_id, s.buyer_id) AS buyer_id, coalesce(b.invoice_id, s.invoice_id) AS invoice_id,
               coalesce(b.line_no, s.line_no) AS line_no,
               strftime(coalesce(b.ship_date, s.ship_date), '%Y-%m') AS month,
               coalesce(b.seller_id, s.seller_id) AS seller_id,
               b.buyer_id IS NOT NULL AS buyer_reported, s.buyer_id IS NOT NULL AS seller_reported,
               b.quantity AS buyer_quantity, b.unit AS buyer_unit, s.quantity AS seller_quantity, s.unit AS seller_unit,
               b.owed_cents AS buyer_owed_cents, s.owed_cents AS seller_owed_cents,
               b.seller_id AS buyer_seller_id, s.seller_id AS seller_seller_id,
               b.grower_id AS buyer_grower_id, s.grower_id AS seller_grower_id,
               b.commodity AS buyer_commodity, s.commodity AS seller_commodity,
               b.ship_date AS buyer_ship_date, s.ship_date AS seller_ship_date,
               bu.base_unit AS buyer_base_unit, su.base_unit AS seller_base_unit,
               {BASE_QUANTITY.format(q="b", u="bu")} AS buyer_base_quantity,
               {BASE_QUANTITY.format(q="s", u="su")} AS seller_base_quantity,
               b.file AS buyer_file, b.sheet AS buyer_sheet, b.row_number AS buyer_row_number,
               s.file AS seller_file, s.sheet AS seller_sheet, s.row_number AS seller_row_number
        FROM w_lines b
        FULL JOIN w_sales_lines s ON s.buyer_id = b.buyer_id AND s.invoice_id = b.invoice_id AND s.line_no = b.line_no
        LEFT JOIN ref_units bu ON bu.unit = b.unit
        LEFT JOIN ref_units su ON su.unit = s.unit
    )
    SELECT d.*,
           CASE WHEN NOT buyer_reported THEN 'MISSING_PURCHASE'
                WHEN NOT seller_reported THEN CASE WHEN m.seller_id IS NULL THEN 'UNCONFIRMED' ELSE 'MISSING_SALE' END
                WHEN buyer_seller_id = seller_seller_id AND buyer_grower_id = seller_grower_id
                     AND buyer_commodity = seller_commodity AND buyer_base_unit = seller_base_unit
                     AND buyer_base_quantity = seller_base_quantity THEN 'CONFIRMED'
                ELSE 'VOLUME_MISMATCH' END AS status,
           s.party_type AS seller_type
    FROM sides d
    LEFT JOIN seller_months m ON m.seller_id = d.buyer_seller_id AND m.month = strftime(d.buyer_ship_date, '%Y-%m')
    LEFT JOIN ref_parties s ON s.party_id = d.seller_id
    """),
    # §4: invoices. month = month of the earliest ship date.
    ("w_invoices", """
    SELECT buyer_id, invoice_id, strftime(min(ship_date), '%Y-%m') AS month,
           sum(owed_cents)::BIGINT AS owed_cents,
           sum(premium_billed_cents)::BIGINT AS billed_cents
    FROM w_lines GROUP BY ALL
    """),
    # §4: each payment line, classified against its invoice X = (buyer_id, invoice_id).
    ("w_payments", """
    SELECT p.payment_id, p.line_no, p.payer_id, p.payee_id, p.paid_date, p.buyer_id, p.invoice_id,
           p.amount_cents, p.file, p.sheet, p.row_number,
           pt.party_type AS payer_type, qt.party_type AS payee_type,
           i.invoice_id IS NOT NULL AS invoice_known,
           coalesce(i.month, strftime(min(p.paid_date) OVER (PARTITION BY p.buyer_id, p.invoice_id), '%Y-%m')) AS month,
           p.payer_id = p.buyer_id AS payer_is_buyer,
           EXISTS (SELECT 1 FROM w_lines l WHERE l.buyer_id = p.buyer_id AND l.invoice_id = p.invoice_id
                   AND l.grower_id = p.payee_id) AS payee_on_invoice
    FROM payments p
    JOIN ref_parties pt ON pt.party_id = p.payer_id
    JOIN ref_parties qt ON qt.party_id = p.payee_id
    LEFT JOIN w_invoices i ON i.buyer_id = p.buyer_id AND i.invoice_id = p.invoice_id
    """),
    ("w_invoice_audit", """
    SELECT i.month, i.buyer_id, i.invoice_id, i.owed_cents, i.billed_cents,
           coalesce(sum(p.amount_cents) FILTER (WHERE p.payer_is_buyer), 0)::BIGINT AS paid_by_buyer_cents,
           i.owed_cents - paid_by_buyer_cents AS balance_cents,
           CASE WHEN balance_cents > 0 THEN 'BUYER_UNDERPAID' WHEN balance_cents < 0 THEN 'BUYER_OVERPAID'
                ELSE 'OK' END AS status
    FROM w_invoices i
    LEFT JOIN w_payments p ON p.buyer_id = i.buyer_id AND p.invoice_id = i.invoice_id
    GROUP BY i.month, i.buyer_id, i.invoice_id, i.owed_cents, i.billed_cents
    """),
    # §4: held(X, k) for every intermediary k that pays or is paid for X.
    ("w_pass_through", """
    SELECT min(month) AS month, buyer_id, invoice_id, intermediary_id,
           sum(received)::BIGINT AS received_cents, sum(paid_on)::BIGINT AS paid_on_cents,
           (received_cents - paid_on_cents)::BIGINT AS held_cents
    FROM (
        SELECT month, buyer_id, invoice_id, payee_id AS intermediary_id, amount_cents AS received, 0 AS paid_on
        FROM w_payments WHERE payee_type = 'intermediary'
        UNION ALL
        SELECT month, buyer_id, invoice_id, payer_id, 0, amount_cents
        FROM w_payments WHERE payer_type = 'intermediary'
    ) GROUP BY buyer_id, invoice_id, intermediary_id
    """),
    # §4: per (X, g): owed, received (whoever paid), and the retention split.
    ("w_invoice_grower", """
    WITH owed AS (
        SELECT buyer_id, invoice_id, grower_id, any_value(program_id) AS program_id,
               sum(owed_cents)::BIGINT AS owed_cents
        FROM w_lines GROUP BY buyer_id, invoice_id, grower_id
    ), received AS (
        SELECT buyer_id, invoice_id, payee_id AS grower_id, sum(amount_cents)::BIGINT AS received_cents,
               max(paid_date) AS last_paid_date
        FROM w_payments WHERE payee_type = 'grower' GROUP BY ALL
    )
    SELECT o.*, coalesce(r.received_cents, 0) AS received_cents, r.last_paid_date,
           CAST(pr.grower_retention_pct * 100 AS BIGINT) AS retention_bp,
           o.owed_cents - round_half_up_div(o.owed_cents * retention_bp, 10000) AS entitled_cents,
           coalesce(r.received_cents, 0) - round_half_up_div(coalesce(r.received_cents, 0) * retention_bp, 10000)
               AS funded_cents,
           coalesce(r.received_cents, 0) - funded_cents AS retained_cents
    FROM owed o
    JOIN ref_programs pr USING (program_id)
    LEFT JOIN received r USING (buyer_id, invoice_id, grower_id)
    """),
    # §5: each (X, g) amount split over the work periods of X's lines for g, weighted by owed.
    ("w_period_shares", f"""
    WITH periods AS (
        SELECT buyer_id, invoice_id, grower_id, work_period_start, sum(owed_cents)::BIGINT AS weight
        FROM w_lines GROUP BY ALL
    ), measures AS (
        SELECT p.*, m.measure,
               CASE m.measure WHEN 'entitled' THEN ig.entitled_cents WHEN 'funded' THEN ig.funded_cents
                    ELSE ig.retained_cents END AS amount
        FROM periods p
        JOIN w_invoice_grower ig USING (buyer_id, invoice_id, grower_id)
        CROSS JOIN (VALUES ('entitled'), ('funded'), ('retained')) m(measure)
    )
    SELECT buyer_id, invoice_id, grower_id, work_period_start, measure, share
    FROM ({split_sql("measures", "buyer_id, invoice_id, grower_id, measure", "work_period_start")})
    """),
    # §5: pools (g, P) and their due dates.
    ("w_pools", """
    WITH sums AS (
        SELECT grower_id, work_period_start AS period_start,
               sum(share) FILTER (WHERE measure = 'entitled')::BIGINT AS entitled_cents,
               sum(share) FILTER (WHERE measure = 'funded')::BIGINT AS funded_cents,
               sum(share) FILTER (WHERE measure = 'retained')::BIGINT AS retained_cents
        FROM w_period_shares GROUP BY ALL
    ), last_paid AS (
        SELECT l.grower_id, l.work_period_start AS period_start, max(p.paid_date) AS last_paid_date
        FROM (SELECT DISTINCT buyer_id, invoice_id, grower_id, work_period_start FROM w_lines) l
        JOIN w_payments p ON p.buyer_id = l.buyer_id AND p.invoice_id = l.invoice_id AND p.payee_id = l.grower_id
        GROUP BY ALL
    )
    SELECT strftime(s.period_start + pr.period_days - 1, '%Y-%m') AS month, g.program_id, s.grower_id,
           s.period_start, s.period_start + pr.period_days - 1 AS period_end,
           s.entitled_cents, s.funded_cents, s.retained_cents,
           greatest(s.period_start + pr.period_days - 1, coalesce(lp.last_paid_date, DATE '0001-01-01'))
               + pr.distribution_deadline_days AS due_date,
           pr.allocation_basis
    FROM sums s
    JOIN ref_parties g ON g.party_id = s.grower_id
    JOIN ref_programs pr ON pr.program_id = g.program_id
    LEFT JOIN last_paid lp USING (grower_id, period_start)
    """),
    # The current payroll rows (latest version of each key), once, with the columns the audit reads.
    ("t_payroll", """
    SELECT grower_id, worker_id, period_start, premium_period_start, pay_date, hours, units, gross_wages_cents,
           premium_paid_cents
    FROM payroll /*scope*/
    """),
    # §7: each grower's latest pay date (a grower with no new payroll keeps its last one).
    ("w_last_pay", """
    SELECT grower_id, max(pay_date) AS last_pay_date FROM t_payroll GROUP BY ALL
    /*kept_last_pay*/
    """),
    # §7: the close's as-of date: the latest day the program has evidence of, in any kind's rows.
    ("w_as_of", """
    SELECT greatest((SELECT max(last_pay_date) FROM w_last_pay), (SELECT max(paid_date) FROM payments),
                    (SELECT max(ship_date) FROM purchases), (SELECT max(ship_date) FROM sales)) AS as_of_date
    """),
    # §6: basis per (worker, grower, pay period), as an exact integer weight (thousandths of an
    # hour or unit, cents of wages, or for `equal` 1 when the worker has any hours or units) and
    # as a decimal.
    ("t_basis", """
    SELECT grower_id, worker_id, period_start, allocation_basis,
           CASE WHEN allocation_basis IN ('units', 'hours', 'gross_wages') THEN sum(w) ELSE max(w) END::BIGINT
               AS weight,
           CASE allocation_basis WHEN 'gross_wages' THEN CAST(weight AS DECIMAL(18,0)) * 0.01
                WHEN 'units' THEN CAST(weight AS DECIMAL(18,0)) * 0.001
                WHEN 'hours' THEN CAST(weight AS DECIMAL(18,0)) * 0.001
                ELSE CAST(weight AS DECIMAL(18,0)) END::DECIMAL(18,3) AS basis_value
    FROM (
        SELECT r.grower_id, r.worker_id, r.period_start, pr.allocation_basis,
               CASE pr.allocation_basis
                   WHEN 'units' THEN CAST(r.units * 1000 AS BIGINT)
                   WHEN 'hours' THEN CAST(r.hours * 1000 AS BIGINT)
                   WHEN 'gross_wages' THEN r.gross_wages_cents
                   ELSE CAST(r.hours > 0 OR r.units > 0 AS BIGINT) END AS w
        FROM t_payroll r
        JOIN ref_parties g ON g.party_id = r.grower_id
        JOIN ref_programs pr ON pr.program_id = g.program_id
    )
    GROUP BY grower_id, worker_id, period_start, allocation_basis
    """),
    # §6: each pool's entitled and funded split over its eligible workers (basis > 0), in one pass.
    ("t_shares", f"""
    WITH eligible AS (
        SELECT p.grower_id, p.period_start, b.worker_id, b.weight, b.basis_value, p.entitled_cents, p.funded_cents
        FROM w_pools p
        JOIN t_basis b ON b.grower_id = p.grower_id AND b.period_start = p.period_start AND b.weight > 0
    )
    SELECT grower_id, period_start, worker_id, basis_value, entitled_share, funded_share
    FROM ({split_sql("eligible", "grower_id, period_start", "worker_id",
                     {"entitled_cents": "entitled_share", "funded_cents": "funded_share"})})
    """),
    # §7: premium on stubs per (worker, grower, premium period), with its latest paid pay_date.
    ("t_paid", """
    SELECT grower_id, worker_id, premium_period_start AS period_start,
           sum(premium_paid_cents)::BIGINT AS paid_cents,
           max(pay_date) FILTER (WHERE premium_paid_cents > 0) AS last_paid_pay_date
    FROM t_payroll GROUP BY ALL
    """),
    # §7: the worker audit: every worker with a share of a pool, and every worker paid premium
    # without one. Eligible means a basis above zero: every worker with a share is; a worker paid
    # without a share is only when the period has no pool.
    ("w_worker_audit", f"""
    WITH paid AS (
        SELECT * FROM t_paid WHERE paid_cents > 0
    ), audited AS (
        SELECT s.grower_id, s.period_start, s.worker_id, true AS eligible, s.basis_value,
               s.entitled_share AS entitled, s.funded_share AS funded, coalesce(pd.paid_cents, 0) AS paid,
               pd.last_paid_pay_date
        FROM t_shares s LEFT JOIN paid pd USING (grower_id, period_start, worker_id)
        UNION ALL
        SELECT pd.grower_id, pd.period_start, pd.worker_id, coalesce(b.weight, 0) > 0,
               CASE WHEN coalesce(b.weight, 0) > 0 THEN b.basis_value ELSE 0 END, 0, 0, pd.paid_cents,
               pd.last_paid_pay_date
        FROM paid pd
        ANTI JOIN t_shares s USING (grower_id, period_start, worker_id)
        LEFT JOIN t_basis b USING (grower_id, period_start, worker_id)
    ), facts AS (
        SELECT a.grower_id, a.period_start, a.worker_id, g.program_id,
               a.period_start + pr.period_days - 1 AS period_end, a.eligible,
               a.basis_value::DECIMAL(18,3) AS basis_value, a.entitled::BIGINT AS entitled,
               a.funded::BIGINT AS funded, a.paid::BIGINT AS paid,
               a.last_paid_pay_date, p.due_date
        FROM audited a
        JOIN ref_parties g ON g.party_id = a.grower_id
        JOIN ref_programs pr ON pr.program_id = g.program_id
        LEFT JOIN w_pools p USING (grower_id, period_start)
    )
    SELECT strftime(period_end, '%Y-%m') AS month, program_id, grower_id, period_start, period_end, worker_id,
           basis_value, entitled AS entitled_cents, funded AS funded_cents, paid AS paid_cents,
           paid - funded AS variance_cents, entitled - funded AS upstream_shortfall_cents, eligible,
           CASE WHEN NOT eligible THEN 'PAID_WITHOUT_WORK'
                WHEN paid = funded THEN 'OK'
                WHEN paid = 0 THEN 'UNPAID'
                WHEN paid < funded THEN 'UNDERPAID'
                ELSE 'OVERPAID' END AS status,
           coalesce(last_paid_pay_date > due_date, false) AS late,
           {OVERDUE.format(paid="paid", funded="funded")} AS overdue,
           due_date
    FROM facts
    /*kept*/
    """),
    ("w_pool_audit", """
    WITH paid AS (
        SELECT grower_id, period_start,
               sum(paid_cents) FILTER (WHERE eligible)::BIGINT AS distributed_cents,
               sum(paid_cents) FILTER (WHERE NOT eligible)::BIGINT AS paid_without_work_cents,
               count(*) FILTER (WHERE eligible) AS eligible_workers
        FROM w_worker_audit GROUP BY ALL
    )
    SELECT p.month, p.program_id, p.grower_id, p.period_start, p.period_end, p.entitled_cents, p.funded_cents,
           p.retained_cents,
           coalesce(a.distributed_cents, 0) AS distributed_cents,
           coalesce(a.paid_without_work_cents, 0) AS paid_without_work_cents,
           p.funded_cents - coalesce(a.distributed_cents, 0) AS undistributed_cents,
           coalesce(a.eligible_workers, 0) AS eligible_workers,
           p.due_date
    FROM w_pools p
    LEFT JOIN paid a USING (grower_id, period_start)
    """),
    # Findings, one row each: who is responsible, where, and the money in question.
    ("w_exceptions", """
    SELECT i.month, sp.party_type AS level, 'BILLED_MISMATCH' AS code, l.seller_id AS party_id,
           l.buyer_id || '/' || l.invoice_id || '/' || l.line_no AS reference, NULL AS worker_id,
           (l.premium_billed_cents - l.owed_cents)::BIGINT AS amount_cents,
           'seller ' || l.seller_id || ' billed ' || format_cents(l.premium_billed_cents)
               || ' of premium on the line but the rate card gives '
               || format_cents(l.owed_cents) || ' (' || l.quantity || ' ' || l.unit || ' at ' || l.rate || ' per '
               || l.rate_unit || ')' AS detail
    FROM w_lines l JOIN w_invoices i USING (buyer_id, invoice_id)
    JOIN ref_parties sp ON sp.party_id = l.seller_id
    WHERE l.premium_billed_cents IS NOT NULL AND l.premium_billed_cents <> l.owed_cents
    UNION ALL
    SELECT month, 'buyer', status, buyer_id, buyer_id || '/' || invoice_id, NULL, balance_cents,
           'owed ' || format_cents(owed_cents) || ', paid by the buyer ' || format_cents(paid_by_buyer_cents)
               || ': ' || format_cents(abs(balance_cents)) || CASE WHEN balance_cents > 0 THEN ' short' ELSE ' over' END
    FROM w_invoice_audit WHERE status <> 'OK'
    UNION ALL
    SELECT month, 'intermediary', 'PASS_THROUGH_SHORTFALL', intermediary_id, buyer_id || '/' || invoice_id, NULL,
           held_cents,
           'received ' || format_cents(received_cents) || ' for the invoice but passed on '
               || format_cents(paid_on_cents) || ': ' || format_cents(held_cents) || ' held'
    FROM w_pass_through WHERE held_cents > 0
    UNION ALL
    SELECT month, CASE WHEN status = 'MISSING_SALE' THEN seller_type ELSE 'buyer' END, status,
           CASE WHEN status = 'MISSING_SALE' THEN seller_id ELSE buyer_id END,
           buyer_id || '/' || invoice_id || '/' || line_no, NULL,
           CASE status WHEN 'VOLUME_MISMATCH' THEN seller_owed_cents - buyer_owed_cents
                WHEN 'MISSING_PURCHASE' THEN seller_owed_cents ELSE buyer_owed_cents END,
           CASE status
               WHEN 'VOLUME_MISMATCH' THEN 'the buyer reported ' || buyer_side || '; the seller reported '
                   || seller_side || ': ' || concat_ws(', ',
                       CASE WHEN buyer_base_unit IS DISTINCT FROM seller_base_unit
                                 OR buyer_base_quantity <> seller_base_quantity THEN 'the quantity' END,
                       CASE WHEN buyer_grower_id <> seller_grower_id THEN 'the grower' END,
                       CASE WHEN buyer_commodity <> seller_commodity THEN 'the commodity' END,
                       CASE WHEN buyer_seller_id <> seller_seller_id THEN 'the seller' END) || ' differ'
               WHEN 'MISSING_PURCHASE' THEN 'the seller reported ' || seller_side || ' on this line; no purchases '
                   || 'file of buyer ' || buyer_id || ' reports it'
               ELSE 'the buyer reported ' || buyer_side || '; seller ' || seller_id || ' reported sales in '
                   || month || ' but not this line' END
    FROM (
        SELECT *,
               buyer_quantity || ' ' || buyer_unit || ' of ' || buyer_commodity || ' grown by ' || buyer_grower_id
                   || ', sold by ' || buyer_seller_id || ' (owed ' || format_cents(buyer_owed_cents) || ')'
                   AS buyer_side,
               seller_quantity || ' ' || seller_unit || ' of ' || seller_commodity || ' grown by ' || seller_grower_id
                   || ', sold by ' || seller_seller_id || ' (' || format_cents(seller_owed_cents) || ' by the rate card)'
                   AS seller_side
        FROM w_volume_handshake WHERE status IN ('VOLUME_MISMATCH', 'MISSING_PURCHASE', 'MISSING_SALE')
    )
    UNION ALL
    SELECT month, payer_type, code, payer_id, payment_id || '/' || line_no, NULL, amount_cents, detail
    FROM (
        SELECT *, 'UNKNOWN_INVOICE' AS code,
               'paid ' || format_cents(amount_cents) || ' for invoice ' || buyer_id || '/' || invoice_id
                   || ', which no purchases file reports' AS detail
        FROM w_payments WHERE NOT invoice_known
        UNION ALL
        SELECT *, 'PAYEE_NOT_ON_INVOICE',
               'paid ' || format_cents(amount_cents) || ' to grower ' || payee_id || ', which has no line on invoice '
                   || buyer_id || '/' || invoice_id
        FROM w_payments WHERE invoice_known AND payee_type = 'grower' AND NOT payee_on_invoice
        UNION ALL
        SELECT *, 'UNEXPECTED_PAYER',
               payer_id || ' (' || payer_type || ') paid ' || format_cents(amount_cents) || ' on invoice '
                   || buyer_id || '/' || invoice_id || ', which is neither its buyer nor an intermediary'
        FROM w_payments WHERE NOT payer_is_buyer AND payer_type <> 'intermediary'
        UNION ALL
        SELECT *, 'UNEXPECTED_PAYEE',
               'paid ' || format_cents(amount_cents) || ' to buyer ' || payee_id || ' on invoice '
                   || buyer_id || '/' || invoice_id
        FROM w_payments WHERE payee_type = 'buyer'
    )
    UNION ALL
    SELECT p.month, 'grower', 'POOL_WITHOUT_WORKERS', p.grower_id, p.grower_id || '/' || p.period_start, NULL,
           CASE WHEN p.funded_cents > 0 THEN p.funded_cents ELSE p.entitled_cents END,
           'pool entitled to ' || format_cents(p.entitled_cents) || ' and funded with ' || format_cents(p.funded_cents)
               || ' but the payroll shows no worker with ' || p.allocation_basis || ' in the period'
    FROM w_pools p JOIN w_pool_audit a USING (grower_id, period_start)
    WHERE (p.entitled_cents > 0 OR p.funded_cents > 0) AND a.eligible_workers = 0
    UNION ALL
    SELECT month, 'worker', status, grower_id, grower_id || '/' || period_start, worker_id, variance_cents,
           'worker ' || worker_id || ': funded share ' || format_cents(funded_cents) || ', paid '
               || format_cents(paid_cents) || CASE WHEN late THEN ', paid late' ELSE '' END
               || CASE WHEN overdue THEN ', overdue' ELSE '' END
    FROM w_worker_audit WHERE status <> 'OK'
    """),
    # What readers receive is read from published tables only: the (invoice, grower) amounts, the
    # invoice lines and the payment lines, each with the month it is published under.
    ("w_invoice_grower_audit", """
    SELECT i.month, g.buyer_id, g.invoice_id, g.grower_id, g.program_id, g.owed_cents, g.received_cents,
           g.entitled_cents, g.funded_cents, g.retained_cents
    FROM w_invoice_grower g JOIN w_invoices i USING (buyer_id, invoice_id)
    """),
    ("w_line_audit", """
    SELECT i.month, l.buyer_id, l.invoice_id, l.line_no, l.ship_date, l.seller_id, l.grower_id, l.commodity,
           l.quantity, l.unit, CAST(l.rate AS VARCHAR) || ' per ' || l.rate_unit AS rate, l.owed_cents,
           l.premium_billed_cents AS billed_cents, l.work_period_start, l.file, l.sheet, l.row_number
    FROM w_lines l JOIN w_invoices i USING (buyer_id, invoice_id)
    """),
    ("w_payment_audit", """
    SELECT strftime(paid_date, '%Y-%m') AS month, payment_id, line_no, payer_id, payee_id, paid_date, buyer_id,
           invoice_id, amount_cents, CASE WHEN invoice_known THEN month END AS invoice_month, payer_type,
           payee_type, payee_type = 'grower' AND payee_on_invoice AS payee_on_invoice, file, sheet, row_number
    FROM w_payments
    """),
    # What traces receive, under the pool's month: each pool's share of each invoice feeding it
    # (§5), and the rows its figures come from: the purchase lines that make its entitlement and
    # the payment lines that funded it (to its grower, or through an intermediary).
    ("w_pool_invoice_audit", """
    SELECT p.month, s.grower_id, s.work_period_start AS period_start, s.buyer_id, s.invoice_id,
           sum(s.share) FILTER (WHERE s.measure = 'entitled')::BIGINT AS entitled_cents,
           sum(s.share) FILTER (WHERE s.measure = 'funded')::BIGINT AS funded_cents,
           sum(s.share) FILTER (WHERE s.measure = 'retained')::BIGINT AS retained_cents
    FROM w_period_shares s
    JOIN w_pools p ON p.grower_id = s.grower_id AND p.period_start = s.work_period_start
    GROUP BY p.month, s.grower_id, s.work_period_start, s.buyer_id, s.invoice_id
    """),
    ("w_pool_source_audit", """
    WITH fed AS (
        SELECT DISTINCT p.month, l.buyer_id, l.invoice_id, l.grower_id, l.work_period_start
        FROM w_lines l JOIN w_pools p ON p.grower_id = l.grower_id AND p.period_start = l.work_period_start
    )
    SELECT f.month, l.grower_id, l.work_period_start AS period_start, 'purchases' AS kind, l.buyer_id,
           l.invoice_id, l.line_no AS reference, l.file, l.sheet, l.row_number
    FROM w_lines l JOIN fed f USING (buyer_id, invoice_id, grower_id, work_period_start)
    UNION ALL
    SELECT f.month, f.grower_id, f.work_period_start, 'payments', y.buyer_id, y.invoice_id,
           y.payment_id || '/' || y.line_no, y.file, y.sheet, y.row_number
    FROM fed f JOIN w_payments y ON y.buyer_id = f.buyer_id AND y.invoice_id = f.invoice_id
    WHERE y.payee_id = f.grower_id OR y.payer_type = 'intermediary' OR y.payee_type = 'intermediary'
    """),
]

FORMAT_MACRO = """
CREATE OR REPLACE TEMP MACRO format_cents(c) AS
    CASE WHEN c < 0 THEN '-' ELSE '' END || '$' || format('{:,}', abs(c) // 100) || '.' || lpad(CAST(abs(c) % 100 AS VARCHAR), 2, '0');
"""


# Earlier versions kept the temporary stages as w_* tables in the warehouse; those are dropped.
RETIRED = ("w_payroll", "w_basis", "w_shares", "w_paid")

# Growers whose worker audit an incremental run recomputes: those with payroll rows from files
# applied since the last run, and those any of whose pools changed, appeared or went away.
SCOPE_SQL = """
CREATE OR REPLACE TEMP TABLE t_scope AS
SELECT DISTINCT grower_id FROM payroll_rows WHERE file_seq > {since}
UNION SELECT grower_id FROM (SELECT * FROM temp.main.w_pools EXCEPT SELECT * FROM {db}.main.w_pools)
UNION SELECT grower_id FROM (SELECT * FROM {db}.main.w_pools EXCEPT SELECT * FROM temp.main.w_pools)
"""


def run(con: duckdb.DuckDBPyConnection, progress=None, since: int | None = None,
        meta: dict[str, str] | None = None) -> dict[str, int]:
    """Rebuild every working table; return their row counts.

    Every stage is first built as a temporary table of this connection: tables named ``t_*``
    are read only by the stages after them, and the ``w_*`` ones are then copied into the
    warehouse in one transaction (with ``meta``, if given), so a close that dies leaves the
    previous tables whole. (A query reading a table written earlier in the same open
    transaction runs several times slower in DuckDB; building outside it avoids that.)

    ``since``: the ingest_log seq the warehouse's working tables were last built from, with the
    same reference data and rules. Everything above the worker level is rebuilt (it is small);
    the worker audit, which depends on nothing outside its grower, is recomputed only for the
    growers in scope (``SCOPE_SQL``), and kept as it was for the others. The result is the
    same as a full rebuild's; a test holds the two equal.
    """
    con.execute(FORMAT_MACRO)
    db = quote(con.execute("SELECT current_database()").fetchone()[0])
    counts = {}
    scope = kept = kept_last_pay = ""
    try:
        for table, sql in STAGES:
            if table == "t_payroll" and since is not None:
                con.execute(SCOPE_SQL.format(since=int(since), db=db))
                growers = con.execute("SELECT count(*) FROM t_scope").fetchone()[0]
                if progress:
                    progress(f"incremental: the worker audit of {growers} grower(s) is recomputed, "
                             "the others' kept")
                scope = "WHERE grower_id IN (SELECT grower_id FROM t_scope)"
                # the others' rows are kept, with `overdue` judged again against the new as-of date
                kept = (f"UNION ALL SELECT * REPLACE ({OVERDUE.format(paid='paid_cents', funded='funded_cents')} "
                        f"AS overdue) FROM {db}.main.w_worker_audit WHERE grower_id NOT IN (SELECT grower_id FROM t_scope)")
                kept_last_pay = (f"UNION ALL SELECT * FROM {db}.main.w_last_pay "
                                 "WHERE grower_id NOT IN (SELECT grower_id FROM t_scope)")
            sql = (sql.replace("/*scope*/", scope).replace("/*kept*/", kept)
                   .replace("/*kept_last_pay*/", kept_last_pay))
            try:
                con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
            except duckdb.Error as e:
                raise RuntimeError(f"reconciliation stage {table} failed: {e}") from e
            counts[table] = con.execute(f"SELECT count(*) FROM temp.main.{table}").fetchone()[0]
            if progress:
                progress(f"{table}: {counts[table]:,} rows")
        for table, _ in STAGES:  # the memory of the stages nothing else reads, freed before the copy
            if table.startswith("t_"):
                con.execute(f"DROP TABLE temp.main.{table}")
        with transaction(con):
            for table in RETIRED:
                con.execute(f"DROP TABLE IF EXISTS {db}.main.{table}")
            for table, _ in STAGES:
                if not table.startswith("t_"):
                    con.execute(f"CREATE OR REPLACE TABLE {db}.main.{table} AS SELECT * FROM temp.main.{table}")
            for key, value in (meta or {}).items():
                set_meta(con, key, value)
            faults.point("reconcile.written")
        faults.point("reconcile.committed")
    finally:
        for table in [t for t, _ in STAGES] + ["t_scope"]:
            con.execute(f"DROP TABLE IF EXISTS temp.main.{table}")
    return counts
