"""Buyers' confirmations as the close issues them, and the disclosure rule on real closes: a pool
in which nobody was paid says so; 1, 4 and 5 paid of 6 eligible; one-worker growers paid and
unpaid; a sign-off, a revocation and a restatement each issue a version that says in words what
changed; and one payroll row added to a pool reveals that worker's pay neither between two
versions of a buyer's statement nor between two buyers' statements (docs/decisions.md)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from pennytrail.app import close
from pennytrail.cli import main
from pennytrail.core import confirmations, keys, privacy, statement as st
from pennytrail.core.paths import party_folder

from .conftest import write

REFERENCE = {
    "programs.csv": """\
        program_id,name,currency,allocation_basis,grower_retention_pct,distribution_deadline_days,period_days,period_anchor
        FFP,Tomatoes,USD,units,0,14,7,2026-01-05
        """,
    "parties.csv": """\
        party_id,party_type,name,program_id
        B1,buyer,Buyer One,
        B2,buyer,Buyer Two,
        GZ,grower,Nobody Paid Farm,FFP
        G1P,grower,One Paid Farm,FFP
        G4P,grower,Four Paid Farm,FFP
        G5P,grower,Five Paid Farm,FFP
        GONE,grower,Lone Worker Farm,FFP
        GONEZ,grower,Lone Unpaid Farm,FFP
        GV,grower,Versions Farm,FFP
        """,
    "rates.csv": """\
        program_id,commodity,rate,rate_unit,effective_from,effective_to
        FFP,tomatoes,0.01,lb,2020-01-01,
        """,
    "units.csv": """\
        unit,base_unit,factor
        lb,lb,1
        """,
}
# grower -> (pounds bought by B1, the premium each worker is paid in cents; 0: eligible, not paid)
POOLS = {
    "GZ": (188_625, [0] * 39),
    "G1P": (6_000, [1_234, 0, 0, 0, 0, 0]),
    "G4P": (6_000, [911, 923, 937, 949, 0, 0]),
    "G5P": (6_000, [1_010, 1_020, 1_030, 1_040, 1_050, 0]),
    "GONE": (777, [701]),
    "GONEZ": (777, [0]),
    "GV": (8_000, [1_000] * 7),
}
NEW_WORKER_PAY = 1_000  # the payroll row added to GV's pool by the second close
HEADER = ("grower_id,worker_id,period_start,premium_period_start,worker_name,crew_id,period_end,pay_date,hours,units,"
          "gross_wages,premium_paid")


def _payroll_row(grower: str, i: int, cents: int) -> str:
    return (f"{grower},{grower}-W{i:02d},2026-01-05,,Worker {grower} {i},,2026-01-11,2026-01-16,40,100,900.00,"
            f"{cents // 100}.{cents % 100:02d}")


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> dict[str, Path]:
    """The program closed once with the signing key made first (the close issues every buyer's
    confirmation), signed off, revoked, then closed again with one payroll row added to GV's pool
    and Buyer Two's first invoice on that pool. The statements of each step are kept."""
    home = tmp_path_factory.mktemp("disclosure")
    data = home / "data"
    for name, text in REFERENCE.items():
        write(data / "reference" / name, text)
    purchases = ["buyer_id,invoice_id,line_no,ship_date,harvest_date,seller_id,grower_id,commodity,quantity,unit,"
                 "premium_billed"]
    payments = ["payment_id,line_no,payer_id,payee_id,paid_date,buyer_id,invoice_id,amount"]
    payroll = [HEADER]
    for g, (lbs, pays) in POOLS.items():
        purchases.append(f"B1,I-{g},1,2026-01-07,,{g},{g},tomatoes,{lbs},lb,")
        payments.append(f"P-{g},1,B1,{g},2026-01-12,B1,I-{g},{lbs // 100}.{lbs % 100:02d}")
        payroll += [_payroll_row(g, i, c) for i, c in enumerate(pays)]
    write(data / "inbox/purchases/2026-01.csv", "\n".join(purchases) + "\n")
    write(data / "inbox/payments/2026-01.csv", "\n".join(payments) + "\n")
    write(data / "inbox/payroll/2026-01.csv", "\n".join(payroll) + "\n")
    keys.create(home)
    said: list[str] = []
    close(data, home, None, progress=said.append)
    steps = {"closed": _snapshot(home, "closed"), "close_said": said}
    assert main(["signoff", "--home", str(home), "--month", "2026-01", "--by", "A. Accountant"]) == 0
    steps["signed"] = _snapshot(home, "signed")
    assert main(["signoff", "--home", str(home), "--month", "2026-01", "--by", "A. Accountant", "--revoke",
                 "--reason", "a payroll file is missing"]) == 0
    steps["revoked"] = _snapshot(home, "revoked")
    write(data / "inbox/payroll/2026-01-late.csv", HEADER + "\n" + _payroll_row("GV", 7, NEW_WORKER_PAY) + "\n")
    write(data / "inbox/purchases/2026-01-b2.csv", purchases[0] + "\nB2,J-GV,1,2026-01-08,,GV,GV,tomatoes,1000,lb,\n")
    write(data / "inbox/payments/2026-01-b2.csv", payments[0] + "\nQ-GV,1,B2,GV,2026-01-12,B2,J-GV,10.00\n")
    close(data, home, None, progress=lambda m: None)
    steps["restated"] = _snapshot(home, "restated")
    steps["home"] = home
    return steps


