"""Reminders reach a real SMTP server on loopback (aiosmtpd, its event loop in a thread of its
own): once per open item and interval, never for a received item, over STARTTLS with a
password that is never recorded; a server that cannot be reached is one line and a non-zero exit."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import ssl
import sqlite3
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from pennytrail.app import accounts, reminders
from pennytrail.cli import main

PASSWORD = "s3cret-smtp-pass"


class Inbox:
    """The server's handler: every message it accepted; RCPT TO a ``refuse`` address is 550."""

    def __init__(self, refuse: tuple[str, ...] = ()):
        self.messages: list = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos[:], message_from_bytes(envelope.content)))
        return "250 2.0.0 queued as test-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    started = []

    def start(handler: Inbox, **kwargs) -> int:
        port = free_port()
        c = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        c.start()  # its own thread and event loop
        started.append(c)
        return port

    yield start
    for c in started:
        c.stop()


@pytest.fixture
def home(closed_demo: Path, tmp_path: Path) -> Path:
    """A home with the demo's published snapshot and accounts for two senders, B01 and T003
    (whose payroll and sales are late in the demo)."""
    h = tmp_path / "home"
    h.mkdir()
    shutil.copytree(closed_demo / "published", h / "published")
    accounts.add_user(h, "buyer@b01.example.org", "buyer", "a long buyer password", "B01", by="test")
    return h


def settings_file(home: Path, port: int, **extra) -> None:
    lines = ["[smtp]", 'host = "127.0.0.1"', f"port = {port}", 'from = "program@example.org"',
             *(f"{k} = {v!r}".replace("'", '"') if not isinstance(v, bool) else f"{k} = {str(v).lower()}"
               for k, v in extra.items())]
    path = home / "smtp.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)


def recorded(home: Path) -> list[tuple]:
    con = sqlite3.connect(home / "portal" / "portal.sqlite")
    try:
        return con.execute("SELECT r.party_id, r.recipients, r.outcome, r.reply, i.kind, i.period, i.status "
                           "FROM reminders r JOIN reminder_items i ON i.reminder_id = r.id ORDER BY r.id, i.kind, "
                           "i.period").fetchall()
    finally:
        con.close()


def test_a_reminder_reaches_the_server_once_and_not_again_within_the_interval(home, smtp_server, capsys):
    inbox = Inbox()
    settings_file(home, smtp_server(inbox), starttls=False, interval_days=7)
    assert main(["remind", "--home", str(home)]) == 0
    out = capsys.readouterr().out
    assert "B01: sent to buyer@b01.example.org: purchases 2026-04 (missing)" in out
    assert "T003: not reminded" in out  # no account of T003: said, not sent
    assert len(inbox.messages) == 1
    to, msg = inbox.messages[0]
    assert to == ["buyer@b01.example.org"] and msg["From"] == "program@example.org"
    text = msg.get_payload()
    assert "purchases for the month 2026-04: due 2026-05-04 (not yet due)" in text
    assert recorded(home) == [("B01", "buyer@b01.example.org", "sent", "250 2.0.0 queued as test-1", "purchases",
                               "2026-04", "missing")]
    # a second run within the interval sends nothing
    assert main(["remind", "--home", str(home)]) == 0
    assert len(inbox.messages) == 1
    assert "B01" not in capsys.readouterr().out
    # once the interval has passed, the item, still open, is named again
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=7, minutes=1)
    done = reminders.remind(home, now=later)
    assert [o.outcome for o in done.outcomes if o.party_id == "B01"] == ["sent"]
    assert len(inbox.messages) == 2


def test_a_dry_run_sends_and_records_nothing_and_a_nil_return_is_never_reminded(home, smtp_server, closed_demo,
                                                                                capsys):
    from pennytrail.app import submissions
    from pennytrail.app.calendar import calendar

    inbox = Inbox()
    settings_file(home, smtp_server(inbox), starttls=False)
    assert main(["remind", "--home", str(home), "--dry-run"]) == 0
    assert "B01: would send to buyer@b01.example.org" in capsys.readouterr().out
    assert inbox.messages == [] and recorded(home) == []
    # B01 had no purchases in April: declared, its calendar shows it received and nothing is sent
    submissions.declare_nil(home, closed_demo / "data", "B01", "buyer", "purchases", "2026-04",
                            "buyer@b01.example.org")
    item = next(i for i in calendar(home, "B01").items if (i.kind, i.period) == ("purchases", "2026-04"))
    assert (item.status, item.nil_return) == ("received", True)
    assert main(["remind", "--home", str(home)]) == 0
    assert "B01" not in capsys.readouterr().out and inbox.messages == []


