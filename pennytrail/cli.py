"""The `pennytrail` command: it parses arguments, calls the application layer (``pennytrail.app``)
and prints.

Every failure of every command is one line on stderr and a non-zero exit, made in one place
(``main``): errors the user can act on say what to do, and anything else (a full disk, a
read-only home, a damaged warehouse, a bug) is described in one line too, with its details
(traceback, the failed step's stack) appended to ``HOME/logs/pennytrail.log``. ``main`` also
holds the home for the commands that write it (``HOME_ACCESS``), so a second close says whose
close is running, and a command that reads the warehouse says to wait instead of failing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import logging
import os
import re
import sys
import tempfile
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from . import app
from .core import homelock
from .core.homelock import Busy
from .core.money import dollars
from .core.private import FILE_MODE, make_dir, owner_only
from .core.warehouse import NotWritten

EXAMPLES = {
    "generate": "pennytrail generate --out .pennytrail/data --seed 7 --scale demo",
    "close": "pennytrail close --data .pennytrail/data --home .pennytrail --month 2026-02",
    "demo": "pennytrail demo --home .pennytrail",
    "summary": "pennytrail summary --home .pennytrail",
    "signoff": "pennytrail signoff --home .pennytrail --month 2026-02 --by 'A. Accountant'",
    "report": "pennytrail report close --home .pennytrail --month 2026-02",
    "trace": "pennytrail trace --home .pennytrail worker --name 'jose morales'",
    "confirm": "pennytrail confirm --home .pennytrail --buyer B01 --month 2026-02",
    "verify": "pennytrail verify statement.json --public-key program.pem",
    "serve": "pennytrail serve --home .pennytrail --port 8000",
    "users": "pennytrail users add --home .pennytrail --email ana@example.org --role monitor --password-stdin",
    "keys": "pennytrail keys show --home .pennytrail",
    "months": "pennytrail months --home .pennytrail",
    "preview": "pennytrail preview --data .pennytrail/data .pennytrail/data/inbox/payroll/T002/2026-01.csv",
    "mappings": "pennytrail mappings --data .pennytrail/data",
    "statements": "pennytrail statements --home .pennytrail --grower T001 --month 2026-02",
    "codes": "pennytrail codes --home .pennytrail --grower T001",
    "payables": "pennytrail payables --home .pennytrail --grower T001",
    "calendar": "pennytrail calendar --home .pennytrail --party B01",
    "remind": "pennytrail remind --home .pennytrail --dry-run",
}
UserError = app.UserError  # a problem the user can act on: one line; ``details`` go to the log


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_generate(args: argparse.Namespace) -> int:
    from .generator import generate  # late: a command loads only what it runs

    out = Path(args.out)
    start = time.perf_counter()
    key = generate(out, seed=args.seed, scale=args.scale, faults=not args.no_faults, progress=_log)
    print(f"generated {args.scale} program (seed {args.seed}) in {out} in {time.perf_counter() - start:.1f} s: "
          f"{key['payroll_rows']:,} payroll rows, {key['purchase_lines']:,} purchase lines, "
          f"{key['payment_lines']:,} payment lines, {key['workers']:,} workers; "
          f"answer key in {out / 'answer_key.json'}")
    return 0


def _closed(result, home: Path) -> None:
    if result.unchanged:
        _log(f"nothing new since the last close (files, reference data and rules unchanged): "
             f"checked in {result.seconds:.1f} s")
    else:
        _log(f"closed {len(result.months)} month(s) in {result.seconds:.1f} s")
    print(app.summary(home).text())


def cmd_close(args: argparse.Namespace) -> int:
    home = Path(args.home)
    _closed(app.close(Path(args.data), home, [args.month] if args.month else None, progress=_log,
                      engine=args.engine, spark_master=args.spark_master), home)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate the demo program if it is not there yet, close every month, print the summary."""
    home = Path(args.home)
    done = app.demo(home, args.seed, progress=_log)
    _closed(done.close, home)
    if done.close.unchanged:
        print("\nNothing new: every file was seen before and every table is unchanged.")
    print(f"\nreports: close workbooks for {', '.join(done.reported)} in {home / 'reports'}; "
          f"buyers' confirmations in {home / 'confirmations'}")
    if done.key_created:
        _log(f"created the signing key for confirmations (fingerprint {done.key_created})")
    from .app import statements  # late: a command loads only what it runs

    sample = statements.demo_sample(home)
    if sample is not None:
        pdf, grower, worker, code = sample
        print(f"\nworkers' statements of {grower} (each on pages of its own, to hand out with the paychecks): {pdf}")
        print(f"a worker's page: http://127.0.0.1:8000/s (after `make serve`), with the statement code of {worker}: "
              f"{code}")
    print("\nportal users (`make serve`, then http://127.0.0.1:8000/login):")
    for role, email, password, party in done.users:
        if password is None:
            print(f"  {role:<12} {email:<26} exists (new password: `pennytrail users password --home "
                  f"{home} --email {email} --password-stdin`)")
        else:
            print(f"  {role:<12} {email:<26} password {password}" + (f"  ({role} {party})" if party else ""))
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from .app.senders import preview  # late: a command loads only what it runs

    result = preview(Path(args.data), Path(args.file), rows=args.rows)
    if args.format == "json":
        import json

        print(json.dumps(result.as_dict(), indent=1, ensure_ascii=False, default=str))
    else:
        print(result.text())
    return 0


