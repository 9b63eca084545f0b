"""Senders' own export layouts, written from §3 rows, with the mapping profile that reads each
back (SPEC §3b). The generator uses them for the demo's senders, the tests for the round trip
(a §3 file written in a shape and mapped back gives the same accepted rows), the bench for a
season with part of its payroll mapped.

The five shapes, built from how these exports are documented:
- ``pairs``: ADP-style paydata, one row per worker and pay period, earnings as code/amount pairs
  (``Earnings 3 Code`` / ``Earnings 3 Amount``) beside hours and pieces pairs;
- ``lines``: Datatech Ag / Famous Software style, one row per pay code and worker and week;
- ``report``: a payroll journal printed to CSV: title rows, the header on row 5, the worker's
  name and number only on the first row of a block, subtotal and grand-total rows, ``$1,234.56``;
- ``edi810``: a buyer's EDI 810 invoice flattened to CSV (``BIG02``, ``IT101``…``IT103``,
  ``DTM02`` dates as ``20260214``);
- ``spanish``: a Spanish workbook whose second sheet holds the payroll, ``1.234,56``, ``14/02/2026``.

A value that is not what §3 allows is written as it is, so the mapped file fails where the §3
file fails; a valid value is written in the sender's own form.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

SHAPES = ("pairs", "lines", "report", "edi810", "spanish")
KIND = {"pairs": "payroll", "lines": "payroll", "report": "payroll", "edi810": "purchases", "spanish": "payroll"}
EXTENSION = {"pairs": "csv", "lines": "csv", "report": "csv", "edi810": "csv", "spanish": "xlsx"}
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
UNIT_CODES = {"lb": "LB", "box_25lb": "CA", "bucket_32lb": "BKT", "cwt": "CWT"}
COMMODITY_NAMES = {"tomatoes": "TOMATOES ROUND", "grape_tomatoes": "GRAPE TOMATOES", "milk": "MILK"}


def profile(shape: str, files: str, grower_id: str | None = None) -> str:
    """The YAML profile that reads files of ``shape`` matching ``files`` (relative to
    ``inbox/<kind>/``); ``report`` is one grower's journal and takes its ``grower_id``."""
    return PROFILES[shape].format(files=files, grower_id=grower_id or "")


