"""The close: ingest new files, reconcile, check conservation and publish months; the demo,
which generates a program and closes it the same way; and a month's sign-off."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..core import changes, homelock, ingest, keys, warehouse
from ..core.engines import ENGINES
from ..core.private import owner_only
from . import accounts, confirmations, signoff, snapshots
from .reports import write_month_reports
from .errors import UserError, need_month, need_warehouse

Progress = Callable[[str], None]
CLOSE_TOKEN = "last_close_token"  # written last by a close; the file must hold it when the close ends


@dataclass
class CloseResult:
    months: list[str]   # the months the close published or found unchanged since published
    unchanged: bool     # nothing changed since the last completed close: nothing was run
    seconds: float
    snapshot: Path | None = None  # the snapshot published for the portal by this close, if any


def close(data: Path, home: Path, months: list[str] | None = None, progress: Progress = lambda _: None,
          engine: str = "duckdb", spark_master: str | None = None) -> CloseResult:
    """Close ``months`` (every month in the data when None) from the files in ``data`` into the
    warehouse in ``home``. ``engine``: where the reconciliation runs, ``duckdb`` (in the
    warehouse) or ``spark`` (on ``spark_master``, default ``local[2]``; docs/scale.md); ingest,
    contracts and publication are the same either way.

    When nothing that decides a figure changed since the last completed close (``changes``),
    nothing runs. Otherwise the Dagster jobs run in this process (recorded in HOME/dagster,
    as the UI shows them): ``ingest_and_reconcile``, then ``publish_month`` once for the range
    of months, with the contract process of this close handed to both. The close holds the home
    (``core.homelock``) from start to end: another close, or any command that writes, is refused
    meanwhile (``homelock.Busy``)."""
    start = time.perf_counter()
    _check(data, months)
    engine_config = _engine(engine, spark_master)
    with owner_only(home, create=True), homelock.hold(home):
        return _close(data, home, months, progress, start, engine_config)


def _check(data: Path, months: list[str] | None) -> None:
    for month in months or []:
        need_month(month)
    if not (data / "reference").is_dir():
        raise UserError(f"the close did not complete: no reference data: {data / 'reference'} does not exist")


def _engine(engine: str, spark_master: str | None) -> dict[str, str] | None:
    """The reconciliation's run configuration for ``engine`` (None: the default, DuckDB)."""
    if engine not in ENGINES:
        raise UserError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if spark_master and engine != "spark":
        raise UserError("--spark-master is for --engine spark")
    if engine == "duckdb":
        return None
    return {"engine": engine, "spark_master": spark_master or "local[2]"}


def _close(data: Path, home: Path, months: list[str] | None, progress: Progress, start: float,
           engine: dict[str, str] | None = None) -> CloseResult:
    last = changes.last_close(home)
    changes.reuse_hashes(last)  # files unchanged since the last close are not read again
    ingest.changed_files.clear()
    fingerprint = changes.fingerprint(data, months)
    if changes.unchanged(last, fingerprint):
        snapshot = None if snapshots.current(home) is not None else _publish(home, progress)
        _confirm(home, progress, missing_only=True)  # those a key made since, or a loss, left missing
        return CloseResult([], True, time.perf_counter() - start, snapshot)
    from pipelines.contracts import Contracts  # late: the contract process's module loads pandas and Arrow

    contracts = Contracts()  # Great Expectations loads in its own process while Dagster starts here
    from pipelines.runner import CloseFailed, run_close  # late: Dagster takes seconds to import

    db = home / "pennytrail.duckdb"
    token = uuid.uuid4().hex
    try:
        with warehouse.held(db):  # written into the file once, when the close ends
            try:
                done = run_close(data, home, months, contracts, progress, engine)
            finally:
                contracts.stop()
            with warehouse.connect(db) as con:
                warehouse.set_meta(con, CLOSE_TOKEN, token)
    except CloseFailed as e:
        raise UserError(f"the close did not complete: {e}", e.details) from None
    # a close reports success only when the warehouse file itself holds its result
    warehouse.verify_written(db, CLOSE_TOKEN, token)
    snapshot = _publish(home, progress)
    _confirm(home, progress)
    # "nothing new" is recorded last: a close that fails before (the snapshot on a full disk, the
    # buyers' confirmations, a crash) leaves the last fingerprint, so the next close runs and
    # publishes; so does a close that found a file changing while it read it, which the next close
    # reads
    if snapshot is not None and not ingest.changed_files:
        changes.record(home, fingerprint)
    elif ingest.changed_files:
        progress(f"{len(set(ingest.changed_files))} file(s) changed while they were read: the next close reads them")
    seconds = time.perf_counter() - start
    return CloseResult(done, False, seconds, snapshot)


