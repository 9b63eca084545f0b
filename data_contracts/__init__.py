"""The data contracts: one YAML file per input kind and per output table.

The YAML files are the single source for three things: the row checks that decide quarantine
(``pennytrail.core.validate``), the Great Expectations suites run on every file and table
(``data_contracts.gx``) and the warehouse DDL of the output tables (``pennytrail.core.warehouse``).
A program officer reviews the YAML; the code reads it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

HERE = Path(__file__).parent
INPUT_KINDS = ("purchases", "payments", "payroll", "sales")
OUTPUT_TABLES = (
    "worker_audit", "pool_audit", "invoice_audit", "pass_through_audit", "volume_handshake", "exceptions",
    "invoice_grower_audit", "invoice_line_audit", "payment_audit",
    "pool_invoice_audit", "pool_source_audit",
    "quarantine", "ingest_log", "signoffs", "restatements",
)


@cache
def load(name: str) -> dict:
    """The contract named ``name`` (an input kind or an output table), as a dict."""
    path = HERE / f"{name}.yaml"
    if not path.exists():
        raise KeyError(f"no data contract named {name!r} in {HERE}")
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def required_columns(kind: str) -> list[str]:
    """Columns a submission's header must have."""
    return [c for c, spec in load(kind)["columns"].items() if not spec.get("optional_column")]

