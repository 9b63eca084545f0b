"""Writers of a buyer's confirmation: the PDF to read and the CSV for tools, from one statement.

What goes into a statement is decided in ``pennytrail.core.confirmations`` (and the statement is
issued by ``confirmations.py``); these functions only lay it out. Both are deterministic: the
same statement gives the same bytes.

The PDF embeds DejaVu Sans (a TrueType font that matplotlib ships with the project's
dependencies, so no system font is needed), so every name in a Latin script prints as it is
written. Every page carries the buyer, the month, the version, the signing key's fingerprint and
"page N of M"; a table that runs onto a new page repeats its header row.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
from pathlib import Path

from pennytrail.core.money import dollars
from pennytrail.core.privacy import FEW_PAID, MIN_WORKERS
from pennytrail.core.statement import STATUS_WORDS, short

from .render import csv_text

CSV_COLUMNS = [
    "record", "month", "buyer_id", "version", "invoice_id", "invoice_status", "what_happened", "owed_cents",
    "billed_cents", "paid_by_buyer_cents", "balance_cents", "held_by_intermediaries_cents",
    "received_by_growers_cents", "misdirected_cents", "paid_by_others_cents", "intermediary_id", "intermediary_name",
    "received_cents",
    "paid_on_cents", "held_cents", "grower_id", "grower_name", "commodity", "quantity", "unit", "unit_in_words",
    "owed_to_grower_cents", "received_by_grower_cents", "line_no", "seller_id", "handshake", "seller_confirmed",
    "volume_confirmed_by_seller", "period_start", "period_end",
    "pool_closed", "funded_cents", "workers_eligible", "workers_paid", "pct_funded_on_stubs", "in_words",
    "payment_id",
    "paid_date", "payee_id", "payee_name", "amount_cents", "invoice_month",
]
WORKER_FIGURES = ("workers_eligible", "workers_paid", "pct_funded_on_stubs")


def csv_bytes(statement: dict) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    common = {"month": statement["month"], "buyer_id": statement["buyer_id"], "version": statement["version"]}
    sections = [("invoice", statement["invoices"]), ("intermediary", statement["intermediaries"]),
                ("grower", statement["grower_lines"]), ("line", statement.get("invoice_lines", [])),
                ("pool", statement["pools"]),
                ("payment", statement["payments_made_this_month"])]
    for record, rows in sections:
        for row in rows:
            values = {**common, **row, "record": record}
            if record == "invoice":
                values["invoice_status"] = row["status"]
            if record == "pool" and row.get("pool_closed"):
                values.update({k: "withheld" for k in WORKER_FIGURES if row.get(k) is None})
            if record == "line":
                values["seller_confirmed"] = "yes" if row["seller_confirmed"] else "no"
            if "pool_closed" in values:
                values["pool_closed"] = "yes" if values["pool_closed"] else "no"
            w.writerow(["" if values.get(c) is None else csv_text(values[c]) for c in CSV_COLUMNS])
    return buf.getvalue().encode("utf-8")


def font_files() -> dict[str, Path]:
    """The DejaVu Sans TTF files (regular, bold, oblique) shipped in matplotlib's data folder."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib (which ships the DejaVu fonts the PDFs embed) is not installed")
    ttf = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "fonts" / "ttf"
    return {"": ttf / "DejaVuSans.ttf", "B": ttf / "DejaVuSans-Bold.ttf", "I": ttf / "DejaVuSans-Oblique.ttf"}


