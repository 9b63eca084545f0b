"""Workers' statements (docs/workers.md): every month's statement of one worker, as the worker's
page shows them; for the program's staff, one PDF of a grower's month with a page for each
worker, and the statement codes that lead to the worker's page. What a
statement says and its words are the core's (``pennytrail.core.worker_statement``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pennytrail.core import codes as codes_core
from pennytrail.core import homelock
from pennytrail.core.paths import party_folder
from pennytrail.core.warehouse import connect, transaction, utc_seconds
from pennytrail.core.worker_statement import Statement, grower_workers, worker_months, worker_statement
from reports.worker_statement import write_pdf

from . import snapshots
from .errors import UserError, need_month, need_warehouse
from .signoff import _writing


def of_worker(con: duckdb.DuckDBPyConnection, grower_id: str, worker_id: str) -> list[Statement]:
    """Every month's statement of one worker, oldest first: what the worker's page shows. The
    PDFs (``statements_pdf``) hold the same statements, a grower's month at a time."""
    found = (worker_statement(con, grower_id, worker_id, m) for m in worker_months(con, grower_id, worker_id))
    return [s for s in found if s is not None]


def _read(home: Path):
    need_warehouse(home)
    return connect(Path(home) / "pennytrail.duckdb", read_only=True)


def list_codes(home: Path, grower_id: str) -> list[tuple[str, str, str, str | None]]:
    """(worker_id, worker name, code as printed, language) of each working code of the grower."""
    with _read(home) as con:
        if con.execute("SELECT 1 FROM ref_parties WHERE party_id = ? AND party_type = 'grower'",
                       [grower_id]).fetchone() is None:
            raise UserError(f"no grower {grower_id!r} in the reference data")
        names = dict(con.execute("""
            SELECT worker_id, worker_name FROM payroll WHERE grower_id = ? AND worker_name IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY worker_id ORDER BY pay_date DESC, period_start DESC,
                                       file_seq DESC, row_number DESC) = 1""", [grower_id]).fetchall())
        return [(w, names.get(w) or "", codes_core.shown(c), lang) for w, c, lang in codes_core.of_grower(con, grower_id)]


def reissue_code(home: Path, grower_id: str, worker_id: str, by: str = "command line") -> str:
    """Replace a worker's code (a lost statement): the old one stops working at once in the
    warehouse and, as a new snapshot is published, on the portal. The new code, as printed."""
    with homelock.hold(Path(home)):
        need_warehouse(home)
        return _reissue(Path(home), grower_id, worker_id, by)


def _reissue(home: Path, grower_id: str, worker_id: str, by: str) -> str:
    con = _writing(Path(home), 30.0)
    try:
        with transaction(con):
            try:
                code = codes_core.reissue(con, grower_id, worker_id, by, "reissued: statement lost", utc_seconds())
            except LookupError as e:
                raise UserError(f"{e}: `pennytrail codes --home H --grower G` lists the codes") from None
        snapshots.publish(Path(home), con)
    finally:
        con.close()
    return codes_core.shown(code)


def statements_pdf(home: Path, grower_id: str, month: str, out: Path | None = None,
                   url: str = "http://127.0.0.1:8000") -> tuple[Path, int]:
    """One PDF of every worker's statement of the grower and month (``reports.worker_statement``);
    its path and the number of statements."""
    need_month(month)
    with _read(home) as con:
        if con.execute("SELECT 1 FROM ref_parties WHERE party_id = ? AND party_type = 'grower'",
                       [grower_id]).fetchone() is None:
            raise UserError(f"no grower {grower_id!r} in the reference data")
        workers = grower_workers(con, grower_id, month)
        if not workers:
            raise UserError(f"grower {grower_id} has no published worker audit for {month}: close the month first")
        found = [worker_statement(con, grower_id, w, month) for w in workers]
    # the grower's folder is named from a hash of its id: nothing from input becomes a path
    path = Path(out) if out else party_folder(Path(home) / "statements", grower_id) / f"statements-{month}.pdf"
    write_pdf([s for s in found if s is not None], path, url)
    return path, len(found)


def demo_sample(home: Path, url: str = "http://127.0.0.1:8000") -> tuple[Path, str, str, str] | None:
    """For the demo: the statements PDF of the grower and month with the most audited workers, and
    one worker's code to try the worker's page with (one told in Haitian Creole, when there is
    one): (PDF, grower, worker, code as printed); None before any close."""
    with _read(home) as con:
        top = con.execute("SELECT grower_id, month FROM worker_audit GROUP BY ALL "
                          "ORDER BY count(*) DESC, grower_id, month LIMIT 1").fetchone()
        if top is None:
            return None
        grower_id, month = top
        worker = con.execute("""
            SELECT c.worker_id, c.code FROM statement_codes c WHERE c.grower_id = ? AND c.revoked_at IS NULL
              AND c.worker_id IN (SELECT worker_id FROM worker_audit WHERE grower_id = ? AND month = ?)
            ORDER BY c.language = 'ht' DESC, c.worker_id LIMIT 1""", [grower_id, grower_id, month]).fetchone()
    if worker is None:
        return None
    path, _ = statements_pdf(home, grower_id, month, None, url)
    return path, grower_id, worker[0], codes_core.shown(worker[1])