def _confirm(home: Path, progress: Progress, missing_only: bool = False) -> None:
    """Issue a new version of every buyer's confirmation whose figures the published snapshot
    changed (nil statements included), so that buyers find them without anyone's help;
    ``missing_only``: only those of which no version exists."""
    progress(confirmations.issue_from_snapshot(home, missing_only).text())


def _publish(home: Path, progress: Progress) -> Path | None:
    """Publish the warehouse the close left as the snapshot the portal reads (``snapshots``).
    A snapshot that cannot be written (a full disk) fails the close; the next close publishes."""
    try:
        path = snapshots.publish(home)
    except snapshots.Busy:
        progress("the portal's snapshot was not refreshed: another process holds the warehouse")
        return None
    except OSError as e:
        raise UserError(f"the close's figures are in the warehouse, but the portal's snapshot could not be written "
                        f"({e.strerror or e}): free space and run the close again, which publishes it") from e
    progress(f"published for the portal: {path.name}")
    return path


@dataclass
class DemoResult:
    data: Path
    generated: bool
    close: CloseResult
    reported: list[str]  # months whose reports were written
    users: list[tuple[str, str, str | None, str | None]]  # the portal's demo users: role, e-mail,
    # password (None for a user made by an earlier demo run), buyer
    key_created: str | None = None  # the fingerprint of the signing key this run created, if it did


# one account per role; the senders' are those of the demo's parties that keep their own export
# layouts (a grower's ADP-style payroll, T002), or that pass premium on (the repacker R01)
DEMO_USERS = [("accountant", None), ("monitor", None), ("buyer", "B01"), ("grower", "T002"), ("intermediary", "R01"),
              ("admin", None)]


def demo(home: Path, seed: int = 1, progress: Progress = lambda _: None) -> DemoResult:
    """Generate the demo program into HOME/data (unless that seed's data is there), make the
    signing key of confirmations (once), close every month as ``close`` does, write every closed
    month's reports, and make one portal user per role (once). The demo holds the home throughout."""
    with owner_only(home, create=True), homelock.hold(home):
        return _demo(home, seed, progress)


def _demo(home: Path, seed: int, progress: Progress) -> DemoResult:
    from ..generator import generate  # late: only the demo generates a program

    data = home / "data"
    key_file = data / "answer_key.json"
    generated = not (key_file.exists() and json.loads(key_file.read_text(encoding="utf-8")).get("seed") == seed)
    if generated:
        generate(data, seed=seed, scale="demo", progress=progress)
        progress(f"generated the demo program into {data}")
    else:
        progress(f"demo data already in {data} (seed {seed}): not generated again")
    created = None
    if not keys.key_paths(home)[0].exists():
        created = keys.create(home).fingerprint
    start = time.perf_counter()
    _check(data, None)
    result = _close(data, home, None, progress, start)  # as ``close`` does, in the home the demo holds
    return DemoResult(data, generated, result, write_month_reports(data, home, progress), demo_users(home), created)


def demo_users(home: Path) -> list[tuple[str, str, str | None, str | None]]:
    """One portal user per role, made with a random password on the first demo run (returned
    here and stored nowhere in clear); a later run leaves them as they are, so that it changes
    nothing (their password is None here): `pennytrail users password` sets a new one."""
    existing = {u.email for u in accounts.list_users(home)}
    users = []
    for role, party in DEMO_USERS:
        email = f"{role}@example.org"
        if email in existing:
            users.append((role, email, None, party))
            continue
        password = secrets.token_urlsafe(12)
        accounts.add_user(home, email, role, password, party, by="demo")
        users.append((role, email, password, party))
    return users


def sign_off(home: Path, month: str, by: str, seen_digest: str | None = None, wait: float = 30.0) -> dict:
    """Record that ``by`` signed off ``month`` as published (``signoff.sign``, which also
    refreshes the portal's snapshot): the digest of its tables and the exceptions open then."""
    return _writing_signoff(home, month, lambda: signoff.sign(home, month, by, seen_digest, wait))


def revoke_sign_off(home: Path, month: str, by: str, reason: str, wait: float = 30.0) -> dict:
    """Revoke the sign-off of ``month`` in force, saying who and why; the record stays."""
    return _writing_signoff(home, month, lambda: signoff.revoke(home, month, by, reason, wait))


def _writing_signoff(home: Path, month: str, write: Callable[[], dict]) -> dict:
    """``write()`` for a month of a home with a warehouse, its refusals as one line each."""
    need_month(month)
    try:
        with homelock.hold(home):
            need_warehouse(home)
            return write()
    except snapshots.Busy as e:
        raise UserError(f"{e}: try again when it has completed") from None
    except ValueError as e:  # refused by the rules (core.signoff), or the figures changed since shown
        raise UserError(str(e)) from None
