"""Reconcile assets: the reconciliation of SPEC.md §4–§7, and the conservation checks of §9."""


import hashlib

import dagster as dg

from pennytrail import conservation, reconcile
from pennytrail.money import dollars
from pennytrail.warehouse import get_meta, set_meta
from pipelines.resources import WAREHOUSE_POOL, PennytrailResource

from .ingest import submissions

FINGERPRINT_SQL = """
SELECT (SELECT coalesce(max(seq), 0) || ':' || count(*) FROM ingest_log),
       (SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
           SELECT CAST(p AS VARCHAR) AS t FROM ref_programs p UNION ALL SELECT CAST(q AS VARCHAR) FROM ref_parties q
           UNION ALL SELECT CAST(r AS VARCHAR) FROM ref_rates r UNION ALL SELECT CAST(u AS VARCHAR) FROM ref_units u))
"""


def _fingerprint(con) -> str:
    inputs = "|".join(str(v) for v in con.execute(FINGERPRINT_SQL).fetchone())
    code = "|".join(sql for _, sql in reconcile.STAGES)
    return hashlib.sha256((inputs + code).encode()).hexdigest()


@dg.asset(deps=[submissions], pool=WAREHOUSE_POOL, group_name="reconcile", kinds={"duckdb"})
def reconciliation(context: dg.AssetExecutionContext, pennytrail: PennytrailResource) -> dg.MaterializeResult:
    """What was owed, paid, received, pooled and allocated to each worker, for every month (SPEC.md §4–§7).

    Rebuilt in one transaction when its inputs changed since the last run; otherwise kept as is.
    Publication waits on the conservation checks.
    """
    with pennytrail.warehouse() as con:
        fp = _fingerprint(con)
        unchanged = get_meta(con, "reconciliation_fingerprint") == fp
        if unchanged:
            context.log.info("inputs unchanged since the last reconciliation: kept")
        else:
            reconcile.run(con, progress=context.log.info)
            set_meta(con, "reconciliation_fingerprint", fp)
        totals = con.execute("""
            SELECT (SELECT coalesce(sum(owed_cents), 0) FROM w_invoice_audit),
                   (SELECT coalesce(sum(paid_by_buyer_cents), 0) FROM w_invoice_audit),
                   (SELECT coalesce(sum(received_cents), 0) FROM w_invoice_grower),
                   (SELECT coalesce(sum(funded_cents), 0) FROM w_pools),
                   (SELECT coalesce(sum(distributed_cents), 0) FROM w_pool_audit),
                   (SELECT count(*) FROM w_pools), (SELECT count(*) FROM w_worker_audit)""").fetchone()
        codes = dict(con.execute("SELECT code, count(*) FROM w_exceptions GROUP BY 1 ORDER BY 1").fetchall())
    return dg.MaterializeResult(metadata={
        "rebuilt": not unchanged, "owed": dollars(totals[0]), "paid by buyers": dollars(totals[1]),
        "received by growers": dollars(totals[2]), "funded to pools": dollars(totals[3]),
        "distributed to workers": dollars(totals[4]), "pools": totals[5], "worker audit rows": totals[6],
        "exceptions by code": codes,
    })


def _conservation_check(name: str) -> dg.AssetChecksDefinition:
    identity, _ = conservation.CHECKS[name]

    @dg.asset_check(asset=reconciliation, name=name, blocking=True, description=identity)
    def _check(pennytrail: PennytrailResource) -> dg.AssetCheckResult:
        with pennytrail.warehouse(read_only=True) as con:
            result = conservation.run_check(con, name)
        return dg.AssetCheckResult(passed=result.passed, description=str(result),
                                   metadata={"offenders": result.offenders, "first offenders": result.sample})

    return _check


conservation_checks = [_conservation_check(name) for name in conservation.CHECKS]
