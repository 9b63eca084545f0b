"""Row checks: each row of a submission is accepted or quarantined (SPEC.md §3).

The checks are driven by the data contract of the kind (``data_contracts/<kind>.yaml``): its
column types say which values must be dates, numbers, amounts, parties or units. They run in
SPEC.md's order over whole columns; a row gets the first code that applies. The result is an
accepted frame of typed values, with each row's provenance, and a quarantine frame whose
messages name the field, the value and what was expected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

import data_contracts

from .money import AMOUNT_DP, NUMERAL, QUANTITY_DP
from .reading import RawTable
from .reference import Reference

MAX_INTEGER_DIGITS = 15  # keeps every amount and quantity exact in 64-bit integers
DATE_RE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
CODES = (
    "MISSING_FIELD", "BAD_DATE", "BAD_NUMBER", "BAD_AMOUNT", "NEGATIVE_VALUE", "UNKNOWN_PARTY",
    "WRONG_PARTY_TYPE", "UNKNOWN_UNIT", "NO_RATE", "UNIT_MISMATCH", "PERIOD_MISALIGNED", "DUPLICATE_KEY",
)


@dataclass
class Validated:
    accepted: pd.DataFrame    # typed columns + sheet, row_number, raw
    quarantine: pd.DataFrame  # row_number, code, message, raw


def _show(values: pd.Series) -> pd.Series:
    """A value as quoted in a message: at most 40 characters."""
    short = values.str.slice(0, 40)
    return "'" + short + np.where(values.str.len() > 40, "…'", "'")


class _Outcome:
    """The first code and message per row, filled in SPEC.md's order."""

    def __init__(self, n: int):
        self.code = np.full(n, None, dtype=object)
        self.message = np.full(n, None, dtype=object)

    def open(self) -> np.ndarray:
        return pd.isna(self.code)

    def flag(self, mask: np.ndarray | pd.Series, code: str, message: pd.Series | str) -> None:
        m = np.asarray(mask, dtype=bool) & self.open()
        if not m.any():
            return
        self.code[m] = code
        self.message[m] = message[m] if isinstance(message, pd.Series) else message


