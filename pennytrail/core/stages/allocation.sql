-- Allocation to workers (docs/rules.md: Allocation to workers; SPEC §6): each pool's entitled
-- and funded amounts split over its eligible workers by the largest-remainder split.
-- Reads: payroll, scope_growers (the growers whose workers are recomputed: all of them on a full
-- rebuild), w_pools, ref_parties, ref_programs.

-- table: t_payroll
-- The current payroll rows (the latest version of each key) of the growers in scope, once, with
-- the columns the allocation and the worker audit read.
SELECT grower_id, worker_id, period_start, premium_period_start, pay_date, hours, units, gross_wages_cents,
       premium_paid_cents
FROM payroll
WHERE grower_id IN (SELECT grower_id FROM scope_growers);

-- table: t_basis
-- §6: the basis of each (worker, grower, pay period), as an exact integer weight (thousandths
-- of an hour or unit, cents of wages, or for `equal` 1 when the worker has any hours or units,
-- once per worker) and as the decimal shown (hours, units, dollars of wages, or 1).
WITH row_weights AS (
    SELECT r.grower_id, r.worker_id, r.period_start, pr.allocation_basis,
           CASE pr.allocation_basis
               WHEN 'units' THEN CAST(r.units * 1000 AS BIGINT)
               WHEN 'hours' THEN CAST(r.hours * 1000 AS BIGINT)
               WHEN 'gross_wages' THEN r.gross_wages_cents
               ELSE CAST(r.hours > 0 OR r.units > 0 AS BIGINT) END AS w
    FROM t_payroll r
    JOIN ref_parties g ON g.party_id = r.grower_id
    JOIN ref_programs pr ON pr.program_id = g.program_id
), weights AS (
    SELECT grower_id, worker_id, period_start, allocation_basis,
           CAST(CASE WHEN allocation_basis IN ('units', 'hours', 'gross_wages') THEN sum(w) ELSE max(w) END AS BIGINT)
               AS weight
    FROM row_weights
    GROUP BY grower_id, worker_id, period_start, allocation_basis
)
SELECT grower_id, worker_id, period_start, allocation_basis, weight,
       CAST(CASE allocation_basis WHEN 'gross_wages' THEN CAST(weight AS DECIMAL(18,0)) * 0.01
            WHEN 'units' THEN CAST(weight AS DECIMAL(18,0)) * 0.001
            WHEN 'hours' THEN CAST(weight AS DECIMAL(18,0)) * 0.001
            ELSE CAST(weight AS DECIMAL(18,0)) END AS DECIMAL(18,3)) AS basis_value
FROM weights;

-- table: t_shares
-- §6: the eligible workers of a pool (g, P) are those with a basis above 0 in P; the pool's
-- entitled and funded are each split over them by largest remainder: a worker gets
-- floor(amount × w / Σw), and the cents left over go one each to the largest remainders, ties
-- to the lowest worker_id (string order). Exact: a remainder is compared as an integer over the
-- pool's common denominator Σw, which must fit 64 bits (beyond, the close fails; never a wrong
-- share). The shares add up to the amount.
WITH eligible AS (
    SELECT p.grower_id, p.period_start, b.worker_id, b.weight, b.basis_value, p.entitled_cents, p.funded_cents
    FROM w_pools p
    JOIN t_basis b ON b.grower_id = p.grower_id AND b.period_start = p.period_start AND b.weight > 0
), totals AS (
    SELECT grower_id, period_start, worker_id, basis_value, entitled_cents, funded_cents, weight,
           CAST(sum(weight) OVER (PARTITION BY grower_id, period_start) AS BIGINT) AS total
    FROM eligible
), quotas AS (
    SELECT grower_id, period_start, worker_id, basis_value, entitled_cents, funded_cents,
           muldiv(entitled_cents, weight, total) AS entitled_floor,
           mulmod(entitled_cents, weight, total) AS entitled_rem,
           muldiv(funded_cents, weight, total) AS funded_floor,
           mulmod(funded_cents, weight, total) AS funded_rem
    FROM totals
), ranked AS (
    SELECT grower_id, period_start, worker_id, basis_value, entitled_floor, funded_floor,
           entitled_cents - sum(entitled_floor) OVER (PARTITION BY grower_id, period_start) AS entitled_left,
           row_number() OVER (PARTITION BY grower_id, period_start
                              ORDER BY entitled_rem DESC, worker_id) AS entitled_place,
           funded_cents - sum(funded_floor) OVER (PARTITION BY grower_id, period_start) AS funded_left,
           row_number() OVER (PARTITION BY grower_id, period_start
                              ORDER BY funded_rem DESC, worker_id) AS funded_place
    FROM quotas
)
SELECT grower_id, period_start, worker_id, basis_value,
       entitled_floor + CASE WHEN entitled_place <= entitled_left THEN 1 ELSE 0 END AS entitled_share,
       funded_floor + CASE WHEN funded_place <= funded_left THEN 1 ELSE 0 END AS funded_share
FROM ranked;
