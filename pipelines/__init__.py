"""Dagster wiring for pennytrail: the one ``Definitions`` (``definitions.py``: assets, checks,
jobs, the monthly schedule, the inbox sensor, resources and the in-process executor), the
monthly partitions and the tags that say which months a run publishes (``partitions.py``), the
resources (``resources.py``: where the data and the warehouse are, and the run's data contract
process), the inbox sensor (``sensors.py``, which asks ``pennytrail.core.changes`` what changed)
and the runner (``runner.py``) with which the application layer runs the same jobs in its own
process, recording them in the home's Dagster instance. No rule of the program is decided here.
"""
