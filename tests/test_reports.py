"""What accountants, monitors and buyers take away: the close workbook, traces and confirmations."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from pennytrail.cli import main
from pennytrail.app import close
from pennytrail.core.closebook import SHEETS
from reports.confirm import CSV_COLUMNS
from pennytrail.core.tables import Column
from reports.xlsx import Book

FORMULA_IDS = ['=HYPERLINK("http://example.invalid","pay")', "+SUM(1,2)", "-7", "@cmd"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pennytrail.cli", *args], capture_output=True, text=True, timeout=600)


def con_of(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True)


@pytest.fixture(scope="module")
def home(demo_data, tmp_path_factory) -> Path:
    """The demo closed with workers whose ids look like formulas, 2026-01 signed off, then a late
    correction to 2026-01 closed again, and every month's reports written by the demo's job."""
    home = tmp_path_factory.mktemp("reports")
    data = home / "data"
    shutil.copytree(demo_data, data)
    header = (data / "inbox/payroll/T001/2026-01.csv").read_text(encoding="utf-8").splitlines()[0]
    assert ",crew_id,language,period_end," in header
    rows = [f'T001,"{w.replace(chr(34), chr(34) * 2)}",2026-01-05,,"=HYPERLINK(""http://x.invalid"",""n"")",'
            f"T001-C01,,2026-01-11,2026-01-16,40,100,90.00,0.00" for w in FORMULA_IDS]  # language blank
    (data / "inbox/payroll/T001/2026-01-extra.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    close(data, home, None, progress=lambda m: None)
    assert cli("keys", "create", "--home", str(home)).returncode == 0
    signed = cli("signoff", "--home", str(home), "--month", "2026-01", "--by", "A. Accountant")
    assert signed.returncode == 0, signed.stderr
    # a late payroll file zeroes one worker's premium in the signed month
    src = (data / "inbox/payroll/T001/2026-01.csv").read_text(encoding="utf-8").splitlines()
    cols = src[1].split(",")
    cols[-1] = "0.00"
    (data / "inbox/payroll/T001/2026-01-late.csv").write_text(src[0] + "\n" + ",".join(cols) + "\n")
    close(data, home, None, progress=lambda m: None)
    from pennytrail.app import write_month_reports

    write_month_reports(data, home)
    return home


def _sheet_rows(path: Path, title: str) -> list[tuple]:
    wb = openpyxl.load_workbook(path, read_only=True)
    ws = wb[title]
    rows = list(ws.iter_rows(values_only=True))
    wb.close()
    width = max(map(len, rows))
    return [tuple(r) + (None,) * (width - len(r)) for r in rows]


def _cents(value) -> int:
    return int(Decimal(repr(value)) * 100)


# --- the close workbook -------------------------------------------------------------------------

def test_close_workbook_has_every_sheet_and_reloads_to_the_same_cents(home):
    path = home / "reports/close-2026-02.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary"] + [title for title, _, _ in SHEETS[:-1]] + ["Restatements", "Sign-offs"]
    for ws in wb.worksheets:
        assert ws.freeze_panes and ws.auto_filter.ref, ws.title
    assert wb["Pools"]["F2"].number_format.startswith('"$"')
    with con_of(home) as con:
        pools = con.execute("SELECT grower_id, period_start, entitled_cents, funded_cents, retained_cents, "
                            "distributed_cents, undistributed_cents FROM pool_audit WHERE month = '2026-02' "
                            "ORDER BY grower_id, period_start").fetchall()
        workers = con.execute("SELECT worker_id, entitled_cents, funded_cents, paid_cents, variance_cents FROM "
                              "worker_audit WHERE month = '2026-02' ORDER BY grower_id, period_start, worker_id"
                              ).fetchall()
        owed = con.execute("SELECT sum(owed_cents) FROM invoice_audit WHERE month = '2026-02'").fetchone()[0]
    pool_rows = _sheet_rows(path, "Pools")
    got = [(r[0], r[3].date(), *map(_cents, (r[5], r[6], r[7], r[8], r[9]))) for r in pool_rows[1:-1]]
    assert got == pools
    assert pool_rows[-1][0] == f"Total ({len(pools)} rows)"  # the detail sheet ends with its totals
    assert _cents(pool_rows[-1][5]) == sum(p[2] for p in pools) and _cents(pool_rows[-1][8]) == sum(p[5] for p in pools)
    got = [(r[3], *map(_cents, (r[5], r[6], r[7], r[8]))) for r in _sheet_rows(path, "Workers")[1:-1]]
    assert got == workers
    summary = {r[0]: r[1] for r in _sheet_rows(path, "Summary") if r[1] is not None}
    assert _cents(summary["Owed by buyers (rate card)"]) == owed


def test_formula_looking_input_stays_text(home):
    path = home / "reports/close-2026-01.xlsx"
    wb = openpyxl.load_workbook(path)  # not read-only: data_type tells a formula from text
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.value)
                    seen.add(cell.value)
    assert set(FORMULA_IDS) <= seen  # the ids are in Workers and Exceptions
    assert any("HYPERLINK" in v for v in seen)


def test_every_leading_character_is_written_as_text(tmp_path):
    values = ["=1+1", "+1", "-1", "@A1", "\tx", "=" + "x" * 40_000, "bad\x01char"]
    book = Book()
    sheet = book.sheet("T", [Column("v", "Value")])
    sheet.extend([v] for v in values)
    book.save(tmp_path / "t.xlsx")
    cells = [c for (c,) in openpyxl.load_workbook(tmp_path / "t.xlsx")["T"].iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in cells)
    assert [c.value for c in cells[:5]] == values[:5]
    assert len(cells[5].value) <= 32_767 and "cut: 40,001 characters" in cells[5].value
    assert cells[6].value == "bad\ufffdchar"


def test_streamed_rows_read_back_like_openpyxl_cells(tmp_path, monkeypatch):
    """Rows past STREAM_AFTER are written as XML by pennytrail: the same values and types come back."""
    import datetime as dt

    import reports.xlsx as xlsx

    monkeypatch.setattr(xlsx, "STREAM_AFTER", 3)
    columns = [Column("t", "Text"), Column("m", "Money", "money"), Column("d", "Date", "date"),
               Column("b", "Flag", "bool"), Column("n", "Count", "int"), Column("x", "Basis", "decimal")]
    rows = [["=HYPERLINK(\"x\")", 12345, dt.date(2026, 1, 2), True, 7, Decimal("12.500")],
            ["a & <b>", -5, dt.date(2026, 2, 28), False, 0, Decimal("0.001")],
            [" lead", 0, None, None, None, None],
            ["-1", 99, dt.datetime(2026, 3, 1), True, 10**12, Decimal("3")]]
    book = Book()
    sheet = book.sheet("S", columns, ["Title"])
    sheet.extend(rows * 2)  # the first 3 rows by openpyxl, the other 5 streamed
    book.save(tmp_path / "s.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "s.xlsx")["S"]
    got = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    kinds = [[c.data_type for c in r] for r in ws.iter_rows(min_row=4)]
    def norm(v):
        return Decimal(repr(v)).normalize() if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    assert len(got) == 8
    for a, b in zip(got[:4], got[4:]):  # openpyxl's cells and the streamed ones read back alike
        assert [norm(x) for x in a] == [norm(x) for x in b]
    assert kinds[:4] == kinds[4:] and kinds[0][0] == "s" and kinds[7][0] == "s"
    assert _cents(got[4][1]) == 12345 and _cents(got[5][1]) == -5 and got[5][0] == "a & <b>"
    assert got[6][0] == " lead" and got[4][2] == dt.datetime(2026, 1, 2) and got[7][4] == 10**12
    assert ws.cell(row=8, column=2).number_format == ws.cell(row=4, column=2).number_format
    assert ws.freeze_panes == "A4" and ws.auto_filter.ref == "A3:F11"


def test_the_close_reads_the_portals_exception_notes_and_makes_no_portal(tmp_path):
    """The close workbook's queue (``core.exception_queue``): the newest note of each exception of
    the month, read from the portal's database; a home without a portal gets no database."""
    from pennytrail.app import casework
    from pennytrail.core import exception_queue as queue

    row = {"level": "worker", "code": "UNDERPAID", "party_id": "T1", "reference": "2026-01-05", "worker_id": "W1"}
    assert queue.queue_states(tmp_path, "2026-01")(row) is None
    assert not queue.portal_database(tmp_path).exists()
    key = queue.exception_key(row)
    assert key == casework.exception_key(row) and key != queue.exception_key({**row, "worker_id": "W2"})
    for state, note in (("acknowledged", "looking into it"), ("resolved", "paid with the next payroll")):
        casework.note_exception(tmp_path, "2026-01", key, state, note, "ana@example.org", "accountant", "W1")
    read = queue.queue_states(tmp_path, "2026-01")
    assert (read(row)["state"], read(row)["note"]) == ("resolved", "paid with the next payroll")
    assert read({**row, "worker_id": "W2"}) is None and queue.queue_states(tmp_path, "2026-02")(row) is None


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize("stream_after", [1_000_000, 10])  # cells by openpyxl; most rows streamed
def test_close_workbook_opens_in_libreoffice(home, tmp_path, monkeypatch, stream_after):
    import reports.xlsx as xlsx
    from reports.close import write_close_workbook

    monkeypatch.setattr(xlsx, "STREAM_AFTER", stream_after)
    book = tmp_path / "close.xlsx"
    with con_of(home) as con:
        write_close_workbook(con, "2026-01", book)
        workers = con.execute("SELECT count(*), sum(paid_cents) FROM worker_audit WHERE month = '2026-01'").fetchone()
    done = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                           "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(tmp_path / "lo"), str(book)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and (tmp_path / "lo/close.xlsx").exists(), done.stderr
    # what LibreOffice read and wrote back holds the same rows and cents
    rows = _sheet_rows(tmp_path / "lo/close.xlsx", "Workers")[1:]
    assert len(rows) == workers[0] + 1 and sum(_cents(r[7]) for r in rows[:-1]) == workers[1]
    assert _cents(rows[-1][7]) == workers[1]  # the total row
    assert _sheet_rows(tmp_path / "lo/close.xlsx", "Summary")[0][0] == "Premium close for 2026-01"


