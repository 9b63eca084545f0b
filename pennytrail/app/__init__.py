"""The application layer: what every entry point does, called alike by the `pennytrail` command
(``pennytrail.cli``, which parses arguments and prints) and the web portal. It sits on the
framework-free domain rules (``pennytrail.core``) and drives Dagster (``pipelines.runner``, whose
assets call the core and never this layer, with the data contract process of a close,
``pipelines.contracts``) and the report writers (``reports/``); nothing here parses arguments or
prints. A close, a demo, a sign-off and a statement code's reissue hold the home
(``core.homelock``) while they write.

Every function takes the home folder (``home``: the warehouse ``HOME/pennytrail.duckdb``, the
Dagster runs, reports and keys) and opens the warehouse itself, read-only unless it writes. A
problem the user can act on is a ``UserError`` whose text is the one line to show.

Close and demo (``pennytrail.app.close``)
    ``close(data, home, months=None, progress) -> CloseResult`` (``months``, ``unchanged``,
    ``seconds``, ``snapshot``): ingest, reconcile, check and publish, then publish the snapshot
    the portal reads; nothing runs when nothing that decides a figure changed since the last
    completed close (``pennytrail.core.changes``). Either way it then issues, from the snapshot,
    every buyer's confirmation whose figures changed (``confirmations.issue_from_snapshot``); a
    sign-off and a revocation issue the month's.
    ``demo(home, seed=1, progress) -> DemoResult``: generate the demo program, make the signing
    key (once), ``close`` it, write every month's reports, make one portal user per role (once).
Summary, months and sign-off (``summary``, ``months``, ``close``)
    ``summary(home) -> Summary`` (``.text()`` is what `pennytrail summary` prints);
    ``list_months(home) -> list[Month]`` (every month with data, its state ``not closed`` /
    ``open`` / ``signed`` / ``needs re-sign-off``, a line saying why, and its counts);
    ``sign_off(home, month, by, seen_digest=None, wait=30) -> dict`` (the digest and the open
    exceptions recorded); ``revoke_sign_off(home, month, by, reason, wait=30) -> dict``.
Traces (``pennytrail.app.trace``)
    ``trace_worker(home, worker_id=None, name=None, grower=None, date_from=None, date_to=None)``,
    ``trace_grower(home, grower_id, month)``, ``trace_invoice(home, buyer, invoice)``, each a
    ``Trace`` (``subject``, ``notes``, ``tables``: ``pennytrail.core.tables.Table``, main table
    first); the portal's, over the connection to its snapshot: ``worker_periods(con, who, how,
    names)``, ``grower_month(con, grower_id, month)``, ``invoice(con, buyer, invoice_id)``.
Reports, confirmations and keys (``pennytrail.app.reports``, over ``core.confirmations``,
``core.keys`` and ``reports/``)
    ``close_workbook(home, month, out=None) -> (path, rows per sheet)``;
    ``confirm(home, buyer, month) -> core.confirmations.Issued`` (``pdf``, ``csv``, ``statement``,
    ``version``, ``new``); ``verify(statement, public_key=None, trust_list=None) -> (checks,
    notes)``; ``create_key(home)``, ``show_key(home)``, ``trust_key(public_key, trust_list)``;
    ``write_month_reports(data, home) -> months``.
Workers' statements (``pennytrail.app.statements``, ``complaints``)
    ``of_worker(con, grower, worker) -> [Statement]`` (every month's, for the worker's page);
    ``statements_pdf(home, grower, month, out=None, url) -> (path, count)``; ``list_codes(home,
    grower)``; ``reissue_code(home, grower, worker) -> code``; the worker's page's limit on wrong
    codes and complaints into the monitors' cases (``complaints``). What a statement says is the
    core's: ``core.worker_statement.worker_statement(con, grower, worker, month) -> Statement``
    and its words (``blocks``, ``totals``, ``complaint``).
Senders' calendar and reminders (``pennytrail.app.calendar``, ``reminders``)
    ``calendar(home, party_id=None) -> Calendar`` (``as_of``, ``items``: ``core.calendar.Item``,
    ``by_party()``, ``counts()``, ``text()``): what each sender owes from the published snapshot;
    ``remind(home, dry_run=False) -> RemindResult``: e-mail each sender its open items over
    SMTP (``settings(home)``: ``HOME/smtp.toml`` and ``PENNYTRAIL_SMTP_*``), each recorded.
Closes started from the portal (``pennytrail.app.close_runs``)
    ``start(home, data, by) -> Run`` (``AlreadyRunning`` while one runs), ``runs(home)``: the
    command `pennytrail close` in a process of its own, recorded in the portal's database.
The portal's own (``accounts``, ``browse``, ``casework``, ``portal_db``, ``snapshots``,
``signoff``, ``verification``)
    users, sessions and cases in the portal's database; the published snapshots of the
    warehouse the portal reads (a close and a sign-off publish one); what the portal shows.
Senders' own pages (``sender_files``, ``grower_view``), each function taking the sender's party id
    ``sender_files.sender_files(con, party, submissions) -> [SenderFile]`` (status, counts, the
    portal's receipt), ``file_detail(con, party, file_id, submissions) -> FileDetail | None`` (every
    row set aside, with the sender's row, column and message), ``rejected_csv(detail)``;
    ``grower_view.pools_by_month(con, grower)``, ``to_pay(con, grower)``, ``to_pay_csv(rows)``,
    ``to_pay_xlsx(rows, path, grower, name)``; ``write_payables(home, grower, out=None)`` (what
    `pennytrail payables` prints or writes, from the published snapshot).
"""

from .close import CloseResult, DemoResult, close, demo, revoke_sign_off, sign_off
from .errors import UserError, is_month, need_month, need_warehouse
from .months import list_months
from .reports import close_workbook, confirm, create_key, show_key, trust_key, verify, write_month_reports
from .snapshots import parties as snapshot_parties
from .summary import MonthState, Summary, summary
from .trace import Trace, trace_grower, trace_invoice, trace_worker

__all__ = [
    "CloseResult", "DemoResult", "MonthState", "Summary", "Trace", "UserError", "close", "close_workbook", "confirm",
    "create_key", "demo", "is_month", "list_months", "need_month", "need_warehouse", "revoke_sign_off", "show_key",
    "sign_off", "snapshot_parties", "summary", "trace_grower", "trace_invoice", "trace_worker", "trust_key", "verify",
    "write_month_reports",
]
