"""A sender's own file read through its mapping profile (SPEC §3b), checked as §3 rows.

``read_mapped`` turns the file into units: one per data row (one per line of a ``lines``
file), each holding the §3 columns as text, the sender's row number as a spreadsheet shows it
(title rows counted), the sender's own headers and values, and any value the profile could not
turn into §3 text (a date not in its pattern, a number with a group character out of place),
kept as an error to report in the sender's words. ``check_mapped`` runs §3's row checks on the
units (``validate.validate_many``, the same checks in the same order), adds the lines rules
(``SIBLING_REJECTED``, one row per key) and names the sender's header beside every §3 column a
message names. ``load_mapped`` writes the outcome to the warehouse.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

import data_contracts

from . import screening
from .mapping import EXAMPLE_DAY, Profile, norm
from .money import NUMERAL
from .reading import TRIMMED, FileProblem, RawTable, _cell_text, read_hashed
from .reference import Reference
from .validate import CHECKS, Checked, duplicate_key, sender_of, validate_many
from .warehouse import HISTORY, history_select

ORDER = ["MISSING_FIELD", "BAD_ID", "BAD_DATE", "BAD_NUMBER", "BAD_AMOUNT"]  # the codes a value's reading can give
SENTINEL = "#unreadable"  # stands for a value the profile could not read: fails the §3 check of its column
_NUMERAL = re.compile(NUMERAL)


@dataclass
class MappedFile:
    """A sender's file as §3 units, with the sender's provenance."""
    profile: Profile
    sheet: str | None
    header: list[str]                  # the §3 columns of the kind (as a RawTable's header)
    table: pa.Table                    # one text column per §3 column, one row per unit
    row_numbers: np.ndarray            # the sender's row of each unit
    raw: list[dict]                    # the sender's headers and values of each unit
    errors: list[dict | None]          # per unit: §3 column -> (code, message) of a value not read
    header_of: dict[str, str]          # §3 column -> the sender's header it is read from
    unread: list[str]                  # the sender's headers no profile key reads
    skipped: int = 0                   # rows above the header and rows a skip rule names
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)  # (row, rule) of each
    unmapped: Counter = field(default_factory=Counter)  # pay code -> cells no column counts

    @property
    def rows(self) -> int:
        return len(self.row_numbers)

    @property
    def unread_set(self) -> set[str]:
        if not hasattr(self, "_unread_set"):
            self._unread_set = set(self.unread)
        return self._unread_set

    def as_raw_table(self, keep: np.ndarray | None = None) -> RawTable:
        table, rows = self.table, self.row_numbers
        if keep is not None:
            table, rows = table.take(pa.array(np.flatnonzero(keep))), rows[keep]
        return RawTable(sheet=self.sheet, header=self.header, table=table, row_numbers=rows)


def _text(v: object) -> str:
    return v.strip(TRIMMED) if isinstance(v, str) else _cell_text(v).strip(TRIMMED)


def _decode(data: bytes, profile: Profile) -> str:
    encoding = profile.encoding
    if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16-le"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        raise FileProblem("BAD_ENCODING", f"the file is not {profile.encoding} text (byte 0x{data[e.start]:02x} at "
                                          f"offset {e.start}), as profile {profile.name} says: save it as "
                                          f"{profile.encoding} or change dialect.encoding") from None
    return text[1:] if text.startswith("\ufeff") else text


def read_grid(path: Path, profile: Profile, root: Path | None = None,
              sha256: str | None = None) -> tuple[str | None, list[list[object]]]:
    """The file's cells, row by row, as the sender wrote them (text; a workbook's typed cells as
    numbers and dates), and the sheet read. Only a regular file reached without a symbolic link
    (under ``root``, when given) is opened, and it is read once: the checks that bound the read and
    the parse see the same bytes, which with ``sha256`` must be the ones hashed (``FILE_CHANGED``
    otherwise)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise FileProblem("WRONG_FORMAT", f"only .csv and .xlsx files are read, not {path.suffix or 'a file without an ending'}")
    data = read_hashed(path, root, sha256)
    if suffix == ".xlsx":
        return _read_sheet(data, profile)
    text = _decode(data, profile)
    if "\x00" in text:
        raise FileProblem("MALFORMED_CSV", "the file holds a NUL character: it is not text in "
                                           f"{profile.encoding}; check dialect.encoding of profile {profile.name}")
    csv.field_size_limit(screening.LIMITS.row_bytes + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=profile.delimiter, quotechar=profile.quote_char)
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > screening.LIMITS.rows + 1000:
                raise FileProblem("FILE_TOO_LARGE", f"the file has more than {screening.LIMITS.rows:,} rows: split it")
    except csv.Error as e:
        raise FileProblem("MALFORMED_CSV", f"row {len(rows) + 1} is not CSV ({e}): fix it and send the file again") from None
    return None, rows


