-- Invoices, payments and what intermediaries pass on (docs/rules.md: What is owed, paid and
-- received; SPEC §4). An invoice X is (buyer_id, invoice_id). Reads: w_lines, payments, ref_parties.

-- table: w_invoices
-- §4: owed(X) and what was billed; an invoice belongs to the month of its earliest ship date.
SELECT buyer_id, invoice_id, month_of(min(ship_date)) AS month,
       CAST(sum(owed_cents) AS BIGINT) AS owed_cents,
       CAST(sum(premium_billed_cents) AS BIGINT) AS billed_cents
FROM w_lines
GROUP BY buyer_id, invoice_id;

-- table: w_payments
-- §4: each payment line, classified against its invoice: whether a purchases file reports the
-- invoice, whether the payer is its buyer, whether the payee has a line on it. A payment on an
-- unknown invoice belongs to the month of the earliest payment on it.
WITH invoice_growers AS (
    SELECT DISTINCT buyer_id, invoice_id, grower_id FROM w_lines
)
SELECT p.payment_id, p.line_no, p.payer_id, p.payee_id, p.paid_date, p.buyer_id, p.invoice_id,
       p.amount_cents, p.file, p.sheet, p.row_number,
       pt.party_type AS payer_type, qt.party_type AS payee_type,
       i.invoice_id IS NOT NULL AS invoice_known,
       coalesce(i.month, month_of(min(p.paid_date) OVER (PARTITION BY p.buyer_id, p.invoice_id))) AS month,
       p.payer_id = p.buyer_id AS payer_is_buyer,
       ig.grower_id IS NOT NULL AS payee_on_invoice
FROM payments p
JOIN ref_parties pt ON pt.party_id = p.payer_id
JOIN ref_parties qt ON qt.party_id = p.payee_id
LEFT JOIN w_invoices i ON i.buyer_id = p.buyer_id AND i.invoice_id = p.invoice_id
LEFT JOIN invoice_growers ig ON ig.buyer_id = p.buyer_id AND ig.invoice_id = p.invoice_id
     AND ig.grower_id = p.payee_id;

-- table: w_invoice_audit
-- §4: paid_by_buyer(X), and its balance against owed(X).
WITH paid AS (
    SELECT i.month, i.buyer_id, i.invoice_id, i.owed_cents, i.billed_cents,
           CAST(coalesce(sum(p.amount_cents) FILTER (WHERE p.payer_is_buyer), 0) AS BIGINT) AS paid_by_buyer_cents
    FROM w_invoices i
    LEFT JOIN w_payments p ON p.buyer_id = i.buyer_id AND p.invoice_id = i.invoice_id
    GROUP BY i.month, i.buyer_id, i.invoice_id, i.owed_cents, i.billed_cents
), balances AS (
    SELECT month, buyer_id, invoice_id, owed_cents, billed_cents, paid_by_buyer_cents,
           owed_cents - paid_by_buyer_cents AS balance_cents
    FROM paid
)
SELECT month, buyer_id, invoice_id, owed_cents, billed_cents, paid_by_buyer_cents, balance_cents,
       CASE WHEN balance_cents > 0 THEN 'BUYER_UNDERPAID' WHEN balance_cents < 0 THEN 'BUYER_OVERPAID'
            ELSE 'OK' END AS status
FROM balances;

-- table: w_pass_through
-- §4: held(X, k) for every intermediary k that pays or is paid for X.
WITH flows AS (
    SELECT month, buyer_id, invoice_id, payee_id AS intermediary_id, amount_cents AS received, 0 AS paid_on
    FROM w_payments WHERE payee_type = 'intermediary'
    UNION ALL
    SELECT month, buyer_id, invoice_id, payer_id, 0, amount_cents
    FROM w_payments WHERE payer_type = 'intermediary'
), sums AS (
    SELECT min(month) AS month, buyer_id, invoice_id, intermediary_id,
           CAST(sum(received) AS BIGINT) AS received_cents, CAST(sum(paid_on) AS BIGINT) AS paid_on_cents
    FROM flows
    GROUP BY buyer_id, invoice_id, intermediary_id
)
SELECT month, buyer_id, invoice_id, intermediary_id, received_cents, paid_on_cents,
       CAST(received_cents - paid_on_cents AS BIGINT) AS held_cents
FROM sums;
