"""The optional columns of what workers are told: programs' language and complaint line, payroll's
language (an ISO 639 code, checked), carried into the warehouse; a worker's language is the
latest payroll row's that names one, else the program's, else Spanish."""
from __future__ import annotations

import pytest

from pennytrail.core import languages
from pennytrail.core.reference import ReferenceDataError, load_reference
from pennytrail.core.validate import validate_many
from pennytrail.core.reading import read_table

from .conftest import write

PROGRAMS = """\
    program_id,name,currency,allocation_basis,grower_retention_pct,distribution_deadline_days,period_days,period_anchor,language,complaint_line
    FFP,Tomatoes,USD,units,0,14,7,2026-01-05,ht,+1 239 555 0134
    MWD,Dairy,USD,hours,10,21,14,2026-01-05,,
    """


@pytest.mark.parametrize("code,ok", [("es", True), ("EN", True), ("ht", True), ("quc", True), ("kjb", True),
                                     ("mxt", True), ("zz", False), ("e", False), ("spanish", False),
                                     ("es-MX", False), ("", False), ("qqq", False)])
def test_language_codes_are_iso_639(code, ok):
    assert languages.is_language(code) is ok


def test_the_workers_language_is_payroll_then_program_then_spanish():
    assert languages.worker_language("HT", "en") == "ht"
    assert languages.worker_language(None, "en") == "en"
    assert languages.worker_language("", None) == "es"
    assert languages.worker_language(None, None) == languages.DEFAULT == "es"


def test_programs_read_their_language_and_complaint_line(data_dir):
    write(data_dir / "reference" / "programs.csv", PROGRAMS)
    ref = load_reference(data_dir)
    assert (ref.programs["FFP"].language, ref.programs["FFP"].complaint_line) == ("ht", "+1 239 555 0134")
    assert (ref.programs["MWD"].language, ref.programs["MWD"].complaint_line) == (None, None)


def test_programs_without_the_optional_columns_still_load(data_dir):
    ref = load_reference(data_dir)  # conftest's programs.csv has neither column
    assert ref.programs["FFP"].language is None and ref.programs["FFP"].complaint_line is None


@pytest.mark.parametrize("language,line,problem", [
    ("xx", "", "reference/programs.csv row 2, language: 'xx' is not an ISO 639 language code"),
    ("Spanish", "", "reference/programs.csv row 2, language: 'Spanish' is not an ISO 639 language code"),
    ("es", "call us", "reference/programs.csv row 2, complaint_line: expected a phone number"),
    ("es", "555", "reference/programs.csv row 2, complaint_line: expected a phone number"),
])
def test_a_bad_language_or_complaint_line_stops_the_close_naming_the_field(data_dir, language, line, problem):
    write(data_dir / "reference" / "programs.csv", PROGRAMS.replace(
        "FFP,Tomatoes,USD,units,0,14,7,2026-01-05,ht,+1 239 555 0134",
        f"FFP,Tomatoes,USD,units,0,14,7,2026-01-05,{language},{line}"))
    with pytest.raises(ReferenceDataError) as e:
        load_reference(data_dir)
    assert any(str(p).startswith(problem) for p in e.value.problems), [str(p) for p in e.value.problems]


def _payroll(data_dir, rows: str):
    path = write(data_dir / "inbox" / "payroll" / "p.csv", "grower_id,worker_id,period_start,premium_period_start,"
                 "worker_name,period_end,pay_date,hours,units,gross_wages,premium_paid,language\n" + rows)
    checked = validate_many([read_table(path)], "payroll", load_reference(data_dir))
    return list(zip(checked.code, checked.message))


def test_payroll_language_is_blank_or_a_code_and_a_bad_one_is_quarantined_with_its_value(data_dir):
    found = _payroll(data_dir, "G1,W1,2026-01-05,,Ana,2026-01-11,2026-01-16,40,100,400.00,1.00,ht\n"
                               "G1,W2,2026-01-05,,Luis,2026-01-11,2026-01-16,40,100,400.00,1.00,\n"
                               "G1,W3,2026-01-05,,Rosa,2026-01-11,2026-01-16,40,100,400.00,1.00,QUC\n"
                               "G1,W4,2026-01-05,,Jean,2026-01-11,2026-01-16,40,100,400.00,1.00,kreyol\n")
    assert [c for c, _ in found[:3]] == [None, None, None]
    code, message = found[3]
    assert code == "BAD_LANGUAGE"
    assert message.startswith("language: 'kreyol' is not an ISO 639 language code")


def test_the_language_reaches_the_warehouse_and_each_worker_gets_theirs(tmp_path):
    """Through a real close: payroll's latest row naming a language wins (a later blank does not
    erase it), then the program's (here Haitian Creole), then Spanish for a program without one."""
    import duckdb

    from pennytrail.app import close
    from .conftest import small_data_dir

    data = small_data_dir(tmp_path / "data")
    write(data / "reference" / "programs.csv", PROGRAMS)
    write(data / "inbox" / "purchases" / "p.csv", """\
        buyer_id,invoice_id,line_no,ship_date,seller_id,grower_id,commodity,quantity,unit
        B1,I1,1,2026-01-06,G1,G1,tomatoes,1000,lb
        B1,I2,1,2026-01-06,D1,D1,milk,1000,cwt
        """)
    write(data / "inbox" / "payroll" / "g1.csv", """\
        grower_id,worker_id,period_start,premium_period_start,worker_name,period_end,pay_date,units,hours,gross_wages,premium_paid,language
        G1,W1,2026-01-05,,Ana,2026-01-11,2026-01-16,10,,,0,en
        G1,W1,2026-01-12,,Ana,2026-01-18,2026-01-23,10,,,0,
        G1,W2,2026-01-05,,Luis,2026-01-11,2026-01-16,10,,,0,
        D1,W9,2026-01-05,,Rosa,2026-01-18,2026-01-23,,10,,0,
        """)
    home = tmp_path / "home"
    close(data, home)
    con = duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT language, complaint_line FROM ref_programs ORDER BY program_id").fetchall() == [
            ("ht", "+1 239 555 0134"), (None, None)]
        langs = dict(((g, w), lang) for g, w, lang in con.execute(
            "SELECT grower_id, worker_id, language FROM statement_codes WHERE revoked_at IS NULL").fetchall())
        assert con.execute("SELECT language FROM payroll WHERE worker_id = 'W1' ORDER BY period_start").fetchall() == [
            ("en",), (None,)]
    finally:
        con.close()
    assert langs == {("G1", "W1"): "en", ("G1", "W2"): "ht", ("D1", "W9"): "es"}
