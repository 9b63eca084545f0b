"""Reminders on a schedule: the ``remind`` job e-mails each sender what it still owes.

The job runs the command `pennytrail remind --home HOME` in a process of its own, exactly as a
person would: reminders need the senders' accounts and the portal's database, the published
calendar and the SMTP settings (``HOME/smtp.toml`` or the ``PENNYTRAIL_SMTP_*`` variables, which
the command inherits from the job's environment), all of the application layer, which what
Dagster runs never imports. The command reads the published snapshot and the portal's database,
never the warehouse, so the job runs beside a close.
"""

import subprocess
import sys
from pathlib import Path

import dagster as dg

from .resources import PennytrailResource

# the longest a run may take: every sender's message, each within the SMTP timeout, ends well before
TIMEOUT_SECONDS = 60 * 60


def remind_command(home: Path) -> list[str]:
    """The command the job runs: `pennytrail remind` for ``home``, with this Python."""
    return [sys.executable, "-m", "pennytrail.cli", "remind", "--home", str(home)]


def failure_line(stderr: str, code: int) -> str:
    """The command's one-line error (``pennytrail: ...`` on stderr), else its exit status."""
    said = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    failed = [ln[len("pennytrail: "):] for ln in said if ln.startswith("pennytrail: ")]
    if failed:
        return failed[-1]
    return said[-1] if said else f"`pennytrail remind` ended with exit status {code}"


@dg.op(description="E-mail each sender its missing or late reports (at most once per item per interval).")
def send_reminders(context: dg.OpExecutionContext, pennytrail: PennytrailResource) -> None:
    try:  # no shell: the home is one argument, whatever it holds
        done = subprocess.run(remind_command(pennytrail.home), stdin=subprocess.DEVNULL, capture_output=True,
                              encoding="utf-8", errors="replace", timeout=TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise dg.Failure(description=f"`pennytrail remind` did not end within {TIMEOUT_SECONDS // 60} minutes "
                                     "and was stopped") from None
    for line in done.stdout.splitlines():
        context.log.info(line)
    for line in done.stderr.splitlines():
        context.log.warning(line)
    if done.returncode != 0:
        raise dg.Failure(description=failure_line(done.stderr, done.returncode))


@dg.job(name="remind", description="E-mail each sender its missing or late reports, as `pennytrail remind` does.")
def remind_job():
    send_reminders()


remind_schedule = dg.ScheduleDefinition(
    name="remind_schedule", job=remind_job, cron_schedule="0 7 * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every morning, reminds each sender of what it still owes (each item once per interval).")
