"""What each reader receives: buyers' statements that add up and leak no worker's pay, files that
stay where they belong, keys and verification a reader can trust offline, and sign-offs."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from pennytrail.app import months, signoff
from pennytrail.cli import main
from pennytrail.core import confirmations, keys, statement as st
from pennytrail.core.paths import party_folder, party_folder_name
from pennytrail.app import UserError, close
from reports.confirmations import issue, issue_month

from .conftest import write

UNICODE_NAME = "Granja Tomás Núñez — Łódź “Żabka”"
FORGER = "../../x"

REFERENCE = {
    "programs.csv": """\
        program_id,name,currency,allocation_basis,grower_retention_pct,distribution_deadline_days,period_days,period_anchor
        FFP,Tomatoes,USD,units,0,14,7,2026-01-05
        """,
    "parties.csv": f"""\
        party_id,party_type,name,program_id
        B1,buyer,Buyer One,
        B1/../B2,buyer,Buyer Two,
        {FORGER},buyer,Dot Dot Buyer,
        b1,buyer,Lower Buyer,
        R1,intermediary,Repacker,
        G1,grower,One Worker Farm,FFP
        G2,grower,Two Worker Farm,FFP
        G4,grower,Four Worker Farm,FFP
        G6,grower,"{UNICODE_NAME.replace('"', '""')}",FFP
        """,
    "rates.csv": """\
        program_id,commodity,rate,rate_unit,effective_from,effective_to
        FFP,tomatoes,0.01,lb,2020-01-01,
        """,
    "units.csv": """\
        unit,base_unit,factor
        lb,lb,1
        box_25lb,lb,25
        """,
}
# grower -> the premium each of its workers is paid (cents) in the week of 2026-01-05
PAID = {"G1": [950], "G2": [800, 1100], "G4": [910, 920, 930, 940], "G6": [800] * 6}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> Path:
    """Growers of 1, 2, 4 and 6 workers, two buyers sharing G1's pool, an intermediary that holds
    $10.00, hostile buyer ids, and a buyer that only pays (in February) on an unreported invoice."""
    home = tmp_path_factory.mktemp("readers")
    data = home / "data"
    for name, text in REFERENCE.items():
        write(data / "reference" / name, text)
    purchases = ["buyer_id,invoice_id,line_no,ship_date,harvest_date,seller_id,grower_id,commodity,quantity,unit,"
                 "premium_billed"]
    payments = ["payment_id,line_no,payer_id,payee_id,paid_date,buyer_id,invoice_id,amount"]
    for g, pays in PAID.items():
        lbs = {"G1": 1000, "G2": 2000, "G4": 4000, "G6": 6000}[g]
        purchases.append(f"B1,I-{g},1,2026-01-07,,{g},{g},tomatoes,{lbs},lb,")
        if g == "G6":
            payments += [f"P-{g},1,B1,R1,2026-01-12,B1,I-{g},60.00", f"P-{g}R,1,R1,{g},2026-01-13,B1,I-{g},50.00"]
        else:
            payments.append(f"P-{g},1,B1,{g},2026-01-12,B1,I-{g},{lbs / 100:.2f}")
    purchases.append('"B1/../B2",J-1,1,2026-01-08,,G1,G1,tomatoes,500,lb,')
    payments.append('P-J,1,"B1/../B2",G1,2026-01-12,"B1/../B2",J-1,5.00')
    purchases.append(f'"{FORGER}",K-1,1,2026-01-08,,G6,G6,tomatoes,100,box_25lb,')
    payments.append(f'P-K,1,"{FORGER}",G6,2026-01-12,"{FORGER}",K-1,25.00')
    payments.append("P-L,1,b1,G2,2026-02-03,b1,NOT-REPORTED,7.00")
    write(data / "inbox/purchases/all.csv", "\n".join(purchases) + "\n")
    write(data / "inbox/payments/all.csv", "\n".join(payments) + "\n")
    payroll = ["grower_id,worker_id,period_start,premium_period_start,worker_name,crew_id,period_end,pay_date,"
               "hours,units,gross_wages,premium_paid"]
    for g, pays in PAID.items():
        for i, cents in enumerate(pays):
            payroll.append(f"{g},{g}-W{i},2026-01-05,,Worker {g} {i},,2026-01-11,2026-01-16,40,100,90.00,"
                           f"{cents // 100}.{cents % 100:02d}")
    write(data / "inbox/payroll/all.csv", "\n".join(payroll) + "\n")
    close(data, home, None, progress=lambda m: None)
    keys.create(home)
    with duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True) as con:
        for month in ("2026-01", "2026-02"):
            issue_month(con, home, month)
    return home


def _statements(home: Path) -> list[tuple[dict, Path]]:
    out = []
    for p in sorted((home / "confirmations").rglob("*.json")):
        out.append((st.parse(p.read_bytes())[0], p))
    return out


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


# --- privacy ------------------------------------------------------------------------------------

def test_pools_below_five_workers_show_no_worker_figure(scenario):
    pools = {}
    for s, _ in _statements(scenario):
        for p in s["pools"]:
            pools.setdefault(p["grower_id"], []).append(p)
    for g in ("G1", "G2", "G4"):
        for p in pools[g]:
            assert p["workers_eligible"] is None and p["workers_paid"] is None and p["pct_funded_on_stubs"] is None
    assert all(p["workers_eligible"] == 6 and p["pct_funded_on_stubs"] is not None for p in pools["G6"])


def _amounts(doc) -> set[int]:
    if isinstance(doc, dict):
        return set().union(*(_amounts(v) if not k.endswith("_cents") or not isinstance(v, int) else {v}
                             for k, v in doc.items())) if doc else set()
    if isinstance(doc, list):
        return set().union(*map(_amounts, doc)) if doc else set()
    return set()


def test_no_worker_pay_follows_from_any_figure_or_difference_of_figures(scenario):
    """The attack: take every amount a buyer can read, in all buyers' statements of the month, and
    every difference of two (a total less what is shown): none is a hidden worker's pay or a hidden
    pool's total pay."""
    secrets = {c for g in ("G1", "G2", "G4") for c in PAID[g]} | {sum(PAID[g]) for g in ("G1", "G2", "G4")}
    docs = [s for s, _ in _statements(scenario) if s["month"] == "2026-01"]
    amounts = set().union(*map(_amounts, docs))
    differences = {abs(a - b) for a in amounts for b in amounts}
    assert not (amounts | differences) & secrets, (amounts | differences) & secrets
    for _, path in _statements(scenario):
        for f in ("pdf", "csv"):
            text = path.with_suffix(f".{f}").read_text("latin-1") if f == "csv" else _pdf_text(path.with_suffix(".pdf"))
            for cents in secrets:
                assert f"${cents // 100}.{cents % 100:02d}" not in text and f",{cents}," not in text, (path, cents)


