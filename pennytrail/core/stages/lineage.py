"""Lineage (SPEC §8; docs/rules.md: Output tables): the rows each published figure comes
from (invoice lines, payment lines, each pool's share of each invoice and the file rows that
feed it), published with it so that traces read published tables only. The SQL is
``lineage.sql``: ``w_invoice_grower_audit``, ``w_line_audit``, ``w_payment_audit``,
``w_pool_invoice_audit``, ``w_pool_source_audit``."""

from __future__ import annotations

from .sql_file import statements

STATEMENTS = statements(__file__)