def test_late_correction_shows_in_the_next_close_report(home):
    rows = _sheet_rows(home / "reports/close-2026-01.xlsx", "Restatements")
    assert rows[-1][0].startswith("Total (")
    rows = rows[:-1]
    assert len(rows) > 1 and all("2026-01-late.csv" in r[6] for r in rows[1:])
    assert {r[2] for r in rows[1:]} >= {"paid", "status"}
    money = [r for r in rows[1:] if r[2] == "paid"]
    assert money and all(r[3].startswith("$") and r[4].startswith("$") and isinstance(r[5], float) for r in money)
    summary = [r[0] for r in _sheet_rows(home / "reports/close-2026-01.xlsx", "Summary")]
    assert any(s and s.startswith("Sign-off: needs re-sign-off") for s in summary)
    assert any(s and "needs a new sign-off" in s for s in summary)
    assert len(_sheet_rows(home / "reports/close-2026-01.xlsx", "Sign-offs")) == 3  # header, sign-off, total


def test_report_close_command(home, tmp_path):
    out = tmp_path / "c.xlsx"
    done = cli("report", "close", "--home", str(home), "--month", "2026-03", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out) and out.exists()
    missing = cli("report", "close", "--home", str(home), "--month", "2031-01")
    assert missing.returncode == 1 and "has not been closed" in missing.stderr


