"""The application layer: what every entry point does, called alike by the `pennytrail` command
(``pennytrail.cli``, which parses arguments and prints), the Dagster assets and sensor
(``assets/``, ``pipelines/``) and the web portal. It sits on the framework-free domain rules
(``pennytrail.core``) and drives Dagster (``pipelines.runner``) and the report writers
(``reports/``); nothing here parses arguments or prints.

Every function takes the home folder (``home``: the warehouse ``HOME/pennytrail.duckdb``, the
Dagster runs, reports and keys) and opens the warehouse itself, read-only unless it writes. A
problem the user can act on is a ``UserError`` whose text is the one line to show.

Close and demo (``pennytrail.app.close``)
    ``close(data, home, months=None, progress) -> CloseResult`` (``months``, ``unchanged``,
    ``seconds``): ingest, reconcile, check and publish; nothing runs when nothing that decides a
    figure changed since the last completed close (``pennytrail.app.changes``).
    ``demo(home, seed=1, progress) -> DemoResult``: generate the demo program, ``close`` it,
    write every month's reports.
Summary, months and sign-off (``pennytrail.app.summary``, ``pennytrail.app.close``)
    ``summary(home) -> Summary`` (``.text()`` is what `pennytrail summary` prints);
    ``months(home) -> list[MonthState]`` (each published month's pools, figures in cents,
    invoices, sign-off status ``open`` / ``signed`` / ``needs re-sign-off``, last signer);
    ``sign_off(home, month, by, seen_digest=None, wait=30) -> digest``.
Traces (``pennytrail.app.trace``)
    ``trace_worker(home, worker_id=None, name=None, grower=None, date_from=None, date_to=None)``,
    ``trace_grower(home, grower_id, month)``, ``trace_invoice(home, buyer, invoice)``, each a
    ``Trace`` (``subject``, ``notes``, ``tables``: ``reports.render.Table``, main table first).
Reports and confirmations (``pennytrail.app.reports``)
    ``close_workbook(home, month, out=None) -> (path, rows per sheet)``;
    ``confirm(home, buyer, month) -> Confirmation`` (``pdf``, ``csv``, ``statement``);
    ``verify(statement, public_key=None) -> [(what, passed, detail)]``;
    ``write_month_reports(data, home) -> months``.
Contracts (``pennytrail.app.contracts``)
    ``Contracts``: the data contract process of a close or a Dagster run, handed to the assets
    as the `contracts` resource.
The portal's own (``accounts``, ``browse``, ``casework``, ``portal_db``, ``snapshots``,
``signoff``, ``verification``)
    users, sessions and cases in the portal's database; the published snapshots of the
    warehouse the portal reads (a close and a sign-off publish one); what the portal shows.
"""

from .close import CloseResult, DemoResult, close, demo, sign_off
from .errors import UserError, is_month, need_month
from .reports import close_workbook, confirm, verify, write_month_reports
from .snapshots import buyers as snapshot_buyers
from .summary import MonthState, Summary, months, summary
from .trace import Trace, trace_grower, trace_invoice, trace_worker

__all__ = [
    "CloseResult", "DemoResult", "MonthState", "Summary", "Trace", "UserError", "close", "close_workbook", "confirm",
    "demo", "is_month", "months", "need_month", "sign_off", "snapshot_buyers", "summary", "trace_grower", "trace_invoice",
    "trace_worker", "verify", "write_month_reports",
]