# --- paths --------------------------------------------------------------------------------------

@pytest.mark.parametrize("party", ["../../x", "/abs/path", "B01/../B02", "CON", "nul", ".", "..", "", "B01\x00",
                                   "Ünïcødé", "a" * 300, "B01 ", "é", "e\u0301"])
def test_party_folders_stay_inside_and_are_plain(tmp_path, party):
    folder = party_folder(tmp_path, party)
    assert folder.parent == tmp_path and re.fullmatch(r"[a-z0-9_-]{1,32}-[0-9a-f]{16}", folder.name)
    assert folder.name.split("-")[0].upper() not in {"CON", "NUL", "PRN", "AUX"} or "-" in folder.name


def test_party_folders_never_collide_even_without_case():
    ids = ["B01", "b01", "B01/../B02", "B01_..B02", "B02", "é", "e\u0301", "../../x", "..__x"]
    names = [party_folder_name(i).lower() for i in ids]
    assert len(set(names)) == len(ids)


def test_hostile_buyer_ids_write_inside_their_own_folders(scenario):
    home = scenario
    inside = (home / "confirmations").resolve()
    for p in home.rglob("*"):
        assert not p.is_symlink()
    assert not (home.parent / "x").exists() and not (home / "x").exists()
    buyers = {s["buyer_id"]: path.parent for s, path in _statements(home)}
    assert {"B1", "B1/../B2", FORGER, "b1"} <= set(buyers)
    assert len(set(buyers.values())) == len(buyers)
    assert all(f.resolve().parent == inside for f in buyers.values())


