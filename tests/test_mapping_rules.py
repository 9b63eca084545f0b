"""SPEC §3b rule by rule: profiles checked like code, and a sender's file read through its profile."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from pennytrail.core.mapping import glob_regex, norm, parse_profile, ProfileError
from pennytrail.core.mapped import number_text
from pennytrail.core.reference import ReferenceDataError, load_reference

from .conftest import write
from .test_sender_shapes import run

BASE = """\
kind: payroll
files: "g1/**/*.csv"
columns:
  worker_id: Emp
  worker_name: Name
  period_start: Start
  period_end: End
  pay_date: Pay Date
  hours: Hours
  gross_wages: Gross
  premium_paid: Premium
constants:
  grower_id: G1
formats:
  period_start: "%m/%d/%Y"
  period_end: "%m/%d/%Y"
  pay_date: "%m/%d/%Y"
"""
HEADER = "Emp,Name,Start,End,Pay Date,Hours,Gross,Premium\n"


def row(emp="W1", pay="01/16/2026", hours="40", gross="100.00", premium="1.00", start="01/05/2026", end="01/11/2026"):
    return f'{emp},Ann,{start},{end},{pay},"{hours}","{gross}","{premium}"\n'


def sent(data_dir: Path, body: str, profile: str = BASE, name: str = "inbox/payroll/g1/a.csv", encoding="utf-8"):
    write(data_dir / "reference/mappings/p.yaml", profile)
    (data_dir / name).parent.mkdir(parents=True, exist_ok=True)
    (data_dir / name).write_bytes(body.encode(encoding))
    return run(data_dir)


def codes(out) -> list[tuple[int, str]]:
    return [(r, c) for _, _, r, c, _, _ in out["quarantine"]]


# -- profiles -----------------------------------------------------------------------------------

PROFILE_ERRORS = [
    ("an unknown key", BASE + "delimeter: ';'\n", "delimeter", "unknown key 'delimeter'"),
    ("an unknown dialect key", BASE + "dialect: {sheet: Hoja2}\n", "dialect.sheet", "unknown key 'sheet'"),
    ("a kind that is not one", BASE.replace("kind: payroll", "kind: wages"), "kind", "is not one of"),
    ("no files", BASE.replace('files: "g1/**/*.csv"\n', ""), "(top)", "'files' is a required property"),
    ("a files pattern leaving the inbox", BASE.replace('"g1/**/*.csv"', '"../ref/*.csv"'), "files", "without '..'"),
    ("a §3 column that does not exist", BASE.replace("  hours: Hours", "  hourz: Hours"), "columns.hourz",
     "is not a payroll column"),
    ("a constant of no §3 column", BASE.replace("  grower_id: G1", "  farm: G1"), "constants.farm", "is not a payroll"),
    ("a required column left out", BASE.replace("  pay_date: Pay Date\n", "").replace('  pay_date: "%m/%d/%Y"\n', ""),
     "columns", "gives no pay_date"),
    ("a format of a column that is not a date", BASE + "  hours: '%d'\n", "formats.hours", "not a date column"),
    ("a format that is not a date pattern", BASE.replace('pay_date: "%m/%d/%Y"', 'pay_date: "%m/%Y"'),
     "formats.pay_date", "not a date pattern"),
    ("a skip pattern RE2 does not run", BASE + "skip: [{column: Emp, pattern: '(a)\\1'}]\n", "skip[0].pattern",
     "back-references"),
    ("a skip rule of neither form", BASE + "skip: [{column: Emp}]\n", "skip[0]", ""),
    ("an encoding not offered", BASE + "dialect: {encoding: ebcdic}\n", "dialect.encoding", "is not one of"),
    ("a header row of 0", BASE + "dialect: {headerRows: [0]}\n", "dialect.headerRows[0]", "less than the minimum"),
    ("a decimal char that is also the group char", BASE + "dialect: {decimalChar: ',', groupChar: ','}\n",
     "dialect.groupChar", "cannot be the decimal"),
    ("a decimal number as a constant", BASE.replace("  grower_id: G1", "  grower_id: G1\n  crew_id: 1.10"), "constants.crew_id", "in quotes"),
    ("earnings in a purchases profile", "kind: purchases\nfiles: x.csv\nearnings: {shape: lines, code: C, amount: A, "
     "codes: {premium_paid: [P]}}\n", "earnings", "payroll profiles only"),
    ("an earnings column also under columns", BASE + "earnings: {shape: lines, code: C, amount: A, "
     "codes: {premium_paid: [P]}}\n", "columns.premium_paid", "produced by earnings"),
    ("a pairs pattern without {n}", BASE.replace("  gross_wages: Gross\n  premium_paid: Premium\n", "")
     + "earnings: {shape: pairs, pairs: [{code: 'Code', amount: 'Amount {n}'}], codes: {premium_paid: [P]}}\n",
     "earnings.pairs[0].code", "{n} once"),
    ("a lines profile without a code header", BASE.replace("  premium_paid: Premium\n", "")
     + "earnings: {shape: lines, amount: A, codes: {premium_paid: [P]}}\n", "earnings", "'code' is a required"),
    ("an unknown codes column", BASE.replace("  premium_paid: Premium\n", "")
     + "earnings: {shape: lines, code: C, amount: A, codes: {bonus: [B]}}\n", "earnings.codes.bonus", "unknown key"),
    ("a fill_down of no column", BASE + "fill_down: [crew_id]\n", "fill_down", "no cell to fill"),
    ("YAML that does not parse", BASE + "columns: [\n", None, "not YAML"),
    ("a list instead of a profile", "- kind: payroll\n", None, "a map of keys"),
]


@pytest.mark.parametrize("what, text, key, reason", PROFILE_ERRORS, ids=[p[0] for p in PROFILE_ERRORS])
def test_a_profile_error_names_its_file_key_and_reason(data_dir, what, text, key, reason):
    write(data_dir / "reference/mappings/p.yaml", text)
    with pytest.raises(ReferenceDataError) as e:
        load_reference(data_dir)
    line = str(e.value)
    assert "\n" not in line
    assert "reference/mappings/p.yaml" in line and reason in line
    if key:
        assert f"p.yaml, {key}:" in line


def test_the_published_schema_is_the_one_the_loader_uses():
    from pennytrail.core import mapping

    schema = json.loads(mapping.SCHEMA_PATH.read_text())
    assert set(schema["properties"]) == {"kind", "files", "dialect", "columns", "constants", "formats", "values",
                                         "skip", "fill_down", "earnings"}
    assert set(schema["properties"]["dialect"]["properties"]) == {
        "sheetName", "headerRows", "headerJoin", "delimiter", "quoteChar", "encoding", "decimalChar", "groupChar"}
    assert mapping.schema() == schema


def test_a_good_profile_loads_and_dates_and_numbers_in_it_are_text(data_dir):
    write(data_dir / "reference/mappings/p.yaml", BASE.replace("grower_id: G1", "grower_id: 1001") +
          "values:\n  worker_id: {7: W7}\n")
    ref = load_reference(data_dir)
    (p,) = ref.mappings
    assert p.constants["grower_id"] == "1001" and p.values["worker_id"] == {"7": "W7"}


def test_globs_cross_folders_only_with_two_stars():
    assert glob_regex("T003-adp/*.csv").fullmatch("T003-adp/w1.csv")
    assert not glob_regex("T003-adp/*.csv").fullmatch("T003-adp/2026/w1.csv")
    assert glob_regex("**/*.csv").fullmatch("w1.csv") and glob_regex("**/*.csv").fullmatch("a/b/w1.csv")
    assert glob_regex("a/**/x?.xlsx").fullmatch("a/b/c/x1.xlsx")


def test_headers_match_trimmed_with_white_space_collapsed_and_case_folded():
    assert norm("  Pay \t  DATE ") == norm("pay date") == "pay date"
    assert norm("STRASSE") == norm("straße")


def test_a_pattern_that_backtracks_forever_elsewhere_is_linear_here(data_dir):
    """``(a+)+$`` against a long run of a's and a b takes exponential time in a backtracking engine;
    RE2 runs it in time linear in the cell, so the close finishes."""
    profile = BASE + "skip: [{column: Name, pattern: '(a+)+$'}]\n"
    body = HEADER + row().replace(",Ann,", "," + "a" * 50_000 + "b,") + row(emp="W2").replace(",Ann,", ",aaaa,")
    out = sent(data_dir, body, profile)
    assert out["log"][0][2:6] == (2, 1, 0, 1)  # read, accepted, quarantined, skipped


# -- values -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, dec, group, amount, expected", [
    ("1.234,56", ",", ".", True, "1234.56"),
    ("1.23,4", ",", ".", True, None),
    ("12.345.678,9", ",", ".", False, "12345678.9"),
    ("1234,5", ",", ".", False, "1234.5"),
    ("1,234.56", ".", ",", False, "1234.56"),
    ("12,34.56", ".", ",", False, None),
    ("1,234.56", ".", None, False, None),
    ("$1,234.56", ".", None, True, "1234.56"),
    ("-$3.00", ".", None, True, "-3.00"),
    ("$-3.00", ".", None, True, "-3.00"),
    ("(12.00)", ".", None, True, "-12.00"),
    ("($1,000.00)", ".", None, True, "-1000.00"),
    ("(12.00)", ".", None, False, None),
    ("$12", ".", None, False, None),
    ("-(12.00)", ".", None, True, None),
    ("1e5", ".", None, True, None),
])
def test_numbers_in_the_senders_notation(text, dec, group, amount, expected):
    assert number_text(text, dec, group, amount) == expected


def test_a_group_character_out_of_place_is_bad_number_or_bad_amount(data_dir):
    profile = BASE + "dialect: {decimalChar: ',', groupChar: '.'}\n"
    out = sent(data_dir, HEADER + row(hours="1.23,4", gross="100,00", premium="1,00")
               + row(emp="W2", hours="40", gross="1.23,4", premium="1,00")
               + row(emp="W3", hours="1.234,5", gross="1.234,56", premium="12,00"), profile)
    q = {r: (c, m) for _, _, r, c, m, _ in out["quarantine"]}
    assert q[2] == ("BAD_NUMBER", '"Hours" (hours): "1.23,4" is not a number like 1.234,56')
    assert q[3] == ("BAD_AMOUNT", '"Gross" (gross_wages): "1.23,4" is not an amount like 1.234,56')
    assert len(out["payroll"]) == 1 and "Decimal('1234.500')" in out["payroll"][0] and "123456" in out["payroll"][0]


def test_parentheses_and_a_minus_before_the_dollar_are_negative(data_dir):
    out = sent(data_dir, HEADER + row(gross="$1,234.56", premium="(12.00)") + row(emp="W2", premium="-$3.00")
               + row(emp="W3", premium="$0.50") + row(emp="W4", gross="$1,234.56", premium="1.00"))
    assert [(r, c) for r, c in codes(out)] == [(2, "NEGATIVE_VALUE"), (3, "NEGATIVE_VALUE")]
    assert '"Premium" (premium_paid): must not be negative' in out["quarantine"][0][4]
    assert sorted(r[-12:] for r in out["payroll"]) == [", 10000, 50)", "123456, 100)"]


def test_the_message_names_the_senders_header_beside_the_column(data_dir):
    out = sent(data_dir, HEADER + row(pay="13/02/2026") + row(emp="", pay="01/16/2026"))
    (_, _, r1, c1, m1, raw1), (_, _, r2, c2, m2, _) = out["quarantine"]
    assert (r1, c1, m1) == (2, "BAD_DATE", '"Pay Date" (pay_date): "13/02/2026" is not a date like 02/13/2026')
    assert json.loads(raw1)["Pay Date"] == "13/02/2026" and json.loads(raw1)["Emp"] == "W1"
    assert (r2, c2) == (3, "MISSING_FIELD") and m2.startswith('"Emp" (worker_id) is blank')


def test_the_first_header_present_of_a_list_is_read(data_dir):
    profile = BASE.replace("  worker_name: Name", "  worker_name: [Employee Name, Name]")
    out = sent(data_dir, HEADER.replace("Name", "EMPLOYEE   name") + row(), profile)
    assert len(out["payroll"]) == 1 and "'Ann'" in out["payroll"][0]


def test_values_are_translated_and_others_pass_through(data_dir):
    profile = BASE + "values:\n  worker_id: {' W1 ': WORKER-1}\n"
    out = sent(data_dir, HEADER + row() + row(emp="W2"), profile)
    assert any("'WORKER-1'" in r for r in out["payroll"]) and any("'W2'" in r for r in out["payroll"])


# -- the file's layout --------------------------------------------------------------------------

def test_title_rows_skip_rules_and_fill_down_and_their_counts(data_dir):
    profile = BASE.replace('files: "g1/**/*.csv"', 'files: "g1/**/*.csv"\ndialect: {headerRows: [3]}') + \
        "skip:\n  - {column: Emp, pattern: '^Total'}\n  - {blank: Start}\nfill_down: [worker_id, worker_name]\n"
    body = ("Weekly journal,,,,,,,\n,,,,,,,\n" + HEADER + row() + row(emp="", start="01/12/2026", end="01/18/2026")
            .replace(",Ann,", ",,") + "Total W1,,,,,80,200.00,2.00\n" + ",,,,,,,\n" + "W2,Bo,,,,,,\n"
            + row(emp="", start="01/19/2026", end="01/25/2026").replace(",Ann,", ",,"))
    out = sent(data_dir, body, profile)
    # rows: title 1 (skipped), blank 2 (not counted), header 3, data 4-5, total 6 (skipped), blank 7,
    # 8 skipped by {blank: Start}: its worker is still not the one filled down (fill comes from row 5)
    assert out["log"][0][2:6] == (6, 3, 0, 3)
    workers = sorted(r.split(",")[1] for r in out["payroll"])
    assert workers == [" 'W1'", " 'W1'", " 'W1'"]


def test_a_header_that_moved_rows_rejects_the_file_naming_header_and_column(data_dir):
    profile = BASE + "dialect: {headerRows: [2]}\n"
    out = sent(data_dir, "Journal\n\n" + HEADER + row(), profile)  # the header is on row 3 now
    (q,) = out["quarantine"]
    assert q[3] == "MISSING_COLUMN" and q[2] is None
    assert '"Emp" (worker_id)' in q[4] and "p.yaml" in q[4]
    assert out["payroll"] == [] and out["log"][0][1] == "rejected"


def test_several_header_rows_are_joined(data_dir):
    profile = BASE.replace("Pay Date", "Pay Date").replace("  gross_wages: Gross", "  gross_wages: Gross Pay") + \
        "dialect: {headerRows: [1, 2]}\n"
    body = ",,,,,,Gross,\n" + HEADER.replace("Gross", "Pay") + row()
    out = sent(data_dir, body, profile)
    assert len(out["payroll"]) == 1


def test_a_sheet_that_is_not_the_first_and_date_cells_whatever_the_pattern(data_dir):
    from openpyxl import Workbook
    import datetime as dt

    wb = Workbook()
    wb.active.title = "Notes"
    ws = wb.create_sheet("Hoja2")
    ws.append(HEADER.strip().split(","))
    ws.append(["W1", "Ann", dt.date(2026, 1, 5), dt.date(2026, 1, 11), "16/01/2026", 40, "1.234,56", "1,00"])
    path = data_dir / "inbox/payroll/g1/a.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    profile = BASE.replace('"g1/**/*.csv"', '"g1/*.xlsx"').replace('pay_date: "%m/%d/%Y"', 'pay_date: "%d/%m/%Y"') + \
        "dialect: {sheetName: Hoja2, decimalChar: ',', groupChar: '.'}\n"
    write(data_dir / "reference/mappings/p.yaml", profile)
    out = run(data_dir)
    assert out["quarantine"] == [] and len(out["payroll"]) == 1
    assert "123456, 100)" in out["payroll"][0] and "2026, 1, 16" in out["payroll"][0]
    assert out["log"][0][0] == "inbox/payroll/g1/a.xlsx"


def test_a_missing_sheet_rejects_the_file(data_dir):
    from openpyxl import Workbook

    path = data_dir / "inbox/payroll/g1/a.xlsx"
    path.parent.mkdir(parents=True)
    Workbook().save(path)
    write(data_dir / "reference/mappings/p.yaml", BASE.replace('"g1/**/*.csv"', '"g1/*.xlsx"')
          + "dialect: {sheetName: Hoja2}\n")
    (q,) = run(data_dir)["quarantine"]
    assert "no sheet 'Hoja2'" in q[4]


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "utf-16", "utf-8"])
def test_encodings(data_dir, encoding):
    profile = BASE + f"dialect: {{encoding: {encoding}, delimiter: ';'}}\n"
    body = (HEADER + row()).replace(",", ";").replace("Ann", "José Peña")
    out = sent(data_dir, ("\ufeff" if encoding == "utf-8" else "") + body, profile, encoding=encoding)
    assert len(out["payroll"]) == 1 and "José Peña" in out["payroll"][0]


# -- pay codes ----------------------------------------------------------------------------------

PAIRS = BASE.replace("  gross_wages: Gross\n  premium_paid: Premium\n", "").replace("  hours: Hours\n", "") + """\
earnings:
  shape: pairs
  pairs: [{code: "E{n} Code", amount: "E{n} Amount"}, {code: "H{n} Code", hours: "H{n} Hours"}]
  codes: {premium_paid: [FFP], gross_wages: "*", hours: [REG]}
