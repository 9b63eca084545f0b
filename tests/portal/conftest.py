"""The portal's tests share one home: the demo closed once, its buyers' confirmations written,
a snapshot published and one user per role (their passwords as ``make demo`` prints them)."""

from __future__ import annotations

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

ROLES = ("accountant", "monitor", "buyer", "admin")


@pytest.fixture(scope="session")
def portal_home(closed_demo: Path, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    from pennytrail.app import snapshots
    from pennytrail.app.close import demo_users
    from pennytrail.core.warehouse import connect
    from pennytrail.app import confirmations, keys

    home = tmp_path_factory.mktemp("portal") / "home"
    shutil.copytree(closed_demo, home, ignore=shutil.ignore_patterns("dagster"))
    keys.create(home)
    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        pairs = con.execute("SELECT DISTINCT buyer_id, month FROM invoice_audit ORDER BY 1, 2").fetchall()
        for buyer, month in pairs:
            confirmations.issue(con, home, buyer, month)
    snapshots.publish(home)
    users = demo_users(home)
    passwords = {email: password for _, email, password, _ in users}
    assert len(passwords) == 4, users
    return home, {role: passwords[f"{role}@example.org"] for role in ROLES}


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


def sign_in(app, role: str, password: str):
    """A test client signed in as the demo user of ``role``; its CSRF token as ``client.csrf``."""
    from starlette.testclient import TestClient

    c = TestClient(app, follow_redirects=False)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"email": f"{role}@example.org", "password": password, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/", r.text[:500]
    c.csrf = csrf_of(c.get("/").text)
    return c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def portal_server(portal_home):
    """A real uvicorn server of the portal on a free loopback port: its base URL."""
    home, _ = portal_home
    port = free_port()
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "pennytrail.cli", "serve", "--home", str(home), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the portal did not start: " + (home / "server.log").read_text(errors="replace"))
        time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


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
