"""Running the data contracts with Great Expectations 1.x.

The suites are built from the YAML contracts; GX is imported lazily (it takes seconds) and runs
in an ephemeral context over pandas frames. Results are reduced to counts and row positions:
no value of any column travels out of here, so no personal data can leak through a result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pennytrail import money

from . import load

DATE_REGEX = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
NEGATIVE_REGEX = r"^-.*[1-9]"


def numeral_regex(max_dp: int) -> str:
    """The same numeral rule the row checks use (``pennytrail.money.numeral_regex``), anchored."""
    return f"^{money.numeral_regex(max_dp)}$"


@dataclass
class Failure:
    expectation: str
    column: str
    unexpected_count: int
    rows: list[int] = field(default_factory=list)  # positions in the validated frame


@dataclass
class ContractResult:
    name: str
    rows: int
    expectations: int
    failures: list[Failure]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def failing_rows(self) -> set[int]:
        return {r for f in self.failures for r in f.rows}

    def metadata(self) -> dict:
        return {
            "rows validated": self.rows,
            "expectations": self.expectations,
            "failing expectations": len(self.failures),
            "failing rows by expectation": {f"{f.expectation}({f.column})": f.unexpected_count for f in self.failures},
        }


@cache
def _gx():
    import os

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every in-memory frame it is given by hashing all its values, twice per
    # validation; that took most of a contract's time, for batch metadata nothing here reads.
    pandas_execution_engine.HASH_THRESHOLD = 0
    return gx


def input_expectations(kind: str, parties: dict[str, str], units: set[str]) -> list:
    """The expectations of an input kind's contract over raw text (blank = None).

    ``parties`` maps party id to party type, ``units`` are the known units: the contract's
    party and unit rules are set membership over the reference data.
    """
    gx = _gx()
    E = gx.expectations
    contract = load(kind)
    out = []
    for col, spec in contract["columns"].items():
        t = spec["type"]
        if spec.get("required"):
            out.append(E.ExpectColumnValuesToNotBeNull(column=col))
        if t == "date":
            out.append(E.ExpectColumnValuesToMatchRegex(column=col, regex=DATE_REGEX))
            out.append(E.ExpectColumnValuesToMatchStrftimeFormat(column=col, strftime_format="%Y-%m-%d"))
        elif t in ("number", "amount"):
            out.append(E.ExpectColumnValuesToMatchRegex(column=col, regex=numeral_regex(3 if t == "number" else 2)))
            out.append(E.ExpectColumnValuesToNotMatchRegex(column=col, regex=NEGATIVE_REGEX))
        elif t == "unit":
            out.append(E.ExpectColumnValuesToBeInSet(column=col, value_set=sorted(units)))
        if "party" in spec:
            allowed = sorted(p for p, ptype in parties.items() if ptype in spec["party"])
            out.append(E.ExpectColumnValuesToBeInSet(column=col, value_set=allowed))
    # a key once per file: a later file's row with the same key is a correction, not a duplicate
    out.append(E.ExpectCompoundColumnsToBeUnique(column_list=list(contract["key"]) + ["source_file"]))
    return out


def output_expectations(table: str) -> list:
    gx = _gx()
    E = gx.expectations
    contract = load(table)
    out = []
    for col, spec in contract["columns"].items():
        if not spec.get("nullable"):
            out.append(E.ExpectColumnValuesToNotBeNull(column=col))
        if "values" in spec:
            out.append(E.ExpectColumnValuesToBeInSet(column=col, value_set=spec["values"]))
        if "min" in spec:
            out.append(E.ExpectColumnValuesToBeBetween(column=col, min_value=spec["min"]))
        if spec["type"] == "month":
            out.append(E.ExpectColumnValuesToMatchRegex(column=col, regex=r"^[0-9]{4}-[0-9]{2}$"))
    if "key" in contract:
        out.append(E.ExpectCompoundColumnsToBeUnique(column_list=list(contract["key"])))
    return out


def raw_frame_for(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A raw text frame as the input contract sees it: its columns only, blank as None, and the
    number of the file each row came from (0: one file; ``validate_input`` numbers several)."""
    contract = load(kind)
    cols = {}
    for col in contract["columns"]:
        if col in frame.columns:
            v = frame[col].astype("string[pyarrow]")
            cols[col] = v.mask(v == "")  # Arrow strings; blank is missing
        else:
            cols[col] = pd.Series(pd.NA, index=frame.index, dtype="string[pyarrow]")
    out = pd.DataFrame(cols).reset_index(drop=True)
    if kind == "payroll":
        filled = pc.coalesce(*(pa.chunked_array(out[c].array._pa_array) for c in ("premium_period_start",
                                                                                   "period_start")))
        out["premium_period_start"] = pd.Series(pd.arrays.ArrowStringArray(filled), index=out.index)
    out["source_file"] = 0
    return out


