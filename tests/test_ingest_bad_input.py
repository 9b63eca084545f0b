"""Every class of bad input named in the ingest issue, each with a named outcome."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pennytrail.core.ingest import ingest
from pennytrail.core.warehouse import connect

from .conftest import reference_of, write

PAYROLL_HEADER = ("grower_id,worker_id,period_start,premium_period_start,worker_name,crew_id,period_end,pay_date,"
                  "hours,units,gross_wages,premium_paid")
GOOD_PAYROLL = "G1,W1,2026-01-05,,Ana Cruz,C1,2026-01-11,2026-01-16,40,100,65.00,10.00"
PURCHASE_HEADER = "buyer_id,invoice_id,line_no,ship_date,harvest_date,seller_id,grower_id,commodity,quantity,unit,premium_billed"


def run(data_dir: Path):
    """Ingest the inbox; return (ingest_log rows, quarantine rows, accepted payroll/purchases rows)."""
    ref = reference_of(data_dir)
    with connect(data_dir.parent / "wh.duckdb") as con:
        ingest(con, data_dir, ref, progress=lambda m: None)
        log = con.execute("SELECT file, status, rows_read, rows_accepted, rows_quarantined FROM ingest_log "
                          "ORDER BY seq").fetchall()
        quarantine = con.execute("SELECT file, row_number, code, message, raw FROM quarantine "
                                 "ORDER BY file, row_number").fetchall()
        payroll = con.execute("SELECT worker_id, worker_name, hours, units, premium_paid_cents, row_number, raw "
                              "FROM payroll_rows ORDER BY row_number").fetchall()
        purchases = con.execute("SELECT invoice_id, line_no, quantity, ship_date, row_number FROM purchase_rows "
                                "ORDER BY row_number").fetchall()
    return log, quarantine, payroll, purchases


def payroll_csv(data_dir: Path, body: str, name: str = "p.csv", header: str = PAYROLL_HEADER, **kw) -> Path:
    return write(data_dir / "inbox" / "payroll" / name, header + "\n" + body + "\n", **kw)


def test_utf8_bom_is_read(data_dir):
    (data_dir / "inbox/payroll").mkdir(parents=True)
    (data_dir / "inbox/payroll/p.csv").write_bytes(b"\xef\xbb\xbf" + (PAYROLL_HEADER + "\n" + GOOD_PAYROLL + "\n").encode())
    log, q, payroll, _ = run(data_dir)
    assert log[0][1:] == ("loaded", 1, 1, 0) and payroll[0][0] == "W1"


def test_crlf_line_ends_are_read(data_dir):
    (data_dir / "inbox/payroll").mkdir(parents=True)
    (data_dir / "inbox/payroll/p.csv").write_bytes((PAYROLL_HEADER + "\r\n" + GOOD_PAYROLL + "\r\n").encode())
    log, q, payroll, _ = run(data_dir)
    assert log[0][1:] == ("loaded", 1, 1, 0) and payroll[0][4] == 1000


def test_quoted_fields_with_commas_and_newlines_keep_row_numbers(data_dir):
    payroll_csv(data_dir, 'G1,W1,2026-01-05,,"Cruz, Ana\nsecond line",C1,2026-01-11,2026-01-16,40,100,65.00,10.00\n'
                          "G1,W2,2026-01-05,,Bo,C1,2026-01-11,2026-01-16,40,100,65.00,-1.00")
    log, q, payroll, _ = run(data_dir)
    assert payroll[0][1] == "Cruz, Ana\nsecond line"
    assert [(r[1], r[2]) for r in q] == [(3, "NEGATIVE_VALUE")]  # the record a spreadsheet shows as row 3


@pytest.mark.parametrize("value", ["1,234.50", "$12.00", "12.345", "(12.00)", "12 USD"])
def test_amounts_with_separators_or_signs_are_quarantined(data_dir, value):
    payroll_csv(data_dir, GOOD_PAYROLL.replace(",10.00", f',"{value}"'))
    _, q, payroll, _ = run(data_dir)
    assert payroll == [] and q[0][2] == "BAD_AMOUNT" and "premium_paid" in q[0][3]


def test_empty_lines_are_skipped_not_counted(data_dir):
    payroll_csv(data_dir, "\n" + GOOD_PAYROLL + "\n\n,,,,,,,,,,,\n" + GOOD_PAYROLL.replace("W1", "W2"))
    log, q, payroll, _ = run(data_dir)
    assert log[0][2:] == (2, 2, 0)
    assert [r[5] for r in payroll] == [3, 6]


def test_trailing_empty_columns_are_ignored(data_dir):
    payroll_csv(data_dir, GOOD_PAYROLL + ",,", header=PAYROLL_HEADER + ",,")
    log, q, payroll, _ = run(data_dir)
    assert log[0][1:] == ("loaded", 1, 1, 0)


def test_extra_columns_are_kept_in_the_raw_record(data_dir):
    """An accepted row's raw record holds its file's extra columns (its contract columns are its
    typed columns); a row of a file without extra columns has none."""
    payroll_csv(data_dir, GOOD_PAYROLL + ",north field", header=PAYROLL_HEADER + ", Field ")
    payroll_csv(data_dir, GOOD_PAYROLL.replace("W1", "W2"), name="q.csv")
    _, _, payroll, _ = run(data_dir)
    assert sorted((r[0], r[6]) for r in payroll) == [("W1", '{"field":"north field"}'), ("W2", None)]


def test_rows_wider_or_narrower_than_the_header_are_read_not_dropped(data_dir):
    payroll_csv(data_dir, GOOD_PAYROLL + ",stray note\n" + GOOD_PAYROLL.replace("W1", "W2").rsplit(",", 6)[0])
    log, q, payroll, _ = run(data_dir)
    assert log[0][2:] == (2, 1, 1)
    assert json.loads(payroll[0][6])["column_13"] == "stray note"  # kept in the raw record
    assert q[0][1:3] == (3, "MISSING_FIELD")  # the short row lacks period_end and later fields


def test_a_million_character_file_with_many_rows_keeps_every_row(data_dir):
    rows = [GOOD_PAYROLL.replace("W1", f"W{i}") for i in range(5000)]
    payroll_csv(data_dir, "\n".join(rows))
    log, q, payroll, _ = run(data_dir)
    assert log[0][2:] == (5000, 5000, 0) and [r[5] for r in payroll] == list(range(2, 5002))


def test_duplicated_header_names_reject_the_file(data_dir):
    payroll_csv(data_dir, GOOD_PAYROLL + ",41", header=PAYROLL_HEADER + ",Hours")
    log, q, payroll, _ = run(data_dir)
    assert log[0][1] == "rejected" and q[0][2] == "DUPLICATE_COLUMN" and "hours" in q[0][3] and payroll == []


def test_header_only_file_loads_nothing(data_dir):
    payroll_csv(data_dir, "")
    log, q, payroll, _ = run(data_dir)
    assert log[0][1:] == ("loaded", 0, 0, 0) and q == []


def test_empty_file_is_rejected_as_missing_columns(data_dir):
    write(data_dir / "inbox/payroll/empty.csv", "")
    log, q, _, _ = run(data_dir)
    assert log[0][1] == "rejected" and q[0][1:3] == (None, "MISSING_COLUMN")


def test_latin1_text_rejects_the_file_with_the_offset(data_dir):
    payroll_csv(data_dir, GOOD_PAYROLL.replace("Ana Cruz", "José"), encoding="latin-1")
    log, q, payroll, _ = run(data_dir)
    assert log[0][1] == "rejected" and q[0][2] == "BAD_ENCODING" and "0xe9" in q[0][3] and payroll == []


def test_missing_required_column_rejects_the_whole_file(data_dir):
    payroll_csv(data_dir, GOOD_PAYROLL.rsplit(",", 1)[0], header=PAYROLL_HEADER.rsplit(",", 1)[0])
    log, q, payroll, _ = run(data_dir)
    assert log[0][1:] == ("rejected", 1, 0, 1) and q[0][1:3] == (None, "MISSING_COLUMN")
    assert "premium_paid" in q[0][3] and payroll == []


def test_file_in_the_wrong_kind_folder_is_rejected_with_a_hint(data_dir):
    write(data_dir / "inbox/purchases/p.csv", PAYROLL_HEADER + "\n" + GOOD_PAYROLL + "\n")
    log, q, _, _ = run(data_dir)
    assert q[0][2] == "MISSING_COLUMN" and "inbox/payroll/" in q[0][3]


def test_file_outside_a_kind_folder_is_rejected_not_ignored(data_dir):
    write(data_dir / "inbox/stray.csv", PAYROLL_HEADER + "\n" + GOOD_PAYROLL + "\n")
    log, q, _, _ = run(data_dir)
    assert log[0][1] == "rejected" and q[0][2] == "UNKNOWN_KIND"


def test_a_10000_character_field_is_kept_whole(data_dir):
    payroll_csv(data_dir, GOOD_PAYROLL.replace("Ana Cruz", "x" * 10_000) + "\n"
                + GOOD_PAYROLL.replace("W1", "W2").replace(",40,", "," + "9" * 10_000 + ","))
    log, q, payroll, _ = run(data_dir)
    assert len(payroll[0][1]) == 10_000
    assert q[0][2] == "BAD_NUMBER" and len(q[0][3]) < 300  # the message quotes a short prefix


def _xlsx(path: Path, rows: list[list], epoch1904: bool = False, cached: dict[str, str] | None = None) -> Path:
    wb = openpyxl.Workbook()
    if epoch1904:
        wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    for r in rows:
        wb.active.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml" and cached:
                for cell, value in cached.items():  # give a formula the value Excel would have saved
                    data = re.sub(rf'(<c r="{cell}"[^>]*>)<f>(.*?)</f>(?:<v ?/>|<v></v>)?'.encode(),
                                  rf"\1<f>\2</f><v>{value}</v>".encode(), data)
            dst.writestr(info, data)
    return path


def _payroll_row(**kw):
    row = dict(grower_id="G1", worker_id="W1", period_start=dt.date(2026, 1, 5), premium_period_start=None,
               worker_name="Ana", crew_id="C1", period_end=dt.date(2026, 1, 11), pay_date=dt.date(2026, 1, 16),
               hours=40, units=100, gross_wages=65, premium_paid=10)
    row.update(kw)
    return list(row.values())


def test_xlsx_dates_numbers_and_float_ids(data_dir):
    _xlsx(data_dir / "inbox/payroll/p.xlsx", [PAYROLL_HEADER.split(","),
                                             _payroll_row(worker_id=1001.0, premium_paid=12.5, hours=40.25)])
    log, q, payroll, _ = run(data_dir)
    assert q == [] and payroll[0][0] == "1001" and payroll[0][4] == 1250 and str(payroll[0][2]) == "40.250"


def test_xlsx_1904_dated_workbook_reads_the_same_dates(data_dir):
    _xlsx(data_dir / "inbox/payroll/p.xlsx", [PAYROLL_HEADER.split(","), _payroll_row()], epoch1904=True)
    log, q, payroll, _ = run(data_dir)
    assert q == [] and len(payroll) == 1


def test_excel_date_serials_are_quarantined_with_a_hint(data_dir):
    _xlsx(data_dir / "inbox/payroll/p.xlsx", [PAYROLL_HEADER.split(","), _payroll_row(pay_date=46038)])
    _, q, payroll, _ = run(data_dir)
    assert q[0][2] == "BAD_DATE" and "Excel date number" in q[0][3]


def test_formula_cells_use_the_cached_value_or_read_blank(data_dir):
    _xlsx(data_dir / "inbox/payroll/p.xlsx", [
        PAYROLL_HEADER.split(","),
        _payroll_row(worker_id="W1", premium_paid="=5+5"),
        _payroll_row(worker_id="W2", crew_id="=A1"),
        _payroll_row(worker_id="W3", pay_date="=TODAY()"),
    ], cached={"L2": "10"})
    log, q, payroll, _ = run(data_dir)
    assert [(r[0], r[4]) for r in payroll] == [("W1", 1000), ("W2", 1000)]  # cached 10; crew_id blank is allowed
    assert [(r[1], r[2]) for r in q] == [(4, "MISSING_FIELD")] and "pay_date" in q[0][3]


CODES = [
    ("MISSING_FIELD", GOOD_PAYROLL.replace("W1", "")),
    ("BAD_DATE", GOOD_PAYROLL.replace("2026-01-16", "2026-02-30")),
    ("BAD_NUMBER", GOOD_PAYROLL.replace(",40,", ",4x,")),
    ("BAD_NUMBER", GOOD_PAYROLL.replace(",40,", ",40.1234,")),
    ("BAD_AMOUNT", GOOD_PAYROLL.replace("65.00", "65.001")),
    ("NEGATIVE_VALUE", GOOD_PAYROLL.replace(",100,", ",-100,")),
    ("UNKNOWN_PARTY", GOOD_PAYROLL.replace("G1,", "G9,", 1)),
    ("WRONG_PARTY_TYPE", GOOD_PAYROLL.replace("G1,", "B1,", 1)),
    ("PERIOD_MISALIGNED", GOOD_PAYROLL.replace("2026-01-05", "2026-01-06").replace("2026-01-11", "2026-01-12")),
    ("PERIOD_MISALIGNED", GOOD_PAYROLL.replace("2026-01-11", "2026-01-12")),
    ("PERIOD_MISALIGNED", GOOD_PAYROLL.replace("2026-01-05,,", "2026-01-05,2026-01-07,")),
]


@pytest.mark.parametrize("code,row", CODES)
def test_payroll_error_codes(data_dir, code, row):
    payroll_csv(data_dir, row)
    log, q, payroll, _ = run(data_dir)
    assert payroll == [] and [r[2] for r in q] == [code] and log[0][2:] == (1, 0, 1)
    assert json.loads(q[0][4])["grower_id"]  # the raw row is kept


def test_period_messages_name_the_rule(data_dir):
    payroll_csv(data_dir, "\n".join(row.replace("W1", f"W{i}") for i, (code, row) in enumerate(CODES)
                                    if code == "PERIOD_MISALIGNED"))
    _, q, _, _ = run(data_dir)
    assert [r[3] for r in q] == [
        "period_start: 2026-01-06 is not the first day of a pay period of the grower's program "
        "(periods of 7 days from 2026-01-05)",
        "period_end: expected 2026-01-11 for a period starting 2026-01-05, got '2026-01-12'",
        "premium_period_start: 2026-01-07 is not the first day of a pay period of the grower's program "
        "(periods of 7 days from 2026-01-05)"]


GOOD_LINE = "B1,I1,1,2026-01-06,,G1,G1,tomatoes,10,box_25lb,2.50"


@pytest.mark.parametrize("code,row", [
    ("UNKNOWN_UNIT", GOOD_LINE.replace("box_25lb", "crate")),
    ("NO_RATE", GOOD_LINE.replace("tomatoes", "peppers")),
    ("NO_RATE", GOOD_LINE.replace("2026-01-06", "2019-12-31")),
    ("UNIT_MISMATCH", GOOD_LINE.replace("box_25lb", "gal")),
    ("WRONG_PARTY_TYPE", GOOD_LINE.replace(",G1,G1,", ",B2,G1,")),
    ("BAD_AMOUNT", GOOD_LINE.replace("2.50", "2.505")),
])
def test_purchase_error_codes(data_dir, code, row):
    write(data_dir / "inbox/purchases/b.csv", PURCHASE_HEADER + "\n" + row + "\n")
    _, q, _, purchases = run(data_dir)
    assert purchases == [] and [r[2] for r in q] == [code]


def test_duplicate_key_quarantines_every_row_sharing_it(data_dir):
    payroll_csv(data_dir, "\n".join([GOOD_PAYROLL, GOOD_PAYROLL.replace(",40,", ",41,"),
                                     GOOD_PAYROLL.replace("W1", "W2")]))
    log, q, payroll, _ = run(data_dir)
    assert [r[0] for r in payroll] == ["W2"]
    assert [(r[1], r[2]) for r in q] == [(2, "DUPLICATE_KEY"), (3, "DUPLICATE_KEY")] and "row 2" in q[1][3]


def test_blank_premium_period_is_the_same_key_as_the_period_itself(data_dir):
    payroll_csv(data_dir, GOOD_PAYROLL + "\n" + GOOD_PAYROLL.replace("2026-01-05,,", "2026-01-05,2026-01-05,"))
    _, q, payroll, _ = run(data_dir)
    assert payroll == [] and {r[2] for r in q} == {"DUPLICATE_KEY"}


def test_first_code_in_spec_order_wins(data_dir):
    payroll_csv(data_dir, GOOD_PAYROLL.replace("G1,", "G9,", 1).replace("2026-01-16", "someday"))
    _, q, _, _ = run(data_dir)
    assert q[0][2] == "BAD_DATE"  # BAD_DATE is checked before UNKNOWN_PARTY


def test_the_general_reader_in_small_chunks_reads_what_it_reads_at_once(data_dir, monkeypatch):
    """A file with blank lines and rows wider and narrower than the header goes to the general
    reader; read two rows at a time (a wider row in a later chunk widens the earlier rows with
    blanks), it gives the same table, row numbers and extra columns as read at once."""
    from pennytrail.core import reading

    path = payroll_csv(data_dir, "\n".join([
        GOOD_PAYROLL,
        "",
        GOOD_PAYROLL.replace("W1", "W2").rsplit(",", 2)[0],      # two fields short
        GOOD_PAYROLL.replace("W1", "W3"),
        GOOD_PAYROLL.replace("W1", "W4") + ",extra,more",          # two fields wide, in the second chunk
        GOOD_PAYROLL.replace("W1", "W5"),
    ]))
    at_once = reading.read_table(path)
    monkeypatch.setattr(reading, "GENERAL_CHUNK", 2)
    chunked = reading.read_table(path)
    assert chunked.header == at_once.header and list(chunked.row_numbers) == list(at_once.row_numbers)
    assert chunked.table.to_pylist() == at_once.table.to_pylist()
    rows = at_once.table.to_pylist()
    assert list(at_once.row_numbers) == [2, 4, 5, 6, 7] and len(rows) == 5
    assert [r["worker_id"] for r in rows] == ["W1", "W2", "W3", "W4", "W5"]
    assert rows[1]["premium_paid"] == "" and all(len(r) == len(rows[0]) for r in rows)
    assert sorted(set(rows[3].values()) - set(rows[0].values()) - {"W4"}) == ["extra", "more"]


@pytest.mark.parametrize("body,words", [
    (b"a,b\n1,2\n3,\x004\n", "offset 10, line 3"),
    (b"a,b\n1,\xe9\n", "byte 0xe9 at offset 6, line 2"),
    (b"\xe9,b\n1,2\n", "byte 0xe9 at offset 0, line 1"),
    (b"\na,b\n1,\xe9\n", "byte 0xe9 at offset 7, line 3"),  # the first line blank
])
def test_a_byte_that_is_not_text_is_named_by_its_offset_and_line(tmp_path, body, words):
    from pennytrail.core.reading import read_table
    from pennytrail.core.screening import FileProblem

    path = tmp_path / "f.csv"
    path.write_bytes(body)
    with pytest.raises(FileProblem) as e:
        read_table(path)
    assert words in e.value.message
