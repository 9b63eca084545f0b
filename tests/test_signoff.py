"""The rules of a sign-off (docs/rules.md: Sign-off), each on its own: what a signer's name or a
reason may hold, a month that is not closed, a second sign-off over the same figures, what is
recorded and returned, and a revocation."""
from __future__ import annotations

import datetime as dt

import pytest

from pennytrail.core.signoff import (
    MAX_NAME, MAX_REASON, SignoffRefused, check_text, exceptions_text, history, open_exceptions, revoke, sign_off,
)
from pennytrail.core.warehouse import connect, utc_seconds

from .test_restatements import signed_january

CET = dt.timezone(dt.timedelta(hours=1))


@pytest.mark.parametrize("text,problem", [
    ("", "the name is blank"), (" \t ", "the name is blank"),
    ("Ana\x1b[2J", "the name holds a control or invisible character (U+001B); type it as plain text"),   # Cc
    ("Ana\u202eanA", "the name holds a control or invisible character (U+202E); type it as plain text"),  # Cf
    ("Ana\ud800", "the name holds a control or invisible character (U+D800); type it as plain text"),     # Cs
    ("Ana\ue000", "the name holds a control or invisible character (U+E000); type it as plain text"),     # Co
    ("Ana\u0378", "the name holds a control or invisible character (U+0378); type it as plain text"),     # Cn
    ("Ana\u2028Bo", "the name holds a control or invisible character (U+2028); type it as plain text"),   # Zl
    ("Ana\u2029Bo", "the name holds a control or invisible character (U+2029); type it as plain text"),   # Zp
    ("A\u200bn\x07a\u200b", "the name holds a control or invisible character (U+0007, U+200B); type it as plain text"),
    ("A" * 11, "the name is 11 characters long; at most 10 are allowed"),
])
def test_a_name_or_reason_is_plain_text_within_its_limit(text, problem):
    with pytest.raises(SignoffRefused) as e:
        check_text("the name", text, 10)
    assert str(e.value) == problem


@pytest.mark.parametrize("text,kept", [
    (" " + "A" * 10 + " ", "A" * 10), ("Zoë O'Brien-Łukasz", "Zoë O'Brien-Łukasz"), ("José\u00a0Ruiz", "José\u00a0Ruiz"),
])
def test_a_name_is_kept_trimmed_as_typed(text, kept):
    assert check_text("the name", text, 20 if len(kept) > 10 else 10) == kept


def test_open_exceptions_are_counted_by_code_with_their_dollars():
    assert exceptions_text([]) == "none"
    assert exceptions_text([("LATE_PREMIUM", 3, 123456), ("UNPAID", 1, 1)]) == \
        "LATE_PREMIUM 3 ($1,234.56); UNPAID 1 ($0.01)"


@pytest.mark.parametrize("now,stored", [
    (dt.datetime(2026, 2, 3, 10, 30, 15, 999999, tzinfo=CET), dt.datetime(2026, 2, 3, 9, 30, 15)),
    (dt.datetime(2026, 2, 3, 9, 30, 15, 1), dt.datetime(2026, 2, 3, 9, 30, 15)),   # no zone: UTC already
])
def test_times_are_held_in_utc_to_the_second(now, stored, far_east):
    assert utc_seconds(now) == stored
    before = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    assert before <= utc_seconds() <= before + dt.timedelta(minutes=1)



def test_a_month_not_closed_cannot_be_signed_off_and_the_closed_ones_are_named(data_dir, tmp_path):
    with connect(tmp_path / "empty.duckdb") as con:
        with pytest.raises(SignoffRefused) as e:
            sign_off(con, "2026-01", "Ana")
        assert str(e.value) == "month 2026-01 has not been closed, so it cannot be signed off (closed months: none)"
    signed_january(data_dir, signed=False)
    with connect(data_dir.parent / "wh.duckdb") as con:
        with pytest.raises(SignoffRefused) as e:
            sign_off(con, "2026-02", "Ana")
        assert str(e.value) == "month 2026-02 has not been closed, so it cannot be signed off (closed months: 2026-01)"
        with pytest.raises(SignoffRefused, match="the signer's name is blank"):
            sign_off(con, "2026-01", "  ")


