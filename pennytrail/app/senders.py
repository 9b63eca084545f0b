"""Senders' own formats (SPEC §3b), seen before a close: ``preview`` of one file through the
profile that matches it, and ``mappings``, every profile with the inbox files it reads.

Both only read: the reference data, the profiles and the files. Nothing is written anywhere (no
warehouse, no log, no cache on disk), so an accountant can try a profile on a sender's file as
often as needed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import data_contracts

from ..core import mapped as mapped_files
from ..core.ingest import discover
from ..core.mapping import load_profiles
from ..core.money import cents, dollars
from ..core.reading import FileProblem, read_table
from ..core.reference import ReferenceDataError, load_reference
from ..core.validate import sender_of, validate_many
from .errors import UserError


@dataclass
class Preview:
    file: str                                   # relative to the data folder
    kind: str
    profiles: list[str]                         # the profiles whose files match it (none, one, or two)
    outcome: str                                # what a close would do with the file, in words
    sheet: str | None = None
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    columns: dict[str, str] = field(default_factory=dict)         # §3 column -> the sender's header (or constant)
    first_rows: list[dict] = field(default_factory=list)          # row, §3 values, the sender's values
    unread_headers: list[str] = field(default_factory=list)       # sender columns no profile key reads
    unmapped_codes: dict[str, int] = field(default_factory=dict)  # pay codes no column counts
    skipped: list[dict] = field(default_factory=list)             # row, rule
    quarantined: list[dict] = field(default_factory=list)         # row, code, message
    totals: dict[str, str] = field(default_factory=dict)          # money column -> dollars of accepted rows
    periods: list[str] = field(default_factory=list)              # what the accepted rows report: PERIOD_COLUMN

    def as_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        out = [f"file: {self.file} ({self.kind}" + (f", sheet {self.sheet!r}" if self.sheet else "") + ")"]
        if not self.profiles:
            out.append("profile: none matches; the file is read as SPEC §3")
        else:
            out.append(f"profile: {', '.join(self.profiles)}")
        out.append(f"outcome: {self.outcome}")
        if self.rows_read or self.rows_skipped:
            out.append(f"rows: {self.rows_read} read, {self.rows_accepted} accepted, {self.rows_quarantined} "
                       f"quarantined, {self.rows_skipped} skipped")
        if self.columns:
            out.append("columns: " + "; ".join(f"{c} <- {h}" for c, h in self.columns.items()))
        if self.first_rows:
            out.append(f"first {len(self.first_rows)} rows, as §3 columns beside the sender's own:")
            for r in self.first_rows:
                out.append(f"  row {r['row']}: " + ", ".join(f"{k}={v!r}" for k, v in r["values"].items() if v != ""))
                out.append("    sent: " + ", ".join(f"{k}={v!r}" for k, v in r["sent"].items() if v != ""))
        if self.unread_headers:
            out.append("sender columns no profile key reads: " + ", ".join(self.unread_headers))
        if self.unmapped_codes:
            out.append("pay codes no column counts: " + ", ".join(f"{k} ({n})" for k, n in self.unmapped_codes.items()))
        for s in self.skipped:
            out.append(f"skipped row {s['row']}: {s['rule']}")
        for q in self.quarantined:
            out.append(f"quarantined row {q['row'] if q['row'] is not None else '-'}: {q['code']}: {q['message']}")
        if self.totals:
            out.append("totals of accepted rows: " + ", ".join(f"{c} {v}" for c, v in self.totals.items()))
        return "\n".join(out)


def _reference(data: Path):
    try:
        return load_reference(data)
    except ReferenceDataError as e:
        raise UserError(str(e)) from None


def _relative(data: Path, file: Path) -> tuple[str, str]:
    try:
        rel = file.resolve().relative_to(data.resolve()).as_posix()
    except ValueError:
        raise UserError(f"{file} is not under the data folder {data}: put it in inbox/<kind>/ where the sender's "
                        "files go, then preview it") from None
    parts = rel.split("/")
    if len(parts) < 3 or parts[0] != "inbox" or parts[1] not in data_contracts.INPUT_KINDS:
        raise UserError(f"{rel} is not in a kind folder: put it under inbox/purchases/, inbox/payments/, "
                        "inbox/payroll/ or inbox/sales/")
    if not file.is_file():
        raise UserError(f"{file} is not a file")
    return rel, parts[1]


# the column that says which period a row reports, and how much of it names the period: payroll
# by pay period (its start), the others by month
PERIOD_COLUMN = {"payroll": ("period_start", 10), "purchases": ("ship_date", 7), "sales": ("ship_date", 7),
                 "payments": ("paid_date", 7)}


def _periods(kind: str, values) -> list[str]:
    width = PERIOD_COLUMN[kind][1]
    return sorted({str(v)[:width] for v in values if v not in (None, "")})


def _total(values) -> str:
    """The dollars of accepted amounts (each a §3 amount's text; blank is none)."""
    return dollars(sum(cents(v) for v in values if v != ""))


def preview(data: Path, file: Path, rows: int = 10, place: str | None = None) -> Preview:
    """What a close would make of ``file``: the profile that matches it, its first rows as §3
    columns beside the sender's own, what is skipped or quarantined and why, and the totals.
    ``place``: where, relative to the data folder, the file would be stored (a sender's upload,
    read from the portal's staging folder as if it were in the inbox already)."""
    data, file = Path(data), Path(file)
    if place is None:
        rel, kind = _relative(data, file)
    else:
        rel, kind = place, place.split("/")[1]
    ref = _reference(data)
    profiles = mapped_files.profiles_for(ref.mappings, rel)
    p = Preview(rel, kind, [m.path for m in profiles], "")
    amounts = [c for c, s in data_contracts.load(kind)["columns"].items() if s["type"] == "amount"]
    if len(profiles) > 1:
        p.outcome = "rejected whole (AMBIGUOUS_MAPPING): two profiles match it; narrow their files patterns"
        return p
    sender = sender_of(rel)
    if not profiles:
        try:
            raw = read_table(file)
        except FileProblem as e:
            p.outcome = f"rejected whole ({e.code}): {e.message}"
            return p
        missing = [c for c in data_contracts.required_columns(kind) if c not in raw.header]
        if missing:
            p.outcome = f"rejected whole (MISSING_COLUMN): the header lacks {', '.join(missing)}"
            p.unread_headers = raw.header
            return p
        checked = validate_many([raw], kind, ref, senders=[sender])
        good = checked.good
        frame = raw.frame
        p.sheet = raw.sheet
        p.columns = {c: c for c in data_contracts.load(kind)["columns"] if c in raw.header}
        p.first_rows = [{"row": int(raw.row_numbers[i]), "values": {c: checked.text[c].iloc[i] for c in p.columns},
                         "sent": {h: frame[h].iloc[i] for h in raw.header}} for i in range(min(rows, raw.rows))]
        p.unread_headers = [h for h in raw.header if h not in p.columns]
        p.quarantined = [{"row": int(raw.row_numbers[i]), "code": checked.code[i], "message": checked.message[i]}
                         for i in np.flatnonzero(~good)]
        p.rows_read, p.rows_accepted = raw.rows, int(good.sum())
        p.rows_quarantined = raw.rows - p.rows_accepted
        p.totals = {c: _total(checked.text[c][good]) for c in amounts}
        p.periods = _periods(kind, checked.text[PERIOD_COLUMN[kind][0]][good])
        p.outcome = "loaded as SPEC §3"
        return p
    (profile,) = profiles
    try:
        mf = mapped_files.read_mapped(file, profile)
    except FileProblem as e:
        p.outcome = f"rejected whole ({e.code}): {e.message}"
        return p
    outcome = mapped_files.check_mapped(mf, kind, ref, sender)
    good = outcome.good
    p.sheet = mf.sheet
    p.columns = {**mf.header_of, **{c: f"constant {v!r}" for c, v in profile.constants.items()}}
    text = mf.table.to_pandas()
    p.first_rows = [{"row": int(mf.row_numbers[i]), "values": {c: text[c].iloc[i] for c in p.columns},
                     "sent": mf.raw[i]} for i in range(min(rows, mf.rows))]
    p.unread_headers = mf.unread
    p.unmapped_codes = dict(sorted(mf.unmapped.items()))
    p.skipped = [{"row": r, "rule": rule} for r, rule in mf.skipped_rows]
    p.quarantined = [{"row": int(mf.row_numbers[i]), "code": outcome.code[i], "message": outcome.message[i]}
                     for i in np.flatnonzero(~good)]
    p.rows_accepted, p.rows_quarantined, p.rows_skipped = int(good.sum()), int((~good).sum()), mf.skipped
    p.rows_read = p.rows_accepted + p.rows_quarantined + p.rows_skipped
    acc = outcome.accepted
    p.totals = {c: _total(acc[c]) for c in amounts}
    p.periods = _periods(kind, acc[PERIOD_COLUMN[kind][0]])
    p.outcome = "loaded through the profile"
    return p


@dataclass
class ProfileListing:
    file: str
    valid: bool
    problem: str | None = None
    kind: str | None = None
    files: str | None = None
    matches: list[str] = field(default_factory=list)


@dataclass
class Mappings:
    profiles: list[ProfileListing]
    ambiguous: dict[str, list[str]]             # file -> the profiles matching it
    unmatched_exports: list[str]                # inbox files that are not §3 and that no profile reads

    @property
    def valid(self) -> bool:
        return all(p.valid for p in self.profiles)

    def text(self) -> str:
        out = []
        if not self.profiles:
            out.append("no mapping profiles in reference/mappings/")
        for p in self.profiles:
            if not p.valid:
                out.append(f"{p.file}: INVALID: {p.problem}")
                continue
            out.append(f"{p.file}: valid, {p.kind}, files {p.files!r}: {len(p.matches)} file(s)")
            out += [f"  {m}" for m in p.matches]
        for f, names in self.ambiguous.items():
            out.append(f"matched by two profiles (rejected): {f}: {', '.join(names)}")
        for f in self.unmatched_exports:
            out.append(f"looks like a sender's export but no profile matches it: {f}")
        return "\n".join(out)


def _header_of(path: Path) -> list[str] | None:
    """A file's first row, lower-cased, read cheaply (None when it cannot be)."""
    try:
        if path.suffix.lower() == ".csv":
            with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as f:
                first = f.readline(1 << 20)
            return [h.strip().lower() for h in next(csv.reader(io.StringIO(first)), [])]
        if path.suffix.lower() == ".xlsx":
            from python_calamine import CalamineWorkbook

            sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
            for row in sheet.iter_rows():
                return [str(v).strip().lower() for v in row]
    except Exception:  # a file that is not a table is the close's to reject, not this listing's
        return None
    return None


def mappings(data: Path) -> Mappings:
    """Every profile, whether it is valid, and the inbox files each reads; files two profiles
    read; files that look like a sender's export (no §3 header) that no profile reads."""
    data = Path(data)
    profiles, problems = load_profiles(data)
    files = [(rel, kind) for rel, kind in discover(data) if kind is not None]
    listing = [ProfileListing(p.path, True, None, p.kind, p.files, [rel for rel, _ in files if p.matches(rel)])
               for p in profiles]
    listing += [ProfileListing(f, False, f"{key}: {why}" if key else why) for f, key, why in problems]
    listing.sort(key=lambda p: p.file)
    ambiguous, unmatched = {}, []
    for rel, kind in files:
        names = [p.path for p in profiles if p.matches(rel)]
        if len(names) > 1:
            ambiguous[rel] = names
        elif not names:
            header = _header_of(data / rel)
            if header is not None and not all(c in header for c in data_contracts.required_columns(kind)):
                unmatched.append(rel)
    return Mappings(listing, ambiguous, unmatched)
