"""Reminders: each sender is e-mailed what it still owes (``calendar``), over SMTP.

``remind(home, dry_run=False)`` sends one message per sender with open items (missing or
late) to the e-mail addresses of that sender's active portal accounts. An item is named at
most once per ``interval`` (a message the server accepted counts; one it refused or that
could not be sent does not, so the next run tries again) and never once it is received. Every
message is recorded in the portal's database (``reminders``, ``reminder_items``): to whom,
which items, when, and the server's answer; the accountant reads them on ``/calendar``.

The SMTP settings come from ``HOME/smtp.toml`` and the environment (``PENNYTRAIL_SMTP_*``,
which wins), never from the command line; the password is never written to a log, a record
or an error (docs/calendar.md: SMTP settings).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import smtplib
import socket
import ssl
import stat
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Iterator

from ..core import calendar as rules
from . import accounts, portal_db
from .calendar import Calendar, calendar
from .errors import UserError

SETTINGS_FILE = "smtp.toml"
ENV = "PENNYTRAIL_SMTP_"
KEYS = {"host": str, "port": int, "starttls": bool, "username": str, "password": str, "from": str,
        "interval_days": float, "timeout": float, "cafile": str, "portal_url": str}

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS reminders (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        at_ts REAL NOT NULL,
        party_id TEXT NOT NULL,
        recipients TEXT NOT NULL,
        subject TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'refused', 'failed')),
        reply TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS reminder_items (
        reminder_id INTEGER NOT NULL REFERENCES reminders(id),
        party_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        period TEXT NOT NULL,
        status TEXT NOT NULL,
        due TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS reminder_items_key ON reminder_items (party_id, kind, period)",
]


@dataclass(frozen=True)
class Settings:
    host: str
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never shown, logged or recorded
    sender: str = ""
    interval: dt.timedelta = dt.timedelta(days=7)
    timeout: float = 30.0
    cafile: str | None = None     # a CA bundle to trust for STARTTLS (default: the system's)
    portal_url: str | None = None  # named in the message, where the sender sends its files

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"


def _parse(name: str, value, kind: type, where: str):
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("yes", "true", "1", "on"):
            return True
        if text in ("no", "false", "0", "off"):
            return False
        raise UserError(f"{where}: {name} must be yes or no, got {value!r}")
    if kind in (int, float):
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise UserError(f"{where}: {name} must be a number, got {value!r}") from None
        if number <= 0:
            raise UserError(f"{where}: {name} must be above 0, got {value!r}")
        return number
    if not isinstance(value, str):
        raise UserError(f"{where}: {name} must be text")
    return value.strip()


def settings(home: Path, environ: dict | None = None) -> Settings:
    """The SMTP settings: ``HOME/smtp.toml``, then ``PENNYTRAIL_SMTP_<KEY>`` variables over it."""
    environ = os.environ if environ is None else environ
    found: dict = {}
    path = Path(home) / SETTINGS_FILE
    if path.is_file():
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise UserError(f"{path} is not a TOML file: {e}") from None
        table = table.get("smtp", table)
        unknown = sorted(set(table) - set(KEYS))
        if unknown:
            raise UserError(f"{path}: unknown setting {unknown[0]!r} (known: {', '.join(KEYS)})")
        if "password" in table and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise UserError(f"{path} holds the SMTP password and others may read it: `chmod 600 {path}`")
        found.update({k: _parse(k, v, KEYS[k], str(path)) for k, v in table.items()})
    for key, kind in KEYS.items():
        value = environ.get(ENV + key.upper())
        if value is not None and value != "":
            found[key] = _parse(key, value, kind, ENV + key.upper())
    if not found.get("host"):
        raise UserError(f"no SMTP server is set: write host (and from, port, ...) in {path}, "
                        f"or set {ENV}HOST (docs/calendar.md)")
    if not found.get("from"):
        raise UserError(f"no sender address is set: write from = \"...\" in {path}, or set {ENV}FROM")
    if bool(found.get("username")) != bool(found.get("password")):
        raise UserError("the SMTP username and password are set together or not at all")
    if found.get("username") and not found.get("starttls", True):
        raise UserError("the SMTP password would cross the network in clear: set starttls = true to sign in")
    return Settings(found["host"], found.get("port", 587), found.get("starttls", True), found.get("username"),
                    found.get("password"), found["from"], dt.timedelta(days=found.get("interval_days", 7)),
                    found.get("timeout", 30.0), found.get("cafile"), found.get("portal_url"))


@contextmanager
def _tables(home: Path, write: bool = True) -> Iterator:
    with portal_db.connect(home, write=write) as con:
        for statement in SCHEMA:
            con.execute(statement)
        yield con


def _ensure(home: Path) -> None:
    with _tables(home):
        pass


def addresses(home: Path) -> dict[str, list[str]]:
    """Each sender party's e-mail addresses: those of its active portal accounts."""
    with portal_db.connect(home, write=False) as con:
        marks = ", ".join("?" * len(accounts.PARTY_ROLES))  # the roles of accounts tied to a sender
        got = con.execute(f"SELECT party_id, email FROM users WHERE disabled = 0 AND party_id IS NOT NULL "
                          f"AND role IN ({marks}) ORDER BY party_id, email", list(accounts.PARTY_ROLES)).fetchall()
    out: dict[str, list[str]] = {}
    for party, email in got:
        out.setdefault(party, []).append(email)
    return out


