"""Workers' statements as one PDF for a grower and month: a page for each worker, to hand out
with the paychecks, with a dashed line to cut along at its end.

Each page is in the worker's language (``pennytrail.locale``), in large type, one figure per
line, the status as a word and a mark (a colour only repeats them), with the worker's statement
code, a QR code of their page's address and the program's complaint line. The PDF embeds DejaVu
Sans (``reports.confirm.font_files``), so names and words in any Latin script print as written.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
from pathlib import Path

from pennytrail.core.codes import shown
from pennytrail.core.worker_statement import Statement, blocks, complaint, header, totals
from pennytrail.locale import Words

from .confirm import font_files

FONT = "DejaVu"
BODY = 12.5      # points: large type
HEADING = 14
TITLE = 20
TONES = {"ok": (0, 110, 50), "bad": (170, 20, 20), "warn": (150, 90, 0), None: (0, 0, 0)}
MM_PER_PT = 0.3528


def page_url(base: str, code: str) -> str:
    return base.rstrip("/") + "/s/" + shown(code)


def qr_png(url: str) -> io.BytesIO:
    import segno

    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=6, border=2)
    buf.seek(0)
    return buf


def write_pdf(statements: list[Statement], path: Path, url: str) -> Path:
    """Write the statements to ``path`` (in a temporary file first, then renamed)."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", format="Letter")
    for style, font in font_files().items():
        pdf.add_font(FONT, style, str(font))
    if statements:  # the bytes depend on the content only: written again over the same figures, no change
        month = statements[0].month
        pdf.set_creation_date(dt.datetime(int(month[:4]), int(month[5:7]), 1, tzinfo=dt.timezone.utc))
    pdf.set_title("Premium statements")
    pdf.set_author("pennytrail")
    pdf.set_creator("pennytrail")
    pdf.set_producer("pennytrail")
    pdf.set_margins(14, 12, 14)
    pdf.set_auto_page_break(False)
    for s in statements:
        _statement(pdf, s, url)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".pdf.partial")
    os.close(fd)
    try:
        pdf.output(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def _line_height(size: float) -> float:
    return size * MM_PER_PT * 1.35


def _statement(pdf, s: Statement, url: str) -> None:
    w = Words(s.language)
    _ = w.gettext
    pdf.add_page()
    left, width = pdf.l_margin, pdf.w - pdf.l_margin - pdf.r_margin
    bottom = pdf.h - 10
    qr = 38
    top = pdf.get_y()

    # the head: title and who, and at the right the QR code of the worker's page with the code
    pdf.set_font(FONT, "B", TITLE)
    pdf.multi_cell(width - qr - 6, _line_height(TITLE), _("Premium statement for {month}", month=w.month(s.month)),
                   new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font(FONT, "", BODY)
    pdf.multi_cell(width - qr - 6, _line_height(BODY), _("Program: {program}", program=s.program_name),
                   new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(1)
    for i, line in enumerate(header(s, w)):
        pdf.set_font(FONT, "B" if i == 0 else "", BODY + 1)
        pdf.multi_cell(width - qr - 6, _line_height(BODY + 1), line.text, new_x="LMARGIN", new_y="NEXT", align="L")
    if s.code:
        pdf.ln(1)
        pdf.set_font(FONT, "", BODY)
        pdf.multi_cell(width - qr - 6, _line_height(BODY), _("Your statement code:"), new_x="LMARGIN", new_y="NEXT",
                       align="L")
        pdf.set_font(FONT, "B", BODY + 3)
        pdf.multi_cell(width - qr - 6, _line_height(BODY + 3), shown(s.code), new_x="LMARGIN", new_y="NEXT",
                       align="L")
        text_end = pdf.get_y()
        pdf.image(qr_png(page_url(url, s.code)), x=left + width - qr, y=top, w=qr, h=qr)
        pdf.set_xy(left + width - qr - 8, top + qr)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(qr + 8, 4, _("Scan to see your statements on your phone."), align="C")
        pdf.set_y(max(text_end, pdf.get_y()) + 2)
    else:
        pdf.ln(2)

    # the pay periods, two to a row
    gap = 8
    col = (width - gap) / 2
    items = blocks(s, w)
    for row in range(0, len(items), 2):
        pair = items[row:row + 2]
        need = max(_block_height(pdf, b, col) for b in pair)
        if pdf.get_y() + need > bottom - 20:
            _continued(pdf, s, w)
        y0, ends = pdf.get_y(), []
        for i, b in enumerate(pair):
            ends.append(_block(pdf, b, left + i * (col + gap), y0, col))
        pdf.set_y(max(ends) + 3)

    # the month, the complaint line, the code again, and the line to cut along
    rest = totals(s, w)
    pdf.set_font(FONT, "B", BODY)
    need = sum(len(pdf.multi_cell(width, _line_height(BODY), t, dry_run=True, output="LINES", align="L"))
               for t in [line.text for line in rest] + [complaint(s, w)]) * _line_height(BODY) + 12
    if pdf.get_y() + need > bottom:
        _continued(pdf, s, w)
    pdf.set_draw_color(120, 120, 120)
    pdf.line(left, pdf.get_y(), left + width, pdf.get_y())
    pdf.ln(2)
    pdf.set_font(FONT, "B", BODY)
    for line in rest:
        pdf.multi_cell(width, _line_height(BODY), line.text, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(2)
    pdf.set_font(FONT, "B", BODY)
    pdf.multi_cell(width, _line_height(BODY), complaint(s, w), new_x="LMARGIN", new_y="NEXT", align="L")
    y = min(pdf.get_y() + 6, bottom)
    pdf.set_dash_pattern(dash=2.5, gap=2)
    pdf.line(left + 6, y, left + width, y)
    pdf.set_dash_pattern()
    pdf.set_font(FONT, "", 12)
    pdf.text(left, y + 1.5, "✂")


def _continued(pdf, s: Statement, w: Words) -> None:
    """A new page for the rest of a worker's statement, headed with their name."""
    pdf.add_page()
    pdf.set_font(FONT, "", 10)
    who = s.worker_name or s.worker_id
    pdf.multi_cell(0, 5, w.gettext("Premium statement for {month}", month=w.month(s.month)) + " · " + who,
                   new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(2)


def _block_height(pdf, b, width: float) -> float:
    pdf.set_font(FONT, "B", HEADING)
    h = len(pdf.multi_cell(width, _line_height(HEADING), b.heading, dry_run=True, output="LINES", align="L")) * \
        _line_height(HEADING) + 1.5
    for line in b.lines:
        pdf.set_font(FONT, "B" if line.kind == "status" else "", BODY)
        lines = pdf.multi_cell(width - (7 if line.mark else 0), _line_height(BODY), line.text, dry_run=True,
                               output="LINES", align="L")
        h += len(lines) * _line_height(BODY) + (0.8 if line.kind != "figure" else 0)
    return h


def _block(pdf, b, x: float, y: float, width: float) -> float:
    """One pay period's lines at (x, y), ``width`` wide; where they end."""
    pdf.set_xy(x, y)
    pdf.set_font(FONT, "B", HEADING)
    pdf.set_fill_color(232, 236, 243)
    pdf.multi_cell(width, _line_height(HEADING), b.heading, fill=True, new_x="LEFT", new_y="NEXT", align="L")
    pdf.ln(1.5)
    for line in b.lines:
        pdf.set_x(x)
        pdf.set_text_color(*TONES[line.tone])
        if line.mark:
            pdf.set_font(FONT, "B", BODY + 2)
            pdf.cell(7, _line_height(BODY), line.mark)
        pdf.set_font(FONT, "B" if line.kind == "status" else "", BODY)
        pdf.multi_cell(width - (7 if line.mark else 0), _line_height(BODY), line.text, new_x="LEFT", new_y="NEXT",
                       align="L")
        pdf.set_text_color(0, 0, 0)
        if line.kind != "figure":
            pdf.ln(0.8)
    return pdf.get_y()
