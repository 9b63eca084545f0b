"""Report assets: a month's audit tables, published once the reconciliation checks pass."""


import dagster as dg

from pennytrail.publish import MONTHLY, check_month, publish
from pipelines.partitions import month_of, monthly
from pipelines.resources import WAREHOUSE_POOL, PennytrailResource

from .reconcile import reconciliation

OUTPUT_CHECKS = [f"contract_{t}" for t in MONTHLY]


@dg.asset(
    deps=[reconciliation], partitions_def=monthly, pool=WAREHOUSE_POOL, group_name="report", kinds={"duckdb"},
    check_specs=[dg.AssetCheckSpec(name, asset="monthly_audit") for name in OUTPUT_CHECKS],
)
def monthly_audit(context: dg.AssetExecutionContext, pennytrail: PennytrailResource):
    """The month's slice of `worker_audit`, `pool_audit`, `invoice_audit`, `pass_through_audit` and
    `exceptions` (SPEC.md §8), replaced in one transaction after the output contracts pass.

    A month that was signed off is not changed silently: every changed value is recorded in
    `restatements`, and the month needs a new sign-off.
    """
    month = month_of(context.partition_key)
    with pennytrail.warehouse() as con:
        results = check_month(con, month)
        failed = [t for t, r in results.items() if not r.passed]
        if failed:
            raise dg.Failure(description=f"output contract failed for {', '.join(failed)} in {month}: nothing published",
                             metadata={t: str(results[t].metadata()) for t in failed})
        counts = publish(con, month)
        summary = con.execute("""
            SELECT (SELECT count(*) FROM exceptions WHERE month = $m),
                   (SELECT coalesce(sum(funded_cents), 0) FROM pool_audit WHERE month = $m),
                   (SELECT coalesce(sum(distributed_cents), 0) FROM pool_audit WHERE month = $m)""",
                              {"m": month}).fetchone()
    yield dg.MaterializeResult(metadata={
        "month": month, **{f"{t} rows": n for t, n in counts.items()},
        "exceptions": summary[0], "funded (cents)": summary[1], "distributed (cents)": summary[2],
    })
    for table, result in results.items():
        yield dg.AssetCheckResult(check_name=f"contract_{table}", passed=result.passed, metadata=result.metadata())