# --- trace ----------------------------------------------------------------------------------------

def test_trace_worker_by_id_lists_periods_and_source_rows(home):
    done = cli("trace", "--home", str(home), "--format", "json", "worker", "D001-00003")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    periods = doc["tables"]["Pay periods"]
    with con_of(home) as con:
        audit = con.execute("SELECT period_start, entitled_cents, funded_cents, paid_cents, status FROM worker_audit "
                            "WHERE grower_id = 'D001' AND worker_id = 'D001-00003' ORDER BY 1").fetchall()
        assert [(p["period_start"], p["entitled_cents"], p["funded_cents"], p["paid_cents"], p["status"])
                for p in periods] == [(str(a[0]), *a[1:]) for a in audit]
        for src in doc["tables"]["Source rows"]:  # every source row is a real row of the kind it names
            table = {"payroll": "payroll", "purchases": "purchases", "payments": "payments"}[src["kind"]]
            n = con.execute(f"SELECT count(*) FROM {table} WHERE file = ? AND row_number = ?",
                            [src["file"], src["row"]]).fetchone()[0]
            assert n == 1, src
            if src["figure"] in ("basis", "paid"):
                assert con.execute("SELECT worker_id FROM payroll WHERE file = ? AND row_number = ?",
                                   [src["file"], src["row"]]).fetchone()[0] == "D001-00003"
    unpaid = [p for p in periods if p["status"] == "UNPAID"]
    assert unpaid and all("grower D001" in p["stopped_at"] for p in unpaid)
    assert {s["figure"] for s in doc["tables"]["Source rows"]} == {"basis", "paid", "entitled", "funded"}


