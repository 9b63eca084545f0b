"""Allocation to workers (SPEC §6; docs/rules.md: Allocation to workers): the eligible
workers of each pool, their basis, and the largest-remainder split of the pool's entitled and
funded amounts over them, exact in integers. The SQL is ``allocation.sql``: ``t_payroll`` (the
current payroll rows of the growers in scope), ``t_basis``, ``t_shares``."""

from __future__ import annotations

from .sql_file import statements

STATEMENTS = statements(__file__)
