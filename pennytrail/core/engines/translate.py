"""The reconciliation's SQL, as DuckDB runs it, translated for Apache Spark (docs/scale.md).

SQLGlot reads each stage statement as DuckDB SQL and writes it as Spark SQL. Most of the rules
translate as they are; where the two engines would give different numbers, a small rewrite of
the syntax tree makes Spark compute what DuckDB computes, to the cent. Each rewrite is one
function from tree to tree, tested alone (tests/test_spark_translate.py):

- ``int128_as_decimal``: DuckDB's 128-bit integer (``HUGEINT``) is ``DECIMAL(38,0)`` on Spark.
- ``exact_integer_division``: DuckDB's ``a // b`` truncates toward zero and is NULL when b is 0;
  Spark's ``div`` on decimals wraps past 2⁶³ without an error, so it becomes exact decimal
  arithmetic: ``(a - a % b) / b``, whose quotient is a whole number.
- ``remainder_by_zero_is_null``: ``a % 0`` is NULL on DuckDB and an error on Spark.
- ``sign_as_case``: Spark's ``sign`` returns a binary float; a CASE returns -1, 0 or 1.
- ``expand_macros``: the names ``stages.dialect`` defines for DuckDB (``round_half_up_div``,
  ``muldiv``, ``period_of``, ``format_cents`` …) written out, each with its Spark body below.

``refuse_floats`` then refuses a statement with anything that computes in binary floating
point (a float type, ``/`` as DuckDB reads it, ``avg``, a power or a logarithm, a literal with
an exponent). Columns are qualified and ``*`` expanded from the relations' schemas first, since
Spark knows neither ``* EXCLUDE`` nor DuckDB's rules for names.
"""

from __future__ import annotations

from typing import Callable

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify

READ, WRITE = "duckdb", "spark"
WIDEST = exp.DataType.build("DECIMAL(38,0)")

# The Spark bodies of the names the stages' SQL calls that engines spell differently
# (``stages.dialect`` holds DuckDB's, with what each means; a test holds each pair equal on
# values). They are written in Spark SQL over their parameters; the rewrites below then apply to
# them as to the statements, so ``div`` in them is exact.
SPARK_MACROS: dict[str, tuple[tuple[str, ...], str]] = {
    "round_half_up_div": (("num", "den"), "CAST(sign(num) * ((2 * abs(CAST(num AS DECIMAL(38,0))) + den) "
                                          "div (2 * CAST(den AS DECIMAL(38,0)))) AS BIGINT)"),
    "period_of": (("d", "anchor", "days"), "date_add(anchor, datediff(d, anchor) - pmod(datediff(d, anchor), days))"),
    "as_int128": (("x",), "CAST(x AS DECIMAL(38,0))"),
    "base_quantity": (("quantity", "factor"),
                      "as_int128(quantity * 1000) * as_int128(CAST(factor AS DECIMAL(38,6)) * 1000000)"),
    "owed_cents": (("quantity", "factor", "rate", "rate_factor"),
                   "round_half_up_div(base_quantity(quantity, factor) * as_int128(rate * 1000000) * 100, "
                   "as_int128(1000) * 1000000 * as_int128(CAST(rate_factor AS DECIMAL(38,6)) * 1000000))"),
    # exact in DECIMAL(38,0) whatever the size of a × b: Spark has no faster exact path to take
    "muldiv": (("a", "b", "c"), "CAST((CAST(a AS DECIMAL(38,0)) * b) div c AS BIGINT)"),
    "mulmod": (("a", "b", "c"), "CAST((CAST(a AS DECIMAL(38,0)) * b) % c AS BIGINT)"),
    "month_of": (("d",), "date_format(d, 'yyyy-MM')"),
    "add_days": (("d", "n"), "date_add(d, CAST(n AS INT))"),
    "format_cents": (("c",), "concat(CASE WHEN c < 0 THEN '-' ELSE '' END, '$', format_number(abs(c) div 100, 0), "
                             "'.', lpad(CAST(abs(c) % 100 AS STRING), 2, '0'))"),
}


class Untranslatable(ValueError):
    """A statement Spark cannot run exactly as DuckDB does; ``str(e)`` says what and where."""


