"""A worker on a 360 × 640 phone in a real browser (Chromium driven by Playwright) against a real
uvicorn server: a code read aloud, typed in lower case without dashes; the statement in Haitian
Creole, then in Spanish; a complaint sent; a monitor finds it first in the queue. The server's
output (its access log) never holds the code."""

from __future__ import annotations

import os
import re

import duckdb

from pennytrail.app import snapshots
from pennytrail.core import codes

from .test_browser import sign_in  # a page signed in; the session's Chromium is the conftest's browser

PHONE = {"width": 360, "height": 640}


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_worker_on_a_phone_reads_their_statement_and_complains_and_a_monitor_finds_it(
        browser, portal_server, portal_home, tmp_path):
    home, passwords = portal_home
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    try:
        g, w, code = con.execute("""
            SELECT c.grower_id, c.worker_id, c.code FROM statement_codes c WHERE c.revoked_at IS NULL
              AND c.language = 'ht' AND EXISTS (SELECT 1 FROM worker_audit a WHERE a.grower_id = c.grower_id
              AND a.worker_id = c.worker_id AND a.status <> 'OK')
            ORDER BY 2 DESC LIMIT 1""").fetchone()
    finally:
        con.close()
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(portal_server + "/s")
    assert page.get_attribute("html", "lang") == "es" and _fits(page)
    page.fill("#code", code.lower())  # read aloud over the phone, typed as heard
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/s/[A-Z2-9-]+(\?.*)?$"))
    assert page.get_attribute("html", "lang") == "ht"
    assert page.locator("h1").inner_text() == "Rapò bonis ou yo"
    assert page.locator(".w-status").count() >= 1 and _fits(page)
    shots = os.environ.get("PENNYTRAIL_SCREENSHOTS")
    if shots:
        page.screenshot(path=os.path.join(shots, "worker-page-ht-360.png"), full_page=True)
    page.click("a[hreflang=es]")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "es"
    assert page.locator("h1").inner_text() == "Sus estados de cuenta del bono" and _fits(page)
    page.locator("input[name=periods]").first.check()
    page.fill("#message", "En mi talón no salió el bono de esa semana.")
    page.fill("#phone", "239 555 0101")
    page.click("form[action$='/complaint'] button[type=submit]")
    page.wait_for_selector(".w-sent")
    sent = page.locator(".w-sent").inner_text()
    ref = re.search(r"caso es ([0-9]+)", sent).group(1)
    assert page.get_attribute("html", "lang") == "es" and _fits(page)
    if shots:
        page.screenshot(path=os.path.join(shots, "worker-page-es-sent-360.png"), full_page=True)
    context.close()

    monitor = browser.new_context().new_page()
    sign_in(monitor, portal_server, "monitor", passwords["monitor"])
    monitor.click("nav >> text=Cases")
    first = monitor.locator("tbody tr").first
    assert f"#{int(ref)}" in first.inner_text() and "the worker" in first.inner_text()
    assert "language: es" in first.inner_text()
    first.locator("a").first.click()
    assert "En mi talón no salió el bono de esa semana." in monitor.content()
    monitor.context.close()

    log = (home / "server.log").read_text(errors="replace")
    assert "/s/" in log  # the access log is on, and every path under /s/ in it is redacted
    assert code not in log and codes.shown(code) not in log and code.lower() not in log
