"""pennytrail follows every cent of a price premium from the buyers who pay it to the pay stubs
of the workers it belongs to.

The package has three floors. ``pennytrail.core`` holds the domain rules and imports no
framework. ``pennytrail.app`` is the application layer above it, the one place where a close,
a summary, a trace, a report, a confirmation or a sign-off is done; it drives the Dagster jobs
(``pipelines/``) and the report writers (``reports/``). The entry points call it and hold no
rules of their own: the ``pennytrail`` command (``pennytrail.cli``), the Dagster assets and
sensor, and the web portal. ``pennytrail.generator`` writes demo and benchmark programs with an
answer key.
"""