def cmd_mappings(args: argparse.Namespace) -> int:
    from .app.senders import mappings  # late: a command loads only what it runs

    result = mappings(Path(args.data))
    print(result.text())
    if not result.valid:
        raise UserError("a mapping profile is invalid (listed above): a close stops until it is corrected")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    print(app.summary(Path(args.home)).text())
    return 0


def cmd_signoff(args: argparse.Namespace) -> int:
    home = Path(args.home)
    if args.revoke:
        if args.reason is None:
            raise app.UserError("revoking a sign-off needs --reason TEXT")
        done = app.revoke_sign_off(home, args.month, args.by, args.reason)
        print(f"{args.month}: the sign-off by {done['signed_by']} of {done['signed_at']:%Y-%m-%d %H:%M} UTC is "
              f"revoked by {done['revoked_by']}: {done['reason']}. The month is open again.")
        print(done["confirmations"].text())
        return 0
    done = app.sign_off(home, args.month, args.by)
    print(f"{args.month} signed off by {done['signed_by']}; digest {done['digest']}")
    if done["open_exceptions"]:
        print(f"recorded with {done['open_exceptions']} open exception(s): "
              + "; ".join(f"{c} {n} ({dollars(a)})" for c, n, a in done["exceptions"]))
    else:
        print("recorded with no open exception")
    print(done["confirmations"].text())
    return 0


def cmd_months(args: argparse.Namespace) -> int:
    months = app.list_months(Path(args.home))
    if not months:
        print("no month has data yet: run `pennytrail close` first")
        return 0
    width = max(len(m.state) for m in months)
    for m in months:
        counts = (f"{m.invoices} invoices, {m.pools} pools, {m.exceptions} exceptions" if m.state != "not closed"
                  else "")
        print(f"{m.month}  {m.state.ljust(width)}  {m.detail}" + (f" ({counts})" if counts else ""))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    out, counts = app.close_workbook(Path(args.home), args.month, Path(args.out) if args.out else None, progress=_log)
    _log(f"wrote {sum(counts.values()):,} rows in {time.perf_counter() - start:.1f} s")
    print(out)
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    from reports import render  # late: the writers load openpyxl, only for a trace

    if not args.home:
        raise app.UserError("trace needs --home DIR, the home folder of the warehouse")
    home = Path(args.home)
    if args.what == "worker":
        found = app.trace_worker(home, args.worker_id, args.name, args.grower, args.date_from, args.date_to)
    elif args.what == "grower":
        found = app.trace_grower(home, args.grower_id, args.month)
    else:
        found = app.trace_invoice(home, args.buyer, args.invoice)
    if args.xlsx:
        render.to_xlsx(found.tables, Path(args.xlsx), found.notes)
        _log(f"case file written to {args.xlsx}")
    if args.format == "csv":
        sys.stdout.write(render.to_csv(found.tables[0]))
    elif args.format == "json":
        sys.stdout.write(render.to_json(found.subject, found.tables, found.notes))
    else:
        sys.stdout.write(render.to_text(found.tables, found.notes, limit=None if args.all else 50))
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    done = app.confirm(Path(args.home), args.buyer, args.month)
    _log(f"version {done.version} " + ("issued" if done.new else "already issued with these figures: unchanged"))
    for path in (done.pdf, done.csv, done.statement):
        print(path)
    return 0