def test_trace_worker_by_name_ignores_case_accents_and_spacing(home):
    with con_of(home) as con:
        name, worker = con.execute("SELECT worker_name, worker_id FROM payroll_rows WHERE worker_name LIKE '%é%' "
                                   "ORDER BY worker_id LIMIT 1").fetchone()
    asked = "  " + name.upper().replace("É", "E").replace(" ", "   ") + " "
    done = cli("trace", "--home", str(home), "--format", "json", "worker", "--name", asked)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert worker in {p["worker_id"] for p in doc["tables"]["Pay periods"]}
    assert any(name in n for n in doc["notes"])
    positional = json.loads(cli("trace", "--home", str(home), "--format", "json", "worker", asked).stdout)
    assert positional["tables"] == doc["tables"]  # a name given where the id goes is looked up as a name


def test_trace_worker_filters_and_formats(home, tmp_path):
    base = ["trace", "--home", str(home)]
    done = cli(*base, "--format", "csv", "--xlsx", str(tmp_path / "case.xlsx"), "worker", "D001-00003",
               "--grower", "D001", "--from", "2026-02-01", "--to", "2026-02-10")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["period_start"] for r in rows] == ["2026-01-19", "2026-02-02"]
    assert all(r["sources"].startswith("basis: inbox/payroll/D001/") for r in rows)
    wb = openpyxl.load_workbook(tmp_path / "case.xlsx")
    assert wb.sheetnames == ["Pay periods", "Source rows"] and wb["Pay periods"].max_row > 3
    table = cli(*base, "worker", "D001-00003")
    assert table.returncode == 0 and "Where the money stopped" in table.stdout and "Source rows" in table.stdout
    after = cli("trace", "worker", "D001-00003", "--grower", "D001", "--home", str(home), "--format", "csv")
    assert after.returncode == 0 and after.stdout.splitlines()[0] == done.stdout.splitlines()[0]  # options after WHAT
    assert "trace needs --home" in cli("trace", "worker", "D001-00003").stderr
    assert cli(*base, "worker", "nobody-here").returncode == 1
    assert "give a WORKER_ID or --name" in cli(*base, "worker").stderr
    assert "expected a date" in cli(*base, "worker", "D001-00003", "--from", "soon").stderr


def test_trace_csv_never_starts_a_cell_with_a_formula(home):
    done = cli("trace", "--home", str(home), "--format", "csv", "worker", FORMULA_IDS[0])
    assert done.returncode == 0, done.stderr
    row = next(csv.DictReader(io.StringIO(done.stdout)))
    assert row["worker_id"] == "'" + FORMULA_IDS[0]


