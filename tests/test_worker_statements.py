"""What each worker is told (SPEC §10, docs/workers.md): statement codes, the catalogs, every
element of a statement for each basis, status, late, overdue and upstream shortfall, the PDF
holding each worker's own figures and nobody else's, and a worker of two growers."""
from __future__ import annotations

import datetime as dt
import re
import string
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pennytrail.core import codes, worker_statement
from pennytrail.core.money import dollars
from pennytrail.locale import Words, available, extract

from .conftest import small_data_dir, write

ROOT = Path(__file__).resolve().parents[1]


# --- codes ------------------------------------------------------------------------------------------

def test_a_code_is_twenty_symbols_of_an_alphabet_without_look_alikes_in_five_groups():
    assert set(codes.ALPHABET).isdisjoint("0O1IL")
    assert len(set(codes.ALPHABET)) == len(codes.ALPHABET) == 31
    assert codes.LENGTH * __import__("math").log2(len(codes.ALPHABET)) >= 80  # at least 80 bits
    made = [codes.new_code() for _ in range(2000)]
    assert len(set(made)) == len(made)
    for c in made[:50]:
        assert len(c) == 20 and set(c) <= set(codes.ALPHABET)
        assert re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){4}", codes.shown(c))
    used = set("".join(made))
    assert used == set(codes.ALPHABET)  # every symbol is drawn


@given(st.text(alphabet=codes.ALPHABET, min_size=20, max_size=20),
       st.sampled_from(["", "-", " ", " - "]), st.booleans())
def test_a_code_is_found_as_typed_in_any_case_with_or_without_dashes(code, sep, lower):
    text = sep.join(code[i:i + 4] for i in range(0, 20, 4))
    assert codes.typed(text.lower() if lower else text) == code


@pytest.mark.parametrize("text", ["", "ABCD", "0000-0000-0000-0000-0000", "IIII-LLLL-OOOO-1111-2222",
                                  "ABCD-EFGH-JKMN-PQRS-TUVW-X", "x" * 500, "ABCD/EFGH/JKMN/PQRS/TUVW"])
def test_what_cannot_be_a_code_is_refused_before_any_lookup(text):
    assert codes.typed(text) is None


# --- catalogs -----------------------------------------------------------------------------------

PLACE = re.compile(r"\{([a-z_]+)\}")


def missing_from(catalog, messages: list[str]) -> list[str]:
    """The messages a catalog lacks or leaves untranslated, or whose places differ from the English."""
    out = []
    for m in messages:
        found = catalog.get(m)
        if found is None or not found.string or found.fuzzy:
            out.append(m)
        elif sorted(PLACE.findall(found.string)) != sorted(PLACE.findall(m)):
            out.append(m)
    return out


def test_spanish_english_and_haitian_creole_are_there():
    assert {"es", "en", "ht"} <= set(available())


@pytest.mark.parametrize("code", available())
def test_every_catalog_has_every_message_with_the_same_places(code):
    from pennytrail.locale import read

    messages = extract(ROOT)
    assert len(messages) > 60
    catalog = read(code)
    assert missing_from(catalog, messages) == []
    obsolete = [m.id for m in catalog if m.id and m.id not in messages]
    assert obsolete == []


def test_a_catalog_that_lacks_a_message_is_caught(tmp_path):
    from babel.messages.pofile import read_po

    from pennytrail.locale import HERE

    text = (HERE / "ht.po").read_text(encoding="utf-8")
    cut = re.sub(r'\nmsgid "Paid less than your share\."\nmsgstr "[^"]*"\n', "\n", text)
    assert cut != text
    (tmp_path / "ht.po").write_text(cut, encoding="utf-8")
    with (tmp_path / "ht.po").open("rb") as f:
        assert missing_from(read_po(f), extract(ROOT)) == ["Paid less than your share."]


