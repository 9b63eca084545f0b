"""The senders' calendar in the portal and a close started from it: each sender sees its own
items only; the accountant sees every sender's, starts a close that runs in a process of its
own while the portal keeps serving, and sees it finish (a real uvicorn server, a real close, a
real Chromium)."""

from __future__ import annotations

import csv
import os
import re
import shutil
from pathlib import Path

import pytest

from pennytrail.app import close_runs, portal_db
from pennytrail.core import homelock
from pennytrail.web.app import Config, create_app

from .conftest import serving, sign_in
from .test_browser import sign_in as browser_sign_in


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_buyer_sees_its_own_calendar_only_and_the_accountant_every_senders(portal_app, portal_home):
    _, passwords = portal_home
    buyer = sign_in(portal_app, "buyer", passwords["buyer"])
    page = text_of(buyer.get("/calendar").text)
    assert "purchases 2026-04 2026-05-04 missing" in page  # its month not sent yet
    assert "B01" in page and not re.search(r"\b(B02|B03|T00\d|D00\d|R01)\b", page)
    assert "Reminders sent" not in page
    late = text_of(buyer.get("/calendar?status=late").text)
    assert "Nothing late." in late and "2026-05-04" not in late
    accountant = sign_in(portal_app, "accountant", passwords["accountant"])
    page = text_of(accountant.get("/calendar").text)
    for party in ("B01", "B02", "T001", "T003", "R01", "D001"):
        assert f"{party} " in page
    assert "sales 2026-02 2026-03-04 late" in page  # T003 stopped reporting its sales
    assert "Reminders sent" in page


def test_a_close_is_refused_while_another_holds_the_home(portal_home, tmp_path):
    home, passwords = portal_home
    app = create_app(Config(home, data=home / "data"))
    accountant = sign_in(app, "accountant", passwords["accountant"])
    with homelock.hold(home):  # a close from the command line
        r = accountant.post("/close", data={"csrf_token": accountant.csrf})
    assert r.status_code == 409
    assert f"a close is already running (pid {os.getpid()}), started outside the portal" in text_of(r.text)
    assert not [run for run in close_runs.runs(home) if run.running]


def add_march_sales(data: Path) -> None:
    """T003's sales report of March, which the calendar shows late: one line, a new invoice."""
    source = data / "inbox" / "sales" / "T003" / "2026-01.csv"
    rows = list(csv.reader(source.open(encoding="utf-8", newline="")))
    line = dict(zip(rows[0], rows[1]))
    line.update(invoice_id="T003-260310", line_no="1", ship_date="2026-03-10")
    with (data / "inbox" / "sales" / "T003" / "2026-03.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([rows[0], [line[c] for c in rows[0]]])


@pytest.fixture
def close_server(portal_home, tmp_path):
    """A portal with its data folder, over a copy of the shared home, on a free port."""
    source, passwords = portal_home
    home = tmp_path / "home"
    shutil.copytree(source, home, ignore=shutil.ignore_patterns("dagster", "screenshots", "*.log"))
    add_march_sales(home / "data")
    try:
        with serving(home, tmp_path / "server.log", "--data", str(home / "data")) as url:
            yield url, home, passwords
    finally:
        for run in close_runs.runs(home):  # a close the server started must not outlive the test
            if run.running and run.pid:
                try:
                    os.kill(run.pid, 15)
                except ProcessLookupError:
                    pass


def test_the_accountant_reads_the_calendar_starts_a_close_and_sees_it_finish(browser, close_server):
    url, home, passwords = close_server
    context = browser.new_context()
    page = context.new_page()
    browser_sign_in(page, url, "accountant", passwords["accountant"])
    page.click("nav >> text=Calendar")
    t003 = page.locator("#p-T003")
    assert "late" in t003.locator("tr[data-item='sales 2026-03']").inner_text()
    page.click("nav >> text=Close")
    page.click("form[action='/close'] button[type=submit]")
    page.wait_for_url(url + "/close")
    assert "running" in page.locator("table.closes tbody tr").first.inner_text()
    # the portal keeps serving while the close runs, and a second close is refused
    other = context.new_page()
    other.goto(url + "/calendar")
    assert other.locator("h1").inner_text() == "Senders' calendar"
    run = close_runs.runs(home)[0]
    assert run.running, "the close ended before the portal was asked for a page: nothing was shown meanwhile"
    with pytest.raises(close_runs.AlreadyRunning, match="started by accountant@example.org at"):
        close_runs.start(home, home / "data", "someone@example.org")
    # the page refreshes itself until the close has completed
    page.locator("table.closes tbody tr").first.locator("text=completed").wait_for(timeout=600_000)
    row = page.locator("table.closes tbody tr").first.inner_text()
    assert re.search(r"closed \d+ month\(s\) in", row), row
    run = close_runs.runs(home)[0]
    assert (run.exit_code, run.started_by) == (0, "accountant@example.org")
    log = Path(run.log)
    assert log.parent == home / "logs" and "closed" in log.read_text() and log.stat().st_mode & 0o077 == 0
    actions = [e["action"] for e in portal_db.audit_log(home, 20)]
    assert "close started" in actions and "close finished" in actions
    # the new snapshot: T003's sales of March are received now
    page.goto(url + "/calendar")
    assert "received" in t003.locator("tr[data-item='sales 2026-03']").inner_text()
    context.close()
    # the buyer sees its month not sent yet, declares it had no purchases, and sees it received
    context = browser.new_context()
    page = context.new_page()
    browser_sign_in(page, url, "buyer", passwords["buyer"])
    page.click("nav >> text=Calendar")
    row = page.locator("tr[data-item='purchases 2026-04']")
    assert "missing" in row.inner_text() and "2026-05-04" in row.inner_text()
    page.click("text=Your files")
    form = page.locator("form[action='/submissions/nil']")
    form.locator("select[name=kind]").select_option("purchases")
    form.locator("input[name=period]").fill("2026-04")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    page.click("nav >> text=Calendar")
    assert re.search(r"received\s+nil return", row.inner_text()), row.inner_text()
    context.close()


def test_a_buyer_sees_its_missing_month(browser, portal_server, portal_home):
    _, passwords = portal_home
    context = browser.new_context()
    page = context.new_page()
    browser_sign_in(page, portal_server, "buyer", passwords["buyer"])
    page.click("nav >> text=Calendar")
    assert page.locator("h1").inner_text() == "What you owe the program"
    row = page.locator("tr[data-item='purchases 2026-04']")
    assert "missing" in row.inner_text() and "2026-05-04" in row.inner_text()
    assert page.locator("section.sender").count() == 1
    context.close()