# Expectations that judge each value on its own: they are run over the column's distinct values
# (a value fails wherever it occurs), and their failures are counted back over the rows.
VALUE_WISE = {
    "expect_column_values_to_not_be_null", "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_match_strftime_format", "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
}


NOT_NULL = "expect_column_values_to_not_be_null"


def _padded(distinct: dict[str, pd.Series], fill: bool) -> pd.DataFrame:
    """Columns of distinct values as one frame, shorter columns padded to the longest: text
    columns with missing values (which value expectations skip), the others, and all of them
    when ``fill``, by repeating the column's own values (a repeat changes no outcome, and a
    number column stays integer)."""
    length = max([len(v) for v in distinct.values()] + [1])
    out = {}
    for c, v in distinct.items():
        v = v.reset_index(drop=True)
        if len(v) == 0:
            out[c] = pd.Series([None] * length, dtype=object)
        elif fill or v.dtype.kind in "iufbmM":
            out[c] = v.iloc[np.resize(np.arange(len(v)), length)].reset_index(drop=True)
        else:
            out[c] = v.reindex(range(length))
    return pd.DataFrame(out)


def _failing_values(context, name: str, distinct: dict[str, pd.Series], expectations: list):
    """Run value-wise ``expectations`` over each column's ``distinct`` values; yield each failing
    expectation with the positions, in its column's distinct values, of the values that fail.

    Not-null checks run over columns padded by repetition; the others over columns padded with
    missing values, so a slow check (a date format) runs once per distinct value and no more."""
    for not_null in (True, False):
        chosen = [e for e in expectations if (e.expectation_type == NOT_NULL) == not_null]
        if not chosen:
            continue
        cols = {e.column: distinct[e.column] for e in chosen}
        run_name = f"{name}_{'nulls' if not_null else 'values'}"
        for r in _run(context, run_name, _padded(cols, fill=not_null), chosen, True):
            if r.success:
                continue
            column = _column_of(r.expectation_config)
            if not_null:
                bad = np.flatnonzero(distinct[column].isna().to_numpy(dtype=bool))
            else:
                k = len(distinct[column])
                bad = np.unique([int(i) for i in r.result.get("unexpected_index_list") or [] if int(i) < k])
            yield r.expectation_config, bad