# --- statements ---------------------------------------------------------------------------------

def test_statement_says_what_was_paid_held_and_received_in_plain_words(scenario):
    s = next(s for s, _ in _statements(scenario) if s["buyer_id"] == "B1" and s["month"] == "2026-01")
    inv = {i["invoice_id"]: i for i in s["invoices"]}
    assert inv["I-G6"]["status"] == "OK" and inv["I-G6"]["held_by_intermediaries_cents"] == 1000
    assert "$10.00 is held by an intermediary and has not reached the growers" in inv["I-G6"]["what_happened"]
    assert inv["I-G1"]["what_happened"] == "Paid in full; all of what you paid reached the growers."
    assert s["intermediaries"] == [{"invoice_id": "I-G6", "intermediary_id": "R1", "intermediary_name": "Repacker",
                                    "received_cents": 6000, "paid_on_cents": 5000, "held_cents": 1000}]
    t = s["totals"]
    assert t["paid_by_buyer_cents"] == t["received_by_growers_cents"] + t["held_by_intermediaries_cents"]
    text = _pdf_text(scenario / "confirmations" / party_folder_name("B1") / "confirmation-2026-01-v1.pdf")
    assert "is held by an intermediary" in text and "Page 1 of" in text and "pounds" in text
    assert s["key_fingerprint"][7:23] in text.replace(" ", "")


def test_pdf_prints_every_latin_name_as_written(scenario):
    path = next(p for s, p in _statements(scenario) if s["buyer_id"] == "B1" and s["month"] == "2026-01")
    assert UNICODE_NAME in _pdf_text(path.with_suffix(".pdf"))
    assert UNICODE_NAME in path.read_text(encoding="utf-8")


def test_nil_statement_for_a_month_with_payments_but_no_invoices(scenario):
    s = next(s for s, _ in _statements(scenario) if s["buyer_id"] == "b1")
    assert s["kind"] == "nil" and s["month"] == "2026-02" and not s["invoices"]
    assert [p["amount_cents"] for p in s["payments_made_this_month"]] == [700]
    assert s["payments_made_this_month"][0]["invoice_month"] is None


def test_same_figures_issue_nothing_new_and_a_change_issues_a_superseding_version(scenario, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(scenario, home, ignore=shutil.ignore_patterns("dagster"))
    folder = home / "confirmations" / party_folder_name("B1")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True) as con:
        again = issue(con, home, "B1", "2026-01")
    assert not again.new and again.version == 1
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    with duckdb.connect(str(home / "pennytrail.duckdb")) as con:  # a republished figure
        con.execute("UPDATE invoice_audit SET paid_by_buyer_cents = paid_by_buyer_cents - 1, "
                    "balance_cents = balance_cents + 1 WHERE invoice_id = 'I-G1'")
    with duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True) as con:  # issued at 10:30 in UTC+1
        new = issue(con, home, "B1", "2026-01", now=dt.datetime(
            2026, 2, 3, 10, 30, 15, 999, tzinfo=dt.timezone(dt.timedelta(hours=1))))
    assert new.new and new.version == 2
    s = st.parse(new.statement.read_bytes())[0]
    assert s["issued_at"] == "2026-02-03T09:30:15Z"
    v1 = folder / "confirmation-2026-01-v1.json"
    assert s["supersedes"] == {"version": 1, "file": v1.name, "sha256": hashlib.sha256(v1.read_bytes()).hexdigest()}
    assert s["changes"] == ["Invoice I-G1: paid by you $10.00 → $9.99; still owed $0.00 → $0.01.",
                            "Totals of the month: paid by you $130.00 → $129.99; still owed $0.00 → $0.01."]
    assert not any("_cents" in c or "_" in c.replace("I-G1", "") for c in s["changes"]), s["changes"]
    assert v1.read_bytes() == before[v1.name]  # the old version stays as it was
    checks, notes = confirmations.verify_file(v1, keys.load_public_keys(
        keys.key_paths(home)[1].read_bytes(), "key"))
    assert st.passed(checks) and notes and "superseded" in notes[0]


