"""Reconcile assets: the reconciliation (what was owed, paid, received, pooled and allocated), and the
conservation checks over it."""


import dagster as dg

from pennytrail.core import conservation, engines
from pennytrail.core.changes import RECONCILIATION_KEY, rebuilt_since, reconciliation_state
from pennytrail.core.money import dollars
from pennytrail.core.publish import months_available
from pennytrail.core.warehouse import get_meta
from pipelines.contracts import Contracts
from pipelines.partitions import months_of_run
from pipelines.resources import WAREHOUSE_POOL, PennytrailResource

from .ingest import submissions

class EngineConfig(dg.Config):
    """Where the reconciliation runs (docs/scale.md): DuckDB in the warehouse, or Apache Spark."""

    engine: str = "duckdb"
    spark_master: str = "local[2]"


@dg.asset(deps=[submissions], pool=WAREHOUSE_POOL, group_name="reconcile", kinds={"duckdb"})
def reconciliation(context: dg.AssetExecutionContext, config: EngineConfig, pennytrail: PennytrailResource,
                   contracts: dg.ResourceParam[Contracts]) -> dg.MaterializeResult:
    """What was owed, paid, received, pooled and allocated to each worker, for every month (docs/rules.md).

    Kept as is when nothing changed since the last run. When only files were added (same
    reference data, same rules), the worker audit is recomputed for the growers the new files
    touch and kept for the others; otherwise everything is rebuilt. Either way the new tables
    replace the old in one transaction. Publication waits on the conservation checks; the
    output contracts of the months the run will publish are started here, and judged in the
    contract process while the checks run. On Spark (``config.engine``) the rebuild is whole.
    """
    with pennytrail.warehouse() as con:
        basis, fp = reconciliation_state(con)
        last = get_meta(con, RECONCILIATION_KEY)
        unchanged = last == fp
        since = rebuilt_since(last, basis)
        if unchanged:
            context.log.info("inputs unchanged since the last reconciliation: kept")
        else:
            engines.reconcile_on(con, config.engine, config.spark_master, progress=context.log.info, since=since,
                                 meta={RECONCILIATION_KEY: fp}, exchange=pennytrail.home)
        months = months_of_run(context.run.tags, lambda: months_available(con))
        started = contracts.start_output(con, months)
        totals = con.execute("""
            SELECT (SELECT coalesce(sum(owed_cents), 0) FROM w_invoice_audit),
                   (SELECT coalesce(sum(paid_by_buyer_cents), 0) FROM w_invoice_audit),
                   (SELECT coalesce(sum(received_cents), 0) FROM w_invoice_grower),
                   (SELECT coalesce(sum(funded_cents), 0) FROM w_pools),
                   (SELECT coalesce(sum(distributed_cents), 0) FROM w_pool_audit),
                   (SELECT count(*) FROM w_pools), (SELECT count(*) FROM w_worker_audit)""").fetchone()
        codes = dict(con.execute("SELECT code, count(*) FROM w_exceptions GROUP BY 1 ORDER BY 1").fetchall())
        handshake = dict(con.execute("SELECT status, count(*) FROM w_volume_handshake GROUP BY 1 ORDER BY 1").fetchall())
        as_of, overdue = con.execute("SELECT (SELECT CAST(max(as_of_date) AS VARCHAR) FROM w_as_of), "
                                     "(SELECT count(*) FROM w_worker_audit WHERE overdue)").fetchone()
    return dg.MaterializeResult(metadata={
        "rebuilt": "no (unchanged)" if unchanged else "in part (files added)" if since is not None
        else "in full", "owed": dollars(totals[0]), "paid by buyers": dollars(totals[1]),
        "received by growers": dollars(totals[2]), "funded to pools": dollars(totals[3]),
        "distributed to workers": dollars(totals[4]), "pools": totals[5], "worker audit rows": totals[6],
        "exceptions by code": codes, "handshake by status": handshake, "as-of date": as_of or "none",
        "overdue worker rows": overdue,
        "output contracts started": ", ".join(started) or "none",
    })


@dg.multi_asset_check(
    name="conservation", pool=WAREHOUSE_POOL,
    specs=[dg.AssetCheckSpec(name, asset=reconciliation, blocking=True, description=identity)
           for name, (identity, _) in conservation.CHECKS.items()],
    description="The conservation identities (docs/rules.md, Conservation) over the reconciliation, in one read of the warehouse.",
)
def conservation_checks(pennytrail: PennytrailResource):
    """Each identity is a check of its own (a failure blocks publication); they run in one step."""
    with pennytrail.warehouse(read_only=True) as con:
        for result in conservation.run_all(con):
            yield dg.AssetCheckResult(asset_key=reconciliation.key, check_name=result.name, passed=result.passed,
                                      description=str(result),
                                      metadata={"offenders": result.offenders, "first offenders": result.sample})
