"""The data contracts: GX rejects exactly what the pipeline quarantines; nothing personal leaks."""


import pandas as pd
import pytest

import data_contracts
from data_contracts import gx
from pennytrail.core.reading import read_table
from pennytrail.core.reference import load_reference
from pennytrail.core.validate import validate_many
from pennytrail.core.warehouse import output_ddl

from .conftest import write
from .product_helpers import failing_rows, personal_columns, raw_frame_for, validate_table
from .test_ingest_bad_input import CODES, GOOD_PAYROLL, PAYROLL_HEADER


def test_every_input_kind_and_output_table_has_a_contract_describing_every_column():
    for name in data_contracts.INPUT_KINDS + data_contracts.OUTPUT_TABLES:
        c = data_contracts.load(name)
        assert c["version"] >= 1 and c["columns"]
        if name in data_contracts.INPUT_KINDS:
            assert all(spec.get("description") for spec in c["columns"].values()), name


def test_output_ddl_comes_from_the_contract():
    ddl = output_ddl("worker_audit")
    assert "paid_cents BIGINT" in ddl and "basis_value DECIMAL(18,3)" in ddl and "late BOOLEAN" in ddl


def test_personal_data_is_marked():
    assert personal_columns("payroll") == {"worker_name"}


def test_contract_rejects_exactly_what_is_quarantined(data_dir):
    """One file holding a good row and one bad row per row-local code: the row sets agree."""
    rows = [GOOD_PAYROLL.replace("W1", f"OK{i}") for i in range(3)]
    rows += [r.replace("W1", f"BAD{i}") if "W1" in r else r for i, (code, r) in enumerate(CODES)
             if code != "PERIOD_MISALIGNED"]
    path = write(data_dir / "inbox/payroll/p.csv", PAYROLL_HEADER + "\n" + "\n".join(rows) + "\n")
    ref = load_reference(data_dir)
    raw = read_table(path)
    checked = validate_many([raw], "payroll", ref)
    quarantined = set(checked.row_numbers[~checked.good] - 2)
    parties = {pid: p[0] for pid, p in ref.parties.items()}
    result = gx.validate("payroll", raw_frame_for("payroll", raw.frame),
                         gx.input_expectations("payroll", parties, set(ref.units)), row_positions=True)
    assert failing_rows(result) == quarantined and len(quarantined) == len(rows) - 3


def test_contract_results_carry_no_values(data_dir):
    frame = pd.DataFrame({"worker_name": ["=secret name"] * 3, "grower_id": ["G1", None, "G9"]})
    result = gx.validate("t", frame, [gx.Expectation("expect_column_values_to_not_be_null", "grower_id"),
                                      gx.Expectation("expect_column_values_to_be_in_set", "grower_id",
                                                     kwargs={"value_set": ["G1"]})],
                         row_positions=True)
    text = repr(result) + repr(result.metadata())
    assert "secret" not in text and "G9" not in text and failing_rows(result) == {1, 2}


@pytest.mark.parametrize("value,ok", [("12", True), ("12.5", True), ("12.500", True), ("+.5", True), ("12.5001", False),
                                      ("1,200", False), ("1e3", False), (".", False), ("1234567890123456", False)])
def test_number_regex_agrees_with_the_parser(value, ok):
    import re

    assert bool(re.match(gx.numeral_regex(3), value)) is ok


