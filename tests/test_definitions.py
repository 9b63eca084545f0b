"""The Dagster definitions equal the committed snapshot, and every command's help example is a
command line the parser accepts."""

from __future__ import annotations

import datetime as dt
import difflib
import shlex

import pytest

from pennytrail.cli import EXAMPLES, build_parser

from . import definitions_snapshot


def test_definitions_equal_the_committed_snapshot():
    want = definitions_snapshot.SNAPSHOT.read_text(encoding="utf-8")
    got = definitions_snapshot.text(definitions_snapshot.take())
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True), "committed snapshot",
                                            "the definitions now", n=2))
        pytest.fail("the Dagster definitions differ from tests/snapshots/definitions.json. If the change is "
                    f"meant, update the snapshot with `{definitions_snapshot.UPDATE}` (or `make snapshot`) "
                    f"and commit its diff with the change:\n{diff}", pytrace=False)


def test_conservation_checks_block_and_contract_checks_do_not():
    checks = definitions_snapshot.take()["checks"]
    blocking = {name for name, c in checks.items() if c["blocking"]}
    assert blocking and all(name.startswith("reconciliation:") for name in blocking)
    assert {name.split(":")[1] for name in blocking} >= {
        "pool_shares_add_up", "received_reaches_pools", "invoice_money_is_conserved", "every_row_accounted_for",
        "reference_covers_every_row"}


def _tick(tick: dt.date):
    import dagster as dg

    from pipelines.definitions import defs

    ctx = dg.build_schedule_context(scheduled_execution_time=dt.datetime.combine(tick, dt.time(6)),
                                    repository_def=defs.get_repository_def())
    return defs.resolve_schedule_def("close_schedule").evaluate_tick(ctx)


def test_the_schedule_closes_the_month_before_its_tick():
    # partitions run from the first month with data (or this month) to next month
    this_month = dt.date.today().replace(day=1)
    next_month = (this_month + dt.timedelta(days=32)).replace(day=5)
    (request,) = _tick(next_month).run_requests
    assert request.partition_key == this_month.strftime("%Y-%m")


def test_the_schedule_skips_a_month_before_the_first_with_data():
    result = _tick(dt.date(2000, 2, 5))
    assert not result.run_requests and "2000-01" in result.skip_message


@pytest.mark.parametrize("command", list(EXAMPLES))
def test_every_help_example_is_a_command_line_the_parser_accepts(command):
    words = shlex.split(EXAMPLES[command])
    assert words[0] == "pennytrail"
    args = build_parser().parse_args(words[1:])
    assert args.command == command and callable(args.func)