def last_sent(home: Path) -> dict[tuple[str, str, str], dt.datetime]:
    """When each item was last named in a message the server accepted."""
    _ensure(home)
    with _tables(home, write=False) as con:
        got = con.execute("SELECT i.party_id, i.kind, i.period, max(r.at_ts) FROM reminder_items i "
                          "JOIN reminders r ON r.id = i.reminder_id WHERE r.outcome = 'sent' "
                          "GROUP BY 1, 2, 3").fetchall()
    return {(p, k, period): dt.datetime.fromtimestamp(ts, dt.timezone.utc) for p, k, period, ts in got}


def history(home: Path, limit: int = 200, party_id: str | None = None) -> list[dict]:
    """The messages recorded, newest first, each with its items."""
    _ensure(home)
    with _tables(home, write=False) as con:
        where, params = ("WHERE party_id = ?", [party_id]) if party_id else ("", [])
        found = [dict(r) for r in con.execute(f"SELECT id, at, party_id, recipients, subject, outcome, reply "
                                              f"FROM reminders {where} ORDER BY id DESC LIMIT ?",
                                              [*params, limit]).fetchall()]
        for r in found:
            r["items"] = [dict(i) for i in con.execute("SELECT kind, period, status, due FROM reminder_items "
                                                       "WHERE reminder_id = ? ORDER BY kind, period", [r["id"]])]
    return found


@dataclass
class Outcome:
    party_id: str
    recipients: list[str]
    items: list[rules.Item]
    outcome: str   # sent, refused, failed, would send (a dry run), no address
    reply: str

    def line(self) -> str:
        what = ", ".join(f"{i.kind} {i.period} ({i.status})" for i in self.items)
        if not self.recipients:
            return f"{self.party_id}: not reminded ({self.reply}): {what}"
        return (f"{self.party_id}: {self.outcome} to {', '.join(self.recipients)}: {what}"
                + (f" [{self.reply}]" if self.reply else ""))


@dataclass
class RemindResult:
    outcomes: list[Outcome]
    as_of: dt.date | None
    dry_run: bool
    note: str = ""  # said before the outcomes (a dry run without SMTP settings)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.outcome in ("refused", "failed")]

    def text(self) -> str:
        if not self.outcomes:
            return "no reminder is due: every open item was reminded within the interval, or nothing is open"
        return "\n".join(o.line() for o in self.outcomes)


def subject(cal: Calendar, party: str, found: list[rules.Item]) -> str:
    late = sum(1 for i in found if i.status == rules.LATE)
    return (f"Premium program: {len(found)} report(s) to send"
            + (f", {late} late" if late else "") + f" ({party})")


def body(cal: Calendar, party: str, found: list[rules.Item], s: Settings) -> str:
    name = cal.names.get(party) or party
    lines = [f"Hello {name},", "",
             f"As of {cal.as_of}, the premium program has not received these reports from you ({party}):", ""]
    for i in found:
        state = "LATE" if i.status == rules.LATE else "not yet due"
        lines.append(f"  - {i.kind} for {_period_words(i)}: due {i.due} ({state})")
    lines += ["", "Send the files, or declare that you had none for a period (a nil return), "
                  + (f"in the portal: {s.portal_url.rstrip('/')}/calendar" if s.portal_url else "in the portal")
                  + ".", "If you sent them already, they will be counted at the next close.", ""]
    return "\n".join(lines)


def _period_words(i: rules.Item) -> str:
    if i.kind == "payroll":
        return f"the pay period {i.period} to {i.period_end}"
    return f"the month {i.period}"


def _message(s: Settings, to: list[str], subj: str, text: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = s.sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subj
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=s.sender.rpartition("@")[2] or None)
    msg.set_content(text)
    return msg