def _read_sheet(data: bytes, profile: Profile) -> tuple[str, list[list[object]]]:
    from python_calamine import CalamineWorkbook

    screening.screen_xlsx(data, len(data))
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        if profile.sheet is not None and profile.sheet not in book.sheet_names:
            raise FileProblem("UNREADABLE_FILE", f"the workbook has no sheet {profile.sheet!r} (profile {profile.name}, "
                                                 f"dialect.sheetName); its sheets are {', '.join(map(repr, book.sheet_names))}")
        sheet = book.get_sheet_by_name(profile.sheet) if profile.sheet else book.get_sheet_by_index(0)
        if sheet.height * max(sheet.width, 1) > screening.LIMITS.cells:
            raise FileProblem("FILE_TOO_LARGE", f"sheet {sheet.name!r} spans more than {screening.LIMITS.cells:,} cells")
        start = sheet.start or (0, 0)
        rows = [[""] * 0 for _ in range(start[0])]
        rows += [[""] * start[1] + list(r) for r in sheet.iter_rows()]
        return sheet.name, rows
    except FileProblem:
        raise
    except Exception as e:  # calamine raises its own error types for broken workbooks
        raise FileProblem("UNREADABLE_FILE", f"the workbook cannot be read ({type(e).__name__}: "
                                             f"{(str(e).splitlines() or [''])[0][:200]})") from None


def number_text(text: str, decimal_char: str, group_char: str | None, amount: bool) -> str | None:
    """A sender's number as a §3 numeral, or None when it is not one: ``decimalChar`` and
    ``groupChar`` as the profile says (a group character only between groups of three digits);
    an amount may carry a leading ``$`` (``$1,234.56``, ``-$3.00``) and is negative in
    parentheses (``(12.00)``). With a ``$`` and no group character declared, ``,`` groups."""
    t = text
    negative = False
    if amount and t.startswith("(") and t.endswith(")"):
        negative, t = True, t[1:-1].strip()
    sign = ""
    if t[:1] in "+-":
        sign, t = t[0], t[1:].strip()
    dollar = amount and t.startswith("$")
    if dollar:
        t = t[1:].strip()
        if not sign and t[:1] in "+-":
            sign, t = t[0], t[1:]
    if negative and sign:
        return None
    group = group_char or ("," if dollar and decimal_char == "." else None)
    whole, point, frac = t.partition(decimal_char)
    if group and group in whole:
        if not re.fullmatch(r"[0-9]{1,3}(?:" + re.escape(group) + r"[0-9]{3})+", whole):
            return None
        whole = whole.replace(group, "")
    out = whole + ("." + frac if point else "")
    if not _NUMERAL.fullmatch(out) or out[:1] in "+-":
        return None
    return ("-" if negative or sign == "-" else "") + out


def _number_example(profile: Profile, amount: bool) -> str:
    g, d = profile.group_char, profile.decimal_char
    body = f"1{g}234{d}56" if g else f"1234{d}56"
    return ("$" if amount and d == "." else "") + body


def _blank(row: list[object]) -> bool:
    return all(_text(v) == "" for v in row)


