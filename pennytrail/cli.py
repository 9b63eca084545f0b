"""The `pennytrail` command: a thin layer over the library.

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
import json
import logging
import os
import re
import sys
import tempfile
import time
import traceback
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .core.money import dollars

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
    "keys": "pennytrail keys create --home .pennytrail",
    "months": "pennytrail months --home .pennytrail",
}
DEMO_USERS = [("accountant", None), ("monitor", None), ("buyer", "B01"), ("admin", None)]


class UserError(Exception):
    """A problem with the user's input or data, reported as one line; ``details`` go to the log."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_generate(args: argparse.Namespace) -> int:
    from .generator import generate

    out = Path(args.out)
    start = time.perf_counter()
    key = generate(out, seed=args.seed, scale=args.scale, faults=not args.no_faults, progress=_log)
    print(f"generated {args.scale} program (seed {args.seed}) in {out} in {time.perf_counter() - start:.1f} s: "
          f"{key['payroll_rows']:,} payroll rows, {key['purchase_lines']:,} purchase lines, "
          f"{key['payment_lines']:,} payment lines, {key['workers']:,} workers; "
          f"answer key in {out / 'answer_key.json'}")
    return 0


def cmd_close(args: argparse.Namespace) -> int:
    if args.month:
        _need_month(args.month)
    start = time.perf_counter()
    home = Path(args.home)
    done = close_if_changed(Path(args.data), home, [args.month] if args.month else None)
    if done is None:
        _log(f"nothing new since the last close (files, reference data and rules unchanged): "
             f"checked in {time.perf_counter() - start:.1f} s")
    else:
        _log(f"closed {len(done)} month(s) in {time.perf_counter() - start:.1f} s")
    print(summary_text(home))
    return 0


def close_if_changed(data: Path, home: Path, months: list[str] | None) -> list[str] | None:
    """Close ``months`` (all when None) unless nothing changed since the last completed close
    (then None: no Dagster run, and the warehouse is not opened for writing)."""
    from .core import state

    fingerprint = None
    if (data / "reference").is_dir():
        last = state.last_close(home)
        state.reuse_hashes(last)  # files unchanged since the last close are not read again
        fingerprint = state.fingerprint(data, months)
        if state.unchanged(last, fingerprint):
            from .app import snapshots

            if snapshots.current(home) is None:
                _publish(home)
            return None
    from data_contracts import gx

    gx.start()  # Great Expectations loads in its own process while Dagster starts here
    done, _ = _close_and_verify(data, home, months, fingerprint, stop=gx.stop)
    _publish(home)
    return done


CLOSE_TOKEN = "last_close_token"


