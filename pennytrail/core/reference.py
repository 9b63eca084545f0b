"""Reference data (docs/rules.md: Reference data): programs, parties, rates and units.

Loaded whole and checked whole before any submission is read. Every problem is collected
with its file, row and field; if there is any, ``ReferenceDataError`` stops the close and
nothing is loaded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import re

from .ids import id_problem
from .languages import normal as normal_language
from .languages import problem as language_problem
from .mapping import load_profiles
from .money import MAX_DEADLINE_DAYS, MAX_FACTOR, MAX_RATE, NumberError, parse_decimal
from .reading import FileProblem, read_table

BASES = ("units", "hours", "gross_wages", "equal")
PARTY_TYPES = ("buyer", "grower", "intermediary")
FILES = {
    "programs": ["program_id", "name", "currency", "allocation_basis", "grower_retention_pct",
                 "distribution_deadline_days", "period_days", "period_anchor"],
    "parties": ["party_id", "party_type", "name", "program_id"],
    "rates": ["program_id", "commodity", "rate", "rate_unit", "effective_from", "effective_to"],
    "units": ["unit", "base_unit", "factor"],
}
# columns a file may leave out (blank when it does)
OPTIONAL = {"programs": ["language", "complaint_line"]}
PHONE = re.compile(r"\+?[0-9][0-9 ().\-]{5,38}[0-9]")


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f" row {self.row}" if self.row else "") + (f", {self.field}" if self.field else "")
        return f"{where}: {self.message}"


class ReferenceDataError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"reference data is inconsistent: {shown}{more}")


@dataclass(frozen=True)
class Program:
    program_id: str
    name: str
    currency: str
    allocation_basis: str
    retention_pct: Decimal
    deadline_days: int
    period_days: int
    period_anchor: dt.date
    language: str | None = None        # ISO 639 code workers are told in by default (docs/rules.md)
    complaint_line: str | None = None  # the phone number printed on workers' statements


@dataclass(frozen=True)
class Rate:
    program_id: str
    commodity: str
    rate: Decimal
    rate_unit: str
    effective_from: dt.date
    effective_to: dt.date | None


@dataclass
class Reference:
    programs: dict[str, Program] = field(default_factory=dict)
    parties: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # id -> (type, name, program)
    rates: list[Rate] = field(default_factory=list)
    units: dict[str, tuple[str, Decimal]] = field(default_factory=dict)  # unit -> (base, factor)
    mappings: list = field(default_factory=list)  # mapping.Profile of each reference/mappings/*.yaml (§3b)

    def program_of(self, grower_id: str) -> Program | None:
        p = self.parties.get(grower_id)
        return self.programs.get(p[2]) if p and p[2] else None


def _date(text: str) -> dt.date:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise ValueError(text)
    return dt.date.fromisoformat(text)


# the id columns of each reference file: checked as ids are (``ids``)
ID_COLUMNS = {"programs": ["program_id"], "parties": ["party_id", "program_id"],
              "rates": ["program_id", "commodity", "rate_unit"], "units": ["unit", "base_unit"]}


def load_reference(data_dir: Path) -> Reference:
    """Read ``<data>/reference/*.csv``; raise ``ReferenceDataError`` naming every problem."""
    problems: list[Problem] = []
    rows: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for name, cols in FILES.items():
        rel = f"reference/{name}.csv"
        path = data_dir / "reference" / f"{name}.csv"
        if not path.exists():
            problems.append(Problem(rel, None, None, "the file is missing"))
            continue
        try:
            table = read_table(path, data_dir)  # a regular file inside the data folder only
        except FileProblem as e:
            problems.append(Problem(rel, None, None, e.message))
            continue
        except (Exception, MemoryError) as e:  # nothing a file holds may crash the close
            problems.append(Problem(rel, None, None, f"the file cannot be read ({type(e).__name__}); save it again "
                                                     "as CSV UTF-8"))
            continue
        missing = [c for c in cols if c not in table.header]
        if missing:
            problems.append(Problem(rel, 1, ", ".join(missing), "required column missing from the header"))
            continue
        records = table.frame.to_dict("records")
        for r in records:
            for col in OPTIONAL.get(name, []):
                r.setdefault(col, "")
        rows[name] = list(zip((int(n) for n in table.row_numbers), records))
        for n, r in rows[name]:
            for col in ID_COLUMNS[name]:
                why = id_problem(r[col]) if r[col] else None
                if why:
                    problems.append(Problem(rel, n, col, f"{r[col]!r} {why}"))
    if problems:
        raise ReferenceDataError(problems)

    ref = Reference()

    def bad(name: str, row: int, fld: str, msg: str) -> None:
        problems.append(Problem(f"reference/{name}.csv", row, fld, msg))

    for n, r in rows["units"]:
        if not r["unit"] or not r["base_unit"]:
            bad("units", n, "unit" if not r["unit"] else "base_unit", "a value is required")
            continue
        try:
            factor = parse_decimal(r["factor"], 6)
        except NumberError as e:
            bad("units", n, "factor", str(e))
            continue
        if factor <= 0 or factor > MAX_FACTOR:
            bad("units", n, "factor", f"expected a number above 0 and at most {MAX_FACTOR:,}, got {r['factor']!r}")
        elif r["unit"] in ref.units:
            bad("units", n, "unit", f"{r['unit']!r} is listed twice")
        else:
            ref.units[r["unit"]] = (r["base_unit"], factor)
    for unit, (base, factor) in list(ref.units.items()):
        if unit == base and factor != 1:
            bad("units", None, "factor", f"base unit {unit!r} must have factor 1")
        if base in ref.units and ref.units[base][0] != base:
            bad("units", None, "base_unit", f"{unit!r} names base unit {base!r}, which is not a base unit")
        ref.units.setdefault(base, (base, Decimal(1)))

    for n, r in rows["programs"]:
        pid = r["program_id"]
        try:
            if not pid:
                raise ValueError("program_id", "a value is required")
            if r["allocation_basis"] not in BASES:
                raise ValueError("allocation_basis", f"expected one of {', '.join(BASES)}, got {r['allocation_basis']!r}")
            try:
                pct = parse_decimal(r["grower_retention_pct"], 2)
            except NumberError as e:
                raise ValueError("grower_retention_pct", str(e)) from None
            if not 0 <= pct <= 100:
                raise ValueError("grower_retention_pct", f"expected 0 to 100, got {r['grower_retention_pct']!r}")
            if (not re.fullmatch(r"[0-9]{1,9}", r["distribution_deadline_days"])
                    or int(r["distribution_deadline_days"]) > MAX_DEADLINE_DAYS):
                raise ValueError("distribution_deadline_days", f"expected a whole number of days from 0 to "
                                 f"{MAX_DEADLINE_DAYS:,} (ten years), got {r['distribution_deadline_days']!r}")
            if r["period_days"] not in ("7", "14"):
                raise ValueError("period_days", f"expected 7 or 14, got {r['period_days']!r}")
            try:
                anchor = _date(r["period_anchor"])
            except ValueError:
                raise ValueError("period_anchor", f"expected a date YYYY-MM-DD, got {r['period_anchor']!r}") from None
            if r["language"] and language_problem(r["language"]):
                raise ValueError("language", f"{language_problem(r['language'])}, or blank")
            line = r["complaint_line"]
            if line and (not PHONE.fullmatch(line) or sum(ch.isdigit() for ch in line) < 7):
                raise ValueError("complaint_line", f"expected a phone number such as +1 239 555 0134 (digits, "
                                 f"spaces, + - ( ) and dots), or blank, got {line[:40]!r}")
            if pid in ref.programs:
                raise ValueError("program_id", f"{pid!r} is listed twice")
        except ValueError as e:
            bad("programs", n, e.args[0], e.args[1])
            continue
        ref.programs[pid] = Program(pid, r["name"], r["currency"], r["allocation_basis"], pct,
                                    int(r["distribution_deadline_days"]), int(r["period_days"]), anchor,
                                    normal_language(r["language"]) or None, r["complaint_line"] or None)

    for n, r in rows["parties"]:
        pid, ptype, prog = r["party_id"], r["party_type"], r["program_id"] or None
        if not pid:
            bad("parties", n, "party_id", "a value is required")
        elif ptype not in PARTY_TYPES:
            bad("parties", n, "party_type", f"expected one of {', '.join(PARTY_TYPES)}, got {ptype!r}")
        elif ptype == "grower" and not prog:
            bad("parties", n, "program_id", f"grower {pid!r} has no program")
        elif prog and prog not in ref.programs:
            bad("parties", n, "program_id", f"program {prog!r} is not in programs.csv")
        elif pid in ref.parties:
            bad("parties", n, "party_id", f"{pid!r} is listed twice")
        else:
            ref.parties[pid] = (ptype, r["name"], prog)

    numbered: list[tuple[int, Rate]] = []
    for n, r in rows["rates"]:
        try:
            if r["program_id"] not in ref.programs:
                raise ValueError("program_id", f"program {r['program_id']!r} is not in programs.csv")
            if not r["commodity"]:
                raise ValueError("commodity", "a value is required")
            try:
                rate = parse_decimal(r["rate"], 6)
            except NumberError as e:
                raise ValueError("rate", str(e)) from None
            if rate < 0 or rate > MAX_RATE:
                raise ValueError("rate", f"expected dollars per rate unit from 0 to {MAX_RATE:,}, got {r['rate']!r}")
            if r["rate_unit"] not in ref.units:
                raise ValueError("rate_unit", f"unit {r['rate_unit']!r} is not in units.csv")
            try:
                start = _date(r["effective_from"])
            except ValueError:
                raise ValueError("effective_from", f"expected a date YYYY-MM-DD, got {r['effective_from']!r}") from None
            try:
                end = _date(r["effective_to"]) if r["effective_to"] else None
            except ValueError:
                raise ValueError("effective_to", f"expected a date YYYY-MM-DD or blank, got {r['effective_to']!r}") from None
            if end is not None and end < start:
                raise ValueError("effective_to", f"{end} is before effective_from {start}")
        except ValueError as e:
            bad("rates", n, e.args[0], e.args[1])
            continue
        new = Rate(r["program_id"], r["commodity"], rate, r["rate_unit"], start, end)
        for m, old in numbered:
            if (old.program_id, old.commodity) == (new.program_id, new.commodity) and _overlap(old, new):
                bad("rates", n, "effective_from",
                    f"two rates in force for {new.program_id}/{new.commodity} on the same days (this row and row {m})")
        numbered.append((n, new))
    ref.rates = [r for _, r in numbered]

    # the senders' mapping profiles are read and checked whole with the reference data (§3b)
    ref.mappings, bad_profiles = load_profiles(data_dir)
    problems += [Problem(file, None, key, message) for file, key, message in bad_profiles]
    if problems:
        raise ReferenceDataError(problems)
    return ref


def _overlap(a: Rate, b: Rate) -> bool:
    far = dt.date.max
    return a.effective_from <= (b.effective_to or far) and b.effective_from <= (a.effective_to or far)