def read_mapped(path: Path, profile: Profile, root: Path | None = None, sha256: str | None = None) -> MappedFile:
    """The file as §3 units; ``FileProblem`` when the whole file is rejected (a header the profile
    names for a required column missing, a header named twice, a file that is not a table)."""
    kind = profile.kind
    contract = data_contracts.load(kind)["columns"]
    sheet, grid = read_grid(path, profile, root, sha256)
    header_rows = profile.header_rows
    last = header_rows[-1]
    if len(grid) < last:
        raise FileProblem("MISSING_COLUMN", f"the file has {len(grid)} rows: there is no header on row "
                                            f"{last} (profile {profile.name}, dialect.headerRows)")
    width = max((len(r) for r in grid), default=0)
    shown = []
    for c in range(width):
        parts = [_text(grid[r - 1][c]) if c < len(grid[r - 1]) else "" for r in header_rows]
        shown.append(profile.header_join.join(p for p in parts if p))
    index: dict[str, int] = {}
    twice: set[str] = set()
    for c, h in enumerate(shown):
        if h:
            if norm(h) in index:
                twice.add(norm(h))
            index.setdefault(norm(h), c)

    def find(headers: tuple[str, ...]) -> int | None:
        for h in headers:
            if norm(h) in twice:
                raise FileProblem("DUPLICATE_COLUMN", f"the header names {h!r} twice: keep one and send the file again")
            if norm(h) in index:
                return index[norm(h)]
        return None

    header_columns = set(data_contracts.required_columns(kind))
    where: dict[str, int] = {}
    for col, headers in profile.columns.items():
        c = find(headers)
        if c is None:
            if col in header_columns:
                names = " or ".join(f'"{h}"' for h in headers)
                raise FileProblem("MISSING_COLUMN", f"the header lacks {names} ({col}), which profile {profile.name} "
                                                    f"reads for {col}: add it, or correct the profile")
            continue
        where[col] = c
    skip_at = []
    for i, rule in enumerate(profile.skip):
        c = find((rule.header,))
        if c is None:
            raise FileProblem("MISSING_COLUMN", f'the header lacks "{rule.header}", which skip rule {i + 1} of profile '
                                                f"{profile.name} looks at")
        skip_at.append((rule, c))
    earn = profile.earnings
    pair_at: list[tuple[str, int, int, str, str]] = []  # what, code column, value column, their headers
    line_at: dict[str, int] = {}
    if earn is not None and earn.shape == "pairs":
        for pair in earn.pairs:
            code_re, value_re = pair.regexes()
            codes = {m.group(1): c for c, h in enumerate(shown) if (m := code_re.fullmatch(norm(h)))}
            values = {m.group(1): c for c, h in enumerate(shown) if (m := value_re.fullmatch(norm(h)))}
            for n in sorted(set(codes) & set(values), key=int):
                pair_at.append((pair.what, codes[n], values[n], shown[codes[n]], shown[values[n]]))
            for n in sorted(set(codes) ^ set(values), key=int):
                lone = shown[codes[n]] if n in codes else shown[values[n]]
                raise FileProblem("MISSING_COLUMN", f'"{lone}" has no partner column ({pair.code!r} and {pair.value!r} '
                                                    f"of profile {profile.name} come in pairs)")
        if not pair_at:
            raise FileProblem("MISSING_COLUMN", f"the header has no column like {earn.pairs[0].code!r}, which profile "
                                                f"{profile.name} reads pay codes from")
    elif earn is not None:
        for what, h in (("code", earn.code), *earn.values.items()):
            c = find((h,))
            if c is None:
                raise FileProblem("MISSING_COLUMN", f'the header lacks "{h}", the pay {what} column of profile '
                                                    f"{profile.name}")
            line_at[what] = c
    header_of = {col: shown[c] for col, c in where.items()}
    for col in (earn.codes if earn else ()):
        if earn.shape == "lines":
            what = "amount" if col in ("premium_paid", "gross_wages") else col
            header_of[col] = shown[line_at[what]]
        else:
            want = "amount" if col in ("premium_paid", "gross_wages") else col
            header_of[col] = " / ".join(pair.value for pair in earn.pairs if pair.what == want) or col
    read_cols = set(where.values()) | {c for _, c in skip_at} | set(line_at.values()) \
        | {c for _, a, b, _, _ in pair_at for c in (a, b)}
    keys = []
    seen_keys: dict[str, int] = {}
    for c, h in enumerate(shown):
        k = h or f"column_{c + 1}"
        if k in seen_keys:
            seen_keys[k] += 1
            k = f"{k} ({seen_keys[k]})"
        else:
            seen_keys[k] = 1
        keys.append(k)
    unread = [shown[c] for c in range(width) if c not in read_cols and shown[c]]

    values: dict[str, list[str]] = {col: [] for col in contract}
    row_numbers: list[int] = []
    raws: list[dict] = []
    errors: list[dict | None] = []
    skipped_rows: list[tuple[int, str]] = []
    unmapped: Counter = Counter()
    filled: dict[str, object] = {}
    for r in range(1, last):
        if r not in header_rows and not _blank(grid[r - 1]):
            skipped_rows.append((r, "above the header"))
    amount_cols = {c for c, s in contract.items() if s["type"] == "amount"}
    number_cols = {c for c, s in contract.items() if s["type"] == "number"}
    date_cols = {c for c, s in contract.items() if s["type"] == "date"}

    numbers: dict[tuple[str, bool], str | None] = {}
    counted: dict[tuple[str, str], list[str]] = {}  # (pay code, amount/hours/units) -> the columns it adds to
    known: dict[tuple[str, str], bool] = {}

    def targets_of(code: str, what: str) -> list[str]:
        if (code, what) not in counted:
            counted[(code, what)] = earn.columns_of(code, what)
        return counted[(code, what)]

    def listed_of(code: str, what: str) -> bool:
        if (code, what) not in known:
            known[(code, what)] = earn.listed(code, what)
        return known[(code, what)]
    dates: dict[tuple[str, str], str] = {}

    def read_number(v: object, col_or_what: str, amount: bool, shown_header: str, col: str):
        """(numeral text, error) of one cell."""
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return _cell_text(v), None
        t = _text(v)
        if t == "":
            return "", None
        key = (t, amount)
        n = numbers[key] if key in numbers else numbers.setdefault(
            key, number_text(t, profile.decimal_char, profile.group_char, amount))
        if n is None:
            code = "BAD_AMOUNT" if amount else "BAD_NUMBER"
            what = "an amount" if amount else "a number"
            return None, (code, f'"{shown_header}" ({col}): "{t}" is not {what} like {_number_example(profile, amount)}')
        return n, None

    for r in range(last + 1, len(grid) + 1):
        row = grid[r - 1]
        if len(row) < width:
            row = list(row) + [""] * (width - len(row))
        texts = [_text(v) for v in row]  # each cell trimmed once
        if not any(texts):
            continue
        rule = next((rule for rule, c in skip_at if rule.matches(texts[c])), None)
        if rule is not None:
            skipped_rows.append((r, rule.describe()))
            continue
        raw = {keys[c]: t for c, t in enumerate(texts) if t or shown[c]}
        unit: dict[str, str] = {}
        err: dict = {}
        for col, c in where.items():
            v = row[c]
            t = texts[c]
            if col in profile.fill_down:
                if t == "":
                    v = filled.get(col, v)
                    t = _text(v)
                filled[col] = v
            if col in profile.values and t in profile.values[col]:
                v = t = profile.values[col][t]
            if col in date_cols:
                if isinstance(v, dt.datetime):
                    t = v.date().isoformat()
                elif isinstance(v, dt.date):
                    t = v.isoformat()
                elif t and col in profile.formats:
                    try:
                        key = (t, profile.formats[col])
                        if key not in dates:  # a column holds few distinct dates: each parsed once
                            dates[key] = dt.datetime.strptime(t, profile.formats[col]).date().isoformat()
                        t = dates[key]
                    except ValueError:
                        err[col] = ("BAD_DATE", f'"{header_of[col]}" ({col}): "{t}" is not a date like '
                                                f"{EXAMPLE_DAY.strftime(profile.formats[col])}")
                        t = SENTINEL
            elif col in amount_cols or col in number_cols:
                n, e = read_number(v, col, col in amount_cols, header_of[col], col)
                if e:
                    err[col], t = e, SENTINEL
                else:
                    t = n
            unit[col] = t
        for col, value in profile.constants.items():
            unit[col] = value
        if earn is not None:
            sums: dict[str, Decimal] = {}
            if earn.shape == "pairs":
                for what, cc, vc, ch, vh in pair_at:
                    code, v = texts[cc], row[vc]
                    amount = what == "amount"
                    if texts[vc] == "":
                        continue
                    if code == "":
                        col = next((c for c in earn.codes if ("amount" if c in ("premium_paid", "gross_wages") else c) == what), what)
                        err.setdefault(col, ("MISSING_FIELD", f'"{ch}" (pay code) is blank beside "{_text(v)}" in '
                                                              f'"{vh}": a pay code is required'))
                        continue
                    targets = targets_of(code, what)
                    if not listed_of(code, what):
                        unmapped[code] += 1
                    if not targets:
                        continue
                    for col in targets:
                        n, e = read_number(v, what, amount, vh, col)
                        if e:
                            err.setdefault(col, e)
                        elif col not in err:
                            if amount and "." in n and len(n.split(".")[1].rstrip("0")) > 2:
                                err[col] = ("BAD_AMOUNT", f'"{vh}" ({col}): "{_text(v)}" is not a whole number of cents')
                            elif not amount and "." in n and len(n.split(".")[1].rstrip("0")) > 3:
                                err[col] = ("BAD_NUMBER", f'"{vh}" ({col}): "{_text(v)}" has more than 3 decimal places')
                            else:
                                sums[col] = sums.get(col, Decimal(0)) + Decimal(n)
            else:
                code = texts[line_at["code"]]
                if code == "":
                    err.setdefault("premium_paid", ("MISSING_FIELD", f'"{shown[line_at["code"]]}" (pay code) is blank: '
                                                                     "each line needs its pay code"))
                elif not any(listed_of(code, w) for w in line_at if w != "code"):
                    unmapped[code] += 1
                for what in (w for w in line_at if w != "code"):
                    if not code:
                        break
                    for col in targets_of(code, what):
                        n, e = read_number(row[line_at[what]], what, what == "amount", shown[line_at[what]], col)
                        if e:
                            err.setdefault(col, e)
                        elif n:
                            sums[col] = sums.get(col, Decimal(0)) + Decimal(n)
            for col in earn.codes:
                unit[col] = SENTINEL if col in err else (_decimal_text(sums[col]) if col in sums else "")
        for col in contract:
            values[col].append(unit.get(col, ""))
        row_numbers.append(r)
        raws.append(raw)
        errors.append(err or None)
    table = pa.table({col: pa.array(v, pa.string()) for col, v in values.items()})
    return MappedFile(profile, sheet, list(contract), table, np.array(row_numbers, dtype=np.int64), raws, errors,
                      header_of, unread, len(skipped_rows), skipped_rows, unmapped)