def test_unclosed_month_cannot_be_confirmed(scenario):
    with duckdb.connect(str(scenario / "pennytrail.duckdb"), read_only=True) as con:
        with pytest.raises(confirmations.NotConfirmable, match="2026-05 has not been closed"):
            confirmations.figures(con, "B1", "2026-05")


# --- keys and verification ----------------------------------------------------------------------

def _signed(statement: dict, private) -> bytes:
    from cryptography.hazmat.primitives import serialization

    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    sig = {"algorithm": "Ed25519", "key_fingerprint": st.fingerprint(raw),
           "value": base64.b64encode(private.sign(st.canonical(statement))).decode()}
    return json.dumps({"statement": statement, "signature": sig}).encode()


def test_a_forged_bundle_with_its_own_key_is_rejected(scenario, tmp_path, capsys):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    real = scenario / "confirmations" / party_folder_name("B1") / "confirmation-2026-01-v1.json"
    forged = tmp_path / "forged"
    shutil.copytree(real.parent, forged)
    doc = json.loads(real.read_text())
    doc["statement"]["totals"]["paid_by_buyer_cents"] += 100_000
    attacker = Ed25519PrivateKey.generate()
    doc["statement"]["key_fingerprint"] = keys.fingerprint_of(attacker.public_key())
    (forged / real.name).write_bytes(_signed(doc["statement"], attacker))
    (forged / "confirmation-ed25519.pub.pem").write_bytes(keys.public_pem(attacker.public_key()))
    keys_dir = forged.parent / "keys"
    keys_dir.mkdir()
    (keys_dir / "confirmation-ed25519.pub.pem").write_bytes(keys.public_pem(attacker.public_key()))
    real_key = str(keys.key_paths(scenario)[1])
    assert main(["verify", str(forged / real.name), "--public-key", real_key]) == 1
    out = capsys.readouterr().out
    assert "FAIL  key: signed with key" in out and "not a key you trust" in out and "NOT verified" in out
    # without a key the reader chose, nothing beside the file is used
    assert main(["verify", str(forged / real.name), "--trust-list", str(tmp_path / "none.pem")]) == 1
    err = capsys.readouterr().err.strip()
    assert "no key to verify against" in err and len(err.splitlines()) == 1


def test_duplicate_and_unsigned_members_are_rejected(scenario):
    real = scenario / "confirmations" / party_folder_name("B1") / "confirmation-2026-01-v1.json"
    data = real.read_bytes()
    trusted = keys.verifiers(keys.load_public_keys(keys.key_paths(scenario)[1].read_bytes(), "k"))
    comp = {p.name: p.read_bytes() for p in real.parent.iterdir()}.get
    assert st.passed(st.verify(data, trusted, comp))
    dup = data.replace(b'"paid_by_buyer_cents": ', b'"paid_by_buyer_cents": 1, "paid_by_buyer_cents": ', 1)
    checks = st.verify(dup, trusted, comp)
    assert not st.passed(checks) and "appears twice" in checks[0].detail
    doc = json.loads(data)
    doc["note"] = "trust me"
    checks = st.verify(json.dumps(doc).encode(), trusted, comp)
    assert checks[0].part == "statement file" and "unsigned members beside them: note" in checks[0].detail
    doc = json.loads(data)
    doc["signature"]["comment"] = "x"
    assert not st.passed(st.verify(json.dumps(doc).encode(), trusted, comp))
    doc = json.loads(data)
    doc["statement"]["files"]["pdf"]["name"] = "../../etc/passwd"
    checks = st.verify(_signed(doc["statement"], keys.load_signing_key(scenario)), trusted, comp)
    assert any(c.part == "pdf" and not c.passed and "not a confirmation file name" in c.detail for c in checks)
    assert not st.passed(st.verify(data.replace(b"}", b"}", 1) + b"\n{}", trusted, comp))


