"""The demo's senders keep their own layouts: the close gives the same audit as their §3 files,
and shows the sender's file, row and header where a row stops."""

from __future__ import annotations

import json

import duckdb

from pennytrail.app import close
from pennytrail.generator import DEMO_SENDERS, generate

from .test_end_to_end import con_of, snapshot

AUDIT = ["worker_audit", "pool_audit", "invoice_audit", "pass_through_audit", "volume_handshake", "exceptions",
         "quarantine"]


def test_the_demo_has_senders_in_every_shape_with_their_profiles(demo_data):
    key = json.loads((demo_data / "answer_key.json").read_text())
    assert key["senders"] == dict(sorted(DEMO_SENDERS.items()))
    assert sorted(set(DEMO_SENDERS.values())) == ["edi810", "lines", "pairs", "report", "spanish"]
    assert len(list((demo_data / "reference/mappings").glob("*.yaml"))) == len(DEMO_SENDERS)


def test_mapped_senders_give_the_same_audit_as_their_section_3_files(closed_demo, tmp_path):
    data = tmp_path / "data"
    generate(data, seed=1, scale="demo", senders={})
    close(data, tmp_path, None, progress=lambda m: None)
    a, b = snapshot(closed_demo), snapshot(tmp_path)
    for t in AUDIT:
        assert a[t] == b[t], t
    with con_of(closed_demo) as con:
        log = con.execute("SELECT mapping, count(*), sum(rows_accepted), sum(rows_skipped) FROM ingest_log "
                          "WHERE mapping IS NOT NULL GROUP BY ALL ORDER BY 1").fetchall()
        assert [m for m, *_ in log] == sorted(f"{p.lower()}-{s}.yaml" for p, s in DEMO_SENDERS.items())
        assert all(n > 0 and accepted > 0 for _, n, accepted, _ in log)
        assert dict((m, skipped) for m, _, _, skipped in log)["t903-report.yaml"] > 0
        assert con.execute("SELECT count(*) FROM ingest_log WHERE rows_read <> rows_accepted + rows_quarantined "
                           "+ rows_skipped").fetchone()[0] == 0
