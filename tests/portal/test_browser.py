"""Three journeys in a real browser (Chromium driven by Playwright) against a real uvicorn
server: a buyer, a monitor and an accountant; and every page of every role at 1366×768, which
must fit the window. Under CI a missing Chromium fails them (the browser is conftest's)."""

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
import openpyxl

from pennytrail.app import portal_db, snapshots

from .conftest import unsigned


def sign_in_email(page, base: str, email: str, password: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def sign_in(page, base: str, role: str, password: str) -> None:
    sign_in_email(page, base, f"{role}@example.org", password)


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
    from pennytrail.core.confirmations import buyers_of_month
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
    form = page.locator("form[action='/months/2026-01/signoff']")
    assert form.locator("ul.open-exceptions li").count() >= 1  # the open exceptions, before it signs
    form.locator("button").click()  # not yet: the box that says they were read is not ticked
    assert page.url.endswith("/months/2026-01")
    form.locator("input[name=confirm]").check()
    form.locator("button").click()
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


# --- every page of every role fits a 1366×768 window --------------------------------------------

WIDTH, HEIGHT = 1366, 768

# what a page must not do: be wider than the window, hold a table wider than its box (its
# columns cut off or behind a scroll bar), or put a button or a link styled as one outside the
# window or outside the box it is in
FITS = """() => {
  const out = [];
  const W = window.innerWidth;
  const doc = document.documentElement;
  if (doc.scrollWidth > W) out.push(`the page is ${doc.scrollWidth}px wide in a ${W}px window`);
  for (const box of document.querySelectorAll('.scroll')) {
    if (box.closest('details:not([open])')) continue;
    if (box.scrollWidth > box.clientWidth + 1)
      out.push(`a table is ${box.scrollWidth}px wide in a ${box.clientWidth}px box: ${box.innerText.slice(0, 60)}`);
  }
  for (const b of document.querySelectorAll('button, a.button, input[type=submit]')) {
    if (b.closest('details:not([open])')) continue;
    const r = b.getBoundingClientRect();
    if (r.width === 0) continue;
    if (r.left < 0 || r.right > W) out.push(`button "${b.innerText}" is outside the window (${r.left}-${r.right})`);
    const box = b.closest('.scroll');
    if (box) {
      const c = box.getBoundingClientRect();
      if (r.right > c.right + 1) out.push(`button "${b.innerText}" is outside its box`);
    }
  }
  return out;
}"""


def pages_of(home) -> dict[str, list[str]]:
    """Every page each role reaches over the demo, with the ids of real rows."""
    con = duckdb.connect(str(snapshots.current(home)), read_only=True)
    q = lambda sql: con.execute(sql).fetchone()  # noqa: E731
    g, w = q("SELECT grower_id, worker_id FROM worker_audit GROUP BY ALL ORDER BY count(*) FILTER "
             "(WHERE status <> 'OK') DESC, count(*) DESC, 1, 2 LIMIT 1")
    grower = q("SELECT grower_id FROM pool_source_audit GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0]
    b, inv = q("SELECT buyer_id, invoice_id FROM invoice_line_audit GROUP BY ALL ORDER BY count(*) DESC, 1, 2 LIMIT 1")
    months = [r[0] for r in con.execute("SELECT DISTINCT month FROM payment_audit ORDER BY 1").fetchall()]
    code = q("SELECT code FROM exceptions WHERE month = '2026-03' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0]
    con.close()
    staff = ["/", f"/workers?q={w[:3]}", f"/workers/{g}/{w}", f"/growers/{grower}",
             *[f"/growers/{grower}?month={m}" for m in months[:-1]], f"/invoices/{b}/{inv}", "/verify"]
    return {
        "anonymous": ["/login", "/verify", "/months/2099-01"],
        "buyer": ["/", "/confirmations", "/calendar", "/verify", "/months", "/submissions"],
        "grower": ["/", "/submissions", "/calendar", "/verify", "/files", "/grower"],
        "intermediary": ["/", "/submissions", "/calendar", "/files"],
        "monitor": [*staff, "/cases"],
        "accountant": [*staff, "/months", *[f"/months/{m}" for m in months], f"/months/2026-03?code={code}",
                       "/confirmations", "/calendar", "/close", "/audit", "/months/2099-01"],
        "admin": ["/", "/admin/users", "/audit", "/verify"],
    }


def test_every_page_of_every_role_fits_a_1366_window(browser, portal_server, portal_home):
    home, passwords = portal_home
    shots = Path(os.environ.get("PENNYTRAIL_SCREENSHOTS") or home / "screenshots")  # to look at them
    shots.mkdir(parents=True, exist_ok=True)
    wanted = pages_of(home)
    misfits = []
    for role, paths in wanted.items():
        context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
        page = context.new_page()
        if role != "anonymous":
            sign_in(page, portal_server, role, passwords[role])
        if role == "monitor":  # a case of its own, with a note, to see its page too
            page.goto(portal_server + paths[2])
            page.fill("textarea[name=note]", "Called: the premium is not on the stub. " * 8)
            page.click("form[action='/cases'] button[type=submit]")
            page.wait_for_url(re.compile(r".*/cases/[0-9]+$"))
            paths = [*paths, page.url.removeprefix(portal_server)]
        if role == "accountant":  # a long note in the queue, after which its Save button must still show
            page.goto(portal_server + "/months/2026-02")
            form = page.locator("form.queue-note").first
            form.locator("input[name=note]").fill("Asked the buyer for the difference; it answers by Friday. " * 5)
            form.locator("button").click()
            page.wait_for_load_state()
            paths = [*paths, "/months/2026-02"]
        for n, path in enumerate(paths):
            page.goto(portal_server + path)
            for d in page.locator("details").all()[:3]:  # the folded detail opens and still fits
                d.locator("summary").click()
            name = f"{role}-{n:02d}-{re.sub(r'[^A-Za-z0-9]+', '_', path).strip('_') or 'home'}.png"
            page.screenshot(path=str(shots / name), full_page=True)
            misfits += [f"{role} {path}: {m}" for m in page.evaluate(FITS)]
        context.close()
    assert not misfits, "\n".join(misfits)


def test_the_fit_check_finds_a_page_that_does_not_fit(browser):
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    page.set_content('<div class="scroll" style="overflow-x:auto;width:300px"><table><tr><td style="white-space:'
                     'nowrap">' + "wide " * 100 + '</td></tr></table></div><button style="margin-left:1500px">Save'
                     '</button>')
    found = page.evaluate(FITS)
    page.close()
    assert any("wide in a 1366px window" in f for f in found), found
    assert any("px box" in f for f in found) and any('"Save" is outside the window' in f for f in found), found


def test_month_pages_list_the_same_months_as_the_command_and_the_workbooks(browser, portal_server, portal_home,
                                                                          tmp_path):
    """``pennytrail months``, ``summary``, the workbooks (the demo writes one for every closed
    month) and the portal's /months list the same months, a month of payments only (2026-04)
    too, and each month's page answers with a waterfall that adds up on the page."""
    from pennytrail.app import close_workbook, list_months, summary
    from pennytrail.core.publish import published_months
    from pennytrail.core.warehouse import connect

    home, passwords = portal_home
    cli = [m.month for m in list_months(home)]
    assert "2026-04" in cli and cli == [m.month for m in summary(home).months]
    with connect(home / "pennytrail.duckdb", read_only=True) as con:
        assert published_months(con) == cli  # the months `demo` writes a workbook for
    for m in cli:
        book, _ = close_workbook(home, m, tmp_path / f"close-{m}.xlsx")
        assert openpyxl.load_workbook(book, read_only=True)["Summary"]["A1"].value == f"Premium close for {m}"
    page = browser.new_page()
    sign_in(page, portal_server, "accountant", passwords["accountant"])
    page.goto(portal_server + "/months")
    shown = page.locator("table.months tbody tr td:first-child").all_inner_texts()
    assert sorted(shown) == cli
    for m in cli:
        assert page.goto(portal_server + f"/months/{m}").status == 200, m
        assert page.locator("h1").inner_text().startswith(m)
        assert_waterfall_adds_up(page)
    page.close()


def assert_waterfall_adds_up(page) -> None:
    """On the page as shown: every = line is the sum of the lines above it since the last one,
    Memo lines apart, from the dollars printed in each row."""
    rows = page.locator("table.waterfall tbody tr").all()
    total, subtotals = None, 0
    for row in rows:
        label = row.locator("td").nth(0).inner_text().strip()
        text = row.locator("td").nth(1).inner_text().strip()
        cents = int(re.sub(r"[^0-9]", "", text)) * (-1 if text.startswith("-") else 1)
        if label.startswith("Memo"):
            continue
        if total is None:
            total = cents
        elif label.startswith("="):
            assert cents == total, f"{label}: {text}, but the lines above it make {total / 100:,.2f}"
            subtotals += 1
        else:
            total += cents
    assert subtotals >= 4, "the waterfall has its subtotals"
