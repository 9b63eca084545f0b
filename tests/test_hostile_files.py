"""Hostile files, as a sender's software or an attacker would produce them: each ends in ingest_log
as loaded or rejected with a named code and a message that names what to do, and the good file
beside it loads all the same."""

from __future__ import annotations

import json
import secrets
import zipfile

import duckdb
import pytest

from pennytrail.core import ingest as ingest_module
from pennytrail.core import screening

from . import hostile
from .conftest import write
from .test_ingest_bad_input import GOOD_PAYROLL, PAYROLL_HEADER, run

HEADER = PAYROLL_HEADER.split(",")
ROW = GOOD_PAYROLL.split(",")


@pytest.fixture
def inbox(data_dir):
    """The data folder, with one good payroll file that must load whatever lies beside it."""
    write(data_dir / "inbox/payroll/good.csv", PAYROLL_HEADER + "\n" + GOOD_PAYROLL.replace("W1", "GOOD") + "\n")
    return data_dir


def outcome(data_dir, name: str):
    """(status, code, message) of the file ``name`` under inbox/payroll/, after checking that the good
    file loaded."""
    log, q, payroll, _ = run(data_dir)
    status = {f.rsplit("/", 1)[-1]: s for f, s, *_ in log}
    assert status["good.csv"] == "loaded" and "GOOD" in [r[0] for r in payroll]
    codes = [(r[2], r[3]) for r in q if r[0].endswith("/" + name) and r[1] is None]
    assert len(log) == 2, log  # every file ends in ingest_log
    return (status[name], *(codes[0] if codes else (None, None)))


def payroll_path(data_dir, name):
    return data_dir / "inbox/payroll" / name


def good_sheet(extra_cells: str = "", dimension: str | None = None) -> str:
    return hostile.sheet_xml([HEADER, ROW], extra_cells=extra_cells, dimension=dimension)


# -- workbooks -----------------------------------------------------------------------------------

def test_plain_handmade_workbook_loads(inbox):
    hostile.workbook(payroll_path(inbox, "p.xlsx"), good_sheet())
    assert outcome(inbox, "p.xlsx")[0] == "loaded"


def test_one_cell_at_xfd1048576_is_rejected_before_the_read(inbox):
    hostile.workbook(payroll_path(inbox, "p.xlsx"), good_sheet(hostile.cell("XFD1048576", "x")))
    status, code, message = outcome(inbox, "p.xlsx")
    assert (status, code) == ("rejected", "FILE_TOO_LARGE")
    assert "1,048,576 rows × 16,384 columns" in message and "Ctrl+End" in message


@pytest.mark.parametrize("ref", ["AAA1", "Q1", "A2000000", "ZZ999999"])
def test_far_cells_in_any_column_or_row_are_measured(inbox, ref):
    hostile.workbook(payroll_path(inbox, "p.xlsx"), good_sheet(hostile.cell(ref, "x")))
    status, code, _ = outcome(inbox, "p.xlsx")
    # Q1 and AAA1 widen a two-row sheet harmlessly; the others span more cells than are read
    assert (status, code) == (("loaded", None) if ref in ("Q1", "AAA1") else ("rejected", "FILE_TOO_LARGE"))


def test_a_far_row_in_a_narrow_sheet_is_read_as_blank_rows(inbox):
    hostile.workbook(payroll_path(inbox, "p.xlsx"), good_sheet(hostile.cell("A1048576", "")))
    assert outcome(inbox, "p.xlsx")[0] == "loaded"


def test_a_huge_declared_dimension_is_not_trusted_or_allocated(inbox):
    hostile.workbook(payroll_path(inbox, "p.xlsx"), good_sheet(dimension="A1:XFD1048576"))
    assert outcome(inbox, "p.xlsx")[0] == "loaded"


