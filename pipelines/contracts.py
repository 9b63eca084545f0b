"""The data contract process of a close, as an object handed to whoever runs contracts.

Great Expectations takes seconds to import and judges in Python, so a close runs the contracts
in a second process (``data_contracts.gx.ContractProcess``), started when the close starts: GX
is imported there while the files are read. ``Contracts`` owns that process for one close (or
one Dagster run): the ingest sends each batch's input contract to it, and the output
contracts of the months to publish are started as soon as the reconciliation is built
(``start_output``), judged there while the conservation checks and the publication run start,
and collected by the publication (``output``), which takes them only when the working tables
are still the ones they were read from.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import duckdb

from data_contracts import gx

from pennytrail.core.changes import RECONCILIATION_KEY
from pennytrail.core.publish import MONTHLY, changed_months, columns
from pennytrail.core.warehouse import get_meta

CHECK_ROWS = 2_000_000


def _working_state(con: duckdb.DuckDBPyConnection, months: list[str]) -> tuple:
    """What the output contracts of ``months`` depend on: the warehouse and the reconciliation
    its working tables were built by (its fingerprint changes whenever they are rebuilt)."""
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    return str(Path(path).resolve()), get_meta(con, RECONCILIATION_KEY), tuple(months)


class Contracts:
    """The contract process of one close, started on first use, and the output contracts
    started ahead of publication. ``stop`` ends the process; a process that died is replaced
    on the next use."""

    def __init__(self, start: bool = True):
        self._process: gx.ContractProcess | None = None
        self._ahead: dict[tuple, tuple[list[str], dict[str, Future]]] = {}
        if start:
            self.process()

    def process(self) -> gx.ContractProcess:
        if self._process is None or not self._process.alive:
            self._process = gx.ContractProcess()
        return self._process

    def submit(self, fn, *args) -> Future:
        """Run ``fn(*args)`` (a function of ``data_contracts.gx``) in the contract process."""
        return self.process().submit(fn, *args)

    def stop(self) -> None:
        self._ahead.clear()
        if self._process is not None:
            self._process.stop()
            self._process = None

    def input_contracts(self, parties: dict[str, str], units: set[str]) -> gx.InputContracts:
        return gx.InputContracts(parties, units, submit=self.submit)

    def start_output(self, con: duckdb.DuckDBPyConnection, months: list[str]) -> list[str]:
        """Start the output contracts of those of ``months`` whose working slice differs from
        what is published: their tables are read here and judged in the contract process while
        this process goes on. The months started."""
        self._ahead.clear()
        todo = changed_months(con, months) if months else []
        self._ahead[_working_state(con, months)] = (todo, self._submit_output(con, todo) if todo else {})
        return todo

    def output(self, con: duckdb.DuckDBPyConnection, months: list[str]) -> tuple[list[str], dict, bool]:
        """The months of ``months`` to publish (changed since published) and their output
        contracts' results: those ``start_output`` started for these months and these working
        tables, or run now. The third value says whether they were started ahead."""
        ahead = self._ahead.pop(_working_state(con, months), None)
        self._ahead.clear()
        if ahead is None:
            todo = changed_months(con, months) if months else []
            ahead = (todo, self._submit_output(con, todo) if todo else {})
            started = False
        else:
            started = True
        todo, futures = ahead
        return todo, {table: future.result() for table, future in futures.items()}, started

    def _submit_output(self, con: duckdb.DuckDBPyConnection, months: list[str]) -> dict[str, Future]:
        """Read what each table's output contract needs of the months and send it to be judged.

        Value-wise expectations read each column's distinct values over all the months at
        once; unique keys are checked over groups of months of at most about ``CHECK_ROWS``
        worker rows (a key includes its period, so it cannot repeat across months), which
        bounds memory."""
        sizes = dict(con.execute("SELECT month, count(*) FROM w_worker_audit WHERE list_contains(?, month) "
                                 "GROUP BY month", [months]).fetchall())
        groups: list[list[str]] = [[]]
        rows = 0
        for month in months:
            if groups[-1] and rows + sizes.get(month, 0) > CHECK_ROWS:
                groups.append([])
                rows = 0
            groups[-1].append(month)
            rows += sizes.get(month, 0)
        results = {}
        for table, (work, _) in MONTHLY.items():  # a table is judged in the contract process while the next is read
            source = f"(SELECT {', '.join(columns(table))} FROM {work} WHERE list_contains(?, month))"
            expectations = gx.output_expectations(table)
            sample = gx.read_table(con, source, [months], expectations,
                                   row_parts=[(source, [group]) for group in groups])
            results[table] = self.submit(gx.judge_table, table, sample, expectations)
        return results