def test_a_translator_adds_a_language_with_one_file(tmp_path, monkeypatch):
    import shutil

    import pennytrail.locale as locale

    for code in available():
        shutil.copy(locale.HERE / f"{code}.po", tmp_path / f"{code}.po")
    text = (locale.HERE / "es.po").read_text(encoding="utf-8").replace('msgstr "Español"', 'msgstr "Kʼicheʼ"')
    (tmp_path / "quc.po").write_text(text, encoding="utf-8")
    monkeypatch.setattr(locale, "HERE", tmp_path)
    locale.translations.cache_clear()
    try:
        assert "quc" in locale.available()
        assert Words("quc").code == "quc" and Words("quc").name == "Kʼicheʼ"
        assert Words("mxt").code == "es"  # a language without a catalog is told in Spanish
    finally:
        locale.translations.cache_clear()


@pytest.mark.parametrize("code", available())
def test_money_and_numbers_have_one_form_in_every_language(code):
    w = Words(code)
    assert dollars(123456) == "$1,234.56" and dollars(-5) == "-$0.05" and dollars(0) == "$0.00"
    assert w.number(__import__("decimal").Decimal("1234.500")) == "1,234.5" and w.number(7) == "7"
    assert "$1,234.56" in w.gettext("Your share of the premium: {amount}", amount=dollars(123456))


def test_words_are_in_the_language_and_dates_name_its_months():
    day = dt.date(2026, 3, 2)
    assert Words("es").date(day) == "2 de marzo de 2026"
    assert Words("ht").date(day) == "2 mas 2026"
    assert Words("en").date(day) == "March 2, 2026"
    assert Words("ht").gettext("Paid less than your share.") == "Yo peye w mwens pase pati pa w la."


# --- every element of a statement, from the boundary program --------------------------------------

def _published(home: Path):
    return duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True)


def _check_elements(s: worker_statement.Statement, p: worker_statement.Period, lines: list[str], w: Words) -> None:
    """Each §10 element of one period, in English, as the statement shows it."""
    text = "\n".join(lines)
    assert f"Pay period {w.date(p.period_start)} to {w.date(p.period_end)}" in text
    eligible = p.basis_value > 0
    if s.basis == "units":
        assert (f"Pieces you picked: {w.number(p.basis_value)}" if eligible else "Work recorded for you: none") in text
    elif s.basis == "hours":
        assert (f"Hours you worked: {w.number(p.basis_value)}" if eligible else "Work recorded for you: none") in text
    elif s.basis == "gross_wages":
        assert (f"Your earnings: {dollars(int(p.basis_value * 100))}" if eligible
                else "Work recorded for you: none") in text
    else:
        assert ("Your part: one equal share" if eligible else "Work recorded for you: none") in text
    if p.pool_basis is not None and s.basis != "equal":
        total = dollars(int(p.pool_basis * 100)) if s.basis == "gross_wages" else w.number(p.pool_basis)
        assert f"all workers: {total}" in text
    assert f"Workers who shared the premium: {p.eligible_workers}" in text
    if p.pool_funded_cents is not None:
        assert f"Premium for all these workers: {dollars(p.pool_funded_cents)}" in text
    assert f"Your share of the premium: {dollars(p.funded_cents)}" in text
    assert f"Paid on your pay stubs: {dollars(p.paid_cents)}" in text
    if p.variance_cents < 0:
        assert f"Still owed to you: {dollars(-p.variance_cents)}" in text
    elif p.variance_cents > 0:
        assert f"Paid above your share: {dollars(p.variance_cents)}" in text
    else:
        assert "Difference: $0.00" in text
    assert worker_statement.status_words(w, p.status) in text
    assert ("Paid late: it was due by" in text) == bool(p.late)
    if p.due_date is not None:
        assert ("Overdue since " + w.date(p.due_date + dt.timedelta(days=1)) in text) == bool(p.overdue)
    else:  # paid without a pool: nothing was due
        assert not p.overdue and "Overdue" not in text
    shortfall = f"was {dollars(p.upstream_shortfall_cents)} short before it reached {s.grower_name}"
    assert (shortfall in text) == (p.upstream_shortfall_cents > 0)


