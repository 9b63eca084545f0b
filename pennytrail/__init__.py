"""pennytrail follows every cent of a price premium from the buyers who pay it to the pay stubs
of the workers it belongs to.

The package has three floors. ``pennytrail.core`` holds the domain rules and imports no
framework. ``pennytrail.app`` is the application layer above it, the one place where a close,
a summary, a trace, a report, a confirmation or a sign-off is done; it drives the Dagster jobs
(``pipelines/``) and the report writers (``reports/``). The entry points call it and hold no
rules of their own: the ``pennytrail`` command (``pennytrail.cli``), the web portal, and
Dagster's reminders, which run the command. What Dagster runs of a close (the assets and the
sensor) calls the core and the report writers, never the application layer, so control goes one
way. ``pennytrail.generator`` writes demo and benchmark programs with an answer key.
"""
