"""Dagster wiring for pennytrail: the one ``Definitions``, partitions, jobs, schedule and sensor."""
