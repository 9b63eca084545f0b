"""Three journeys in a real browser (Chromium driven by Playwright) against a real uvicorn
server: a buyer, a monitor and an accountant. Under CI a missing Chromium fails them."""

from __future__ import annotations

import json
import os
import re
import shutil
import unicodedata

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
