"""What is owed (SPEC §4; docs/rules.md: What is owed, paid and received): each purchase line
priced at the rate in force on its ship date, in exact integer cents, and its work period (§5).
The SQL is ``owed.sql``: ``w_lines``."""

from __future__ import annotations

from .sql_file import statements

STATEMENTS = statements(__file__)
