"""The row checks: one list of functions of one signature, in the order the rules give."""

import re
from pathlib import Path

import numpy as np
import pandas as pd

from pennytrail.core import validate
from pennytrail.core.reading import read_table

from .conftest import reference_of

ROOT = Path(__file__).resolve().parents[1]


def documented_codes() -> list[str]:
    """The row outcome codes in the order docs/rules.md lists them."""
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    section = text.split("## Row outcomes", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.M)


def test_checks_run_in_the_documented_order():
    codes = documented_codes()
    assert codes[0] == "MISSING_FIELD" and codes[-1] == "DUPLICATE_KEY"
    assert [check.__name__.upper() for check in validate.CHECKS] == codes


def test_a_row_gets_the_first_code_that_applies(data_dir):
    """A row wrong in two ways is quarantined for the earlier check; leaving that check out of the
    list shows the later one, so the order, not the checks' contents, decides."""
    ref = reference_of(data_dir)
    path = data_dir / "inbox" / "payments" / "two-faults.csv"
    path.parent.mkdir(parents=True)
    # a negative amount from an unknown payer: NEGATIVE_VALUE comes before UNKNOWN_PARTY
    path.write_text("payment_id,line_no,payer_id,payee_id,paid_date,buyer_id,invoice_id,amount\n"
                    "P1,1,NOBODY,B1,2026-02-03,B1,INV-1,-5.00\n", encoding="utf-8")
    raw = [read_table(path)]
    assert list(validate.validate_many(raw, "payments", ref).code) == ["NEGATIVE_VALUE"]
    without = [c for c in validate.CHECKS if c is not validate.negative_value]
    assert list(validate.validate_many(raw, "payments", ref, without).code) == ["UNKNOWN_PARTY"]
    assert np.all(validate.validate_many(raw, "payments", ref, []).good)


def test_a_value_in_a_message_is_quoted_cut_at_40_characters_and_shows_what_cannot_be_seen():
    _q = validate._q
    assert _q(None) == "''"
    assert _q("A" * 40) == "'" + "A" * 40 + "'"
    assert _q("A" * 41) == "'" + "A" * 40 + "…'"
    assert _q("W\u200b1") == "'W\\u200b1'"
    assert _q(12) == "'12'"


def test_a_mask_with_missing_values_is_false_where_missing_and_always_plain_bool():
    got = validate._b(pd.Series([True, None, False], dtype="boolean"))
    assert got.dtype == np.bool_ and got.tolist() == [True, False, False]
    arrow = validate._b(pd.Series(["a", None, "b"], dtype="string[pyarrow]") == "a")
    assert arrow.dtype == np.bool_ and arrow.tolist() == [True, False, False]
    plain = validate._b([1, 0, 2])
    assert plain.dtype == np.bool_ and plain.tolist() == [True, False, True]
