"""The reconciliation as the money's journey: one module per stage, each with its SQL in a
``.sql`` file beside it, read top-down.

``owed`` (§4: each purchase line priced) → ``handshake`` (§4a: the sellers' side of each line)
→ ``payments`` (§4: invoices, payments, pass-through) → ``pools`` (§4 retention, §5: amounts
per invoice and grower, split over work periods into pools) → ``allocation`` (§6: the split of
each pool over its workers) → ``worker_audit`` (§7: paid against the share, late, overdue) →
``findings`` (every exception) → ``lineage`` (the rows each published figure comes from).

Each statement is one SELECT creating one table, after the tables it reads; ``statements()``
lists them in order. Tables named ``t_*`` are read only by the statements after them; the
``w_*`` ones are the working tables ``publish`` copies from. All money is integer cents; every
division is integer arithmetic on exact quantities, and rounding is ``round_half_up_div``. The
few names an engine spells its own way are defined in ``dialect``. The SQL is never assembled:
what differs between a full rebuild and an incremental one is the content of the relations
``SCOPED`` names, which the runner (``reconcile.run``) creates before the statements that read
them.
"""

from __future__ import annotations

from . import allocation, findings, handshake, lineage, owed, payments, pools, worker_audit

STAGES = (owed, handshake, payments, pools, allocation, worker_audit, findings, lineage)

# The relations a partial rebuild sets, and their columns. ``scope_growers``: the growers whose
# payroll-based tables are recomputed (every grower with payroll rows on a full rebuild). The
# others are the rows of the last run's table kept for the growers out of scope (none on a full
# rebuild). They are first read by the statement of SCOPED_FROM.
SCOPED_FROM = "t_payroll"
SCOPE = "scope_growers"
KEPT: dict[str, tuple[str, dict[str, str]]] = {
    "kept_last_pay": ("w_last_pay", {"grower_id": "VARCHAR", "last_pay_date": "DATE"}),
    "kept_worker_audit": ("w_worker_audit", {
        "month": "VARCHAR", "program_id": "VARCHAR", "grower_id": "VARCHAR", "period_start": "DATE",
        "period_end": "DATE", "worker_id": "VARCHAR", "basis_value": "DECIMAL(18,3)", "entitled_cents": "BIGINT",
        "funded_cents": "BIGINT", "paid_cents": "BIGINT", "variance_cents": "BIGINT",
        "upstream_shortfall_cents": "BIGINT", "eligible": "BOOLEAN", "status": "VARCHAR", "late": "BOOLEAN",
        "due_date": "DATE"}),
}


def statements() -> list[tuple[str, str]]:
    """Every stage's (table, SELECT) in order: each reads only the warehouse's tables, the
    tables of the statements before it, and the relations of ``SCOPE`` and ``KEPT``."""
    return [s for stage in STAGES for s in stage.STATEMENTS]