def pdf_bytes(statement: dict) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    s = statement
    issued = dt.datetime.strptime(s["issued_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    running = f"{s['buyer_name']} ({s['buyer_id']}) · {s['month']} · version {s['version']}"
    key_line = f"Signed with key {short(s['key_fingerprint'])} (full: {s['key_fingerprint']})"

    class Doc(FPDF):
        def header(self) -> None:
            self.set_font("DejaVu", "", 7)
            self.set_text_color(90, 90, 90)
            self.cell(0, 4, f"Premium payment confirmation · {running}", new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(0, 0, 0)
            self.ln(1)

        def footer(self) -> None:
            self.set_y(-11)
            self.set_font("DejaVu", "", 7)
            self.set_text_color(90, 90, 90)
            self.cell(0, 4, key_line, new_x="LMARGIN", new_y="NEXT")
            self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R")
            self.set_text_color(0, 0, 0)

    pdf = Doc(orientation="L", format="Letter")
    for style, path in font_files().items():
        pdf.add_font("DejaVu", style, str(path))
    pdf.set_creation_date(issued)
    pdf.set_title(f"Premium payment confirmation {s['buyer_id']} {s['month']} v{s['version']}")
    pdf.set_author("pennytrail")
    pdf.set_creator("pennytrail")
    pdf.set_producer("pennytrail")
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_page()

    def heading(text: str, size: int = 11) -> None:
        if pdf.will_page_break(30):  # a heading starts a page rather than end one without its content
            pdf.add_page()
        pdf.ln(2)
        pdf.set_font("DejaVu", "B", size)
        pdf.multi_cell(0, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)

    def para(text: str, size: float = 9, style: str = "") -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")

    def table(heads: list[str], widths: list[int], rows: list[list[str]], right: set[int]) -> None:
        if not rows:
            para("None.")
            return
        pdf.set_font("DejaVu", "", 8)
        align = tuple("RIGHT" if i in right else "LEFT" for i in range(len(heads)))
        with pdf.table(col_widths=widths, text_align=align, line_height=4.2, padding=0.8,
                       headings_style=FontFace(emphasis="BOLD", fill_color=(220, 228, 240)),
                       repeat_headings=1, width=sum(widths), align="LEFT") as t:
            head = t.row()
            for h in heads:
                head.cell(h)
            for values in rows:
                r = t.row()
                for v in values:
                    r.cell(v)

    currency = "US dollars" if s["currency"] == "USD" else s["currency"]
    heading(f"Premium payment confirmation for {s['buyer_name']}", 15)
    para(f"Buyer id {s['buyer_id']} · month {s['month']} · version {s['version']} · issued "
         f"{issued:%Y-%m-%d %H:%M} UTC")
    para(f"The month's close is {STATUS_WORDS[s['month_status']]}"
         + (f" (signed off {s['month_signed_at'].replace('T', ' ').rstrip('Z')} UTC)." if s["month_signed_at"]
            else ".") + f" Amounts are premium in {currency}.")
    if s["supersedes"]:
        para(f"This version replaces version {s['supersedes']['version']} ({s['supersedes']['file']}), which "
             "stays on file. What changed:", style="B")
        for line in s["changes"]:
            para(f"• {line}", 8)
    t = s["totals"]
    if s["kind"] == "nil":
        heading("No invoices this month")
        para(f"No purchase report shows an invoice with premium for {s['buyer_name']} in {s['month']}. "
             f"You made premium payments of {dollars(t['paid_this_month_cents'])} in the month, listed below; "
             "they settle invoices of other months, or invoices no purchase report names.")
    else:
        heading("In short")
        para(f"For your {len(s['invoices'])} invoice(s) of {s['month']} you owed {dollars(t['owed_cents'])} of "
             f"premium and paid {dollars(t['paid_by_buyer_cents'])}"
             + (f" ({dollars(t['balance_cents'])} still owed)." if t["balance_cents"] > 0 else
                f" ({dollars(-t['balance_cents'])} more than owed)." if t["balance_cents"] < 0 else " (all of it).")
             + f" The growers received {dollars(t['received_by_growers_cents'])} on these invoices:")
        for line in reconciliation(t):
            para(f"    {line}", 9)
        heading("Your invoices")
        table(["Invoice", "Owed", "Billed", "Paid by you", "Still owed", "What happened to the premium"],
              [34, 26, 26, 26, 26, 116],
              [[i["invoice_id"], dollars(i["owed_cents"]),
                "-" if i["billed_cents"] is None else dollars(i["billed_cents"]),
                dollars(i["paid_by_buyer_cents"]), dollars(i["balance_cents"]), i["what_happened"]]
               for i in s["invoices"]], {1, 2, 3, 4})
        heading("What each intermediary passed on")
        table(["Invoice", "Intermediary", "Received", "Passed on to growers", "Held"], [34, 90, 30, 40, 30],
              [[x["invoice_id"], f"{x['intermediary_name']} ({x['intermediary_id']})", dollars(x["received_cents"]),
                dollars(x["paid_on_cents"]), dollars(x["held_cents"])] for x in s["intermediaries"]], {2, 3, 4})
        heading("What each grower received")
        table(["Invoice", "Grower", "Product and volume", "Owed to the grower", "Received", "Volume confirmed"],
              [34, 66, 56, 28, 26, 44],
              [[g["invoice_id"], f"{g['grower_name']} ({g['grower_id']})",
                f"{g['commodity']}: {_quantity(g['quantity'])} {g['unit_in_words']}", dollars(g["owed_to_grower_cents"]),
                dollars(g["received_by_grower_cents"]), g["volume_confirmed_by_seller"]] for g in s["grower_lines"]],
              {3, 4})
        heading("Invoice lines: did the seller's own report confirm the volume?")
        table(["Invoice", "Line", "Seller", "Grower", "Product and volume", "Seller confirmed the volume"],
              [34, 16, 26, 26, 70, 82],
              [[x["invoice_id"], x["line_no"], x["seller_id"], x["grower_id"],
                f"{x['commodity'] or 'as the seller reported it'}: {_quantity(x['quantity'] or '0')} {x['unit']}",
                ("yes: " if x["seller_confirmed"] else "no: ") + x["volume_confirmed_by_seller"]]
               for x in s["invoice_lines"]], set())
        heading("Distribution to workers, per pay period (whole pools: other buyers' premium is included)")
        table(["Grower", "Pay period", "Funded to the pool", "Eligible workers", "Workers paid premium",
               "Reached pay stubs", "In words"], [50, 36, 26, 20, 22, 26, 74],
              [[f"{p['grower_name']} ({p['grower_id']})",
                f"{p['period_start']} to {p['period_end']}" if p["pool_closed"] else f"from {p['period_start']}",
                dollars(p["funded_cents"]) if p["pool_closed"] else "not closed yet",
                _count(p, "workers_eligible"), _count(p, "workers_paid"), _on_stubs(p), p["in_words"]]
               for p in s["pools"]], {2, 3, 4, 5})
    heading("Premium payments you made in the month")
    table(["Payment", "Paid on", "Invoice", "Invoice month", "Paid to", "Amount"], [40, 24, 34, 26, 90, 30],
          [[f"{x['payment_id']}/{x['line_no']}", x["paid_date"], x["invoice_id"],
            x["invoice_month"] or "no purchase report",
            f"{x['payee_name']} ({x['payee_id']})" if x["payee_id"] else x["payee_name"],
            dollars(x["amount_cents"])] for x in s["payments_made_this_month"]], {5})
    heading("How to read this")
    para(f"Worker figures are for whole pools (a grower's pay period). A pool in which no eligible worker was "
         f"paid says so. What reached pay stubs is withheld where fewer than {MIN_WORKERS} workers were paid, and "
         f"where it changed for fewer than {MIN_WORKERS} workers since it was last shown (in an earlier version or "
         "another buyer's statement), so that no one worker's pay can be read from these figures or from their "
         "differences. No worker's name, id or crew is in this document. \"Funded\" is what reached the grower "
         "less the share the program lets it keep. The figures are those published for the month; a later "
         "correction, sign-off or revocation issues a new version.", 8, "I")
    para(f"The signed statement confirmation-{s['month']}-v{s['version']}.json holds the same figures and names "
         "this PDF and the CSV. With the three files in one folder, check them with `pennytrail verify "
         f"confirmation-{s['month']}-v{s['version']}.json --public-key confirmation.pub.pem`, using the program's "
         f"public key from a source you trust. {key_line}.", 8, "I")
    return bytes(pdf.output())


def reconciliation(totals: dict) -> list[str]:
    """From what the buyer paid to what the growers received, line by line: every difference
    named (what intermediaries hold, what went to parties that grew nothing on the invoice, what
    other parties paid on it), and a line for any the published figures do not attribute."""
    t = totals
    lines = [f"{dollars(t['paid_by_buyer_cents'])} paid by you"]
    if t["held_by_intermediaries_cents"] > 0:
        lines.append(f"− {dollars(t['held_by_intermediaries_cents'])} held by intermediaries")
    elif t["held_by_intermediaries_cents"] < 0:
        lines.append(f"+ {dollars(-t['held_by_intermediaries_cents'])} passed on by intermediaries beyond what "
                     "they received for these invoices")
    if t["misdirected_cents"]:
        lines.append(f"− {dollars(t['misdirected_cents'])} paid to parties that grew nothing on the invoice")
    if t["paid_by_others_cents"]:
        lines.append(f"+ {dollars(t['paid_by_others_cents'])} paid on your invoices by another party (not you)")
    rest = t["received_by_growers_cents"] - (t["paid_by_buyer_cents"] - t["held_by_intermediaries_cents"]
                                             - t["misdirected_cents"] + t["paid_by_others_cents"])
    if rest:
        lines.append(f"{'+' if rest > 0 else '−'} {dollars(abs(rest))} that the published figures do not "
                     "attribute to a payer")
    lines.append(f"= {dollars(t['received_by_growers_cents'])} received by the growers")
    return lines


def _count(pool: dict, key: str) -> str:
    if not pool["pool_closed"]:
        return "-"
    value = pool[key]
    if value is not None:
        return str(value)
    return f"fewer than {MIN_WORKERS}" if key == "workers_eligible" or pool["workers_note"] == FEW_PAID else "withheld"


def _on_stubs(pool: dict) -> str:
    if not pool["pool_closed"]:
        return "-"
    if pool["workers_paid"] == 0:
        return f"{dollars(0)}" + (f" ({pool['pct_funded_on_stubs']}%)" if pool["pct_funded_on_stubs"] else "")
    return "withheld" if pool["pct_funded_on_stubs"] is None else f"{pool['pct_funded_on_stubs']}%"


def _quantity(text: str) -> str:
    """``4398.5`` → ``4,398.5``: the exact decimal, grouped for reading."""
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-') or 0):,}" + (f".{frac}" if frac else "")
