"""The worker audit (SPEC §7; docs/rules.md: The worker audit): each worker's pay against
the share of §6, late and overdue against the pool's due date and the close's as-of date, and
each pool's totals. The SQL is ``worker_audit.sql``: ``w_last_pay``, ``w_as_of``, ``t_paid``,
``w_worker_audit``, ``w_pool_audit``."""

from __future__ import annotations

from .sql_file import statements

STATEMENTS = statements(__file__)
