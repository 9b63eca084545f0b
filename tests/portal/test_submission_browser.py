"""A grower sends its payroll in its own export layout through the portal, in a real browser
(Chromium driven by Playwright) against a real uvicorn server: it signs in, uploads, reads the
preview, submits and keeps the receipt; the pages fit a 360 px phone and a 1366 px window."""

from __future__ import annotations

import hashlib

from pennytrail.app import submissions

from .test_browser import FITS, sign_in

# on a phone a wide table may scroll inside its box; the page itself, and its buttons, must fit
PHONE_FITS = """() => {
  const out = [];
  const W = window.innerWidth;
  if (document.documentElement.scrollWidth > W) out.push(`the page is ${document.documentElement.scrollWidth}px wide`);
  for (const b of document.querySelectorAll('button, input, select')) {
    const r = b.getBoundingClientRect();
    if (r.width && (r.left < 0 || r.right > W)) out.push(`"${b.innerText || b.name}" is outside the window`);
  }
  return out;
}"""


def test_a_grower_uploads_its_own_payroll_export_reads_the_preview_submits_and_keeps_the_receipt(
        browser, portal_server, portal_home):
    home, passwords = portal_home
    # T002's own ADP-style export of January, read through its mapping profile (the same bytes as the
    # file the program placed in the inbox: a close receives them once)
    export = home / "data" / "inbox" / "payroll" / "T002" / "2026-01.csv"
    sha = hashlib.sha256(export.read_bytes()).hexdigest()
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    sign_in(page, portal_server, "grower", passwords["grower"])
    page.click("nav >> text=Your files")
    assert page.locator("h1").inner_text().startswith("Your files")
    assert page.evaluate(PHONE_FITS) == []
    page.select_option("form[action='/submissions'] select[name=kind]", "payroll")
    page.set_input_files("input[name=file]", str(export))
    page.click("form[action='/submissions'] button[type=submit]")
    assert page.locator("h1").inner_text().startswith("Preview")
    text = page.locator("main").inner_text()
    assert "t002-pairs.yaml" in text and "loaded through the profile" in text, text[:1500]
    assert sha in text
    assert page.evaluate(PHONE_FITS) == []
    page.set_viewport_size({"width": 1366, "height": 768})
    assert page.evaluate(FITS) == []
    # the rows as the program reads them, under the sender's own headers
    assert page.locator("td", has_text="Check Date").count() == 1
    page.click("form[action='/submissions/submit'] button[type=submit]")
    page.wait_for_url(lambda url: "/receipts/" in url)
    receipt = page.locator("main").inner_text()
    assert "Received." in receipt and sha in receipt and "2026-01.csv" in receipt
    assert page.evaluate(FITS) == []
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate(PHONE_FITS) == []
    number = int(page.url.rsplit("/", 1)[1])
    r = submissions.receipt(home, number, "T002")
    assert r.submitted_at in receipt and r.reference in receipt
    stored = home / "data" / r.stored_path
    assert stored.parent == home / "data" / "inbox" / "payroll" / "senders" / "T002"
    assert stored.read_bytes() == export.read_bytes()
    page.click("text=Back to your files")
    assert page.locator("td.file", has_text="2026-01.csv").count() == 1
    context.close()
