"""What a worker's statement says (SPEC §10; docs/rules.md: What each worker is told;
docs/workers.md): a worker's statement of one grower and one month, read from the published
tables, and its words in the worker's language.

Every read here takes the worker's identity (grower and worker) and reaches only that worker's
rows and their pools' totals: funded, the total basis and the number of eligible workers. No
other worker is named or counted in by figure.

The words are asked of a ``Wording``, the language the caller chose (``pennytrail.locale.Words``
is one): the core holds which sentence says what, never a catalog. The sentences are marked for
the catalogs (``pennytrail.locale.SOURCES``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

import duckdb

from . import codes as codes_core
from .money import dollars


class Wording(Protocol):
    """What a statement's words need of a language: its sentences, numbers and dates."""

    def gettext(self, message: str, **values) -> str: ...

    def number(self, value) -> str: ...

    def date(self, day: dt.date) -> str: ...


@dataclass
class Period:
    period_start: dt.date
    period_end: dt.date
    basis_value: Decimal          # the worker's (0 when not eligible)
    pool_basis: Decimal | None    # all eligible workers' together
    eligible_workers: int
    pool_funded_cents: int | None
    funded_cents: int             # the worker's funded_share
    paid_cents: int
    variance_cents: int
    upstream_shortfall_cents: int
    status: str
    late: bool
    overdue: bool
    due_date: dt.date | None


@dataclass
class Statement:
    grower_id: str
    grower_name: str
    worker_id: str
    worker_name: str | None
    month: str
    language: str
    code: str | None
    program_name: str
    basis: str
    complaint_line: str | None
    periods: list[Period] = field(default_factory=list)

    @property
    def funded_cents(self) -> int:
        return sum(p.funded_cents for p in self.periods)

    @property
    def paid_cents(self) -> int:
        return sum(p.paid_cents for p in self.periods)


PERIODS_SQL = """
SELECT a.period_start, a.period_end, a.basis_value,
       (SELECT sum(b.basis_value) FROM worker_audit b WHERE b.month = a.month AND b.grower_id = a.grower_id
          AND b.period_start = a.period_start AND b.basis_value > 0) AS pool_basis,
       coalesce(p.eligible_workers, 0), p.funded_cents,
       a.funded_cents, a.paid_cents, a.variance_cents, a.upstream_shortfall_cents, a.status, a.late, a.overdue,
       p.due_date
FROM worker_audit a
LEFT JOIN pool_audit p ON p.month = a.month AND p.grower_id = a.grower_id AND p.period_start = a.period_start
WHERE a.grower_id = ? AND a.worker_id = ? AND a.month = ?
ORDER BY a.period_start
"""


def worker_statement(con: duckdb.DuckDBPyConnection, grower_id: str, worker_id: str, month: str) -> Statement | None:
    """The statement of one worker at one grower for one month, from the published tables; None
    when the worker has no audit row that month."""
    rows = con.execute(PERIODS_SQL, [grower_id, worker_id, month]).fetchall()
    if not rows:
        return None
    grower = con.execute("""
        SELECT g.name, pr.name, pr.allocation_basis, pr.complaint_line FROM ref_parties g
        LEFT JOIN ref_programs pr ON pr.program_id = g.program_id WHERE g.party_id = ?""", [grower_id]).fetchone()
    grower = grower or (grower_id, "", "units", None)
    name = con.execute("""
        SELECT worker_name FROM payroll WHERE grower_id = ? AND worker_id = ? AND worker_name IS NOT NULL
        ORDER BY pay_date DESC, period_start DESC, file_seq DESC, row_number DESC LIMIT 1""",
                       [grower_id, worker_id]).fetchone()
    code = con.execute("SELECT code, language FROM statement_codes WHERE grower_id = ? AND worker_id = ? "
                       "AND revoked_at IS NULL", [grower_id, worker_id]).fetchone()
    language = code[1] if code and code[1] else _language(con, grower_id, worker_id)
    return Statement(grower_id, grower[0] or grower_id, worker_id, name[0] if name else None, month, language,
                     code[0] if code else None, grower[1] or "", grower[2] or "units", grower[3],
                     [Period(*r) for r in rows])


def _language(con, grower_id: str, worker_id: str) -> str:
    row = con.execute(f"SELECT language FROM ({codes_core.WORKER_LANGUAGE_SQL}) WHERE grower_id = ? AND worker_id = ?",
                      [grower_id, worker_id]).fetchone()
    return row[0] if row else "es"


def worker_months(con: duckdb.DuckDBPyConnection, grower_id: str, worker_id: str) -> list[str]:
    """The months the worker has statements of at the grower, newest first."""
    return [r[0] for r in con.execute("SELECT DISTINCT month FROM worker_audit WHERE grower_id = ? AND worker_id = ? "
                                      "ORDER BY month DESC", [grower_id, worker_id]).fetchall()]


def grower_workers(con: duckdb.DuckDBPyConnection, grower_id: str, month: str) -> list[str]:
    """The workers with a statement of the grower and month, by id."""
    return [r[0] for r in con.execute("SELECT DISTINCT worker_id FROM worker_audit WHERE grower_id = ? AND month = ? "
                                      "ORDER BY worker_id", [grower_id, month]).fetchall()]


# --- the words of a statement -----------------------------------------------------------------