PROFILES = {
    "pairs": """\
# ADP-style paydata: one row per worker and pay period, pay codes in numbered pairs.
kind: payroll
files: "{files}"
columns:
  grower_id: Co Code
  worker_id: "File #"
  worker_name: Employee Name
  crew_id: Department
  period_start: Period Begin
  period_end: Period End
  premium_period_start: Premium Week
  pay_date: Check Date
formats:
  period_start: "%m/%d/%Y"
  period_end: "%m/%d/%Y"
  premium_period_start: "%m/%d/%Y"
  pay_date: "%m/%d/%Y"
earnings:
  shape: pairs
  pairs:
    - {{code: "Earnings {{n}} Code", amount: "Earnings {{n}} Amount"}}
    - {{code: "Hours {{n}} Code", hours: "Hours {{n}} Amount"}}
    - {{code: "Units {{n}} Code", units: "Units {{n}} Amount"}}
  codes:
    premium_paid: [FFP]
    gross_wages: [REG, OT]
    hours: [REG]
    units: [PC]
""",
    "lines": """\
# Datatech Ag style: one row per pay code, several rows per worker and week.
kind: payroll
files: "{files}"
columns:
  grower_id: Grower
  worker_id: Employee
  worker_name: Employee Name
  crew_id: Crew
  period_start: Week Begin
  period_end: Week End
  premium_period_start: Work Week
  pay_date: Check Date
earnings:
  shape: lines
  code: Pay Code
  amount: Amount
  hours: Hours
  units: Units
  codes:
    premium_paid: [FFPREM]
    gross_wages: [HOURLY, PIECE]
    hours: [HOURLY]
    units: [PIECE]
""",
    "report": """\
# A payroll journal printed to CSV: titles above a header on row 5, one block per worker.
kind: payroll
files: "{files}"
dialect:
  headerRows: [5]
  groupChar: ","
columns:
  worker_id: "Emp #"
  worker_name: Employee
  crew_id: Crew
  period_start: Period Start
  period_end: Period End
  premium_period_start: Premium For
  pay_date: Check Date
  hours: Hours
  units: Pieces
  gross_wages: Gross Pay
  premium_paid: Premium
constants:
  grower_id: "{grower_id}"
formats:
  period_start: "%m/%d/%Y"
  period_end: "%m/%d/%Y"
  premium_period_start: "%m/%d/%Y"
  pay_date: "%m/%d/%Y"
skip:
  - {{column: Employee, pattern: "^(Subtotal|Grand Total)"}}
fill_down: [worker_id, worker_name]
""",
    "edi810": """\
# A buyer's EDI 810 invoice, flattened to one row per IT1 line.
kind: purchases
files: "{files}"
columns:
  buyer_id: N104_BY
  invoice_id: BIG02
  line_no: IT101
  ship_date: DTM02
  harvest_date: DTM02_HARVEST
  seller_id: N104_SE
  grower_id: N104_SF
  commodity: PID05
  quantity: IT102
  unit: IT103
  premium_billed: SAC05
formats:
  ship_date: "%Y%m%d"
  harvest_date: "%Y%m%d"
values:
  unit: {{LB: lb, CA: box_25lb, BKT: bucket_32lb, CWT: cwt}}
  commodity: {{"TOMATOES ROUND": tomatoes, "GRAPE TOMATOES": grape_tomatoes, MILK: milk}}
""",
    "spanish": """\
# Nómina de un productor: la segunda hoja del libro, números y fechas en español.
kind: payroll
files: "{files}"
dialect:
  sheetName: Nómina
  decimalChar: ","
  groupChar: "."
columns:
  grower_id: Productor
  worker_id: Trabajador
  worker_name: Nombre
  crew_id: Cuadrilla
  period_start: Inicio periodo
  period_end: Fin periodo
  premium_period_start: Periodo prima
  pay_date: Fecha de pago
  hours: Horas
  units: Unidades
  gross_wages: Salario bruto
  premium_paid: Prima pagada
formats:
  period_start: "%d/%m/%Y"
  period_end: "%d/%m/%Y"
  premium_period_start: "%d/%m/%Y"
  pay_date: "%d/%m/%Y"
""",
}


def _date(text: str, pattern: str) -> str:
    """A valid ISO date in the sender's pattern; anything else as it is, marked so that it cannot
    become a date in the sender's pattern either."""
    if text == "":
        return ""
    if _ISO.fullmatch(text):
        try:
            return dt.date.fromisoformat(text).strftime(pattern)
        except ValueError:
            pass
    return text if not _ISO.fullmatch(text) and not re.fullmatch(r"[0-9/.\-]+", text) else f"?{text}"


_NUMERAL = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?")


def _decimal(text: str) -> Decimal | None:
    m = _NUMERAL.fullmatch(text)
    return Decimal(f"{m[1]}{m[2] or 0}.{m[3] or 0}") if m and (m[2] or m[3]) else None


def _sender_number(text: str, *, dollar: bool = False, group: str = ",", point: str = ".", sign_paren: bool = False) -> str:
    """A §3 amount or number as the sender writes it: grouped thousands, a ``$``, a negative in
    parentheses. A value §3 refuses is written so that the sender's notation refuses it too."""
    m = _NUMERAL.fullmatch(text)
    if not (m and (m[2] or m[3])):
        return f"?{text}" if re.fullmatch(r"[0-9.,+\-$() ]+", text) else text
    whole = str(int(m[2] or "0"))
    grouped = f"{int(whole):,}".replace(",", group) if group else whole
    out = ("$" if dollar else "") + grouped + (point + m[3] if m[3] is not None and m[3] != "" else "")
    if m[1] == "-":
        out = f"({out})" if sign_paren else f"-{out}"
    return out


