"""Generated premium programs, in the formats of docs/rules.md, with an answer key.

Two programs: tomatoes (1¢ per lb, sold in 25-lb boxes, pickers paid per 32-lb bucket, basis
``units``, weekly payroll) and dairy (5¢ per cwt of milk, basis ``hours``, every two weeks, 7.65%
kept by the grower for the employer's payroll taxes on the bonus). Several buyers, a repacker
that buys from growers and invoices a buyer, growers whose crews are hired and leave.

Growers run payroll correctly: each eligible worker is paid the funded share of the rules, on
the pay stub of the work period, except where a fault is injected. Every injected fault, and
what the audit must find for it, goes in ``answer_key.json`` beside the data. The key is worked
out with the generator's own rounding and split, not the product's. The data sits on
boundaries on purpose: each dairy's first invoice retains an exact half cent, four small
growers have pools of 1 to 4 workers, and one premium is paid on its pool's due date.

Some senders keep their own export layouts (``sender_formats``): in the demo, grower T002 sends
ADP-style paydata, T902 a Datatech-style file of pay code lines, T903 a printed payroll journal,
D002 a Spanish workbook with the payroll on its second sheet, and buyer B01 its EDI 810 invoices
flattened to CSV; each with its mapping profile in ``reference/mappings/``. The rows are the same
as a §3 file would hold, so the answer key is the same.

The output is deterministic per seed and scale (byte for byte, Excel files included) and is
written grower by grower, so memory stays flat as the scale grows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import sender_formats


D = dt.date
PAYROLL_COLUMNS = ["grower_id", "worker_id", "period_start", "premium_period_start", "worker_name", "crew_id",
                   "period_end", "pay_date", "hours", "units", "gross_wages", "premium_paid"]
# payroll's optional column of the worker's language (ISO 639), written after crew_id
LANGUAGE_COLUMN = "language"
PURCHASE_COLUMNS = ["buyer_id", "invoice_id", "line_no", "ship_date", "harvest_date", "seller_id", "grower_id",
                    "commodity", "quantity", "unit", "premium_billed"]
SALES_COLUMNS = ["buyer_id", "invoice_id", "line_no", "seller_id", "ship_date", "grower_id", "commodity", "quantity",
                 "unit"]
PAYMENT_COLUMNS = ["payment_id", "line_no", "payer_id", "payee_id", "paid_date", "buyer_id", "invoice_id", "amount"]
FIRST = ["José", "María", "Juan", "Rosa", "Luis", "Ana", "Pedro", "Lucía", "Miguel", "Elena", "Francisco", "Marta",
         "Jean", "Marie", "Ramón", "Inés", "Tomás", "Sofía", "Andrés", "Nguyễn", "Kwame", "Fatou", "Adriana", "Raúl"]
LAST = ["Hernández", "García", "López", "Pérez", "Martínez", "Sánchez", "Ramírez", "Cruz", "Gómez", "Díaz",
        "Pierre", "Joseph", "Morales", "Ortiz", "Vásquez", "Castillo", "Jiménez", "Reyes", "Mendoza", "Ruiz"]


@dataclass(frozen=True)
class Scale:
    tomato_growers: int
    dairy_growers: int
    tomato_crew: int
    dairy_crew: int
    start: dt.date
    weeks: int


# the demo's senders that keep their own export layouts (sender_formats): party -> shape
DEMO_SENDERS = {"T002": "pairs", "T902": "lines", "T903": "report", "D002": "spanish", "B01": "edi810"}
SCALES = {
    "demo": Scale(3, 2, 40, 12, D(2026, 1, 5), 12),
    "season": Scale(26, 4, 1250, 40, D(2025, 11, 3), 30),
    "national": Scale(260, 40, 1250, 40, D(2025, 11, 3), 30),
}
TOMATO = dict(program_id="FFP", period_days=7, basis="units", retention="0", deadline=14, rate=Fraction(1, 100))
DAIRY = dict(program_id="MWD", period_days=14, basis="hours", retention="7.65", deadline=21, rate=Fraction(5, 100))
UNIT_FACTORS = {"lb": 1, "box_25lb": 25, "bucket_32lb": 32, "cwt": 100, "gal": 1}
RATES = {("FFP", "tomatoes"): Fraction(1, 100), ("FFP", "grape_tomatoes"): Fraction(2, 100),
         ("MWD", "milk"): Fraction(5, 100)}
RATE_UNIT = {"FFP": "lb", "MWD": "cwt"}


def round_half_up(x: Fraction) -> int:
    """The answer key's own rounding to the cent, halves away from zero (written apart from the
    product's, so that a fault in one is not copied into the key)."""
    q, r = divmod(abs(x.numerator), x.denominator)
    q += 2 * r >= x.denominator
    return q if x >= 0 else -q