def _snapshot(home: Path, name: str) -> Path:
    """A copy of the home's confirmations as they stand after a step."""
    out = home.parent / f"after-{name}"
    shutil.copytree(home / "confirmations", out)
    return out


def _statement(folder: Path, buyer: str, version: int | None = None) -> dict:
    files = sorted((folder / party_folder(folder, buyer).name).glob("confirmation-2026-01-v*.json"),
                   key=lambda p: int(re.search(r"-v([0-9]+)\.json$", p.name)[1]))
    path = files[-1] if version is None else next(p for p in files if p.name.endswith(f"-v{version}.json"))
    return st.parse(path.read_bytes())[0]


def _pools(s: dict) -> dict[str, dict]:
    return {p["grower_id"]: p for p in s["pools"]}


# --- issued by the close --------------------------------------------------------------------------

def test_the_close_issues_every_buyers_confirmation(program):
    s = _statement(program["closed"], "B1")
    assert s["version"] == 1 and s["kind"] == "invoices" and s["month_status"] == "open"
    assert "buyers' confirmations: 1 new version(s) issued" in program["close_said"]
    assert not (program["closed"] / party_folder(program["closed"], "B2").name).exists()  # no figures yet


# --- the disclosure cases -------------------------------------------------------------------------

def test_nobody_paid_of_39_says_so(program):
    pool = _pools(_statement(program["closed"], "B1"))["GZ"]
    assert (pool["workers_eligible"], pool["workers_paid"], pool["pct_funded_on_stubs"]) == (39, 0, "0.0")
    assert pool["funded_cents"] == 188_625
    assert pool["in_words"] == "Paid 0 of 39 eligible workers: $0.00 of the funded premium reached pay stubs."


def test_one_paid_of_six_withholds_what_reached_stubs(program):
    pool = _pools(_statement(program["closed"], "B1"))["G1P"]
    assert (pool["workers_eligible"], pool["workers_paid"], pool["pct_funded_on_stubs"]) == (6, None, None)
    assert pool["workers_note"] == privacy.FEW_PAID and "withheld" in pool["in_words"]


def test_four_paid_of_six_withholds_what_reached_stubs(program):
    pool = _pools(_statement(program["closed"], "B1"))["G4P"]
    assert (pool["workers_eligible"], pool["workers_paid"], pool["pct_funded_on_stubs"]) == (6, None, None)


def test_five_paid_of_six_shows_the_share(program):
    pool = _pools(_statement(program["closed"], "B1"))["G5P"]
    assert (pool["workers_eligible"], pool["workers_paid"], pool["pct_funded_on_stubs"]) == (6, 5, "85.8")
    assert pool["in_words"] == "5 of 6 eligible workers were paid; 85.8% of the funded premium reached pay stubs."


def test_one_worker_growers_paid_and_unpaid(program):
    pools = _pools(_statement(program["closed"], "B1"))
    paid, unpaid = pools["GONE"], pools["GONEZ"]
    assert (paid["workers_eligible"], paid["workers_paid"], paid["pct_funded_on_stubs"]) == (None, None, None)
    assert (unpaid["workers_eligible"], unpaid["workers_paid"], unpaid["pct_funded_on_stubs"]) == (1, 0, "0.0")
    assert unpaid["in_words"] == "Paid 0 of 1 eligible worker: $0.00 of the funded premium reached pay stubs."


def test_the_pdf_and_csv_say_each_case(program):
    from pypdf import PdfReader

    folder = program["closed"] / party_folder(program["closed"], "B1").name
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(folder / "confirmation-2026-01-v1.pdf").pages).split())
    assert "Paid 0 of 39 eligible workers" in text and "Paid 0 of 1 eligible worker:" in text
    assert "fewer than 5 paid" in text
    csv = (folder / "confirmation-2026-01-v1.csv").read_text(encoding="utf-8")
    assert "Paid 0 of 39 eligible workers" in csv