@pytest.mark.parametrize("chunk", [gx.VALUE_CHUNK, 2])
def test_output_contract_over_a_warehouse_table_counts_what_the_frame_contract_counts(chunk, monkeypatch):
    """``validate_table`` (distinct values and key columns read from DuckDB) finds the same
    failures, with the same row counts, as ``validate`` over the whole frame; and so it does
    when distinct values are judged a few at a time."""
    import duckdb

    monkeypatch.setattr(gx, "VALUE_CHUNK", chunk)
    from pennytrail.core.warehouse import output_ddl

    con = duckdb.connect()
    con.execute(output_ddl("pool_audit"))
    good = "('2026-01', 'P1', 'G1', DATE '2026-01-01', DATE '2026-01-07', 100, 90, 10, 90, 0, 0, 3, DATE '2026-02-07')"
    con.execute(f"INSERT INTO pool_audit VALUES {good}, {good.replace('G1', 'G2')}, {good.replace('G1', 'G3')}, "
                # a repeated key, a negative amount twice, a missing program, a malformed month
                f"{good}, {good.replace('100', '-5').replace('G1', 'G4')}, "
                f"{good.replace('100', '-5').replace('G1', 'G5')}, "
                f"{good.replace(chr(39) + 'P1' + chr(39), 'NULL').replace('G1', 'G6')}, "
                f"{good.replace('2026-01', '2026-1', 1).replace('G1', 'G7')}")
    expectations = gx.output_expectations("pool_audit")
    frame = con.execute("SELECT * FROM pool_audit").df()
    by_frame = gx.validate("pool_audit", frame, expectations)
    by_table = validate_table("pool_audit", con, "pool_audit", [], expectations)
    assert by_table.rows == by_frame.rows == 8
    assert by_table.metadata() == by_frame.metadata()
    assert by_table.metadata()["failing rows by expectation"] == {
        "expect_compound_columns_to_be_unique(grower_id+period_start)": 2,
        "expect_column_values_to_be_between(entitled_cents)": 2,
        "expect_column_values_to_not_be_null(program_id)": 1,
        "expect_column_values_to_match_regex(month)": 1,
    }


@pytest.mark.parametrize("chunk", [gx.VALUE_CHUNK, 3])
def test_input_contract_from_arrow_samples_counts_what_the_frame_contract_counts(data_dir, chunk, monkeypatch):
    """``validate_input`` (distinct values and key codes taken with Arrow) finds the same failures,
    with the same row counts, as ``validate`` over the files' raw frame: blank is missing, a
    blank premium_period_start is period_start, a key repeated in one file fails and a key
    repeated across files does not; a file may lack an optional column. Distinct values judged a
    few at a time fail as when judged at once."""
    monkeypatch.setattr(gx, "VALUE_CHUNK", chunk)
    bad = [row.replace("W1", f"BAD{i}") if "W1" in row else row for i, (code, row) in enumerate(CODES)]
    same_key = [GOOD_PAYROLL, GOOD_PAYROLL.replace("2026-01-05,,", "2026-01-05,2026-01-05,")]  # one key, twice
    first = write(data_dir / "inbox/payroll/a.csv", PAYROLL_HEADER + "\n" + "\n".join(bad + same_key) + "\n")
    header = PAYROLL_HEADER.replace(",crew_id", "")
    second = write(data_dir / "inbox/payroll/b.csv", header + "\n" + GOOD_PAYROLL.replace(",C1", "") + "\n")
    ref = load_reference(data_dir)
    parties, units = {pid: p[0] for pid, p in ref.parties.items()}, set(ref.units)
    raws = [read_table(first), read_table(second)]
    frame = pd.concat([raw_frame_for("payroll", r.frame).assign(source_file=i) for i, r in enumerate(raws)],
                      ignore_index=True)
    by_frame = gx.validate("payroll", frame, gx.input_expectations("payroll", parties, units))
    by_sample = gx.validate_input("payroll", [r.table for r in raws], parties, units)
    assert by_sample.rows == by_frame.rows == len(bad) + 3
    assert by_sample.metadata() == by_frame.metadata()
    failing = by_sample.metadata()["failing rows by expectation"]
    assert failing["expect_compound_columns_to_be_unique(grower_id+worker_id+period_start+premium_period_start"
                   "+source_file)"] == 2
    assert failing["expect_column_values_to_not_be_null(worker_id)"] == 1


