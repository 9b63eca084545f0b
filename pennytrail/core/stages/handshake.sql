-- The volume handshake (docs/rules.md: The volume handshake; SPEC §4a): the sellers' side of the
-- invoice lines, priced by the rule of §4, held against the buyers' lines.
-- Reads: sales, w_lines, ref_parties, ref_programs, ref_rates, ref_units.

-- table: w_sales_lines
-- §4a: the sellers' lines, with what each gives by the same rule as §4 (see owed.sql).
SELECT s.buyer_id, s.invoice_id, s.line_no, s.seller_id, s.ship_date, s.grower_id, s.commodity, s.quantity,
       s.unit, s.file, s.sheet, s.row_number, g.program_id, r.rate, r.rate_unit,
       owed_cents(s.quantity, fu.factor, r.rate, fr.factor) AS owed_cents
FROM sales s
LEFT JOIN ref_parties g ON g.party_id = s.grower_id
LEFT JOIN ref_programs pr ON pr.program_id = g.program_id
LEFT JOIN ref_rates r ON r.program_id = g.program_id AND r.commodity = s.commodity
     AND s.ship_date BETWEEN r.effective_from AND coalesce(r.effective_to, DATE '9999-12-31')
LEFT JOIN ref_units fu ON fu.unit = s.unit
LEFT JOIN ref_units fr ON fr.unit = r.rate_unit AND fr.base_unit = fu.base_unit;

-- table: w_volume_handshake
-- §4a: one row per line key either side reported. Both sides agree when seller, grower,
-- commodity and the quantity in the base unit (``base_quantity``, exact) are the same; a line
-- only the buyer reported is MISSING_SALE when its seller reported sales in the month of its
-- ship date.
WITH seller_months AS (
    SELECT DISTINCT seller_id, month_of(ship_date) AS month FROM w_sales_lines
), sides AS (
    SELECT coalesce(b.buyer_id, s.buyer_id) AS buyer_id, coalesce(b.invoice_id, s.invoice_id) AS invoice_id,
           coalesce(b.line_no, s.line_no) AS line_no,
           month_of(coalesce(b.ship_date, s.ship_date)) AS month,
           coalesce(b.seller_id, s.seller_id) AS seller_id,
           b.buyer_id IS NOT NULL AS buyer_reported, s.buyer_id IS NOT NULL AS seller_reported,
           b.quantity AS buyer_quantity, b.unit AS buyer_unit, s.quantity AS seller_quantity, s.unit AS seller_unit,
           b.owed_cents AS buyer_owed_cents, s.owed_cents AS seller_owed_cents,
           b.seller_id AS buyer_seller_id, s.seller_id AS seller_seller_id,
           b.grower_id AS buyer_grower_id, s.grower_id AS seller_grower_id,
           b.commodity AS buyer_commodity, s.commodity AS seller_commodity,
           b.ship_date AS buyer_ship_date, s.ship_date AS seller_ship_date,
           bu.base_unit AS buyer_base_unit, su.base_unit AS seller_base_unit,
           base_quantity(b.quantity, bu.factor) AS buyer_base_quantity,
           base_quantity(s.quantity, su.factor) AS seller_base_quantity,
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
       sp.party_type AS seller_type
FROM sides d
LEFT JOIN seller_months m ON m.seller_id = d.buyer_seller_id AND m.month = month_of(d.buyer_ship_date)
LEFT JOIN ref_parties sp ON sp.party_id = d.seller_id;