def _split(gross: str) -> tuple[str, str]:
    """Gross wages as regular and overtime pay adding up to it (a valid amount only)."""
    d = _decimal(gross)
    if d is None or d < 10:
        return gross, ""
    ot = (d / 10).quantize(Decimal("0.01"))
    return str(d - ot), str(ot)


PAIRS_HEADER = ["Co Code", "File #", "Employee Name", "Department", "Period Begin", "Period End", "Premium Week",
                "Check Date", "Earnings 1 Code", "Earnings 1 Amount", "Earnings 2 Code", "Earnings 2 Amount",
                "Earnings 3 Code", "Earnings 3 Amount", "Earnings 4 Code", "Earnings 4 Amount", "Hours 1 Code",
                "Hours 1 Amount", "Hours 2 Code", "Hours 2 Amount", "Units 1 Code", "Units 1 Amount"]


def pairs_rows(rows: list[dict]) -> list[list[str]]:
    out = [PAIRS_HEADER]
    us = "%m/%d/%Y"
    for i, r in enumerate(rows):
        reg, ot = _split(r["gross_wages"])
        rmb = "12.00" if i % 5 == 4 else ""  # a reimbursement: no money of the premium
        out.append([r["grower_id"], r["worker_id"], r["worker_name"], r.get("crew_id", ""),
                    _date(r["period_start"], us), _date(r["period_end"], us), _date(r["premium_period_start"], us),
                    _date(r["pay_date"], us),
                    "REG" if reg else "", reg, "OT" if ot else "", ot, "FFP" if r["premium_paid"] else "",
                    r["premium_paid"], "RMB" if rmb else "", rmb,
                    "REG" if r["hours"] else "", r["hours"], "OTH" if i % 3 == 1 else "", "2" if i % 3 == 1 else "",
                    "PC" if r["units"] else "", r["units"]])
    return out


LINES_HEADER = ["Grower", "Employee", "Employee Name", "Crew", "Week Begin", "Week End", "Work Week", "Check Date",
                "Pay Code", "Hours", "Units", "Amount"]


def lines_rows(rows: list[dict]) -> list[list[str]]:
    out = [LINES_HEADER]
    for i, r in enumerate(rows):
        head = [r["grower_id"], r["worker_id"], r["worker_name"], r.get("crew_id", ""), r["period_start"],
                r["period_end"], r["premium_period_start"], r["pay_date"]]
        out.append(head + ["HOURLY", r["hours"], "", r["gross_wages"]])
        out.append(head + ["PIECE", "", r["units"], ""])
        out.append(head + ["FFPREM", "", "", r["premium_paid"]])
        if i % 4 == 3:
            out.append(head + ["REIMB", "", "", "8.50"])  # not money of the premium: counted as unmapped
    return out


REPORT_HEADER = ["Employee", "Emp #", "Crew", "Period Start", "Period End", "Premium For", "Check Date", "Hours",
                 "Pieces", "Gross Pay", "Premium"]