def test_every_element_for_each_basis_status_late_overdue_and_shortfall(boundary_home, two_growers):
    seen: set = set()
    w = Words("en")
    for home in (boundary_home, two_growers):
        con = _published(home)
        try:
            keys = con.execute("SELECT DISTINCT grower_id, worker_id, month FROM worker_audit ORDER BY 1, 2, 3").fetchall()
            for g, wid, month in keys:
                s = worker_statement.worker_statement(con, g, wid, month)
                for p, block in zip(s.periods, worker_statement.blocks(s, w)):
                    _check_elements(s, p, [block.heading] + [ln.text for ln in block.lines], w)
                    status_line = [ln for ln in block.lines if ln.kind == "status"][0]
                    assert status_line.mark in ("✓", "✗", "!")  # a word and a mark, not a colour alone
                    seen |= {("basis", s.basis), ("status", p.status)}
                    seen |= {k for k, on in (("late", p.late), ("overdue", p.overdue),
                                             ("shortfall", p.upstream_shortfall_cents > 0)) if on}
        finally:
            con.close()
    assert {("basis", b) for b in ("units", "hours", "gross_wages", "equal")} <= seen
    assert {("status", x) for x in ("OK", "UNPAID", "UNDERPAID", "OVERPAID", "PAID_WITHOUT_WORK")} <= seen
    assert {"late", "overdue", "shortfall"} <= seen


# --- a small program: a worker of two growers, an hours program ----------------------------------

PROGRAMS = """\
    program_id,name,currency,allocation_basis,grower_retention_pct,distribution_deadline_days,period_days,period_anchor,language,complaint_line
    FFP,Tomatoes,USD,units,0,14,7,2026-01-05,,+1 239 555 0134
    MWD,Dairy,USD,hours,10,21,14,2026-01-05,en,
    """


@pytest.fixture(scope="module")
def two_growers(tmp_path_factory) -> Path:
    """Ana Lucía Gómez (W1) works at G1 and at G2, each with her own payroll id W1; Luis (W2) at G1;
    Rosa (W9) at the dairy D1, paid by the hour. B1 pays G1 in full and G2 half."""
    from pennytrail.app import close

    root = tmp_path_factory.mktemp("two")
    data = small_data_dir(root / "data")
    write(data / "reference" / "programs.csv", PROGRAMS)
    write(data / "inbox" / "purchases" / "p.csv", """\
        buyer_id,invoice_id,line_no,ship_date,seller_id,grower_id,commodity,quantity,unit
        B1,I1,1,2026-01-06,G1,G1,tomatoes,1000,lb
        B1,I2,1,2026-01-06,G2,G2,tomatoes,2000,lb
        B1,I3,1,2026-01-06,D1,D1,milk,1000,cwt
        """)
    write(data / "inbox" / "payments" / "p.csv", """\
        payment_id,line_no,payer_id,payee_id,paid_date,buyer_id,invoice_id,amount
        P1,1,B1,G1,2026-01-09,B1,I1,10.00
        P2,1,B1,G2,2026-01-09,B1,I2,10.00
        P3,1,B1,D1,2026-01-09,B1,I3,50.00
        """)
    write(data / "inbox" / "payroll" / "g.csv", """\
        grower_id,worker_id,period_start,premium_period_start,worker_name,period_end,pay_date,units,hours,gross_wages,premium_paid,language
        G1,W1,2026-01-05,,Ana Lucía Gómez,2026-01-11,2026-01-16,30,,,7.50,ht
        G1,W2,2026-01-05,,Luis Ortiz,2026-01-11,2026-01-16,10,,,2.50,
        G2,W1,2026-01-05,,Ana Lucía Gómez,2026-01-11,2026-01-16,10,,,3.00,ht
        D1,W9,2026-01-05,,Rosa Díaz,2026-01-18,2026-01-23,,80,,45.00,
        """)
    home = root / "home"
    close(data, home)
    return home