def _wrap(node: exp.Expression) -> exp.Expression:
    return node.copy() if isinstance(node, (exp.Column, exp.Literal, exp.Paren, exp.Func)) else exp.paren(node.copy())


def fill(template: str, dialect: str = WRITE, **nodes: exp.Expression) -> exp.Expression:
    """``template`` parsed in ``dialect``, each bare column named like a keyword of ``nodes``
    replaced by (a copy of) that node, in parentheses where it is not atomic."""
    tree = sqlglot.parse_one(template, read=dialect)

    def put(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in nodes:
            return _wrap(nodes[node.name])
        return node
    return tree.transform(put, copy=False)


# -- the rewrites: each takes a tree and returns the rewritten tree ----------------------------

def int128_as_decimal(tree: exp.Expression) -> exp.Expression:
    """``HUGEINT`` (INT128) and ``UHUGEINT`` → ``DECIMAL(38,0)``, Spark's widest exact integer."""
    wide = {exp.DataType.Type.INT128, exp.DataType.Type.UINT128}

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.DataType) and node.this in wide:
            return WIDEST.copy()
        return node
    return tree.transform(rewrite)


def exact_integer_division(tree: exp.Expression) -> exp.Expression:
    """``a // b`` (``a div b``) → ``CAST((A - A % B) / B AS DECIMAL(38,0))`` with A and B the
    operands as ``DECIMAL(38,0)`` and B NULL when 0: truncated toward zero, exact for every
    quotient below 10³², and NULL for a zero divisor, as DuckDB's ``//``. (A - A % B is a
    multiple of B, so the decimal quotient Spark computes is a whole number.)"""
    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.IntDiv):
            return fill("CAST((a - a % b) / b AS DECIMAL(38,0))",
                        a=fill("CAST(x AS DECIMAL(38,0))", x=node.this),
                        b=fill("NULLIF(CAST(y AS DECIMAL(38,0)), 0)", y=node.expression))
        return node
    return tree.transform(rewrite)


def remainder_by_zero_is_null(tree: exp.Expression) -> exp.Expression:
    """``a % b`` → ``a % NULLIF(b, 0)``: NULL, not an error, for a zero divisor, as DuckDB."""
    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Mod) and not (isinstance(node.expression, exp.Nullif)):
            if isinstance(node.expression, exp.Literal) and node.expression.name not in ("0", ""):
                return node  # a non-zero constant divisor
            return exp.Mod(this=node.this, expression=exp.Nullif(this=node.expression, expression=exp.Literal.number(0)))
        return node
    return tree.transform(rewrite)


def sign_as_case(tree: exp.Expression) -> exp.Expression:
    """``sign(x)`` → ``CASE WHEN x > 0 THEN 1 WHEN x < 0 THEN -1 ELSE 0 END``: an integer, where
    Spark's ``sign`` is a binary float (and a float times a decimal is a float)."""
    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Sign):
            return fill("CASE WHEN x > 0 THEN 1 WHEN x < 0 THEN -1 ELSE 0 END", x=node.this)
        return node
    return tree.transform(rewrite)


def expand_macros(tree: exp.Expression, macros: dict[str, tuple[tuple[str, ...], str]] | None = None) -> exp.Expression:
    """Each call of a macro of ``macros`` (default ``SPARK_MACROS``) → its Spark body, with the
    call's arguments for its parameters. A call with the wrong number of arguments is refused."""
    macros = SPARK_MACROS if macros is None else macros

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() in macros:
            params, body = macros[node.name.lower()]
            if len(node.expressions) != len(params):
                raise Untranslatable(f"{node.name} takes {len(params)} arguments, not {len(node.expressions)}: "
                                     f"{node.sql(READ)}")
            return expand_macros(fill(body, **dict(zip(params, node.expressions))), macros)
        return node
    return tree.transform(rewrite)


