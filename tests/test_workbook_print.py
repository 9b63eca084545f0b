"""The close workbook prints: rendered by LibreOffice to PDF, every page holds type of 6 points
or more, no label is cut short and no text is drawn over other text (what a row too low for its
wrapped text, or text spilling past its column, would show). Skipped only where LibreOffice
(soffice) is not installed; CI installs it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import openpyxl
import pytest
from pypdf import PdfReader

from pennytrail.core.closebook import EXCEPTION_COLUMNS, SHEETS
from pennytrail.core.exception_sign import LEGEND
from pennytrail.core.tables import Column
from pennytrail.core.waterfall import waterfall
from reports.close import write_close_workbook
from reports.xlsx import PRINT_WIDTH, Book

MIN_POINTS = 6
NOTE = ("Called the buyer, who says the difference was sent with the next invoice; asked for the remittance "
        "advice and will check it against the bank statement on Monday.")

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None,
                                reason="LibreOffice (soffice) is not installed")


def to_pdf(book: Path, out: Path) -> Path:
    done = subprocess.run(["soffice", f"-env:UserInstallation=file://{out}/profile", "--headless",
                           "--convert-to", "pdf", "--outdir", str(out), str(book)],
                          capture_output=True, text=True, timeout=300)
    pdf = out / (book.stem + ".pdf")
    assert done.returncode == 0 and pdf.exists(), done.stderr
    return pdf


def runs(pdf: Path) -> list[list[tuple[str, float, float, float]]]:
    """Each page's pieces of text: (text, x, y, size in points as printed)."""
    pages = []
    for page in PdfReader(pdf).pages:
        got = []

        def visit(text, cm, tm, font, size):
            if text.strip():
                scale = (tm[0] ** 2 + tm[1] ** 2) ** .5 * (cm[0] ** 2 + cm[1] ** 2) ** .5
                x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
                y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
                got.append((text, x, y, size * scale))

        page.extract_text(visitor_text=visit)
        pages.append(got)
    return pages


def overlaps(page: list[tuple[str, float, float, float]]) -> list[str]:
    """Pieces of text that start at the same place across and less than a line apart down: one
    drawn over the other."""
    found = []
    by_x: dict[int, list[tuple[float, float, str]]] = {}
    for text, x, y, size in page:
        by_x.setdefault(round(x * 2), []).append((y, size, text))
    for column in by_x.values():
        column.sort()
        for (y1, s1, t1), (y2, s2, t2) in zip(column, column[1:]):
            if y2 - y1 < 0.8 * min(s1, s2) and t1.strip() and t2.strip():
                found.append(f"{t1.strip()[:30]!r} over {t2.strip()[:30]!r}")
    return found


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def printed(closed_demo, tmp_path_factory) -> tuple[Path, Path, list[str]]:
    """The 2026-02 close workbook of the demo, with a long note in the queue on every exception,
    as LibreOffice prints it."""
    out = tmp_path_factory.mktemp("print")
    book = out / "close-2026-02.xlsx"
    with duckdb.connect(str(closed_demo / "pennytrail.duckdb"), read_only=True) as con:
        write_close_workbook(con, "2026-02", book, queue=lambda e: {"state": "acknowledged", "note": NOTE,
                                                                    "author": "accountant@example.org",
                                                                    "at": "2026-03-04 09:15:00"})
        labels = [label for label, *_ in waterfall(con, "2026-02")]
    return book, to_pdf(book, out), labels


def test_every_sheet_fits_its_columns_in_the_print_width():
    for title, columns, _ in SHEETS:
        assert sum(c.width or 10 for c in columns) <= PRINT_WIDTH, title


def test_no_type_smaller_than_6_points_on_any_page(printed):
    _, pdf, _ = printed
    pages = runs(pdf)
    assert len(pages) > 10
    small = [(n, text.strip()[:40], round(size, 2)) for n, page in enumerate(pages, 1)
             for text, _, _, size in page if size < MIN_POINTS]
    assert not small, small[:10]


def test_no_label_is_cut_short_and_no_text_is_drawn_over_other_text(printed):
    book, pdf, labels = printed
    pages = runs(pdf)
    text = squeeze("".join(t for page in pages for t, *_ in page))
    wb = openpyxl.load_workbook(book, read_only=True)
    wanted = list(labels) + [LEGEND, NOTE]
    for ws in wb.worksheets:
        for row in ws.iter_rows(max_row=6, values_only=True):  # the title lines and the header row
            wanted += [v for v in row if isinstance(v, str)]
    wb.close()
    missing = [w for w in wanted if squeeze(w) not in text]
    assert not missing, missing
    drawn_over = [(n, o) for n, page in enumerate(pages, 1) for o in overlaps(page)]
    assert not drawn_over, drawn_over[:10]
    assert squeeze(f"{NOTE} (accountant@example.org, 2026-03-04 09:15:00)") in text  # the queue's note, whole


def test_the_checks_find_a_cut_label_small_type_and_text_drawn_over_text(tmp_path):
    """The checks above fail on a sheet made to fail them: a label longer than its column beside
    a value, rows too low for their wrapped text, and columns far wider than a page."""
    book = tmp_path / "bad.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.column_dimensions["A"].width = 12
    ws["A1"], ws["B1"] = "a label much longer than its column", 1
    ws["A2"] = "alpha beta gamma delta epsilon zeta eta theta iota"
    ws["A2"].alignment = openpyxl.styles.Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[2].height = 13
    ws["A3"] = "next row"
    for i in range(3, 40):
        ws.cell(row=1, column=i, value="wide").parent.column_dimensions[openpyxl.utils.get_column_letter(i)].width = 30
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.save(book)
    pages = runs(to_pdf(book, tmp_path))
    text = squeeze("".join(t for page in pages for t, *_ in page))
    assert squeeze("a label much longer than its column") not in text  # cut
    assert any(overlaps(page) for page in pages)  # drawn over
    assert min(size for page in pages for *_, size in page) < MIN_POINTS  # too small


def test_a_detail_sheet_ends_with_its_totals(tmp_path):
    book = Book()
    sheet = book.sheet("T", [Column("who", "Who", width=12), Column("amount", "Amount", "money", 14)])
    sheet.extend([("a", 150), ("b", -5), ("c", None)])
    sheet.total()
    book.save(tmp_path / "t.xlsx")
    rows = list(openpyxl.load_workbook(tmp_path / "t.xlsx")["T"].iter_rows(values_only=True))
    assert rows[-1][0] == "Total (3 rows)" and str(rows[-1][1]) == "1.45"
    assert [c.name for c in EXCEPTION_COLUMNS][-2:] == ["state", "note"]
