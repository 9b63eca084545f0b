"""The independent reference (``tests/reference_impl.py``, which reads the raw files itself)
agrees with every published table of a close, row by row: the hand-written boundary program
and the generated demo program."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from .reference_impl import compute

COLUMNS = {
    "worker_audit": "month, program_id, grower_id, period_start, period_end, worker_id, basis_value, entitled_cents, "
                    "funded_cents, paid_cents, variance_cents, upstream_shortfall_cents, status, late, overdue",
    "pool_audit": "month, program_id, grower_id, period_start, period_end, entitled_cents, funded_cents, "
                  "retained_cents, distributed_cents, paid_without_work_cents, undistributed_cents, eligible_workers, "
                  "due_date",
    "invoice_audit": "month, buyer_id, invoice_id, owed_cents, billed_cents, paid_by_buyer_cents, balance_cents, status",
    "pass_through_audit": "month, buyer_id, invoice_id, intermediary_id, received_cents, paid_on_cents, held_cents",
    "volume_handshake": "month, buyer_id, invoice_id, line_no, seller_id, buyer_quantity, buyer_unit, seller_quantity, "
                        "seller_unit, buyer_owed_cents, seller_owed_cents, status",
    "exceptions": "month, level, code, party_id, reference, worker_id, amount_cents",
    "quarantine": "file, row_number, code",
}


def published(home: Path, table: str) -> set[tuple]:
    with duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True) as con:
        return set(con.execute(f"SELECT {COLUMNS[table]} FROM {table}").fetchall())


def files(home: Path) -> dict:
    with duckdb.connect(str(home / "pennytrail.duckdb"), read_only=True) as con:
        return {f: (r, a, q) for f, r, a, q in con.execute(
            "SELECT file, rows_read, rows_accepted, rows_quarantined FROM ingest_log WHERE status <> 'duplicate'")
            .fetchall()}


@pytest.fixture(scope="module")
def boundary_reference(boundary_home):
    return compute(boundary_home / "data")


@pytest.fixture(scope="module")
def demo_reference(closed_demo, tmp_path_factory):
    """The reference over the demo's §3 twin: the same program with every sender's file in §3's
    own layout (the reference reads §3 only; the mapped files give the same rows, which
    test_senders_demo checks)."""
    from pennytrail.generator import generate

    data = tmp_path_factory.mktemp("demo-section-3") / "data"
    generate(data, seed=1, scale="demo", senders={})
    return compute(data)


def compare(ref: dict, home: Path, table: str) -> None:
    want, got = ref[table], published(home, table)
    missing, extra = sorted(want - got, key=repr)[:5], sorted(got - want, key=repr)[:5]
    assert not missing and not extra, f"{table}: the reference has {missing}, the close has {extra}"


@pytest.mark.parametrize("table", list(COLUMNS))
def test_reference_agrees_on_the_boundary_program(boundary_reference, boundary_home, table):
    compare(boundary_reference, boundary_home, table)


@pytest.mark.parametrize("table", list(COLUMNS))
def test_reference_agrees_on_the_demo_program(demo_reference, closed_demo, table):
    compare(demo_reference, closed_demo, table)


def test_reference_agrees_on_every_files_row_counts(boundary_reference, boundary_home, demo_reference, closed_demo):
    assert files(boundary_home) == boundary_reference["files"]
    with duckdb.connect(str(closed_demo / "pennytrail.duckdb"), read_only=True) as con:
        mapped = {f for (f,) in con.execute("SELECT file FROM ingest_log WHERE mapping IS NOT NULL").fetchall()}
    assert mapped
    assert {f: v for f, v in files(closed_demo).items() if f not in mapped} == \
        {f: v for f, v in demo_reference["files"].items() if f not in mapped}