def cmd_statements(args: argparse.Namespace) -> int:
    from .app import statements  # late: a command loads only what it runs

    path, count = statements.statements_pdf(Path(args.home), args.grower, args.month,
                                            Path(args.out) if args.out else None, args.url)
    _log(f"{count} worker statement{'s' if count != 1 else ''} of {args.grower} for {args.month}")
    print(path)
    return 0


def cmd_payables(args: argparse.Namespace) -> int:
    from .app import grower_view  # late: a command loads only what it runs

    written, count = grower_view.write_payables(Path(args.home), args.grower, Path(args.out) if args.out else None)
    _log(f"{count} worker period{'s' if count != 1 else ''} of {args.grower} to pay, from the published close")
    if isinstance(written, str):
        sys.stdout.write(written)
    else:
        print(written)
    return 0


def cmd_codes(args: argparse.Namespace) -> int:
    import csv

    from reports.render import csv_text  # late: the writers load openpyxl, only for a trace or codes

    from .app import statements  # late: a command loads only what it runs

    out = csv.writer(sys.stdout, lineterminator="\n")
    if args.reissue:
        code = statements.reissue_code(Path(args.home), args.grower, args.reissue)
        _log(f"a new statement code for {args.reissue} at {args.grower}: the old one no longer works")
        out.writerow(["worker_id", "code"])
        out.writerow([args.reissue, code])
        return 0
    out.writerow(["worker_id", "worker_name", "code", "language"])
    for row in statements.list_codes(Path(args.home), args.grower):
        out.writerow(["" if v is None else csv_text(v) for v in row])  # a name is never a formula
    return 0


def cmd_calendar(args: argparse.Namespace) -> int:
    from .app.calendar import calendar  # late: a command loads only what it runs

    print(calendar(Path(args.home), args.party).text())
    return 0


def cmd_remind(args: argparse.Namespace) -> int:
    from .app.reminders import remind  # late: a command loads only what it runs

    done = remind(Path(args.home), dry_run=args.dry_run)
    if done.note:
        _log(done.note)
    print(done.text())
    if done.failures:
        first = done.failures[0]
        raise UserError(f"{len(done.failures)} of {len(done.outcomes)} reminder(s) not sent "
                        f"(recorded; the next run tries again): {first.party_id}: {first.reply}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    checks, notes = app.verify(Path(args.file), Path(args.public_key) if args.public_key else None,
                               Path(args.trust_list) if args.trust_list else None)
    for c in checks:
        print(f"{'ok  ' if c.passed else 'FAIL'}  {c.part}: {c.detail}")
    for note in notes:
        print(f"note  {note}")
    failed = [c.part for c in checks if not c.passed]
    print(f"{args.file}: " + ("verified" if not failed else f"NOT verified ({', '.join(failed)})"))
    return 0 if not failed else 1


