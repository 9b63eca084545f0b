"""The resource every asset uses: where the data is and where the warehouse lives."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from pennytrail.core.warehouse import connect

from .contracts import Contracts

# Every asset that writes the warehouse runs in this pool; the instance limits it to 1,
# because DuckDB allows one writing process.
WAREHOUSE_POOL = "warehouse"


class PennytrailResource(dg.ConfigurableResource):
    """``data_dir`` holds ``reference/`` and ``inbox/``; ``home_dir`` holds the warehouse and reports."""

    data_dir: str
    home_dir: str

    @property
    def data(self) -> Path:
        return Path(self.data_dir)

    @property
    def home(self) -> Path:
        return Path(self.home_dir)

    @property
    def warehouse_path(self) -> Path:
        return self.home / "pennytrail.duckdb"

    @contextmanager
    def warehouse(self, read_only: bool = False):
        with connect(self.warehouse_path, read_only=read_only) as con:
            yield con


@dg.resource(description="The data contract process of the run: Great Expectations judges the data contracts in a "
                         "second process while the run goes on. A close run from the command line hands its own.")
def contract_process(_context):
    contracts = Contracts()
    try:
        yield contracts
    finally:
        contracts.stop()
