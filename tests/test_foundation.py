"""The foundation: definitions load, the generator is deterministic, the demo runs twice, help everywhere."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pennytrail.cli import EXAMPLES, build_parser, main
from pennytrail.generator import generate


def test_definitions_load_and_validate():
    from pipelines.definitions import defs

    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {"reference_data", "submissions", "reconciliation", "monthly_audit", "month_reports"}
    assert {j.name for j in defs.jobs} >= {"close", "ingest_and_reconcile", "publish_month", "reports_for_month"}
    assert [s.name for s in defs.schedules] and [s.name for s in defs.sensors] == ["inbox_sensor"]
    for key in keys:
        assets_def = defs.resolve_assets_def(key)
        assert assets_def.specs_by_key[dg.AssetKey(key)].description
        assert assets_def.op.pool == "warehouse"


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_generator_is_deterministic_per_seed(tmp_path):
    generate(tmp_path / "a", seed=9)
    generate(tmp_path / "b", seed=9)
    generate(tmp_path / "c", seed=10)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_answer_key_agrees_with_the_data(demo_data):
    key = json.loads((demo_data / "answer_key.json").read_text())
    con = duckdb.connect()
    payroll = con.execute(f"SELECT count(*) FROM read_csv('{demo_data}/inbox/payroll/T*/*.csv', all_varchar=true, "
                          "union_by_name=true)").fetchone()[0]
    quarantined_rows = sum(1 for q in key["quarantine"] if q["row_number"])
    assert payroll > 0 and key["payroll_rows"] > payroll  # dairy payroll is in Excel files
    for q in key["quarantine"]:
        assert (demo_data / q["file"]).exists()
    assert quarantined_rows == 27
    codes = {q["code"] for q in key["quarantine"]}
    assert codes >= {"MISSING_FIELD", "BAD_DATE", "BAD_NUMBER", "BAD_AMOUNT", "NEGATIVE_VALUE", "UNKNOWN_PARTY",
                     "WRONG_PARTY_TYPE", "UNKNOWN_UNIT", "NO_RATE", "UNIT_MISMATCH", "PERIOD_MISALIGNED",
                     "DUPLICATE_KEY", "MISSING_COLUMN"}
    assert {e["code"] for e in key["exceptions"]} == {
        "BILLED_MISMATCH", "BUYER_UNDERPAID", "BUYER_OVERPAID", "PASS_THROUGH_SHORTFALL", "UNKNOWN_INVOICE",
        "PAYEE_NOT_ON_INVOICE", "UNEXPECTED_PAYER", "UNEXPECTED_PAYEE", "POOL_WITHOUT_WORKERS",
        "VOLUME_MISMATCH", "MISSING_PURCHASE", "MISSING_SALE"}
    assert {h["status"] for h in key["handshake"]} == {"VOLUME_MISMATCH", "MISSING_PURCHASE", "MISSING_SALE",
                                                       "UNCONFIRMED"}
    assert {(q["code"]) for q in key["quarantine"] if q["file"].startswith("inbox/sales/")} >= {"NO_RATE",
                                                                                                  "UNIT_MISMATCH"}
    statuses = {w["status"] for w in key["workers_findings"]}
    assert statuses == {"OK", "UNPAID", "UNDERPAID", "OVERPAID", "PAID_WITHOUT_WORK"}
    assert any(w["late"] for w in key["workers_findings"]) and any(w["overdue"] for w in key["workers_findings"])
    for w in key["workers_findings"]:  # every finding names a worker the payroll holds
        assert any(w["worker_id"] in p.read_text() for p in (demo_data / "inbox/payroll" / w["grower_id"]).glob("*.csv")) \
            or w["grower_id"].startswith("D")


@pytest.mark.parametrize("command", list(EXAMPLES))
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and EXAMPLES[command] in out.replace("\n", " ")


def test_every_command_is_in_the_readme():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for command in build_parser()._subparsers._group_actions[0].choices:
        assert f"pennytrail {command}" in readme, command


def test_a_held_warehouse_is_one_database_written_to_its_file_when_released(tmp_path):
    """Inside ``held``, every connection (read-only ones too) is a cursor on one database: each
    sees what the others committed. When it ends, the WAL is checkpointed into the file."""
    from pennytrail.core.warehouse import connect, held

    path = tmp_path / "w.duckdb"
    with held(path):
        with connect(path) as con:
            con.execute("INSERT INTO meta VALUES ('k', 'v')")
        with connect(path, read_only=True) as con:
            assert con.execute("SELECT value FROM meta WHERE key = 'k'").fetchone() == ("v",)
            assert con.execute("SELECT round_half_up_div(5, 2)").fetchone() == (3,)  # the macros are there
        with held(path), connect(path) as con:  # nested: the same database
            assert con.execute("SELECT count(*) FROM meta").fetchone() == (1,)
        assert path.with_name("w.duckdb.wal").exists()
    assert not path.with_name("w.duckdb.wal").exists()
    with connect(path, read_only=True) as con:
        assert con.execute("SELECT value FROM meta").fetchall() == [("v",)]
