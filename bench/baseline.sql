-- The plain DuckDB lower bound: SPEC.md §4–§7 as one SQL script over the raw CSV files, with no
-- pipeline around it: no validation, quarantine, provenance, history, contracts or publication.
-- Malformed rows are dropped by TRY_CAST. The latest file (by path) wins for a repeated key.
-- `bench/run.py` runs it in a fresh in-memory database, with $DATA replaced by the data folder.

CREATE MACRO rhu(num, den) AS   -- round half up of num / den, den > 0
    CAST(sign(num) * ((2 * abs(CAST(num AS HUGEINT)) + den) // (2 * CAST(den AS HUGEINT))) AS BIGINT);
CREATE MACRO period_of(d, anchor, days) AS
    anchor + CAST((d - anchor) - ((((d - anchor) % days) + days) % days) AS INTEGER);

CREATE TABLE programs AS SELECT program_id, allocation_basis,
    CAST(CAST(grower_retention_pct AS DECIMAL(5,2)) * 100 AS BIGINT) AS retention_bp,
    CAST(distribution_deadline_days AS INTEGER) AS deadline, CAST(period_days AS INTEGER) AS days,
    CAST(period_anchor AS DATE) AS anchor
FROM read_csv('$DATA/reference/programs.csv', all_varchar = true);
CREATE TABLE parties AS SELECT * FROM read_csv('$DATA/reference/parties.csv', all_varchar = true);
CREATE TABLE rates AS SELECT program_id, commodity, CAST(rate AS DECIMAL(18,6)) AS rate, rate_unit,
    CAST(effective_from AS DATE) AS f, coalesce(TRY_CAST(effective_to AS DATE), DATE '9999-12-31') AS t
FROM read_csv('$DATA/reference/rates.csv', all_varchar = true);
CREATE TABLE units AS SELECT unit, base_unit, CAST(factor AS DECIMAL(18,6)) AS factor
FROM read_csv('$DATA/reference/units.csv', all_varchar = true);

CREATE TABLE purchases AS
SELECT buyer_id, invoice_id, grower_id, commodity, unit,
       TRY_CAST(ship_date AS DATE) AS ship_date, TRY_CAST(NULLIF(harvest_date, '') AS DATE) AS harvest_date,
       TRY_CAST(quantity AS DECIMAL(18,3)) AS quantity
FROM read_csv('$DATA/inbox/purchases/**/*.csv', all_varchar = true, filename = true, union_by_name = true)
WHERE TRY_CAST(ship_date AS DATE) IS NOT NULL AND TRY_CAST(quantity AS DECIMAL(18,3)) >= 0
QUALIFY row_number() OVER (PARTITION BY buyer_id, invoice_id, line_no ORDER BY filename DESC) = 1;

CREATE TABLE payments AS
SELECT payee_id, buyer_id, invoice_id, TRY_CAST(paid_date AS DATE) AS paid_date,
       CAST(TRY_CAST(amount AS DECIMAL(18,2)) * 100 AS BIGINT) AS cents
FROM read_csv('$DATA/inbox/payments/**/*.csv', all_varchar = true, filename = true, union_by_name = true)
WHERE TRY_CAST(amount AS DECIMAL(18,2)) >= 0
QUALIFY row_number() OVER (PARTITION BY payment_id, line_no ORDER BY filename DESC) = 1;

CREATE TABLE payroll AS
SELECT grower_id, worker_id, CAST(period_start AS DATE) AS period_start,
       CAST(coalesce(NULLIF(premium_period_start, ''), period_start) AS DATE) AS premium_period_start,
       CAST(pay_date AS DATE) AS pay_date,
       coalesce(TRY_CAST(NULLIF(hours, '') AS DECIMAL(18,3)), 0) AS hours,
       coalesce(TRY_CAST(NULLIF(units, '') AS DECIMAL(18,3)), 0) AS units,
       CAST(coalesce(TRY_CAST(NULLIF(gross_wages, '') AS DECIMAL(18,2)), 0) * 100 AS BIGINT) AS wages,
       CAST(coalesce(TRY_CAST(NULLIF(premium_paid, '') AS DECIMAL(18,2)), 0) * 100 AS BIGINT) AS premium
FROM read_csv('$DATA/inbox/payroll/**/*.csv', all_varchar = true, filename = true, union_by_name = true)
WHERE TRY_CAST(period_start AS DATE) IS NOT NULL AND TRY_CAST(pay_date AS DATE) IS NOT NULL
  AND TRY_CAST(coalesce(NULLIF(premium_period_start, ''), period_start) AS DATE) IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY grower_id, worker_id, period_start,
                           coalesce(NULLIF(premium_period_start, ''), period_start) ORDER BY filename DESC) = 1;

-- §4 owed per line and per (invoice, grower); received; retention
CREATE TABLE lines AS
SELECT p.buyer_id, p.invoice_id, p.grower_id, g.program_id,
       period_of(coalesce(p.harvest_date, p.ship_date), pr.anchor, pr.days) AS period_start,
       rhu(CAST(p.quantity * 1000 AS HUGEINT) * CAST(fu.factor * 1000000 AS HUGEINT) * CAST(r.rate * 1000000 AS HUGEINT)
           * 100, CAST(1000 AS HUGEINT) * 1000000 * CAST(fr.factor * 1000000 AS HUGEINT)) AS owed
FROM purchases p
JOIN parties g ON g.party_id = p.grower_id
JOIN programs pr ON pr.program_id = g.program_id
JOIN rates r ON r.program_id = g.program_id AND r.commodity = p.commodity AND p.ship_date BETWEEN r.f AND r.t
JOIN units fu ON fu.unit = p.unit
JOIN units fr ON fr.unit = r.rate_unit AND fr.base_unit = fu.base_unit;

CREATE TABLE invoice_grower AS
WITH owed AS (SELECT buyer_id, invoice_id, grower_id, any_value(program_id) AS program_id, sum(owed) AS owed
              FROM lines GROUP BY ALL),
     received AS (SELECT buyer_id, invoice_id, payee_id AS grower_id, sum(cents) AS received FROM payments
                  GROUP BY ALL)
SELECT o.*, coalesce(r.received, 0) AS received,
       o.owed - rhu(o.owed * pr.retention_bp, 10000) AS entitled,
       coalesce(r.received, 0) - rhu(coalesce(r.received, 0) * pr.retention_bp, 10000) AS funded
FROM owed o JOIN programs pr USING (program_id) LEFT JOIN received r USING (buyer_id, invoice_id, grower_id);

-- §5 each (invoice, grower) amount split over its work periods by owed (largest remainder), then pools
CREATE TABLE period_shares AS
WITH w AS (
    SELECT l.buyer_id, l.invoice_id, l.grower_id, l.period_start, sum(l.owed) AS weight, m.measure,
           any_value(CASE m.measure WHEN 'e' THEN ig.entitled ELSE ig.funded END) AS amount
    FROM lines l JOIN invoice_grower ig USING (buyer_id, invoice_id, grower_id)
    CROSS JOIN (VALUES ('e'), ('f')) m(measure)
    GROUP BY l.buyer_id, l.invoice_id, l.grower_id, l.period_start, m.measure
), t AS (
    SELECT *, sum(weight) OVER g AS sw, count(*) OVER g AS n FROM w
    WINDOW g AS (PARTITION BY buyer_id, invoice_id, grower_id, measure)
), b AS (
    SELECT *, CASE WHEN sw = 0 THEN 1 ELSE weight END AS ww, CASE WHEN sw = 0 THEN n ELSE sw END AS tot FROM t
), c AS (
    SELECT *, CAST(CAST(amount AS HUGEINT) * ww // tot AS BIGINT) AS base, CAST(amount AS HUGEINT) * ww % tot AS rem
    FROM b
)
SELECT buyer_id, invoice_id, grower_id, period_start, measure,
       base + CAST(row_number() OVER (PARTITION BY buyer_id, invoice_id, grower_id, measure
                                      ORDER BY rem DESC, period_start) <= amount - sum(base) OVER (
           PARTITION BY buyer_id, invoice_id, grower_id, measure) AS BIGINT) AS share
FROM c;

CREATE TABLE pools AS
SELECT s.grower_id, s.period_start, g.program_id,
       sum(share) FILTER (WHERE measure = 'e') AS entitled, sum(share) FILTER (WHERE measure = 'f') AS funded
FROM period_shares s JOIN parties g ON g.party_id = s.grower_id GROUP BY ALL;

-- §6 basis and the split of each pool to its eligible workers
CREATE TABLE basis AS
SELECT r.grower_id, r.worker_id, r.period_start,
       CASE pr.allocation_basis WHEN 'units' THEN CAST(sum(r.units) * 1000 AS BIGINT)
            WHEN 'hours' THEN CAST(sum(r.hours) * 1000 AS BIGINT) WHEN 'gross_wages' THEN sum(r.wages)
            ELSE CAST(sum(r.hours) > 0 OR sum(r.units) > 0 AS BIGINT) END AS weight
FROM payroll r JOIN parties g ON g.party_id = r.grower_id JOIN programs pr ON pr.program_id = g.program_id
GROUP BY r.grower_id, r.worker_id, r.period_start, pr.allocation_basis;

CREATE TABLE shares AS
WITH w AS (
    SELECT p.grower_id, p.period_start, b.worker_id, b.weight, p.entitled, p.funded,
           sum(b.weight) OVER g AS sw
    FROM pools p JOIN basis b USING (grower_id, period_start)
    WHERE b.weight > 0
    WINDOW g AS (PARTITION BY p.grower_id, p.period_start)
), c AS (
    SELECT *, CAST(CAST(entitled AS HUGEINT) * weight // sw AS BIGINT) AS be, CAST(entitled AS HUGEINT) * weight % sw AS re,
              CAST(CAST(funded AS HUGEINT) * weight // sw AS BIGINT) AS bf, CAST(funded AS HUGEINT) * weight % sw AS rf
    FROM w
)
SELECT grower_id, period_start, worker_id,
       be + CAST(row_number() OVER (PARTITION BY grower_id, period_start ORDER BY re DESC, worker_id)
                 <= entitled - sum(be) OVER (PARTITION BY grower_id, period_start) AS BIGINT) AS entitled,
       bf + CAST(row_number() OVER (PARTITION BY grower_id, period_start ORDER BY rf DESC, worker_id)
                 <= funded - sum(bf) OVER (PARTITION BY grower_id, period_start) AS BIGINT) AS funded
FROM c;

-- §7 the worker audit
CREATE TABLE paid AS
SELECT grower_id, worker_id, premium_period_start AS period_start, sum(premium) AS paid FROM payroll GROUP BY ALL;

CREATE TABLE worker_audit AS
SELECT coalesce(s.grower_id, p.grower_id) AS grower_id, coalesce(s.period_start, p.period_start) AS period_start,
       coalesce(s.worker_id, p.worker_id) AS worker_id, coalesce(s.entitled, 0) AS entitled,
       coalesce(s.funded, 0) AS funded, coalesce(p.paid, 0) AS paid,
       CASE WHEN s.worker_id IS NULL THEN 'PAID_WITHOUT_WORK' WHEN coalesce(p.paid, 0) = s.funded THEN 'OK'
            WHEN coalesce(p.paid, 0) = 0 THEN 'UNPAID' WHEN p.paid < s.funded THEN 'UNDERPAID'
            ELSE 'OVERPAID' END AS status
FROM shares s FULL JOIN (SELECT * FROM paid WHERE paid > 0) p USING (grower_id, period_start, worker_id);