def test_key_is_created_once_and_a_missing_key_is_one_line(tmp_path, capsys, scenario):
    home = tmp_path / "h"
    assert main(["keys", "create", "--home", str(home)]) == 0
    fp = keys.show(home).fingerprint
    assert fp in capsys.readouterr().out
    assert main(["keys", "create", "--home", str(home)]) == 1
    assert "already exists" in capsys.readouterr().err and keys.show(home).fingerprint == fp
    other = tmp_path / "other"
    shutil.copytree(scenario, other, ignore=shutil.ignore_patterns("dagster", "keys", "confirmations"))
    assert main(["confirm", "--home", str(other), "--buyer", "B1", "--month", "2026-01"]) == 1
    err = capsys.readouterr().err.strip()
    assert "no signing key" in err and "keys create" in err and len(err.splitlines()) == 1
    assert not (other / "keys").exists()


def test_trust_list_is_the_readers_own(scenario, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PENNYTRAIL_TRUST", str(tmp_path / "trusted.pem"))
    real = scenario / "confirmations" / party_folder_name("B1") / "confirmation-2026-01-v1.json"
    assert main(["verify", str(real)]) == 1 and "no key to verify against" in capsys.readouterr().err
    assert main(["keys", "trust", "--public-key", str(keys.key_paths(scenario)[1])]) == 0
    assert main(["verify", str(real)]) == 0 and capsys.readouterr().out.rstrip().endswith("verified")


# --- sign-off and months ------------------------------------------------------------------------

def test_signoff_rules(scenario, tmp_path, capsys):
    home = tmp_path / "home"
    shutil.copytree(scenario, home, ignore=shutil.ignore_patterns("dagster"))
    for bad in ["A. Accountant\n2026-02 signed", "Eve\x1b[2J", "Mallory\u202e", "  ", "x" * 201]:
        with pytest.raises(signoff.SignoffRefused):
            signoff.sign(home, "2026-01", bad)
    done = signoff.sign(home, "2026-01", "A. Accountant")
    assert done["open_exceptions"] >= 1 and any(c == "PASS_THROUGH_SHORTFALL" for c, _, _ in done["exceptions"])
    with pytest.raises(signoff.SignoffRefused, match="already signed off with these figures"):
        signoff.sign(home, "2026-01", "B. Other")
    with pytest.raises(signoff.SignoffRefused, match="has not been closed"):
        signoff.sign(home, "2031-01", "A. Accountant")
    assert main(["signoff", "--home", str(home), "--month", "2026-01", "--by", "C. Chief", "--revoke"]) == 1
    assert "--reason" in capsys.readouterr().err
    assert main(["signoff", "--home", str(home), "--month", "2026-01", "--by", "C. Chief", "--revoke",
                 "--reason", "the repacker's statement arrived late"]) == 0
    rows = signoff.history(home, "2026-01")
    assert len(rows) == 1 and rows[0]["revoked_by"] == "C. Chief" and rows[0]["open_exceptions"] >= 1
    states = {m.month: m for m in months.list_months(home)}
    assert states["2026-01"].state == "open" and "revoked by C. Chief" in states["2026-01"].detail
    assert main(["signoff", "--home", str(home), "--month", "2026-01", "--by", "A. Accountant"]) == 0
    out = capsys.readouterr().out
    assert "open exception" in out and "PASS_THROUGH_SHORTFALL" in out
    assert main(["months", "--home", str(home)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^2026-01\s+signed\s+signed off by A\. Accountant", out, re.M) and "2026-02" in out


def test_closing_a_month_without_data_is_refused_and_names_the_months_with_data(scenario, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(scenario, home, ignore=shutil.ignore_patterns("dagster"))
    with pytest.raises(UserError, match=r"no data for 2030-01.*months with data: 2026-01, 2026-02"):
        close(home / "data", home, ["2030-01"], progress=lambda m: None)
    assert [m.month for m in months.list_months(home)] == ["2026-01", "2026-02"]


def test_dagster_partitions_are_months_from_the_first_month_with_data(scenario):
    import os
    import subprocess
    import sys

    assert (scenario / "dagster" / "first-month.txt").read_text() == "2026-01\n"
    env = {**os.environ, "PENNYTRAIL_HOME": str(scenario), "DAGSTER_HOME": str(scenario / "dagster"),
           "PENNYTRAIL_DATA": str(scenario / "data")}
    done = subprocess.run([sys.executable, "-c", "from pipelines.definitions import defs; "
                           "print(defs.resolve_job_def('publish_month').partitions_def.get_partition_keys()[:2])"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['2026-01', '2026-02']"
