"""Exact money and numbers (SPEC.md §1).

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
RATE_DP = 6


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
    """The one money constructor: ``"12.30"`` → ``1230``. Rejects fractions of a cent."""
    return int(parse_decimal(text, AMOUNT_DP) * 100)


def round_half_up(x: Fraction | int) -> int:
    """Round an exact number of cents to a whole cent, halves away from zero (SPEC.md §1)."""
    x = Fraction(x)
    sign = -1 if x < 0 else 1
    a = abs(x)
    return sign * ((2 * a.numerator + a.denominator) // (2 * a.denominator))


def dollars(c: int) -> str:
    """Cents as dollars for people: ``-123456`` → ``-$1,234.56``."""
    sign = "-" if c < 0 else ""
    whole, part = divmod(abs(int(c)), 100)
    return f"{sign}${whole:,}.{part:02d}"
