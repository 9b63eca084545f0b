"""The portal's tests share one home: the demo closed once, a snapshot published, its buyers'
confirmations issued from it as a close issues them, and one user per role (their passwords as ``make demo`` prints them)."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROLES = ("accountant", "monitor", "buyer", "grower", "intermediary", "admin")


@pytest.fixture(scope="session")
def portal_home(closed_demo: Path, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    from pennytrail.app import snapshots
    from pennytrail.app.close import demo_users
    from pennytrail.app import confirmations
    from pennytrail.core import keys

    from pennytrail.app import close

    home = tmp_path_factory.mktemp("portal") / "home"
    shutil.copytree(closed_demo, home, ignore=shutil.ignore_patterns("dagster"))
    add_look_alikes(home / "data")
    add_sender_file(home / "data")
    close(home / "data", home, None, progress=lambda m: None)
    keys.create(home)
    snapshots.publish(home)
    # what a close does once it published (the close of `closed_demo` had no key to sign with)
    issued = confirmations.issue_from_snapshot(home)
    assert issued.new and not issued.skipped, issued
    users = demo_users(home)
    passwords = {email: password for _, email, password, _ in users}
    assert len(passwords) == len(ROLES), users
    return home, {role: passwords[f"{role}@example.org"] for role in ROLES}


CASE_BUYER = "b01"  # a buyer whose id differs from the demo buyer B01's only in case
SLASH_WORKER = "T001-R/7"  # a worker whose id holds a slash


def add_look_alikes(data: Path) -> None:
    """Add to the demo's files what the portal must keep apart or reach: a buyer ``b01`` beside
    ``B01`` (its own invoice of January) and a worker whose id holds ``/``."""
    parties = data / "reference" / "parties.csv"
    rows = list(csv.reader(parties.open(encoding="utf-8", newline="")))
    b01 = next(r for r in rows if r[0] == "B01")
    with parties.open("a", encoding="utf-8", newline="") as f:
        csv.writer(f).writerow([CASE_BUYER, b01[1], b01[2] + " (lower case)", *b01[3:]])
    # B01 sends its purchases in its own export layout: b01's line is its seller T001's first sale
    # to B01, reported by both sides in §3's layout
    purchase = ["buyer_id", "invoice_id", "line_no", "ship_date", "harvest_date", "seller_id", "grower_id",
                "commodity", "quantity", "unit", "premium_billed"]
    changes = [("sales/T001", "sales/T001", None, {"buyer_id": CASE_BUYER, "invoice_id": lambda v: v + "-b"}),
               ("sales/T001", f"purchases/{CASE_BUYER}", purchase,
                {"buyer_id": CASE_BUYER, "invoice_id": lambda v: v + "-b", "harvest_date": "", "premium_billed": ""}),
               ("payroll/T001", "payroll/T001", None, {"worker_id": SLASH_WORKER, "worker_name": "Rosa Barra Inclinada"})]
    for source_folder, target_folder, header, change in changes:
        source = data / "inbox" / source_folder / "2026-01.csv"
        rows = list(csv.reader(source.open(encoding="utf-8", newline="")))
        row = dict(zip(rows[0], next(r for r in rows[1:] if "buyer_id" not in rows[0] or r[0] == "B01")))
        for name, value in change.items():
            row[name] = value(row[name]) if callable(value) else value
        header = header or rows[0]
        target = data / "inbox" / target_folder
        target.mkdir(parents=True, exist_ok=True)
        with (target / "2026-01-look-alike.csv").open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([header, [row[c] for c in header]])


SENDER = "T001"  # a grower that sends a file of its own, in its own layout, from its own folder (SPEC §3c)
SENDER_FILE = f"inbox/payroll/senders/{SENDER}/20260105-hours.csv"
SENDER_PROFILE = """\
# Grower T001's time-clock export, as it sends it from its own folder.
kind: payroll
files: "senders/T001/*.csv"
columns:
  grower_id: Farm
  worker_id: Worker No
  worker_name: Worker Name
  period_start: Week Start
  period_end: Week End
  pay_date: Paid On
  hours: Hours
  units: Pieces
  gross_wages: Wages
  premium_paid: Premium