def cmd_serve(args: argparse.Namespace) -> int:
    from .web.app import Config  # late: the portal loads Starlette and Jinja2, only to serve
    from .web.server import serve  # late: the server loads uvicorn, only to serve

    home = Path(args.home)
    if not home.is_dir():
        raise app.UserError(f"no home folder {home}: run `pennytrail demo --home {home}` or a close first")
    config = Config(home, Path(args.data) if args.data else None, secure_cookies=args.secure_cookies,
                    idle_timeout=args.idle_minutes * 60)
    _log(f"portal on http://{args.host}:{args.port}/ over {home} (stop with Ctrl-C)")
    serve(config, args.host, args.port, args.forwarded_allow_ips, args.workers, args.header_timeout,
          args.max_connections_per_address, args.body_timeout)
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from .app import accounts  # late: a command loads only what it runs

    home = Path(args.home)
    try:
        if args.action == "add":
            if not args.password_stdin:
                raise app.UserError("give the password on standard input with --password-stdin "
                                "(so that it is not in the shell's history)")
            password = sys.stdin.readline().rstrip("\r\n")
            user = accounts.add_user(home, args.email, args.role, password, args.party,
                                     parties=app.snapshot_parties(home))
            print(f"added {user.email} ({user.role}{', party ' + user.party_id if user.party_id else ''})")
        elif args.action == "list":
            users = accounts.list_users(home)
            for u in users:
                print(f"{u.email:<32} {u.role:<12} {u.party_id or '-':<8} {'disabled' if u.disabled else 'active'}")
            if not users:
                print("no users yet: add one with `pennytrail users add`")
        elif args.action in ("disable", "enable"):
            user = accounts.set_disabled(home, args.email, args.action == "disable")
            print(f"{user.email} {'disabled: its sessions are ended' if user.disabled else 'enabled'}")
        else:  # password
            if not args.password_stdin:
                raise app.UserError("give the new password on standard input with --password-stdin")
            accounts.set_password(home, args.email, sys.stdin.readline().rstrip("\r\n"))
            print(f"password of {args.email.strip().lower()} set; its sessions are ended")
    except accounts.AccountError as e:
        raise app.UserError(str(e) + (f" ({e.option})" if e.option else "")) from None
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    if args.action in ("create", "show") and not args.home:
        raise app.UserError(f"keys {args.action} needs --home DIR")
    if args.action == "trust" and not args.public_key:
        raise app.UserError("keys trust needs --public-key FILE")
    if args.action == "create":
        info = app.create_key(Path(args.home))
        print(f"created the signing key {info.private} (readable by you only)")
        print(f"public key for readers: {info.public}")
        print(f"fingerprint {info.fingerprint}")
    elif args.action == "show":
        info = app.show_key(Path(args.home))
        print(f"public key {info.public}\nfingerprint {info.fingerprint}")
    else:
        target, added = app.trust_key(Path(args.public_key), Path(args.trust_list) if args.trust_list else None)
        print(f"trust list {target}: " + (f"added {', '.join(added)}" if added else "already trusted"))
    return 0

