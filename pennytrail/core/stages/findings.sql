-- Findings (docs/rules.md: Exception codes; SPEC §4, §4a, §6, §7), one row each: who is responsible,
-- at what level, where, the money in question, and the words an accountant reads.
-- Reads: w_lines, w_invoices, w_invoice_audit, w_pass_through, w_volume_handshake, w_payments,
-- w_pools, w_pool_audit, w_worker_audit, ref_parties.

-- table: w_exceptions
WITH billed AS (
    -- §4: a line billed at other than the rate card; the seller who issued the invoice answers
    SELECT i.month, sp.party_type AS level, 'BILLED_MISMATCH' AS code, l.seller_id AS party_id,
           l.buyer_id || '/' || l.invoice_id || '/' || l.line_no AS reference, CAST(NULL AS VARCHAR) AS worker_id,
           CAST(l.premium_billed_cents - l.owed_cents AS BIGINT) AS amount_cents,
           'seller ' || l.seller_id || ' billed ' || format_cents(l.premium_billed_cents)
               || ' of premium on the line but the rate card gives '
               || format_cents(l.owed_cents) || ' (' || CAST(l.quantity AS VARCHAR) || ' ' || l.unit || ' at '
               || CAST(l.rate AS VARCHAR) || ' per ' || l.rate_unit || ')' AS detail
    FROM w_lines l
    JOIN w_invoices i ON i.buyer_id = l.buyer_id AND i.invoice_id = l.invoice_id
    JOIN ref_parties sp ON sp.party_id = l.seller_id
    WHERE l.premium_billed_cents IS NOT NULL AND l.premium_billed_cents <> l.owed_cents
), balances AS (
    -- §4: an invoice the buyer paid short or over
    SELECT month, 'buyer' AS level, status AS code, buyer_id AS party_id, buyer_id || '/' || invoice_id AS reference,
           CAST(NULL AS VARCHAR) AS worker_id, balance_cents AS amount_cents,
           'owed ' || format_cents(owed_cents) || ', paid by the buyer ' || format_cents(paid_by_buyer_cents)
               || ': ' || format_cents(abs(balance_cents)) || CASE WHEN balance_cents > 0 THEN ' short' ELSE ' over' END
               AS detail
    FROM w_invoice_audit WHERE status <> 'OK'
), held AS (
    -- §4: an intermediary that held back part of what it received
    SELECT month, 'intermediary' AS level, 'PASS_THROUGH_SHORTFALL' AS code, intermediary_id AS party_id,
           buyer_id || '/' || invoice_id AS reference, CAST(NULL AS VARCHAR) AS worker_id, held_cents AS amount_cents,
           'received ' || format_cents(received_cents) || ' for the invoice but passed on '
               || format_cents(paid_on_cents) || ': ' || format_cents(held_cents) || ' held' AS detail
    FROM w_pass_through WHERE held_cents > 0
), handshake_sides AS (
    SELECT month, status, seller_type, seller_id, buyer_id, invoice_id, line_no, buyer_owed_cents, seller_owed_cents,
           buyer_base_unit, seller_base_unit, buyer_base_quantity, seller_base_quantity, buyer_grower_id,
           seller_grower_id, buyer_commodity, seller_commodity, buyer_seller_id, seller_seller_id,
           CAST(buyer_quantity AS VARCHAR) || ' ' || buyer_unit || ' of ' || buyer_commodity || ' grown by '
               || buyer_grower_id
               || ', sold by ' || buyer_seller_id || ' (owed ' || format_cents(buyer_owed_cents) || ')'
               AS buyer_side,
           CAST(seller_quantity AS VARCHAR) || ' ' || seller_unit || ' of ' || seller_commodity || ' grown by '
               || seller_grower_id
               || ', sold by ' || seller_seller_id || ' (' || format_cents(seller_owed_cents) || ' by the rate card)'
               AS seller_side
    FROM w_volume_handshake WHERE status IN ('VOLUME_MISMATCH', 'MISSING_PURCHASE', 'MISSING_SALE')
), handshake AS (
    -- §4a: the two sides of a line differ, or one side is missing
    SELECT month, CASE WHEN status = 'MISSING_SALE' THEN seller_type ELSE 'buyer' END AS level, status AS code,
           CASE WHEN status = 'MISSING_SALE' THEN seller_id ELSE buyer_id END AS party_id,
           buyer_id || '/' || invoice_id || '/' || line_no AS reference, CAST(NULL AS VARCHAR) AS worker_id,
           CASE status WHEN 'VOLUME_MISMATCH' THEN seller_owed_cents - buyer_owed_cents
                WHEN 'MISSING_PURCHASE' THEN seller_owed_cents ELSE buyer_owed_cents END AS amount_cents,
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
                   || month || ' but not this line' END AS detail
    FROM handshake_sides
), payment_findings AS (
    SELECT month, payer_type, payer_id, payment_id, line_no, amount_cents, 'UNKNOWN_INVOICE' AS code,
           'paid ' || format_cents(amount_cents) || ' for invoice ' || buyer_id || '/' || invoice_id
               || ', which no purchases file reports' AS detail
    FROM w_payments WHERE NOT invoice_known
    UNION ALL
    SELECT month, payer_type, payer_id, payment_id, line_no, amount_cents, 'PAYEE_NOT_ON_INVOICE',
           'paid ' || format_cents(amount_cents) || ' to grower ' || payee_id || ', which has no line on invoice '
               || buyer_id || '/' || invoice_id
    FROM w_payments WHERE invoice_known AND payee_type = 'grower' AND NOT payee_on_invoice
    UNION ALL
    SELECT month, payer_type, payer_id, payment_id, line_no, amount_cents, 'UNEXPECTED_PAYER',
           payer_id || ' (' || payer_type || ') paid ' || format_cents(amount_cents) || ' on invoice '
               || buyer_id || '/' || invoice_id || ', which is neither its buyer nor an intermediary'
    FROM w_payments WHERE NOT payer_is_buyer AND payer_type <> 'intermediary'
    UNION ALL
    SELECT month, payer_type, payer_id, payment_id, line_no, amount_cents, 'UNEXPECTED_PAYEE',
           'paid ' || format_cents(amount_cents) || ' to buyer ' || payee_id || ' on invoice '
               || buyer_id || '/' || invoice_id
    FROM w_payments WHERE payee_type = 'buyer'
), payment AS (
    -- §4: a payment line on an unknown invoice, to a grower not on it, by or to an unexpected party
    SELECT month, payer_type AS level, code, payer_id AS party_id, payment_id || '/' || line_no AS reference,
           CAST(NULL AS VARCHAR) AS worker_id, amount_cents, detail
    FROM payment_findings
), empty_pools AS (
    -- §6: a pool with money and no eligible worker
    SELECT p.month, 'grower' AS level, 'POOL_WITHOUT_WORKERS' AS code, p.grower_id AS party_id,
           p.grower_id || '/' || CAST(p.period_start AS VARCHAR) AS reference, CAST(NULL AS VARCHAR) AS worker_id,
           CASE WHEN p.funded_cents > 0 THEN p.funded_cents ELSE p.entitled_cents END AS amount_cents,
           'pool entitled to ' || format_cents(p.entitled_cents) || ' and funded with ' || format_cents(p.funded_cents)
               || ' but the payroll shows no worker with ' || p.allocation_basis || ' in the period' AS detail
    FROM w_pools p
    JOIN w_pool_audit a ON a.grower_id = p.grower_id AND a.period_start = p.period_start
    WHERE (p.entitled_cents > 0 OR p.funded_cents > 0) AND a.eligible_workers = 0
), workers AS (
    -- §7: a worker not paid the funded share, or paid without work
    SELECT month, 'worker' AS level, status AS code, grower_id AS party_id,
           grower_id || '/' || CAST(period_start AS VARCHAR) AS reference, worker_id, variance_cents AS amount_cents,
           'worker ' || worker_id || ': funded share ' || format_cents(funded_cents) || ', paid '
               || format_cents(paid_cents) || CASE WHEN late THEN ', paid late' ELSE '' END
               || CASE WHEN overdue THEN ', overdue' ELSE '' END AS detail
    FROM w_worker_audit WHERE status <> 'OK'
)
SELECT month, level, code, party_id, reference, worker_id, amount_cents, detail FROM billed
UNION ALL
SELECT month, level, code, party_id, reference, worker_id, amount_cents, detail FROM balances
UNION ALL
SELECT month, level, code, party_id, reference, worker_id, amount_cents, detail FROM held
UNION ALL
SELECT month, level, code, party_id, reference, worker_id, amount_cents, detail FROM handshake
UNION ALL
SELECT month, level, code, party_id, reference, worker_id, amount_cents, detail FROM payment
UNION ALL
SELECT month, level, code, party_id, reference, worker_id, amount_cents, detail FROM empty_pools
UNION ALL
SELECT month, level, code, party_id, reference, worker_id, amount_cents, detail FROM workers;