def test_a_worker_of_two_growers_has_two_codes_and_two_statements(two_growers):
    con = _published(two_growers)
    try:
        one = codes.find(con, con.execute("SELECT code FROM statement_codes WHERE grower_id = 'G1' "
                                          "AND worker_id = 'W1'").fetchone()[0])
        two = codes.find(con, con.execute("SELECT code FROM statement_codes WHERE grower_id = 'G2' "
                                          "AND worker_id = 'W1'").fetchone()[0])
        assert one[:2] == ("G1", "W1") and two[:2] == ("G2", "W1") and one[2] == two[2] == "ht"
        a = worker_statement.worker_statement(con, "G1", "W1", "2026-01")
        b = worker_statement.worker_statement(con, "G2", "W1", "2026-01")
    finally:
        con.close()
    assert a.code != b.code
    assert (a.funded_cents, a.paid_cents) == (750, 750) and (b.funded_cents, b.paid_cents) == (1000, 300)
    assert a.grower_name == "Grower One" and b.grower_name == "Grower Two"


def test_codes_are_stable_across_closes_and_never_follow_from_id_or_name(two_growers, tmp_path):
    import shutil

    from pennytrail.app import close

    home = tmp_path / "home"
    shutil.copytree(two_growers, home, ignore=shutil.ignore_patterns("dagster"))
    data = two_growers.parent / "data"
    copy = tmp_path / "data"
    shutil.copytree(data, copy)

    def held(h):
        con = _published(h)
        try:
            return dict(((g, w), c) for g, w, c in con.execute(
                "SELECT grower_id, worker_id, code FROM statement_codes WHERE revoked_at IS NULL").fetchall())
        finally:
            con.close()

    before = held(home)
    write(copy / "inbox" / "payroll" / "late.csv", """\
        grower_id,worker_id,period_start,premium_period_start,worker_name,period_end,pay_date,units,hours,gross_wages,premium_paid
        G2,W1,2026-01-12,2026-01-05,Ana Lucía Gómez,2026-01-18,2026-01-23,,,,7.00
        """)
    close(copy, home)
    assert held(home) == before  # a new close keeps every code
    other = tmp_path / "other"
    close(data, other)
    fresh = held(other)
    assert fresh.keys() == before.keys() and not set(fresh.values()) & set(before.values())  # same ids, new codes


