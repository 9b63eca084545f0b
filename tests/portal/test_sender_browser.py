"""A grower in a real browser (Chromium driven by Playwright) against a real uvicorn server: it
signs in, opens the file it sent from its own folder after a close, reads its accepted rows and
the one row set aside under its own column name, downloads that row to correct it; its own page
with the workers it has to pay fits a phone (360×640) and a laptop (1366×768)."""

from __future__ import annotations

import csv

from pennytrail.app import accounts

from .conftest import SENDER
from .test_browser import FITS, sign_in_email

EMAIL = "clerk-t001@example.org"
PASSWORD = "the clerk's long password"


def _grower(home) -> None:
    if EMAIL not in {u.email for u in accounts.list_users(home)}:
        accounts.add_user(home, EMAIL, "grower", PASSWORD, SENDER, by="test")


def _sign_in(page, base: str) -> None:
    sign_in_email(page, base, EMAIL, PASSWORD)


def test_a_grower_opens_its_file_after_a_close_and_downloads_the_row_set_aside(browser, portal_server, portal_home,
                                                                               tmp_path):
    home, _ = portal_home
    _grower(home)
    context = browser.new_context(accept_downloads=True, viewport={"width": 1366, "height": 768})
    page = context.new_page()
    _sign_in(page, portal_server)
    page.click("nav >> text=Outcomes")
    row = page.locator("table.files tbody tr", has_text="20260105-hours.csv")
    assert row.locator("td[data-label=Accepted]").inner_text() == "2"
    assert row.locator("td[data-label='Set aside']").inner_text() == "1"
    row.locator("a").click()
    assert page.locator("h1").inner_text().startswith("20260105-hours.csv")
    counts = page.locator(".tiles.counts .tile h2").all_inner_texts()
    assert counts == ["3", "2", "1", "0"]  # read, accepted, set aside, skipped
    rejected = page.locator("table.rejected tbody tr")
    assert rejected.count() == 1
    assert rejected.locator("td[data-label=Row]").inner_text() == "4"
    assert rejected.locator("td[data-label=Column]").inner_text() == "Paid On"
    assert '"Paid On" (pay_date)' in rejected.locator("td[data-label='What to correct']").inner_text()
    assert page.evaluate(FITS) == []
    page.screenshot(path=str(home / "screenshot-sender-file.png"), full_page=True)
    with page.expect_download() as got:
        page.click("a[href$='/rejected.csv']")
    saved = tmp_path / got.value.suggested_filename
    got.value.save_as(saved)
    assert saved.name == "20260105-hours-rejected-rows.csv"
    rows = list(csv.DictReader(saved.open(encoding="utf-8-sig", newline="")))
    assert len(rows) == 1 and rows[0]["Paid On"] == "13/02/2026" and rows[0]["Worker No"] == "T001-90003"
    assert rows[0]["Worker Name"] == "'=Marta Reloj" and rows[0]["Rejected: row"] == "4"
    context.close()


def test_the_growers_page_fits_a_phone_and_a_laptop(browser, portal_server, portal_home, tmp_path):
    home, _ = portal_home
    _grower(home)
    misfits = []
    for width, height in ((360, 640), (1366, 768)):
        context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        page = context.new_page()
        _sign_in(page, portal_server)
        page.click("a.tile[href='/grower']")
        assert page.locator("h1").inner_text().startswith("Your premium")
        assert page.locator("table.to-pay tbody tr").count() >= 1
        assert page.locator("table.pools tbody tr").count() >= 1
        misfits += [f"{width}x{height}: {m}" for m in page.evaluate(FITS)]
        page.screenshot(path=str(home / f"screenshot-grower-{width}.png"), full_page=True)
        page.goto(portal_server + "/files")
        misfits += [f"{width}x{height} /files: {m}" for m in page.evaluate(FITS)]
        page.locator("table.files a").first.click()
        misfits += [f"{width}x{height} {page.url}: {m}" for m in page.evaluate(FITS)]
        if width == 1366:
            page.goto(portal_server + "/grower")
            with page.expect_download() as got:
                page.click("a[href='/grower/to-pay.csv']")
            saved = tmp_path / got.value.suggested_filename
            got.value.save_as(saved)
            listed = list(csv.DictReader(saved.open(encoding="utf-8-sig", newline="")))
            assert len(listed) == page.locator("table.to-pay tbody tr").count()
        context.close()
    assert not misfits, "\n".join(misfits)
