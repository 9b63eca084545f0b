"""An independent, plainly written reference of SPEC.md §4–§7 with fractions.Fraction.

It reads the warehouse's current input rows and reference tables and recomputes the invoice,
pool and worker audits in the most direct way, one dictionary at a time, sharing no code with
the SQL it checks.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from fractions import Fraction


def rhu(x: Fraction) -> int:
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


def compute(con) -> dict:
    rows = lambda sql: [dict(zip([d[0] for d in con.execute(sql).description], r))  # noqa: E731
                        for r in con.execute(sql).fetchall()]
    programs = {r["program_id"]: r for r in rows("SELECT * FROM ref_programs")}
    parties = {r["party_id"]: r for r in rows("SELECT * FROM ref_parties")}
    units = {r["unit"]: r for r in rows("SELECT * FROM ref_units")}
    rates = rows("SELECT * FROM ref_rates")
    lines = rows("SELECT * FROM purchases")
    pays = rows("SELECT * FROM payments")
    payroll = rows("SELECT * FROM payroll")
    sales = rows("SELECT * FROM sales")

    def period_of(prog, d):
        n = prog["period_days"]
        return prog["period_anchor"] + dt.timedelta(days=((d - prog["period_anchor"]).days // n) * n)

    def owed_of(ln) -> int:
        prog = programs[parties[ln["grower_id"]]["program_id"]]
        rate = next(r for r in rates if r["program_id"] == prog["program_id"] and r["commodity"] == ln["commodity"]
                    and r["effective_from"] <= ln["ship_date"] and (r["effective_to"] is None
                                                                     or ln["ship_date"] <= r["effective_to"]))
        qty = Fraction(ln["quantity"]) * Fraction(units[ln["unit"]]["factor"]) / Fraction(units[rate["rate_unit"]]["factor"])
        return rhu(qty * Fraction(rate["rate"]) * 100)

    owed_x, owed_xg, periods_xg, month_x = defaultdict(int), defaultdict(int), defaultdict(lambda: defaultdict(int)), {}
    for ln in lines:
        prog = programs[parties[ln["grower_id"]]["program_id"]]
        owed = owed_of(ln)
        x = (ln["buyer_id"], ln["invoice_id"])
        xg = x + (ln["grower_id"],)
        owed_x[x] += owed
        owed_xg[xg] += owed
        periods_xg[xg][period_of(prog, ln["harvest_date"] or ln["ship_date"])] += owed
        month_x[x] = min(month_x.get(x, "9999-99"), ln["ship_date"].strftime("%Y-%m"))

    paid_by_buyer, received, last_paid = defaultdict(int), defaultdict(int), {}
    for p in pays:
        x = (p["buyer_id"], p["invoice_id"])
        if p["payer_id"] == p["buyer_id"]:
            paid_by_buyer[x] += p["amount_cents"]
        if parties[p["payee_id"]]["party_type"] == "grower":
            received[x + (p["payee_id"],)] += p["amount_cents"]
            k = x + (p["payee_id"],)
            last_paid[k] = max(last_paid.get(k, p["paid_date"]), p["paid_date"])

    invoices = {x: dict(owed=o, paid=paid_by_buyer[x], month=month_x[x]) for x, o in owed_x.items()}

    pools = defaultdict(lambda: dict(entitled=0, funded=0, retained=0, last_paid=None))
    for xg, owed in owed_xg.items():
        g = xg[2]
        prog = programs[parties[g]["program_id"]]
        p = Fraction(prog["grower_retention_pct"])
        rec = received.get(xg, 0)
        amounts = dict(entitled=owed - rhu(owed * p / 100), funded=rec - rhu(rec * p / 100))
        amounts["retained"] = rec - amounts["funded"]
        for name, amount in amounts.items():
            for per, share in lr_split(amount, periods_xg[xg], tie=lambda k: k).items():
                pools[(g, per)][name] += share
        for per in periods_xg[xg]:
            if xg in last_paid:
                lp = pools[(g, per)]["last_paid"]
                pools[(g, per)]["last_paid"] = max(lp, last_paid[xg]) if lp else last_paid[xg]

    basis, paid, last_premium_pay = defaultdict(Fraction), defaultdict(int), {}
    has_work = defaultdict(bool)
    for r in payroll:
        g = r["grower_id"]
        prog = programs[parties[g]["program_id"]]
        k = (g, r["period_start"], r["worker_id"])
        b = prog["allocation_basis"]
        if b == "units":
            basis[k] += Fraction(r["units"])
        elif b == "hours":
            basis[k] += Fraction(r["hours"])
        elif b == "gross_wages":
            basis[k] += Fraction(r["gross_wages_cents"], 100)
        has_work[k] |= r["hours"] > 0 or r["units"] > 0
        pk = (g, r["premium_period_start"], r["worker_id"])
        paid[pk] += r["premium_paid_cents"]
        if r["premium_paid_cents"] > 0:
            last_premium_pay[pk] = max(last_premium_pay.get(pk, r["pay_date"]), r["pay_date"])
    for k in list(basis) + list(has_work):
        if programs[parties[k[0]]["program_id"]]["allocation_basis"] == "equal":
            basis[k] = Fraction(1 if has_work[k] else 0)

    # the close's as-of date: the latest pay, paid or ship date of any current row
    as_of = max([r["pay_date"] for r in payroll] + [p["paid_date"] for p in pays]
                + [ln["ship_date"] for ln in lines + sales])
    workers = {}
    pool_rows = {}
    for (g, per), pool in pools.items():
        prog = programs[parties[g]["program_id"]]
        end = per + dt.timedelta(days=prog["period_days"] - 1)
        due = max(end, pool["last_paid"] or end) + dt.timedelta(days=prog["distribution_deadline_days"])
        eligible = {w: v for (gg, pp, w), v in basis.items() if gg == g and pp == per and v > 0}
        ent = lr_split(pool["entitled"], eligible, tie=lambda k: k) if eligible else {}
        fun = lr_split(pool["funded"], eligible, tie=lambda k: k) if eligible else {}
        for w in eligible:
            workers[(g, per, w)] = dict(entitled=ent[w], funded=fun[w], due=due)
        pool_rows[(g, per)] = dict(pool, due=due, eligible=len(eligible))
    for (g, per, w), amount in paid.items():
        if amount > 0 and (g, per, w) not in workers:
            pool = pool_rows.get((g, per))
            workers[(g, per, w)] = dict(entitled=0, funded=0, due=pool["due"] if pool else None)
    out = {}
    for (g, per, w), v in workers.items():
        elig = basis.get((g, per, w), 0) > 0
        pd_ = paid.get((g, per, w), 0)
        f = v["funded"]
        status = ("PAID_WITHOUT_WORK" if not elig else "OK" if pd_ == f else "UNPAID" if pd_ == 0
                  else "UNDERPAID" if pd_ < f else "OVERPAID")
        due = v["due"]
        late = bool(due and (g, per, w) in last_premium_pay and last_premium_pay[(g, per, w)] > due)
        overdue = bool(due and pd_ < f and as_of > due)
        out[(g, per, w)] = (v["entitled"], f, pd_, status, late, overdue)

    # the volume handshake: each line key either side reported
    def base(r):
        return units[r["unit"]]["base_unit"], Fraction(r["quantity"]) * Fraction(units[r["unit"]]["factor"])
    bought = {(r["buyer_id"], r["invoice_id"], r["line_no"]): r for r in lines}
    sold = {(r["buyer_id"], r["invoice_id"], r["line_no"]): r for r in sales}
    active = {(r["seller_id"], r["ship_date"].strftime("%Y-%m")) for r in sales}
    handshake = {}
    for k in set(bought) | set(sold):
        b, s = bought.get(k), sold.get(k)
        if b is None:
            status = "MISSING_PURCHASE"
        elif s is None:
            status = "MISSING_SALE" if (b["seller_id"], b["ship_date"].strftime("%Y-%m")) in active else "UNCONFIRMED"
        elif all(b[c] == s[c] for c in ("seller_id", "grower_id", "commodity")) and base(b) == base(s):
            status = "CONFIRMED"
        else:
            status = "VOLUME_MISMATCH"
        first = b or s
        handshake[k] = (first["ship_date"].strftime("%Y-%m"), first["seller_id"], owed_of(b) if b else None,
                        owed_of(s) if s else None, status)
    return dict(invoices=invoices, pools=pool_rows, workers=out, handshake=handshake, as_of=as_of)