def test_cells_without_references_and_prefixed_elements_are_measured(inbox):
    bare = good_sheet().replace(' r="', ' data-r="')
    prefixed = good_sheet().replace("<c ", "<x:c ").replace("</c>", "</x:c>").replace(
        "<worksheet ", '<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ')
    hostile.workbook(payroll_path(inbox, "bare.xlsx"), bare)
    hostile.workbook(payroll_path(inbox, "prefixed.xlsx"), prefixed)
    log, q, payroll, _ = run(inbox)
    assert {f.rsplit("/", 1)[-1]: s for f, s, *_ in log} == {"bare.xlsx": "loaded", "good.csv": "loaded",
                                                             "prefixed.xlsx": "loaded"}


def test_a_sheet_that_unpacks_past_the_limit_is_rejected_while_unpacking(inbox, monkeypatch):
    """The bytes are counted as they are unpacked, not taken from the zip directory."""
    monkeypatch.setattr(screening, "LIMITS", screening.Limits(part_bytes=8 << 20))
    noise = b"<!-- " + secrets.token_hex(40_000).encode() + b" -->"  # compresses about 2 to 1
    hostile.streamed_sheet(payroll_path(inbox, "p.xlsx"), good_sheet().split("</sheetData>")[0], noise, 200,
                           "</sheetData></worksheet>")
    status, code, message = outcome(inbox, "p.xlsx")
    assert (status, code) == ("rejected", "FILE_TOO_LARGE") and "unpacks to more than 8 MB" in message


def test_a_part_that_lies_about_its_size_is_rejected_before_the_read(inbox):
    path = hostile.streamed_sheet(payroll_path(inbox, "p.xlsx"), good_sheet().split("</sheetData>")[0],
                                  b"<row><c><v>1</v></c></row>", 100_000, "</sheetData></worksheet>")
    hostile.lie_about_size(path, "xl/worksheets/sheet1.xml", 4096)
    status, code, message = outcome(inbox, "p.xlsx")
    assert (status, code) == ("rejected", "UNREADABLE_FILE") and "cannot be unpacked" in message


def test_a_zip_bomb_is_rejected_by_its_compression_ratio(inbox):
    hostile.streamed_sheet(payroll_path(inbox, "p.xlsx"), good_sheet().split("</sheetData>")[0],
                           b"<!-- -->" * 16, 200_000, "</sheetData></worksheet>")
    status, code, message = outcome(inbox, "p.xlsx")
    assert (status, code) == ("rejected", "FILE_TOO_LARGE") and "compressed" in message and "to 1" in message


def test_shared_text_repeated_past_the_limit_is_rejected(inbox, monkeypatch):
    monkeypatch.setattr(screening, "LIMITS", screening.Limits(text_bytes=4 << 20))
    shared = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              + "<si><t>" + "y" * 30_000 + "</t></si></sst>")
    cells = "".join(f'<row r="{i}"><c r="A{i}" t="s"><v>0</v></c></row>' for i in range(3, 1003))
    sheet = good_sheet().replace("</sheetData>", cells + "</sheetData>")
    hostile.workbook(payroll_path(inbox, "p.xlsx"), sheet, shared=shared)
    status, code, message = outcome(inbox, "p.xlsx")
    assert (status, code) == ("rejected", "FILE_TOO_LARGE") and "shared text" in message


def test_a_very_long_cell_is_rejected_naming_the_row(inbox):
    hostile.workbook(payroll_path(inbox, "p.xlsx"), hostile.sheet_xml([HEADER, ROW, ROW[:4] + [secrets.token_hex(1 << 20)]]))
    status, code, message = outcome(inbox, "p.xlsx")
    assert (status, code) == ("rejected", "FILE_TOO_LARGE") and "row 3" in message


def test_a_truncated_workbook_is_unreadable(inbox):
    path = hostile.workbook(payroll_path(inbox, "p.xlsx"), good_sheet())
    path.write_bytes(path.read_bytes()[:300])
    assert outcome(inbox, "p.xlsx")[:2] == ("rejected", "UNREADABLE_FILE")


def test_a_workbook_with_too_many_parts_is_rejected(inbox):
    hostile.workbook(payroll_path(inbox, "p.xlsx"), good_sheet(), parts={f"x/{i}.xml": "" for i in range(10_001)})
    assert outcome(inbox, "p.xlsx")[:2] == ("rejected", "FILE_TOO_LARGE")


