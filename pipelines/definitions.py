"""The one Definitions object: loaded by `workspace.yaml` and `[tool.dagster]` (``defs``, over the
months from the home's first month with data), and built by the runner for the application
layer's runs over the months of the home it closes (``build``)."""

import datetime as dt

import dagster as dg

from assets.ingest import reference_data, submissions
from assets.reconcile import conservation_checks, reconciliation
from assets.report import report_assets

from .partitions import monthly
from .resources import PennytrailResource, contract_process
from .schedules import remind_job, remind_schedule
from .sensors import build_inbox_sensor

INGEST_RECONCILE = [reference_data, submissions, reconciliation]


def build(months: dg.MonthlyPartitionsDefinition) -> dg.Definitions:
    """Assets, checks, jobs, the schedule, the sensor and the resources, over the months ``months``."""
    monthly_audit, month_reports = report_assets(months)
    # The whole close for one month: ingest, reconcile, check, publish, write the reports.
    close_job = dg.define_asset_job(
        "close", selection=dg.AssetSelection.all(), partitions_def=months,
        description="Ingest new files, reconcile, check conservation, publish one month and write its reports.",
    )
    # The unpartitioned half, run once before a multi-month close.
    ingest_reconcile_job = dg.define_asset_job(
        "ingest_and_reconcile", selection=dg.AssetSelection.assets(*INGEST_RECONCILE),
        description="Ingest new files and rebuild the reconciliation for all months, with its checks.",
    )
    # The partitioned half, once the reconciliation is checked: one run for a month or a range of months.
    publish_job = dg.define_asset_job(
        "publish_month", selection=dg.AssetSelection.assets(monthly_audit), partitions_def=months,
        description="Publish the audit tables of a month, or of a range of months in one run.",
    )
    # A closed month's close workbook and buyers' confirmations.
    reports_job = dg.define_asset_job(
        "reports_for_month", selection=dg.AssetSelection.assets(month_reports), partitions_def=months,
        description="Write a closed month's close workbook and every buyer's payment confirmation.",
    )
    return dg.Definitions(
        assets=[*INGEST_RECONCILE, monthly_audit, month_reports],
        asset_checks=[conservation_checks],
        jobs=[close_job, ingest_reconcile_job, publish_job, reports_job, remind_job],
        schedules=[monthly_schedule(close_job, months), remind_schedule],
        sensors=[build_inbox_sensor(close_job, months)],
        resources={"pennytrail": PennytrailResource(data_dir=dg.EnvVar("PENNYTRAIL_DATA"),
                                                    home_dir=dg.EnvVar("PENNYTRAIL_HOME")),
                   "contracts": contract_process},
        # one process per run: its steps share the run's contract process (the output contracts the
        # reconciliation starts are collected by the publication), and they take the warehouse one
        # at a time anyway (its pool's limit is 1)
        executor=dg.in_process_executor,
    )


def monthly_schedule(close_job, months: dg.MonthlyPartitionsDefinition) -> dg.ScheduleDefinition:
    # The month's partitions run to the month in progress (a close may publish it early), so the
    # schedule names its month itself: the month before the tick's, whose payroll is in by the 5th.
    @dg.schedule(job=close_job, cron_schedule="0 6 5 * *", execution_timezone="UTC", name="close_schedule",
                 default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Closes the previous month on the 5th, once the month's payroll is in.")
    def close_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        first = context.scheduled_execution_time.date().replace(day=1)
        previous = (first - dt.timedelta(days=1)).strftime("%Y-%m")
        if previous not in months.get_partition_keys():
            return dg.SkipReason(f"{previous} is before the first month with data")
        return dg.RunRequest(run_key=previous, partition_key=previous)

    return close_schedule


defs = build(monthly)
