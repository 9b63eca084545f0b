"""Payment confirmations for buyers: a PDF, a CSV of the same lines and a signed JSON statement.

A buyer sees its own invoices of the month: volumes, premium owed and paid, what intermediaries
held, what reached each grower, and how the growers' pools that its premium fed were
distributed, as aggregates only. No worker id, name or crew is read into a confirmation: the
worker figures are counts and a percentage per grower, and where a grower's pools have fewer
than ``MIN_WORKERS`` eligible workers both are withheld, so that no single worker's pay can be
read off them.

The JSON statement is signed with Ed25519. The program's key pair is made in
``HOME/keys/`` on first use; the public key (``confirmation-ed25519.pub.pem``) is what a buyer
or an auditor verifies with. The signature covers the canonical JSON of ``statement`` (keys
sorted, no spaces, UTF-8), which carries the SHA-256 of the PDF and the CSV, so
``pennytrail verify`` also detects a changed PDF or CSV beside the statement.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import io
import json
import os
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb

from pennytrail.core.money import dollars
from pennytrail.core.publish import latest_signoff, month_status

from .render import csv_text

FORMAT = "pennytrail-confirmation/1"
MIN_WORKERS = 5
KEY_NAME = "confirmation-ed25519"
# Every column a buyer's CSV may have; a test holds the files to this list.
CSV_COLUMNS = [
    "month", "buyer_id", "invoice_id", "invoice_status", "invoice_owed_cents", "invoice_billed_cents",
    "invoice_paid_by_buyer_cents", "invoice_balance_cents", "invoice_held_by_intermediaries_cents", "grower_id",
    "grower_name",
    "commodity", "quantity", "unit", "owed_to_grower_cents", "received_by_grower_cents",
    "grower_workers_eligible", "grower_workers_paid", "grower_pct_funded_on_stubs",
]


class VerifyError(Exception):
    pass


def _pct(num: int, den: int) -> str | None:
    if den <= 0:
        return None
    return str((Decimal(num) * 100 / Decimal(den)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def gather(con: duckdb.DuckDBPyConnection, buyer: str, month: str) -> dict:
    """The statement's content for one buyer and month, from the published tables."""
    party = con.execute("SELECT name FROM ref_parties WHERE party_id = ? AND party_type = 'buyer'", [buyer]).fetchone()
    if party is None:
        raise LookupError(f"no buyer {buyer} in parties.csv")
    invoices = con.execute("""
        SELECT i.invoice_id, owed_cents, billed_cents, paid_by_buyer_cents, balance_cents, status,
               coalesce((SELECT sum(held_cents) FROM w_pass_through t WHERE t.buyer_id = i.buyer_id
                         AND t.invoice_id = i.invoice_id), 0)::BIGINT AS held
        FROM invoice_audit i WHERE buyer_id = ? AND month = ? ORDER BY invoice_id""", [buyer, month]).fetchall()
    if not invoices:
        raise LookupError(f"buyer {buyer} has no invoice in {month}, or the month has not been closed")
    lines = con.execute("""
        WITH inv AS (SELECT invoice_id FROM invoice_audit WHERE buyer_id = $b AND month = $m),
             vol AS (SELECT invoice_id, grower_id, string_agg(DISTINCT commodity, ', ' ORDER BY commodity) AS commodity,
                            sum(quantity) AS quantity, string_agg(DISTINCT unit, ', ' ORDER BY unit) AS unit
                     FROM w_lines WHERE buyer_id = $b AND invoice_id IN (SELECT invoice_id FROM inv) GROUP BY ALL)
        SELECT ig.invoice_id, ig.grower_id, p.name, v.commodity, v.quantity, v.unit, ig.owed_cents, ig.received_cents
        FROM w_invoice_grower ig
        JOIN vol v USING (invoice_id, grower_id)
        LEFT JOIN ref_parties p ON p.party_id = ig.grower_id
        WHERE ig.buyer_id = $b AND ig.invoice_id IN (SELECT invoice_id FROM inv)
        ORDER BY ig.invoice_id, ig.grower_id""", {"b": buyer, "m": month}).fetchall()
    # Each line of those invoices, and whether its seller's own report confirmed its volume.
    handshake = con.execute("""
        SELECT invoice_id, line_no, seller_id, status FROM w_volume_handshake
        WHERE buyer_id = $b AND invoice_id IN (SELECT invoice_id FROM invoice_audit WHERE buyer_id = $b AND month = $m)
        ORDER BY invoice_id, try_cast(line_no AS BIGINT) NULLS LAST, line_no""", {"b": buyer, "m": month}).fetchall()
    # Pools fed by the buyer's invoices of the month, per grower, as aggregates.
    dist = con.execute("""
        WITH pools AS (
            SELECT DISTINCT s.grower_id, s.work_period_start AS period_start FROM w_period_shares s
            JOIN invoice_audit i ON i.buyer_id = s.buyer_id AND i.invoice_id = s.invoice_id
            WHERE s.buyer_id = $b AND i.month = $m)
        SELECT p.grower_id, sum(pa.funded_cents)::BIGINT, sum(pa.distributed_cents)::BIGINT,
               (SELECT count(DISTINCT a.worker_id) FROM worker_audit a JOIN pools q USING (grower_id, period_start)
                WHERE a.grower_id = p.grower_id AND a.status <> 'PAID_WITHOUT_WORK') AS eligible,
               (SELECT count(DISTINCT a.worker_id) FROM worker_audit a JOIN pools q USING (grower_id, period_start)
                WHERE a.grower_id = p.grower_id AND a.status <> 'PAID_WITHOUT_WORK' AND a.paid_cents > 0) AS paid,
               count(pa.grower_id) AS closed_pools, count(*) AS pools
        FROM pools p LEFT JOIN pool_audit pa USING (grower_id, period_start)
        GROUP BY p.grower_id ORDER BY 1""", {"b": buyer, "m": month}).fetchall()
    growers = {}
    for g, funded, distributed, eligible, paid, closed, n in dist:
        shown = eligible >= MIN_WORKERS
        growers[g] = {
            "grower_id": g, "pools": n, "pools_closed": closed, "funded_cents": funded or 0,
            "distributed_cents": distributed or 0,
            "workers_eligible": eligible if shown else f"fewer than {MIN_WORKERS}",
            "workers_paid": paid if shown else None,
            "pct_funded_on_stubs": _pct(distributed or 0, funded or 0) if shown else None,
        }
    signed = latest_signoff(con, month)
    totals = {
        "owed_cents": sum(r[1] for r in invoices),
        "paid_by_buyer_cents": sum(r[3] for r in invoices),
        "balance_cents": sum(r[4] for r in invoices),
        "held_by_intermediaries_cents": sum(r[6] for r in invoices),
        "received_by_growers_cents": sum(r[7] for r in lines),
    }
    return {
        "format": FORMAT, "buyer_id": buyer, "buyer_name": party[0], "month": month,
        "month_status": month_status(con, month),
        "month_signed_at": signed[1].strftime("%Y-%m-%dT%H:%M:%SZ") if signed else None,
        "invoices": [dict(zip(["invoice_id", "owed_cents", "billed_cents", "paid_by_buyer_cents", "balance_cents",
                               "status", "held_by_intermediaries_cents"], r)) for r in invoices],
        "grower_lines": [{"invoice_id": r[0], "grower_id": r[1], "grower_name": r[2], "commodity": r[3],
                          "quantity": str(r[4]), "unit": r[5], "owed_to_grower_cents": r[6],
                          "received_by_grower_cents": r[7]} for r in lines],
        "distribution": list(growers.values()),
        "invoice_lines": [{"invoice_id": i, "line_no": n, "seller_id": s, "handshake": st,
                           "seller_confirmed": st == "CONFIRMED"} for i, n, s, st in handshake],
        "totals": totals,
    }


