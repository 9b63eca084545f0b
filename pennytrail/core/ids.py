"""Ids as the program compares them: trimmed, case-sensitive text that means what it shows.

Two ids that print the same must be the same id. Values are trimmed of white space and invisible
characters at their ends when a file is read (``reading.TRIMMED``); an id that still holds a
character a reader cannot see or tell apart from another is not guessed at but rejected
(``BAD_ID`` for a row, a problem with file, row and field for reference data):

- an invisible character inside it: control and format characters (zero-width spaces and joiners,
  byte-order marks, direction marks), private-use characters, line and paragraph separators, and
  every space other than the plain one (no-break spaces included);
- a character that Unicode's compatibility normalisation (NFKC) changes: full-width letters and
  digits, ligatures, superscripts, letter-like symbols, and accents typed as separate combining
  marks; the message names the plain form;
- Latin letters mixed with Greek or Cyrillic ones, which look alike (Cyrillic ``А`` and Latin ``A``).
"""

from __future__ import annotations

import unicodedata

# RE2 (Arrow's regular expressions): a value holding anything but printable ASCII, the only
# values ``id_problem`` needs to look at
NOT_PLAIN_RE = r"[^\x20-\x7e]"


def _name(ch: str) -> str:
    fallback = "a control character" if unicodedata.category(ch) == "Cc" else "an unnamed character"
    return f"U+{ord(ch):04X} {unicodedata.name(ch, fallback)}"


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp") or (
        unicodedata.category(ch) == "Zs" and ch != " ")


def id_problem(value: str) -> str | None:
    """What is wrong with ``value`` as an id (a phrase after the value), or None."""
    if value.isascii():
        bad = next((ch for ch in value if not ch.isprintable()), None)
        return None if bad is None else f"holds an invisible character ({_name(bad)}): remove it"
    for i, ch in enumerate(value):
        if _invisible(ch):
            return f"holds an invisible character at position {i + 1} ({_name(ch)}): remove it"
    plain = unicodedata.normalize("NFKC", value)
    if plain != value:
        ch = next((c for c in value if unicodedata.normalize("NFKC", c) != c), None)
        if ch is None:  # parts that NFKC composes into one character
            mark = next((c for c in value if unicodedata.combining(c)), None)
            if mark is None:  # parts of a syllable (Hangul jamo), no accent among them
                return f"holds a character typed in parts: retype it as one character ({plain!r})"
            return f"holds {_name(mark)}, an accent typed as a separate mark: retype it as one character ({plain!r})"
        return f"holds {_name(ch)}, which reads as {plain!r}: write it as {plain!r}"
    scripts = {_script(c) for c in value if c.isalpha()}
    if "LATIN" in scripts and scripts & {"GREEK", "CYRILLIC"}:
        other = next(c for c in value if c.isalpha() and _script(c) in ("GREEK", "CYRILLIC"))
        return (f"mixes Latin letters with {_script(other).title()} ones, which look alike ({other!r} is "
                f"{_name(other)}): type it in one alphabet")
    return None


def _script(ch: str) -> str:
    return unicodedata.name(ch, "UNKNOWN").split(" ")[0]
