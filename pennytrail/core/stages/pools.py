"""Pools (SPEC §4 retention, §5; docs/rules.md: Pools): per (invoice, grower) the amounts
entitled, funded and retained, split over the work periods of the invoice's lines by the
largest-remainder split, summed into pools (grower, work period) with their due dates. The SQL
is ``pools.sql``: ``w_invoice_grower``, ``w_period_shares``, ``w_pools``."""

from __future__ import annotations

from .sql_file import statements

STATEMENTS = statements(__file__)
