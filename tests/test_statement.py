"""A signed statement's verification, part by part, on statements made here with a key made here
(pennytrail.core.statement; no close needed): every way a file can be wrong fails the part it
concerns and names it, and a statement as signed passes every part."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pennytrail.core import statement as st

PDF, CSV = b"%PDF-1.7 the confirmation", b"invoice,owed\nI1,100\n"
NAMES = {"pdf": "confirmation-2026-01-v1.pdf", "csv": "confirmation-2026-01-v1.csv"}


def key_pair():
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def check(signature: bytes, message: bytes) -> bool:
        try:
            private.public_key().verify(signature, message)
            return True
        except InvalidSignature:
            return False

    return private, st.fingerprint(raw), check


PRIVATE, FP, CHECK = key_pair()


def make(body: dict | None = None, sign_with=PRIVATE, fp: str = FP, algorithm: str = st.ALGORITHM) -> bytes:
    statement = body if body is not None else {
        "format": st.FORMAT, "buyer_id": "B1", "month": "2026-01", "key_fingerprint": FP, "paid_cents": 100,
        "files": {k: {"name": NAMES[k], "sha256": hashlib.sha256(v).hexdigest()} for k, v in
                  (("pdf", PDF), ("csv", CSV))}}
    value = base64.b64encode(sign_with.sign(st.canonical(statement))).decode()
    return json.dumps({"statement": statement,
                       "signature": {"algorithm": algorithm, "key_fingerprint": fp, "value": value}}).encode()


def files(pdf: bytes | None = PDF, csv: bytes | None = CSV):
    held = {NAMES["pdf"]: pdf, NAMES["csv"]: csv}
    return held.get


def verdict(data: bytes, companion=None, trusted=None) -> list[tuple[str, bool]]:
    checks = st.verify(data, {FP: CHECK} if trusted is None else trusted, companion or files())
    return [(c.part, c.passed) for c in checks]


def test_a_statement_as_signed_passes_every_part():
    checks = st.verify(make(), {FP: CHECK}, files())
    assert [(c.part, c.passed) for c in checks] == [
        ("statement file", True), ("key", True), ("signature", True), (NAMES["csv"], True), (NAMES["pdf"], True)]
    assert st.passed(checks)
    assert checks[1].detail == f"signed with trusted key {st.short(FP)}"


def test_an_untrusted_key_is_named_and_its_signature_not_checked():
    other_private, other_fp, other_check = key_pair()
    checks = st.verify(make(), {other_fp: other_check}, files())
    assert [(c.part, c.passed) for c in checks] == [("statement file", True), ("key", False)]
    assert FP in checks[1].detail and st.short(other_fp) in checks[1].detail
    assert not st.passed(checks)
    assert "trusted: none" in st.verify(make(), {}, files())[1].detail


def test_a_changed_statement_fails_its_signature():
    data = make().replace(b'"paid_cents": 100', b'"paid_cents": 1000')
    assert verdict(data) == [("statement file", True), ("key", True), ("signature", False)]


def test_a_signature_by_another_key_under_the_trusted_fingerprint_fails():
    other, _, _ = key_pair()
    assert verdict(make(sign_with=other)) == [("statement file", True), ("key", True), ("signature", False)]


def test_a_statement_that_names_another_key_than_its_signature_fails_the_key():
    body = json.loads(make())["statement"] | {"key_fingerprint": "SHA256:" + "0" * 64}
    assert ("key", False) in verdict(make(body))


def test_another_algorithm_is_refused():
    assert verdict(make(algorithm="RSA")) == [("statement file", True), ("algorithm", False)]


def test_a_signature_that_is_not_base64_is_refused():
    doc = json.loads(make())
    doc["signature"]["value"] = "not base64!"
    assert verdict(json.dumps(doc).encode()) == [("statement file", True), ("key", True), ("signature", False)]


@pytest.mark.parametrize("which", ["pdf", "csv"])
def test_each_companion_file_is_checked_missing_or_changed(which):
    changed = files(**{which: b"changed"})
    missing = files(**{which: None})
    assert (NAMES[which], False) in verdict(make(), changed)
    assert (NAMES[which], False) in verdict(make(), missing)
    other = "csv" if which == "pdf" else "pdf"
    assert (NAMES[other], True) in verdict(make(), changed)


def test_a_file_name_that_is_not_a_confirmation_file_is_refused():
    body = json.loads(make())["statement"]
    body["files"]["pdf"]["name"] = "../../keys/confirmation-ed25519.pem"
    assert ("pdf", False) in verdict(make(body))
    body["files"]["pdf"]["name"] = NAMES["csv"]  # a name of the other kind
    assert ("pdf", False) in verdict(make(body))


def test_a_statement_with_no_files_fails():
    body = json.loads(make())["statement"] | {"files": {}}
    assert verdict(make(body))[-1] == ("files", False)


@pytest.mark.parametrize("data, says", [
    (b"\xff\xfe", "not UTF-8"),
    (b"{not json", "not JSON"),
    (b'{"statement": {}, "statement": {}, "signature": {}}', "appears twice"),
    (b'{"statement": {"paid": 1.5}, "signature": {}}', "not an integer"),
    (b'{"statement": {"paid": NaN}, "signature": {}}', "not a JSON number"),
    (b'{"statement": {}, "signature": {}, "note": "unsigned"}', "unsigned members beside them: note"),
    (b'[]', "exactly `statement` and `signature`"),
    (b'{"statement": [], "signature": {}}', "must be objects"),
    (b'{"statement": {}, "signature": {"algorithm": "Ed25519"}}', "the signature holds algorithm"),
    (b'{"statement": {"format": "other/1"}, "signature": {"algorithm": "", "key_fingerprint": "", "value": ""}}',
     "is not pennytrail-confirmation/2"),
    (b"[" * 50 + b"]" * 50, "nested more than 32 levels"),
])
def test_a_malformed_file_fails_its_first_part_and_says_why(data, says):
    checks = st.verify(data, {FP: CHECK}, files())
    assert len(checks) == 1 and checks[0].part == "statement file" and not checks[0].passed
    assert says in checks[0].detail


def test_fingerprints_and_their_short_form():
    assert st.fingerprint(b"\x00" * 32) == "SHA256:" + hashlib.sha256(b"\x00" * 32).hexdigest()
    assert st.short("SHA256:0123456789abcdef0123") == "SHA256:0123 4567 89ab cdef …"
    assert st.canonical({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
    assert not st.passed([])


def test_nesting_is_measured_exactly_and_32_levels_are_the_limit():
    assert (st._depth(3), st._depth([]), st._depth({"a": [1, {"b": []}]})) == (0, 1, 4)
    at_limit = b'{"statement": ' + b"[" * 31 + b"]" * 31 + b', "signature": {}}'
    over = b'{"statement": ' + b"[" * 32 + b"]" * 32 + b', "signature": {}}'
    assert "nested" not in st.verify(at_limit, {FP: CHECK}, files())[0].detail
    assert "nested more than 32" in st.verify(over, {FP: CHECK}, files())[0].detail


@pytest.mark.parametrize("data", [b"[[1]]", b'[{"a": 1}]', b'"text"', b"7"])
def test_a_file_that_is_not_an_object_is_refused_not_a_crash(data):
    checks = st.verify(data, {FP: CHECK}, files())
    assert [(c.part, c.passed) for c in checks] == [("statement file", False)]
    assert checks[0].passed is False


def test_odd_members_of_a_signed_statement_fail_their_part_without_a_crash():
    doc = json.loads(make())
    doc["signature"]["key_fingerprint"] = [FP]
    assert verdict(json.dumps(doc).encode()) == [("statement file", True), ("key", False)]
    body = json.loads(make())["statement"]
    body["files"] = {"csv": "confirmation-2026-01-v1.csv", "pdf": body["files"]["pdf"]}
    assert verdict(make(body))[-2:] == [("csv", False), (NAMES["pdf"], True)]
    body["files"]["csv"] = {"name": 5}
    assert verdict(make(body))[-2:] == [("csv", False), (NAMES["pdf"], True)]


def test_after_a_bad_or_missing_file_the_next_is_still_checked():
    body = json.loads(make())["statement"]
    body["files"]["csv"]["name"] = "elsewhere.csv"
    assert verdict(make(body))[-2:] == [("csv", False), (NAMES["pdf"], True)]
    assert verdict(make(), files(csv=None))[-2:] == [(NAMES["csv"], False), (NAMES["pdf"], True)]


def test_a_signature_value_that_is_not_base64_says_so():
    doc = json.loads(make())
    doc["signature"]["value"] = "not base64!"
    assert st.verify(json.dumps(doc).encode(), {FP: CHECK}, files())[-1].detail == "the signature value is not base64"


def test_edges_of_the_nesting_count_the_base64_check_and_the_unsigned_members_message():
    assert st._depth([[[[]]], 1]) == 4  # a number met before a deeper list does not end the count
    doc = json.loads(make())
    doc["signature"]["value"] = "AAAA!"  # base64 only once the "!" is dropped
    assert st.verify(json.dumps(doc).encode(), {FP: CHECK}, files())[-1].detail == "the signature value is not base64"
    detail = st.verify(b'{"statement": {}}', {FP: CHECK}, files())[0].detail
    assert detail == "a statement file holds exactly `statement` and `signature`"


def test_parse_gives_the_statement_and_signature_as_written():
    data = make()
    statement, signature = st.parse(data)
    assert {"statement": statement, "signature": signature} == json.loads(data)


@pytest.mark.parametrize("member,says", [
    ('"paid_cents": 1, "paid_cents": 2', "the member 'paid_cents' appears twice in one object"),
    ('"paid_cents": 1.5', "the number 1.5 is not an integer: statements hold integers only"),
    ('"paid_cents": 1e2', "the number 1e2 is not an integer: statements hold integers only"),
    ('"paid_cents": NaN', "NaN is not a JSON number"),
    ('"paid_cents": -Infinity', "-Infinity is not a JSON number"),
])
def test_parse_refuses_a_member_twice_a_fraction_and_a_constant_by_name(member, says):
    data = b'{"statement": {"format": "%s", %s}, "signature": {}}' % (st.FORMAT.encode(), member.encode())
    with pytest.raises(st.StatementError) as e:
        st.parse(data)
    assert str(e.value) == says