def _decimal_text(d: Decimal) -> str:
    t = format(d, "f")
    return t


@dataclass
class MappedOutcome:
    """What a mapped file gives: accepted §3 rows (one per key of a lines file), and every unit's
    outcome (code None: accepted)."""
    accepted: pd.DataFrame            # §3 columns as text, row_number, raw (JSON)
    code: np.ndarray                  # per unit
    message: np.ndarray               # per unit

    @property
    def good(self) -> np.ndarray:
        return pd.isna(self.code)


_COLUMN_WORD = "(?<![A-Za-z0-9_/\"]){}(?![A-Za-z0-9_.\"])"


def sender_words(message: str, header_of: dict[str, str]) -> str:
    """A §3 message with the sender's header named beside the first mention of each §3 column."""
    for col in sorted(header_of, key=len, reverse=True):
        message = re.sub(_COLUMN_WORD.format(re.escape(col)), lambda m, col=col: f'"{header_of[col]}" ({col})',
                         message, count=1)
    return message


def _key_text(table: pa.Table, kind: str) -> list[tuple]:
    key = data_contracts.load(kind)["key"]
    cols = {k: table.column(k).to_pylist() for k in key}
    if kind == "payroll":
        cols["premium_period_start"] = [p or s for p, s in zip(cols["premium_period_start"], cols["period_start"])]
    return list(zip(*(cols[k] for k in key)))