class OneLineParser(argparse.ArgumentParser):
    """Usage errors are one line too (and exit 2), pointing at the command's help."""

    def error(self, message: str) -> None:
        self.exit(2, f"pennytrail: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="pennytrail",
        description="Follows every cent of a price premium from buyers to workers' pay stubs.",
        epilog="Start with `make demo`, or: " + EXAMPLES["demo"],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=f"example: {EXAMPLES[name]}")
        p.set_defaults(func=func)
        return p

    p = add("generate", cmd_generate, "Generate a program's data, with faults and an answer key.")
    p.add_argument("--out", required=True, help="folder to write reference/, inbox/ and answer_key.json into")
    p.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same bytes (default 1)")
    p.add_argument("--scale", choices=["demo", "season", "national"], default="demo",
                   help="demo: a few hundred workers; season: ~1M payroll rows; national: ~10M (default demo)")
    p.add_argument("--no-faults", action="store_true", help="generate clean data: the audit must find nothing")

    p = add("close", cmd_close, "Ingest new files, reconcile, check conservation and publish month(s).")
    p.add_argument("--data", required=True, help="data folder holding reference/ and inbox/")
    p.add_argument("--home", required=True, help="folder for the warehouse (pennytrail.duckdb) and Dagster runs")
    p.add_argument("--month", help="YYYY-MM to publish (default: every month in the data)")
    p.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb",
                   help="where the reconciliation runs: duckdb, in the warehouse (default), or spark (docs/scale.md)")
    p.add_argument("--spark-master", help="the Spark master URL for --engine spark (default local[2])")

    p = add("demo", cmd_demo, "Generate the demo program (once) into HOME/data and close every month.")
    p.add_argument("--home", default=".pennytrail", help="home folder (default .pennytrail)")
    p.add_argument("--seed", type=int, default=1, help="seed of the demo data (default 1)")

    p = add("preview", cmd_preview, "Show what a close would make of one sender's file, through the profile that "
                                    "matches it; writes nothing.")
    p.add_argument("--data", required=True, help="data folder holding reference/ (and its mappings/) and inbox/")
    p.add_argument("file", help="the file, under DATA/inbox/<kind>/")
    p.add_argument("--format", choices=["text", "json"], default="text", help="text (default) or json, for tools")
    p.add_argument("--rows", type=int, default=10, help="how many first rows to show (default 10)")

    p = add("mappings", cmd_mappings, "List every mapping profile, whether it is valid, and the inbox files it reads.")
    p.add_argument("--data", required=True, help="data folder holding reference/mappings/ and inbox/")

    p = add("summary", cmd_summary, "Print what the warehouse holds: files, rows, pools, workers, exceptions.")
    p.add_argument("--home", required=True, help="home folder of the warehouse")

    p = add("signoff", cmd_signoff, "Sign off a closed month (recording its open exceptions), or revoke a sign-off.")
    p.add_argument("--home", required=True, help="home folder of the warehouse")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--by", required=True, help="name of the person signing (or revoking), as plain text")
    p.add_argument("--revoke", action="store_true", help="revoke the month's sign-off in force instead")
    p.add_argument("--reason", help="with --revoke: why the sign-off is revoked")

    p = add("months", cmd_months, "List every month with data and its state: not closed, open, signed, changed.")
    p.add_argument("--home", required=True, help="home folder of the warehouse")

    p = add("report", cmd_report, "Write a report of the warehouse; `report close` writes the month's close workbook.")
    p.add_argument("which", choices=["close"], help="close: the month's close workbook (Excel)")
    p.add_argument("--home", required=True, help="home folder of the warehouse")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--out", help="where to write the workbook (default HOME/reports/close-MONTH.xlsx)")

    p = add("statements", cmd_statements, "Write one PDF of a grower's workers' statements for a month, to hand out "
                                          "with the paychecks.")
    p.add_argument("--home", required=True, help="home folder of the warehouse")
    p.add_argument("--grower", required=True, help="the grower's party id")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--out", help="where to write the PDF (default HOME/statements/<grower folder>/statements-MONTH.pdf)")
    p.add_argument("--url", default="http://127.0.0.1:8000",
                   help="the portal's address, for each worker's QR code (default http://127.0.0.1:8000)")

    p = add("payables", cmd_payables, "List a grower's workers still to pay (unpaid, underpaid, overpaid or "
                                      "overdue), with the amount for each, as the grower's page shows them (CSV).")
    p.add_argument("--home", required=True, help="home folder of the warehouse")
    p.add_argument("--grower", required=True, help="the grower's party id")
    p.add_argument("--out", help="write to this file instead of printing (.xlsx: an Excel workbook; else CSV)")

    p = add("codes", cmd_codes, "List a grower's workers' statement codes (CSV), or reissue one worker's code.")
    p.add_argument("--home", required=True, help="home folder of the warehouse")
    p.add_argument("--grower", required=True, help="the grower's party id")
    p.add_argument("--reissue", metavar="WORKER", help="give this worker a new code (a lost statement); the old one "
                                                       "stops working")

    p = add("trace", cmd_trace, "Follow premium from a worker, a grower or an invoice to the source rows.")

    def trace_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
        # accepted before WHAT and after it: `trace --home H worker ID` and `trace worker ID --home H`
        d = (lambda v: v) if defaults else (lambda v: argparse.SUPPRESS)
        parser.add_argument("--home", default=d(None), help="home folder of the warehouse")
        parser.add_argument("--format", choices=["table", "csv", "json"], default=d("table"),
                            help="table (default, for reading), csv (the main table) or json (everything)")
        parser.add_argument("--xlsx", metavar="FILE", default=d(None),
                            help="also write every table to an Excel case file")
        parser.add_argument("--all", action="store_true", default=d(False),
                            help="table format: show every row (default: 50 per table)")

    trace_options(p, True)
    what = p.add_subparsers(dest="what", required=True, metavar="WHAT")
    w = what.add_parser("worker", help="a worker's pay periods: shares, pay, status, where the money stopped",
                        epilog="example: pennytrail trace --home .pennytrail worker D001-00003 --from 2026-01-01")
    w.add_argument("worker_id", nargs="?", help="payroll worker id (tried as a name if no worker has it and --name "
                                                "is not given)")
    w.add_argument("--name", help="worker's name, matched without regard to case, accents or spacing")
    w.add_argument("--grower", help="only at this grower")
    w.add_argument("--from", dest="date_from", help="first date YYYY-MM-DD (pay periods ending on or after)")
    w.add_argument("--to", dest="date_to", help="last date YYYY-MM-DD (pay periods starting on or before)")
    g = what.add_parser("grower", help="a grower's pools in a month, the invoices that fed them, its workers",
                        epilog="example: pennytrail trace --home .pennytrail grower T001 --month 2026-02")
    g.add_argument("grower_id")
    g.add_argument("--month", required=True, help="YYYY-MM")
    i = what.add_parser("invoice", help="an invoice's lines, payments, intermediaries, growers and pools fed",
                        epilog="example: pennytrail trace --home .pennytrail invoice B01 T001-260202")
    i.add_argument("buyer")
    i.add_argument("invoice")
    for sub_parser in (w, g, i):
        trace_options(sub_parser, False)

    p = add("confirm", cmd_confirm, "Issue a buyer's payment confirmation for a closed month: PDF, CSV and a "
                                    "signed JSON statement (a new version only when the figures changed).")
    p.add_argument("--home", required=True, help="home folder of the warehouse (the signing key is in HOME/keys)")
    p.add_argument("--buyer", required=True, help="buyer party id")
    p.add_argument("--month", required=True, help="YYYY-MM")

    p = add("calendar", cmd_calendar, "List what each sender owes (payroll, purchases, payments, sales), when it is "
                                      "due, and whether it was received, is not yet due or is late.")
    p.add_argument("--home", required=True, help="home folder (the calendar reads its published snapshot)")
    p.add_argument("--party", help="one sender's party id only")

    p = add("remind", cmd_remind, "E-mail each sender its missing or late reports, at most once per item per "
                                  "interval; SMTP settings from HOME/smtp.toml or PENNYTRAIL_SMTP_* variables.")
    p.add_argument("--home", required=True, help="home folder (the calendar, the senders' accounts and the record "
                                                 "of reminders sent)")
    p.add_argument("--dry-run", action="store_true", help="say what would be sent; send and record nothing")

    p = add("verify", cmd_verify, "Check a signed statement, and the PDF and CSV it names, against a key you trust.")
    p.add_argument("file", help="a confirmation-MONTH-vN.json statement")
    p.add_argument("--public-key", help="the program's PEM public key, from a source you trust")
    p.add_argument("--trust-list", help="a file of PEM public keys you trust (default: PENNYTRAIL_TRUST or "
                                        "~/.config/pennytrail/trusted-keys.pem)")

    p = add("keys", cmd_keys, "Create or show the home's signing key, or add a public key to your trust list.")
    p.add_argument("action", choices=["create", "show", "trust"],
                   help="create: make the signing key pair once; show: its fingerprint; trust: add --public-key "
                        "to your trust list")
    p.add_argument("--home", help="home folder (create, show)")
    p.add_argument("--public-key", help="trust: the PEM public key to trust")
    p.add_argument("--trust-list", help="trust: the trust list file (default as for verify)")

    p = add("serve", cmd_serve, "Run the web portal over a home: buyers, monitors, accountants and admins sign in.")
    p.add_argument("--home", required=True, help="home folder (the portal reads its published snapshot)")
    p.add_argument("--data", help="data folder of the program (optional; shown to accountants)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--secure-cookies", choices=["auto", "always", "never"], default="auto",
                   help="auto (default): cookies are Secure when the request came over https, directly or through "
                        "a trusted proxy's X-Forwarded-Proto; always: behind a TLS proxy that does not send it")
    p.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                   help="proxies whose X-Forwarded-For/-Proto are trusted (default 127.0.0.1)")
    p.add_argument("--idle-minutes", type=int, default=30, help="a session ends after this long idle (default 30)")
    p.add_argument("--workers", type=int, default=1, help="server processes (default 1); each reads the snapshot "
                                                           "and shares the portal's database")
    p.add_argument("--header-timeout", type=float, default=10.0,
                   help="seconds a client has to send a request's headers (default 10); a slower one is cut off")
    p.add_argument("--body-timeout", type=float, default=15.0,
                   help="seconds a request's body may stop arriving before the connection is cut (default 15)")
    p.add_argument("--max-connections-per-address", type=int, default=32,
                   help="connections at once from one client address (default 32; the proxies of "
                        "--forwarded-allow-ips are exempt)")

    p = add("users", cmd_users, "Manage portal users: add, list, disable, enable, set a password.")
    users = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    u = users.add_parser("add", help="add a user with a role", epilog=f"example: {EXAMPLES['users']}")
    u.add_argument("--home", required=True, help="home folder")
    u.add_argument("--email", required=True, help="the user's e-mail address (their sign-in name)")
    u.add_argument("--role", required=True, choices=["accountant", "monitor", "buyer", "grower", "intermediary",
                                                            "admin"])
    u.add_argument("--party", help="the party id of a buyer, grower or intermediary (their accounts only)")
    u.add_argument("--password-stdin", action="store_true", help="read the password (12 characters or more) from "
                                                                 "the first line of standard input")
    u = users.add_parser("list", help="list the users", epilog="example: pennytrail users list --home .pennytrail")
    u.add_argument("--home", required=True, help="home folder")
    for action, text in (("disable", "disable a user and end their sessions"), ("enable", "enable a user again")):
        u = users.add_parser(action, help=text,
                             epilog=f"example: pennytrail users {action} --home .pennytrail --email ana@example.org")
        u.add_argument("--home", required=True, help="home folder")
        u.add_argument("--email", required=True)
    u = users.add_parser("password", help="set a user's password (ends their sessions)",
                         epilog="example: pennytrail users password --home .pennytrail --email ana@example.org "
                                "--password-stdin")
    u.add_argument("--home", required=True, help="home folder")
    u.add_argument("--email", required=True)
    u.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    return parser


