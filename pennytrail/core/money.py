"""Exact money and numbers (docs/rules.md: Money).

Money is an ``int`` of cents. Nothing in pennytrail holds money in a binary float: amounts
arrive as text and are parsed here, quantities and rates are ``Decimal`` parsed from text, and
every computation that divides uses ``fractions.Fraction``. ``round_half_up`` is the only
rounding function; the warehouse has its twin, the SQL macro defined in ``warehouse.py``, and
a test keeps the two equal.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

# A plain decimal numeral: optional sign, digits, optional fraction. No exponent, no grouping
# separators, no currency sign (see docs/decisions.md: those are quarantined, not guessed at).
NUMERAL = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_NUMERAL_RE = re.compile(NUMERAL)


def numeral_regex(max_dp: int) -> str:
    """A numeral with at most 15 integer digits and ``max_dp`` significant decimal places."""
    return rf"[+-]?(?:0*[0-9]{{1,15}}(?:\.[0-9]{{0,{max_dp}}}0*)?|0*\.[0-9]{{1,{max_dp}}}0*)"

AMOUNT_DP = 2
QUANTITY_DP = 3

# The largest values a row may hold (docs/decisions.md, "Ranges"). A BIGINT holds 9.2 × 10¹⁸
# cents, so sums of at most 92 million values at these limits cannot overflow it.
MAX_AMOUNT_CENTS = 100_000_000_000   # $1,000,000,000.00: an amount, and what one purchase line owes
MAX_NUMBER = 1_000_000_000           # a quantity, hours or units
MAX_RATE = 1_000                     # dollars per rate unit (reference/rates.csv)
MAX_FACTOR = 1_000_000               # base units in one unit (reference/units.csv)
MAX_DEADLINE_DAYS = 3_660            # distribution_deadline_days: ten years


def bounded_numeral_regex(max_dp: int, limit: int) -> str:
    """A numeral with at most ``max_dp`` significant decimal places whose value is at most the
    whole number ``limit``: one whole-column regular expression, exact, with no number parsed."""
    digits = str(limit)
    return (rf"[+-]?(?:0*[0-9]{{1,{len(digits) - 1}}}(?:\.[0-9]{{0,{max_dp}}}0*)?|0*\.[0-9]{{1,{max_dp}}}0*"
            rf"|0*{digits}(?:\.0*)?)")


class NumberError(ValueError):
    """A text that is not the number a field expects; ``str(e)`` says what was expected."""


def decimal_places(text: str) -> int:
    """Significant decimal places of a numeral: trailing zeros do not count (``12.340`` → 2)."""
    if "." not in text:
        return 0
    return len(text.split(".", 1)[1].rstrip("0"))


def parse_decimal(text: str, max_dp: int) -> Decimal:
    """Parse a numeral with at most ``max_dp`` significant decimal places."""
    t = text.strip()
    if not _NUMERAL_RE.fullmatch(t):
        raise NumberError(f"expected a plain number such as 12.5, got {t!r}")
    if decimal_places(t) > max_dp:
        raise NumberError(f"expected at most {max_dp} decimal places, got {t!r}")
    return Decimal(t)


def cents(text: str) -> int:
    """The one money parser: ``"12.30"`` → ``1230``. Rejects fractions of a cent."""
    return int(parse_decimal(text, AMOUNT_DP) * 100)


def round_half_up(x: Fraction | int) -> int:
    """Round an exact number of cents to a whole cent, halves away from zero (docs/rules.md: Money)."""
    x = Fraction(x)
    sign = -1 if x < 0 else 1
    a = abs(x)
    return sign * ((2 * a.numerator + a.denominator) // (2 * a.denominator))


def dollars(c: int) -> str:
    """The one money formatter: cents as dollars for people, ``-123456`` → ``-$1,234.56``."""
    sign = "-" if c < 0 else ""
    whole, part = divmod(abs(int(c)), 100)
    return f"{sign}${whole:,}.{part:02d}"