def test_trace_grower_finds_the_intermediary_that_held_premium(home):
    with con_of(home) as con:
        buyer, invoice, k = con.execute("SELECT buyer_id, invoice_id, intermediary_id FROM pass_through_audit "
                                        "WHERE held_cents > 0 ORDER BY 1, 2 LIMIT 1").fetchone()
        grower, month = con.execute("""
            SELECT ig.grower_id, p.month FROM w_invoice_grower ig
            JOIN w_period_shares s USING (buyer_id, invoice_id, grower_id)
            JOIN pool_audit p ON p.grower_id = s.grower_id AND p.period_start = s.work_period_start
            WHERE ig.buyer_id = ? AND ig.invoice_id = ? AND ig.received_cents < ig.owed_cents LIMIT 1""",
                                    [buyer, invoice]).fetchone()
        pools = con.execute("SELECT period_start, funded_cents FROM pool_audit WHERE grower_id = ? AND month = ? "
                            "ORDER BY 1", [grower, month]).fetchall()
    doc = json.loads(cli("trace", "--home", str(home), "--format", "json", "grower", grower, "--month", month).stdout)
    assert [(p["period_start"], p["funded_cents"]) for p in doc["tables"]["Pools"]] == [(str(a), b) for a, b in pools]
    assert any(f"intermediary {k} holds" in p["stopped_at"] for p in doc["tables"]["Pools"])
    assert doc["tables"]["Invoices"] and doc["tables"]["Workers"]
    assert cli("trace", "--home", str(home), "grower", "NOPE", "--month", month).returncode == 1


def test_trace_invoice_follows_the_money_both_ways(home):
    with con_of(home) as con:
        buyer, invoice, owed, paid = con.execute("SELECT buyer_id, invoice_id, owed_cents, paid_by_buyer_cents "
                                                 "FROM invoice_audit WHERE status = 'BUYER_UNDERPAID' LIMIT 1"
                                                 ).fetchone()
    doc = json.loads(cli("trace", "--home", str(home), "--format", "json", "invoice", buyer, invoice).stdout)
    t = doc["tables"]
    assert t["Invoice"][0]["owed_cents"] == owed and sum(line["owed_cents"] for line in t["Lines"]) == owed
    assert sum(p["amount_cents"] for p in t["Payments"] if p["payer_id"] == buyer) == paid
    assert sum(f["entitled_cents"] for f in t["Pools fed"]) == sum(g["entitled_cents"] for g in t["Growers"])
    assert all(line["file"].startswith("inbox/purchases/") for line in t["Lines"])
    assert cli("trace", "--home", str(home), "invoice", buyer, "NO-SUCH").returncode == 1


# --- buyers' confirmations ------------------------------------------------------------------------

def _buyer_files(home: Path) -> dict[str, list[Path]]:
    """Each buyer's issued files, by buyer id (read from the statements: folders are not ids)."""
    out: dict[str, list[Path]] = {}
    for d in (home / "confirmations").iterdir():
        if not d.is_dir():  # the lock and the states of pools shown (docs/decisions.md)
            continue
        files = sorted(p for p in d.iterdir() if p.is_file() and not p.name.startswith("."))
        buyer = json.loads(next(p for p in files if p.suffix == ".json").read_text())["statement"]["buyer_id"]
        out[buyer] = files
    return out


def _text(path: Path) -> str:
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(path).pages)
    return path.read_text(encoding="utf-8")


