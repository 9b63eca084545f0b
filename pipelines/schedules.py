"""Reminders on a schedule: the ``remind`` job e-mails each sender what it still owes.

The job calls the application layer (``pennytrail.app.reminders.remind``), the same function as
`pennytrail remind`; it reads the published snapshot and the portal's database, never the
warehouse, so it runs beside a close.
"""

import dagster as dg

from pennytrail.app.errors import UserError
from pennytrail.app.reminders import remind

from .resources import PennytrailResource


@dg.op(description="E-mail each sender its missing or late reports (at most once per item per interval).")
def send_reminders(context: dg.OpExecutionContext, pennytrail: PennytrailResource) -> None:
    try:
        done = remind(pennytrail.home)
    except UserError as e:
        raise dg.Failure(description=str(e)) from None
    for outcome in done.outcomes:
        context.log.info(outcome.line())
    sent = sum(1 for o in done.outcomes if o.outcome == "sent")
    context.log.info(f"{sent} reminder(s) sent, {len(done.failures)} not sent")
    if done.failures:
        first = done.failures[0]
        raise dg.Failure(description=f"{len(done.failures)} reminder(s) not sent: {first.party_id}: {first.reply}")


@dg.job(name="remind", description="E-mail each sender its missing or late reports, as `pennytrail remind` does.")
def remind_job():
    send_reminders()


remind_schedule = dg.ScheduleDefinition(
    name="remind_schedule", job=remind_job, cron_schedule="0 7 * * *", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every morning, reminds each sender of what it still owes (each item once per interval).")