def _run(context, name: str, frame: pd.DataFrame, expectations: list, complete: bool):
    gx = _gx()
    batch = (context.data_sources.add_pandas(f"{name}_source").add_dataframe_asset(name=name)
             .add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": frame}))
    suite = gx.ExpectationSuite(name=name, expectations=[e.copy() for e in expectations])
    fmt = {"result_format": "COMPLETE" if complete else "SUMMARY", "partial_unexpected_count": 0}
    return batch.validate(suite, result_format=fmt).results


def _column_of(cfg) -> str:
    return cfg.kwargs.get("column") or "+".join(cfg.kwargs.get("column_list", []))


def _start(expectations: list):
    """An ephemeral GX context, and the expectations split into (value-wise, row-wise)."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    by_values = [e for e in expectations if e.expectation_type in VALUE_WISE]
    return context, by_values, [e for e in expectations if e.expectation_type not in VALUE_WISE]


def validate(name: str, frame: pd.DataFrame, expectations: list, row_positions: bool = False) -> ContractResult:
    """Validate ``frame`` against ``expectations``; only counts (and positions if asked) come back.

    Row-wise expectations (unique keys) run over the rows; value-wise ones (not null, formats,
    sets, ranges) run over each column's distinct values, and a failing value counts every row
    that holds it. The outcome is the same as running everything over the rows, at a fraction of
    the work when values repeat, as ids, dates and amounts do.
    """
    if len(frame) == 0:
        return ContractResult(name, 0, len(expectations), [])
    context, by_values, by_rows = _start(expectations)
    failures = []
    if by_rows:
        for r in _run(context, name, frame, by_rows, row_positions):
            if not r.success:
                rows = [int(i) for i in r.result.get("unexpected_index_list") or []] if row_positions else []
                failures.append(Failure(r.expectation_config.type, _column_of(r.expectation_config),
                                        int(r.result.get("unexpected_count") or 0), rows))
    if by_values:
        distinct = {c: pd.Series(pd.unique(frame[c]), dtype=frame[c].dtype) for c in {e.column for e in by_values}}
        for cfg, bad in _failing_values(context, name, distinct, by_values):
            column = _column_of(cfg)
            if cfg.type == NOT_NULL:
                hit = frame[column].isna().to_numpy(dtype=bool)
            else:
                hit = frame[column].isin(distinct[column].iloc[bad]).to_numpy(dtype=bool) \
                    & frame[column].notna().to_numpy(dtype=bool)
            rows = np.flatnonzero(hit).tolist() if row_positions else []
            failures.append(Failure(cfg.type, column, int(hit.sum()), rows))
    return ContractResult(name, len(frame), len(expectations), failures)


def validate_table(name: str, con, source: str, params: list, expectations: list,
                   row_parts: list[tuple[str, list]] | None = None) -> ContractResult:
    """Validate the rows of a warehouse relation (``source``: a table or ``(SELECT …)``, with
    ``params``) the way ``validate`` does a frame, reading only what the expectations need.

    Value-wise expectations run over each column's distinct values (``SELECT col, count(*) …
    GROUP BY col``), and a failing value counts its rows. Row-wise ones (unique keys) run over a
    frame of just their columns, once per part of ``row_parts`` ((source, params) pairs that
    partition the rows so that no key can repeat across parts; default: the whole relation).
    Counts only: no row positions, no values.
    """
    n = con.execute(f"SELECT count(*) FROM {source}", params).fetchone()[0]
    if n == 0:
        return ContractResult(name, 0, len(expectations), [])
    context, by_values, by_rows = _start(expectations)
    failures = []
    if by_rows:
        cols = sorted({c for e in by_rows for c in (e.column_list if hasattr(e, "column_list") else [e.column])})
        found: dict[tuple[str, str], int] = {}
        for i, (part, part_params) in enumerate(row_parts or [(source, params)]):
            frame = con.execute(f"SELECT {', '.join(cols)} FROM {part}", part_params).df()
            for r in _run(context, f"{name}_{i}", frame, by_rows, False) if len(frame) else []:
                if not r.success:
                    at = (r.expectation_config.type, _column_of(r.expectation_config))
                    found[at] = found.get(at, 0) + int(r.result.get("unexpected_count") or 0)
        failures += [Failure(e, c, k) for (e, c), k in found.items()]
    if by_values:
        distinct, counts = {}, {}
        for col in sorted({e.column for e in by_values}):
            values = con.execute(f"SELECT {col} AS v, count(*) AS n FROM {source} GROUP BY ALL", params).df()
            distinct[col], counts[col] = values["v"], values["n"].to_numpy()
        for cfg, bad in _failing_values(context, name, distinct, by_values):
            column = _column_of(cfg)
            failures.append(Failure(cfg.type, column, int(counts[column][bad].sum())))
    return ContractResult(name, n, len(expectations), failures)


def validate_input(kind: str, frames: list[pd.DataFrame], parties: dict[str, str], units: set[str]) -> ContractResult:
    """The input contract of ``kind`` over the raw text rows of some files."""
    if not frames:
        return validate(kind, pd.DataFrame(), input_expectations(kind, parties, units))
    frame = raw_frame_for(kind, pd.concat(frames, ignore_index=True))
    frame["source_file"] = np.repeat(np.arange(len(frames)), [len(f) for f in frames])
    return validate(kind, frame, input_expectations(kind, parties, units))


def merge(name: str, parts: list[ContractResult]) -> ContractResult:
    """One result for a contract run over several parts of a table: rows and failing rows add up."""
    merged: dict[tuple[str, str], int] = {}
    for part in parts:
        for f in part.failures:
            merged[(f.expectation, f.column)] = merged.get((f.expectation, f.column), 0) + f.unexpected_count
    return ContractResult(name, sum(p.rows for p in parts), max([p.expectations for p in parts] + [0]),
                          [Failure(e, c, n) for (e, c), n in merged.items()])


class InputContracts:
    """The input contracts over the files of a run, a batch of rows at a time, so memory stays
    bounded however many files arrive. ``add`` each file's raw frame; ``results`` merges the
    batches' counts per kind."""

    def __init__(self, parties: dict[str, str], units: set[str], batch_rows: int = 1_000_000):
        self.parties, self.units, self.batch_rows = parties, units, batch_rows
        self.pending: dict[str, list[pd.DataFrame]] = {}
        self.done: dict[str, list[ContractResult]] = {}

    def add(self, kind: str, frame: pd.DataFrame) -> None:
        frames = self.pending.setdefault(kind, [])
        frames.append(frame)
        if sum(len(f) for f in frames) >= self.batch_rows:
            self._flush(kind)

    def _flush(self, kind: str) -> None:
        frames = self.pending.pop(kind, [])
        self.done.setdefault(kind, []).append(validate_input(kind, frames, self.parties, self.units))

    def results(self) -> dict[str, ContractResult]:
        from . import INPUT_KINDS

        for kind in list(self.pending):
            self._flush(kind)
        return {kind: merge(kind, self.done.get(kind) or [validate_input(kind, [], self.parties, self.units)])
                for kind in INPUT_KINDS}
