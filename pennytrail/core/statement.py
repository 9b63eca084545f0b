"""Signed statements: the canonical form that is signed, and what a verification checks.

A statement file is JSON of exactly two members: ``statement`` (everything the reader relies
on) and ``signature`` (``algorithm``, ``key_fingerprint``, ``value``). The signature is Ed25519
over the canonical JSON of ``statement`` (keys sorted, no spaces, UTF-8). The statement names
the SHA-256 of each file issued with it (the PDF and the CSV), so they are covered too.

Verification is strict, and says which part failed:

- the file is UTF-8 JSON with no duplicate member anywhere (a second ``"paid"`` would be read by
  one program and not by another), no number that is not an integer, and nothing beside
  ``statement`` and ``signature`` (nothing unsigned rides along);
- the key that signed it is one the reader chose to trust (given to the check): a key found
  beside the file proves nothing, since whoever forged the file could put one there;
- the signature is valid over the statement, and the statement names the same key;
- each file the statement names is a plain file name of the expected form, is present, and has
  the signed SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Callable, Iterable

FORMAT = "pennytrail-confirmation/2"
ALGORITHM = "Ed25519"
FILE_NAME = re.compile(r"^confirmation-[0-9]{4}-[0-9]{2}-v[0-9]{1,6}\.(pdf|csv|json)$")
SIGNATURE_MEMBERS = {"algorithm", "key_fingerprint", "value"}
# a month's sign-off state (``month_status``) as a statement says it
STATUS_WORDS = {"open": "not yet signed off by the program's accountant",
                "signed": "signed off by the program's accountant",
                "needs re-sign-off": "changed since it was signed off; a new sign-off is awaited"}


class StatementError(ValueError):
    """The bytes are not a well-formed statement; the message says where."""


@dataclass(frozen=True)
class Check:
    part: str
    passed: bool
    detail: str


def canonical(statement: dict) -> bytes:
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def fingerprint(raw_public_key: bytes) -> str:
    """A public key's fingerprint: ``SHA256:`` and the hex SHA-256 of its 32 raw bytes."""
    return "SHA256:" + hashlib.sha256(raw_public_key).hexdigest()


def short(fp: str) -> str:
    """A fingerprint as people read it aloud: the first 16 hex digits in groups of four."""
    h = fp.removeprefix("SHA256:")
    return "SHA256:" + " ".join(h[i:i + 4] for i in range(0, 16, 4)) + " …"


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise StatementError(f"the member {key!r} appears twice in one object")
        seen[key] = value
    return seen


def _no_float(text: str) -> object:
    raise StatementError(f"the number {text} is not an integer: statements hold integers only")


def _no_constant(text: str) -> object:
    raise StatementError(f"{text} is not a JSON number")


# a statement is a few levels deep; anything deeper is refused before it is walked again
MAX_DEPTH = 32