"""
PAIRS_HEADER = "Emp,Name,Start,End,Pay Date,E1 Code,E1 Amount,E2 Code,E2 Amount,E3 Code,E3 Amount,H1 Code,H1 Hours\n"


def test_pairs_add_up_and_count_unmapped_codes(data_dir):
    body = PAIRS_HEADER + "W1,Ann,01/05/2026,01/11/2026,01/16/2026,REG,100.00,FFP,2.50,FFP,0.50,REG,40\n" \
        "W2,Bo,01/05/2026,01/11/2026,01/16/2026,REG,100.00,,5.00,RMB,1.00,OTH,3\n" \
        "W3,Cy,01/05/2026,01/11/2026,01/16/2026,REG,100.00,OT,5.00,,,SICK,8\n"
    out = sent(data_dir, body, PAIRS)
    assert codes(out) == [(3, "MISSING_FIELD")]
    assert '"E2 Code" (pay code) is blank beside "5.00" in "E2 Amount"' in out["quarantine"][0][4]
    rows = out["payroll"]
    assert "Decimal('40.000'), Decimal('0.000'), 10000, 300)" in rows[0]
    assert "Decimal('0.000'), Decimal('0.000'), 10500, 0)" in rows[1]  # OT counts under "*"; SICK hours do not
    assert json.loads(out["log"][0][7]) == {"OTH": 1, "SICK": 1}


LINES = BASE.replace("  gross_wages: Gross\n  premium_paid: Premium\n", "").replace("  hours: Hours\n", "") + """\
earnings:
  shape: lines
  code: Code
  amount: Amount
  hours: Hours
  codes: {premium_paid: [FFP], gross_wages: [HRS, PIECE], hours: [HRS]}
