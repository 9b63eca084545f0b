"""The reports a person takes away: a month's close workbook, a buyer's confirmation (and its
verification), and every closed month's reports at once through the Dagster job."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..core.warehouse import connect
from .errors import UserError, need_month


def close_workbook(home: Path, month: str, out: Path | None = None,
                   progress: Callable[[str], None] = lambda _: None) -> tuple[Path, dict[str, int]]:
    """Write the month's close workbook (default HOME/reports/close-MONTH.xlsx); its path and the
    rows written per sheet."""
    from reports.close import close_report
    from reports.month import close_workbook_path

    need_month(month)
    out = out or close_workbook_path(home, month)
    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        try:
            return out, close_report(con, month, out, progress=progress)
        except LookupError as e:
            raise UserError(str(e)) from None


def confirm(home: Path, buyer: str, month: str):
    """Write the buyer's payment confirmation for the month (PDF, CSV and signed JSON statement)
    into HOME/confirmations/BUYER/; a ``reports.confirm.Confirmation`` naming the three files."""
    from reports.confirm import confirm as write_confirmation

    need_month(month)
    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        try:
            return write_confirmation(con, home, buyer, month)
        except LookupError as e:
            raise UserError(str(e)) from None


def verify(statement: Path, public_key: Path | None = None) -> list[tuple[str, bool, str]]:
    """Check a signed statement and the files it names: (what, passed, detail) for each."""
    from reports.confirm import VerifyError, verify as check

    try:
        return check(statement, public_key)
    except VerifyError as e:
        raise UserError(str(e)) from None


def write_month_reports(data: Path, home: Path, progress: Callable[[str], None] = lambda _: None) -> list[str]:
    """Run the ``reports_for_month`` job over every published month (one run, recorded in
    HOME/dagster): each month's close workbook and every buyer's confirmation. The months."""
    from pipelines.partitions import partition_of
    from pipelines.runner import CloseFailed, prepare_home, run_job

    from .summary import months

    done = [m.month for m in months(home)]
    if done:
        progress(f"reports {', '.join(done)} …")
        prepare_home(data, home)
        try:
            run_job("reports_for_month", partition_range=(partition_of(done[0]), partition_of(done[-1])))
        except CloseFailed as e:
            raise UserError(f"the reports were not written: {e}") from None
    return done