def _depth(doc: object) -> int:
    """How deeply lists and objects nest in ``doc`` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, level = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            return level
        stack.extend((child, level + 1) for child in children)
    return deepest


# an amount is a BIGINT of cents: a number of more digits is not one
MAX_DIGITS = 19


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise StatementError(f"a number of {len(text.lstrip('-')):,} digits: statements hold integers of at most "
                             f"{MAX_DIGITS}")
    return int(text)


_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def parse(data: bytes) -> tuple[dict, dict]:
    """(statement, signature) from a statement file's bytes, or StatementError."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise StatementError(f"not UTF-8 text (byte {e.start})") from None
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_float=_no_float,
                         parse_constant=_no_constant, parse_int=_bounded_int)
    except json.JSONDecodeError as e:
        raise StatementError(f"not JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except RecursionError:
        raise StatementError(f"nested more than {MAX_DEPTH} levels deep: not a statement") from None
    if _depth(doc) > MAX_DEPTH:
        raise StatementError(f"nested more than {MAX_DEPTH} levels deep: not a statement")
    if "\\u" in text and _LONE_SURROGATE.search(json.dumps(doc, ensure_ascii=False)):
        # an escaped half of a UTF-16 pair on its own is no character: no text holds it
        raise StatementError("holds an escaped lone surrogate (\\ud800 to \\udfff), which is not text")
    if not isinstance(doc, dict) or set(doc) != {"statement", "signature"}:
        extra = sorted(set(doc) - {"statement", "signature"}) if isinstance(doc, dict) else []
        raise StatementError("a statement file holds exactly `statement` and `signature`"
                             + (f"; unsigned members beside them: {', '.join(extra)}" if extra else ""))
    statement, signature = doc["statement"], doc["signature"]
    if not isinstance(statement, dict) or not isinstance(signature, dict):
        raise StatementError("`statement` and `signature` must be objects")
    if set(signature) != SIGNATURE_MEMBERS:
        raise StatementError(f"the signature holds {', '.join(sorted(signature))}; expected "
                             f"{', '.join(sorted(SIGNATURE_MEMBERS))}")
    if statement.get("format") != FORMAT:
        raise StatementError(f"format {statement.get('format')!r} is not {FORMAT}")
    return statement, signature


def verify(data: bytes, trusted: dict[str, Callable[[bytes, bytes], bool]],
           companion: Callable[[str], bytes | None]) -> list[Check]:
    """Check a statement file's bytes.

    ``trusted`` maps the fingerprint of each key the reader trusts to a function
    ``(signature, message) -> bool``; ``companion(name)`` returns the bytes of a file issued
    with the statement, or None when it is missing. Every part is reported; the statement is
    verified when every check passed."""
    try:
        statement, signature = parse(data)
    except StatementError as e:
        return [Check("statement file", False, str(e))]
    return check(statement, signature, trusted, companion)


def check(statement: dict, signature: dict, trusted: dict[str, Callable[[bytes, bytes], bool]],
          companion: Callable[[str], bytes | None]) -> list[Check]:
    """``verify`` of a statement already parsed (``parse``), so that a caller parses it once."""
    out = [Check("statement file", True, "well-formed: no duplicate or unsigned members")]
    if signature["algorithm"] != ALGORITHM:
        out.append(Check("algorithm", False, f"the file says {signature['algorithm']!r}; only {ALGORITHM} is accepted"))
        return out
    fp = signature["key_fingerprint"]
    check = trusted.get(fp) if isinstance(fp, str) else None
    if check is None:
        names = ", ".join(short(k) for k in trusted) or "none"
        out.append(Check("key", False, f"signed with key {fp}, which is not a key you trust (trusted: {names}); "
                                       "the signature was not checked"))
        return out
    out.append(Check("key", True, f"signed with trusted key {short(fp)}"))
    try:
        value = base64.b64decode(signature["value"], validate=True)
    except (ValueError, TypeError):
        out.append(Check("signature", False, "the signature value is not base64"))
        return out
    if not check(value, canonical(statement)):
        out.append(Check("signature", False, "does not match the statement: the statement was changed after it "
                                             "was signed"))
        return out
    out.append(Check("signature", True, "valid: the statement is as it was signed"))
    if statement.get("key_fingerprint") != fp:
        out.append(Check("key", False, f"the statement names key {statement.get('key_fingerprint')}, but was "
                                       f"signed with {fp}"))
    files = statement.get("files")
    if not isinstance(files, dict) or not files:
        out.append(Check("files", False, "the statement names no files"))
        return out
    for kind in sorted(files):
        meta = files[kind]
        name = meta.get("name") if isinstance(meta, dict) else None
        if not isinstance(name, str) or not FILE_NAME.match(name) or not name.endswith("." + kind):
            out.append(Check(str(kind), False, f"names the file {name!r}, which is not a confirmation file name"))
            continue
        body = companion(name)
        if body is None:
            out.append(Check(name, False, "not found beside the statement"))
            continue
        actual = hashlib.sha256(body).hexdigest()
        if actual == meta.get("sha256"):
            out.append(Check(name, True, "matches the signed SHA-256"))
        else:
            out.append(Check(name, False, f"changed since signing: SHA-256 {actual}, signed {meta.get('sha256')}"))
    return out


def passed(checks: Iterable[Check]) -> bool:
    checks = list(checks)
    return bool(checks) and all(c.passed for c in checks)
