"""The Dagster assets, by stage of the money's journey: ``ingest`` (the reference data and every
new submission, with the input contracts as checks), ``reconcile`` (the reconciliation, kept,
rebuilt in part or in full as ``pennytrail.core.changes`` says, and the conservation checks that
block publication) and ``report`` (each month's published audit tables, with the output
contracts as checks, and its close workbook and buyers' confirmations). Each asset is a thin
step: it calls ``pennytrail.core`` and the report writers (``reports/``), never the application
layer, and reports what they did as metadata.
"""