@dataclass
class Line:
    text: str
    kind: str = "figure"   # heading, figure, status, note, warning
    mark: str | None = None  # a status's sign, beside its word: ✓ correct, ✗ short, ! to look at
    tone: str | None = None  # ok, bad, warn: a colour that only repeats the word and the mark


@dataclass
class Block:
    heading: str
    lines: list[Line]


STATUS_MARK = {"OK": ("✓", "ok"), "UNPAID": ("✗", "bad"), "UNDERPAID": ("✗", "bad"), "OVERPAID": ("!", "warn"),
               "PAID_WITHOUT_WORK": ("!", "warn")}


def status_words(w: Wording, status: str) -> str:
    _ = w.gettext
    return {
        "OK": _("Correct: you were paid your share."),
        "UNPAID": _("Not paid: your pay stubs show none of your share."),
        "UNDERPAID": _("Paid less than your share."),
        "OVERPAID": _("Paid more than your share."),
        "PAID_WITHOUT_WORK": _("Paid, but the payroll shows no work of yours in this period."),
    }[status]


def _basis_lines(w: Wording, s: Statement, p: Period) -> list[Line]:
    _ = w.gettext
    eligible = p.basis_value is not None and p.basis_value > 0
    out = []
    if s.basis == "units":
        out.append(Line(_("Pieces you picked: {value}", value=w.number(p.basis_value)) if eligible
                        else _("Work recorded for you: none")))
        if p.pool_basis is not None:
            out.append(Line(_("Pieces picked by all workers: {value}", value=w.number(p.pool_basis))))
    elif s.basis == "hours":
        out.append(Line(_("Hours you worked: {value}", value=w.number(p.basis_value)) if eligible
                        else _("Work recorded for you: none")))
        if p.pool_basis is not None:
            out.append(Line(_("Hours worked by all workers: {value}", value=w.number(p.pool_basis))))
    elif s.basis == "gross_wages":
        out.append(Line(_("Your earnings: {amount}", amount=dollars(int(p.basis_value * 100))) if eligible
                        else _("Work recorded for you: none")))
        if p.pool_basis is not None:
            out.append(Line(_("Earnings of all workers: {amount}", amount=dollars(int(p.pool_basis * 100)))))
    else:  # equal
        out.append(Line(_("Your part: one equal share") if eligible else _("Work recorded for you: none")))
    out.append(Line(_("Workers who shared the premium: {count}", count=w.number(p.eligible_workers))))
    return out


def blocks(s: Statement, w: Wording) -> list[Block]:
    """The statement's periods as blocks of lines in ``w``'s language: one figure per line, the
    status as a word and a mark."""
    _ = w.gettext
    out = []
    for p in s.periods:
        lines = _basis_lines(w, s, p)
        if p.pool_funded_cents is not None:
            lines.append(Line(_("Premium for all these workers: {amount}", amount=dollars(p.pool_funded_cents))))
        lines.append(Line(_("Your share of the premium: {amount}", amount=dollars(p.funded_cents))))
        lines.append(Line(_("Paid on your pay stubs: {amount}", amount=dollars(p.paid_cents))))
        if p.variance_cents < 0:
            lines.append(Line(_("Still owed to you: {amount}", amount=dollars(-p.variance_cents))))
        elif p.variance_cents > 0:
            lines.append(Line(_("Paid above your share: {amount}", amount=dollars(p.variance_cents))))
        else:
            lines.append(Line(_("Difference: {amount}", amount=dollars(0))))
        mark, tone = STATUS_MARK[p.status]
        lines.append(Line(status_words(w, p.status), "status", mark, tone))
        if p.late and p.due_date is not None:
            lines.append(Line(_("Paid late: it was due by {date}.", date=w.date(p.due_date)), "warning", "!", "warn"))
        if p.overdue and p.due_date is not None:
            lines.append(Line(_("Overdue since {date}: it was due by {due}.",
                                date=w.date(p.due_date + dt.timedelta(days=1)), due=w.date(p.due_date)),
                              "warning", "✗", "bad"))
        if p.upstream_shortfall_cents > 0:
            lines.append(Line(_("The buyers' premium for this period was {amount} short before it reached "
                                "{employer}. That part is not your employer's doing: the program follows it up "
                                "with the buyers.", amount=dollars(p.upstream_shortfall_cents),
                                employer=s.grower_name), "note"))
        out.append(Block(_("Pay period {start} to {end}", start=w.date(p.period_start), end=w.date(p.period_end)),
                         lines))
    return out


def header(s: Statement, w: Wording) -> list[Line]:
    _ = w.gettext
    lines = [Line(_("Name: {name}", name=s.worker_name)) if s.worker_name else None,
             Line(_("Worker number: {id}", id=s.worker_id)),
             Line(_("Employer: {employer}", employer=s.grower_name))]
    return [ln for ln in lines if ln is not None]


def totals(s: Statement, w: Wording) -> list[Line]:
    _ = w.gettext
    return [Line(_("This month, your share: {amount}", amount=dollars(s.funded_cents))),
            Line(_("This month, paid on your stubs: {amount}", amount=dollars(s.paid_cents)))]


def complaint(s: Statement, w: Wording) -> str:
    _ = w.gettext
    if s.complaint_line:
        return _("Something wrong? Call {phone} and give your statement code. Your employer is not told who called.",
                 phone=s.complaint_line)
    return _("Something wrong? Say so on your statement page, with your statement code. Your employer is not told "
             "who wrote.")
