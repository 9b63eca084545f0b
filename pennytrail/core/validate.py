"""Row checks: each row of a submission is accepted or quarantined (docs/rules.md, "Row outcomes").

The checks are a list of functions of one signature, ``check(batch) -> None``, run in the order
of the row outcomes (``CHECKS``). Each looks at whole columns of the batch and flags the rows it
finds wrong; a row keeps the first code that applies, with a message that names the field, the
value and what was expected, so a later check sees only the rows still open. Which columns a
check looks at comes from the data contract of the kind (``data_contracts/<kind>.yaml``): its
column types say which values must be dates, numbers, amounts, parties or units. Accepted values
stay validated text; the warehouse types them exactly (``warehouse.history_select``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import data_contracts

from .ids import NOT_PLAIN_RE, id_problem
from .languages import problem as language_problem
from .money import (AMOUNT_DP, MAX_AMOUNT_CENTS, MAX_NUMBER, NUMERAL, QUANTITY_DP, dollars,
                    bounded_numeral_regex, numeral_regex, round_half_up)
from .reading import RawTable, text_column
from .reference import Reference

DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
EPOCH = dt.date(1970, 1, 1)


@dataclass
class Checked:
    """The rows of a batch of files of one kind, checked: the contract's columns as text (blank is
    ""), and per row its file, sheet, spreadsheet row number and outcome (code None: accepted)."""
    text: pd.DataFrame
    file_index: np.ndarray
    sheets: np.ndarray
    row_numbers: np.ndarray
    code: np.ndarray
    message: np.ndarray

    @property
    def good(self) -> np.ndarray:
        return pd.isna(self.code)


def _b(x) -> np.ndarray:
    """Any pandas or numpy boolean as a plain numpy bool array (missing is False)."""
    if isinstance(x, pd.Series):
        return x.to_numpy(dtype=bool, na_value=False)
    return np.asarray(x, dtype=bool)


def _q(value: object) -> str:
    """A value as quoted in a message: at most 40 characters, a character one cannot see shown
    by its code (``\\u200b``)."""
    text = "" if value is None or value is pd.NA else str(value)
    shown = f"'{text[:40]}…'" if len(text) > 40 else f"'{text}'"
    if shown.isprintable():
        return shown
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in shown)


Message = Callable[[np.ndarray], list[str]]  # positions of the flagged rows -> their messages


def _values(col: pd.Series) -> Message:
    return lambda where: [_q(v) for v in col.iloc[where]]


@dataclass
class Batch:
    """The rows of a batch of files of one kind, as the checks see them: the contract's columns
    as Arrow-backed text (blank is ""), and the outcome so far.

    ``flag`` records a code for the rows of a mask that are still open; messages are built only
    for the rows a check flags, so a clean file costs no string work. What one check works out
    for a later one (the parsed dates, the rate in force) is kept here.
    """
    kind: str
    contract: dict
    ref: Reference
    text: pd.DataFrame
    file_index: np.ndarray
    row_numbers: np.ndarray
    code: np.ndarray = field(init=False)
    message: np.ndarray = field(init=False)
    dates: dict[str, pd.Series] = field(default_factory=dict)  # by bad_date: column -> datetime64
    rate_unit: pd.Series | None = None                           # by no_rate: row -> rate unit
    rate: pd.Series | None = None                                # by no_rate: row -> rate (Decimal)
    sender: np.ndarray | None = None                             # party whose senders/ folder each row came from

    def __post_init__(self) -> None:
        n = len(self.text)
        self.code = np.full(n, None, dtype=object)
        self.message = np.full(n, None, dtype=object)
        self._open = np.ones(n, dtype=bool)

    @property
    def spec(self) -> dict:
        return self.contract["columns"]

    def of_type(self, t: str) -> list[str]:
        return [c for c, s in self.spec.items() if s["type"] == t]

    def open(self) -> np.ndarray:
        """Where the rows no check has flagged yet are (a copy)."""
        return self._open.copy()

    def flag(self, mask, code: str, message: str | Message) -> None:
        m = _b(mask) & self._open
        if not m.any():
            return
        where = np.flatnonzero(m)
        self._open[where] = False
        self.code[where] = code
        self.message[where] = message(where) if callable(message) else message


Check = Callable[[Batch], None]


def missing_field(b: Batch) -> None:
    for col, s in b.spec.items():
        if s.get("required"):
            b.flag(b.text[col] == "", "MISSING_FIELD", f"{col} is blank: a value is required")


def _id_columns(b: Batch) -> list[str]:
    return [c for c, s in b.spec.items() if s["type"] in ("id", "unit") or "party" in s]


def bad_id(b: Batch) -> None:
    """An id or unit must mean what it shows (``ids``): no invisible character inside it, nothing
    that compatibility normalisation changes, no look-alike letters of two alphabets. Whole-column
    checks; only the distinct values that are not plain ASCII are looked at one by one."""
    for col in _id_columns(b):
        v = b.text[col]
        # one pass: anything but printable ASCII (most columns have none, and are done)
        odd = pc.match_substring_regex(_arrow(v), NOT_PLAIN_RE).to_numpy(zero_copy_only=False)
        if not odd.any():
            continue
        problems = {x: id_problem(x) for x in pd.unique(v[odd].astype(object))}
        flagged = odd.copy()
        flagged[odd] = [problems[x] is not None for x in v[odd].astype(object)]
        b.flag(flagged, "BAD_ID", lambda where, col=col, v=v, problems=problems: [
            f"{col}: {_q(x)} {problems[x]}" for x in v.iloc[where].astype(object)])


def bad_language(b: Batch) -> None:
    """An optional language (payroll's ``language``) is blank or an ISO 639 code (``languages``);
    a column holds few distinct values, each looked at once."""
    for col in b.of_type("language"):
        v = b.text[col]
        given = _b(v != "")
        if not given.any():
            continue
        problems = {x: language_problem(x) for x in pd.unique(v[given].astype(object))}
        flagged = given.copy()
        flagged[given] = [problems[x] is not None for x in v[given].astype(object)]
        b.flag(flagged, "BAD_LANGUAGE", lambda where, col=col, v=v, problems=problems: [
            f"{col}: {problems[x]}, or blank" for x in v.iloc[where].astype(object)])


def bad_date(b: Batch) -> None:
    for col in b.of_type("date"):
        v = b.text[col]
        # a column holds few distinct dates: each is checked and parsed once
        codes, distinct = pd.factorize(v)
        distinct = pd.Series(distinct, dtype=v.dtype)
        shaped = _b(distinct.str.fullmatch(DATE_RE))
        once = pd.to_datetime(distinct.astype(object).where(shaped, None), format="%Y-%m-%d", errors="coerce")
        parsed = pd.Series(once.to_numpy()[codes], index=v.index)
        b.dates[col] = parsed

        def message(where, v=v, col=col):
            return [f"{col}: expected a date YYYY-MM-DD, got {_q(x)}"
                    + (" (an Excel date number? format the cell as a date)"
                       if str(x).replace(".", "", 1).isdigit() and len(str(x).split(".")[0]) == 5 else "")
                    for x in v.iloc[where]]
        b.flag(_b(v != "") & _b(parsed.isna()), "BAD_DATE", message)


def _numbers(b: Batch, cols: list[str], max_dp: int, code: str, what: str, limit: int, shown_limit: str) -> None:
    for col in cols:
        v = b.text[col]
        # one pass over the column: a value that fits (a numeral, its decimal places, the
        # warehouse's range) is done; only the rest are told apart
        bad = _b(v != "") & ~_b(v.str.fullmatch(bounded_numeral_regex(max_dp, limit)))
        numeral = np.zeros(len(v), dtype=bool)
        shape = np.zeros(len(v), dtype=bool)  # a numeral of the right shape (places, 15 digits): too large
        if bad.any():
            numeral[bad] = _b(v[bad].str.fullmatch(NUMERAL))
            shape[bad] = _b(v[bad].str.fullmatch(numeral_regex(max_dp)))
        shown = _values(v)

        def not_a_number(where, v=v, col=col, shown=shown):
            hint = [" (remove currency signs and thousands separators)" if any(c in str(x) for c in "$,€£") else ""
                    for x in v.iloc[where]]
            return [f"{col}: expected {what}, got {s}{h}" for s, h in zip(shown(where), hint)]

        b.flag(bad & ~numeral, code, not_a_number)
        b.flag(bad & numeral & ~shape, code,
               lambda where, col=col, shown=shown: [
                   f"{col}: expected at most {max_dp} decimal places and 15 digits before the point, got {s}"
                   for s in shown(where)])
        # the warehouse's range: a value that fits its column and whose sums cannot overflow
        b.flag(bad & shape, code, lambda where, col=col, shown=shown: [
            f"{col}: {s} is more than {shown_limit}, the largest value pennytrail holds; check the value "
            "(a misplaced decimal point?)" for s in shown(where)])


def bad_number(b: Batch) -> None:
    _numbers(b, b.of_type("number"), QUANTITY_DP, "BAD_NUMBER", "a number such as 12.5", MAX_NUMBER,
             f"{MAX_NUMBER:,}")


def bad_amount(b: Batch) -> None:
    _numbers(b, b.of_type("amount"), AMOUNT_DP, "BAD_AMOUNT", "dollars and cents such as 12.50",
             MAX_AMOUNT_CENTS // 100, dollars(MAX_AMOUNT_CENTS))


def negative_value(b: Batch) -> None:
    for col in b.of_type("number") + b.of_type("amount"):
        v = b.text[col]
        negative = _b(v.str.startswith("-"))
        if negative.any():  # "-0.00" is not negative
            negative[negative] = _b(v[negative].str.contains("[1-9]", regex=True))
        b.flag(negative, "NEGATIVE_VALUE",
               lambda where, col=col, v=v: [f"{col}: must not be negative, got {s}" for s in _values(v)(where)])


def _party_columns(b: Batch) -> list[str]:
    return [c for c, s in b.spec.items() if "party" in s]


def unknown_party(b: Batch) -> None:
    for col in _party_columns(b):
        v = b.text[col]
        b.flag(_b(v != "") & ~_b(v.isin(b.ref.parties.keys())), "UNKNOWN_PARTY",
               lambda where, col=col, v=v: [f"{col}: {s} is not in reference/parties.csv" for s in _values(v)(where)])


def wrong_party_type(b: Batch) -> None:
    types = {pid: p[0] for pid, p in b.ref.parties.items()}
    for col in _party_columns(b):
        allowed = b.spec[col]["party"]
        v = b.text[col]
        t = v.astype(object).map(types)
        b.flag(_b(t.notna()) & ~_b(t.isin(allowed)), "WRONG_PARTY_TYPE",
               lambda where, col=col, allowed=allowed, t=t, v=v: [
                   f"{col}: {s} is a {ty}; expected a {' or '.join(allowed)}"
                   for s, ty in zip(_values(v)(where), t.iloc[where])])


SENDER_COLUMN = {"purchases": "buyer_id", "sales": "seller_id", "payments": "payer_id", "payroll": "grower_id"}


def sender_of(rel: str) -> str | None:
    """The party a file was sent by (SPEC §3c): the folder after ``inbox/<kind>/senders/``; None
    for a file placed elsewhere by the program's staff."""
    parts = rel.split("/")
    return parts[3] if len(parts) > 4 and parts[0] == "inbox" and parts[2] == "senders" else None


def wrong_sender(b: Batch) -> None:
    """A file under ``inbox/<kind>/senders/<party_id>/`` holds that party's own rows only (§3c)."""
    if b.sender is None:
        return
    col = SENDER_COLUMN[b.kind]
    sent = pd.notna(pd.Series(b.sender))
    if not sent.any():
        return
    v = b.text[col]
    other = sent.to_numpy() & (v.astype(object).to_numpy() != b.sender)
    b.flag(other, "WRONG_SENDER", lambda where, col=col, v=v: [
        f"{col}: {s} is another party; a file sent by {b.sender[i]} holds {b.sender[i]}'s own rows only"
        for s, i in zip(_values(v)(where), where)])


def unknown_unit(b: Batch) -> None:
    for col in b.of_type("unit"):
        v = b.text[col]
        b.flag(~_b(v.isin(b.ref.units.keys())), "UNKNOWN_UNIT",
               lambda where, col=col, v=v: [f"{col}: {s} is not in reference/units.csv" for s in _values(v)(where)])


def _program_ids(ref: Reference) -> dict[str, str]:
    return {pid: p[2] for pid, p in ref.parties.items() if p[2]}


def no_rate(b: Batch) -> None:
    """A purchase or sales line still open (a kind whose contract has the NO_RATE rule) needs a rate
    in force for its grower's program and commodity on its ship date; the rate's unit is kept for
    ``unit_mismatch``."""
    if not any(r["code"] == "NO_RATE" for r in b.contract.get("rules", [])):
        return
    df = b.text
    idx = np.flatnonzero(b.open())
    if len(idx) == 0:
        return
    program_ids = _program_ids(b.ref)
    grower = df["grower_id"].astype(object)
    rows = pd.DataFrame({
        "i": idx,
        "program_id": grower.iloc[idx].map(program_ids).to_numpy(),
        "commodity": df["commodity"].astype(object).iloc[idx].to_numpy(),
        "day": b.dates["ship_date"].iloc[idx].dt.date.to_numpy(),
    })
    rates = pd.DataFrame([(r.program_id, r.commodity, r.effective_from, r.effective_to or dt.date.max, r.rate_unit,
                           r.rate) for r in b.ref.rates],
                         columns=["program_id", "commodity", "start", "end", "rate_unit", "rate"])
    m = rows.merge(rates, on=["program_id", "commodity"], how="left")
    m = m[(m["start"] <= m["day"]) & (m["day"] <= m["end"])]
    found = rows.merge(m[["i", "rate_unit", "rate"]], on="i", how="left")
    missing = np.zeros(len(df), dtype=bool)
    missing[found.loc[found["rate_unit"].isna(), "i"].to_numpy()] = True
    has = found[found["rate_unit"].notna()]
    b.rate_unit = pd.Series(has["rate_unit"].to_numpy(), index=has["i"].to_numpy(), dtype=object)
    b.rate = pd.Series(has["rate"].to_numpy(), index=has["i"].to_numpy(), dtype=object)
    b.flag(missing, "NO_RATE", lambda where: [
        f"no rate in force for program {program_ids.get(g, '?')}, commodity {_q(c)} on ship_date {d} "
        "(see reference/rates.csv)"
        for g, c, d in zip(grower.to_numpy()[where], df["commodity"].to_numpy(dtype=object)[where],
                           df["ship_date"].to_numpy(dtype=object)[where])])


def unit_mismatch(b: Batch) -> None:
    """A purchase or sales line's unit must share a base unit with the unit of the rate in force."""
    if b.rate_unit is None or b.rate_unit.empty:
        return
    base = {u: bu for u, (bu, _) in b.ref.units.items()}
    i = b.rate_unit.index.to_numpy()
    unit = b.text["unit"].astype(object).iloc[i].map(base).to_numpy()
    mismatch = np.zeros(len(b.text), dtype=bool)
    mismatch[i[unit != b.rate_unit.map(base).to_numpy()]] = True
    rate_unit = b.rate_unit
    b.flag(mismatch, "UNIT_MISMATCH", lambda where: [
        f"unit {_q(b.text['unit'].iloc[i])} cannot be converted to the rate unit '{rate_unit[i]}': "
        "they share no base unit in reference/units.csv" for i in where])


def owed_too_large(b: Batch) -> None:
    """What a line owes (quantity in the rate unit × rate) must fit the warehouse's range, so that
    every sum of it cannot overflow. Exact: each distinct (unit, rate unit, rate) gives the cents
    owed per unit of quantity; only lines whose quantity has enough digits to pass the limit are
    computed one by one, with exact fractions."""
    if b.rate_unit is None or b.rate_unit.empty:
        return
    i = b.rate_unit.index.to_numpy()
    i = i[b.open()[i]]
    if len(i) == 0:
        return
    factor = {u: f for u, (_, f) in b.ref.units.items()}
    qty = b.text["quantity"].astype(object).to_numpy()[i]
    digits = b.text["quantity"].iloc[i].str.split(".").str[0].str.lstrip("+-0").str.len()
    rows = pd.DataFrame({"unit": b.text["unit"].astype(object).to_numpy()[i], "rate_unit": b.rate_unit.loc[i].to_numpy(),
                         "rate": b.rate.loc[i].astype(str).to_numpy(), "digits": digits.to_numpy(dtype=np.int64)})
    cols = ["unit", "rate_unit", "rate", "digits"]
    group = rows.groupby(cols, sort=False).ngroup().to_numpy()
    per_unit = [Fraction(factor[u]) / Fraction(factor[ru]) * Fraction(Decimal(r)) * 100
                for u, ru, r, _ in rows.drop_duplicates(cols).itertuples(index=False)]
    reach = np.array([10 ** int(d) * p > MAX_AMOUNT_CENTS
                      for d, p in zip(rows.drop_duplicates(cols)["digits"], per_unit)], dtype=bool)
    candidate = reach[group]  # a quantity below 10^digits cannot owe more than this bound
    if not candidate.any():
        return
    owed = {k: round_half_up(Fraction(Decimal(qty[k])) * per_unit[group[k]]) for k in np.flatnonzero(candidate)}
    over = [k for k, c in owed.items() if c > MAX_AMOUNT_CENTS]
    mask = np.zeros(len(b.text), dtype=bool)
    mask[i[over]] = True
    at = {int(i[k]): owed[k] for k in over}
    b.flag(mask, "OWED_TOO_LARGE", lambda where: [
        f"quantity: {_q(b.text['quantity'].iloc[r])} {b.text['unit'].iloc[r]} owes {dollars(at[r])} at the rate in "
        f"force, more than {dollars(MAX_AMOUNT_CENTS)}, the most one line may owe; check the quantity and its unit"
        for r in where])


def _days(d: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Dates as whole days since 1970-01-01, and where there is a date."""
    ns = d.to_numpy(dtype="datetime64[ns]")
    return ns.astype("datetime64[D]").astype(np.int64), ~np.isnat(ns)


def period_misaligned(b: Batch) -> None:
    """Payroll periods must be pay periods of the grower's program. Whole days as integers: a
    grower's program gives the anchor and the period length."""
    if b.kind != "payroll":
        return
    df, dates, ref = b.text, b.dates, b.ref
    codes, growers = pd.factorize(df["grower_id"])
    programs = [ref.program_of(g) for g in growers]
    has = np.array([p is not None for p in programs] + [False], dtype=bool)[codes]  # code -1: blank
    anchor = np.array([(p.period_anchor - EPOCH).days if p else 0 for p in programs] + [0])[codes]
    days = np.array([p.period_days if p else 1 for p in programs] + [1])[codes]
    start, has_start = _days(dates["period_start"])
    premium, has_premium = _days(dates["premium_period_start"])
    premium, has_premium = np.where(has_premium, premium, start), has_premium | has_start  # blank: period_start
    end, has_end = _days(dates["period_end"])
    epoch = np.datetime64(EPOCH, "D")

    def day(n: int) -> str:
        return str(epoch + n)

    def rule(i: int) -> str:
        return (f" is not the first day of a pay period of the grower's program (periods of {days[i]} days from "
                f"{day(anchor[i])})")
    for col, d, ok in (("period_start", start, has_start), ("premium_period_start", premium, has_premium)):
        b.flag(has & ok & ((d - anchor) % days != 0), "PERIOD_MISALIGNED",
               lambda where, col=col, d=d: [f"{col}: {day(d[i])}{rule(i)}" for i in where])
    expected_end = start + days - 1
    bad_end = has & has_start & ~(has_end & (end == expected_end))
    b.flag(bad_end, "PERIOD_MISALIGNED", lambda where: [
        f"period_end: expected {day(expected_end[i])} for a period starting {day(start[i])}, got {_q(g)}"
        for i, g in zip(where, df["period_end"].iloc[where])])


def _arrow(s: pd.Series) -> pa.ChunkedArray:
    return pa.chunked_array(pa.array(s))


def duplicate_key(b: Batch) -> None:
    """Among rows that passed every other check, a key seen twice in one file quarantines both;
    a key repeated across files is not a duplicate: the later file's row is a correction."""
    key = b.contract["key"]
    keyframe = b.text[key].copy()  # Arrow strings: hashed without a Python object per value
    if b.kind == "payroll":  # a blank premium_period_start is the period_start
        premium, start = _arrow(keyframe["premium_period_start"]), _arrow(keyframe["period_start"])
        keyframe["premium_period_start"] = pd.Series(pd.arrays.ArrowStringArray(
            pc.if_else(pc.equal(premium, ""), start, premium)), index=keyframe.index)
    keyframe["_file"] = b.file_index
    ok = b.open()
    dup = keyframe[ok].duplicated(keep=False)
    dup_mask = np.zeros(len(keyframe), dtype=bool)
    dup_mask[np.flatnonzero(ok)[dup.to_numpy()]] = True
    if not dup_mask.any():
        return
    kf = keyframe[dup_mask].copy()
    kf["_row"] = b.row_numbers[dup_mask]
    first_row = kf.groupby(key + ["_file"], sort=False)["_row"].transform("min").to_numpy()
    messages = [f"{' + '.join(key)} appears more than once in this file (first at row {r}); "
                "send one row per key" for r in first_row]
    b.flag(dup_mask, "DUPLICATE_KEY", lambda where: messages)


# In the order of the row outcomes: a row gets the code of the first check that flags it.
CHECKS: list[Check] = [
    missing_field,
    bad_id,
    bad_language,
    bad_date,
    bad_number,
    bad_amount,
    negative_value,
    unknown_party,
    wrong_party_type,
    wrong_sender,
    unknown_unit,
    no_rate,
    unit_mismatch,
    owed_too_large,
    period_misaligned,
    duplicate_key,
]


def validate_many(raws: list[RawTable], kind: str, ref: Reference, checks: list[Check] = CHECKS,
                  senders: list[str | None] | None = None) -> Checked:
    """The rows of several files of one kind, checked together as one frame (whole-column work
    costs the same for one file or a hundred)."""
    contract = data_contracts.load(kind)
    # the contract's columns only (extra columns live on in the raw record); an optional column
    # a file leaves out is blank. Arrow strings: whole-column kernels, no Python loop per row
    file_index = np.repeat(np.arange(len(raws)), [r.rows for r in raws])
    tables = [r.table for r in raws]
    text = pd.DataFrame({col: pd.Series(pd.arrays.ArrowStringArray(text_column(tables, col, "")), copy=False)
                         for col in contract["columns"]}, index=pd.RangeIndex(len(file_index)))
    row_numbers = np.concatenate([r.row_numbers for r in raws]) if raws else np.array([], dtype=int)
    sheets = np.array([r.sheet for r in raws], dtype=object)[file_index]
    batch = Batch(kind, contract, ref, text, file_index, row_numbers)
    if senders is not None and any(s is not None for s in senders):
        batch.sender = np.array(senders, dtype=object)[file_index]
    for check in checks:
        check(batch)
    return Checked(text, file_index, sheets, row_numbers, batch.code, batch.message)