def _close_and_verify(data: Path, home: Path, months: list[str] | None, fingerprint: str | None,
                      stop=lambda: None) -> tuple[list[str], str]:
    """Run the close on the held warehouse and record it; then check that the warehouse file
    itself holds the result (a token written last, no write-ahead log left): a close reports
    success only then. The months closed and the summary."""
    from pipelines.runner import CloseFailed, close

    from .core import state
    from .core.warehouse import connect, held, set_meta, verify_written

    db = home / "pennytrail.duckdb"
    token = uuid.uuid4().hex
    try:
        with held(db):  # written into the file once, when the close ends
            try:
                done = close(data, home, months, progress=_log)
            finally:
                stop()
            if fingerprint is not None:
                state.record(home, fingerprint)
            with connect(db) as con:
                set_meta(con, CLOSE_TOKEN, token)
            summary = summary_text(home)
    except CloseFailed as e:
        raise UserError(f"the close did not complete: {e}", e.details) from None
    verify_written(db, CLOSE_TOKEN, token)
    return done, summary


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate the demo program if it is not there yet, close every month, print the summary."""
    from pipelines.runner import CloseFailed

    from .generator import generate

    home = Path(args.home)
    data = home / "data"
    key_file = data / "answer_key.json"
    if key_file.exists() and json.loads(key_file.read_text(encoding="utf-8")).get("seed") == args.seed:
        _log(f"demo data already in {data} (seed {args.seed}): not generated again")
    else:
        generate(data, seed=args.seed, scale="demo", progress=_log)
        _log(f"generated the demo program into {data}")
    from .app import keys

    if not keys.key_paths(home)[0].exists():
        info = keys.create(home)
        _log(f"created the signing key for confirmations in {info.private.parent} (fingerprint {info.fingerprint})")
    unchanged = close_if_changed(data, home, None) is None
    print(summary_text(home))
    if unchanged:
        print("\nNothing new: every file was seen before and every table is unchanged.")
    try:
        print("\n" + run_month_reports(home))
    except CloseFailed as e:
        raise UserError(f"the reports were not written: {e}", e.details) from None
    print("\n" + demo_users(home))
    return 0


def demo_users(home: Path) -> str:
    """One portal user per role, made with a random password on the first demo run (printed
    here and stored nowhere in clear); a later run leaves them as they are, so that it changes
    nothing: `pennytrail users password` sets a new password."""
    import secrets

    from .app import accounts

    existing = {u.email: u for u in accounts.list_users(home)}
    lines = ["portal users (`make serve`, then http://127.0.0.1:8000/login):"]
    for role, party in DEMO_USERS:
        email = f"{role}@example.org"
        if email in existing:
            lines.append(f"  {role:<10} {email:<24} exists (new password: `pennytrail users password --home "
                         f"{home} --email {email} --password-stdin`)")
            continue
        password = secrets.token_urlsafe(12)
        accounts.add_user(home, email, role, password, party, by="demo")
        lines.append(f"  {role:<10} {email:<24} password {password}" + (f"  (buyer {party})" if party else ""))
    return "\n".join(lines)


def _publish(home: Path) -> None:
    """Publish the warehouse the close left as the snapshot the portal reads."""
    from .app import snapshots

    try:
        path = snapshots.publish(home)
    except snapshots.Busy:
        _log("the portal's snapshot was not refreshed: another process holds the warehouse")
        return
    _log(f"published for the portal: {path.name}")


def run_month_reports(home: Path) -> str:
    """Run the `reports_for_month` job over the closed months (one run); say what was written."""
    from pipelines.runner import prepare_home, run_job

    from .core.publish import published_months
    from .core.warehouse import connect

    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        months = published_months(con)
    prepare_home(home / "data", home)  # the home's Dagster instance and partitions, as a close sets them
    from pipelines.partitions import partition_of

    if months:
        _log(f"reports {', '.join(months)} …")
        run_job("reports_for_month", partition_range=(partition_of(months[0]), partition_of(months[-1])))
    return (f"reports: close workbooks for {', '.join(months)} in {home / 'reports'}; "
            f"buyers' confirmations in {home / 'confirmations'}")


def summary_text(home: Path) -> str:
    from reports.handshake import as_of_date

    from .core.publish import month_status
    from .core.warehouse import connect

    path = home / "pennytrail.duckdb"
    with connect(path, read_only=True) as con:
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        files = q("SELECT status, count(*), sum(rows_read) FROM ingest_log GROUP BY 1 ORDER BY 1")
        rows = q("SELECT coalesce(sum(rows_read), 0), coalesce(sum(rows_accepted), 0), "
                 "coalesce(sum(rows_quarantined), 0) FROM ingest_log")[0]
        qcodes = q("SELECT code, count(*) FROM quarantine GROUP BY 1 ORDER BY 2 DESC, 1")
        months = q("SELECT month, count(*), sum(entitled_cents), sum(funded_cents), sum(distributed_cents) "
                   "FROM pool_audit GROUP BY 1 ORDER BY 1")
        workers = q("SELECT count(*), count(DISTINCT worker_id) FROM worker_audit")[0]
        statuses = q("SELECT status, count(*) FROM worker_audit GROUP BY 1 ORDER BY 2 DESC")
        excs = q("SELECT code, count(*), sum(amount_cents) FROM exceptions GROUP BY 1 ORDER BY 2 DESC, 1")
        overdue = q("SELECT count(*), count(DISTINCT grower_id) FROM worker_audit WHERE overdue")[0]
        as_of = as_of_date(con)
        handshake = q("SELECT status, count(*) FROM volume_handshake GROUP BY 1 ORDER BY 2 DESC, 1")
        status = {m[0]: month_status(con, m[0]) for m in months}
    out = ["pennytrail summary", "=================="]
    out.append("files: " + ", ".join(f"{n} {s}" for s, n, _ in files))
    out.append(f"rows: {rows[0]:,} read, {rows[1]:,} accepted, {rows[2]:,} quarantined")
    if qcodes:
        out.append("quarantined by code: " + ", ".join(f"{c} {n}" for c, n in qcodes))
    out.append("months (pools, entitled, funded, distributed, sign-off):")
    for m, n, e, f, d in months:
        out.append(f"  {m}: {n} pools, {dollars(e)} entitled, {dollars(f)} funded, {dollars(d)} distributed, "
                   f"{status[m]}")
    out.append(f"workers audited: {workers[0]:,} rows for {workers[1]:,} workers ("
               + ", ".join(f"{s} {n}" for s, n in statuses) + ")")
    out.append(f"overdue as of {as_of or 'the close (no close yet)'}: {overdue[0]:,} worker rows at "
               f"{overdue[1]:,} growers")
    out.append("volume handshake (invoice lines): " + (", ".join(f"{s} {n:,}" for s, n in handshake) or "none"))
    out.append("exceptions by code: " + (", ".join(f"{c} {n} ({dollars(a)})" for c, n, a in excs) or "none"))
    out.append(f"warehouse: {path}")
    out.append(f"Dagster runs: {home / 'dagster'} (see them with `make ui`)")
    return "\n".join(out)


def cmd_summary(args: argparse.Namespace) -> int:
    print(summary_text(Path(args.home)))
    return 0


def cmd_signoff(args: argparse.Namespace) -> int:
    from .app import signoff
    from .app.snapshots import Busy

    _need_month(args.month)
    home = Path(args.home)
    _need_warehouse(home)
    try:
        if args.revoke:
            if args.reason is None:
                raise UserError("revoking a sign-off needs --reason TEXT")
            done = signoff.revoke(home, args.month, args.by, args.reason, wait=30.0)
            print(f"{args.month}: the sign-off by {done['signed_by']} of {done['signed_at']:%Y-%m-%d %H:%M} UTC is "
                  f"revoked by {done['revoked_by']}: {done['reason']}. The month is open again.")
            return 0
        done = signoff.sign(home, args.month, args.by, wait=30.0)
    except Busy as e:
        raise UserError(f"{e}: try again when it has completed") from None
    except signoff.SignoffRefused as e:
        raise UserError(str(e)) from None
    print(f"{args.month} signed off by {done['signed_by']}; digest {done['digest']}")
    if done["open_exceptions"]:
        print(f"recorded with {done['open_exceptions']} open exception(s): "
              + "; ".join(f"{c} {n} ({dollars(a)})" for c, n, a in done["exceptions"]))
    else:
        print("recorded with no open exception")
    return 0


def cmd_months(args: argparse.Namespace) -> int:
    from .app.months import list_months

    home = Path(args.home)
    _need_warehouse(home)
    months = list_months(home)
    if not months:
        print("no month has data yet: run `pennytrail close` first")
        return 0
    width = max(len(m.state) for m in months)
    for m in months:
        counts = (f"{m.invoices} invoices, {m.pools} pools, {m.exceptions} exceptions" if m.state != "not closed"
                  else "")
        print(f"{m.month}  {m.state.ljust(width)}  {m.detail}" + (f" ({counts})" if counts else ""))
    return 0


def _need_warehouse(home: Path) -> None:
    if not (home / "pennytrail.duckdb").exists():
        raise UserError(f"no warehouse in {home}: run `pennytrail close --data DIR --home {home}` first")


def cmd_report(args: argparse.Namespace) -> int:
    from reports.close import close_report

    from .app.month_reports import close_workbook_path

    from .core.warehouse import connect

    _need_month(args.month)
    out = Path(args.out) if args.out else close_workbook_path(Path(args.home), args.month)
    start = time.perf_counter()
    with connect(Path(args.home) / "pennytrail.duckdb", read_only=True) as con:
        try:
            counts = close_report(con, args.month, out, progress=_log)
        except LookupError as e:
            raise UserError(str(e)) from None
    _log(f"wrote {sum(counts.values()):,} rows in {time.perf_counter() - start:.1f} s")
    print(out)
    return 0


def _date(text: str | None):
    import datetime as dt

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UserError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def cmd_trace(args: argparse.Namespace) -> int:
    from reports import render, trace

    from .core.warehouse import connect

    if not args.home:
        raise UserError("trace needs --home DIR, the home folder of the warehouse")

    with connect(Path(args.home) / "pennytrail.duckdb", read_only=True) as con:
        try:
            if args.what == "worker":
                if (args.worker_id is None) == (args.name is None):
                    raise UserError("give a WORKER_ID or --name NAME (one of them)")
                notes, tables = trace.trace_worker(con, args.worker_id, args.name, args.grower,
                                                   _date(args.date_from), _date(args.date_to))
                subject = {"trace": "worker", "worker_id": args.worker_id, "name": args.name, "grower": args.grower}
            elif args.what == "grower":
                _need_month(args.month)
                notes, tables = trace.trace_grower(con, args.grower_id, args.month)
                subject = {"trace": "grower", "grower_id": args.grower_id, "month": args.month}
            else:
                notes, tables = trace.trace_invoice(con, args.buyer, args.invoice)
                subject = {"trace": "invoice", "buyer_id": args.buyer, "invoice_id": args.invoice}
        except trace.NotFound as e:
            raise UserError(str(e)) from None
    if args.xlsx:
        render.to_xlsx(tables, Path(args.xlsx), notes)
        _log(f"case file written to {args.xlsx}")
    if args.format == "csv":
        sys.stdout.write(render.to_csv(tables[0]))
    elif args.format == "json":
        sys.stdout.write(render.to_json(subject, tables, notes))
    else:
        sys.stdout.write(render.to_text(tables, notes, limit=None if args.all else 50))
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    from .app import confirmations, keys
    from .core.warehouse import connect

    _need_month(args.month)
    home = Path(args.home)
    _need_warehouse(home)
    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        try:
            done = confirmations.issue(con, home, args.buyer, args.month)
        except (confirmations.NotConfirmable, keys.KeyProblem) as e:
            raise UserError(str(e).strip("'\"")) from None
    _log(f"version {done.version} " + ("issued" if done.new else "already issued with these figures: unchanged"))
    for path in (done.pdf, done.csv, done.statement):
        print(path)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .app import confirmations, keys

    path = Path(args.file)
    if not path.is_file():
        raise UserError(f"no statement file at {path}")
    try:
        trusted = confirmations.trusted_keys(Path(args.public_key) if args.public_key else None,
                                             Path(args.trust_list) if args.trust_list else None)
    except (keys.KeyProblem, OSError) as e:
        raise UserError(str(e)) from None
    checks, notes = confirmations.verify_file(path, trusted)
    for c in checks:
        print(f"{'ok  ' if c.passed else 'FAIL'}  {c.part}: {c.detail}")
    for note in notes:
        print(f"note  {note}")
    failed = [c.part for c in checks if not c.passed]
    print(f"{args.file}: " + ("verified" if not failed else f"NOT verified ({', '.join(failed)})"))
    return 0 if not failed else 1


def cmd_serve(args: argparse.Namespace) -> int:
    from .web.app import Config
    from .web.server import serve

    home = Path(args.home)
    if not home.is_dir():
        raise UserError(f"no home folder {home}: run `pennytrail demo --home {home}` or a close first")
    config = Config(home, Path(args.data) if args.data else None, secure_cookies=args.secure_cookies,
                    idle_timeout=args.idle_minutes * 60)
    _log(f"portal on http://{args.host}:{args.port}/ over {home} (stop with Ctrl-C)")
    serve(config, args.host, args.port, args.forwarded_allow_ips, args.workers)
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from .app import accounts

    home = Path(args.home)
    try:
        if args.action == "add":
            if not args.password_stdin:
                raise UserError("give the password on standard input with --password-stdin "
                                "(so that it is not in the shell's history)")
            password = sys.stdin.readline().rstrip("\r\n")
            user = accounts.add_user(home, args.email, args.role, password, args.party, buyers=_buyers(home))
            print(f"added {user.email} ({user.role}{', buyer ' + user.party_id if user.party_id else ''})")
        elif args.action == "list":
            users = accounts.list_users(home)
            for u in users:
                print(f"{u.email:<32} {u.role:<10} {u.party_id or '-':<8} {'disabled' if u.disabled else 'active'}")
            if not users:
                print("no users yet: add one with `pennytrail users add`")
        elif args.action in ("disable", "enable"):
            user = accounts.set_disabled(home, args.email, args.action == "disable")
            print(f"{user.email} {'disabled: its sessions are ended' if user.disabled else 'enabled'}")
        else:  # password
            if not args.password_stdin:
                raise UserError("give the new password on standard input with --password-stdin")
            accounts.set_password(home, args.email, sys.stdin.readline().rstrip("\r\n"))
            print(f"password of {args.email.strip().lower()} set; its sessions are ended")
    except accounts.AccountError as e:
        raise UserError(str(e)) from None
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from .app import keys

    if args.action in ("create", "show") and not args.home:
        raise UserError(f"keys {args.action} needs --home DIR")
    if args.action == "trust" and not args.public_key:
        raise UserError("keys trust needs --public-key FILE")
    try:
        if args.action == "create":
            info = keys.create(Path(args.home))
            print(f"created the signing key {info.private} (readable by you only)")
            print(f"public key for readers: {info.public}")
            print(f"fingerprint {info.fingerprint}")
        elif args.action == "show":
            info = keys.show(Path(args.home))
            print(f"public key {info.public}\nfingerprint {info.fingerprint}")
        else:
            target, added = keys.trust(Path(args.public_key), Path(args.trust_list) if args.trust_list else None)
            print(f"trust list {target}: " + (f"added {', '.join(added)}" if added else "already trusted"))
    except (keys.KeyProblem, OSError) as e:
        raise UserError(str(e)) from None
    return 0


def _buyers(home: Path) -> set[str] | None:
    """The buyers' party ids of the newest published snapshot, if any."""
    import duckdb

    from .app import snapshots

    path = snapshots.current(home)
    if path is None:
        return None
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT party_id FROM ref_parties WHERE party_type = 'buyer'").fetchall()}
    finally:
        con.close()