# How each command uses the home: the application layer holds it where a command writes (a
# close, the demo, a sign-off, a code's reissue: "app"); "none" ones do not touch the warehouse
# (the portal reads published snapshots, beside a running close); every other command with a
# --home reads the warehouse, and is told to wait while a close holds it.
HOME_ACCESS = {"close": "app", "demo": "app", "signoff": "app", "serve": "none", "users": "none",
               "calendar": "none", "remind": "none"}
LOG = Path("logs") / "pennytrail.log"


def _home(args: argparse.Namespace) -> Path:
    """Where a command's log goes: its home; the output folder of `generate`; else .pennytrail."""
    home = getattr(args, "home", None) or (getattr(args, "out", None) if args.command == "generate" else None)
    return Path(home or os.environ.get("PENNYTRAIL_HOME") or ".pennytrail")


@contextmanager
def _access(args: argparse.Namespace) -> Iterator[None]:
    home = getattr(args, "home", None)
    mode = HOME_ACCESS.get(args.command, "read")
    if home is None or mode in ("none", "app"):
        yield
    else:
        pid = homelock.running(Path(home))
        if pid is not None:
            raise homelock.Busy(Path(home), pid or None)
        yield


def describe(e: BaseException, home: Path) -> str:
    """Any exception as one line that says what happened and what to do."""
    import duckdb

    text = (str(e).strip().splitlines() or [""])[0][:300]
    low = str(e).lower()
    if isinstance(e, homelock.Busy):
        return str(e)
    if isinstance(e, NotWritten):
        return f"the close's results are not in the warehouse file ({e}): free disk space and run the close again"
    if isinstance(e, (MemoryError, duckdb.OutOfMemoryException)):
        return f"out of memory ({type(e).__name__}: {text}); close other programs or lower PENNYTRAIL_DUCKDB_MEMORY"
    err = getattr(e, "errno", None)
    if err in (errno.ENOSPC, errno.EDQUOT) or "no space left" in low or "disk full" in low:
        return f"the disk is full ({text}): free space and run the command again"
    if err in (errno.EROFS, errno.EACCES, errno.EPERM) or "read-only file system" in low or "permission denied" in low:
        where = getattr(e, "filename", None) or home
        return f"cannot write {where}: {getattr(e, 'strerror', None) or text}; make the home writable or use another --home"
    if isinstance(e, duckdb.Error):
        if "could not set lock" in low or "conflicting lock" in low:
            pid = re.search(r"PID (\d+)", str(e))
            who = f" (pid {pid.group(1)})" if pid else ""
            return f"the warehouse in {home} is in use by another process{who}: wait for it to finish"
        if (isinstance(e, (duckdb.SerializationException, duckdb.InternalException, duckdb.FatalException))
                or any(w in low for w in ("not a valid duckdb", "corrupt", "checksum", "invalid database",
                                          "unable to open", "not a database"))):
            return (f"the warehouse {home / 'pennytrail.duckdb'} cannot be read ({text}): restore it from a backup, "
                    "or move it aside and close again to rebuild it from the inbox")
        return f"the warehouse failed ({type(e).__name__}: {text})"
    if isinstance(e, FileNotFoundError):
        return text
    return f"unexpected error ({type(e).__name__}: {text})"


