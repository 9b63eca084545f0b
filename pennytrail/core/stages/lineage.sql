-- Lineage (docs/rules.md: Output tables): what readers receive is read from published tables
-- only, so the rows each figure comes from are published with it, each under the month it
-- belongs to: the (invoice, grower) amounts, the invoice lines and the payment lines, and for
-- each pool its share of each invoice feeding it (§5) and the file rows of its entitlement and
-- its funding. Reads: w_invoice_grower, w_invoices, w_lines, w_payments, w_period_shares, w_pools.

-- table: w_invoice_grower_audit
SELECT i.month, g.buyer_id, g.invoice_id, g.grower_id, g.program_id, g.owed_cents, g.received_cents,
       g.entitled_cents, g.funded_cents, g.retained_cents
FROM w_invoice_grower g
JOIN w_invoices i ON i.buyer_id = g.buyer_id AND i.invoice_id = g.invoice_id;

-- table: w_line_audit
SELECT i.month, l.buyer_id, l.invoice_id, l.line_no, l.ship_date, l.seller_id, l.grower_id, l.commodity,
       l.quantity, l.unit, CAST(l.rate AS VARCHAR) || ' per ' || l.rate_unit AS rate, l.owed_cents,
       l.premium_billed_cents AS billed_cents, l.work_period_start, l.file, l.sheet, l.row_number
FROM w_lines l
JOIN w_invoices i ON i.buyer_id = l.buyer_id AND i.invoice_id = l.invoice_id;

-- table: w_payment_audit
SELECT month_of(paid_date) AS month, payment_id, line_no, payer_id, payee_id, paid_date, buyer_id,
       invoice_id, amount_cents, CASE WHEN invoice_known THEN month END AS invoice_month, payer_type,
       payee_type, payee_type = 'grower' AND payee_on_invoice AS payee_on_invoice, file, sheet, row_number
FROM w_payments;

-- table: w_pool_invoice_audit
-- §5: each pool's share of each invoice feeding it, under the pool's month.
SELECT p.month, s.grower_id, s.work_period_start AS period_start, s.buyer_id, s.invoice_id,
       CAST(sum(s.share) FILTER (WHERE s.measure = 'entitled') AS BIGINT) AS entitled_cents,
       CAST(sum(s.share) FILTER (WHERE s.measure = 'funded') AS BIGINT) AS funded_cents,
       CAST(sum(s.share) FILTER (WHERE s.measure = 'retained') AS BIGINT) AS retained_cents
FROM w_period_shares s
JOIN w_pools p ON p.grower_id = s.grower_id AND p.period_start = s.work_period_start
GROUP BY p.month, s.grower_id, s.work_period_start, s.buyer_id, s.invoice_id;

-- table: w_pool_source_audit
-- The rows a pool's figures come from: the purchase lines that make its entitlement and the
-- payment lines that funded it (to its grower, or through an intermediary).
WITH fed AS (
    SELECT DISTINCT p.month, l.buyer_id, l.invoice_id, l.grower_id, l.work_period_start
    FROM w_lines l JOIN w_pools p ON p.grower_id = l.grower_id AND p.period_start = l.work_period_start
)
SELECT f.month, l.grower_id, l.work_period_start AS period_start, 'purchases' AS kind, l.buyer_id,
       l.invoice_id, l.line_no AS reference, l.file, l.sheet, l.row_number
FROM w_lines l
JOIN fed f ON f.buyer_id = l.buyer_id AND f.invoice_id = l.invoice_id AND f.grower_id = l.grower_id
     AND f.work_period_start = l.work_period_start
UNION ALL
SELECT f.month, f.grower_id, f.work_period_start, 'payments', y.buyer_id, y.invoice_id,
       y.payment_id || '/' || y.line_no, y.file, y.sheet, y.row_number
FROM fed f JOIN w_payments y ON y.buyer_id = f.buyer_id AND y.invoice_id = f.invoice_id
WHERE y.payee_id = f.grower_id OR y.payer_type = 'intermediary' OR y.payee_type = 'intermediary';
