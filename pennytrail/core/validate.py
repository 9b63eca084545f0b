"""Row checks: each row of a submission is accepted or quarantined (SPEC.md §3).

The checks are driven by the data contract of the kind (``data_contracts/<kind>.yaml``): its
column types say which values must be dates, numbers, amounts, parties or units. They run in
SPEC.md's order over whole columns; a row gets the first code that applies, with a message that
names the field, the value and what was expected. Accepted values stay validated text; the
warehouse types them exactly (``warehouse.history_select``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import data_contracts

from .money import AMOUNT_DP, NUMERAL, QUANTITY_DP, numeral_regex
from .reading import RawTable, text_column
from .reference import Reference

DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"


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


@dataclass
class Validated:
    accepted: pd.DataFrame    # text columns + row_number
    quarantine: pd.DataFrame  # row_number, code, message


def _b(x) -> np.ndarray:
    """Any pandas or numpy boolean as a plain numpy bool array (missing is False)."""
    if isinstance(x, pd.Series):
        return x.to_numpy(dtype=bool, na_value=False)
    return np.asarray(x, dtype=bool)


def _q(value: object) -> str:
    """A value as quoted in a message: at most 40 characters."""
    text = "" if value is None or value is pd.NA else str(value)
    return f"'{text[:40]}…'" if len(text) > 40 else f"'{text}'"


Message = Callable[[np.ndarray], list[str]]  # positions of the flagged rows -> their messages


class _Outcome:
    """The first code and message per row, filled in SPEC.md's order.

    Messages are built only for the rows a check flags, so a clean file costs no string work.
    """

    def __init__(self, n: int):
        self.code = np.full(n, None, dtype=object)
        self.message = np.full(n, None, dtype=object)
        self._open = np.ones(n, dtype=bool)

    def open(self) -> np.ndarray:
        return self._open.copy()

    def flag(self, mask, code: str, message: str | Message) -> None:
        m = _b(mask) & self._open
        if not m.any():
            return
        where = np.flatnonzero(m)
        self._open[where] = False
        self.code[where] = code
        self.message[where] = message(where) if callable(message) else message


def _values(col: pd.Series) -> Callable[[np.ndarray], list[str]]:
    return lambda where: [_q(v) for v in col.iloc[where]]


def _check_numbers(df: pd.DataFrame, out: _Outcome, cols: list[str], max_dp: int, code: str, what: str) -> None:
    for col in cols:
        v = df[col]
        # one pass over the column: a value that fits is a numeral; only the rest are told apart
        bad = _b(v != "") & ~_b(v.str.fullmatch(numeral_regex(max_dp)))
        numeral = np.zeros(len(v), dtype=bool)
        if bad.any():
            numeral[bad] = _b(v[bad].str.fullmatch(NUMERAL))
        shown = _values(v)

        def not_a_number(where, v=v, col=col, shown=shown):
            hint = [" (remove currency signs and thousands separators)" if any(c in str(x) for c in "$,€£") else ""
                    for x in v.iloc[where]]
            return [f"{col}: expected {what}, got {s}{h}" for s, h in zip(shown(where), hint)]

        out.flag(bad & ~numeral, code, not_a_number)
        out.flag(bad & numeral, code,
                 lambda where, col=col, shown=shown: [
                     f"{col}: expected at most {max_dp} decimal places and 15 digits before the point, got {s}"
                     for s in shown(where)])


def validate(raw: RawTable, kind: str, ref: Reference) -> Validated:
    """The rows of one file, checked."""
    c = validate_many([raw], kind, ref)
    good = c.good
    accepted = c.text[good].assign(row_number=c.row_numbers[good]).reset_index(drop=True)
    quarantine = pd.DataFrame({"row_number": c.row_numbers[~good], "code": c.code[~good],
                               "message": c.message[~good]})
    return Validated(accepted, quarantine)


def validate_many(raws: list[RawTable], kind: str, ref: Reference) -> Checked:
    """The rows of several files of one kind, checked together as one frame (whole-column work
    costs the same for one file or a hundred). A key repeated across files is not a
    DUPLICATE_KEY: the later file's row is a correction."""
    contract = data_contracts.load(kind)
    spec = contract["columns"]
    # the contract's columns only (extra columns live on in the raw record); an optional column
    # a file leaves out is blank. Arrow strings: whole-column kernels, no Python loop per row
    file_index = np.repeat(np.arange(len(raws)), [r.rows for r in raws])
    tables = [r.table for r in raws]
    df = pd.DataFrame({col: pd.Series(pd.arrays.ArrowStringArray(text_column(tables, col, "")), copy=False)
                       for col in spec}, index=pd.RangeIndex(len(file_index)))
    row_numbers = np.concatenate([r.row_numbers for r in raws]) if raws else np.array([], dtype=int)
    sheets = np.array([r.sheet for r in raws], dtype=object)[file_index]
    n = len(df)
    out = _Outcome(n)
    of_type = lambda t: [c for c, s in spec.items() if s["type"] == t]  # noqa: E731

    # MISSING_FIELD
    for col, s in spec.items():
        if s.get("required"):
            out.flag(df[col] == "", "MISSING_FIELD", f"{col} is blank: a value is required")
    # BAD_DATE
    dates: dict[str, pd.Series] = {}
    for col in of_type("date"):
        v = df[col]
        # a column holds few distinct dates: each is checked and parsed once
        codes, distinct = pd.factorize(v)
        distinct = pd.Series(distinct, dtype=v.dtype)
        shaped = _b(distinct.str.fullmatch(DATE_RE))
        once = pd.to_datetime(distinct.astype(object).where(shaped, None), format="%Y-%m-%d", errors="coerce")
        parsed = pd.Series(once.to_numpy()[codes], index=v.index)
        dates[col] = parsed

        def bad_date(where, v=v, col=col):
            return [f"{col}: expected a date YYYY-MM-DD, got {_q(x)}"
                    + (" (an Excel date number? format the cell as a date)"
                       if str(x).replace(".", "", 1).isdigit() and len(str(x).split(".")[0]) == 5 else "")
                    for x in v.iloc[where]]
        out.flag(_b(v != "") & _b(parsed.isna()), "BAD_DATE", bad_date)
    # BAD_NUMBER, BAD_AMOUNT
    _check_numbers(df, out, of_type("number"), QUANTITY_DP, "BAD_NUMBER", "a number such as 12.5")
    _check_numbers(df, out, of_type("amount"), AMOUNT_DP, "BAD_AMOUNT", "dollars and cents such as 12.50")
    # NEGATIVE_VALUE
    for col in of_type("number") + of_type("amount"):
        v = df[col]
        negative = _b(v.str.startswith("-"))
        if negative.any():  # "-0.00" is not negative
            negative[negative] = _b(v[negative].str.contains("[1-9]", regex=True))
        out.flag(negative, "NEGATIVE_VALUE",
                 lambda where, col=col, v=v: [f"{col}: must not be negative, got {s}" for s in _values(v)(where)])
    # UNKNOWN_PARTY, then WRONG_PARTY_TYPE
    party_cols = [c for c, s in spec.items() if "party" in s]
    types = {pid: p[0] for pid, p in ref.parties.items()}
    for col in party_cols:
        v = df[col]
        out.flag(_b(v != "") & ~_b(v.isin(types.keys())), "UNKNOWN_PARTY",
                 lambda where, col=col, v=v: [f"{col}: {s} is not in reference/parties.csv" for s in _values(v)(where)])
    for col in party_cols:
        allowed = spec[col]["party"]
        t = df[col].astype(object).map(types)
        out.flag(_b(t.notna()) & ~_b(t.isin(allowed)), "WRONG_PARTY_TYPE",
                 lambda where, col=col, allowed=allowed, t=t: [
                     f"{col}: {s} is a {ty}; expected a {' or '.join(allowed)}"
                     for s, ty in zip(_values(df[col])(where), t.iloc[where])])
    # UNKNOWN_UNIT
    for col in of_type("unit"):
        out.flag(~_b(df[col].isin(ref.units.keys())), "UNKNOWN_UNIT",
                 lambda where, col=col: [f"{col}: {s} is not in reference/units.csv" for s in _values(df[col])(where)])
    if kind == "purchases":
        _check_rates(df, dates["ship_date"], out, ref)
    if kind == "payroll":
        _check_periods(df, dates, out, ref)
    # DUPLICATE_KEY: among rows that passed every other check
    key = contract["key"]
    keyframe = df[key].copy()  # Arrow strings: hashed without a Python object per value
    if kind == "payroll":
        premium = pa.chunked_array(keyframe["premium_period_start"].array._pa_array)
        start = pa.chunked_array(keyframe["period_start"].array._pa_array)
        keyframe["premium_period_start"] = pd.Series(pd.arrays.ArrowStringArray(
            pc.if_else(pc.equal(premium, ""), start, premium)), index=keyframe.index)
    keyframe["_file"] = file_index
    ok = out.open()
    dup = keyframe[ok].duplicated(keep=False)
    dup_mask = np.zeros(n, dtype=bool)
    dup_mask[np.flatnonzero(ok)[dup.to_numpy()]] = True
    if dup_mask.any():
        kf = keyframe[dup_mask].copy()
        kf["_row"] = row_numbers[dup_mask]
        first_row = kf.groupby(key + ["_file"], sort=False)["_row"].transform("min").to_numpy()
        messages = [f"{' + '.join(key)} appears more than once in this file (first at row {r}); "
                    "send one row per key" for r in first_row]
        out.flag(dup_mask, "DUPLICATE_KEY", lambda where: messages)

    return Checked(df, file_index, sheets, row_numbers, out.code, out.message)