def test_confirmations_verify_and_hold_no_personal_data(home):
    files = _buyer_files(home)
    assert set(files) == {"B01", "B02", "B03", "B04"}
    pub = str(home / "keys/confirmation-ed25519.pub.pem")
    with con_of(home) as con:
        personal = {v for (v,) in con.execute("SELECT worker_id FROM payroll_rows UNION SELECT worker_name FROM "
                                              "payroll_rows UNION SELECT crew_id FROM payroll_rows").fetchall() if v}
        buyers = dict(con.execute("SELECT party_id, name FROM ref_parties WHERE party_type = 'buyer'").fetchall())
        invoices = con.execute("SELECT buyer_id, invoice_id FROM invoice_audit").fetchall()
    assert len(personal) > 300
    for buyer, paths in files.items():
        assert {p.suffix for p in paths} == {".pdf", ".csv", ".json"}
        for path in paths:
            text = _text(path)
            leaked = [v for v in personal if v in text]
            assert not leaked, (path, leaked[:3])
            others = [b for b in buyers if b != buyer and (b in text or buyers[b] in text)]
            assert not others, (path, others)
            if path.suffix == ".csv":
                rows = list(csv.DictReader(io.StringIO(text)))
                assert list(rows[0]) == CSV_COLUMNS  # the allow-list
                own = {i for b, i in invoices if b == buyer}
                assert {r["buyer_id"] for r in rows} == {buyer}
                assert {r["invoice_id"] for r in rows if r["record"] == "invoice"} <= own
            if path.suffix == ".json":
                assert json.loads(text)["statement"]["buyer_id"] == buyer
                done = cli("verify", str(path), "--public-key", pub)
                assert done.returncode == 0 and done.stdout.rstrip().endswith("verified"), done.stdout


def test_a_buyer_that_only_paid_in_a_month_gets_a_nil_statement(home):
    nil = [json.loads(p.read_text())["statement"] for paths in _buyer_files(home).values() for p in paths
           if p.suffix == ".json"]
    nil = [s for s in nil if s["kind"] == "nil"]
    assert nil and all(not s["invoices"] and s["payments_made_this_month"] for s in nil)
    assert any(s["buyer_id"] == "B04" for s in nil)  # paid only on an invoice no purchases file reports


ALLOWED_KEYS = {
    "statement", "signature", "algorithm", "key_fingerprint", "value", "format", "kind", "buyer_id", "buyer_name",
    "month", "currency", "month_status", "month_signed_at", "issued_at", "version", "supersedes", "changes",
    "figures_sha256", "file", "invoices", "intermediaries", "grower_lines", "pools", "payments_made_this_month",
    "totals", "files", "invoice_id", "owed_cents", "billed_cents", "paid_by_buyer_cents", "balance_cents", "status",
    "held_by_intermediaries_cents", "received_by_growers_cents", "misdirected_cents", "what_happened",
    "intermediary_id", "intermediary_name", "received_cents", "paid_on_cents", "held_cents", "grower_id",
    "grower_name", "commodity", "quantity", "unit", "unit_in_words", "owed_to_grower_cents",
    "received_by_grower_cents", "volume_confirmed_by_seller", "period_start", "period_end", "pool_closed",
    "funded_cents", "workers_eligible", "workers_paid", "pct_funded_on_stubs", "payment_id", "line_no",
    "paid_date", "invoice_month", "payee_id", "payee_name", "amount_cents", "paid_this_month_cents",
    "pdf", "csv", "name", "sha256", "invoice_lines", "seller_id", "handshake", "seller_confirmed",
    "paid_by_others_cents", "workers_note", "in_words",
}


def _keys(doc) -> set[str]:
    if isinstance(doc, dict):
        return set(doc) | set().union(*map(_keys, doc.values()))
    if isinstance(doc, list):
        return set().union(*map(_keys, doc)) if doc else set()
    return set()


def test_statement_keys_are_on_the_allow_list(home):
    for paths in _buyer_files(home).values():
        for path in paths:
            if path.suffix == ".json":
                assert _keys(json.loads(path.read_text())) <= ALLOWED_KEYS


