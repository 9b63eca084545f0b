"""The reconciliation's SQL translated for Spark (pennytrail/core/engines/translate.py): each
syntax-tree rewrite on its own, on SQLGlot trees, with no Spark. The values each rewrite gives
on Spark are checked beside DuckDB's in tests/test_spark.py."""

from __future__ import annotations

import re

import pytest
import sqlglot

from pennytrail.core import stages
from pennytrail.core.engines import spark, translate
from pennytrail.core.stages import dialect
from pennytrail.core.warehouse import connect


def tree(sql: str):
    return sqlglot.parse_one(sql, read="duckdb")


def spark_sql(t) -> str:
    return t.sql("spark")


def test_int128_as_decimal__a_128_bit_integer_is_decimal_38_0():
    out = spark_sql(translate.int128_as_decimal(tree("SELECT CAST(x AS HUGEINT) * CAST(y AS INT128) FROM t")))
    assert out == "SELECT CAST(x AS DECIMAL(38, 0)) * CAST(y AS DECIMAL(38, 0)) FROM t"
    assert "INT128" in spark_sql(tree("SELECT CAST(x AS HUGEINT) FROM t"))  # what SQLGlot alone writes


def test_exact_integer_division__truncates_in_decimal_and_is_null_for_zero():
    out = spark_sql(translate.exact_integer_division(tree("SELECT a // (b + 1) FROM t")))
    assert out == ("SELECT CAST((CAST(a AS DECIMAL(38, 0)) - CAST(a AS DECIMAL(38, 0)) % NULLIF(CAST((b + 1) "
                   "AS DECIMAL(38, 0)), 0)) / NULLIF(CAST((b + 1) AS DECIMAL(38, 0)), 0) AS DECIMAL(38, 0)) FROM t")
    assert "DIV" in spark_sql(tree("SELECT a // b FROM t"))  # what SQLGlot alone writes: wraps past 2^63
    # Spark's own `div` is rewritten too (the macros' bodies are Spark SQL)
    assert " DIV " not in spark_sql(translate.exact_integer_division(sqlglot.parse_one("SELECT a DIV b", read="spark")))


def test_remainder_by_zero_is_null__unless_the_divisor_is_a_constant_other_than_zero():
    assert spark_sql(translate.remainder_by_zero_is_null(tree("SELECT a % b, a % 100, a % 0 FROM t"))) == \
        "SELECT a % NULLIF(b, 0), a % 100, a % NULLIF(0, 0) FROM t"


def test_sign_as_case__an_integer_not_a_float():
    out = spark_sql(translate.sign_as_case(tree("SELECT sign(a - b) * c FROM t")))
    assert out == "SELECT CASE WHEN (a - b) > 0 THEN 1 WHEN (a - b) < 0 THEN -1 ELSE 0 END * c FROM t"
    assert "SIGN(" in spark_sql(tree("SELECT sign(a) FROM t"))  # what SQLGlot alone writes: a DOUBLE


def test_expand_macros__a_call_becomes_its_spark_body_with_its_arguments():
    out = spark_sql(translate.expand_macros(tree("SELECT month_of(add_days(d, n + 1)) FROM t")))
    assert out == "SELECT DATE_FORMAT(DATE_ADD(d, CAST((n + 1) AS INT)), 'yyyy-MM') FROM t"
    with pytest.raises(translate.Untranslatable, match="month_of takes 1 arguments, not 2"):
        translate.expand_macros(tree("SELECT month_of(a, b) FROM t"))


def test_every_name_the_dialect_defines_for_duckdb_has_a_spark_body_with_the_same_parameters():
    duck = {name: tuple(p.strip() for p in params.split(","))
            for name, params in re.findall(r"CREATE OR REPLACE TEMP MACRO (\w+)\(([^)]*)\)", dialect.MACROS)}
    assert duck == {name: params for name, (params, _) in translate.SPARK_MACROS.items()}


def test_semi_join_columns_out_of_scope__a_using_join_after_an_anti_join_reads_the_left_side():
    schema = {"p": {"k": "VARCHAR", "v": "BIGINT"}, "s": {"k": "VARCHAR"}, "b": {"k": "VARCHAR", "w": "BIGINT"}}
    sql = "SELECT p.k, b.w FROM p ANTI JOIN s USING (k) LEFT JOIN b USING (k)"
    out = translate.qualified(sql, schema).sql("spark")
    assert "ON p.k = b.k" in out and "COALESCE" not in out


@pytest.mark.parametrize("sql,found", [
    ("SELECT CAST(a AS DOUBLE) FROM t", "the type DOUBLE"),
    ("SELECT CAST(a AS REAL) FROM t", "the type REAL"),
    ("SELECT a / b FROM t", "the float division a / b"),
    ("SELECT avg(a) FROM t", "AVG(a)"),
    ("SELECT sqrt(a) FROM t", "SQRT(a)"),
    ("SELECT a * 1e3 FROM t", "the float literal 1e3"),
])
def test_refuse_floats__anything_computed_in_binary_floating_point_is_refused(sql, found):
    with pytest.raises(translate.Untranslatable, match="no binary floats") as e:
        translate.refuse_floats(tree(sql))
    assert found in str(e.value)
    translate.refuse_floats(tree("SELECT a // b, CAST(a AS DECIMAL(18,3)) * 0.001 FROM t"))  # exact: fine


@pytest.fixture(scope="module")
def stage_types(tmp_path_factory):
    """Every relation's DuckDB types, bound over an empty warehouse."""
    with connect(tmp_path_factory.mktemp("types") / "wh.duckdb") as con:
        from pennytrail.core import reconcile

        dialect.install(con)
        db = con.execute("SELECT current_database()").fetchone()[0]
        reconcile.set_scope(con, f'"{db}"', None)
        statements = stages.statements()
        inputs = set().union(*(translate.tables_read(sql) for _, sql in statements)) - {t for t, _ in statements}
        yield statements, spark.stage_types(con, statements, inputs)
        reconcile.drop_scope(con)


def test_every_stage_translates_with_nothing_spark_would_compute_differently(stage_types):
    statements, types = stage_types
    assert not any(t.upper() in ("DOUBLE", "FLOAT", "REAL") for cols in types.values() for t in cols.values())
    for table, sql in statements:
        out = translate.to_spark(sql, types).upper()
        for engine_only in (" DIV ", "SIGN(", "INT128", "HUGEINT", "EXCLUDE", "DOUBLE", "FLOAT", "//"):
            assert engine_only not in out, f"{table}: {engine_only.strip()} in {out}"
        assert not re.search(r"\b(ROUND_HALF_UP_DIV|MULDIV|MULMOD|AS_INT128|PERIOD_OF|MONTH_OF|ADD_DAYS|"
                             r"FORMAT_CENTS)\(", out), table


# The windows that rank rows, and why each order is unique within its partition: two rows of a
# partition never tie on the whole order, so both engines rank them alike.
RANKINGS = {
    # t_basis holds one row per (grower, worker, period)
    ("t_shares", ("grower_id", "period_start"), ("entitled_rem DESC", "worker_id")),
    ("t_shares", ("grower_id", "period_start"), ("funded_rem DESC", "worker_id")),
    # one row per (invoice, grower, work period, measure)
    ("w_period_shares", ("buyer_id", "invoice_id", "grower_id", "measure"), ("remainder DESC", "work_period_start")),
}


def test_every_ranking_window_orders_by_a_unique_key(stage_types):
    statements, _ = stage_types
    found = {(table, *w) for table, sql in statements for w in translate.ranking_windows(sql)}
    assert found == RANKINGS
