"""Conservation (docs/rules.md: Conservation): identities checked on every run; any failure stops publication.

Each check is a query that returns the offenders; an empty result is a pass. The first
offenders travel with the failure so the message can name the identity and the cents.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

CHECKS: dict[str, tuple[str, str]] = {
    "pool_shares_add_up": (
        "every pool with an eligible worker: the eligible workers' entitled and funded shares in the worker "
        "audit add up to the pool's",
        """
        SELECT p.grower_id, p.period_start, p.entitled_cents, sum(a.entitled_cents) AS entitled_shares,
               p.funded_cents, sum(a.funded_cents) AS funded_shares
        FROM w_pools p JOIN w_worker_audit a USING (grower_id, period_start)
        WHERE a.eligible
        GROUP BY ALL
        HAVING sum(a.entitled_cents) <> p.entitled_cents OR sum(a.funded_cents) <> p.funded_cents
        """),
    "received_reaches_pools": (
        "Σ over pools of (funded + retained) = Σ received(X, g) over growers g with lines on X",
        """
        SELECT pools, received, pools - received AS difference FROM (
            SELECT (SELECT coalesce(sum(funded_cents + retained_cents), 0) FROM w_pools) AS pools,
                   (SELECT coalesce(sum(received_cents), 0) FROM w_invoice_grower) AS received
        ) WHERE pools <> received
        """),
    "invoice_money_is_conserved": (
        "every invoice: paid by buyer + from unexpected payers = received by growers + held by "
        "intermediaries + paid to unexpected payees",
        """
        SELECT buyer_id, invoice_id, paid_in, received + held + unexpected_payees AS paid_out
        FROM (
            SELECT buyer_id, invoice_id,
                   sum(amount_cents) FILTER (WHERE payer_is_buyer OR payer_type <> 'intermediary') AS paid_in,
                   coalesce(sum(amount_cents) FILTER (WHERE payee_type = 'grower'), 0) AS received,
                   coalesce(sum(amount_cents) FILTER (WHERE payee_type = 'buyer'), 0) AS unexpected_payees
            FROM w_payments GROUP BY ALL
        ) JOIN (SELECT buyer_id, invoice_id, sum(held_cents) AS held FROM w_pass_through GROUP BY ALL
                UNION ALL
                SELECT DISTINCT buyer_id, invoice_id, 0 FROM w_payments p
                WHERE NOT EXISTS (SELECT 1 FROM w_pass_through t WHERE t.buyer_id = p.buyer_id
                                  AND t.invoice_id = p.invoice_id)) USING (buyer_id, invoice_id)
        WHERE coalesce(paid_in, 0) <> received + held + unexpected_payees
        """),
    "every_row_accounted_for": (
        "every file: rows read = rows accepted + rows quarantined + rows skipped",
        """
        SELECT l.file, l.rows_read, l.rows_accepted, l.rows_quarantined,
               (SELECT count(*) FROM quarantine q WHERE q.sha256 = l.sha256 AND q.row_number IS NOT NULL)
                   AS quarantined_rows_stored
        FROM ingest_log l
        WHERE l.rows_read <> l.rows_accepted + l.rows_quarantined + coalesce(l.rows_skipped, 0)
           OR (l.status = 'loaded' AND l.rows_quarantined <> quarantined_rows_stored)
        """),
    "reference_covers_every_row": (
        "every current row still meets the reference data it was checked against "
        "(a rate, convertible units, known parties)",
        """
        SELECT 'purchases' AS kind, file, row_number FROM w_lines WHERE owed_cents IS NULL OR work_period_start IS NULL
        UNION ALL
        SELECT 'payments', file, row_number FROM payments p
        WHERE NOT EXISTS (SELECT 1 FROM w_payments w WHERE w.payment_id = p.payment_id AND w.line_no = p.line_no)
        UNION ALL
        SELECT 'payroll', file, row_number FROM payroll r
        WHERE r.grower_id NOT IN (SELECT party_id FROM ref_parties WHERE party_type = 'grower')
        UNION ALL
        SELECT 'sales', file, row_number FROM w_sales_lines WHERE owed_cents IS NULL
        """),
    "handshake_covers_every_line": (
        "every accepted purchase line and every accepted sales line is in exactly one volume_handshake row",
        """
        WITH lines AS (
            SELECT 'purchases' AS kind, buyer_id, invoice_id, line_no, file, row_number FROM purchases
            UNION ALL
            SELECT 'sales', buyer_id, invoice_id, line_no, file, row_number FROM sales
        ), rows_per_line AS (
            SELECT l.kind, l.buyer_id, l.invoice_id, l.line_no, l.file, l.row_number, count(h.status) AS handshake_rows
            FROM lines l
            LEFT JOIN w_volume_handshake h ON h.buyer_id = l.buyer_id AND h.invoice_id = l.invoice_id
                 AND h.line_no = l.line_no
                 AND (CASE WHEN l.kind = 'purchases' THEN h.buyer_reported ELSE h.seller_reported END)
            GROUP BY ALL
        )
        SELECT * FROM rows_per_line WHERE handshake_rows <> 1
        UNION ALL
        SELECT 'handshake', buyer_id, invoice_id, line_no, NULL, NULL, 0 FROM w_volume_handshake h
        WHERE (h.buyer_reported AND NOT EXISTS (SELECT 1 FROM purchases p WHERE p.buyer_id = h.buyer_id
                                                AND p.invoice_id = h.invoice_id AND p.line_no = h.line_no))
           OR (h.seller_reported AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.buyer_id = h.buyer_id
                                                 AND s.invoice_id = h.invoice_id AND s.line_no = h.line_no))
        """),
}


@dataclass(frozen=True)
class CheckResult:
    name: str
    identity: str
    offenders: int
    sample: list[dict]

    @property
    def passed(self) -> bool:
        return self.offenders == 0

    def __str__(self) -> str:
        if self.passed:
            return f"{self.name}: passed"
        return f"{self.name} failed ({self.identity}): {self.offenders} offender(s), first: {self.sample[:3]}"


def run_check(con: duckdb.DuckDBPyConnection, name: str) -> CheckResult:
    identity, sql = CHECKS[name]
    rel = con.sql(sql)
    cols = rel.columns
    rows = rel.fetchall()
    sample = [dict(zip(cols, (str(v) for v in r))) for r in rows[:10]]
    return CheckResult(name, identity, len(rows), sample)


def run_all(con: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    return [run_check(con, name) for name in CHECKS]