def csv_bytes(content: dict) -> bytes:
    inv = {i["invoice_id"]: i for i in content["invoices"]}
    dist = {d["grower_id"]: d for d in content["distribution"]}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for line in content["grower_lines"]:
        i, d = inv[line["invoice_id"]], dist.get(line["grower_id"], {})
        values = [content["month"], content["buyer_id"], i["invoice_id"], i["status"], i["owed_cents"],
                  i["billed_cents"], i["paid_by_buyer_cents"], i["balance_cents"], i["held_by_intermediaries_cents"],
                  line["grower_id"], line["grower_name"], line["commodity"], line["quantity"], line["unit"],
                  line["owed_to_grower_cents"], line["received_by_grower_cents"],
                  d.get("workers_eligible"), d.get("workers_paid"), d.get("pct_funded_on_stubs")]
        w.writerow(["" if v is None else csv_text(v) for v in values])
    return buf.getvalue().encode("utf-8")


def _latin1(text: object) -> str:
    """The PDF's core fonts hold Latin-1; other characters are shown as '?'."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


def pdf_bytes(content: dict, issued_at: dt.datetime) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", format="Letter")
    pdf.set_creation_date(issued_at)
    pdf.set_title(f"Premium payment confirmation {content['buyer_id']} {content['month']}")
    pdf.set_author("pennytrail")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 9, _latin1(f"Premium payment confirmation: {content['buyer_name']} ({content['buyer_id']}), "
                           f"{content['month']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    status = {"open": "not yet signed off", "signed": "signed off",
              "needs re-sign-off": "changed since sign-off; awaiting a new sign-off"}[content["month_status"]]
    pdf.multi_cell(0, 5, _latin1(
        f"Issued {issued_at:%Y-%m-%d %H:%M} UTC. The month's close is {status}. "
        "Amounts are the program premium in dollars. A signed statement of the same figures "
        f"(confirmation-{content['month']}.json) accompanies this document."), new_x="LMARGIN", new_y="NEXT")
    t = content["totals"]
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "Summary", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for label, key in [("Premium owed", "owed_cents"), ("Premium paid", "paid_by_buyer_cents"),
                       ("Balance (owed - paid)", "balance_cents"),
                       ("Held by intermediaries", "held_by_intermediaries_cents"),
                       ("Received by growers", "received_by_growers_cents")]:
        pdf.cell(70, 6, label)
        pdf.cell(40, 6, dollars(t[key]), align="R", new_x="LMARGIN", new_y="NEXT")

    def table(title: str, heads: list[str], widths: list[int], rows: list[list[str]], right: set[int]) -> None:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "B", 8)
        pdf.set_fill_color(220, 228, 240)
        for i, (h, w) in enumerate(zip(heads, widths)):
            pdf.cell(w, 6, h, border=1, fill=True, align="R" if i in right else "L")
        pdf.ln()
        pdf.set_font("Helvetica", "", 8)
        for row in rows:
            for i, (v, w) in enumerate(zip(row, widths)):
                pdf.cell(w, 5, _latin1(v)[:60], border=1, align="R" if i in right else "L")
            pdf.ln()

    table("Invoices", ["Invoice", "Owed", "Billed", "Paid", "Balance", "Held by intermediaries", "Status"],
          [45, 32, 32, 32, 32, 42, 40],
          [[i["invoice_id"], dollars(i["owed_cents"]),
            dollars(i["billed_cents"]) if i["billed_cents"] is not None else "-", dollars(i["paid_by_buyer_cents"]),
            dollars(i["balance_cents"]), dollars(i["held_by_intermediaries_cents"]), i["status"]]
           for i in content["invoices"]], {1, 2, 3, 4, 5})
    table("What reached each grower", ["Invoice", "Grower", "Commodity", "Volume", "Owed to grower", "Received"],
          [45, 65, 35, 40, 35, 35],
          [[g["invoice_id"], f"{g['grower_name']} ({g['grower_id']})", g["commodity"], f"{g['quantity']} {g['unit']}",
            dollars(g["owed_to_grower_cents"]), dollars(g["received_by_grower_cents"])]
           for g in content["grower_lines"]], {3, 4, 5})
    table("Invoice lines: did the seller's own report confirm the volume?",
          ["Invoice", "Line", "Seller", "Seller confirmed", "Handshake"], [45, 20, 35, 35, 45],
          [[h["invoice_id"], h["line_no"], h["seller_id"], "yes" if h["seller_confirmed"] else "no", h["handshake"]]
           for h in content["invoice_lines"]], set())
    table("Distribution to workers (aggregates of the growers' pools your premium fed)",
          ["Grower", "Pools", "Funded", "Distributed", "Workers eligible", "Workers paid", "Funded premium on stubs"],
          [40, 20, 35, 35, 40, 35, 50],
          [[d["grower_id"], f"{d['pools_closed']} of {d['pools']} closed", dollars(d["funded_cents"]),
            dollars(d["distributed_cents"]), str(d["workers_eligible"]),
            "-" if d["workers_paid"] is None else str(d["workers_paid"]),
            "-" if d["pct_funded_on_stubs"] is None else f"{d['pct_funded_on_stubs']}%"]
           for d in content["distribution"]], {1, 2, 3, 4, 5, 6})
    pdf.ln(3)
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(0, 4, _latin1(
        "Pools also hold other buyers' premium; their figures are for the whole pool. Worker figures are "
        f"withheld where a grower's pools have fewer than {MIN_WORKERS} eligible workers. "
        "This confirmation holds no worker's personal data."))
    return bytes(pdf.output())


# --- signing ----------------------------------------------------------------------------------

def canonical(statement: dict) -> bytes:
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def key_paths(home: Path) -> tuple[Path, Path]:
    keys = home / "keys"
    return keys / f"{KEY_NAME}.pem", keys / f"{KEY_NAME}.pub.pem"


def load_or_create_key(home: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private, public = key_paths(home)
    if private.exists():
        return serialization.load_pem_private_key(private.read_bytes(), password=None)
    key = Ed25519PrivateKey.generate()
    private.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return key


def key_id(public_key) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass
class Confirmation:
    pdf: Path
    csv: Path
    statement: Path


def confirm(con: duckdb.DuckDBPyConnection, home: Path, buyer: str, month: str) -> Confirmation:
    """Write the buyer's PDF, CSV and signed statement for the month into HOME/confirmations/BUYER/."""
    content = gather(con, buyer, month)
    key = load_or_create_key(home)
    issued = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    folder = home / "confirmations" / buyer
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"confirmation-{month}"
    files = {"pdf": (folder / f"{stem}.pdf", pdf_bytes(content, issued)), "csv": (folder / f"{stem}.csv",
                                                                                 csv_bytes(content))}
    statement = {**content, "issued_at": issued.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "files": {k: {"name": p.name, "sha256": hashlib.sha256(b).hexdigest()} for k, (p, b) in files.items()}}
    signature = {"algorithm": "Ed25519", "key_id": key_id(key.public_key()),
                 "value": base64.b64encode(key.sign(canonical(statement))).decode("ascii")}
    files["json"] = (folder / f"{stem}.json",
                     (json.dumps({"statement": statement, "signature": signature}, indent=2, ensure_ascii=False)
                      + "\n").encode("utf-8"))
    for path, data in files.values():
        tmp = path.with_name(path.name + ".partial")
        tmp.write_bytes(data)
        tmp.replace(path)
    return Confirmation(files["pdf"][0], files["csv"][0], files["json"][0])