def _numeral_parts(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(negative, integer digits, fraction digits) of valid numerals."""
    neg = values.str.startswith("-").astype(bool)
    body = values.str.lstrip("+-")
    whole = body.str.split(".", n=1).str[0].fillna("")
    frac = body.str.split(".", n=1).str[1].fillna("")
    return neg, whole.str.lstrip("0"), frac.str.rstrip("0")


def _check_numbers(df: pd.DataFrame, out: _Outcome, cols: list[str], max_dp: int, code: str, what: str) -> None:
    for col in cols:
        v = df[col]
        nonblank = v != ""
        numeral = v.str.fullmatch(NUMERAL)
        hint = np.where(v.str.contains(r"[$,€£]", regex=True),
                        " (remove currency signs and thousands separators)", "")
        out.flag(nonblank & ~numeral, code, col + ": expected " + what + ", got " + _show(v) + hint)
        _, ip, fp = _numeral_parts(v.where(numeral, "0"))
        out.flag(nonblank & (fp.str.len() > max_dp), code,
                 col + f": expected at most {max_dp} decimal places, got " + _show(v))
        out.flag(nonblank & (ip.str.len() > MAX_INTEGER_DIGITS), code, col + ": the value is too large, got " + _show(v))


def _fixed(values: pd.Series, dp: int) -> pd.Series:
    """Valid numerals as a normalized fixed-point text, blank as 0: ``-.5`` → ``-0.500``."""
    v = values.where(values != "", "0")
    neg, ip, fp = _numeral_parts(v)
    ip = ip.where(ip != "", "0")
    text = ip + "." + fp.str.pad(dp, side="right", fillchar="0")
    is_zero = (ip == "0") & (fp == "")
    return np.where(neg & ~is_zero, "-", "") + text


def _cents(values: pd.Series) -> pd.Series:
    fixed = pd.Series(_fixed(values, AMOUNT_DP), index=values.index)
    return fixed.str.replace(".", "", regex=False).astype("int64")


def validate(raw: RawTable, kind: str, ref: Reference) -> Validated:
    contract = data_contracts.load(kind)
    spec = contract["columns"]
    df = raw.frame.copy()
    for col in spec:
        if col not in df.columns:  # an optional column the file leaves out
            df[col] = ""
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
        parsed = pd.to_datetime(v.where(v.str.fullmatch(DATE_RE), None), format="%Y-%m-%d", errors="coerce")
        serial = np.where(v.str.fullmatch(r"[0-9]{5}(\.[0-9]+)?"), " (an Excel date number? format the cell as a date)", "")
        out.flag((v != "") & parsed.isna(), "BAD_DATE", col + ": expected a date YYYY-MM-DD, got " + _show(v) + serial)
        dates[col] = parsed
    # BAD_NUMBER, BAD_AMOUNT
    _check_numbers(df, out, of_type("number"), QUANTITY_DP, "BAD_NUMBER", "a number such as 12.5")
    _check_numbers(df, out, of_type("amount"), AMOUNT_DP, "BAD_AMOUNT", "dollars and cents such as 12.50")
    # NEGATIVE_VALUE
    for col in of_type("number") + of_type("amount"):
        v = df[col]
        negative = v.str.startswith("-") & v.str.contains("[1-9]", regex=True)
        out.flag(negative, "NEGATIVE_VALUE", col + ": must not be negative, got " + _show(v))
    # UNKNOWN_PARTY, then WRONG_PARTY_TYPE
    party_cols = [c for c, s in spec.items() if "party" in s]
    types = {pid: p[0] for pid, p in ref.parties.items()}
    for col in party_cols:
        v = df[col]
        out.flag((v != "") & ~v.isin(types.keys()), "UNKNOWN_PARTY",
                 col + ": " + _show(v) + " is not in reference/parties.csv")
    for col in party_cols:
        allowed = spec[col]["party"]
        t = df[col].map(types)
        out.flag(t.notna() & ~t.isin(allowed), "WRONG_PARTY_TYPE",
                 col + ": " + _show(df[col]) + " is a " + t.fillna("") + f"; expected a {' or '.join(allowed)}")
    # UNKNOWN_UNIT
    for col in of_type("unit"):
        out.flag(~df[col].isin(ref.units.keys()), "UNKNOWN_UNIT",
                 col + ": " + _show(df[col]) + " is not in reference/units.csv")
    if kind == "purchases":
        _check_rates(df, dates["ship_date"], out, ref)
    if kind == "payroll":
        _check_periods(df, dates, out, ref)
    # DUPLICATE_KEY: among rows that passed every other check
    key = contract["key"]
    keyframe = df[key].copy()
    if kind == "payroll":
        keyframe["premium_period_start"] = keyframe["premium_period_start"].where(
            keyframe["premium_period_start"] != "", keyframe["period_start"])
    ok = out.open()
    dup = keyframe[ok].duplicated(keep=False)
    dup_mask = np.zeros(n, dtype=bool)
    dup_mask[np.flatnonzero(ok)[dup.to_numpy()]] = True
    if dup_mask.any():
        kf = keyframe[dup_mask].copy()
        kf["_row"] = raw.row_numbers[dup_mask]
        first_row = kf.groupby(key, sort=False)["_row"].transform("min").to_numpy()
        msg = np.full(n, None, dtype=object)
        msg[dup_mask] = [f"{' + '.join(key)} appears more than once in this file (first at row {r}); "
                         "send one row per key" for r in first_row]
        out.flag(dup_mask, "DUPLICATE_KEY", pd.Series(msg))

    rawjson = _raw_json(raw)
    good = out.open()
    bad = ~good
    quarantine = pd.DataFrame({
        "row_number": raw.row_numbers[bad],
        "code": out.code[bad],
        "message": out.message[bad],
        "raw": rawjson[bad],
    })
    accepted = _typed(df[good], {c: d[good] for c, d in dates.items()}, spec, kind)
    accepted["sheet"] = raw.sheet
    accepted["row_number"] = raw.row_numbers[good]
    accepted["raw"] = rawjson[good]
    return Validated(accepted=accepted.reset_index(drop=True), quarantine=quarantine)


def _check_rates(df: pd.DataFrame, ship: pd.Series, out: _Outcome, ref: Reference) -> None:
    """NO_RATE and UNIT_MISMATCH for purchase lines still open."""
    idx = np.flatnonzero(out.open())
    if len(idx) == 0:
        return
    program_ids = {pid: p[2] for pid, p in ref.parties.items() if p[2]}
    rows = pd.DataFrame({
        "i": idx,
        "program_id": df["grower_id"].iloc[idx].map(program_ids).to_numpy(),
        "commodity": df["commodity"].iloc[idx].to_numpy(),
        "day": ship.iloc[idx].dt.date.to_numpy(),
        "unit": df["unit"].iloc[idx].to_numpy(),
    })
    rates = pd.DataFrame([(r.program_id, r.commodity, r.effective_from, r.effective_to or dt.date.max, r.rate_unit)
                          for r in ref.rates], columns=["program_id", "commodity", "start", "end", "rate_unit"])
    m = rows.merge(rates, on=["program_id", "commodity"], how="left")
    m = m[(m["start"] <= m["day"]) & (m["day"] <= m["end"])]
    found = rows.merge(m[["i", "rate_unit"]], on="i", how="left")
    no_rate = np.zeros(len(df), dtype=bool)
    no_rate[found.loc[found["rate_unit"].isna(), "i"].to_numpy()] = True
    msg = ("no rate in force for program " + df["grower_id"].map(program_ids).fillna("?")
           + ", commodity " + _show(df["commodity"]) + " on ship_date " + df["ship_date"]
           + " (see reference/rates.csv)")
    out.flag(no_rate, "NO_RATE", msg)
    has = found[found["rate_unit"].notna()]
    base = {u: b for u, (b, _) in ref.units.items()}
    mismatch_i = has.loc[has["unit"].map(base) != has["rate_unit"].map(base), "i"].to_numpy()
    mismatch = np.zeros(len(df), dtype=bool)
    mismatch[mismatch_i] = True
    rate_unit = pd.Series(index=df.index, dtype=object)
    rate_unit.iloc[has["i"].to_numpy()] = has["rate_unit"].to_numpy()
    out.flag(mismatch, "UNIT_MISMATCH",
             "unit " + _show(df["unit"]) + " cannot be converted to the rate unit '" + rate_unit.fillna("").astype(str)
             + "': they share no base unit in reference/units.csv")


def _check_periods(df: pd.DataFrame, dates: dict[str, pd.Series], out: _Outcome, ref: Reference) -> None:
    """PERIOD_MISALIGNED: payroll periods must be pay periods of the grower's program."""
    programs = {g: ref.program_of(g) for g in df["grower_id"].unique()}
    anchor = pd.to_datetime(df["grower_id"].map({g: p.period_anchor for g, p in programs.items() if p}))
    days = df["grower_id"].map({g: p.period_days for g, p in programs.items() if p})
    start = dates["period_start"]
    premium = dates["premium_period_start"].fillna(start)
    for col, d in (("period_start", start), ("premium_period_start", premium)):
        off = (d - anchor).dt.days
        bad = off.notna() & ((off % days) != 0)
        out.flag(bad, "PERIOD_MISALIGNED",
                 col + ": " + df[col].where(df[col] != "", df["period_start"])
                 + " is not the first day of a pay period of the grower's program (periods of "
                 + days.fillna(0).astype(int).astype(str) + " days from " + anchor.dt.strftime("%Y-%m-%d").fillna("") + ")")
    expected_end = start + pd.to_timedelta(days - 1, unit="D")
    bad_end = expected_end.notna() & (dates["period_end"] != expected_end)
    out.flag(bad_end, "PERIOD_MISALIGNED",
             "period_end: expected " + expected_end.dt.strftime("%Y-%m-%d").fillna("") + " for a period starting "
             + df["period_start"] + ", got " + _show(df["period_end"]))


def _typed(df: pd.DataFrame, dates: dict[str, pd.Series], spec: dict, kind: str) -> pd.DataFrame:
    typed: dict[str, object] = {}
    for col, s in spec.items():
        t = s["type"]
        if t == "date":
            typed[col] = dates[col].dt.date
        elif t == "number":
            typed[col] = _fixed(df[col], QUANTITY_DP)
        elif t == "amount":
            cents = _cents(df[col])
            if not s.get("required") and "blank_means" not in s:
                cents = cents.where(df[col] != "", None).astype("Int64")
            typed[col + "_cents"] = cents
        else:
            typed[col] = df[col].where(df[col] != "", None) if not s.get("required") else df[col]
    out = pd.DataFrame(typed, index=df.index)
    if kind == "payroll":
        out["premium_period_start"] = out["premium_period_start"].where(
            out["premium_period_start"].notna(), out["period_start"])
    return out


def _raw_json(raw: RawTable) -> np.ndarray:
    """Each row as a JSON object of header → text, exactly as read."""
    if raw.frame.shape[1] == 0:
        return np.full(len(raw.frame), "{}", dtype=object)
    lines = raw.frame.to_json(orient="records", lines=True, force_ascii=False)
    # split on "\n" only: JSON escapes it inside strings, but not U+2028 and its kind
    return np.array(lines.rstrip("\n").split("\n") if lines else [], dtype=object)
