"""The reports a person takes away: a month's close workbook, a buyer's confirmation (and its
verification), and every closed month's reports at once through the Dagster job."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from reports.confirmations import issue

from ..core import confirmations, keys
from ..core.exception_queue import queue_states
from ..core.private import of_home
from ..core.publish import published_months
from ..core.warehouse import connect
from .errors import UserError, need_month, need_warehouse


@of_home
def close_workbook(home: Path, month: str, out: Path | None = None,
                   progress: Callable[[str], None] = lambda _: None) -> tuple[Path, dict[str, int]]:
    """Write the month's close workbook (default HOME/reports/close-MONTH.xlsx); its path and the
    rows written per sheet."""
    from reports.close import close_workbook_path, write_close_workbook  # late: the workbook writer loads openpyxl

    need_month(month)
    need_warehouse(home)
    out = out or close_workbook_path(home, month)
    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        try:
            return out, write_close_workbook(con, month, out, progress=progress, queue=queue_states(home, month))
        except LookupError as e:
            raise UserError(str(e)) from None


@of_home
def confirm(home: Path, buyer: str, month: str):
    """Issue the buyer's payment confirmation for a closed month (PDF, CSV and signed JSON
    statement, a new version only when its figures changed) into the buyer's folder of
    HOME/confirmations; a ``confirmations.Issued`` naming the three files and its version."""
    need_month(month)
    need_warehouse(home)
    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        try:
            return issue(con, home, buyer, month)
        except (confirmations.NotConfirmable, keys.KeyProblem) as e:
            raise UserError(str(e).strip("'\"")) from None


def verify(statement: Path, public_key: Path | None = None, trust_list: Path | None = None) -> tuple[list, list[str]]:
    """Check a signed statement, and the PDF and CSV beside it that it names, against the key the
    reader chose (``public_key``, else the trust list): the checks (``part``, ``passed``,
    ``detail``) and notes (a later version supersedes it)."""
    if not statement.is_file():
        raise UserError(f"no statement file at {statement}")
    try:
        trusted = confirmations.trusted_keys(public_key, trust_list)
    except (keys.KeyProblem, OSError) as e:
        raise UserError(str(e)) from None
    return confirmations.verify_file(statement, trusted)


def create_key(home: Path):
    """Make the home's signing key pair once (``keys.create``); its ``KeyInfo``."""
    try:
        return keys.create(home)
    except (keys.KeyProblem, OSError) as e:
        raise UserError(str(e)) from None


def show_key(home: Path):
    """The home's public key and its fingerprint (``KeyInfo``)."""
    try:
        return keys.show(home)
    except (keys.KeyProblem, OSError) as e:
        raise UserError(str(e)) from None


def trust_key(public_key: Path, trust_list: Path | None = None) -> tuple[Path, list[str]]:
    """Add the keys of a PEM file to the reader's trust list: the list, and the fingerprints added."""
    try:
        return keys.trust(public_key, trust_list)
    except (keys.KeyProblem, OSError) as e:
        raise UserError(str(e)) from None


@of_home
def write_month_reports(data: Path, home: Path, progress: Callable[[str], None] = lambda _: None) -> list[str]:
    """Run the ``reports_for_month`` job over every published month (one run, recorded in the
    home's Dagster instance, over its partitions): each month's close workbook and every buyer's
    confirmation. The months."""
    from pipelines.partitions import partition_of, record_first_month  # late: Dagster takes seconds to import
    from pipelines.runner import CloseFailed, prepare_home, run_job  # late: Dagster takes seconds to import

    with connect(need_warehouse(home), read_only=True) as con:
        done = published_months(con)
    if done:
        progress(f"reports {', '.join(done)} …")
        prepare_home(data, home)  # the home's Dagster instance and partitions, as a close sets them
        record_first_month(home, done[0])
        try:
            run_job("reports_for_month", data, home, partition_range=(partition_of(done[0]), partition_of(done[-1])))
        except CloseFailed as e:
            raise UserError(f"the reports were not written: {e}", e.details) from None
    return done