def _need_month(text: str) -> None:
    if not _is_month(text):
        raise UserError(f"--month expects YYYY-MM, got {text!r}")


def _is_month(text: str) -> bool:
    return len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit() and 1 <= int(text[5:]) <= 12


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

    p = add("demo", cmd_demo, "Generate the demo program (once) into HOME/data and close every month.")
    p.add_argument("--home", default=".pennytrail", help="home folder (default .pennytrail)")
    p.add_argument("--seed", type=int, default=1, help="seed of the demo data (default 1)")

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
                        epilog="example: pennytrail trace --home .pennytrail invoice B01 INV-B01-0001")
    i.add_argument("buyer")
    i.add_argument("invoice")
    for sub_parser in (w, g, i):
        trace_options(sub_parser, False)

    p = add("confirm", cmd_confirm, "Issue a buyer's payment confirmation for a closed month: PDF, CSV and a "
                                    "signed JSON statement (a new version only when the figures changed).")
    p.add_argument("--home", required=True, help="home folder of the warehouse (the signing key is in HOME/keys)")
    p.add_argument("--buyer", required=True, help="buyer party id")
    p.add_argument("--month", required=True, help="YYYY-MM")

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

    p = add("users", cmd_users, "Manage portal users: add, list, disable, enable, set a password.")
    users = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    u = users.add_parser("add", help="add a user with a role", epilog=f"example: {EXAMPLES['users']}")
    u.add_argument("--home", required=True, help="home folder")
    u.add_argument("--email", required=True, help="the user's e-mail address (their sign-in name)")
    u.add_argument("--role", required=True, choices=["accountant", "monitor", "buyer", "admin"])
    u.add_argument("--party", help="a buyer's party id (buyers only)")
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


