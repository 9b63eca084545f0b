"""Invoices, payments and pass-through (SPEC §4; docs/rules.md: What is owed, paid and
received): each invoice's owed and what its buyer paid, each payment line classified against its
invoice, and what each intermediary held of what it received. The SQL is ``payments.sql``:
``w_invoices``, ``w_payments``, ``w_invoice_audit``, ``w_pass_through``."""

from __future__ import annotations

from .sql_file import statements

STATEMENTS = statements(__file__)