def test_tampering_is_detected_and_named(home, tmp_path):
    source = _buyer_files(home)["B01"]
    folder = tmp_path / "B01"
    folder.mkdir()
    for p in source:
        shutil.copy(p, folder / p.name)
    key = str(home / "keys/confirmation-ed25519.pub.pem")
    statement = folder / "confirmation-2026-02-v1.json"
    original = statement.read_bytes()
    assert cli("verify", str(statement), "--public-key", key).returncode == 0
    doc = json.loads(original)
    doc["statement"]["invoices"][0]["paid_by_buyer_cents"] += 100
    statement.write_text(json.dumps(doc))
    done = cli("verify", str(statement), "--public-key", key)
    assert done.returncode == 1 and "FAIL  signature: does not match the statement" in done.stdout
    statement.write_bytes(original)
    with (folder / "confirmation-2026-02-v1.pdf").open("ab") as f:
        f.write(b"%extra")
    done = cli("verify", str(statement), "--public-key", key)
    assert done.returncode == 1 and "FAIL  confirmation-2026-02-v1.pdf: changed since signing" in done.stdout
    assert "ok    signature" in done.stdout
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = tmp_path / "other.pub.pem"
    other.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    done = cli("verify", str(statement), "--public-key", str(other))
    assert done.returncode == 1 and "FAIL  key: signed with key" in done.stdout and "not a key you trust" in done.stdout
    (tmp_path / "junk.json").write_text("{not json")
    done = cli("verify", str(tmp_path / "junk.json"), "--public-key", key)
    assert done.returncode == 1 and "FAIL  statement file: not JSON" in done.stdout


def test_confirm_command_and_its_errors(home, capsys):
    assert main(["confirm", "--home", str(home), "--buyer", "B02", "--month", "2026-03"]) == 0
    out = capsys.readouterr().out.split()
    assert [Path(p).name for p in out] == [f"confirmation-2026-03-v1.{x}" for x in ("pdf", "csv", "json")]
    assert main(["confirm", "--home", str(home), "--buyer", "ZZZ", "--month", "2026-03"]) == 1
    assert "no buyer 'ZZZ'" in capsys.readouterr().err
    assert main(["confirm", "--home", str(home), "--buyer", "B02", "--month", "2030-01"]) == 1
    err = capsys.readouterr().err
    assert "2030-01 has not been closed" in err and "2026-01" in err and len(err.strip().splitlines()) == 1
    key = (home / "keys/confirmation-ed25519.pem")
    assert key.stat().st_mode & 0o077 == 0  # the private key is readable by its owner only


def test_statements_say_whether_each_sellers_report_confirmed_the_volume(home):
    with con_of(home) as con:
        published = dict(con.execute("SELECT buyer_id || '/' || invoice_id || '/' || line_no, status "
                                     "FROM volume_handshake").fetchall())
    seen = set()
    for buyer, paths in _buyer_files(home).items():
        for path in paths:
            if path.suffix == ".json":
                s = json.loads(path.read_text())["statement"]
                for line in s["invoice_lines"]:
                    assert line["handshake"] == published.get(f"{buyer}/{line['invoice_id']}/{line['line_no']}")
                    seen.add(line["handshake"])
    assert "CONFIRMED" in seen and seen - {"CONFIRMED"}


def test_a_month_signed_again_after_a_restatement_says_so_and_nothing_stale(home, tmp_path):
    """After the restated month is signed off again, neither the workbook nor the portal's page
    still says it needs a new sign-off."""
    from pennytrail.app import browse
    from reports.close import write_close_workbook

    again = tmp_path / "home"
    shutil.copytree(home, again, ignore=shutil.ignore_patterns("dagster", "published"))
    done = cli("signoff", "--home", str(again), "--month", "2026-01", "--by", "B. Accountant")
    assert done.returncode == 0, done.stderr
    with con_of(again) as con:
        write_close_workbook(con, "2026-01", tmp_path / "close.xlsx")
        view = browse.month_view(con, "2026-01")
    lines = [r[0] for r in _sheet_rows(tmp_path / "close.xlsx", "Summary") if r[0]]
    assert any(s.startswith("Sign-off: signed (signed by B. Accountant") for s in lines)
    assert not any("needs a new sign-off" in s for s in lines)
    assert any("The sign-off in force covers them" in s for s in lines)
    assert view.state == "signed" and view.restated > 0


def test_summary_and_months_list_the_same_months(home):
    from pennytrail.app import list_months, summary

    listed = [m.month for m in list_months(home)]
    text = summary(home).text()
    assert listed == [m.month for m in summary(home).months] and len(listed) >= 3
    for m in listed:
        assert f"  {m}: " in text
    assert "Exception amounts: positive = money short" in text