def split(amount: int, weights: dict) -> dict:
    """The answer key's own largest-remainder split: floors of amount × w / Σw, the cents left to
    the largest remainders, ties to the lowest key; all-zero weights split equally."""
    keys = sorted(weights)
    w = [weights[k] for k in keys] if any(weights.values()) else [1] * len(keys)
    total = sum(w)
    base = [amount * x // total for x in w]
    rest = [amount * x % total for x in w]  # remainders over the common denominator
    order = sorted(range(len(keys)), key=lambda i: (-rest[i], i))
    for i in order[:amount - sum(base)]:
        base[i] += 1
    return dict(zip(keys, base))


def _cents_text(c: int) -> str:
    sign = "-" if c < 0 else ""
    return f"{sign}{abs(c) // 100}.{abs(c) % 100:02d}"


@dataclass
class Line:
    buyer_id: str
    invoice_id: str
    line_no: int
    ship_date: dt.date
    harvest_date: dt.date | None
    seller_id: str
    grower_id: str
    commodity: str
    quantity: int
    unit: str
    billed: int | None = None
    period: dt.date | None = None
    program: str = ""

    @property
    def owed(self) -> int:
        q = Fraction(self.quantity) * UNIT_FACTORS[self.unit] / UNIT_FACTORS[RATE_UNIT[self.program]]
        return round_half_up(q * RATES[(self.program, self.commodity)] * 100)

    @property
    def key(self) -> str:
        return f"{self.buyer_id}/{self.invoice_id}/{self.line_no}"

    def sales_row(self) -> list:
        """The line as its seller reports it (a sales row)."""
        return [self.buyer_id, self.invoice_id, self.line_no, self.seller_id, self.ship_date.isoformat(),
                self.grower_id, self.commodity, str(self.quantity), self.unit]

    def row(self) -> list:
        return [self.buyer_id, self.invoice_id, self.line_no, self.ship_date.isoformat(),
                self.harvest_date.isoformat() if self.harvest_date else "", self.seller_id, self.grower_id,
                self.commodity, str(self.quantity), self.unit, "" if self.billed is None else _cents_text(self.billed)]


@dataclass
class Payment:
    payment_id: str
    line_no: int
    payer_id: str
    payee_id: str
    paid_date: dt.date
    buyer_id: str
    invoice_id: str
    amount: int

    def row(self) -> list:
        return [self.payment_id, self.line_no, self.payer_id, self.payee_id, self.paid_date.isoformat(),
                self.buyer_id, self.invoice_id, _cents_text(self.amount)]


@dataclass
class Key:
    """What the audit must find: the answer key."""
    quarantine: list[dict] = field(default_factory=list)
    exceptions: list[dict] = field(default_factory=list)
    workers: list[dict] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    corrections: list[dict] = field(default_factory=list)
    handshake: list[dict] = field(default_factory=list)  # every handshake row that is not CONFIRMED
    sales_corrections: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Generator:
    def __init__(self, out: Path, seed: int = 1, scale: str = "demo", faults: bool = True,
                 progress: Callable[[str], None] | None = None, senders: dict[str, str] | None = None):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
        self.out, self.seed, self.scale_name, self.faults = Path(out), seed, scale, faults
        self.scale = SCALES[scale]
        self.progress = progress or (lambda _m: None)
        # party -> the shape of its own export (sender_formats); None: the scale's default
        self.senders = dict(DEMO_SENDERS if senders is None and scale == "demo" else senders or {})
        self.key = Key()
        self.as_of = dt.date.min  # the latest date of any accepted row: the close's as-of date
        self.void_lines: list[Line] = []  # purchase lines corrected to quantity 0
        self.lines: list[Line] = []
        self.payments: list[Payment] = []
        self.payroll_rows = 0
        self.workers_seen = 0
        self.tomato = [f"T{i + 1:03d}" for i in range(self.scale.tomato_growers)]
        # four small tomato growers with a steady crew of 1, 2, 3 and 4 pickers: pools below 5 workers
        self.small = {f"T9{i:02d}": i for i in range(1, 5)}
        self.dairy = [f"D{i + 1:03d}" for i in range(self.scale.dairy_growers)]
        self.buyers = ["B01", "B02", "B03", "B04"]
        # with faults, the last tomato grower's season ends early and its last stub carries no premium:
        # it stops sending payroll, and the close finds its last pool overdue as the program moves on
        self.stopping = self.tomato[-1] if faults and len(self.tomato) >= 3 else None

    # -- reference ---------------------------------------------------------------------------
    def write_reference(self) -> None:
        ref = self.out / "reference"
        ref.mkdir(parents=True, exist_ok=True)
        anchor = self.scale.start.isoformat()
        # the tomato program tells its workers in Spanish unless payroll says otherwise; the dairy
        # program names no language (so Spanish too, by the rule's default)
        _write_csv(ref / "programs.csv", ["program_id", "name", "currency", "allocation_basis", "grower_retention_pct",
                                          "distribution_deadline_days", "period_days", "period_anchor", "language",
                                          "complaint_line"], [
            ["FFP", "Fair Food tomatoes", "USD", "units", TOMATO["retention"], TOMATO["deadline"], 7, anchor, "es",
             "+1 239 555 0134"],
            ["MWD", "Dairy with dignity", "USD", "hours", DAIRY["retention"], DAIRY["deadline"], 14, anchor, "",
             "+1 802 555 0188"]])
        parties = [["B01", "buyer", "Quickbite Restaurants", ""], ["B02", "buyer", "Fresh Basket Grocers", ""],
                   ["B03", "buyer", "Creamline Ice Cream", ""], ["B04", "buyer", "Campus Food Service", ""],
                   ["R01", "intermediary", "Gulf Coast Repacking", ""]]
        parties += [[g, "grower", f"Tomato Farm {g}", "FFP"] for g in self.tomato + list(self.small)]
        parties += [[g, "grower", f"Dairy Farm {g}", "MWD"] for g in self.dairy]
        _write_csv(ref / "parties.csv", ["party_id", "party_type", "name", "program_id"], parties)
        _write_csv(ref / "rates.csv", ["program_id", "commodity", "rate", "rate_unit", "effective_from", "effective_to"], [
            ["FFP", "tomatoes", "0.01", "lb", "2011-01-01", ""],
            ["FFP", "grape_tomatoes", "0.02", "lb", "2011-01-01", ""],
            ["MWD", "milk", "0.05", "cwt", "2017-10-01", ""]])
        _write_csv(ref / "units.csv", ["unit", "base_unit", "factor"], [
            ["lb", "lb", "1"], ["box_25lb", "lb", "25"], ["bucket_32lb", "lb", "32"], ["cwt", "lb", "100"],
            ["gal", "gal", "1"]])

    # -- the season, grower by grower -------------------------------------------------------
    def run(self) -> Key:
        self.out.mkdir(parents=True, exist_ok=True)
        self.write_reference()
        growers = [(g, TOMATO) for g in self.tomato] + [(g, DAIRY) for g in self.dairy]
        for i, (g, prog) in enumerate(growers):
            self._grower(i, g, prog)
        for i, (g, crew) in enumerate(self.small.items()):
            self._grower(100 + i, g, TOMATO, crew=crew)
            if (i + 1) % 10 == 0 or i + 1 == len(growers):
                self.progress(f"generated {i + 1}/{len(growers)} growers, {self.payroll_rows:,} payroll rows")
        self._upstream_faults()
        self._write_purchases_and_payments()
        if self.faults:
            self._file_faults()
        self._write_sales()
        self._settle_overdue()
        self._write_profiles()
        key = self.key
        summary = {"seed": self.seed, "scale": self.scale_name, "faults": self.faults,
                   "payroll_rows": self.payroll_rows, "purchase_lines": len(self.lines),
                   "payment_lines": len(self.payments), "workers": self.workers_seen,
                   "quarantine": key.quarantine, "exceptions": key.exceptions, "workers_findings": key.workers,
                   "duplicates": key.duplicates, "corrections": key.corrections, "handshake": key.handshake,
                   "sales_corrections": key.sales_corrections, "as_of_date": self.as_of.isoformat(),
                   "senders": dict(sorted(self.senders.items())),
                   "notes": key.notes}
        (self.out / "answer_key.json").write_text(json.dumps(summary, indent=1, default=str) + "\n", encoding="utf-8")
        return key

    def _write_profiles(self) -> None:
        """A mapping profile per sender with its own layout: its files are the monthly files
        directly in its folder (a correction or a fix in a subfolder is a §3 file), and those it
        sends through the portal (``senders/<party>/``, SPEC §3c): ``**/<party>/*.csv``."""
        folder = self.out / "reference" / "mappings"
        for party, shape in sorted(self.senders.items()):
            folder.mkdir(parents=True, exist_ok=True)
            text = sender_formats.profile(shape, f"**/{party}/*.{sender_formats.EXTENSION[shape]}", party)
            (folder / f"{party.lower()}-{shape}.yaml").write_text(text, encoding="utf-8")

    def _periods(self, prog: dict) -> list[dt.date]:
        n = self.scale.weeks * 7 // prog["period_days"]
        return [self.scale.start + dt.timedelta(days=prog["period_days"] * k) for k in range(n)]

    def _grower(self, gi: int, g: str, prog: dict, crew: int | None = None) -> None:
        rng = np.random.default_rng([self.seed, gi])
        periods = self._periods(prog)
        if g == self.stopping:
            periods = periods[:len(periods) * 2 // 3]
        tomato = prog is TOMATO
        steady = crew is not None  # a small grower's crew neither leaves nor idles
        crew = crew or (self.scale.tomato_crew if tomato else self.scale.dairy_crew)
        # workforce: ids hired in order; each period some leave and new ones are hired
        active = list(range(crew))
        next_id = crew
        work: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # per period: ids, units, hours (milli)
        for _ in periods:
            keep = rng.random(len(active)) > (0 if steady else 0.015)
            active = [w for w, k in zip(active, keep) if k]
            hires = crew - len(active) + (0 if steady else int(rng.integers(-2, 3)))
            active += list(range(next_id, next_id + max(hires, 0)))
            next_id += max(hires, 0)
            ids = np.array(active)
            if tomato:
                units = rng.poisson(140, len(ids)) * 1000
                if not steady:
                    units[rng.random(len(ids)) < 0.02] = 0  # on the clock but picked nothing: no premium
                hours = rng.integers(300, 500, len(ids)) * 100
            else:
                units = np.zeros(len(ids), dtype=np.int64)
                hours = rng.integers(700, 1100, len(ids)) * 100
            work.append((ids, units.astype(np.int64), hours.astype(np.int64)))
        self.workers_seen += next_id
        names = [f"{FIRST[(gi + w * 7) % len(FIRST)]} {LAST[(gi * 3 + w) % len(LAST)]}" for w in range(next_id)]
        if gi == 0:
            names[1] = '=HYPERLINK("http://example.invalid","claim your bonus")'
        lines, pays = self._sales(gi, g, prog, periods, work)
        self.lines += lines
        self.payments += pays
        self._payroll(gi, g, prog, periods, work, names, lines, pays)

    def _sales(self, gi, g, prog, periods, work) -> tuple[list[Line], list[Payment]]:
        """Purchase lines for the grower's harvest, and the premium paid on them to the grower."""
        lines: list[Line] = []
        pays: list[Payment] = []
        tomato = prog is TOMATO
        pid = prog["program_id"]
        for k, p in enumerate(periods):
            ids, units, hours = work[k]
            if tomato:
                pounds = int(units.sum()) // 1000 * 32
                boxes = pounds // 25
                direct = boxes * 6 // 10
                buyer = self.buyers[gi % 2]  # B01 or B02 buy direct
                inv = f"{g}-{p:%y%m%d}"
                a = direct // 2
                lines.append(Line(buyer, inv, 1, p + dt.timedelta(days=1), None, g, g, "tomatoes", a, "box_25lb",
                                  program=pid))
                lines.append(Line(buyer, inv, 2, p + dt.timedelta(days=4), None, g, g, "tomatoes", direct - a,
                                  "box_25lb", program=pid))
                # the repacker buys the rest; it ships to B02 in the next week, with that week's first picking
                # (with the next week's first picking, when there is one: an invoice over two work periods)
                rest = boxes - direct
                rinv = f"R01-{p + dt.timedelta(days=7):%y%m%d}"
                a = rest if k == len(periods) - 1 else rest * 3 // 4
                lines.append(Line("B02", rinv, 2 * gi + 1, p + dt.timedelta(days=8), p + dt.timedelta(days=5), "R01",
                                  g, "tomatoes", a, "box_25lb", program=pid))
                if rest - a:
                    lines.append(Line("B02", rinv, 2 * gi + 2, p + dt.timedelta(days=8), p + dt.timedelta(days=7),
                                      "R01", g, "tomatoes", rest - a, "box_25lb", program=pid))
            else:
                cwt = int(hours.sum()) // 1000 * 6
                if k == 0:  # owed a multiple of $10 plus $10 (200 cwt more than a multiple of 400): 7.65% of
                    cwt = cwt - cwt % 400 + 200  # it is an exact half cent, on both entitled and funded
                inv = f"{g}-{p:%y%m%d}"
                in_lb = gi % 2 == 1  # one dairy reports milk in pounds
                for j in range(2):
                    q = cwt // 2 if j == 0 else cwt - cwt // 2
                    lines.append(Line("B03", inv, j + 1, p + dt.timedelta(days=3 + 7 * j), None, g, g, "milk",
                                      q * 100 if in_lb else q, "lb" if in_lb else "cwt", program=pid))
        if self.faults and gi == 2:  # boxes picked the week before payroll starts: a pool with no workers
            first = lines[0]
            lines.append(Line(first.buyer_id, first.invoice_id, 3, first.ship_date,
                              self.scale.start - dt.timedelta(days=3), g, g, "tomatoes", 80, "box_25lb", program=pid))
        for ln in lines:
            ln.period = self._period_of(prog, ln.harvest_date or ln.ship_date)
            if ln.seller_id == g and ln.buyer_id != "B02":
                ln.billed = ln.owed  # B01 and B03 state the premium on their invoices
        # the grower's premium: direct from its buyer, or from the repacker for repacker lines
        by_inv: dict[tuple[str, str], list[Line]] = defaultdict(list)
        for ln in lines:
            by_inv[(ln.buyer_id, ln.invoice_id)].append(ln)
        for (b, inv), ls in by_inv.items():
            owed = sum(ln.owed for ln in ls)
            last_ship = max(ln.ship_date for ln in ls)
            if ls[0].seller_id == "R01":
                pays.append(Payment(f"P-R01-{inv}-{g}", 1, "R01", g, last_ship + dt.timedelta(days=12), b, inv, owed))
            else:
                pays.append(Payment(f"P-{b}-{inv}", 1, b, g, last_ship + dt.timedelta(days=9), b, inv, owed))
        if self.faults:
            self._grower_money_faults(gi, g, lines, pays)
        return lines, pays

    def _period_of(self, prog: dict, d: dt.date) -> dt.date:
        n = prog["period_days"]
        return self.scale.start + dt.timedelta(days=((d - self.scale.start).days // n) * n)

    def _grower_money_faults(self, gi: int, g: str, lines: list[Line], pays: list[Payment]) -> None:
        ex = self.key.exceptions
        if gi == 0:  # B01 underpays the 3rd invoice of T001 by $7.50, overpays the 4th by $2.00
            direct = [p for p in pays if p.payer_id == "B01"]
            direct[2].amount -= 750
            ex.append(dict(code="BUYER_UNDERPAID", party_id="B01", reference=f"B01/{direct[2].invoice_id}", amount_cents=750))
            direct[3].amount += 200
            ex.append(dict(code="BUYER_OVERPAID", party_id="B01", reference=f"B01/{direct[3].invoice_id}", amount_cents=-200))
            # a line billed as if boxes were pounds
            ln = next(ln for ln in lines if ln.invoice_id == direct[5].invoice_id and ln.line_no == 1)
            ln.billed = round_half_up(Fraction(ln.quantity))  # quantity × 1¢
            ex.append(dict(code="BILLED_MISMATCH", level="grower", party_id=g, reference=f"B01/{ln.invoice_id}/1",
                           amount_cents=ln.billed - ln.owed))
            # B04 pays part of a B01 invoice straight to the grower: an unexpected payer
            p = direct[6]
            pays.append(Payment(f"P-B04-{p.invoice_id}", 1, "B04", g, p.paid_date, "B01", p.invoice_id, 1234))
            ex.append(dict(code="UNEXPECTED_PAYER", party_id="B04", reference=f"P-B04-{p.invoice_id}/1", amount_cents=1234))
            # B01 pays $5.00 of an invoice to another buyer instead of the grower
            p = direct[7]
            p.amount -= 500
            pays.append(Payment(p.payment_id, 2, "B01", "B02", p.paid_date, "B01", p.invoice_id, 500))
            ex.append(dict(code="UNEXPECTED_PAYEE", party_id="B01", reference=f"{p.payment_id}/2", amount_cents=500))
        if gi == 1:  # the repacker keeps 10% of one invoice's premium for T002
            p = [p for p in pays if p.payer_id == "R01"][3]
            held = p.amount // 10
            p.amount -= held
            self._held = (p.buyer_id, p.invoice_id, held)
            # a grower paid premium on an invoice it has no line on
            q = [p for p in pays if p.payer_id == "R01"][4]
            self._not_on_invoice = (q.buyer_id, q.invoice_id, q.paid_date)

    def _upstream_faults(self) -> None:
        """Payments that involve several growers' invoices: the buyer → repacker lines."""
        by_inv: dict[tuple[str, str], list[Line]] = defaultdict(list)
        for ln in self.lines:
            if ln.seller_id == "R01":
                by_inv[(ln.buyer_id, ln.invoice_id)].append(ln)
        for (b, inv), ls in sorted(by_inv.items()):
            owed = sum(ln.owed for ln in ls)
            self.payments.append(Payment(f"P-{b}-{inv}", 1, b, "R01", max(ln.ship_date for ln in ls)
                                         + dt.timedelta(days=9), b, inv, owed))
        if not self.faults:
            return
        ex = self.key.exceptions
        b, inv, held = self._held
        ex.append(dict(code="PASS_THROUGH_SHORTFALL", party_id="R01", reference=f"{b}/{inv}", amount_cents=held))
        b, inv, day = self._not_on_invoice
        outsider = self.dairy[0]
        self.payments.append(Payment(f"P-R01-{inv}-X", 1, "R01", outsider, day, b, inv, 900))
        ex.append(dict(code="PAYEE_NOT_ON_INVOICE", party_id="R01", reference=f"P-R01-{inv}-X/1", amount_cents=900))
        self.payments.append(Payment("P-B04-GHOST", 1, "B04", self.tomato[-1], self.scale.start + dt.timedelta(days=20),
                                     "B04", "INV-NOT-REPORTED", 4200))
        ex.append(dict(code="UNKNOWN_INVOICE", party_id="B04", reference="P-B04-GHOST/1", amount_cents=4200))

    def _payroll(self, gi, g, prog, periods, work, names, lines, pays) -> None:
        """Pools from the money that reached the grower, split to workers, onto pay stubs."""
        days = prog["period_days"]
        tomato = prog is TOMATO
        pct = Fraction(prog["retention"])
        received: dict[tuple[str, str], int] = defaultdict(int)
        last_paid: dict[tuple[str, str], dt.date] = {}
        for p in pays:
            if p.payee_id == g:
                received[(p.buyer_id, p.invoice_id)] += p.amount
                last_paid[(p.buyer_id, p.invoice_id)] = max(p.paid_date, last_paid.get((p.buyer_id, p.invoice_id), p.paid_date))
        by_inv: dict[tuple[str, str], list[Line]] = defaultdict(list)
        for ln in lines:
            by_inv[(ln.buyer_id, ln.invoice_id)].append(ln)
        entitled: dict[dt.date, int] = defaultdict(int)
        funded: dict[dt.date, int] = defaultdict(int)
        due_paid: dict[dt.date, dt.date] = {}
        for x, ls in by_inv.items():
            owed = sum(ln.owed for ln in ls)
            rec = received.get(x, 0)
            ent = owed - round_half_up(owed * pct / 100)
            fun = rec - round_half_up(rec * pct / 100)
            weights: dict[dt.date, int] = defaultdict(int)
            for ln in ls:
                weights[ln.period] += ln.owed
            for per, share in split(ent, weights).items():
                entitled[per] += share
            for per, share in split(fun, weights).items():
                funded[per] += share
            if x in last_paid:
                for per in weights:
                    due_paid[per] = max(last_paid[x], due_paid.get(per, last_paid[x]))
        index = {p: k for k, p in enumerate(periods)}
        late_rows: dict[dt.date, list[list]] = defaultdict(list)  # pay period -> extra rows
        frames: list[pd.DataFrame] = []
        faults = self.faults and g in (self.tomato[0], self.dairy[0] if self.dairy else None)
        if self.faults:
            for per in sorted(set(funded) | set(entitled)):
                if per not in index and (funded[per] or entitled[per]):
                    self.key.exceptions.append(dict(code="POOL_WITHOUT_WORKERS", party_id=g,
                                                    reference=f"{g}/{per.isoformat()}",
                                                    amount_cents=funded[per] or entitled[per]))
        for k, p in enumerate(periods):
            ids, units, hours = work[k]
            weight = units if tomato else hours
            end = p + dt.timedelta(days=days - 1)
            pay_date = end + dt.timedelta(days=5)
            shares = {}
            eligible = {f"{g}-{w:05d}": int(wt) for w, wt in zip(ids, weight) if wt > 0}
            if eligible and funded.get(p, 0) > 0:
                shares = split(funded[p], eligible)
            due = max(end, due_paid.get(p, end)) + dt.timedelta(days=prog["deadline"])
            wid = [f"{g}-{w:05d}" for w in ids]
            paid = np.array([shares.get(w, 0) for w in wid], dtype=np.int64)
            premium_period = [""] * len(ids)
            if faults:
                paid = self._worker_faults(gi, g, k, p, periods, wid, paid, shares, due, late_rows, tomato)
            if g == self.stopping and k == len(periods) - 1:  # the last stub before payroll stops: no premium
                for i, w in enumerate(wid):
                    if shares.get(w, 0) > 0:
                        paid[i] = 0
                        self.key.workers.append(dict(grower_id=g, period_start=p.isoformat(), worker_id=w,
                                                     status="UNPAID", paid_cents=0, funded_cents=shares[w],
                                                     late=False, _due=due))
            wages = (units // 1000 * 65) if tomato else (hours * 18 // 1000)
            frame = pd.DataFrame({
                "grower_id": g, "worker_id": wid, "period_start": p.isoformat(), "premium_period_start": premium_period,
                "worker_name": [names[w] for w in ids], "crew_id": [f"{g}-C{w % 25 + 1:02d}" for w in ids],
                "period_end": end.isoformat(), "pay_date": pay_date.isoformat(),
                "hours": [_milli_text(h) for h in hours], "units": [_milli_text(u) for u in units],
                "gross_wages": [_cents_text(int(c)) for c in wages], "premium_paid": [_cents_text(int(c)) for c in paid],
                # some workers read Haitian Creole or English best; the rest are told in the program's language
                LANGUAGE_COLUMN: ["ht" if w % 6 == 0 else "en" if w % 9 == 1 else "" for w in ids],
            })
            extra = late_rows.pop(p, [])
            if extra:
                frame = pd.concat([frame, pd.DataFrame(extra, columns=PAYROLL_COLUMNS)], ignore_index=True)
            frames.append(frame)
        self._write_payroll(g, tomato, frames)

    def _worker_faults(self, gi, g, k, p, periods, wid, paid, shares, due, late_rows, tomato):
        """Worker-level faults in the grower's k-th period; each one goes into the answer key."""
        key = self.key.workers
        end = p + dt.timedelta(days=(7 if tomato else 14) - 1)

        def finding(w, status, paid_c, late=False, period=p):
            # overdue is settled once the close's as-of date is known (``_settle_overdue``)
            key.append(dict(grower_id=g, period_start=period.isoformat(), worker_id=w, status=status,
                            paid_cents=int(paid_c), funded_cents=shares.get(w, 0), late=late, _due=due))
        if not tomato and k == 2:  # the dairy keeps a whole pool: every worker unpaid, overdue
            for i, w in enumerate(wid):
                if shares.get(w, 0) > 0:
                    paid[i] = 0
                    finding(w, "UNPAID", 0)
            return paid
        if not tomato:
            return paid
        payable = [i for i, w in enumerate(wid) if shares.get(w, 0) > 200]
        if gi == 0 and k == 3:
            i = payable[0]
            paid[i] = 0
            finding(wid[i], "UNPAID", 0)
            i = payable[1]
            paid[i] = shares[wid[i]] - 150
            finding(wid[i], "UNDERPAID", paid[i])
            i = payable[2]
            paid[i] = shares[wid[i]] + 500
            finding(wid[i], "OVERPAID", paid[i])
            # someone paid who did not work: an id that is nowhere else in the payroll
            ghost = f"{g}-99001"
            late_rows[p].append([g, ghost, p.isoformat(), "", "", "", end.isoformat(),
                                 (end + dt.timedelta(days=5)).isoformat(), "0", "0", "0.00", "25.00"])
            key.append(dict(grower_id=g, period_start=p.isoformat(), worker_id=ghost, status="PAID_WITHOUT_WORK",
                            paid_cents=2500, funded_cents=0, late=False, overdue=False))
        if gi == 0 and k == 5:  # paid in full on a later stub: one on the pool's due date (on time), one a day after
            later = periods[k + 3]
            lend = later + dt.timedelta(days=6)
            for i, day, late in ((payable[0], due, False), (payable[1], due + dt.timedelta(days=1), True)):
                w = wid[i]
                late_rows[later].append([g, w, later.isoformat(), p.isoformat(), "", "", lend.isoformat(),
                                         day.isoformat(), "0", "0", "0.00", _cents_text(int(paid[i]))])
                if late:
                    key.append(dict(grower_id=g, period_start=p.isoformat(), worker_id=w, status="OK",
                                    paid_cents=int(paid[i]), funded_cents=shares[w], late=True, overdue=False))
                paid[i] = 0
        if gi == 0 and k == 4:  # paid in full, but six weeks late, on a stub of its own
            i = payable[0]
            w = wid[i]
            later = periods[k + 6]
            lend = later + dt.timedelta(days=6)
            late_rows[later].append([g, w, later.isoformat(), p.isoformat(), "", "", lend.isoformat(),
                                     (lend + dt.timedelta(days=5)).isoformat(), "0", "0", "0.00",
                                     _cents_text(int(paid[i]))])
            paid_late = int(paid[i])
            paid[i] = 0
            key.append(dict(grower_id=g, period_start=p.isoformat(), worker_id=w, status="OK",
                            paid_cents=paid_late, funded_cents=shares[w], late=True, overdue=False))
        return paid

    # -- files ---------------------------------------------------------------------------------
    def _write_payroll(self, g: str, tomato: bool, frames: list[pd.DataFrame]) -> None:
        folder = self.out / "inbox" / "payroll" / g
        folder.mkdir(parents=True, exist_ok=True)
        all_rows = pd.concat(frames, ignore_index=True)
        self.payroll_rows += len(all_rows)
        self.as_of = max(self.as_of, dt.date.fromisoformat(all_rows["pay_date"].max()))
        month = all_rows["period_start"].str.slice(0, 7)
        for m, part in all_rows.groupby(month, sort=True):
            at = PAYROLL_COLUMNS.index("crew_id") + 1
            cols = PAYROLL_COLUMNS[:at] + [LANGUAGE_COLUMN] + PAYROLL_COLUMNS[at:]
            part = part[cols].fillna("").reset_index(drop=True)
            shape = self.senders.get(g)
            if shape:  # the grower's own export layout, read through its profile
                sender_formats.write(shape, folder / f"{m}.{sender_formats.EXTENSION[shape]}",
                                     [{c: str(v) for c, v in r.items()} for r in part.to_dict("records")], g)
            elif tomato:
                part.to_csv(folder / f"{m}.csv", index=False, lineterminator="\n")
            else:
                _write_xlsx(folder / f"{m}.xlsx", cols, part.values.tolist())

    def _write_purchases_and_payments(self) -> None:
        by_file: dict[str, list[list]] = defaultdict(list)
        for ln in sorted(self.lines, key=lambda x: (x.buyer_id, x.ship_date, x.invoice_id, x.line_no)):
            by_file[f"inbox/purchases/{ln.buyer_id}/{ln.ship_date:%Y-%m}"].append(ln.row())
        for name, rows in by_file.items():
            shape = self.senders.get(name.split("/")[2])
            if shape:
                sender_formats.write(shape, self.out / f"{name}.{sender_formats.EXTENSION[shape]}",
                                     [dict(zip(PURCHASE_COLUMNS, map(str, r))) for r in rows])
            elif name.startswith("inbox/purchases/B03/"):
                _write_xlsx(self.out / f"{name}.xlsx", PURCHASE_COLUMNS, rows)
            else:
                _write_csv(self.out / f"{name}.csv", PURCHASE_COLUMNS, rows)
        by_file = defaultdict(list)
        for p in sorted(self.payments, key=lambda x: (x.payer_id, x.paid_date, x.payment_id, x.line_no)):
            by_file[f"inbox/payments/{p.payer_id}/{p.paid_date:%Y-%m}.csv"].append(p.row())
        for name, rows in by_file.items():
            _write_csv(self.out / name, PAYMENT_COLUMNS, rows)

    def _file_faults(self) -> None:
        """Bad rows and bad files of every kind docs/rules.md names, each in the answer key."""
        q = self.key.quarantine
        g, b = self.tomato[0], "B01"
        p0 = self.scale.start
        e0 = p0 + dt.timedelta(days=6)

        def pr(worker, start=p0, end=e0, **kw):
            row = dict(grower_id=g, worker_id=worker, period_start=start.isoformat(), premium_period_start="",
                       worker_name="Test Row", crew_id="", period_end=end.isoformat(),
                       pay_date=(end + dt.timedelta(days=5)).isoformat(), hours="40", units="100",
                       gross_wages="65.00", premium_paid="0.00")
            row.update(kw)
            return [row[c] for c in PAYROLL_COLUMNS]
        bad_payroll = [
            (pr(""), "MISSING_FIELD"),
            (pr(f"{g}-90002", pay_date="2026-02-30"), "BAD_DATE"),
            (pr(f"{g}-90003", units="1,200"), "BAD_NUMBER"),
            (pr(f"{g}-90004", premium_paid="12.345"), "BAD_AMOUNT"),
            (pr(f"{g}-90005", hours="-3"), "NEGATIVE_VALUE"),
            (pr(f"{g}-90006", grower_id="G999"), "UNKNOWN_PARTY"),
            (pr(f"{g}-90007", grower_id="B01"), "WRONG_PARTY_TYPE"),
            (pr(f"{g}-90008", start=p0 + dt.timedelta(days=2), end=e0 + dt.timedelta(days=2)), "PERIOD_MISALIGNED"),
            (pr(f"{g}-90009"), "DUPLICATE_KEY"),
            (pr(f"{g}-90009", units="90"), "DUPLICATE_KEY"),
        ]
        name = f"inbox/payroll/{g}/fixes/{p0:%Y-%m}-late-entries.csv"
        _write_csv(self.out / name, PAYROLL_COLUMNS, [r for r, _ in bad_payroll])
        q += [dict(file=name, row_number=i + 2, code=c) for i, (_, c) in enumerate(bad_payroll)]

        def pl(line_no, **kw):
            row = dict(buyer_id=b, invoice_id="B01-EXTRA", line_no=str(line_no), ship_date=(p0 + dt.timedelta(days=2)).isoformat(),
                       harvest_date="", seller_id=g, grower_id=g, commodity="tomatoes", quantity="10", unit="box_25lb",
                       premium_billed="")
            row.update(kw)
            return [row[c] for c in PURCHASE_COLUMNS]
        bad_lines = [
            (pl(1, ship_date="2026-13-01"), "BAD_DATE"),
            (pl(2, unit="crate"), "UNKNOWN_UNIT"),
            (pl(3, commodity="peppers"), "NO_RATE"),
            (pl(4, unit="gal"), "UNIT_MISMATCH"),
            (pl(5, premium_billed="$2.50"), "BAD_AMOUNT"),
            (pl(6, seller_id="B02"), "WRONG_PARTY_TYPE"),
        ]
        name = f"inbox/purchases/{b}/extra/{p0:%Y-%m}-extra.csv"
        _write_csv(self.out / name, PURCHASE_COLUMNS, [r for r, _ in bad_lines])
        q += [dict(file=name, row_number=i + 2, code=c) for i, (_, c) in enumerate(bad_lines)]

        # a payroll file that lacks a required column: rejected whole
        name = f"inbox/payroll/{g}/fixes/{p0:%Y-%m}-no-premium-column.csv"
        cols = [c for c in PAYROLL_COLUMNS if c != "premium_paid"]
        _write_csv(self.out / name, cols, [pr(f"{g}-90010")[:-1]])
        q.append(dict(file=name, row_number=None, code="MISSING_COLUMN"))

        # a payments file sent twice under another name
        first = sorted((self.out / "inbox" / "payments" / "B03").glob("*.csv"))[0]
        copy = self.out / "inbox" / "payments" / "B03" / "resent" / first.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(first.read_bytes())
        self.key.duplicates.append(copy.relative_to(self.out).as_posix())

        # a correction: a line first reported short, then corrected; and a line reported by mistake, voided
        ln = next(x for x in self.lines if x.buyer_id == "B02" and x.seller_id == self.tomato[1] and x.line_no == 1)
        orig = f"inbox/purchases/B02/{ln.ship_date:%Y-%m}.csv"
        early = self.out / f"inbox/purchases/B02/{ln.ship_date:%Y-%m}-a-early.csv"
        short = ln.row()
        short[8] = str(ln.quantity - 40)
        mistaken = Line("B02", ln.invoice_id, 99, ln.ship_date, None, ln.seller_id, ln.grower_id, "tomatoes", 120,
                        "box_25lb", program="FFP").row()
        _write_csv(early, PURCHASE_COLUMNS, [short, mistaken])
        void = self.out / f"inbox/purchases/B02/{ln.ship_date:%Y-%m}-void.csv"
        mistaken[8] = "0"
        self.void_lines.append(Line("B02", ln.invoice_id, 99, ln.ship_date, None, ln.seller_id, ln.grower_id,
                                    "tomatoes", 0, "box_25lb", program="FFP"))
        _write_csv(void, PURCHASE_COLUMNS, [mistaken])
        self.key.corrections.append(dict(key=f"B02/{ln.invoice_id}/1", first=early.relative_to(self.out).as_posix(),
                                         wins=orig, quantity=ln.quantity))
        self.key.corrections.append(dict(key=f"B02/{ln.invoice_id}/99", first=early.relative_to(self.out).as_posix(),
                                         wins=void.relative_to(self.out).as_posix(), quantity=0))
        self.key.notes.append("files apply in path order: <month>-a-early.csv, then <month>-void.csv, then <month>.csv")
        # a payroll file in the wrong kind folder: its header is not a payments header
        wrong = self.out / "inbox" / "payments" / "misfiled" / "payroll-copy.csv"
        wrong.parent.mkdir(parents=True, exist_ok=True)
        _write_csv(wrong, PAYROLL_COLUMNS, [pr(f"{g}-90011")])
        q.append(dict(file=wrong.relative_to(self.out).as_posix(), row_number=None, code="MISSING_COLUMN"))

    def _write_sales(self) -> None:
        """Each seller's own report of the lines it billed (the handshake's other half): one file per
        seller and month, the dairies' in Excel. A dairy whose buyer reports milk in pounds reports
        it in cwt: the same volume, CONFIRMED. With faults, a finding of every handshake kind, each
        in the answer key, beside the statuses of every line that is not CONFIRMED."""
        sold = {ln.key: replace(ln) for ln in self.lines}  # key -> the line as its seller reports it
        for s in sold.values():
            if s.program == "MWD" and s.unit == "lb":
                s.quantity, s.unit = s.quantity // 100, "cwt"
        early: list[Line] = []
        if self.faults:
            early = self._sales_faults(sold)
        bought = {ln.key: ln for ln in self.lines + self.void_lines}
        reported = {(s.seller_id, f"{s.ship_date:%Y-%m}") for s in sold.values()}
        for k, ln in bought.items():  # the lines no seller reported: MISSING_SALE or UNCONFIRMED
            if k in sold:
                continue
            if (ln.seller_id, f"{ln.ship_date:%Y-%m}") in reported:
                self._handshake(k, "MISSING_SALE", "intermediary" if ln.seller_id == "R01" else "grower",
                                ln.seller_id, ln.owed)
            else:
                self._handshake(k, "UNCONFIRMED")
        by_file: dict[str, list[list]] = defaultdict(list)
        for s in sorted(sold.values(), key=lambda x: (x.seller_id, x.ship_date, x.buyer_id, x.invoice_id, x.line_no)):
            by_file[f"inbox/sales/{s.seller_id}/{s.ship_date:%Y-%m}"].append(s.sales_row())
            self.as_of = max(self.as_of, s.ship_date)
        for name, rows in by_file.items():
            if name.split("/")[2] in self.dairy:
                _write_xlsx(self.out / f"{name}.xlsx", SALES_COLUMNS, rows)
            else:
                _write_csv(self.out / f"{name}.csv", SALES_COLUMNS, rows)
        for s in early:  # a seller's first report of a line, corrected by its month's file
            name = f"inbox/sales/{s.seller_id}/{s.ship_date:%Y-%m}"
            _write_csv(self.out / f"{name}-a-early.csv", SALES_COLUMNS, [s.sales_row()])
            self.key.sales_corrections.append(dict(key=s.key, first=f"{name}-a-early.csv",
                                                   wins=f"{name}.csv", quantity=sold[s.key].quantity))
        self.as_of = max([self.as_of] + [ln.ship_date for ln in self.lines]
                         + [p.paid_date for p in self.payments])

    def _handshake(self, key: str, status: str, level: str | None = None, party: str | None = None,
                   amount: int | None = None) -> None:
        self.key.handshake.append(dict(reference=key, status=status))
        if level is not None:
            self.key.exceptions.append(dict(code=status, level=level, party_id=party, reference=key,
                                            amount_cents=amount))

    def _sales_faults(self, sold: dict[str, Line]) -> list[Line]:
        """Sellers' reports that disagree with their buyers', lines only one side reported, a seller
        that skips a month and one that never reports, a sales correction and bad sales rows. The
        reports to correct come back: they go in files that apply before their month's file."""
        mine = lambda seller: [ln for ln in self.lines if ln.seller_id == seller]  # noqa: E731
        t1, t2 = mine(self.tomato[0]), mine(self.tomato[1]) if len(self.tomato) > 1 else []
        r01 = mine("R01")
        # the same volume in pounds where the buyer reported boxes: CONFIRMED
        for ln in t1[2:4]:
            sold[ln.key].quantity, sold[ln.key].unit = ln.quantity * 25, "lb"
        self.key.notes.append(f"{t1[2].seller_id} reports invoice {t1[2].buyer_id}/{t1[2].invoice_id} in lb, its "
                              "buyer in box_25lb: the same volume, CONFIRMED")

        def mismatch(ln: Line) -> None:
            self._handshake(ln.key, "VOLUME_MISMATCH", "buyer", ln.buyer_id, sold[ln.key].owed - ln.owed)
        if t2:
            sold[t2[6].key].quantity += 10  # the buyer reported 10 boxes fewer than its seller sold
            mismatch(t2[6])
            sold[t2[8].key].commodity = "grape_tomatoes"
            mismatch(t2[8])
        other = self.tomato[(self.tomato.index(r01[5].grower_id) + 1) % len(self.tomato)]
        sold[r01[5].key].grower_id = other  # the repacker names another farm
        mismatch(r01[5])
        sold[t1[14].key].seller_id = "R01"  # the repacker reports a grower's direct sale as its own
        mismatch(t1[14])
        # a line its seller reported that no buyer's file has
        extra = replace(t1[12], line_no=9, quantity=30)
        sold[extra.key] = extra
        self._handshake(extra.key, "MISSING_PURCHASE", "buyer", extra.buyer_id, extra.owed)
        # lines a seller that reports left out: MISSING_SALE (settled with the others by ``_write_sales``)
        del sold[r01[8].key]
        if self.dairy:
            del sold[mine(self.dairy[0])[4].key]
        # a seller that skips a month, and a seller that never reports: UNCONFIRMED
        if len(self.tomato) > 2:
            months = sorted({f"{ln.ship_date:%Y-%m}" for ln in mine(self.tomato[2])})
            for ln in mine(self.tomato[2]):
                if f"{ln.ship_date:%Y-%m}" == months[1]:
                    del sold[ln.key]
        if len(self.dairy) > 1:
            for ln in mine(self.dairy[1]):
                del sold[ln.key]
        self._bad_sales()
        return [replace(sold[t2[1].key], quantity=sold[t2[1].key].quantity + 40)] if t2 else []

    def _bad_sales(self) -> None:
        """A seller's file of bad sales rows, one per code that applies to sales."""
        g, day = self.tomato[0], (self.scale.start + dt.timedelta(days=2)).isoformat()

        def row(line_no, **kw):
            r = dict(buyer_id="B01", invoice_id=f"{g}-EXTRA", line_no=str(line_no), seller_id=g, ship_date=day,
                     grower_id=g, commodity="tomatoes", quantity="10", unit="box_25lb")
            r.update(kw)
            return [r[c] for c in SALES_COLUMNS]
        bad = [(row(1, commodity=""), "MISSING_FIELD"), (row(2, ship_date="2026-02-31"), "BAD_DATE"),
               (row(3, quantity="12.3456"), "BAD_NUMBER"), (row(4, quantity="-5"), "NEGATIVE_VALUE"),
               (row(5, grower_id="T999"), "UNKNOWN_PARTY"), (row(6, buyer_id=g), "WRONG_PARTY_TYPE"),
               (row(7, unit="crate"), "UNKNOWN_UNIT"), (row(8, commodity="peppers"), "NO_RATE"),
               (row(9, unit="gal"), "UNIT_MISMATCH"), (row(10), "DUPLICATE_KEY"),
               (row(10, quantity="11"), "DUPLICATE_KEY")]
        name = f"inbox/sales/{g}/extra/{self.scale.start:%Y-%m}-extra.csv"
        _write_csv(self.out / name, SALES_COLUMNS, [r for r, _ in bad])
        self.key.quarantine += [dict(file=name, row_number=i + 2, code=c) for i, (_, c) in enumerate(bad)]

    def _settle_overdue(self) -> None:
        """A finding is overdue when paid is below the funded share and the close's as-of date (the
        latest date of any accepted row) is after the pool's due date."""
        for w in self.key.workers:
            due = w.pop("_due", None)
            w["overdue"] = bool(due is not None and w["paid_cents"] < w["funded_cents"] and self.as_of > due)


def _milli_text(v: int) -> str:
    v = int(v)
    whole, frac = divmod(v, 1000)
    return str(whole) if frac == 0 else f"{whole}.{frac:03d}".rstrip("0")


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def _write_xlsx(path: Path, header: list[str], rows: list[list]) -> None:
    """An Excel file with byte-identical output for identical rows (fixed zip and doc times).

    Numbers stay text cells, as many payroll exports write them; dates are written as real
    date cells so that readers face both.
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.properties.created = dt.datetime(2020, 1, 1)
    wb.properties.modified = dt.datetime(2020, 1, 1)
    ws = wb.create_sheet("data")
    ws.append(header)
    date_cols = {i for i, h in enumerate(header) if h.endswith("_date") or h in ("period_start", "period_end")}
    for r in rows:
        ws.append([dt.date.fromisoformat(v) if i in date_cols and v else v for i, v in enumerate(r)])
    buf = io.BytesIO()
    wb.save(buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _fix_core_times(data)
            dst.writestr(zipfile.ZipInfo(info.filename, FIXED_TIME), data, zipfile.ZIP_DEFLATED)


def _fix_core_times(xml: bytes) -> bytes:
    import re

    return re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)", rb"\g<1>2020-01-01T00:00:00Z\g<3>", xml)


def generate(out: Path, seed: int = 1, scale: str = "demo", faults: bool = True,
             progress: Callable[[str], None] | None = None, senders: dict[str, str] | None = None) -> dict:
    """Write the program into ``out``; ``senders`` (party -> shape of its own export, see
    ``sender_formats``) defaults to the demo's five senders at the demo scale and to none else."""
    Generator(out, seed, scale, faults, progress, senders).run()
    return json.loads((Path(out) / "answer_key.json").read_text(encoding="utf-8"))
