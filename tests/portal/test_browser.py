"""Three journeys in a real browser (Chromium driven by Playwright) against a real uvicorn
server: a buyer, a monitor and an accountant. Under CI a missing Chromium fails them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import duckdb
import pytest

from pennytrail.app import portal_db, snapshots

from .conftest import unsigned

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
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


def sign_in(page, base: str, role: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", f"{role}@example.org")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_buyer_signs_in_downloads_a_pdf_and_its_statement_and_verifies_it(browser, portal_server, portal_home,
                                                                          tmp_path):
    home, passwords = portal_home
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    sign_in(page, portal_server, "buyer", passwords["buyer"])
    page.click("nav >> text=Confirmations")
    assert page.locator("h1").inner_text() == "Payment confirmations"
    with page.expect_download() as got:
        page.locator("a.file", has_text="PDF").first.click()
    pdf = tmp_path / "confirmation.pdf"
    got.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    with page.expect_download() as got:
        page.locator("a.file", has_text="statement").first.click()
    statement = tmp_path / "statement.json"
    got.value.save_as(statement)
    assert json.loads(statement.read_text())["statement"]["buyer_id"] == "B01"
    with page.expect_download() as got:
        page.locator("a.file", has_text="CSV").first.click()
    csv = tmp_path / "confirmation.csv"
    got.value.save_as(csv)
    page.click("nav >> text=Verify")
    page.set_input_files("input[name=statement]", str(statement))
    page.set_input_files("input[name=pdf]", str(pdf))
    page.click("form[action='/verify'] button[type=submit]")
    assert "was not checked" in page.locator(".result h2").inner_text()  # the CSV was not uploaded
    page.set_input_files("input[name=statement]", str(statement))
    page.set_input_files("input[name=pdf]", str(pdf))
    page.set_input_files("input[name=csv]", str(csv))
    page.click("form[action='/verify'] button[type=submit]")
    assert page.locator(".result h2").inner_text() == "Verified"
    assert page.locator(".result li.fail").count() == 0
    assert page.locator(".result li.pass", has_text="signature").count() == 1
    assert page.locator(".result li.pass", has_text=".pdf").count() == 1
    page.screenshot(path=str(home / "screenshot-verify.png"), full_page=True)
    context.close()


def _pennytrail() -> list[str]:
    """The `pennytrail` command of this environment, as the README runs it."""
    script = Path(sys.executable).with_name("pennytrail")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "pennytrail.cli"]


def test_buyer_downloads_every_confirmation_and_verifies_it_offline_as_the_readme_says(
        browser, portal_server, portal_home, tmp_path):
    """Every file of every month on /confirmations, and the program's key, saved under the name
    the browser is given, then `pennytrail verify FILE --public-key KEY` in that folder."""
    from pennytrail.app.confirmations import buyers_of_month
    from pennytrail.core.publish import published_months

    home, passwords = portal_home
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    expected = {m for m in published_months(con) if "B01" in buyers_of_month(con, m)}
    con.close()
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    sign_in(page, portal_server, "buyer", passwords["buyer"])
    page.click("nav >> text=Confirmations")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.screenshot(path=str(home / "screenshot-confirmations.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    folder = tmp_path / "Downloads"
    folder.mkdir()

    def download(link) -> Path:
        with page.expect_download() as got:
            link.click()
        saved = folder / got.value.suggested_filename
        got.value.save_as(saved)
        return saved

    key = download(page.locator("main a[href='/keys/confirmation.pub.pem']").first)
    assert key.name == "confirmation.pub.pem"
    links = page.locator("a.file")
    saved = [download(links.nth(i)) for i in range(links.count())]
    statements = [p for p in saved if p.suffix == ".json"]
    assert {json.loads(p.read_text())["statement"]["month"] for p in statements} == expected
    assert len(saved) == 3 * len(expected) and len(set(saved)) == len(saved)
    for p in saved:
        assert re.fullmatch(r"confirmation-[0-9]{4}-[0-9]{2}-v[0-9]+\.(pdf|csv|json)", p.name), p.name
    command = page.locator("main code").first.inner_text().split()
    assert command[0] == "pennytrail" and command[1] == "verify" and command[-2:] == ["--public-key", key.name]
    for statement in statements:
        done = subprocess.run([*_pennytrail(), "verify", statement.name, "--public-key", key.name], cwd=folder,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and done.stdout.rstrip().endswith("verified"), done.stdout + done.stderr
        assert [line.split()[0] for line in done.stdout.splitlines()[:-1]] == ["ok"] * 5  # file, key, signature, PDF, CSV
    context.close()


def test_monitor_finds_a_worker_by_an_accented_name_and_opens_a_case(browser, portal_server, portal_home):
    home, passwords = portal_home
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    name, g, w = con.execute("""
        SELECT r.worker_name, r.grower_id, r.worker_id FROM payroll_rows r
        JOIN worker_audit a USING (grower_id, worker_id)
        WHERE r.worker_name <> strip_accents(r.worker_name) AND a.status <> 'OK' ORDER BY 1 LIMIT 1""").fetchone()
    con.close()
    typed = "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c))
    typed = "  ".join(typed.split())
    page = browser.new_page()
    sign_in(page, portal_server, "monitor", passwords["monitor"])
    page.click("nav >> text=Workers")
    page.fill("input[name=q]", typed)
    page.click("form.search button")
    page.click(f"a[href='/workers/{g}/{w}']")
    assert w in page.locator("h1").inner_text()
    assert page.locator("table.periods tbody tr").count() >= 1
    page.screenshot(path=str(home / "screenshot-worker.png"), full_page=True)
    assert page.locator("input[name=period]:checked").count() >= 1  # the periods not OK are ticked
    page.fill("textarea[name=note]", "Called: the premium is not on her stub.")
    page.click("form[action='/cases'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases/[0-9]+$"))
    assert "Called: the premium is not on her stub." in page.content()
    assert page.locator(".lead .badge", has_text="open").count() == 1
    page.screenshot(path=str(home / "screenshot-case.png"), full_page=True)
    views = portal_db.audit_log(home, actor="monitor@example.org", action="view worker")
    assert any(e["subject"] == f"worker {g}/{w}" for e in views)
    page.close()


def test_accountant_signs_off_a_month(browser, portal_server, portal_home):
    home, passwords = portal_home
    unsigned(home, "2026-01")
    page = browser.new_page()
    sign_in(page, portal_server, "accountant", passwords["accountant"])
    page.click("nav >> text=Months")
    page.screenshot(path=str(home / "screenshot-months.png"), full_page=True)
    page.click("a[href='/months/2026-01']")
    assert page.locator("h1").inner_text().startswith("2026-01")
    page.screenshot(path=str(home / "screenshot-month.png"), full_page=True)
    page.click("form[action='/months/2026-01/signoff'] button")
    page.wait_for_url(re.compile(r".*/months/2026-01\?done=signed$"))
    assert page.locator(".alert.good").count() == 1
    assert "accountant@example.org" in page.locator(".lead").first.inner_text()
    assert page.locator("h1 .badge").inner_text() == "signed"
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    who = con.execute("SELECT signed_by FROM signoffs WHERE month = '2026-01' ORDER BY signed_at DESC LIMIT 1"
                      ).fetchone()[0]
    con.close()
    assert who == "accountant@example.org"
    page.close()