def _check_rates(df: pd.DataFrame, ship: pd.Series, out: _Outcome, ref: Reference) -> None:
    """NO_RATE and UNIT_MISMATCH for purchase lines still open."""
    idx = np.flatnonzero(out.open())
    if len(idx) == 0:
        return
    program_ids = {pid: p[2] for pid, p in ref.parties.items() if p[2]}
    grower = df["grower_id"].astype(object)
    rows = pd.DataFrame({
        "i": idx,
        "program_id": grower.iloc[idx].map(program_ids).to_numpy(),
        "commodity": df["commodity"].astype(object).iloc[idx].to_numpy(),
        "day": ship.iloc[idx].dt.date.to_numpy(),
        "unit": df["unit"].astype(object).iloc[idx].to_numpy(),
    })
    rates = pd.DataFrame([(r.program_id, r.commodity, r.effective_from, r.effective_to or dt.date.max, r.rate_unit)
                          for r in ref.rates], columns=["program_id", "commodity", "start", "end", "rate_unit"])
    m = rows.merge(rates, on=["program_id", "commodity"], how="left")
    m = m[(m["start"] <= m["day"]) & (m["day"] <= m["end"])]
    found = rows.merge(m[["i", "rate_unit"]], on="i", how="left")
    no_rate = np.zeros(len(df), dtype=bool)
    no_rate[found.loc[found["rate_unit"].isna(), "i"].to_numpy()] = True
    out.flag(no_rate, "NO_RATE", lambda where: [
        f"no rate in force for program {program_ids.get(g, '?')}, commodity {_q(c)} on ship_date {d} "
        "(see reference/rates.csv)"
        for g, c, d in zip(grower.to_numpy()[where], df["commodity"].to_numpy(dtype=object)[where],
                           df["ship_date"].to_numpy(dtype=object)[where])])
    has = found[found["rate_unit"].notna()]
    base = {u: b for u, (b, _) in ref.units.items()}
    mismatch = np.zeros(len(df), dtype=bool)
    mismatch[has.loc[has["unit"].map(base) != has["rate_unit"].map(base), "i"].to_numpy()] = True
    rate_unit = dict(zip(has["i"], has["rate_unit"]))
    out.flag(mismatch, "UNIT_MISMATCH", lambda where: [
        f"unit {_q(df['unit'].iloc[i])} cannot be converted to the rate unit '{rate_unit[i]}': "
        "they share no base unit in reference/units.csv" for i in where])


