-- What is owed (docs/rules.md: What is owed, paid and received; SPEC §4), line by line, and the
-- work period of each line (§5). Reads: purchases, ref_parties, ref_programs, ref_rates, ref_units.

-- table: w_lines
-- §4: owed per purchase line. The line's grower gives its program; the program and the line's
-- commodity give the rate in force on the ship date; the units give the factors. owed is
-- qty_in_rate_unit × rate in cents, as one exact quotient rounded half up (``owed_cents``, in
-- stages/dialect.py, by which the sellers' lines are priced too).
-- The work period (§5) is that of the harvest date, or of the ship date where none is given.
SELECT p.buyer_id, p.invoice_id, p.line_no, p.ship_date, p.harvest_date, p.seller_id, p.grower_id,
       p.commodity, p.quantity, p.unit, p.premium_billed_cents, p.file, p.sheet, p.row_number,
       g.program_id, r.rate, r.rate_unit,
       owed_cents(p.quantity, fu.factor, r.rate, fr.factor) AS owed_cents,
       period_of(coalesce(p.harvest_date, p.ship_date), pr.period_anchor, pr.period_days) AS work_period_start
FROM purchases p
LEFT JOIN ref_parties g ON g.party_id = p.grower_id
LEFT JOIN ref_programs pr ON pr.program_id = g.program_id
LEFT JOIN ref_rates r ON r.program_id = g.program_id AND r.commodity = p.commodity
     AND p.ship_date BETWEEN r.effective_from AND coalesce(r.effective_to, DATE '9999-12-31')
LEFT JOIN ref_units fu ON fu.unit = p.unit
LEFT JOIN ref_units fr ON fr.unit = r.rate_unit AND fr.base_unit = fu.base_unit;