def report_rows(rows: list[dict], grower_id: str, title: str = "") -> list[list[str]]:
    """A journal: rows grouped by worker in the order first seen; the name and number on the first
    row of a block; a subtotal after each block and a grand total at the end."""
    us = "%m/%d/%Y"
    out = [["Payroll Journal"] + [""] * 10, [f"Company {grower_id} {title}".strip()] + [""] * 10,
           ["Printed 02/27/2026 08:15"] + [""] * 10, [""] * 11, REPORT_HEADER]
    blocks: dict[str, list[dict]] = {}
    for r in rows:
        blocks.setdefault(r["worker_id"], []).append(r)
    total = Decimal(0)
    for worker, block in blocks.items():
        sub = Decimal(0)
        for j, r in enumerate(block):
            first = j == 0
            out.append([r["worker_name"] if first else "", worker if first else "", r.get("crew_id", ""),
                        _date(r["period_start"], us), _date(r["period_end"], us), _date(r["premium_period_start"], us),
                        _date(r["pay_date"], us), _sender_number(r["hours"], group=","), _sender_number(r["units"], group=","),
                        _sender_number(r["gross_wages"], dollar=True, sign_paren=True),
                        _sender_number(r["premium_paid"], dollar=True, sign_paren=True)])
            sub += _decimal(r["gross_wages"]) or 0
        out.append(["Subtotal " + (block[0]["worker_name"] or worker)] + [""] * 8 + [f"${sub:,.2f}", ""])
        total += sub
    out.append(["Grand Total"] + [""] * 8 + [f"${total:,.2f}", ""])
    return out


EDI_HEADER = ["BIG01", "BIG02", "N104_BY", "N104_SE", "N104_SF", "IT101", "IT102", "IT103", "PID05", "DTM02",
              "DTM02_HARVEST", "SAC05"]


def edi810_rows(rows: list[dict]) -> list[list[str]]:
    out = [EDI_HEADER]
    for r in rows:
        out.append([_date(r["ship_date"], "%Y%m%d"), r["invoice_id"], r["buyer_id"], r["seller_id"], r["grower_id"],
                    r["line_no"], r["quantity"], UNIT_CODES.get(r["unit"], r["unit"]),
                    COMMODITY_NAMES.get(r["commodity"], r["commodity"]), _date(r["ship_date"], "%Y%m%d"),
                    _date(r.get("harvest_date", ""), "%Y%m%d"), r.get("premium_billed", "")])
    return out


SPANISH_HEADER = ["Productor", "Trabajador", "Nombre", "Cuadrilla", "Inicio periodo", "Fin periodo", "Periodo prima",
                  "Fecha de pago", "Horas", "Unidades", "Salario bruto", "Prima pagada"]


def spanish_rows(rows: list[dict]) -> list[list[str]]:
    es = "%d/%m/%Y"
    out = [SPANISH_HEADER]
    for r in rows:
        out.append([r["grower_id"], r["worker_id"], r["worker_name"], r.get("crew_id", ""),
                    _date(r["period_start"], es), _date(r["period_end"], es), _date(r["premium_period_start"], es),
                    _date(r["pay_date"], es), _sender_number(r["hours"], group=".", point=","),
                    _sender_number(r["units"], group=".", point=","), _sender_number(r["gross_wages"], group=".", point=","),
                    _sender_number(r["premium_paid"], group=".", point=",")])
    return out


def write(shape: str, path: Path, rows: list[dict], grower_id: str | None = None) -> Path:
    """Write §3 ``rows`` (dicts of column -> text) as a file of ``shape`` at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if shape == "spanish":
        _write_spanish(path, spanish_rows(rows))
        return path
    grid = {"pairs": pairs_rows, "lines": lines_rows, "edi810": edi810_rows}.get(shape)
    grid = grid(rows) if grid else report_rows(rows, grower_id or (rows[0]["grower_id"] if rows else ""))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n" if shape == "report" else "\n").writerows(grid)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    return path


def _write_spanish(path: Path, grid: list[list[str]]) -> None:
    """The workbook: a summary sheet first, the payroll on the second sheet, every value a text
    cell as the export writes it. Byte-identical for identical rows."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.properties.created = wb.properties.modified = dt.datetime(2020, 1, 1)
    summary = wb.create_sheet("Resumen")
    summary.append(["Resumen de nómina"])
    summary.append(["Trabajadores", str(len({r[1] for r in grid[1:]}))])
    sheet = wb.create_sheet("Nómina")
    for row in grid:
        sheet.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                              rb"\g<1>2020-01-01T00:00:00Z\g<3>", data)
            dst.writestr(zipfile.ZipInfo(info.filename, (2020, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
