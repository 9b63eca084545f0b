"""Report assets: a month's audit tables, published once the reconciliation checks pass, and its
reports. Both are partitioned by month, so they are made over the months a Definitions covers
(``report_assets``)."""


import warnings

import dagster as dg

from pennytrail.core import codes
from pennytrail.core.money import dollars
from pennytrail.core.publish import MONTHLY, month_status, publish_months
from pennytrail.core.warehouse import utc_seconds
from pipelines.contracts import Contracts
from pipelines.partitions import month_of
from pipelines.resources import WAREHOUSE_POOL, PennytrailResource

from .reconcile import reconciliation

OUTPUT_CHECKS = [f"contract_{t}" for t in MONTHLY]

# A close of several months publishes them in one run (a single-run backfill policy), which
# Dagster marks as beta; the warning would print on every close, for nothing the user can do.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)


def monthly_audit(context: dg.AssetExecutionContext, pennytrail: PennytrailResource,
                  contracts: dg.ResourceParam[Contracts]):
    """Each month's slice of `worker_audit`, `pool_audit`, `invoice_audit`, `pass_through_audit` and
    `exceptions` (docs/rules.md, "Output tables"), replaced in one transaction after the output contracts pass.

    A run may cover a range of months (one run for a whole close). A month whose rows have not
    changed since it was published is kept as it is (and its contracts not run again). A month
    that was signed off is not changed silently: every changed value is recorded in
    `restatements`, and the month needs a new sign-off.
    """
    months = [month_of(k) for k in context.partition_keys]
    with pennytrail.warehouse() as con:
        todo, results, ahead = contracts.output(con, months)
        kept = [m for m in months if m not in todo]
        if kept:
            context.log.info(f"unchanged since published: {', '.join(kept)}")
        if todo:
            context.log.info("output contracts: " + ("started ahead, when the reconciliation was built" if ahead else
                                                     "judged now (none were started ahead for these tables)"))
        failed = [t for t, r in results.items() if not r.passed]
        if failed:
            raise dg.Failure(description=f"output contract failed for {', '.join(failed)} in "
                                         f"{', '.join(todo)}: nothing published",
                             metadata={t: str(results[t].metadata()) for t in failed})
        counts = publish_months(con, todo) if todo else {}
        issued = codes.issue_after_close(con, utc_seconds())  # every worker of the audit has a statement code
        totals = con.execute("""
            SELECT (SELECT coalesce(sum(owed_cents), 0) FROM invoice_audit WHERE list_contains($m, month)),
                   (SELECT coalesce(sum(paid_by_buyer_cents), 0) FROM invoice_audit WHERE list_contains($m, month)),
                   (SELECT coalesce(sum(funded_cents), 0) FROM pool_audit WHERE list_contains($m, month)),
                   (SELECT coalesce(sum(distributed_cents), 0) FROM pool_audit WHERE list_contains($m, month)),
                   (SELECT coalesce(sum(undistributed_cents), 0) FROM pool_audit WHERE list_contains($m, month))""",
                             {"m": months}).fetchone()
        by_code = dict(con.execute("SELECT code, count(*) FROM exceptions WHERE list_contains(?, month) "
                                 "GROUP BY 1 ORDER BY 1", [months]).fetchall())
        status = {m: month_status(con, m) for m in months}
    written = {t: sum(c[t] for c in counts.values()) for t in [*MONTHLY, "restatements"]}
    yield dg.MaterializeResult(metadata={
        "months": ", ".join(months), "published": ", ".join(todo) or "none (all unchanged)",
        "sign-off": ", ".join(f"{m} {s}" for m, s in status.items()),
        **{f"{t} rows written": n for t, n in written.items()},
        "owed by buyers": dollars(totals[0]), "paid by buyers": dollars(totals[1]),
        "funded to pools": dollars(totals[2]),
        "distributed to workers": dollars(totals[3]), "undistributed": dollars(totals[4]),
        "exceptions by code": by_code,
        "statement codes issued": issued,
        "output contracts passed": f"{sum(r.passed for r in results.values())} of {len(results)}" if results
        else "not run: nothing changed",
        "output contracts started ahead": "yes" if ahead and results else "no",
    })
    for table in MONTHLY:
        if table in results:
            yield dg.AssetCheckResult(check_name=f"contract_{table}", passed=results[table].passed,
                                      metadata=results[table].metadata())
        else:
            yield dg.AssetCheckResult(check_name=f"contract_{table}", passed=True,
                                      description="checked when published; nothing changed since")


def month_reports(context: dg.AssetExecutionContext, pennytrail: PennytrailResource) -> dg.MaterializeResult:
    """The month's close workbook for accountants (`HOME/reports/close-MONTH.xlsx`) and a payment
    confirmation for every buyer with an invoice or a payment in the month (`HOME/confirmations/`,
    one folder per buyer: PDF, CSV and an Ed25519-signed JSON statement, with no worker's personal
    data), issued again only when its figures changed."""
    from reports.month import write_month_reports  # late: the writers load openpyxl and fpdf

    months = [month_of(k) for k in context.partition_keys]
    with pennytrail.warehouse(read_only=True) as con:
        done = {m: write_month_reports(con, pennytrail.home, m) for m in months}
    return dg.MaterializeResult(metadata={
        "months": ", ".join(months),
        "close workbooks": "; ".join(str(d.workbook) for d in done.values()),
        "rows written": sum(sum(d.rows.values()) for d in done.values()),
        "buyers confirmed": "; ".join(f"{m}: {_issued(d.confirmations)}" for m, d in done.items()),
    })


def _issued(issued: dict) -> str:
    return ", ".join(f"{b} v{c.version}" + ("" if c.new else " (unchanged)") for b, c in issued.items()) or "none"


def report_assets(monthly: dg.PartitionsDefinition) -> tuple[dg.AssetsDefinition, dg.AssetsDefinition]:
    """The ``monthly_audit`` and ``month_reports`` assets over the months ``monthly``."""
    audit = dg.asset(
        deps=[reconciliation], partitions_def=monthly, pool=WAREHOUSE_POOL, group_name="report", kinds={"duckdb"},
        check_specs=[dg.AssetCheckSpec(name, asset="monthly_audit") for name in OUTPUT_CHECKS],
        backfill_policy=dg.BackfillPolicy.single_run(),
    )(monthly_audit)
    reports = dg.asset(deps=[audit], partitions_def=monthly, pool=WAREHOUSE_POOL, group_name="report",
                       kinds={"excel", "pdf"}, backfill_policy=dg.BackfillPolicy.single_run())(month_reports)
    return audit, reports