def _write_log(home: Path, argv: list[str], line: str, details: str) -> Path | None:
    """Append the failure to the home's log (or, if the home cannot be written, the temporary
    folder's); the file written, or None."""
    entry = (f"--- {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')} pid {os.getpid()} "
             f"pennytrail {' '.join(argv)}\n{line}\n{details.rstrip()}\n")
    places = [home / LOG] if home.is_dir() else []  # a home that does not exist is not made for a log
    for path in places + [Path(tempfile.gettempdir()) / f"pennytrail-{os.getuid()}.log"]:
        try:
            make_dir(path.parent)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
            os.fchmod(fd, FILE_MODE)  # the log may name workers: its owner's only (core.private)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write(entry)
            return path
        except OSError:
            continue
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    home = _home(args)
    code, details = 1, ""
    try:
        with owner_only(), _access(args):  # what a command makes is its owner's only (core.private)
            return args.func(args)
    except UserError as e:
        line, details = str(e), e.details
    except KeyboardInterrupt:
        line, code = "interrupted", 130
    except (FileNotFoundError, Busy) as e:  # said in full by their one line
        line = describe(e, home)
    except Exception as e:  # noqa: BLE001 (every failure is one line; its traceback goes to the log)
        line, details = describe(e, home), traceback.format_exc()
    log = _write_log(home, argv, line, details)
    where = f" (details: {log})" if log is not None and details else ""
    print(f"pennytrail: {line}{where}", file=sys.stderr)
    return code


def run() -> None:
    """The ``pennytrail`` command: ``main``, then exit at once. By then every file, warehouse and
    Dagster run is written and closed, and the output is flushed here; tearing down the
    imported libraries (Dagster, pandas, Arrow) object by object would take most of a second
    and change nothing. An exception that escapes ``main`` exits the usual way, with its
    traceback."""
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