def test_a_dtd_in_the_sheet_is_rejected(inbox):
    sheet = good_sheet().replace("<worksheet", '<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet', 1)
    hostile.workbook(payroll_path(inbox, "p.xlsx"), sheet)
    status, code, message = outcome(inbox, "p.xlsx")
    assert (status, code) == ("rejected", "UNREADABLE_FILE") and "DTD" in message


@pytest.mark.parametrize("name,content,code,words", [
    ("csv.xlsx", (PAYROLL_HEADER + "\n" + GOOD_PAYROLL + "\n").encode(), "WRONG_FORMAT", "rename it to .csv"),
    ("enc.xlsx", hostile.cfb(["EncryptionInfo", "EncryptedPackage"]), "ENCRYPTED_FILE", "password"),
    ("old.xlsx", hostile.cfb(["Workbook", "SummaryInformation"]), "WRONG_FORMAT", ".xls"),
    ("doc.xlsx", b"%PDF-1.7\n%...", "WRONG_FORMAT", "PDF"),
    ("page.xlsx", b"<html><table><tr><td>1</td></tr></table></html>", "WRONG_FORMAT", "HTML"),
    ("empty.xlsx", b"", "MISSING_COLUMN", "empty"),
    ("book.csv", None, "WRONG_FORMAT", ".xlsx"),
    ("enc.csv", hostile.cfb(["EncryptedPackage"]), "ENCRYPTED_FILE", "password"),
    ("page.csv", b"<!DOCTYPE html><html></html>", "WRONG_FORMAT", "HTML"),
])
def test_a_file_that_is_not_what_its_name_says(inbox, name, content, code, words):
    path = payroll_path(inbox, name)
    if content is None:
        hostile.workbook(path, good_sheet())
    else:
        path.write_bytes(content)
    status, got, message = outcome(inbox, name)
    assert (status, got) == ("rejected", code) and words in message


@pytest.mark.parametrize("parts,words", [
    ({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}, "OpenDocument"),
    ({"xl/workbook.bin": "x"}, ".xlsb"),
    ({"word/document.xml": "<x/>"}, "Word"),
])
def test_other_zip_documents_are_named(inbox, parts, words):
    path = payroll_path(inbox, "p.xlsx")
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        for k, v in parts.items():
            z.writestr(k, v)
    status, code, message = outcome(inbox, "p.xlsx")
    assert (status, code) == ("rejected", "WRONG_FORMAT") and words in message


# -- CSV -----------------------------------------------------------------------------------------