def check_mapped(mf: MappedFile, kind: str, ref: Reference, sender: str | None = None) -> MappedOutcome:
    """§3's checks on the file's units, in §3's order, with the §3b rules for lines; messages in
    the sender's words."""
    lines = mf.profile.earnings is not None and mf.profile.earnings.shape == "lines"
    checks = [c for c in CHECKS if c is not duplicate_key] if lines else CHECKS
    checked = validate_many([mf.as_raw_table()], kind, ref, checks, senders=[sender])
    code, message = checked.code.copy(), checked.message.copy()
    _own_words(mf, code, message)
    rows = mf.row_numbers
    if not lines:
        good = pd.isna(code)
        acc = mf.table.to_pandas().loc[good].reset_index(drop=True)
        acc["row_number"] = rows[good]
        acc["raw"] = [_accepted_raw(mf, i) for i in np.flatnonzero(good)]
        return MappedOutcome(acc, code, message)
    keys = _key_text(mf.table, kind)
    groups: dict[tuple, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    columns = {c: mf.table.column(c).to_pylist() for c in mf.header}
    earn_cols = list(mf.profile.earnings.codes)
    out_rows, out_units = [], []
    for members in groups.values():
        if any(code[i] is not None for i in members):
            continue
        first = {c: columns[c][members[0]] for c in mf.header}
        for col in earn_cols:
            vals = [columns[col][i] for i in members if columns[col][i] != ""]
            first[col] = _decimal_text(sum((Decimal(v) for v in vals), Decimal(0))) if vals else ""
        out_rows.append(first)
        out_units.append(members)
    if out_rows:  # a key's lines added up: the row §3 holds is checked too (a sum past the largest amount)
        agg = pa.Table.from_pylist(out_rows, schema=mf.table.schema)
        again = validate_many([RawTable(mf.sheet, mf.header, agg, rows[[m[0] for m in out_units]])], kind, ref,
                              CHECKS, senders=[sender])
        for j in np.flatnonzero(~again.good):
            members = out_units[j]
            code[members[0]] = again.code[j]
            message[members[0]] = sender_words(again.message[j], mf.header_of)
    for members in groups.values():
        bad = [i for i in members if code[i] is not None and code[i] != "SIBLING_REJECTED"]
        if bad:
            for i in members:
                if code[i] is None:
                    code[i] = "SIBLING_REJECTED"
                    message[i] = (f"row {rows[bad[0]]}, a line of the same pay period, was quarantined "
                                  f"({code[bad[0]]}: {message[bad[0]]}); a pay period is accepted whole or not "
                                  f"at all: correct row {rows[bad[0]]} and send the file again")
    kept = [(row, members) for row, members in zip(out_rows, out_units) if all(pd.isna(code[i]) for i in members)]
    acc = pd.DataFrame([row for row, _ in kept], columns=mf.header)
    acc["row_number"] = np.array([rows[m[0]] for _, m in kept], dtype=np.int64)
    acc["raw"] = [_accepted_raw(mf, m[0], [int(rows[i]) for i in m]) for _, m in kept]
    return MappedOutcome(acc, code, message)


def _key_names(kind: str) -> list[str]:
    return list(data_contracts.load(kind)["key"])


def _accepted_raw(mf: MappedFile, i: int, lines: list[int] | None = None) -> str | None:
    """An accepted row's raw record: the sender's values no profile key reads (as a §3 row's raw
    record holds its extra columns), and the rows of a lines key."""
    unread = mf.unread_set
    record = {h: v for h, v in mf.raw[i].items() if v != "" and h in unread}
    if lines and len(lines) > 1:
        record["rows"] = ", ".join(map(str, lines))
    return json.dumps(record, ensure_ascii=False) if record else None


def _own_words(mf: MappedFile, code: np.ndarray, message: np.ndarray) -> None:
    """A value the profile could not read keeps the code §3 would give it and its own message;
    every other message names the sender's header beside the §3 column."""
    rank = {c: i for i, c in enumerate(ORDER)}
    for i in np.flatnonzero(~pd.isna(code)):
        err = mf.errors[i]
        if err:
            best = min(err.values(), key=lambda e: rank[e[0]])
            if rank.get(code[i], len(ORDER)) >= rank[best[0]]:
                code[i], message[i] = best
                continue
        message[i] = sender_words(message[i], mf.header_of)
    for i in np.flatnonzero(pd.isna(code)):
        if mf.errors[i]:  # cannot happen: a value not read is never a §3 value
            code[i], message[i] = min(mf.errors[i].values(), key=lambda e: rank[e[0]])


def load_mapped(con, kind: str, entry: dict, mf: MappedFile, outcome: MappedOutcome) -> None:
    """The accepted rows into the kind's history, every quarantined unit into ``quarantine`` with
    the sender's file, row and own headers and values."""
    acc = outcome.accepted.copy()
    acc["file_seq"] = entry["seq"]
    acc["file"] = entry["file"]
    acc["sheet"] = mf.sheet
    acc["raw"] = acc["raw"].astype(object)
    for col in mf.header:
        acc[col] = acc[col].astype(object)
    con.register("_mapped", pa.Table.from_pandas(acc, preserve_index=False))
    try:
        con.execute(f"INSERT INTO {HISTORY[kind]} BY NAME {history_select(kind, '_mapped')}")
    finally:
        con.unregister("_mapped")
    bad = np.flatnonzero(~outcome.good)
    if len(bad):
        q = pd.DataFrame({"file": entry["file"], "sheet": mf.sheet, "row_number": mf.row_numbers[bad].astype(np.int64),
                          "kind": kind, "code": outcome.code[bad].astype(object),
                          "message": outcome.message[bad].astype(object),
                          "raw": [json.dumps(mf.raw[i], ensure_ascii=False) for i in bad], "sha256": entry["sha256"]})
        q["sheet"] = q["sheet"].astype(object)
        con.register("_mapped_q", pa.Table.from_pandas(q, preserve_index=False))
        try:
            con.execute("INSERT INTO quarantine BY NAME SELECT * FROM _mapped_q")
        finally:
            con.unregister("_mapped_q")


def profiles_for(profiles: list[Profile], rel: str) -> list[Profile]:
    return [p for p in profiles if p.matches(rel)]


def read_for_ingest(data_dir: Path, rel: str, profiles: list[Profile], entry: dict,
                    sha256: str | None = None) -> MappedFile | FileProblem:
    """The file read through its one profile, or the problem that rejects it whole (two profiles
    match it: ``AMBIGUOUS_MAPPING``)."""
    if len(profiles) > 1:
        names = " and ".join(p.path for p in profiles)
        return FileProblem("AMBIGUOUS_MAPPING", f"two profiles match this file ({names}): narrow their files patterns "
                                                "so that one does")
    entry["mapping"] = profiles[0].name
    try:
        return read_mapped(data_dir / rel, profiles[0], data_dir, sha256)
    except FileProblem as e:
        return e
    except (Exception, MemoryError) as e:  # nothing a file holds may stop the others
        return FileProblem("UNREADABLE_FILE", f"the file cannot be read through profile {profiles[0].name} "
                                              f"({type(e).__name__}: {(str(e).splitlines() or [''])[0][:200]})")


def apply(con, kind: str, entry: dict, mf: MappedFile, ref: Reference, summary) -> MappedOutcome:
    """Check and load one mapped file, and count its rows in its ``ingest_log`` line."""
    outcome = check_mapped(mf, kind, ref, sender_of(entry["file"]))
    load_mapped(con, kind, entry, mf, outcome)
    good = outcome.good
    a, b = int(good.sum()), int((~good).sum())
    entry.update(status="loaded", rows_read=a + b + mf.skipped, rows_accepted=a, rows_quarantined=b,
                 rows_skipped=mf.skipped,
                 unmapped_codes=json.dumps(dict(sorted(mf.unmapped.items())), ensure_ascii=False) if mf.unmapped else None)
    summary.files_loaded += 1
    summary.rows_read += a + b + mf.skipped
    summary.rows_accepted += a
    summary.rows_quarantined += b
    summary.codes.update(outcome.code[~good].tolist())
    return outcome
