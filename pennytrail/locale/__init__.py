"""The words workers read, in their language: gettext message catalogs, one ``<code>.po`` file per
language in this folder, keyed by the English message (docs/workers.md).

A catalog is read with Babel and compiled in memory when first used: no compiled file is kept.
A translator adds a language (Mixtec, K'iche', Q'anjob'al) with one file, ``<ISO 639 code>.po``,
and no code: ``available()`` lists every catalog here. A message is always a whole sentence or
label with named places (``{amount}``); the words never carry a number's form. Dollars are
written by ``pennytrail.core.money.dollars``, numbers and dates by ``number`` and ``date``, in
one form for every language (``$1,234.56``), apart from the words.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from decimal import Decimal
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
FALLBACK = "es"  # the language of a worker whose own has no catalog (docs/decisions.md)
DOMAIN = "messages"


def available() -> list[str]:
    """The languages with a catalog, by code."""
    return sorted(p.stem for p in HERE.glob("*.po"))


def read(code: str):
    """The Babel ``Catalog`` of ``code``'s file."""
    from babel.messages.pofile import read_po

    with (HERE / f"{code}.po").open("rb") as f:
        return read_po(f, locale=None, domain=DOMAIN)


@cache
def translations(code: str) -> gettext.GNUTranslations:
    """``code``'s catalog compiled in memory (Babel's ``write_mo``) as gettext translations."""
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, read(code))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def language_for(code: str | None) -> str:
    """The catalog to use for a worker whose language is ``code``: their own when it has one,
    else Spanish."""
    code = (code or "").strip().lower()
    return code if code in available() else FALLBACK


class Words:
    """The words of one language: ``w("Your share: {amount}", amount=dollars(c))``."""

    def __init__(self, code: str):
        self.code = language_for(code)
        self._t = translations(self.code)

    def gettext(self, message: str, **values) -> str:
        text = self._t.gettext(message)
        return text.format(**values) if values else text

    __call__ = gettext

    @property
    def name(self) -> str:
        """The language's name, written in it (the catalog's own translation of "English")."""
        return self._t.gettext("English")

    @staticmethod
    def number(value) -> str:
        """A count, hours or pieces in one form in every language: ``1,234.5``."""
        d = Decimal(str(value)).normalize() if value is not None else Decimal(0)
        if d == d.to_integral_value():
            return f"{int(d):,}"
        whole, _, frac = f"{abs(d):f}".partition(".")
        return ("-" if d < 0 else "") + f"{int(whole):,}.{frac}"

    def date(self, day: dt.date) -> str:
        """A day with its month's name in this language: "January 5, 2026", "5 de enero de 2026"."""
        return self.gettext("{month} {day}, {year}", month=self.month_name(day.month), day=day.day, year=day.year)

    def month_name(self, month: int) -> str:
        return self.gettext(MONTHS[month - 1])

    def month(self, month: str) -> str:
        """A month YYYY-MM in words: "February 2026", "febrero de 2026"."""
        year, m = int(month[:4]), int(month[5:7])
        return self.gettext("{month} {year}", month=self.month_name(m), year=year)


def _(message: str) -> str:
    """Marks a message for the catalogs where it is not translated at once."""
    return message


MONTHS = [_("January"), _("February"), _("March"), _("April"), _("May"), _("June"), _("July"), _("August"),
          _("September"), _("October"), _("November"), _("December")]
LANGUAGE_NAME = _("English")  # each catalog's own name for its language


# Where the words are: the Python modules and templates whose messages the catalogs translate.
SOURCES = ["pennytrail/locale/__init__.py", "pennytrail/core/worker_statement.py", "reports/worker_statement.py",
           "pennytrail/web/worker_pages.py", "pennytrail/web/templates/worker_base.html",
           "pennytrail/web/templates/worker_code.html", "pennytrail/web/templates/worker_page.html"]


def extract(root: Path) -> list[str]:
    """Every message the sources under ``root`` (the project's folder) mark, in order of first use."""
    from babel.messages.extract import extract_from_file

    found: dict[str, None] = {}
    for rel in SOURCES:
        method = "python" if rel.endswith(".py") else "jinja2.ext:babel_extract"
        for _line, message, _comments, _context in extract_from_file(method, str(root / rel),
                                                                     keywords={"_": None, "gettext": None}):
            if isinstance(message, str):
                found.setdefault(message)
    return list(found)
