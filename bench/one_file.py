"""One payroll CSV of about a million rows, ingested and validated in this (fresh) process.

    python bench/one_file.py DATA_DIR

``DATA_DIR`` holds ``reference/`` and one file under ``inbox/payroll/``. Prints JSON: the rows
read, the seconds of the ingest (read, row checks, load into a new warehouse, commit and the
closing checkpoint) and the seconds of the input contract (Great Expectations, import excluded).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data_contracts import gx  # noqa: E402
from pennytrail.core.ingest import ingest, write_reference  # noqa: E402
from pennytrail.core.reference import load_reference  # noqa: E402
from pennytrail.core.warehouse import connect  # noqa: E402


def main() -> None:
    data = Path(sys.argv[1])
    home = Path(tempfile.mkdtemp(prefix="pennytrail-one-file-"))
    tables = []
    try:
        ref = load_reference(data)
        start = time.perf_counter()
        with connect(home / "pennytrail.duckdb") as con:
            write_reference(con, ref)
            summary = ingest(con, data, ref, progress=lambda m: None, on_raw=lambda kind, table: tables.append(table))
        ingest_s = time.perf_counter() - start
        gx.import_gx()
        start = time.perf_counter()
        result = gx.validate_input("payroll", tables, {pid: p[0] for pid, p in ref.parties.items()}, set(ref.units))
        contract_s = time.perf_counter() - start
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps({"rows": summary.rows_read, "accepted": summary.rows_accepted, "ingest_s": ingest_s,
                      "contract_s": contract_s, "contract_rows": result.rows}))


if __name__ == "__main__":
    main()
