"""The grower's own page: its pools by month and the workers it still has to pay.

Every function takes the grower's party id and a read-only connection to a published snapshot
(``snapshots.current``), and reads the published audit tables only (``pool_audit``,
``worker_audit``, the payroll rows of the files published): never another grower's rows, and
nothing of the monitors' cases or the workers' complaints, which live in the portal's own
database and are not read here at all. Money stays integer cents.

A worker is on the list to pay when its status for a work period is ``UNPAID``, ``UNDERPAID`` or
``OVERPAID``, or the period is overdue (SPEC §7). The amount to pay is its funded share less
what its pay stubs paid for that period: negative where the stubs paid beyond the share.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb

from pennytrail.core.money import dollars
from pennytrail.core.tables import Column
from pennytrail.core.trace import published_rows_sql
from reports.render import Table, csv_text, to_xlsx
from reports.xlsx import dollars_value

from . import snapshots
from .errors import UserError

TO_PAY_STATUSES = ("UNPAID", "UNDERPAID", "OVERPAID")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> list[dict]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def grower_name(con: duckdb.DuckDBPyConnection, grower: str) -> str | None:
    """The grower's name in the reference parties; None when ``grower`` is no grower."""
    found = con.execute("SELECT name FROM ref_parties WHERE party_id = ? AND party_type = 'grower'",
                        [grower]).fetchone()
    return found[0] if found else None


def pools_by_month(con: duckdb.DuckDBPyConnection, grower: str) -> list[dict]:
    """The grower's published months, newest first, each with its totals and its pools: what the
    buyers owed the workers (entitled), what reached the grower (received: funded and retained),
    what it must pass on to workers (funded), what its pay stubs paid (distributed), the rest,
    the due date and how many workers are still to pay."""
    pools = _rows(con, """
        SELECT p.month, p.period_start, p.period_end, p.entitled_cents, p.funded_cents + p.retained_cents AS received_cents,
               p.funded_cents, p.retained_cents, p.distributed_cents, p.undistributed_cents, p.eligible_workers,
               p.due_date,
               (SELECT count(*) FROM worker_audit a WHERE a.grower_id = p.grower_id AND a.period_start = p.period_start
                  AND (a.status IN ('UNPAID', 'UNDERPAID', 'OVERPAID') OR a.overdue)) AS workers_to_pay
        FROM pool_audit p WHERE p.grower_id = $g ORDER BY p.month DESC, p.period_start""", {"g": grower})
    months: dict[str, dict] = {}
    money = ("entitled_cents", "received_cents", "funded_cents", "retained_cents", "distributed_cents",
             "undistributed_cents")
    for p in pools:
        m = months.setdefault(p["month"], {"month": p["month"], "pools": [], "workers_to_pay": 0,
                                           **{k: 0 for k in money}})
        m["pools"].append(p)
        m["workers_to_pay"] += p["workers_to_pay"]
        for k in money:
            m[k] += int(p[k])
    return list(months.values())


def to_pay(con: duckdb.DuckDBPyConnection, grower: str) -> list[dict]:
    """The grower's workers to pay (those with an amount to pay first, overdue ones first among
    them; then those paid beyond their share), by work period and worker: each with its name on the latest
    published pay stub, its status, whether it is overdue (and since which due date), its funded
    share, what was paid, and ``to_pay_cents`` (funded share − paid; negative: paid beyond the
    share)."""
    got = _rows(con, f"""
        WITH names AS (
            SELECT worker_id, arg_max(worker_name, file_seq) AS worker_name
            FROM ({published_rows_sql(con)}) r WHERE grower_id = $g AND worker_name IS NOT NULL GROUP BY 1)
        SELECT a.month, a.period_start, a.period_end, a.worker_id, n.worker_name, a.status, a.overdue, a.late,
               p.due_date, a.funded_cents, a.paid_cents, a.funded_cents - a.paid_cents AS to_pay_cents
        FROM worker_audit a
        LEFT JOIN pool_audit p ON p.grower_id = a.grower_id AND p.period_start = a.period_start
        LEFT JOIN names n ON n.worker_id = a.worker_id
        WHERE a.grower_id = $g AND (a.status IN ('UNPAID', 'UNDERPAID', 'OVERPAID') OR a.overdue)
        ORDER BY a.funded_cents - a.paid_cents <= 0, a.overdue DESC, a.period_start, a.worker_id""", {"g": grower})
    for r in got:
        r["action"] = action(r)
    return got


def action(row: dict) -> str:
    """What the grower does about one row, in plain words."""
    owe = int(row["to_pay_cents"])
    if owe < 0:
        return f"paid {dollars(-owe)} beyond the share: nothing to pay"
    words = f"pay {dollars(owe)}"
    if row.get("overdue") and row.get("due_date") is not None:
        words += f" (overdue since {row['due_date'].isoformat()})"
    return words


COLUMNS = [
    Column("month", "Month", width=8), Column("period_start", "Period start", "date", 12),
    Column("period_end", "Period end", "date", 12), Column("worker_id", "Worker id", width=14),
    Column("worker_name", "Worker name", width=24), Column("status", "Status", width=11),
    Column("overdue", "Overdue", "bool", 8), Column("due_date", "Due", "date", 12),
    Column("funded_cents", "Share funded", "money", 13), Column("paid_cents", "Paid on stubs", "money", 13),
    Column("to_pay_cents", "To pay", "money", 12), Column("action", "What to do", width=40),
]


def to_pay_table(rows: list[dict]) -> Table:
    return Table("Workers to pay", COLUMNS, rows)


def to_pay_csv(rows: list[dict]) -> str:
    """The list as CSV with the headers the page shows: dates ISO, money as dollars with two
    decimals (negative: paid beyond the share), text never read as a formula."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([c.header for c in COLUMNS])
    for r in rows:
        cells = []
        for c in COLUMNS:
            v = r.get(c.name)
            if v is None:
                cells.append("")
            elif c.kind == "money":
                cells.append(str(dollars_value(int(v))))
            elif c.kind == "date":
                cells.append(v.isoformat()[:10])
            elif c.kind == "bool":
                cells.append("yes" if v else "no")
            else:
                cells.append(csv_text(str(v)))
        w.writerow(cells)
    return buf.getvalue()


def to_pay_xlsx(rows: list[dict], path: Path, grower: str, name: str | None) -> Path:
    """The list as a workbook (money as dollars, text cells never formulas)."""
    note = f"Workers to pay of grower {grower}" + (f" ({name})" if name else "")
    return to_xlsx([to_pay_table(rows)], Path(path), [note])


def write_payables(home: Path, grower: str, out: Path | None = None) -> tuple[str | Path, int]:
    """The grower's workers to pay from the newest published snapshot of ``home``: the CSV text
    (``out`` None), or the file ``out`` written (an ``.xlsx`` name: a workbook; any other: CSV),
    and how many rows. A ``UserError`` when nothing is published or ``grower`` is no grower."""
    path = snapshots.current(Path(home))
    if path is None:
        raise UserError(f"nothing is published in {home} yet: run `pennytrail close --data DIR --home {home}` first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        name = grower_name(con, grower)
        if name is None:
            raise UserError(f"no grower {grower!r} in the published reference parties")
        rows = to_pay(con, grower)
    finally:
        con.close()
    if out is None:
        return to_pay_csv(rows), len(rows)
    out = Path(out)
    if out.suffix.lower() == ".xlsx":
        return to_pay_xlsx(rows, out, grower, name), len(rows)
    out.write_text(to_pay_csv(rows), encoding="utf-8-sig", newline="")
    return out, len(rows)