def _days(d: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Dates as whole days since 1970-01-01, and where there is a date."""
    ns = d.to_numpy(dtype="datetime64[ns]")
    return ns.astype("datetime64[D]").astype(np.int64), ~np.isnat(ns)


def _check_periods(df: pd.DataFrame, dates: dict[str, pd.Series], out: _Outcome, ref: Reference) -> None:
    """PERIOD_MISALIGNED: payroll periods must be pay periods of the grower's program. Whole
    days as integers: a grower's program gives the anchor and the period length."""
    codes, growers = pd.factorize(df["grower_id"])
    programs = [ref.program_of(g) for g in growers]
    has = np.array([p is not None for p in programs] + [False], dtype=bool)[codes]  # code -1: blank
    anchor = np.array([(p.period_anchor - dt.date(1970, 1, 1)).days if p else 0 for p in programs] + [0])[codes]
    days = np.array([p.period_days if p else 1 for p in programs] + [1])[codes]
    start, has_start = _days(dates["period_start"])
    premium, has_premium = _days(dates["premium_period_start"])
    premium, has_premium = np.where(has_premium, premium, start), has_premium | has_start  # blank: period_start
    end, has_end = _days(dates["period_end"])
    epoch = np.datetime64("1970-01-01", "D")

    def day(n: int) -> str:
        return str(epoch + n)

    def rule(i: int) -> str:
        return (f" is not the first day of a pay period of the grower's program (periods of {days[i]} days from "
                f"{day(anchor[i])})")
    for col, d, ok in (("period_start", start, has_start), ("premium_period_start", premium, has_premium)):
        out.flag(has & ok & ((d - anchor) % days != 0), "PERIOD_MISALIGNED",
                 lambda where, col=col, d=d: [f"{col}: {day(d[i])}{rule(i)}" for i in where])
    expected_end = start + days - 1
    bad_end = has & has_start & ~(has_end & (end == expected_end))
    out.flag(bad_end, "PERIOD_MISALIGNED", lambda where: [
        f"period_end: expected {day(expected_end[i])} for a period starting {day(start[i])}, got {_q(g)}"
        for i, g in zip(where, df["period_end"].iloc[where])])