def test_a_reissued_code_stops_working_and_the_new_one_works(two_growers, tmp_path, capsys):
    import shutil

    from pennytrail.cli import main

    home = tmp_path / "home"
    shutil.copytree(two_growers, home, ignore=shutil.ignore_patterns("dagster"))
    assert main(["codes", "--home", str(home), "--grower", "G1"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0] == "worker_id,worker_name,code,language"
    old = [ln for ln in listed if ln.startswith("W1,")][0].split(",")[2]
    assert main(["codes", "--home", str(home), "--grower", "G1", "--reissue", "W1"]) == 0
    new = capsys.readouterr().out.splitlines()[1].split(",")[1]
    assert new != old and re.fullmatch(r"([A-Z2-9]{4}-){4}[A-Z2-9]{4}", new)
    from pennytrail.app import snapshots

    for path in (home / "pennytrail.duckdb", snapshots.current(home)):  # the warehouse and the portal's snapshot
        con = duckdb.connect(str(path), read_only=True)
        try:
            assert codes.find(con, codes.typed(old)) is None
            assert codes.find(con, codes.typed(new))[:2] == ("G1", "W1")
        finally:
            con.close()
    assert main(["codes", "--home", str(home), "--grower", "G1", "--reissue", "NOBODY"]) == 1
    assert "no statement code" in capsys.readouterr().err
    log = (home / "logs" / "pennytrail.log")
    assert not log.exists() or (old not in log.read_text() and new not in log.read_text())


# --- the PDF ------------------------------------------------------------------------------------

def _pages_text(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() for p in PdfReader(str(path)).pages]


def test_the_pdf_holds_each_workers_own_name_and_figures_and_no_one_elses(boundary_home, tmp_path):
    """G6: five eligible workers, one unpaid. Each statement, written alone, holds its worker's
    name, id, share, pay and code, and no other worker's name, id or code."""
    con = _published(boundary_home)
    try:
        month = con.execute("SELECT min(month) FROM worker_audit WHERE grower_id = 'G6'").fetchone()[0]
        workers = worker_statement.grower_workers(con, "G6", month)
        found = [worker_statement.worker_statement(con, "G6", w, month) for w in workers]
    finally:
        con.close()
    assert len(found) == 5
    names = {s.worker_id: s.worker_name for s in found}
    from reports.worker_statement import write_pdf

    for s in found:
        path = write_pdf([s], tmp_path / f"{s.worker_id}.pdf", "https://portal.example.org")
        text = " ".join(_pages_text(path))
        flat = re.sub(r"\s+", " ", text)
        assert s.worker_id in flat and codes.shown(s.code) in flat
        if s.worker_name:
            assert s.worker_name in flat
        w = Words(s.language)
        for p in s.periods:
            assert dollars(p.funded_cents) in flat and dollars(p.paid_cents) in flat
        for other in found:
            if other.worker_id == s.worker_id:
                continue
            assert other.worker_id not in flat and codes.shown(other.code) not in flat
            if other.worker_name:
                assert other.worker_name not in flat


def test_the_grower_pdf_has_a_page_for_each_worker_in_their_language(two_growers, tmp_path):
    from pennytrail.cli import main

    out = tmp_path / "g1.pdf"
    assert main(["statements", "--home", str(two_growers), "--grower", "G1", "--month", "2026-01",
                 "--out", str(out)]) == 0
    pages = [re.sub(r"\s+", " ", t) for t in _pages_text(out)]
    assert len(pages) == 2 and out.read_bytes().startswith(b"%PDF")
    ana, luis = pages
    assert "Ana Lucía Gómez" in ana and "Luis Ortiz" not in ana and "Rapò bonis pou janvye 2026" in ana  # ht
    assert "Luis Ortiz" in luis and "Ana Lucía Gómez" not in luis and "Estado de cuenta del bono de enero de 2026" in luis
    assert "+1 239 555 0134" in ana and "+1 239 555 0134" in luis  # the program's complaint line
    assert "$7.50" in ana and "$2.50" in luis and "$2.50" not in ana  # each their own share; the pool's $10.00 is shared
    dairy = tmp_path / "d1.pdf"
    assert main(["statements", "--home", str(two_growers), "--grower", "D1", "--month", "2026-01",
                 "--out", str(dairy)]) == 0
    text = re.sub(r"\s+", " ", " ".join(_pages_text(dairy)))
    assert "Hours you worked: 80" in text  # the dairy program names English
    assert "Something wrong? Say so on your statement page" in text  # no complaint line in programs.csv


def test_statements_of_a_month_not_closed_or_an_unknown_grower_are_one_line(two_growers, capsys):
    from pennytrail.cli import main

    assert main(["statements", "--home", str(two_growers), "--grower", "G1", "--month", "2030-01"]) == 1
    assert "no published worker audit" in capsys.readouterr().err
    assert main(["statements", "--home", str(two_growers), "--grower", "../../etc", "--month", "2026-01"]) == 1
    assert "no grower" in capsys.readouterr().err


def test_the_default_pdf_path_is_never_made_from_the_grower_id(two_growers, capsys):
    from pennytrail.cli import main

    assert main(["statements", "--home", str(two_growers), "--grower", "G1", "--month", "2026-01"]) == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.parent.parent == two_growers / "statements" and path.parent.name.startswith("g1-")
    assert path.is_file()