"""
LINES_HEADER = "Emp,Name,Start,End,Pay Date,Code,Hours,Amount\n"


def test_a_bad_line_quarantines_its_siblings_and_good_keys_add_up(data_dir):
    body = LINES_HEADER + "".join(f"{e},Ann,01/05/2026,01/11/2026,01/16/2026,{c},{h},{a}\n" for e, c, h, a in [
        ("W1", "HRS", "40", "400.00"), ("W1", "PIECE", "", "50.00"), ("W1", "FFP", "", "4.00"), ("W1", "BONUS", "", "9"),
        ("W2", "HRS", "10", "100.00"), ("W2", "FFP", "", "1.234"), ("W2", "PIECE", "", "3.00")])
    out = sent(data_dir, body, LINES)
    assert codes(out) == [(6, "SIBLING_REJECTED"), (7, "BAD_AMOUNT"), (8, "SIBLING_REJECTED")]
    assert "row 7" in out["quarantine"][0][4]
    (accepted,) = out["payroll"]
    assert "Decimal('40.000'), Decimal('0.000'), 45000, 400)" in accepted
    assert out["log"][0][2:5] == (7, 4, 3)  # a lines file counts its lines
    assert json.loads(out["log"][0][7]) == {"BONUS": 1}


def test_lines_of_one_key_in_two_files_are_a_correction(data_dir):
    write(data_dir / "reference/mappings/p.yaml", LINES)
    for name, amount in (("a", "4.00"), ("b", "5.00")):
        write(data_dir / f"inbox/payroll/g1/{name}.csv", LINES_HEADER + f"W1,Ann,01/05/2026,01/11/2026,01/16/2026,FFP,,{amount}\n")
    from pennytrail.core.ingest import ingest
    from pennytrail.core.warehouse import connect

    out = run(data_dir)
    assert out["quarantine"] == [] and len(out["payroll"]) == 2
    with connect(data_dir.parent / "data.duckdb", read_only=True) as con:
        assert con.execute("SELECT premium_paid_cents FROM payroll").fetchall() == [(500,)]


# -- which profile, which sender -----------------------------------------------------------------

def test_two_profiles_matching_one_file_reject_it_naming_both(data_dir):
    write(data_dir / "reference/mappings/q.yaml", BASE.replace('"g1/**/*.csv"', '"**/a.csv"'))
    out = sent(data_dir, HEADER + row())
    (q,) = out["quarantine"]
    assert q[3] == "AMBIGUOUS_MAPPING" and "reference/mappings/p.yaml" in q[4] and "reference/mappings/q.yaml" in q[4]


def test_a_file_no_profile_matches_is_read_as_section_3(data_dir):
    out = sent(data_dir, HEADER + row(), name="inbox/payroll/other/a.csv")
    assert out["quarantine"][0][3] == "MISSING_COLUMN" and out["log"][0][6] is None


def test_a_resent_mapped_file_changes_nothing(data_dir):
    sent(data_dir, HEADER + row())
    write(data_dir / "inbox/payroll/g1/again.csv", HEADER + row())
    out = run(data_dir)
    assert [l[1] for l in out["log"]] == ["loaded", "duplicate"] and len(out["payroll"]) == 1


SECTION3 = "grower_id,worker_id,period_start,premium_period_start,worker_name,period_end,pay_date,hours,units," \
           "gross_wages,premium_paid\n"


@pytest.mark.parametrize("sender, grower, code", [("G1", "G1", None), ("G1", "G2", "WRONG_SENDER"),
                                                  ("G1", "B1", "WRONG_PARTY_TYPE"), ("G1", "G7", "UNKNOWN_PARTY")])
def test_a_sender_sends_its_own_rows_only(data_dir, sender, grower, code):
    write(data_dir / f"inbox/payroll/senders/{sender}/week.csv",
          SECTION3 + f"{grower},W1,2026-01-05,,Ann,2026-01-11,2026-01-16,40,,100.00,1.00\n")
    out = run(data_dir)
    assert [c for _, c in codes(out)] == ([code] if code else [])
    if code == "WRONG_SENDER":
        assert "grower_id: 'G2' is another party" in out["quarantine"][0][4]


def test_a_mapped_file_from_another_sender_is_wrong_sender_with_the_header(data_dir):
    profile = BASE.replace('"g1/**/*.csv"', '"senders/G2/*.csv"')
    out = sent(data_dir, HEADER + row(), profile, name="inbox/payroll/senders/G2/a.csv")
    (q,) = out["quarantine"]
    assert q[3] == "WRONG_SENDER" and q[4].startswith("grower_id: 'G1' is another party")