def _amounts(doc) -> set[int]:
    if isinstance(doc, dict):
        return set().union(*(_amounts(v) if not k.endswith("_cents") or not isinstance(v, int) else {v}
                             for k, v in doc.items())) if doc else set()
    if isinstance(doc, list):
        return set().union(*map(_amounts, doc)) if doc else set()
    return set()


def test_no_withheld_pay_follows_from_any_amount_or_difference(program):
    """Every amount of every statement of every step, and every difference of two: none is what
    a withheld worker (or group under 5) was paid."""
    secrets = {c for g in ("G1P", "G4P", "GONE") for c in POOLS[g][1] if c} | {
        sum(POOLS[g][1]) for g in ("G1P", "G4P", "GONE")}
    docs = [st.parse(p.read_bytes())[0] for step in ("closed", "signed", "revoked", "restated")
            for p in program[step].rglob("confirmation-*.json")]
    amounts = set().union(*map(_amounts, docs))
    assert not (amounts | {abs(a - b) for a in amounts for b in amounts}) & secrets


# --- versions in words ----------------------------------------------------------------------------

def test_a_sign_off_and_a_revocation_each_issue_a_version_in_words(program):
    signed = _statement(program["signed"], "B1")
    assert signed["version"] == 2 and signed["month_status"] == "signed"
    assert signed["changes"] == ["The month's close is now signed off by the program's accountant."]
    revoked = _statement(program["revoked"], "B1")
    assert revoked["version"] == 3
    assert revoked["changes"] == ["The month's sign-off was revoked: the month is not signed off now."]


def test_no_version_names_a_field(program):
    for p in program["restated"].rglob("confirmation-*.json"):
        for line in st.parse(p.read_bytes())[0]["changes"]:
            assert not re.search(r"[a-z]+_[a-z]+", line.replace("I-", "")), line


# --- a one-row change across versions and buyers (issue 29) --------------------------------------

def test_one_payroll_row_added_does_not_reveal_that_workers_pay_between_versions(program):
    before = _pools(_statement(program["revoked"], "B1"))["GV"]
    assert (before["workers_paid"], before["pct_funded_on_stubs"]) == (7, "87.5")  # 7,000 of 8,000
    after_s = _statement(program["restated"], "B1")
    after = _pools(after_s)["GV"]
    assert after_s["version"] == 4
    assert after["funded_cents"] == 9_000  # the grower's figure: B2's $10.00 is in the pool
    assert after["workers_eligible"] == 8 and after["pct_funded_on_stubs"] is None
    assert after["workers_note"] == privacy.SMALL_CHANGE
    pool_lines = [c for c in after_s["changes"] if c.startswith("Pool of Versions Farm (GV)")]
    assert len(pool_lines) == 1 and "share of the funded premium on pay stubs 87.5% → withheld (it changed for " \
        "fewer than 5 workers" in pool_lines[0] and "withheld. (" not in pool_lines[0]
    # the other pools did not change: they are shown as before
    assert _pools(after_s)["G5P"]["pct_funded_on_stubs"] == "85.8"


def test_one_payroll_row_added_does_not_reveal_that_workers_pay_between_buyers(program):
    b2 = _statement(program["restated"], "B2")
    assert b2["version"] == 1
    pool = _pools(b2)["GV"]
    assert pool["pct_funded_on_stubs"] is None and pool["workers_note"] == privacy.SMALL_CHANGE
    ledger = (program["home"] / "confirmations" / confirmations.LEDGER)
    assert ledger.stat().st_mode & 0o077 == 0  # the states shown are the owner's only
    text = ledger.read_text()
    assert "GV-W07" not in text and '"1000"' not in text
    assert json.loads(text)  # a JSON object of pools' shown states


def test_a_new_close_with_nothing_new_issues_nothing(program, tmp_path):
    home = program["home"]
    before = sorted(p.name for p in (home / "confirmations").rglob("confirmation-*"))
    said: list[str] = []
    result = close(home / "data", home, None, progress=said.append)
    assert result.unchanged
    assert sorted(p.name for p in (home / "confirmations").rglob("confirmation-*")) == before
    assert any(line.startswith("buyers' confirmations:") and "none issued" in line for line in said), said
    # a buyer's folder lost (or a key made after the close): the next close issues what is missing
    b2 = party_folder(home / "confirmations", "B2")
    shutil.move(b2, tmp_path / "b2")
    said.clear()
    assert close(home / "data", home, None, progress=said.append).unchanged
    assert "buyers' confirmations: 1 new version(s) issued, 1 unchanged" in said
    assert _statement(home / "confirmations", "B2")["version"] == 1
