"""The domain rules of pennytrail, free of any framework.

Money, reading files, reference data, row checks, ingest, reconciliation, allocation,
conservation, publication and the warehouse. Nothing here imports Dagster, Great Expectations,
a web framework, or anything of the CLI, ``pipelines/``, ``assets/`` or ``reports/``.
"""