def verify(path: Path, public_key_file: Path | None = None) -> list[tuple[str, bool, str]]:
    """Check a statement; return (what, passed, detail) for each thing checked.

    The public key comes from ``public_key_file`` or, for a statement in its home's
    ``confirmations/BUYER/`` folder, from that home's ``keys/``.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        statement, signature = doc["statement"], doc["signature"]
        value = base64.b64decode(signature["value"], validate=True)
    except FileNotFoundError:
        raise
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise VerifyError(f"{path} is not a pennytrail statement: {e.__class__.__name__}: {e}") from None
    if public_key_file is None:
        public_key_file = key_paths(path.resolve().parent.parent.parent)[1]
        if not public_key_file.exists():
            raise VerifyError(f"no public key given and none at {public_key_file}: pass --public-key FILE")
    try:
        public = serialization.load_pem_public_key(public_key_file.read_bytes())
    except ValueError as e:
        raise VerifyError(f"{public_key_file} is not a PEM public key: {e}") from None
    results = []
    if signature.get("algorithm") != "Ed25519":
        results.append(("algorithm", False, f"the statement says {signature.get('algorithm')!r}, expected Ed25519"))
    kid = key_id(public)
    if signature.get("key_id") != kid:
        results.append(("key", False, f"signed with key {signature.get('key_id')}, but the key given is {kid}"))
    try:
        public.verify(value, canonical(statement))
        results.append(("signature", True, f"valid for key {kid[:16]}…"))
    except InvalidSignature:
        results.append(("signature", False, "does not match the statement: its content was changed after signing, "
                                            "or it was signed with another key"))
    for kind, meta in sorted(statement.get("files", {}).items()):
        companion = path.parent / meta["name"]
        if not companion.exists():
            results.append((meta["name"], False, "not found beside the statement"))
            continue
        actual = hashlib.sha256(companion.read_bytes()).hexdigest()
        if actual == meta["sha256"]:
            results.append((meta["name"], True, "matches the signed SHA-256"))
        else:
            results.append((meta["name"], False, f"changed since signing: SHA-256 {actual}, signed {meta['sha256']}"))
    return results
