"""Mapping profiles (SPEC §3b): how a sender's own export becomes the rows of §3.

A profile is a YAML file in ``<data>/reference/mappings/``, read with ``yaml.safe_load`` and
checked whole, with the reference data, against the published JSON Schema
(``data_contracts/mapping-profile.schema.json``) and then against the data contracts (a §3
column that does not exist, a required column no key gives, a pattern that does not compile).
Every problem is a ``reference.Problem`` naming the file and the key, so a bad profile stops the
close the way a bad reference file does. A profile is data: nothing in it is ever run as code,
and its ``skip`` patterns run on RE2, whose time is linear in the cell, so no pattern can hang a
close.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import re2
import yaml

import data_contracts

from . import infiles
from .reading import FileProblem

SCHEMA_PATH = Path(data_contracts.__file__).parent / "mapping-profile.schema.json"
MAPPINGS = "reference/mappings"
EARNINGS_COLUMNS = ("premium_paid", "gross_wages", "hours", "units")
ENCODINGS = {"utf-8": "utf-8-sig", "utf-8-sig": "utf-8-sig", "cp1252": "cp1252", "windows-1252": "cp1252",
             "latin-1": "latin-1", "iso-8859-1": "latin-1", "utf-16": "utf-16"}
EXAMPLE_DAY = dt.date(2026, 2, 13)  # how a date pattern is shown: "02/13/2026" for %m/%d/%Y
_WS = re.compile(r"\s+")


def norm(header: str) -> str:
    """A header as profiles match it: trimmed, inner white space collapsed, case folded."""
    return _WS.sub(" ", str(header)).strip().casefold()


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class SkipRule:
    header: str                 # as the profile writes it
    pattern: str | None         # None: the rule is {blank: header}
    regex: object = field(default=None, compare=False, repr=False)

    def matches(self, cell: str) -> bool:
        if self.pattern is None:
            return cell == ""
        return self.regex.search(cell) is not None

    def describe(self) -> str:
        return f'blank "{self.header}"' if self.pattern is None else f'"{self.header}" matches {self.pattern!r}'


@dataclass(frozen=True)
class Pair:
    code: str                   # header pattern with {n}
    what: str                   # amount, hours or units
    value: str                  # header pattern with {n}

    def regexes(self) -> tuple[re.Pattern, re.Pattern]:
        return _pair_regex(self.code), _pair_regex(self.value)


def _pair_regex(pattern: str) -> re.Pattern:
    parts = norm(pattern).split("{n}")
    return re.compile("([0-9]+)".join(re.escape(p) for p in parts))


@dataclass(frozen=True)
class Earnings:
    shape: str                              # pairs or lines
    pairs: tuple[Pair, ...]                 # pairs shape
    code: str | None                        # lines shape: the headers
    values: dict[str, str]                  # lines shape: amount/hours/units -> header
    codes: dict[str, tuple[str, ...] | str]  # §3 column -> sender codes, or "*" (gross_wages)

    def columns_of(self, code: str, what: str) -> list[str]:
        """The §3 columns a value of type ``what`` (amount, hours, units) under ``code`` counts toward."""
        out = []
        for col, codes in self.codes.items():
            wants = "amount" if col in ("premium_paid", "gross_wages") else col
            if wants != what:
                continue
            if codes == "*":
                premium = self.codes.get("premium_paid", ())
                if code not in premium:
                    out.append(col)
            elif code in codes:
                out.append(col)
        return out

    def listed(self, code: str, what: str) -> bool:
        """Whether a code is listed under any column (gross_wages "*" lists every amount's code)."""
        if what == "amount" and self.codes.get("gross_wages") == "*":
            return True
        return any(codes != "*" and code in codes for codes in self.codes.values())


@dataclass(frozen=True)
class Profile:
    name: str                               # the file's name: adp.yaml
    kind: str
    files: str
    sheet: str | None
    header_rows: tuple[int, ...]
    header_join: str
    delimiter: str
    quote_char: str
    encoding: str
    decimal_char: str
    group_char: str | None
    columns: dict[str, tuple[str, ...]]
    constants: dict[str, str]
    formats: dict[str, str]
    values: dict[str, dict[str, str]]
    skip: tuple[SkipRule, ...]
    fill_down: tuple[str, ...]
    earnings: Earnings | None
    files_regex: re.Pattern = field(compare=False, repr=False)

    @property
    def path(self) -> str:
        return f"{MAPPINGS}/{self.name}"

    def matches(self, rel: str) -> bool:
        """Whether the file at ``rel`` (relative to the data folder) is one this profile reads."""
        prefix = f"inbox/{self.kind}/"
        return rel.startswith(prefix) and self.files_regex.fullmatch(rel[len(prefix):]) is not None


def glob_regex(pattern: str) -> re.Pattern:
    """A glob as a regex over '/'-separated paths: ``*`` and ``?`` stay within a folder, ``**``
    crosses folders (``**/`` also matches no folder at all), ``[abc]`` is a class."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[" and "]" in pattern[i + 2:]:
            j = pattern.index("]", i + 2)
            body = pattern[i + 1:j]
            out.append("[" + ("^" + re.escape(body[1:]) if body[:1] == "!" else re.escape(body)) + "]")
            i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out))


class ProfileError(Exception):
    def __init__(self, key: str | None, message: str):
        super().__init__(message)
        self.key = key
        self.message = message


def _key(path) -> str | None:
    parts = [str(p) if not isinstance(p, int) else f"[{p}]" for p in path]
    return ".".join(parts).replace(".[", "[") or None


def _plain(value, path=()):
    """YAML scalars a person writes unquoted, as the text they wrote: a date (2026-02-14) and a
    whole number (1001) under ``constants`` and ``values``; a decimal number there is refused (its
    digits would be those of a binary float)."""
    if isinstance(value, dict):
        return {(_plain(k, path) if not isinstance(k, str) else k): _plain(v, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, (*path, i)) for i, v in enumerate(value)]
    if path and path[0] in ("constants", "values"):
        if isinstance(value, bool) or value is None:
            raise ProfileError(_key(path), "write the value in quotes (a YAML true, false or empty is not text)")
        if isinstance(value, float):
            raise ProfileError(_key(path), f"write the number {value!r} in quotes, as the text it stands for")
        if isinstance(value, (dt.date, int)):
            return value.isoformat() if isinstance(value, dt.date) else str(value)
    if isinstance(value, (dt.date, dt.datetime)) and not isinstance(value, str):
        return value.isoformat()
    return value


def parse_profile(name: str, text: str) -> Profile:
    """The profile in ``text`` (the file ``name``), or ``ProfileError`` naming its key and the reason."""
    import jsonschema

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ProfileError(None, f"not YAML{where}: {getattr(e, 'problem', None) or e}") from None
    if not isinstance(doc, dict):
        raise ProfileError(None, "a profile is a map of keys (kind, files, columns, …)")
    doc = _plain(doc)
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: (len(e.path), list(map(str, e.path))))
    if errors:
        e = errors[0]
        if e.validator == "additionalProperties" and e.validator_value is False:
            extra = sorted(set(e.instance) - set(e.schema.get("properties", {})))
            known = ", ".join(e.schema.get("properties", {}))
            key = _key([*e.path, extra[0]]) if extra else _key(e.path)
            raise ProfileError(key, f"unknown key {extra[0]!r}; expected one of {known}" if extra else e.message)
        best = jsonschema.exceptions.best_match([e])
        raise ProfileError(_key(best.path) or "(top)", best.message.splitlines()[0][:200])
    return _build(name, doc)


def _build(name: str, doc: dict) -> Profile:
    kind = doc["kind"]
    contract = data_contracts.load(kind)["columns"]
    known = ", ".join(contract)

    def column(key: str, col: str) -> None:
        if col not in contract:
            raise ProfileError(f"{key}.{col}" if key else col, f"{col!r} is not a {kind} column of SPEC §3; "
                                                               f"expected one of {known}")
    files = doc["files"]
    if files.startswith("/") or ".." in files.split("/") or "\\" in files:
        raise ProfileError("files", f"{files!r} must be a pattern relative to inbox/{kind}/, without '..' or '\\'")
    d = doc.get("dialect", {})
    if d.get("decimalChar", ".") == d.get("groupChar"):
        raise ProfileError("dialect.groupChar", "the group character cannot be the decimal character")
    columns = {}
    for col, headers in doc.get("columns", {}).items():
        column("columns", col)
        columns[col] = tuple([headers] if isinstance(headers, str) else headers)
    constants = dict(doc.get("constants", {}))
    for col in constants:
        column("constants", col)
        if col in columns:
            raise ProfileError(f"constants.{col}", f"{col} is given both under columns and under constants")
    formats = dict(doc.get("formats", {}))
    for col, pattern in formats.items():
        column("formats", col)
        if contract[col]["type"] != "date":
            raise ProfileError(f"formats.{col}", f"{col} is not a date column; formats name date columns only")
        if "%" not in pattern:
            raise ProfileError(f"formats.{col}", f"{pattern!r} is not a strftime pattern such as %m/%d/%Y")
        try:
            if dt.datetime.strptime(EXAMPLE_DAY.strftime(pattern), pattern).date() != EXAMPLE_DAY:
                raise ValueError("it does not name the day, month and year")
        except ValueError as e:
            raise ProfileError(f"formats.{col}", f"{pattern!r} is not a date pattern ({e})") from None
    values = {}
    for col, table in doc.get("values", {}).items():
        column("values", col)
        values[col] = {k.strip(): v for k, v in table.items()}
    skip = []
    for i, rule in enumerate(doc.get("skip", [])):
        if "blank" in rule:
            skip.append(SkipRule(rule["blank"], None))
            continue
        try:
            regex = re2.compile(rule["pattern"])
        except Exception as e:  # re2.error: a pattern RE2 does not run (a back-reference, say)
            raise ProfileError(f"skip[{i}].pattern", f"{rule['pattern']!r} is not a pattern pennytrail runs "
                                                     f"({str(e) or type(e).__name__}; back-references and "
                                                     "look-arounds are not supported)") from None
        skip.append(SkipRule(rule["column"], rule["pattern"], regex))
    fill_down = tuple(doc.get("fill_down", []))
    for col in fill_down:
        column("fill_down", col)
        if col not in columns:
            raise ProfileError(f"fill_down", f"{col} is not read from a column, so it has no cell to fill")
    earnings = None
    if "earnings" in doc:
        e = doc["earnings"]
        if kind != "payroll":
            raise ProfileError("earnings", f"earnings is for payroll profiles only, not {kind}")
        codes = {col: (c if c == "*" else tuple(str(x) for x in c)) for col, c in e["codes"].items()}
        for col in codes:
            if col in columns or col in constants:
                raise ProfileError(f"columns.{col}" if col in columns else f"constants.{col}",
                                   f"{col} is produced by earnings and may not also be given here")
        pairs = []
        for i, p in enumerate(e.get("pairs", [])):
            what = next(k for k in ("amount", "hours", "units") if k in p)
            for k in ("code", what):
                if p[k].count("{n}") != 1:
                    raise ProfileError(f"earnings.pairs[{i}].{k}", f"{p[k]!r} must hold {{n}} once, where the "
                                                                   "pair's number stands (\"Earnings {n} Code\")")
            pairs.append(Pair(p["code"], what, p[what]))
        earnings = Earnings(e["shape"], tuple(pairs), e.get("code"),
                            {k: e[k] for k in ("amount", "hours", "units") if k in e}, codes)
        if e["shape"] == "lines":
            for col in codes:
                what = "amount" if col in ("premium_paid", "gross_wages") else col
                if what not in earnings.values:
                    raise ProfileError(f"earnings.codes.{col}", f"{col} adds up the lines' {what}, but earnings "
                                                                f"names no {what} header")
    given = set(columns) | set(constants) | set(earnings.codes if earnings else ())
    missing = [c for c, s in contract.items() if s.get("required") and c not in given]
    if missing:
        raise ProfileError("columns", f"the profile gives no {', '.join(missing)}: a {kind} row needs "
                                      f"{'it' if len(missing) == 1 else 'them'} (map under columns or constants)")
    header_rows = tuple(d.get("headerRows", [1]))
    return Profile(
        name=name, kind=kind, files=files, sheet=d.get("sheetName"), header_rows=tuple(sorted(header_rows)),
        header_join=d.get("headerJoin", " "), delimiter=d.get("delimiter", ","), quote_char=d.get("quoteChar", '"'),
        encoding=ENCODINGS[d.get("encoding", "utf-8")], decimal_char=d.get("decimalChar", "."),
        group_char=d.get("groupChar"), columns=columns, constants=constants, formats=formats, values=values,
        skip=tuple(skip), fill_down=fill_down, earnings=earnings, files_regex=glob_regex(files))


PROFILE_BYTES = 1 << 20  # a profile is a page of YAML; a bigger file is not read


def load_profiles(data_dir: Path) -> tuple[list[Profile], list[tuple[str, str | None, str]]]:
    """Every profile under ``<data>/reference/mappings/``, and every problem as (file, key,
    reason). Files are read in name order; a profile with a problem is not used."""
    folder = data_dir / "reference" / "mappings"
    profiles, problems = [], []
    if not folder.is_dir():
        return profiles, problems
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in (".yaml", ".yml"):
            continue
        rel = f"{MAPPINGS}/{path.name}"
        try:
            try:  # only a regular file inside the data folder, never through a link (as inbox files)
                with infiles.open_regular(path, data_dir) as (fd, st):
                    if st.st_size > PROFILE_BYTES:
                        raise ProfileError(None, f"more than {PROFILE_BYTES // 1024} KB: not a profile")
                    data = infiles.read_regular(fd, st, path.name)
            except (FileProblem, OSError):
                raise ProfileError(None, "not a plain file") from None
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ProfileError(None, "not UTF-8 text") from None
            profiles.append(parse_profile(path.name, text))
        except ProfileError as e:
            problems.append((rel, e.key, e.message))
        except RecursionError:
            problems.append((rel, None, "nested too deeply to be a profile"))
    return profiles, problems


def profiles_for(profiles: list[Profile], rel: str) -> list[Profile]:
    """The profiles whose ``files`` match the file at ``rel`` (relative to the data folder)."""
    return [p for p in profiles if p.matches(rel)]
