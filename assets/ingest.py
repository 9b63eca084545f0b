"""Ingest assets: the reference data, and every new submission file."""


import dagster as dg

import data_contracts
from data_contracts import gx
from pennytrail.core.ingest import ingest, write_reference
from pennytrail.core.reference import ReferenceDataError, load_reference
from pipelines.contracts import Contracts
from pipelines.resources import WAREHOUSE_POOL, PennytrailResource

INPUT_CHECKS = [f"contract_{kind}" for kind in data_contracts.INPUT_KINDS]
LOG_CHECKS = ["contract_quarantine", "contract_ingest_log"]


def _reference(pennytrail: PennytrailResource):
    try:
        return load_reference(pennytrail.data)
    except ReferenceDataError as e:
        raise dg.Failure(description=str(e), metadata={"problems": [str(p) for p in e.problems[:50]]}) from None


@dg.asset(pool=WAREHOUSE_POOL, group_name="ingest", kinds={"duckdb"})
def reference_data(pennytrail: PennytrailResource) -> dg.MaterializeResult:
    """Programs, parties, rates and units from `<data>/reference/`, checked whole (docs/rules.md, "Reference data").

    A file that contradicts itself stops the close with a message naming file, row and field.
    """
    ref = _reference(pennytrail)
    with pennytrail.warehouse() as con:
        write_reference(con, ref)
    return dg.MaterializeResult(metadata={
        "programs": len(ref.programs), "parties": len(ref.parties), "rates": len(ref.rates), "units": len(ref.units),
    })


@dg.asset(
    deps=[reference_data], pool=WAREHOUSE_POOL, group_name="ingest", kinds={"duckdb", "great_expectations"},
    check_specs=[dg.AssetCheckSpec(name, asset="submissions") for name in INPUT_CHECKS + LOG_CHECKS],
)
def submissions(context: dg.AssetExecutionContext, pennytrail: PennytrailResource,
                contracts: dg.ResourceParam[Contracts]):
    """Every new file under `<data>/inbox/<kind>/`, exactly once: rows accepted or quarantined (docs/rules.md, "Row outcomes").

    The input data contracts run with Great Expectations over the files new in this run; a
    failing contract means rows were quarantined, which the quarantine table explains row by row.
    """
    ref = _reference(pennytrail)
    inputs = contracts.input_contracts({pid: p[0] for pid, p in ref.parties.items()}, set(ref.units))
    with pennytrail.warehouse() as con:
        summary = ingest(con, pennytrail.data, ref, progress=context.log.info, on_raw=inputs.add)
        # the last input batches and the log tables' contracts are judged while this step finishes
        inputs.send()
        checked = {} if not summary.new_files else {
            t: contracts.submit(gx.validate_output, t, con.execute(f"SELECT * EXCLUDE ({', '.join(x)}) FROM {t}").df())
            for t, x in (("quarantine", ["sha256", "raw"]), ("ingest_log", ["message"]))}
    yield dg.MaterializeResult(metadata={
        "files seen": summary.files_seen, "files loaded": summary.files_loaded,
        "files duplicate": summary.files_duplicate, "files rejected": summary.files_rejected,
        "rows read": summary.rows_read, "rows accepted": summary.rows_accepted,
        "rows quarantined": summary.rows_quarantined, "quarantined by code": dict(sorted(summary.codes.items())),
    })
    if summary.new_files == 0:  # nothing new: the contracts ran when these files arrived
        for name in INPUT_CHECKS + LOG_CHECKS:
            yield dg.AssetCheckResult(check_name=name, passed=True, description="no new files since the last check")
        return
    for kind, result in inputs.results().items():
        yield dg.AssetCheckResult(check_name=f"contract_{kind}", passed=result.passed,
                                  severity=dg.AssetCheckSeverity.WARN, metadata=result.metadata())
    for table, future in checked.items():
        result = future.result()
        yield dg.AssetCheckResult(check_name=f"contract_{table}", passed=result.passed, metadata=result.metadata())