# How each command uses the home: "write" commands hold it (one at a time); "none" ones do not
# touch the warehouse (the portal reads published snapshots, beside a running close); every other
# command with a --home reads the warehouse, and is told to wait while a close holds it.
HOME_ACCESS = {"close": "write", "demo": "write", "signoff": "write", "serve": "none", "users": "none"}
LOG = Path("logs") / "pennytrail.log"


def _home(args: argparse.Namespace) -> Path:
    """Where a command's log goes: its home; the output folder of `generate`; else .pennytrail."""
    home = getattr(args, "home", None) or (getattr(args, "out", None) if args.command == "generate" else None)
    return Path(home or os.environ.get("PENNYTRAIL_HOME") or ".pennytrail")


@contextmanager
def _access(args: argparse.Namespace) -> Iterator[None]:
    from .core import homelock

    home = getattr(args, "home", None)
    mode = HOME_ACCESS.get(args.command, "read")
    if home is None or mode == "none":
        yield
    elif mode == "write":
        with homelock.hold(Path(home)):
            yield
    else:
        pid = homelock.running(Path(home))
        if pid is not None:
            raise homelock.Busy(Path(home), pid or None)
        yield


def describe(e: BaseException, home: Path) -> str:
    """Any exception as one line that says what happened and what to do."""
    import duckdb

    from .core import homelock
    from .core.warehouse import NotWritten

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
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.write(entry)
            return path
        except OSError:
            continue
    return None


def main(argv: list[str] | None = None) -> int:
    from .core.homelock import Busy

    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    home = _home(args)
    code, details = 1, ""
    try:
        with _access(args):
            return args.func(args)
    except UserError as e:
        line, details = str(e), e.details
    except KeyboardInterrupt:
        line, code = "interrupted", 130
    except (FileNotFoundError, Busy) as e:  # said in full by their one line
        line = describe(e, home)
    except Exception as e:  # noqa: BLE001 (every failure is one line; its traceback goes to the log)
        line, details = describe(e, home), traceback.format_exc()
    finally:
        gx = sys.modules.get("data_contracts.gx")
        if gx is not None:
            gx.stop()  # a data contract process the command started ends with it
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
