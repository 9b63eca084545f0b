"""The volume handshake (SPEC §4a; docs/rules.md: The volume handshake): the sellers' side of
each invoice line, priced by the rule of §4, held against the buyers' side line by line. The SQL
is ``handshake.sql``: ``w_sales_lines``, ``w_volume_handshake``."""

from __future__ import annotations

from .sql_file import statements

STATEMENTS = statements(__file__)
