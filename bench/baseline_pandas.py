"""The way the work is often done today: a straightforward pandas script of the rules in docs/rules.md.

It reads every CSV with pandas, keeps the latest file's row for a repeated key, and computes
owed, received, pools, the largest-remainder split to workers and the worker audit. Money is
integer cents (amounts are parsed as text, not floats); there is no validation, quarantine,
provenance, history, contract or publication. Malformed rows are dropped.

    python bench/baseline_pandas.py DATA_FOLDER
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd


def read_all(folder: Path, key: list[str]) -> pd.DataFrame:
    frames = []
    for path in sorted(folder.rglob("*.csv")):
        f = pd.read_csv(path, dtype=str, keep_default_na=False)
        f.columns = [c.strip().lower() for c in f.columns]
        f["_file"] = str(path)
        frames.append(f)
    df = pd.concat(frames, ignore_index=True).fillna("")
    return df.sort_values("_file", kind="stable").drop_duplicates(key, keep="last")


def fixed(text: pd.Series, places: int) -> pd.Series:
    """Decimal text with at most ``places`` decimals as an integer count of 10**-places, exactly
    ('12.5', 2 → 1250): whole and fraction parts as integers; anything else is NaN."""
    ok = text.str.fullmatch(rf"\d+(\.\d{{0,{places}}})?")
    parts = text.where(ok).str.split(".", n=1, expand=True).reindex(columns=[0, 1])
    whole = pd.to_numeric(parts[0], errors="coerce")
    frac = pd.to_numeric(parts[1].fillna("").str.ljust(places, "0").replace("", "0"), errors="coerce")
    return (whole * 10**places + frac).where(ok)


def cents(text: pd.Series) -> pd.Series:
    return fixed(text, 2)


def thousandths(text: pd.Series) -> pd.Series:
    return fixed(text, 3)


def round_half_up(x: Fraction) -> int:
    n, d = x.numerator, x.denominator
    return (2 * n + d) // (2 * d) if n >= 0 else -((-2 * n + d) // (2 * d))


def split(df: pd.DataFrame, group: list[str], amount: str, weight: str, tie: str) -> pd.Series:
    """Largest remainder: floor shares, then one cent each to the largest remainders."""
    total = df.groupby(group)[weight].transform("sum")
    w = df[weight].where(total > 0, 1)
    total = total.where(total > 0, df.groupby(group)[weight].transform("size"))
    prod = df[amount].astype("int64") * w.astype("int64")
    base = prod // total
    rem = prod % total
    left = df[amount] - base.groupby([df[g] for g in group]).transform("sum")
    order = pd.DataFrame({"rem": -rem, "tie": df[tie]}, index=df.index)
    order[group] = df[group]
    rank = order.sort_values(group + ["rem", "tie"]).groupby(group).cumcount()
    return base + (rank.reindex(df.index) < left).astype("int64")


def run(data: Path) -> dict[str, int]:
    lines, pools, audit = compute(data)
    return {"lines": len(lines), "pools": len(pools), "worker_audit": len(audit),
            "not_ok": int((audit["status"] != "OK").sum())}


def compute(data: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(priced purchase lines, pools, worker audit)."""
    ref = data / "reference"
    programs = pd.read_csv(ref / "programs.csv", dtype=str).set_index("program_id")
    parties = pd.read_csv(ref / "parties.csv", dtype=str, keep_default_na=False).set_index("party_id")
    rates = pd.read_csv(ref / "rates.csv", dtype=str, keep_default_na=False)
    units = pd.read_csv(ref / "units.csv", dtype=str).set_index("unit")

    # §4 owed per line (exact, per line: there are few), received, retention
    p = read_all(data / "inbox/purchases", ["buyer_id", "invoice_id", "line_no"])
    p["ship"] = pd.to_datetime(p["ship_date"], format="%Y-%m-%d", errors="coerce")
    p["qty"] = thousandths(p["quantity"])
    p = p[p["ship"].notna() & p["qty"].notna() & p["grower_id"].isin(parties.index)].copy()
    p["program_id"] = p["grower_id"].map(parties["program_id"])
    owed, period = [], []
    for row in p.itertuples():
        prog = programs.loc[row.program_id]
        r = rates[(rates.program_id == row.program_id) & (rates.commodity == row.commodity)
                  & (rates.effective_from <= row.ship_date)
                  & ((rates.effective_to == "") | (rates.effective_to >= row.ship_date))]
        if r.empty or row.unit not in units.index:
            owed.append(None)
            period.append(None)
            continue
        r = r.iloc[0]
        factor = Fraction(units.loc[row.unit, "factor"]) / Fraction(units.loc[r.rate_unit, "factor"])
        qty = Fraction(int(row.qty), 1000) * factor
        owed.append(round_half_up(qty * Fraction(r.rate) * 100))
        day = pd.Timestamp(row.harvest_date) if getattr(row, "harvest_date", "") else row.ship
        anchor = pd.Timestamp(prog.period_anchor)
        days = int(prog.period_days)
        period.append(anchor + pd.Timedelta(days=((day - anchor).days // days) * days))
    p["owed"], p["period_start"] = owed, period
    lines = p[p["owed"].notna()].astype({"owed": "int64"})

    pay = read_all(data / "inbox/payments", ["payment_id", "line_no"])
    pay["cents"] = cents(pay["amount"])
    pay = pay[pay["cents"].notna()]
    received = pay.groupby(["buyer_id", "invoice_id", "payee_id"])["cents"].sum().rename("received")
    ig = lines.groupby(["buyer_id", "invoice_id", "grower_id", "program_id"], as_index=False)["owed"].sum()
    ig = ig.join(received, on=["buyer_id", "invoice_id", "grower_id"])
    ig["received"] = ig["received"].fillna(0).astype("int64")
    bp = (ig["program_id"].map(programs["grower_retention_pct"]).map(Fraction) * 100).map(int)
    ig["entitled"] = [o - round_half_up(Fraction(o * b, 10000)) for o, b in zip(ig["owed"], bp)]
    ig["funded"] = [o - round_half_up(Fraction(o * b, 10000)) for o, b in zip(ig["received"], bp)]

    # §5 split over work periods by owed, then pools
    ps = lines.groupby(["buyer_id", "invoice_id", "grower_id", "period_start"], as_index=False)["owed"].sum()
    ps = ps.merge(ig[["buyer_id", "invoice_id", "grower_id", "entitled", "funded"]])
    key = ["buyer_id", "invoice_id", "grower_id"]
    ps["e"] = split(ps, key, "entitled", "owed", "period_start")
    ps["f"] = split(ps, key, "funded", "owed", "period_start")
    pools = ps.groupby(["grower_id", "period_start"], as_index=False)[["e", "f"]].sum()

    # §6 basis and the split to workers
    r = read_all(data / "inbox/payroll", ["grower_id", "worker_id", "period_start", "premium_period_start"])
    r["premium_period_start"] = r["premium_period_start"].where(r["premium_period_start"] != "", r["period_start"])
    for col in ("period_start", "premium_period_start"):
        r[col] = pd.to_datetime(r[col], format="%Y-%m-%d", errors="coerce")
    r["hours"] = thousandths(r["hours"].replace("", "0"))
    r["units"] = thousandths(r["units"].replace("", "0"))
    r["wages"] = cents(r["gross_wages"].replace("", "0"))
    r["premium"] = cents(r["premium_paid"].replace("", "0"))
    r = r.dropna(subset=["period_start", "premium_period_start", "hours", "units", "wages", "premium"])
    basis_of = r["grower_id"].map(parties["program_id"]).map(programs["allocation_basis"])
    b = r.assign(basis=basis_of).groupby(["grower_id", "worker_id", "period_start", "basis"], as_index=False)[
        ["hours", "units", "wages"]].sum()
    b["weight"] = np.select([b["basis"] == "units", b["basis"] == "hours", b["basis"] == "gross_wages"],
                            [b["units"], b["hours"], b["wages"]], ((b["hours"] > 0) | (b["units"] > 0)).astype(int))
    elig = b[b["weight"] > 0].merge(pools, on=["grower_id", "period_start"])
    g = ["grower_id", "period_start"]
    elig["entitled"] = split(elig, g, "e", "weight", "worker_id")
    elig["funded"] = split(elig, g, "f", "weight", "worker_id")

    # §7 the worker audit
    paid = r.groupby(["grower_id", "worker_id", "premium_period_start"], as_index=False)["premium"].sum()
    paid = paid[paid["premium"] > 0].rename(columns={"premium_period_start": "period_start", "premium": "paid"})
    audit = elig[["grower_id", "period_start", "worker_id", "entitled", "funded"]].merge(
        paid, on=["grower_id", "period_start", "worker_id"], how="outer", indicator=True)
    audit["paid"] = audit["paid"].fillna(0)
    audit["funded"] = audit["funded"].fillna(0)
    audit["status"] = np.select(
        [audit["_merge"] == "right_only", audit["paid"] == audit["funded"], audit["paid"] == 0,
         audit["paid"] < audit["funded"]], ["PAID_WITHOUT_WORK", "OK", "UNPAID", "UNDERPAID"], "OVERPAID")
    return lines, pools, audit[["grower_id", "period_start", "worker_id", "entitled", "funded", "paid", "status"]]


if __name__ == "__main__":
    print(run(Path(sys.argv[1])))