def self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_starttls_and_a_password_that_is_never_recorded(home, smtp_server, tmp_path, monkeypatch, capsys):
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password.decode() == PASSWORD
        logins.append((auth_data.login.decode(), ok))
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    inbox = Inbox()
    port = smtp_server(inbox, tls_context=context, require_starttls=True, authenticator=authenticator,
                       auth_require_tls=True)
    settings_file(home, port, starttls=True, cafile=str(cert))
    monkeypatch.setenv("PENNYTRAIL_SMTP_USERNAME", "program")
    monkeypatch.setenv("PENNYTRAIL_SMTP_PASSWORD", "not the password")
    assert main(["remind", "--home", str(home)]) == 1  # a wrong password: one line, recorded, exit 1
    err = capsys.readouterr().err
    assert "refused the username and password" in err and "not the password" not in err
    assert inbox.messages == []
    monkeypatch.setenv("PENNYTRAIL_SMTP_PASSWORD", PASSWORD)
    assert main(["remind", "--home", str(home)]) == 0
    assert len(inbox.messages) == 1 and logins[-1] == ("program", True)
    # the server's certificate is checked: without the CA that signed it, STARTTLS fails
    settings_file(home, port, starttls=True)
    done = reminders.remind(home, now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30))
    assert [o.outcome for o in done.outcomes if o.recipients] == ["failed"]
    assert "STARTTLS" in done.failures[0].reply
    for f in [home / "portal" / "portal.sqlite", *(home / "portal").glob("*.sqlite-wal"),
              *(home / "logs").glob("*")]:
        assert PASSWORD.encode() not in f.read_bytes() and b"not the password" not in f.read_bytes()


def test_a_server_that_cannot_be_reached_is_one_line_and_the_other_senders_are_still_tried(home, smtp_server,
                                                                                          capsys):
    accounts.add_user(home, "pay@b02.example.org", "buyer", "a long grower password", "B02", by="test")
    inbox = Inbox(refuse=("buyer@b01.example.org",))
    settings_file(home, smtp_server(inbox), starttls=False)
    assert main(["remind", "--home", str(home)]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "1 of" in captured.err and "550 5.1.1" in captured.err
    assert [to for to, _ in inbox.messages] == [["pay@b02.example.org"]]  # B02's went, after B01's was refused
    assert {(r[0], r[2]) for r in recorded(home)} == {("B01", "refused"), ("B02", "sent")}
    # no server at all: every sender is tried, each failure recorded, one line, exit 1
    settings_file(home, free_port(), starttls=False)
    assert main(["remind", "--home", str(home)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "cannot reach the mail server 127.0.0.1:" in err
    assert [r[2] for r in recorded(home)][-1] == "failed"


def test_settings_come_from_the_file_and_the_environment_never_with_a_readable_password(home):
    path = home / "smtp.toml"
    path.write_text('host = "mail.example.org"\nfrom = "p@example.org"\npassword = "zq-pass-9"\nusername = "u"\n')
    path.chmod(0o644)
    with pytest.raises(reminders.UserError, match="chmod 600"):
        reminders.settings(home, {})
    path.chmod(0o600)
    s = reminders.settings(home, {"PENNYTRAIL_SMTP_PORT": "2525"})
    assert (s.host, s.port, s.starttls, s.username) == ("mail.example.org", 2525, True, "u")
    assert s.password == "zq-pass-9" and "zq-pass-9" not in repr(s)
    with pytest.raises(reminders.UserError, match="in clear"):
        reminders.settings(home, {"PENNYTRAIL_SMTP_STARTTLS": "no"})
    path.write_text('host = "m"\nfrom = "p@example.org"\nport = "many"\n')
    with pytest.raises(reminders.UserError, match="port must be a number"):
        reminders.settings(home, {})


def test_the_scheduled_remind_job_sends_what_the_command_sends(home, smtp_server, tmp_path):
    """The job runs `pennytrail remind` in a process of its own: the message reaches the server
    through the Dagster run, and a failure of the command is the run's failure, in its one line."""
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.resources import PennytrailResource

    inbox = Inbox()
    settings_file(home, smtp_server(inbox), starttls=False)
    schedule = next(s for s in defs.get_repository_def().schedule_defs if s.name == "remind_schedule")
    assert schedule.job_name == "remind" and schedule.cron_schedule == "0 7 * * *"
    job = defs.get_job_def("remind")
    resources = {"pennytrail": PennytrailResource(data_dir=str(tmp_path), home_dir=str(home))}
    with dg.instance_for_test() as instance:
        assert job.execute_in_process(instance=instance, resources=resources).success
        assert len(inbox.messages) == 1
        # the next morning's run, within the interval, sends nothing again
        assert job.execute_in_process(instance=instance, resources=resources).success
        # the command's one-line error is the run's failure
        (home / "smtp.toml").unlink()
        failed = job.execute_in_process(instance=instance, resources=resources, raise_on_error=False)
        assert not failed.success
        said = failed.failure_data_for_node("send_reminders").user_failure_data.description
        assert said.startswith("no SMTP server is set: write host") and "\n" not in said, said
    assert len(inbox.messages) == 1
    assert [r[2] for r in recorded(home)] == ["sent"]


def test_an_address_no_mail_header_carries_fails_its_sender_alone(home, smtp_server):
    """A sender's account whose address is not plain ASCII: its reminder is recorded as failed,
    in one line, and the other senders' reminders still go."""
    accounts.add_user(home, "josé@t003.example.org", "grower", "a long grower password", "T003", by="test")
    inbox = Inbox()
    settings_file(home, smtp_server(inbox), starttls=False)
    done = reminders.remind(home)
    by_party = {o.party_id: o for o in done.outcomes}
    assert by_party["B01"].outcome == "sent" and len(inbox.messages) == 1
    assert by_party["T003"].outcome == "failed" and "\n" not in by_party["T003"].reply
