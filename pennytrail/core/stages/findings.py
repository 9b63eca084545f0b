"""Findings (SPEC §4, §4a, §6, §7; docs/rules.md: Exception codes): every exception the rules
raise, one row each, with who answers for it, where, the money in question and its words. The
SQL is ``findings.sql``: ``w_exceptions``."""

from __future__ import annotations

from .sql_file import statements

STATEMENTS = statements(__file__)