def test_a_sign_off_records_the_month_the_signer_the_time_the_digest_and_the_open_exceptions(data_dir):
    signed_january(data_dir, signed=False)
    with connect(data_dir.parent / "wh.duckdb") as con:
        excs = [("PAID_WITHOUT_WORK", 1, -1), ("UNKNOWN_INVOICE", 1, 1)]  # paid beyond is negative when shown
        assert open_exceptions(con, "2026-01") == excs and open_exceptions(con, "2026-02") == []
        done = sign_off(con, "2026-01", " Ana Cruz ", now=dt.datetime(2026, 2, 3, 10, 30, 15, 500, tzinfo=CET))
        digest = done.pop("digest")
        assert len(digest) == 64 and int(digest, 16) >= 0
        assert done == {"month": "2026-01", "signed_by": "Ana Cruz", "signed_at": dt.datetime(2026, 2, 3, 9, 30, 15),
                        "open_exceptions": 2, "exceptions": excs}
        assert history(con, "2026-01") == [{
            "signed_by": "Ana Cruz", "signed_at": dt.datetime(2026, 2, 3, 9, 30, 15), "digest": digest,
            "open_exceptions": 2, "exceptions_summary": "PAID_WITHOUT_WORK 1 (-$0.01); UNKNOWN_INVOICE 1 ($0.01)",
            "revoked_at": None, "revoked_by": None, "revoke_reason": None}]
        with pytest.raises(SignoffRefused) as e:
            sign_off(con, "2026-01", "Bo")
        assert str(e.value) == ("2026-01 is already signed off with these figures, by Ana Cruz at 2026-02-03 09:30 UTC; "
                                "nothing changed since")
        assert len(history(con, "2026-01")) == 1


def test_a_revocation_records_who_when_and_why_and_opens_the_month_again(data_dir):
    signed_january(data_dir, signed=False)
    with connect(data_dir.parent / "wh.duckdb") as con:
        with pytest.raises(SignoffRefused) as e:
            revoke(con, "2026-01", "Cy", "wrong month")
        assert str(e.value) == "2026-01 has no sign-off in force to revoke"
        sign_off(con, "2026-01", "Ana", now=dt.datetime(2026, 2, 3, 9, 0))
        with pytest.raises(SignoffRefused, match="the reason is blank"):
            revoke(con, "2026-01", "Cy", " ")
        done = revoke(con, "2026-01", " Cy ", " the payroll was not final ", now=dt.datetime(2026, 2, 4, 10, 0, 1, 9, CET))
        assert done == {"month": "2026-01", "signed_by": "Ana", "signed_at": dt.datetime(2026, 2, 3, 9, 0),
                        "revoked_by": "Cy", "revoked_at": dt.datetime(2026, 2, 4, 9, 0, 1),
                        "reason": "the payroll was not final"}
        (h,) = history(con, "2026-01")
        assert (h["revoked_at"], h["revoked_by"], h["revoke_reason"]) == (
            dt.datetime(2026, 2, 4, 9, 0, 1), "Cy", "the payroll was not final")
        with pytest.raises(SignoffRefused, match="no sign-off in force"):
            revoke(con, "2026-01", "Cy", "again")
        # the same figures may be signed off again once the sign-off over them is revoked
        assert sign_off(con, "2026-01", "Ana")["signed_by"] == "Ana" and len(history(con, "2026-01")) == 2
        with pytest.raises(SignoffRefused) as e:
            revoke(con, "2026-01", "Cy", "x" * (MAX_REASON + 1))
        assert str(e.value) == f"the reason is {MAX_REASON + 1} characters long; at most {MAX_REASON} are allowed"
        with pytest.raises(SignoffRefused) as e:
            revoke(con, "2026-01", "C" * (MAX_NAME + 1), "why")
        assert str(e.value) == (f"the name of who revokes is {MAX_NAME + 1} characters long; at most {MAX_NAME} "
                                "are allowed")
        assert revoke(con, "2026-01", "C" * MAX_NAME, "x" * MAX_REASON)["reason"] == "x" * MAX_REASON
