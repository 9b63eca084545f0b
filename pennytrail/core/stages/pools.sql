-- Pools (docs/rules.md: Pools; SPEC §4 retention, §5): what each grower is entitled to and was
-- funded with per invoice, split over the work periods of the invoice's lines, summed into pools
-- (grower, work period) with their due dates. Reads: w_lines, w_payments, ref_parties, ref_programs.

-- table: w_invoice_grower
-- §4: per (X, g): owed, received (whoever paid), and the retention p: entitled = owed −
-- round_half_up(owed × p / 100), funded = received − round_half_up(received × p / 100),
-- retained = received − funded. p is taken in hundredths of a percent (basis points).
WITH owed AS (
    SELECT buyer_id, invoice_id, grower_id, any_value(program_id) AS program_id,
           CAST(sum(owed_cents) AS BIGINT) AS owed_cents
    FROM w_lines
    GROUP BY buyer_id, invoice_id, grower_id
), received AS (
    SELECT buyer_id, invoice_id, payee_id AS grower_id, CAST(sum(amount_cents) AS BIGINT) AS received_cents,
           max(paid_date) AS last_paid_date
    FROM w_payments WHERE payee_type = 'grower' GROUP BY buyer_id, invoice_id, payee_id
), amounts AS (
    SELECT o.buyer_id, o.invoice_id, o.grower_id, o.program_id, o.owed_cents,
           coalesce(r.received_cents, 0) AS received_cents, r.last_paid_date,
           CAST(pr.grower_retention_pct * 100 AS BIGINT) AS retention_bp
    FROM owed o
    JOIN ref_programs pr ON pr.program_id = o.program_id
    LEFT JOIN received r ON r.buyer_id = o.buyer_id AND r.invoice_id = o.invoice_id AND r.grower_id = o.grower_id
), kept AS (
    SELECT buyer_id, invoice_id, grower_id, program_id, owed_cents, received_cents, last_paid_date, retention_bp,
           owed_cents - round_half_up_div(owed_cents * retention_bp, 10000) AS entitled_cents,
           received_cents - round_half_up_div(received_cents * retention_bp, 10000) AS funded_cents
    FROM amounts
)
SELECT buyer_id, invoice_id, grower_id, program_id, owed_cents, received_cents, last_paid_date, retention_bp,
       entitled_cents, funded_cents,
       received_cents - funded_cents AS retained_cents
FROM kept;

-- table: w_period_shares
-- §5: each (X, g) amount (entitled, funded, retained) split over the work periods of X's lines
-- for g, each period weighted by the owed of its lines (equal weights if all are 0), by the
-- largest-remainder split of §6 (see allocation.sql): each period gets floor(amount × w / Σw),
-- and the cents left over go one each to the largest remainders, the earlier period first on a
-- tie. Exact: a remainder is compared as an integer over the split's common denominator Σw.
WITH periods AS (
    SELECT buyer_id, invoice_id, grower_id, work_period_start, CAST(sum(owed_cents) AS BIGINT) AS weight
    FROM w_lines
    GROUP BY buyer_id, invoice_id, grower_id, work_period_start
), measures AS (
    SELECT p.buyer_id, p.invoice_id, p.grower_id, p.work_period_start, p.weight, m.measure,
           CASE m.measure WHEN 'entitled' THEN ig.entitled_cents WHEN 'funded' THEN ig.funded_cents
                ELSE ig.retained_cents END AS amount
    FROM periods p
    JOIN w_invoice_grower ig ON ig.buyer_id = p.buyer_id AND ig.invoice_id = p.invoice_id
         AND ig.grower_id = p.grower_id
    CROSS JOIN (VALUES ('entitled'), ('funded'), ('retained')) AS m (measure)
), totals AS (
    SELECT buyer_id, invoice_id, grower_id, work_period_start, measure, amount, weight,
           CAST(sum(weight) OVER (PARTITION BY buyer_id, invoice_id, grower_id, measure) AS BIGINT) AS sum_w,
           count(*) OVER (PARTITION BY buyer_id, invoice_id, grower_id, measure) AS n
    FROM measures
), weights AS (
    SELECT buyer_id, invoice_id, grower_id, work_period_start, measure, amount,
           CASE WHEN sum_w = 0 THEN 1 ELSE weight END AS w,
           CASE WHEN sum_w = 0 THEN n ELSE sum_w END AS total
    FROM totals
), quotas AS (
    SELECT buyer_id, invoice_id, grower_id, work_period_start, measure, amount,
           muldiv(amount, w, total) AS floor_share, mulmod(amount, w, total) AS remainder
    FROM weights
), ranked AS (
    SELECT buyer_id, invoice_id, grower_id, work_period_start, measure, floor_share,
           amount - sum(floor_share) OVER (PARTITION BY buyer_id, invoice_id, grower_id, measure) AS cents_left,
           row_number() OVER (PARTITION BY buyer_id, invoice_id, grower_id, measure
                              ORDER BY remainder DESC, work_period_start) AS place
    FROM quotas
)
SELECT buyer_id, invoice_id, grower_id, work_period_start, measure,
       floor_share + CASE WHEN place <= cents_left THEN 1 ELSE 0 END AS share
FROM ranked;

-- table: w_pools
-- §5: pools (g, P), the month in which P ends, and the due date: the later of P's end and the
-- last payment to g for an invoice with a line of g in P, plus the program's deadline.
WITH sums AS (
    SELECT grower_id, work_period_start AS period_start,
           CAST(sum(share) FILTER (WHERE measure = 'entitled') AS BIGINT) AS entitled_cents,
           CAST(sum(share) FILTER (WHERE measure = 'funded') AS BIGINT) AS funded_cents,
           CAST(sum(share) FILTER (WHERE measure = 'retained') AS BIGINT) AS retained_cents
    FROM w_period_shares
    GROUP BY grower_id, work_period_start
), last_paid AS (
    SELECT l.grower_id, l.work_period_start AS period_start, max(p.paid_date) AS last_paid_date
    FROM (SELECT DISTINCT buyer_id, invoice_id, grower_id, work_period_start FROM w_lines) l
    JOIN w_payments p ON p.buyer_id = l.buyer_id AND p.invoice_id = l.invoice_id AND p.payee_id = l.grower_id
    GROUP BY l.grower_id, l.work_period_start
)
SELECT month_of(add_days(s.period_start, pr.period_days - 1)) AS month, g.program_id, s.grower_id,
       s.period_start, add_days(s.period_start, pr.period_days - 1) AS period_end,
       s.entitled_cents, s.funded_cents, s.retained_cents,
       add_days(greatest(add_days(s.period_start, pr.period_days - 1), coalesce(lp.last_paid_date, DATE '0001-01-01')),
                pr.distribution_deadline_days) AS due_date,
       pr.allocation_basis
FROM sums s
JOIN ref_parties g ON g.party_id = s.grower_id
JOIN ref_programs pr ON pr.program_id = g.program_id
LEFT JOIN last_paid lp ON lp.grower_id = s.grower_id AND lp.period_start = s.period_start;