def _send(s: Settings, to: list[str], msg: EmailMessage) -> tuple[str, str]:
    """Deliver one message: ('sent', the server's answer to the message), ('refused', its answer)
    or ('failed', one line saying why). The password is never part of either."""
    try:
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=s.cafile))
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
            code, reply = smtp.mail(s.sender)
            if code != 250:
                return "refused", f"{code} {_text(reply)} (sender {s.sender})"
            accepted = []
            refused = []
            for rcpt in to:
                code, reply = smtp.rcpt(rcpt)
                (accepted if code in (250, 251) else refused).append((rcpt, code, _text(reply)))
            if not accepted:
                smtp.rset()
                return "refused", "; ".join(f"{r}: {c} {t}" for r, c, t in refused)
            code, reply = smtp.data(msg.as_bytes())
            answer = f"{code} {_text(reply)}"
            if refused:
                answer += "; refused " + "; ".join(f"{r}: {c} {t}" for r, c, t in refused)
            return ("sent" if code == 250 else "refused"), answer
    except smtplib.SMTPAuthenticationError as e:
        return "failed", f"the server {s.server} refused the username and password: {e.smtp_code} {_text(e.smtp_error)}"
    except smtplib.SMTPNotSupportedError:
        return "failed", f"the server {s.server} does not offer STARTTLS: set starttls = false only on a trusted network"
    except ssl.SSLError as e:
        return "failed", f"STARTTLS with {s.server} failed: {e.reason or e}"
    except smtplib.SMTPResponseException as e:
        return "failed", f"the server {s.server} answered {e.smtp_code} {_text(e.smtp_error)}"
    except (UnicodeError, ValueError) as e:  # an address the server cannot be sent without SMTPUTF8
        return "failed", f"an address could not be sent to {s.server}: {_text(str(e))}"
    except (smtplib.SMTPException, OSError, socket.timeout) as e:
        why = (e.strerror if isinstance(e, OSError) else None) or _text(str(e)) or type(e).__name__
        return "failed", f"cannot reach the mail server {s.server}: {why}"


def _text(reply) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]


@contextmanager
def _one_at_a_time(home: Path) -> Iterator[None]:
    folder = Path(home) / "portal"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "remind.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError("reminders are being sent by another process: try again when it has finished") from None
        yield
    finally:
        os.close(fd)


def remind(home: Path, dry_run: bool = False, now: dt.datetime | None = None,
           environ: dict | None = None) -> RemindResult:
    """E-mail each sender its open items not reminded within the interval (``dry_run``: say
    what would be sent, send and record nothing)."""
    home = Path(home)
    note = ""
    try:
        s = settings(home, environ)
    except UserError as e:
        if not dry_run:
            raise
        s = Settings("", sender="")  # a dry run connects to nothing: the default interval
        note = f"dry run without SMTP settings ({e}); the interval is the default, {s.interval.days} days"
    now = now or dt.datetime.now(dt.timezone.utc)
    with _one_at_a_time(home):
        cal = calendar(home)
        to = addresses(home)
        due = rules.due_reminders([i for i in cal.items if i.open], last_sent(home), now, s.interval)
        outcomes = []
        for party, found in rules.by_party(due).items():
            recipients = to.get(party, [])
            if not recipients:
                outcomes.append(Outcome(party, [], found, "no address",
                                        "no active portal account of this sender has an e-mail address"))
                continue
            if dry_run:
                outcomes.append(Outcome(party, recipients, found, "would send", ""))
                continue
            subj = subject(cal, party, found)
            try:
                msg = _message(s, recipients, subj, body(cal, party, found, s))
            except (ValueError, UnicodeError) as e:  # an address or a name a mail header cannot carry
                outcome, reply = "failed", f"the message could not be written: {_text(str(e))}"
            else:
                outcome, reply = _send(s, recipients, msg)
            _record(home, now, party, recipients, subj, found, outcome, reply)
            outcomes.append(Outcome(party, recipients, found, outcome, reply))
    return RemindResult(outcomes, cal.as_of, dry_run, note)


def _record(home: Path, now: dt.datetime, party: str, recipients: list[str], subj: str, found: list[rules.Item], outcome: str,
            reply: str) -> None:
    with _tables(home) as con:
        cur = con.execute("INSERT INTO reminders (at, at_ts, party_id, recipients, subject, outcome, reply) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?)",
                          [now.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"), now.timestamp(), party,
                           ", ".join(recipients), subj, outcome, reply])
        con.executemany("INSERT INTO reminder_items (reminder_id, party_id, kind, period, status, due) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        [(cur.lastrowid, i.party_id, i.kind, i.period, i.status, i.due.isoformat()) for i in found])
        portal_db.audit(con, "reminders", None, "reminder " + outcome, f"party {party}",
                        json.dumps({"to": recipients, "items": [f"{i.kind} {i.period}" for i in found]}))