def csv_file(data_dir, name: str, data: bytes):
    path = payroll_path(data_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


BODY = (PAYROLL_HEADER + "\n" + GOOD_PAYROLL + "\n" + GOOD_PAYROLL.replace("W1", "W2") + "\n")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_files_are_named(inbox, encoding):
    data = BODY.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    csv_file(inbox, "p.csv", data)
    status, code, message = outcome(inbox, "p.csv")
    assert (status, code) == ("rejected", "BAD_ENCODING") and ("UTF-16" in message or "UTF-32" in message)
    assert "CSV UTF-8" in message


def test_utf16_without_a_bom_is_named(inbox):
    csv_file(inbox, "p.csv", BODY.encode("utf-16-le"))
    status, code, message = outcome(inbox, "p.csv")
    assert (status, code) == ("rejected", "BAD_ENCODING") and "UTF-16" in message


def test_windows_1252_is_rejected_with_line_and_byte(inbox):
    csv_file(inbox, "p.csv", BODY.replace("Ana Cruz", "Ana \u201cCruz\u201d").encode("cp1252"))
    status, code, message = outcome(inbox, "p.csv")
    assert (status, code) == ("rejected", "BAD_ENCODING") and "0x93" in message and "line 2" in message


def test_an_unterminated_quote_is_rejected_naming_its_line(inbox):
    rows = [GOOD_PAYROLL.replace("W1", f"W{i}") for i in range(5)]
    rows[2] = rows[2].replace("Ana Cruz", '"Ana Cruz')
    csv_file(inbox, "p.csv", (PAYROLL_HEADER + "\n" + "\n".join(rows) + "\n").encode())
    status, code, message = outcome(inbox, "p.csv")
    assert (status, code) == ("rejected", "MALFORMED_CSV") and "line 4" in message and "never closed" in message


def test_a_stray_quote_inside_a_value_is_text(inbox):
    csv_file(inbox, "p.csv", BODY.replace("Ana Cruz", 'Ana 6" Cruz').encode())
    log, q, payroll, _ = run(inbox)
    assert 'Ana 6" Cruz' in [r[1] for r in payroll]


def test_cr_only_line_ends_keep_row_numbers(inbox):
    csv_file(inbox, "p.csv", BODY.replace("\n", "\r").replace(",-", ",").encode()
             + (GOOD_PAYROLL.replace("W1", "W3").replace("10.00", "-1.00") + "\r").encode())
    log, q, payroll, _ = run(inbox)
    assert sorted(r[5] for r in payroll if r[0] != "GOOD") == [2, 3]
    assert [(r[1], r[2]) for r in q] == [(4, "NEGATIVE_VALUE")]


def test_a_nul_byte_is_rejected_with_its_line(inbox):
    csv_file(inbox, "p.csv", BODY.replace("Ana Cruz", "Ana\x00Cruz").encode())
    status, code, message = outcome(inbox, "p.csv")
    assert (status, code) == ("rejected", "MALFORMED_CSV") and "NUL" in message and "line 2" in message


@pytest.mark.parametrize("blank_line", [False, True])
def test_a_very_long_line_is_rejected(inbox, blank_line):
    long_row = GOOD_PAYROLL.replace("Ana Cruz", "x" * (17 << 20))
    csv_file(inbox, "p.csv", (PAYROLL_HEADER + "\n" + ("\n" if blank_line else "") + long_row + "\n").encode())
    status, code, message = outcome(inbox, "p.csv")
    assert (status, code) == ("rejected", "FILE_TOO_LARGE") and "MB" in message


def test_a_header_of_too_many_columns_is_rejected(inbox):
    csv_file(inbox, "p.csv", (PAYROLL_HEADER + "," * 20_000 + "\n" + GOOD_PAYROLL + "\n").encode())
    status, code, message = outcome(inbox, "p.csv")
    assert (status, code) == ("rejected", "FILE_TOO_LARGE") and "columns" in message


def test_a_file_past_the_cell_limit_is_rejected_before_it_is_parsed(inbox, monkeypatch):
    monkeypatch.setattr(screening, "LIMITS", screening.Limits(cells=1000))
    csv_file(inbox, "p.csv", (PAYROLL_HEADER + "\n" + "\n".join([GOOD_PAYROLL] * 100) + "\n").encode())
    status, code, message = outcome(inbox, "p.csv")
    assert (status, code) == ("rejected", "FILE_TOO_LARGE") and "cells" in message


def test_a_file_of_more_rows_than_a_spreadsheet_holds_is_rejected(inbox, monkeypatch):
    monkeypatch.setattr(screening, "LIMITS", screening.Limits(rows=10))  # the reference files have fewer
    csv_file(inbox, "p.csv", (PAYROLL_HEADER + "\n" + "\n".join([GOOD_PAYROLL.replace("W1", f"W{i}") for i in range(11)])
                              + "\n").encode())
    status, code, message = outcome(inbox, "p.csv")
    assert (status, code) == ("rejected", "FILE_TOO_LARGE") and "11 rows, more than the 10" in message


def test_a_file_past_the_size_limit_is_rejected_unread(inbox, monkeypatch):
    monkeypatch.setattr(screening, "LIMITS", screening.Limits(file_bytes=400))
    csv_file(inbox, "big.csv", (BODY + "\n".join([GOOD_PAYROLL.replace("W1", f"X{i}") for i in range(5)])).encode())
    log, q, payroll, _ = run(inbox)
    status = {f.rsplit("/", 1)[-1]: s for f, s, *_ in log}
    assert status["big.csv"] == "rejected" and any(r[2] == "FILE_TOO_LARGE" for r in q)


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf"])
def test_utf8_byte_order_marks_are_not_part_of_the_header(inbox, bom):
    csv_file(inbox, "p.csv", bom + BODY.encode())
    assert outcome(inbox, "p.csv")[0] == "loaded"


INTERNAL = ["__code", "__file", "__row_number", "__message", "__sheet", "__sha256", "__file_seq", "__extra_0",
            "raw", "file", "code", "row_number"]


def test_headers_named_like_internal_columns_are_kept_as_extra_columns(inbox):
    header = PAYROLL_HEADER + "," + ",".join(INTERNAL)
    row = GOOD_PAYROLL + "," + ",".join(f"v{i}" for i in range(len(INTERNAL)))
    bad = GOOD_PAYROLL.replace("W1", "W2").replace("10.00", "-1") + "," + ",".join("q" for _ in INTERNAL)
    csv_file(inbox, "p.csv", (header + "\n" + row + "\n" + bad + "\n").encode())
    log, q, payroll, _ = run(inbox)
    assert {f.rsplit("/", 1)[-1]: s for f, s, *_ in log}["p.csv"] == "loaded"
    raw = json.loads(next(r[6] for r in payroll if r[0] == "W1"))
    assert raw == {name: f"v{i}" for i, name in enumerate(INTERNAL)}
    assert [(r[1], r[2]) for r in q] == [(3, "NEGATIVE_VALUE")] and json.loads(q[0][4])["__code"] == "q"


def test_a_file_whose_values_cannot_be_loaded_is_rejected_and_the_others_load(inbox, monkeypatch):
    csv_file(inbox, "p.csv", BODY.encode())
    real = ingest_module._load_checked

    def load(con, kind, entries, raws, checked):
        if any(e["file"].endswith("p.csv") for e in entries):
            raise duckdb.ConversionException("Conversion Error: a value the warehouse cannot hold")
        return real(con, kind, entries, raws, checked)
    monkeypatch.setattr(ingest_module, "_load_checked", load)
    status, code, message = outcome(inbox, "p.csv")
    assert (status, code) == ("rejected", "UNREADABLE_FILE") and "cannot hold" in message


def test_a_file_that_makes_the_reader_fail_is_rejected_and_the_others_load(inbox, monkeypatch):
    csv_file(inbox, "p.csv", BODY.encode())
    real = ingest_module.read_table

    def read(path, *args):
        if path.name == "p.csv":
            raise MemoryError()
        return real(path, *args)
    monkeypatch.setattr(ingest_module, "read_table", read)
    assert outcome(inbox, "p.csv")[:2] == ("rejected", "UNREADABLE_FILE")


@pytest.mark.parametrize("name", ["p.xls", "p.txt", "p.xlsm", "p.json", "payroll"])
def test_a_file_of_another_ending_is_rejected_not_ignored(inbox, name):
    csv_file(inbox, name, BODY.encode())
    status, code, message = outcome(inbox, name)
    assert (status, code) == ("rejected", "WRONG_FORMAT") and "CSV UTF-8" in message


@pytest.mark.parametrize("width,far,box", [(12, None, True), (20, None, True), (40, None, True), (300, None, True),
                                           (20, "A700000", False), (40, "B100000", False), (800, None, False)])
def test_wide_sheets_are_bounded_by_a_box_or_measured(inbox, monkeypatch, width, far, box):
    """A sheet inside one of the boxes (columns × rows) is bounded by one search per box; only
    one outside every box is measured reference by reference. Either way a small sheet loads."""
    measured = []
    real = screening._measure
    monkeypatch.setattr(screening, "_measure", lambda *a: (measured.append(1), real(*a))[1])
    header = HEADER + [f"extra_{i}" for i in range(width - len(HEADER))]
    row = ROW + ["x"] * (width - len(ROW))
    extra = hostile.cell(far, "") if far else ""
    hostile.workbook(payroll_path(inbox, "p.xlsx"), hostile.sheet_xml([header, row], extra_cells=extra))
    assert outcome(inbox, "p.xlsx")[0] == "loaded"
    assert bool(measured) != box
