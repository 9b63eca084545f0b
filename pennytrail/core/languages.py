"""Languages workers are told in (docs/rules.md: What each worker is told).

A language is named by its ISO 639 code: a two-letter ISO 639-1 code (``es``, ``en``, ``ht``)
or a three-letter ISO 639-3 code (``quc`` for K'iche', ``kjb`` for Q'anjob'al, ``mxt`` for a
Mixtec language). Codes are compared without regard to case and held in lower case. The list
of codes is the standard's own, as ``pycountry`` ships it; a code that is not in it is refused
with the value as sent.
"""

from __future__ import annotations

import re
from functools import cache

DEFAULT = "es"  # the language a worker is told in when neither payroll nor the program names one
SHAPE = re.compile(r"[A-Za-z]{2,3}")


@cache
def _codes() -> frozenset[str]:
    import pycountry

    codes: set[str] = set()
    for lang in pycountry.languages:
        for attr in ("alpha_2", "alpha_3"):
            value = getattr(lang, attr, None)
            if value:
                codes.add(value)
    return frozenset(codes)


def normal(code: str) -> str:
    """``code`` trimmed and in lower case (an ISO 639 code as held)."""
    return code.strip().lower()


def is_language(code: str) -> bool:
    """Whether ``code`` (in any case) is an ISO 639-1 or ISO 639-3 language code."""
    text = normal(code)
    return bool(SHAPE.fullmatch(text)) and text in _codes()


def problem(code: str) -> str | None:
    """None when ``code`` is a language code; otherwise what is wrong, in words."""
    if is_language(code):
        return None
    return (f"{code[:40]!r} is not an ISO 639 language code (two letters such as es, en, ht, or three such as "
            "quc)")


def worker_language(payroll_language: str | None, program_language: str | None) -> str:
    """The language a worker is told in: their payroll's (the latest row that names one), else
    their program's, else Spanish."""
    for code in (payroll_language, program_language):
        if code and code.strip():
            return normal(code)
    return DEFAULT
