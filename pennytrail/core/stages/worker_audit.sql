-- The worker audit (docs/rules.md: The worker audit; SPEC §7): what each worker was paid against
-- the share of §6, whether late or overdue, and each pool's totals.
-- Reads: t_payroll, t_basis, t_shares, w_pools, payments, purchases, sales, ref_parties,
-- ref_programs, and what an incremental run keeps of the growers it does not recompute:
-- kept_last_pay and kept_worker_audit (both empty on a full rebuild).

-- table: w_last_pay
-- §7: each grower's latest pay date (a grower with no new payroll keeps its last one).
SELECT grower_id, max(pay_date) AS last_pay_date
FROM t_payroll
GROUP BY grower_id
UNION ALL
SELECT grower_id, last_pay_date FROM kept_last_pay;

-- table: w_as_of
-- §7: the close's as-of date: the latest day the program has evidence of, in any kind's rows.
SELECT greatest((SELECT max(last_pay_date) FROM w_last_pay), (SELECT max(paid_date) FROM payments),
                (SELECT max(ship_date) FROM purchases), (SELECT max(ship_date) FROM sales)) AS as_of_date;

-- table: t_paid
-- §7: premium on stubs per (worker, grower, premium period), with its latest paid pay_date.
SELECT grower_id, worker_id, premium_period_start AS period_start,
       CAST(sum(premium_paid_cents) AS BIGINT) AS paid_cents,
       max(pay_date) FILTER (WHERE premium_paid_cents > 0) AS last_paid_pay_date
FROM t_payroll
GROUP BY grower_id, worker_id, premium_period_start;

-- table: w_worker_audit
-- §7: a row for every worker with a share of a pool, and for every worker paid premium without
-- one. Eligible means a basis above zero: every worker with a share is; a worker paid without a
-- share is only when the period has no pool. The rows kept from the last run are judged overdue
-- again, against this close's as-of date.
WITH paid AS (
    SELECT grower_id, period_start, worker_id, paid_cents, last_paid_pay_date FROM t_paid WHERE paid_cents > 0
), audited AS (
    SELECT s.grower_id, s.period_start, s.worker_id, true AS eligible, s.basis_value,
           s.entitled_share AS entitled, s.funded_share AS funded, coalesce(pd.paid_cents, 0) AS paid,
           pd.last_paid_pay_date
    FROM t_shares s
    LEFT JOIN paid pd ON pd.grower_id = s.grower_id AND pd.period_start = s.period_start
         AND pd.worker_id = s.worker_id
    UNION ALL
    SELECT pd.grower_id, pd.period_start, pd.worker_id, coalesce(b.weight, 0) > 0,
           CASE WHEN coalesce(b.weight, 0) > 0 THEN b.basis_value ELSE 0 END, 0, 0, pd.paid_cents,
           pd.last_paid_pay_date
    FROM paid pd
    LEFT JOIN t_basis b ON b.grower_id = pd.grower_id AND b.period_start = pd.period_start
         AND b.worker_id = pd.worker_id
    WHERE NOT EXISTS (SELECT 1 FROM t_shares s WHERE s.grower_id = pd.grower_id AND s.period_start = pd.period_start
                      AND s.worker_id = pd.worker_id)
), facts AS (
    SELECT a.grower_id, a.period_start, a.worker_id, g.program_id,
           add_days(a.period_start, pr.period_days - 1) AS period_end, a.eligible,
           CAST(a.basis_value AS DECIMAL(18,3)) AS basis_value, CAST(a.entitled AS BIGINT) AS entitled,
           CAST(a.funded AS BIGINT) AS funded, CAST(a.paid AS BIGINT) AS paid,
           a.last_paid_pay_date, p.due_date
    FROM audited a
    JOIN ref_parties g ON g.party_id = a.grower_id
    JOIN ref_programs pr ON pr.program_id = g.program_id
    LEFT JOIN w_pools p ON p.grower_id = a.grower_id AND p.period_start = a.period_start
), audit AS (
    SELECT month_of(period_end) AS month, program_id, grower_id, period_start, period_end, worker_id,
           basis_value, entitled AS entitled_cents, funded AS funded_cents, paid AS paid_cents,
           paid - funded AS variance_cents, entitled - funded AS upstream_shortfall_cents, eligible,
           CASE WHEN NOT eligible THEN 'PAID_WITHOUT_WORK'
                WHEN paid = funded THEN 'OK'
                WHEN paid = 0 THEN 'UNPAID'
                WHEN paid < funded THEN 'UNDERPAID'
                ELSE 'OVERPAID' END AS status,
           coalesce(last_paid_pay_date > due_date, false) AS late,
           due_date
    FROM facts
    UNION ALL
    SELECT month, program_id, grower_id, period_start, period_end, worker_id, basis_value, entitled_cents,
           funded_cents, paid_cents, variance_cents, upstream_shortfall_cents, eligible, status, late, due_date
    FROM kept_worker_audit
)
SELECT month, program_id, grower_id, period_start, period_end, worker_id, basis_value, entitled_cents,
       funded_cents, paid_cents, variance_cents, upstream_shortfall_cents, eligible, status, late,
       coalesce(paid_cents < funded_cents AND (SELECT as_of_date FROM w_as_of) > due_date, false) AS overdue,
       due_date
FROM audit;

-- table: w_pool_audit
-- §7 and §8: each pool with what reached its eligible workers, what was paid without work, and
-- what is left undistributed of what it was funded with.
WITH paid AS (
    SELECT grower_id, period_start,
           CAST(sum(paid_cents) FILTER (WHERE eligible) AS BIGINT) AS distributed_cents,
           CAST(sum(paid_cents) FILTER (WHERE NOT eligible) AS BIGINT) AS paid_without_work_cents,
           count(*) FILTER (WHERE eligible) AS eligible_workers
    FROM w_worker_audit
    GROUP BY grower_id, period_start
)
SELECT p.month, p.program_id, p.grower_id, p.period_start, p.period_end, p.entitled_cents, p.funded_cents,
       p.retained_cents,
       coalesce(a.distributed_cents, 0) AS distributed_cents,
       coalesce(a.paid_without_work_cents, 0) AS paid_without_work_cents,
       p.funded_cents - coalesce(a.distributed_cents, 0) AS undistributed_cents,
       coalesce(a.eligible_workers, 0) AS eligible_workers,
       p.due_date
FROM w_pools p
LEFT JOIN paid a ON a.grower_id = p.grower_id AND a.period_start = p.period_start;