def test_values_judged_a_few_at_a_time_fail_at_the_same_rows_in_the_same_order(monkeypatch):
    """The same failures, in the same order, at the same rows, whether a column's distinct values
    are judged at once or in parts; a key column with nulls read as codes still ignores a key
    that is missing altogether."""
    import duckdb

    frame = pd.DataFrame({"grower_id": ["G1", None, "G9", "G1", "G2", None, "G3", "G9"],
                          "hours": ["1.5", "x", "2", "1.5", "-1", "3", "y", "2"],
                          "worker_id": ["W1", None, "W3", "W1", None, None, "W7", "W8"]})  # rows 1 and 5: no key
    expectations = [gx.Expectation("expect_column_values_to_not_be_null", "grower_id"),
                    gx.Expectation("expect_column_values_to_match_regex", "hours", kwargs={"regex": gx.numeral_regex(3)}),
                    gx.Expectation("expect_column_values_to_be_in_set", "grower_id", kwargs={"value_set": ["G1", "G2"]}),
                    gx.Expectation("expect_column_values_to_not_be_null", "worker_id"),
                    gx.Expectation("expect_compound_columns_to_be_unique", column_list=["grower_id", "worker_id"])]
    con = duckdb.connect()
    con.register("t", frame)
    at_once = [gx.validate("t", frame, expectations, row_positions=True), validate_table("t", con, "t", [], expectations)]
    monkeypatch.setattr(gx, "VALUE_CHUNK", 2)
    in_parts = [gx.validate("t", frame, expectations, row_positions=True), validate_table("t", con, "t", [], expectations)]
    assert in_parts == at_once
    assert [(f.column, f.unexpected_count) for f in at_once[1].failures] == [
        ("grower_id+worker_id", 2), ("grower_id", 2), ("worker_id", 3), ("hours", 2), ("grower_id", 3)]


def _failing_frame() -> tuple[pd.DataFrame, list]:
    frame = pd.DataFrame({"grower_id": ["G1", None, "G9", "G1"], "hours": ["1.5", "x", "2", "1.5"]})
    return frame, [gx.Expectation("expect_column_values_to_not_be_null", "grower_id"),
                   gx.Expectation("expect_column_values_to_be_in_set", "grower_id", kwargs={"value_set": ["G1"]}),
                   gx.Expectation("expect_column_values_to_match_regex", "hours",
                                  kwargs={"regex": gx.numeral_regex(3)}),
                   gx.Expectation("expect_compound_columns_to_be_unique", column_list=["grower_id", "hours"])]


@pytest.fixture(scope="module")
def contracts():
    from pipelines.contracts import Contracts

    c = Contracts()
    yield c
    c.stop()


def test_the_contract_process_answers_as_this_process_does(contracts):
    frame, expectations = _failing_frame()
    here = gx.validate("t", frame, expectations, True)
    there = contracts.submit(gx.validate, "t", frame, expectations, True).result(timeout=120)
    assert there == here and not here.passed and failing_rows(here) == {0, 1, 2, 3}


def test_a_contract_that_fails_in_the_contract_process_raises_here_with_its_traceback(contracts):
    with pytest.raises(gx.ContractProcessError, match="KeyError: \"no data contract named 'nonesuch'"):
        contracts.submit(data_contracts.load, "nonesuch").result(timeout=120)
    assert contracts.submit(data_contracts.load, "payroll").result(timeout=120)["key"]  # and it goes on working


def test_a_task_that_cannot_be_sent_or_answered_fails_alone(contracts):
    """An argument or a result that cannot be pickled fails its own task with a message, and
    the tasks after it are still answered."""
    import threading

    with pytest.raises(gx.ContractProcessError, match="could not be sent to the data contract process"):
        contracts.submit(data_contracts.load, lambda: None).result(timeout=120)
    with pytest.raises(gx.ContractProcessError, match="RLock"):
        contracts.submit(threading.RLock).result(timeout=120)
    assert contracts.submit(data_contracts.load, "payroll").result(timeout=120)["key"]


def test_a_contract_process_that_dies_fails_what_waits_and_is_replaced(contracts):
    import os
    import signal
    import time

    first = contracts.process()
    waiting = first.submit(time.sleep, 60)
    os.kill(first.pid, signal.SIGKILL)
    with pytest.raises(gx.ContractProcessError, match="ended .exit code -9. before it answered"):
        waiting.result(timeout=60)
    second = contracts.process()
    assert second is not first and second.alive
    frame, expectations = _failing_frame()
    assert contracts.submit(gx.validate, "t", frame, expectations).result(timeout=120).rows == 4


def test_stop_ends_the_contract_process():
    from pipelines.contracts import Contracts

    contracts = Contracts()
    process = contracts.process()
    contracts.stop()
    assert not process.alive and process.pid is not None
    contracts.stop()  # nothing left to stop: no error
