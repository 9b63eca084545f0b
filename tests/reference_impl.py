"""An independent reference of the rules, from the raw files to every output table.

It reads ``<data>/reference`` and ``<data>/inbox`` itself (the csv module and openpyxl, values as
text, numbers as ``Fraction``), applies its own row checks, its own corrections (the latest
file in path order wins), its own blank ``premium_period_start`` default, its own rounding and
largest-remainder split, one dictionary at a time, and shares no code with pennytrail. It is
written for the files the tests make (the generator's and ``boundary_data``'s), in the most
direct way; ``compute`` returns each output table as a set of tuples.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

D = dt.date
REQUIRED = {
    "purchases": ["buyer_id", "invoice_id", "line_no", "ship_date", "seller_id", "grower_id", "commodity", "quantity",
                  "unit"],
    "payments": ["payment_id", "line_no", "payer_id", "payee_id", "paid_date", "buyer_id", "invoice_id", "amount"],
    "payroll": ["grower_id", "worker_id", "period_start", "premium_period_start", "worker_name", "period_end",
                "pay_date", "hours", "units", "gross_wages", "premium_paid"],
    "sales": ["buyer_id", "invoice_id", "line_no", "seller_id", "ship_date", "grower_id", "commodity", "quantity",
              "unit"],
}
OPTIONAL_COLUMNS = {"purchases": ["harvest_date", "premium_billed"], "payments": [], "payroll": ["crew_id", "language"],
                    "sales": []}
BLANK_OK = {"harvest_date", "premium_billed", "premium_period_start", "worker_name", "crew_id", "language", "hours",
            "units",
            "gross_wages", "premium_paid"}
DATES = {"ship_date", "harvest_date", "paid_date", "period_start", "premium_period_start", "period_end", "pay_date"}
NUMBERS = {"quantity", "hours", "units"}
AMOUNTS = {"amount", "premium_billed", "premium_paid", "gross_wages"}
PARTIES = {"purchases": {"buyer_id": {"buyer"}, "seller_id": {"grower", "intermediary"}, "grower_id": {"grower"}},
           "payments": {"buyer_id": {"buyer"}, "payer_id": {"buyer", "grower", "intermediary"},
                        "payee_id": {"buyer", "grower", "intermediary"}},
           "payroll": {"grower_id": {"grower"}},
           "sales": {"buyer_id": {"buyer"}, "seller_id": {"grower", "intermediary"}, "grower_id": {"grower"}}}
KEYS = {"purchases": ["buyer_id", "invoice_id", "line_no"], "payments": ["payment_id", "line_no"],
        "payroll": ["grower_id", "worker_id", "period_start", "premium_period_start"],
        "sales": ["buyer_id", "invoice_id", "line_no"]}
NUMERAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


# -- money ---------------------------------------------------------------------------------
def rhu(x: Fraction) -> int:
    """Round to a whole cent, halves away from zero."""
    x = Fraction(x)
    n = abs(x)
    r = int(n)
    if n - r >= Fraction(1, 2):
        r += 1
    return r if x >= 0 else -r


def lr_split(amount: int, weights: dict, tie) -> dict:
    total = sum(weights.values())
    if total == 0:
        weights = {k: 1 for k in weights}
        total = len(weights)
    exact = {k: Fraction(amount) * w / total for k, w in weights.items()}
    out = {k: int(v) for k, v in exact.items()}  # non-negative: int() is floor
    left = amount - sum(out.values())
    order = sorted(weights, key=lambda k: (-(exact[k] - out[k]), tie(k)))
    for k in order[:left]:
        out[k] += 1
    return out


# -- reading -------------------------------------------------------------------------------
def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [row for row in csv.reader(f)]


def read_xlsx(path: Path) -> list[list[str]]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = []
    for row in wb.worksheets[0].iter_rows(values_only=True):
        cells = []
        for v in row:
            if v is None:
                cells.append("")
            elif isinstance(v, dt.datetime):
                cells.append(v.date().isoformat())
            elif isinstance(v, dt.date):
                cells.append(v.isoformat())
            elif isinstance(v, float):
                cells.append(str(int(v)) if v.is_integer() else repr(v))
            else:
                cells.append(str(v))
        rows.append(cells)
    wb.close()
    return rows


def table(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    """Header (trimmed, lower-case) and (spreadsheet row number, header → trimmed text) per non-blank row."""
    rows = read_xlsx(path) if path.suffix == ".xlsx" else read_csv(path)
    numbered = [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not numbered:
        return [], []
    (_, header), body = numbered[0], numbered[1:]
    header = [h.strip().lower() for h in header]
    return header, [(n, {h: (r[i].strip() if i < len(r) else "") for i, h in enumerate(header)}) for n, r in body]


def reference(data: Path) -> dict:
    def rows(name):
        return table(data / "reference" / name)[1]
    programs = {r["program_id"]: dict(basis=r["allocation_basis"], pct=Fraction(r["grower_retention_pct"]),
                                      deadline=int(r["distribution_deadline_days"]), days=int(r["period_days"]),
                                      anchor=D.fromisoformat(r["period_anchor"])) for _, r in rows("programs.csv")}
    parties = {r["party_id"]: (r["party_type"], r["program_id"]) for _, r in rows("parties.csv")}
    rates = [dict(program=r["program_id"], commodity=r["commodity"], rate=Fraction(r["rate"]), unit=r["rate_unit"],
                  start=D.fromisoformat(r["effective_from"]),
                  end=D.fromisoformat(r["effective_to"]) if r["effective_to"] else None) for _, r in rows("rates.csv")]
    units = {}
    for _, r in rows("units.csv"):
        units[r["unit"]] = (r["base_unit"], Fraction(r["factor"]))
        units.setdefault(r["base_unit"], (r["base_unit"], Fraction(1)))
    return dict(programs=programs, parties=parties, rates=rates, units=units)


def period_of(prog: dict, d: D) -> D:
    return prog["anchor"] + dt.timedelta(days=((d - prog["anchor"]).days // prog["days"]) * prog["days"])


def rate_for(ref: dict, program: str, commodity: str, day: D) -> dict | None:
    found = [r for r in ref["rates"] if r["program"] == program and r["commodity"] == commodity
             and r["start"] <= day and (r["end"] is None or day <= r["end"])]
    return found[0] if found else None


def _date(v: str) -> D | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        return None
    try:
        return D.fromisoformat(v)
    except ValueError:
        return None


def _number(v: str, dp: int) -> Fraction | None:
    if not NUMERAL.fullmatch(v):
        return None
    whole, _, frac = v.lstrip("+-").partition(".")
    if len(frac.rstrip("0")) > dp or len(whole.lstrip("0")) > 15:
        return None
    return Fraction(v)


def check_row(kind: str, r: dict, ref: dict) -> str | None:
    """The first code that applies to a row, or None."""
    for c in REQUIRED[kind]:
        if c not in BLANK_OK and r.get(c, "") == "":
            return "MISSING_FIELD"
    for c in DATES:
        if r.get(c) and _date(r[c]) is None:
            return "BAD_DATE"
    for c in NUMBERS:
        if r.get(c) and _number(r[c], 3) is None:
            return "BAD_NUMBER"
    for c in AMOUNTS:
        if r.get(c) and _number(r[c], 2) is None:
            return "BAD_AMOUNT"
    for c in NUMBERS | AMOUNTS:
        if r.get(c) and Fraction(r[c]) < 0:
            return "NEGATIVE_VALUE"
    for c in PARTIES[kind]:
        if r[c] not in ref["parties"]:
            return "UNKNOWN_PARTY"
    for c, allowed in PARTIES[kind].items():
        if ref["parties"][r[c]][0] not in allowed:
            return "WRONG_PARTY_TYPE"
    if kind in ("purchases", "sales"):
        if r["unit"] not in ref["units"]:
            return "UNKNOWN_UNIT"
        rate = rate_for(ref, ref["parties"][r["grower_id"]][1], r["commodity"], _date(r["ship_date"]))
        if rate is None:
            return "NO_RATE"
        if ref["units"][r["unit"]][0] != ref["units"][rate["unit"]][0]:
            return "UNIT_MISMATCH"
    if kind == "payroll":
        prog = ref["programs"][ref["parties"][r["grower_id"]][1]]
        start, end = _date(r["period_start"]), _date(r["period_end"])
        premium = _date(r["premium_period_start"]) if r["premium_period_start"] else start
        if (period_of(prog, start) != start or end != start + dt.timedelta(days=prog["days"] - 1)
                or period_of(prog, premium) != premium):
            return "PERIOD_MISALIGNED"
    return None


def ingest(data: Path, ref: dict) -> tuple[dict, list, dict]:
    """(current rows by kind, quarantine as (file, row, code), per-file (read, accepted, quarantined))."""
    files = sorted(p.relative_to(data).as_posix() for p in (data / "inbox").rglob("*")
                   if p.is_file() and p.suffix in (".csv", ".xlsx") and not p.name.startswith((".", "~$")))
    seen, current, quarantine, counts = set(), {k: {} for k in REQUIRED}, [], {}
    for rel in files:
        digest = hashlib.sha256((data / rel).read_bytes()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        kind = rel.split("/")[1]
        header, rows = table(data / rel)
        header = [h for h in header if h]
        if any(c not in header for c in REQUIRED[kind]):
            quarantine.append((rel, None, "MISSING_COLUMN"))
            counts[rel] = (len(rows), 0, len(rows))
            continue
        for c in OPTIONAL_COLUMNS[kind]:
            for _, r in rows:
                r.setdefault(c, "")
        codes = {n: check_row(kind, r, ref) for n, r in rows}
        keyed = defaultdict(list)
        for n, r in rows:
            if codes[n] is None:
                key = tuple(r[c] if c != "premium_period_start" else (r[c] or r["period_start"]) for c in KEYS[kind])
                keyed[key].append(n)
        for ns in keyed.values():
            if len(ns) > 1:
                codes.update({n: "DUPLICATE_KEY" for n in ns})
        for n, r in rows:
            if codes[n]:
                quarantine.append((rel, n, codes[n]))
            else:
                key = tuple(r[c] if c != "premium_period_start" else (r[c] or r["period_start"]) for c in KEYS[kind])
                current[kind][key] = dict(r, file=rel)
        good = sum(1 for n, _ in rows if not codes[n])
        counts[rel] = (len(rows), good, len(rows) - good)
    return current, quarantine, counts


def money(v: str) -> int:
    return int(Fraction(v or "0") * 100)


# -- the rules -----------------------------------------------------------------------------
def compute(data: Path) -> dict:
    ref = reference(data)
    programs, parties = ref["programs"], ref["parties"]
    rows, quarantine, counts = ingest(data, ref)
    ptype = {p: t for p, (t, _) in parties.items()}
    prog_of = {p: programs[prog] for p, (t, prog) in parties.items() if t == "grower"}
    month = lambda d: d.strftime("%Y-%m")  # noqa: E731

    def owed_of(r: dict) -> int:
        rate = rate_for(ref, parties[r["grower_id"]][1], r["commodity"], D.fromisoformat(r["ship_date"]))
        qty = Fraction(r["quantity"]) * ref["units"][r["unit"]][1] / ref["units"][rate["unit"]][1]
        return rhu(qty * rate["rate"] * 100)

    # §4 owed per line
    lines = []
    for r in rows["purchases"].values():
        prog = prog_of[r["grower_id"]]
        ship = D.fromisoformat(r["ship_date"])
        work = period_of(prog, D.fromisoformat(r["harvest_date"]) if r["harvest_date"] else ship)
        lines.append(dict(r, ship=ship, owed=owed_of(r), period=work,
                          billed=money(r["premium_billed"]) if r["premium_billed"] else None))
    inv_lines = defaultdict(list)
    for ln in lines:
        inv_lines[(ln["buyer_id"], ln["invoice_id"])].append(ln)
    inv_month = {x: month(min(ln["ship"] for ln in ls)) for x, ls in inv_lines.items()}

    pays = [dict(r, paid=D.fromisoformat(r["paid_date"]), cents=money(r["amount"])) for r in rows["payments"].values()]
    first_paid = {}
    for p in pays:
        x = (p["buyer_id"], p["invoice_id"])
        first_paid[x] = min(first_paid.get(x, p["paid"]), p["paid"])
    for p in pays:
        x = (p["buyer_id"], p["invoice_id"])
        p["month"] = inv_month.get(x) or month(first_paid[x])

    invoice_audit, exceptions = set(), set()
    for x, ls in inv_lines.items():
        owed = sum(ln["owed"] for ln in ls)
        billed = [ln["billed"] for ln in ls if ln["billed"] is not None]
        paid = sum(p["cents"] for p in pays if (p["buyer_id"], p["invoice_id"]) == x and p["payer_id"] == x[0])
        status = "BUYER_UNDERPAID" if owed > paid else "BUYER_OVERPAID" if owed < paid else "OK"
        invoice_audit.add((inv_month[x], *x, owed, sum(billed) if billed else None, paid, owed - paid, status))
        if status != "OK":
            exceptions.add((inv_month[x], "buyer", status, x[0], f"{x[0]}/{x[1]}", None, owed - paid))
        for ln in ls:
            if ln["billed"] is not None and ln["billed"] != ln["owed"]:
                exceptions.add((inv_month[x], ptype[ln["seller_id"]], "BILLED_MISMATCH", ln["seller_id"],
                                f"{x[0]}/{x[1]}/{ln['line_no']}", None, ln["billed"] - ln["owed"]))

    # payment findings and pass-through
    through = defaultdict(lambda: [0, 0, None])
    for p in pays:
        x = (p["buyer_id"], p["invoice_id"])
        ref_ = f"{p['payment_id']}/{p['line_no']}"
        finding = lambda code: exceptions.add((p["month"], ptype[p["payer_id"]], code, p["payer_id"], ref_,  # noqa
                                               None, p["cents"]))
        if x not in inv_lines:
            finding("UNKNOWN_INVOICE")
        elif ptype[p["payee_id"]] == "grower" and not any(ln["grower_id"] == p["payee_id"] for ln in inv_lines[x]):
            finding("PAYEE_NOT_ON_INVOICE")
        if p["payer_id"] != x[0] and ptype[p["payer_id"]] != "intermediary":
            finding("UNEXPECTED_PAYER")
        if ptype[p["payee_id"]] == "buyer":
            finding("UNEXPECTED_PAYEE")
        for who, side in ((p["payee_id"], 0), (p["payer_id"], 1)):
            if ptype[who] == "intermediary":
                t = through[(*x, who)]
                t[side] += p["cents"]
                t[2] = min(t[2], p["month"]) if t[2] else p["month"]
    pass_through = set()
    for (b, i, k), (rec, paid_on, m) in through.items():
        pass_through.add((m, b, i, k, rec, paid_on, rec - paid_on))
        if rec - paid_on > 0:
            exceptions.add((m, "intermediary", "PASS_THROUGH_SHORTFALL", k, f"{b}/{i}", None, rec - paid_on))

    # §4–§5 (invoice, grower) amounts, their split over periods, the pools
    pools = defaultdict(lambda: dict(entitled=0, funded=0, retained=0, last_paid=None))
    xg_lines = defaultdict(list)
    for ln in lines:
        xg_lines[(ln["buyer_id"], ln["invoice_id"], ln["grower_id"])].append(ln)
    for (b, i, g), ls in xg_lines.items():
        pct = prog_of[g]["pct"]
        owed = sum(ln["owed"] for ln in ls)
        to_g = [p for p in pays if (p["buyer_id"], p["invoice_id"], p["payee_id"]) == (b, i, g)]
        received = sum(p["cents"] for p in to_g)
        entitled = owed - rhu(owed * pct / 100)
        funded = received - rhu(received * pct / 100)
        weights = defaultdict(int)
        for ln in ls:
            weights[ln["period"]] += ln["owed"]
        for name, amount in (("entitled", entitled), ("funded", funded), ("retained", received - funded)):
            for per, share in lr_split(amount, dict(weights), tie=lambda k: k).items():
                pools[(g, per)][name] += share
        for per in weights:
            for p in to_g:
                lp = pools[(g, per)]["last_paid"]
                pools[(g, per)]["last_paid"] = max(lp, p["paid"]) if lp else p["paid"]

    # §6 basis and paid from the current payroll
    basis, has_work, paid, last_premium = defaultdict(Fraction), defaultdict(bool), defaultdict(int), {}
    for r in rows["payroll"].values():
        g = r["grower_id"]
        start = D.fromisoformat(r["period_start"])
        premium = D.fromisoformat(r["premium_period_start"]) if r["premium_period_start"] else start
        k = (g, start, r["worker_id"])
        b = prog_of[g]["basis"]
        hours, units = Fraction(r["hours"] or "0"), Fraction(r["units"] or "0")
        basis[k] += {"units": units, "hours": hours, "gross_wages": Fraction(money(r["gross_wages"]), 100)}.get(b, 0)
        has_work[k] |= hours > 0 or units > 0
        pk = (g, premium, r["worker_id"])
        paid[pk] += money(r["premium_paid"])
        pay = D.fromisoformat(r["pay_date"])
        if money(r["premium_paid"]) > 0:
            last_premium[pk] = max(last_premium.get(pk, pay), pay)
    for k in list(has_work):
        if prog_of[k[0]]["basis"] == "equal":
            basis[k] = Fraction(1 if has_work[k] else 0)

    # the close's as-of date: the latest pay, paid or ship date of any current row of any kind
    as_of_date = max([D.fromisoformat(r["pay_date"]) for r in rows["payroll"].values()]
                     + [p["paid"] for p in pays]
                     + [D.fromisoformat(r["ship_date"]) for r in list(rows["purchases"].values())
                        + list(rows["sales"].values())])

    def overdue_as_of(grower: str) -> D | None:
        """The day against which a pool's due date is judged: the close's as-of date."""
        return as_of_date

    # §6–§7 shares and the worker audit
    worker_audit, pool_audit, due_of = set(), set(), {}
    audited = {}
    for (g, per), pool in pools.items():
        prog = prog_of[g]
        end = per + dt.timedelta(days=prog["days"] - 1)
        due = max(end, pool["last_paid"] or end) + dt.timedelta(days=prog["deadline"])
        due_of[(g, per)] = due
        eligible = {w: v for (gg, pp, w), v in basis.items() if gg == g and pp == per and v > 0}
        ent = lr_split(pool["entitled"], eligible, tie=lambda k: k) if eligible else {}
        fun = lr_split(pool["funded"], eligible, tie=lambda k: k) if eligible else {}
        for w in eligible:
            audited[(g, per, w)] = (ent[w], fun[w])
    for (g, per, w), amount in paid.items():
        if amount > 0 and (g, per, w) not in audited:
            audited[(g, per, w)] = (0, 0)
    totals = defaultdict(lambda: [0, 0, 0])
    for (g, per, w), (ent, fun) in audited.items():
        prog = prog_of[g]
        end = per + dt.timedelta(days=prog["days"] - 1)
        elig = basis.get((g, per, w), 0) > 0
        pd_ = paid.get((g, per, w), 0)
        status = ("PAID_WITHOUT_WORK" if not elig else "OK" if pd_ == fun else "UNPAID" if pd_ == 0
                  else "UNDERPAID" if pd_ < fun else "OVERPAID")
        due = due_of.get((g, per))
        late = bool(due and (g, per, w) in last_premium and last_premium[(g, per, w)] > due)
        as_of = overdue_as_of(g)
        overdue = bool(due and pd_ < fun and as_of and as_of > due)
        bv = basis.get((g, per, w), Fraction(0)) if elig else Fraction(0)
        worker_audit.add((month(end), parties[g][1], g, per, end, w, bv, ent, fun, pd_, pd_ - fun, ent - fun, status,
                          late, overdue))
        if status != "OK":
            exceptions.add((month(end), "worker", status, g, f"{g}/{per.isoformat()}", w, pd_ - fun))
        t = totals[(g, per)]
        if elig:
            t[0] += pd_
            t[2] += 1
        else:
            t[1] += pd_
    for (g, per), pool in pools.items():
        prog = prog_of[g]
        end = per + dt.timedelta(days=prog["days"] - 1)
        distributed, without_work, n = totals[(g, per)]
        pool_audit.add((month(end), parties[g][1], g, per, end, pool["entitled"], pool["funded"], pool["retained"],
                        distributed, without_work, pool["funded"] - distributed, n, due_of[(g, per)]))
        if (pool["entitled"] > 0 or pool["funded"] > 0) and n == 0:
            exceptions.add((month(end), "grower", "POOL_WITHOUT_WORKERS", g, f"{g}/{per.isoformat()}", None,
                            pool["funded"] if pool["funded"] > 0 else pool["entitled"]))
    # §4a the volume handshake: every line key either side reported
    def base(r: dict) -> tuple[str, Fraction]:
        unit, factor = ref["units"][r["unit"]]
        return unit, Fraction(r["quantity"]) * factor
    bought = {(r["buyer_id"], r["invoice_id"], r["line_no"]): r for r in rows["purchases"].values()}
    sold = {(r["buyer_id"], r["invoice_id"], r["line_no"]): r for r in rows["sales"].values()}
    reporting = {(r["seller_id"], r["ship_date"][:7]) for r in sold.values()}
    handshake = set()
    for k in set(bought) | set(sold):
        b, s = bought.get(k), sold.get(k)
        if b is None:
            status = "MISSING_PURCHASE"
        elif s is None:
            status = "MISSING_SALE" if (b["seller_id"], b["ship_date"][:7]) in reporting else "UNCONFIRMED"
        elif all(b[c] == s[c] for c in ("seller_id", "grower_id", "commodity")) and base(b) == base(s):
            status = "CONFIRMED"
        else:
            status = "VOLUME_MISMATCH"
        first = b or s
        m, seller = first["ship_date"][:7], first["seller_id"]
        bo, so = (owed_of(b) if b else None), (owed_of(s) if s else None)
        handshake.add((m, *k, seller, Fraction(b["quantity"]) if b else None, b["unit"] if b else None,
                       Fraction(s["quantity"]) if s else None, s["unit"] if s else None, bo, so, status))
        where = "/".join(k)
        if status == "VOLUME_MISMATCH":
            exceptions.add((m, "buyer", status, k[0], where, None, so - bo))
        elif status == "MISSING_PURCHASE":
            exceptions.add((m, "buyer", status, k[0], where, None, so))
        elif status == "MISSING_SALE":
            exceptions.add((m, ptype[seller], status, seller, where, None, bo))
    return dict(worker_audit=worker_audit, pool_audit=pool_audit, invoice_audit=invoice_audit,
                pass_through_audit=pass_through, volume_handshake=handshake, exceptions=exceptions,
                quarantine=set(quarantine), files=counts, as_of=as_of_date)