formats:
  period_start: "%m/%d/%Y"
  period_end: "%m/%d/%Y"
  pay_date: "%m/%d/%Y"
"""
# two rows accepted and one quarantined (its "Paid On" is day-first), of a pay period before any
# purchase (no pool, no premium): the published figures stay those of the demo
SENDER_ROWS = [
    ["Farm", "Worker No", "Worker Name", "Week Start", "Week End", "Paid On", "Hours", "Pieces", "Wages", "Premium"],
    ["T001", "T001-90001", "Ana Reloj", "12/29/2025", "01/04/2026", "01/02/2026", "10", "20", "100.00", "0.00"],
    ["T001", "T001-90002", "Luis Reloj", "12/29/2025", "01/04/2026", "01/02/2026", "8", "16", "80.00", "0.00"],
    ["T001", "T001-90003", "=Marta Reloj", "12/29/2025", "01/04/2026", "13/02/2026", "9", "18", "90.00", "0.00"],
]


def _sender_bytes() -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(SENDER_ROWS)
    return out.getvalue().encode("utf-8")


# the file's id in the portal (its path and its bytes' SHA-256: pennytrail.app.sender_files.file_id)
SENDER_FILE_ID = "f" + hashlib.sha256(f"{SENDER_FILE}\n{hashlib.sha256(_sender_bytes()).hexdigest()}".encode()
                                      ).hexdigest()[:24]


def add_sender_file(data: Path) -> None:
    """A payroll file grower T001 sent from its own folder, read through a profile of its own layout."""
    (data / "reference" / "mappings" / "t001-time-clock.yaml").write_text(SENDER_PROFILE, encoding="utf-8")
    path = data / SENDER_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_sender_bytes())


def unsigned(home: Path, month: str) -> None:
    """Revoke ``month``'s sign-off if another test of the shared home left it signed, and publish
    the snapshot the portal reads, so that a test can sign it off again."""
    from pennytrail.app import signoff, snapshots

    history = signoff.history(home, month)
    if history and not history[-1]["revoked_at"]:
        signoff.revoke(home, month, "Test", "another test signed it off: the same figures cannot be signed twice")
        snapshots.publish(home)


@pytest.fixture(scope="session")
def portal_app(portal_home):
    from pennytrail.web.app import Config, create_app

    home, _ = portal_home
    return create_app(Config(home, signoff_wait=0.5))


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert m, "no csrf_token field on the page"
    return m.group(1)


def signed_in(app, email: str, password: str):
    """A test client signed in as ``email`` through the sign-in form; its CSRF token as ``client.csrf``."""
    from starlette.testclient import TestClient

    c = TestClient(app, follow_redirects=False)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/", r.text[:500]
    c.csrf = csrf_of(c.get("/").text)
    return c


def sign_in(app, role: str, password: str):
    """A test client signed in as the demo user of ``role``."""
    return signed_in(app, f"{role}@example.org", password)


def sign_in_as(app, home: Path, email: str, role: str, party: str | None = None,
               password: str = "a sender's long password"):
    """A test client signed in as ``email`` (made with ``role`` and ``party`` the first time)."""
    from pennytrail.app import accounts

    if email not in {u.email for u in accounts.list_users(home)}:
        accounts.add_user(home, email, role, password, party, by="test")
    return signed_in(app, email, password)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(home: Path, log_path: Path, *args: str):
    """A real uvicorn server of the portal over ``home`` (``pennytrail serve``, with ``args``) on a
    free loopback port, its output in ``log_path``: its base URL, until the block ends."""
    port = free_port()
    log = open(log_path, "wb")
    proc = subprocess.Popen([sys.executable, "-m", "pennytrail.cli", "serve", "--home", str(home), *args,
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the portal did not start: " + log_path.read_text(errors="replace"))
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def portal_server(portal_home):
    """A real uvicorn server of the portal on a free loopback port: its base URL."""
    home, _ = portal_home
    with serving(home, home / "server.log") as url:
        yield url


ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    """One Chromium (Debian's, driven by Playwright) for every browser test of the session.
    Under CI a missing Chromium fails them."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("Chromium is not installed (apt-get install chromium): the browser tests cannot run")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=ARGS, headless=True)
        yield b
        b.close()
