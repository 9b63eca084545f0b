"""The stages of the reconciliation as a reader meets them: one module per stage with its SQL
beside it, read top-down, in a subset of SQL another engine can run, with the README naming
each (docs/rules.md: Allocation to workers is found in ``allocation``)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from pennytrail.core import stages
from pennytrail.core.stages import dialect, sql_file

ROOT = Path(__file__).resolve().parents[1]
STAGE_DIR = ROOT / "pennytrail" / "core" / "stages"
# the relations the statements read besides their own tables: the warehouse's tables and views,
# and what the runner sets for a partial rebuild
INPUTS = {"purchases", "payments", "payroll", "sales", "ref_parties", "ref_programs", "ref_rates", "ref_units",
          stages.SCOPE, *stages.KEPT}


def _relations(sql: str) -> set[str]:
    """The relation names after FROM or JOIN, CTE names and subqueries aside."""
    code = "\n".join(ln.split("--")[0] for ln in sql.splitlines())
    return set(re.findall(r"(?<!DISTINCT )\b(?:FROM|JOIN)\s+([a-z_][a-z_0-9]*)", code))


def test_each_stage_has_its_sql_beside_it_and_its_docstring_cites_the_rule():
    modules = sorted(p.stem for p in STAGE_DIR.glob("*.sql"))
    assert modules == sorted(m.__name__.rsplit(".", 1)[1] for m in stages.STAGES)
    for module in stages.STAGES:
        assert re.search(r"SPEC §\d", module.__doc__), module.__name__
        for table, _ in module.STATEMENTS:
            assert f"``{table}``" in module.__doc__, (module.__name__, table)
    assert "§6" in stages.allocation.__doc__ and "t_shares" in dict(stages.allocation.STATEMENTS)


def test_statements_read_top_down_only_inputs_and_the_tables_before_them():
    made: set[str] = set()
    for table, sql in stages.statements():
        ctes = set(re.findall(r"\b([a-z_]+) AS \(", sql))
        unknown = _relations(sql) - ctes - made - INPUTS
        assert unknown == set(), f"{table} reads {unknown} before it is made"
        assert table not in made
        made.add(table)
    assert [t for t, _ in stages.statements()][-1] == "w_pool_source_audit"


@pytest.mark.parametrize("construct", [
    "::", "//", "GROUP BY ALL", "EXCLUDE", "REPLACE", "strftime", "HUGEINT", "ANTI JOIN", "QUALIFY", "USING",
    "SELECT *",
])
def test_the_sql_keeps_to_a_portable_subset_engine_only_names_are_in_the_dialect(construct):
    for table, sql in stages.statements():
        code = "\n".join(ln.split("--")[0] for ln in sql.splitlines())
        assert construct not in code, f"{table} uses {construct!r}: write the standard form, or name it in dialect"


def test_every_dialect_name_the_sql_calls_is_defined():
    defined = set(re.findall(r"CREATE OR REPLACE TEMP MACRO ([a-z_0-9]+)\(", dialect.MACROS))
    called = {name for _, sql in stages.statements() for name in re.findall(r"\b([a-z_0-9]+)\(", sql)}
    assert {"round_half_up_div", "period_of", "muldiv", "mulmod", "month_of", "add_days", "as_int128",
            "format_cents", "base_quantity", "owed_cents"} <= defined
    bodies = re.sub(r"CREATE OR REPLACE TEMP MACRO [a-z_0-9]+\(", "", dialect.MACROS)
    called |= set(re.findall(r"\b([a-z_0-9]+)\(", bodies))
    assert defined <= called  # no name defined that no stage (or other name) calls


def _pricing(table: str) -> tuple[str, str]:
    """The price of a statement's lines and the joins that find their program, rate and units."""
    sql = dict(stages.statements())[table]
    price = re.search(r"owed_cents\(.*?\) AS owed_cents", sql).group(0)
    return price, sql[sql.index("\nFROM "):]


def test_the_sellers_lines_are_priced_by_the_rule_of_the_purchases():
    """SPEC §4a prices the sellers' lines by the same rule as §4: the same call of ``owed_cents``
    and the same joins, over ``sales s`` where the purchases are ``purchases p``."""
    price, joins = _pricing("w_lines")
    sale_price, sale_joins = _pricing("w_sales_lines")
    assert sale_price == price.replace("p.", "s.")
    assert sale_joins.strip().rstrip(";") == joins.replace("purchases p", "sales s").replace("p.", "s.").strip().rstrip(";")
    assert "JOIN ref_rates r" in joins and "BETWEEN r.effective_from" in joins


def test_a_row_number_is_ordered_to_a_unique_key():
    """Each window that numbers rows ends its ORDER BY with the key the rows are unique on, so
    that engines number them alike."""
    found = []
    for table, sql in stages.statements():
        for order in re.findall(r"row_number\(\) OVER \(PARTITION BY [^)]*?ORDER BY ([^)]*)\)", sql, flags=re.S):
            found.append((table, order.split(",")[-1].strip()))
    assert found == [("w_period_shares", "work_period_start"), ("t_shares", "worker_id"), ("t_shares", "worker_id")]


def test_a_stage_file_is_one_select_per_marker(tmp_path):
    (tmp_path / "two.sql").write_text("-- table: w_x\nSELECT 1; SELECT 2;\n", encoding="utf-8")
    with pytest.raises(ValueError, match="one statement ended by ';'"):
        sql_file.statements(str(tmp_path / "two.py"))
    (tmp_path / "one.sql").write_text("-- heading\n\n-- table: w_x\n-- a comment; with its own stop\n"
                                      "SELECT 'a;b' AS x;\n", encoding="utf-8")
    assert sql_file.statements(str(tmp_path / "one.py")) == [("w_x", "-- a comment; with its own stop\nSELECT 'a;b' AS x")]


def test_the_sql_files_ship_in_the_package_and_the_readme_names_each_stage():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "*.sql" in data["tool"]["setuptools"]["package-data"]["pennytrail.core.stages"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(ln for ln in readme.splitlines() if ln.startswith("| `pennytrail/core/stages/` |"))
    for path in STAGE_DIR.glob("*.py"):
        if path.stem != "__init__":
            assert f"`{path.stem}`" in row, path.stem