def semi_join_columns_out_of_scope(tree: exp.Expression) -> exp.Expression:
    """After ``qualify``: a ``USING`` join that follows a SEMI or ANTI join reads its columns from
    the relations before, never from the semi- or anti-joined one, whose columns are not in scope
    past its join (SQLGlot writes ``coalesce(pd.c, s.c)`` for them; Spark refuses ``s.c``)."""
    for select in tree.find_all(exp.Select):
        hidden = {j.alias_or_name for j in select.args.get("joins") or []
                  if (j.args.get("kind") or "").upper() in ("SEMI", "ANTI")}
        if not hidden:
            continue
        for join in select.args.get("joins") or []:
            on = join.args.get("on")
            if on is None or (join.args.get("kind") or "").upper() in ("SEMI", "ANTI"):
                continue
            for c in list(on.find_all(exp.Coalesce)):
                args = [a for a in [c.this, *c.expressions]
                        if not (isinstance(a, exp.Column) and a.table in hidden)]
                if len(args) == 1:
                    c.replace(args[0].copy())
                elif len(args) < 1 + len(c.expressions):
                    c.replace(exp.Coalesce(this=args[0].copy(), expressions=[a.copy() for a in args[1:]]))
    return tree


FLOAT_TYPES = {exp.DataType.Type.FLOAT, exp.DataType.Type.DOUBLE}
FLOAT_FUNCTIONS = (exp.Avg, exp.Sqrt, exp.Pow, exp.Ln, exp.Log, exp.Exp, exp.Stddev, exp.StddevPop, exp.StddevSamp,
                   exp.Variance, exp.VariancePop, exp.Rand)


def refuse_floats(tree: exp.Expression) -> exp.Expression:
    """The tree, if nothing in it computes in binary floating point; else ``Untranslatable``.
    Run on the DuckDB statement, where ``/`` is a float division (exact division is ``//``)."""
    for node in tree.walk():
        if isinstance(node, exp.DataType) and node.this in FLOAT_TYPES:
            found = f"the type {node.sql(READ)}"
        elif isinstance(node, exp.Div):
            found = f"the float division {node.sql(READ)} (integer division is //)"
        elif isinstance(node, FLOAT_FUNCTIONS):
            found = f"{node.sql(READ)}, which computes in binary floating point"
        elif isinstance(node, exp.Literal) and not node.is_string and "e" in node.name.lower():
            found = f"the float literal {node.name}"
        else:
            continue
        raise Untranslatable(f"no binary floats in the rules: {found}")
    return tree


# The order the rewrites run in: macros first (their bodies hold `div` and `sign`), then the rest.
REWRITES: list[Callable[[exp.Expression], exp.Expression]] = [
    expand_macros, int128_as_decimal, sign_as_case, exact_integer_division, remainder_by_zero_is_null,
]


def parse(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read=READ)


def qualified(sql: str, schema: dict[str, dict[str, str]]) -> exp.Expression:
    """The DuckDB statement with every column named with its relation and every ``*`` expanded,
    from ``schema`` (table → column → DuckDB type)."""
    tree = refuse_floats(parse(sql))
    try:
        tree = qualify(tree, schema=schema, dialect=READ, quote_identifiers=False, validate_qualify_columns=True)
    except sqlglot.errors.SqlglotError as e:
        raise Untranslatable(f"cannot resolve the statement's columns: {e}") from e
    return semi_join_columns_out_of_scope(tree)


def to_spark(sql: str, schema: dict[str, dict[str, str]]) -> str:
    """``sql`` (a DuckDB SELECT over relations of ``schema``) as an exact Spark SQL SELECT."""
    tree = qualified(sql, schema)
    for rewrite in REWRITES:
        tree = rewrite(tree)
    return tree.sql(WRITE)


RANKING = (exp.RowNumber, exp.Rank, exp.DenseRank, exp.First, exp.Last, exp.FirstValue, exp.LastValue)


def ranking_windows(sql: str) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The (partition, order) of every window of the statement whose result depends on the order
    of rows (``row_number``, ``rank``, ``first_value`` …): each order must be unique within its
    partition, or two engines may rank ties differently."""
    found = []
    for w in parse(sql).find_all(exp.Window):
        if isinstance(w.this, RANKING):
            order = w.args.get("order")
            found.append((tuple(p.sql(READ) for p in w.args.get("partition_by") or []),
                          tuple(o.sql(READ) for o in (order.expressions if order else []))))
    return found


def columns_read(trees: list[exp.Expression]) -> set[str]:
    """Every column name the (qualified) trees mention."""
    return {c.name for tree in trees for c in tree.find_all(exp.Column)}


def tables_read(sql: str) -> set[str]:
    """The tables a statement reads (its own CTEs left out)."""
    tree = parse(sql)
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes}
