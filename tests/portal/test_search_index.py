"""The worker index of a snapshot: names match without regard to accents, case or spacing, ids
exactly or by their start; and a newly published snapshot gets an index of its own."""

from __future__ import annotations

import shutil

import duckdb

from pennytrail.app import browse, portal_db, snapshots
from pennytrail.web.app import Config, create_app

from .conftest import sign_in


def entry(grower: str, worker: str, *names: str) -> browse.WorkerEntry:
    keys = tuple(dict.fromkeys(browse.name_key(n) for n in names))
    return browse.WorkerEntry(grower, worker, names, keys, browse.id_key(worker))


INDEX = browse.WorkerIndex([
    entry("G1", "W-001", "José  Morales"),
    entry("G1", "W-002", "Ana María Nuñez", "Ana Nunez"),
    entry("G2", "W-010", "Zoë Ångström"),
    entry("G2", "W-0100", "Luis Pérez"),
])


def found(q: str) -> list[tuple[str, str]]:
    return [(e.grower_id, e.worker_id) for e in INDEX.search(q)]


def test_a_name_typed_plainly_with_other_spacing_and_case_finds_the_accented_name():
    assert found("  JOSE   morales ") == [("G1", "W-001")]
    assert found("zoe angstrom") == [("G2", "W-010")]
    assert found("ANA MARIA NUNEZ") == [("G1", "W-002")]
    assert found("ÁNA maría") == [("G1", "W-002")]  # part of a name, accents typed where there were none


def test_ids_match_exactly_or_by_their_start_and_the_exact_one_comes_first():
    assert found("w-0100") == [("G2", "W-0100")]
    assert found("W-010") == [("G2", "W-010"), ("G2", "W-0100")]
    assert found("W-00") == [("G1", "W-001"), ("G1", "W-002")]
    assert found("nobody") == [] and found("   ") == []


def test_a_part_of_a_name_finds_each_worker_once_and_the_limit_holds():
    assert found("nunez") == [("G1", "W-002")]  # two of its names hold it
    assert found("e") and len(INDEX.search("e", limit=2)) == 2
    assert INDEX.entry("G1", "W-002").names == ("Ana María Nuñez", "Ana Nunez")
    assert INDEX.entry("G2", "W-002") is None


def test_a_new_snapshot_gets_a_new_index(portal_home, tmp_path):
    source, passwords = portal_home
    home = tmp_path / "home"
    shutil.copytree(source, home, ignore=shutil.ignore_patterns("dagster", "published", "*.log"))
    snapshots.publish(home)
    app = create_app(Config(home))
    c = sign_in(app, "monitor", passwords["monitor"])
    assert "NEW-WORKER-1" not in c.get("/workers", params={"q": "renee lestrange"}).text

    con = duckdb.connect(str(snapshots.warehouse_path(home)))
    try:
        g, p, end = con.execute("SELECT grower_id, period_start, period_end FROM payroll_rows "
                                "ORDER BY 1, 2 LIMIT 1").fetchone()
        # a worker the new snapshot publishes: a payroll row of a published file, and an audited period
        seq = con.execute("SELECT max(file_seq) FROM payroll_rows").fetchone()[0]
        con.execute("INSERT INTO payroll_rows (file_seq, file, row_number, grower_id, worker_id, worker_name, "
                    "period_start, premium_period_start, period_end) VALUES (?, 'added.csv', 2, ?, "
                    "'NEW-WORKER-1', 'Renée  Lestrange', ?, ?, ?)", [seq, g, p, p, end])
        con.execute("INSERT INTO worker_audit SELECT * REPLACE ('NEW-WORKER-1' AS worker_id) FROM worker_audit "
                    "WHERE grower_id = ? AND period_start = ? LIMIT 1", [g, p])
        snapshots.publish(home, con)
    finally:
        con.close()
    html = c.get("/workers", params={"q": "RENEE lestrange"}).text
    assert f'href="/workers/{g}/NEW-WORKER-1"' in html and "Renée  Lestrange" in html
    assert c.get(f"/workers/{g}/NEW-WORKER-1").status_code == 200
    entries = portal_db.audit_log(home, actor="monitor@example.org", action="search workers")
    assert "RENEE lestrange" in entries[0]["detail"] and "1 found" in entries[0]["detail"]
