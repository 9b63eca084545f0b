"""The few things the stages' SQL needs that engines spell differently, each defined once under
a name the SQL calls. These are DuckDB's definitions (temporary macros of a connection); another
engine defines the same names with the same results.

- ``round_half_up_div(num, den)``: the exact quotient num / den (den > 0) rounded half up, away
  from zero (docs/rules.md: Money); the SQL twin of ``money.round_half_up``.
- ``period_of(d, anchor, days)``: the first day of the block of ``days`` days, aligned to
  ``anchor``, that holds ``d`` (docs/rules.md: Reference data).
- ``as_int128(x)``: ``x`` as a 128-bit integer, for a product that may not fit 64 bits.
- ``base_quantity(quantity, factor)``: a quantity in its unit's base unit, exactly, in
  thousandths of a millionth of the base unit: quantity·1e3 × factor·1e6 (a 128-bit integer).
- ``owed_cents(quantity, factor, rate, rate_factor)``: the premium on a quantity of a unit of
  ``factor`` at ``rate`` per unit of ``rate_factor`` (docs/rules.md: What is owed; SPEC §4), in
  cents, as one exact quotient rounded half up:
  base_quantity × rate·1e6 × 100 / (1e3 × 1e6 × rate_factor·1e6). Purchases and the sellers'
  lines are priced by this one rule.
- ``muldiv(a, b, c)`` and ``mulmod(a, b, c)``: the quotient (truncated) and the remainder of the
  exact a × b ÷ c for integers a, b and c > 0, b ≤ c: in 64 bits where a × b cannot overflow
  (|a| ≤ max ÷ c), in 128 bits, which is many times slower, only where it could.
- ``month_of(d)``: the month of a date as text ``YYYY-MM``.
- ``add_days(d, n)``: the date ``n`` days after ``d``.
- ``format_cents(c)``: integer cents as dollars for a finding's words: ``-$1,234.05``.
"""

from __future__ import annotations

import duckdb

BIGINT_MAX = 2**63 - 1

MACROS = f"""
-- round_half_up (docs/rules.md: Money) of the exact quotient num / den, den > 0: halves away from zero.
CREATE OR REPLACE TEMP MACRO round_half_up_div(num, den) AS
    CAST(sign(num) * ((2 * abs(CAST(num AS HUGEINT)) + den) // (2 * CAST(den AS HUGEINT))) AS BIGINT);
-- period_of (docs/rules.md: Reference data): start of the block of `days` days, aligned to `anchor`, holding d.
CREATE OR REPLACE TEMP MACRO period_of(d, anchor, days) AS
    anchor + CAST((d - anchor) - ((((d - anchor) % days) + days) % days) AS INTEGER);
CREATE OR REPLACE TEMP MACRO as_int128(x) AS CAST(x AS HUGEINT);
CREATE OR REPLACE TEMP MACRO base_quantity(quantity, factor) AS
    as_int128(quantity * 1000) * as_int128(CAST(factor AS DECIMAL(38,6)) * 1000000);
-- owed (docs/rules.md: What is owed; SPEC §4): qty_in_rate_unit × rate in cents, rounded half up once.
CREATE OR REPLACE TEMP MACRO owed_cents(quantity, factor, rate, rate_factor) AS
    round_half_up_div(base_quantity(quantity, factor) * as_int128(rate * 1000000) * 100,
                      as_int128(1000) * 1000000 * as_int128(CAST(rate_factor AS DECIMAL(38,6)) * 1000000));
CREATE OR REPLACE TEMP MACRO muldiv(a, b, c) AS
    CASE WHEN abs(a) <= {BIGINT_MAX} // c THEN (CAST(a AS BIGINT) * b) // c
         ELSE CAST((CAST(a AS HUGEINT) * b) // c AS BIGINT) END;
CREATE OR REPLACE TEMP MACRO mulmod(a, b, c) AS
    CASE WHEN abs(a) <= {BIGINT_MAX} // c THEN (CAST(a AS BIGINT) * b) % c
         ELSE CAST((CAST(a AS HUGEINT) * b) % c AS BIGINT) END;
CREATE OR REPLACE TEMP MACRO month_of(d) AS strftime(d, '%Y-%m');
CREATE OR REPLACE TEMP MACRO add_days(d, n) AS d + n;
CREATE OR REPLACE TEMP MACRO format_cents(c) AS
    CASE WHEN c < 0 THEN '-' ELSE '' END || '$' || format('{{:,}}', abs(c) // 100) || '.' || lpad(CAST(abs(c) % 100 AS VARCHAR), 2, '0');
"""


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Define the names on ``con`` (temporary macros belong to a connection)."""
    con.execute(MACROS)
