"""Running the data contracts with Great Expectations 1.x.

The suites are built from the YAML contracts as plain ``Expectation`` records and turned into
GX expectations where they run: in an ephemeral context over pandas frames. Results are
reduced to counts and row positions: no value of any column travels out of here, so no
personal data can leak through a result.

GX takes seconds to import and its checks run in Python. A close therefore runs them in a
second process (``ContractProcess``), started when the close starts: GX is imported there while
the files are read, and each batch's contract runs there while the next batch is ingested. The
process is an object its owner hands to whoever runs contracts (``pipelines.contracts``);
this module keeps no process of its own.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pennytrail.core import money
from pennytrail.core.freed import give_back
from pennytrail.core.reading import text_column

from . import INPUT_KINDS, load

DATE_REGEX = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
NEGATIVE_REGEX = r"^-.*[1-9]"


def numeral_regex(max_dp: int) -> str:
    """The same numeral rule the row checks use (``pennytrail.core.money.numeral_regex``), anchored."""
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

    def metadata(self) -> dict:
        return {
            "rows validated": self.rows,
            "expectations": self.expectations,
            "failing expectations": len(self.failures),
            "failing rows by expectation": {f"{f.expectation}({f.column})": f.unexpected_count for f in self.failures},
        }


@dataclass
class Expectation:
    """One expectation of a contract, as plain data (no GX import needed to build or send it):
    the GX expectation type, its column or columns, and its other arguments."""
    type: str
    column: str | None = None
    column_list: list[str] | None = None
    kwargs: dict = field(default_factory=dict)

    def columns(self) -> list[str]:
        return list(self.column_list) if self.column_list else [self.column]

    def to_gx(self):
        cls = getattr(import_gx().expectations, "".join(w.title() for w in self.type.split("_")))
        where = {"column_list": list(self.column_list)} if self.column_list else {"column": self.column}
        return cls(**where, **self.kwargs)


def _expect(type_: str, column: str, **kwargs) -> Expectation:
    return Expectation(f"expect_column_values_to_{type_}", column, kwargs=kwargs)


def _unique(columns: list[str]) -> Expectation:
    return Expectation("expect_compound_columns_to_be_unique", column_list=list(columns))


@cache
def import_gx():
    """Great Expectations, imported once per process (with its frame hashing turned off)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every in-memory frame it is given by hashing all its values, twice per
    # validation; that took most of a contract's time, for batch metadata nothing here reads.
    pandas_execution_engine.HASH_THRESHOLD = 0
    return gx


def input_expectations(kind: str, parties: dict[str, str], units: set[str]) -> list[Expectation]:
    """The expectations of an input kind's contract over raw text (blank = None).

    ``parties`` maps party id to party type, ``units`` are the known units: the contract's
    party and unit rules are set membership over the reference data.
    """
    contract = load(kind)
    out = []
    for col, spec in contract["columns"].items():
        t = spec["type"]
        if spec.get("required"):
            out.append(_expect("not_be_null", col))
        if t == "date":
            out.append(_expect("match_regex", col, regex=DATE_REGEX))
            out.append(_expect("match_strftime_format", col, strftime_format="%Y-%m-%d"))
        elif t in ("number", "amount"):
            out.append(_expect("match_regex", col, regex=numeral_regex(3 if t == "number" else 2)))
            out.append(_expect("not_match_regex", col, regex=NEGATIVE_REGEX))
        elif t == "unit":
            out.append(_expect("be_in_set", col, value_set=sorted(units)))
        elif t == "language":
            out.append(_expect("match_regex", col, regex=r"^[A-Za-z]{2,3}$"))
        if "party" in spec:
            allowed = sorted(p for p, ptype in parties.items() if ptype in spec["party"])
            out.append(_expect("be_in_set", col, value_set=allowed))
    # a key once per file: a later file's row with the same key is a correction, not a duplicate
    out.append(_unique(list(contract["key"]) + ["source_file"]))
    return out


def output_expectations(table: str) -> list[Expectation]:
    contract = load(table)
    out = []
    for col, spec in contract["columns"].items():
        if not spec.get("nullable"):
            out.append(_expect("not_be_null", col))
        if "values" in spec:
            out.append(_expect("be_in_set", col, value_set=spec["values"]))
        if "min" in spec:
            out.append(_expect("be_between", col, min_value=spec["min"]))
        if spec["type"] == "month":
            out.append(_expect("match_regex", col, regex=r"^[0-9]{4}-[0-9]{2}$"))
    if "key" in contract:
        out.append(_unique(contract["key"]))
    return out


@dataclass
class TableSample:
    """What a table contract needs of a warehouse relation: its row count, each value-checked
    column's distinct values with their row counts, and the key columns of each part."""
    rows: int
    distinct: dict[str, pd.Series] = field(default_factory=dict)
    counts: dict[str, np.ndarray] = field(default_factory=dict)
    key_parts: list[pd.DataFrame] = field(default_factory=list)


def sample_input(kind: str, tables: list[pa.Table], expectations: list[Expectation]) -> TableSample:
    """What the input contract ``expectations`` need of some files' raw text rows, read with
    Arrow kernels (no GX, no frame of the rows): blank is missing, and a blank
    premium_period_start is period_start:

    - for value-wise expectations, each column's distinct values with their row counts;
    - for the key (unique per file), the key's columns as integer codes, one per distinct text
      in these files, and each row's file number: keys repeat exactly where their codes do.
    """
    sample = TableSample(sum(t.num_rows for t in tables))
    if sample.rows == 0:
        return sample
    by_values, by_rows = _split(expectations)
    cache: dict[str, pa.ChunkedArray] = {}

    def column(col: str) -> pa.ChunkedArray:
        if col not in cache:
            c = text_column(tables, col, None)
            if kind == "payroll" and col == "premium_period_start":
                blank = pc.or_kleene(pc.is_null(c), pc.equal(c, ""))
                c = pc.if_else(blank, text_column(tables, "period_start", None), c)
            cache[col] = c
        return cache[col]

    for col in sorted({e.column for e in by_values}):
        counted = pc.value_counts(column(col))
        values = counted.field("values").to_pandas()
        sample.distinct[col] = values.where(values != "", None)  # blank counts as missing
        sample.counts[col] = counted.field("counts").to_numpy()
    if by_rows:
        files = np.repeat(np.arange(len(tables)), [t.num_rows for t in tables])
        codes = {}
        for col in sorted({c for e in by_rows for c in e.columns()}):
            codes[col] = files if col == "source_file" else \
                pc.dictionary_encode(column(col).combine_chunks()).indices.to_numpy(zero_copy_only=False)
        sample.key_parts.append(pd.DataFrame(codes))
    return sample


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


# Distinct values judged by GX at once: a column of ids has as many distinct values as rows, and
# GX's checks hold several copies of what they judge; in parts of this many, the contract
# process's memory stays bounded however many distinct values a table holds.
VALUE_CHUNK = 200_000


def _failing_values(name: str, distinct: dict[str, pd.Series], expectations: list):
    """Run value-wise ``expectations`` over each column's ``distinct`` values; yield each failing
    expectation with the positions, in its column's distinct values, of the values that fail.

    Not-null checks run over columns padded by repetition; the others over columns padded with
    missing values, so a slow check (a date format) runs once per distinct value and no more.
    Columns are judged ``VALUE_CHUNK`` values at a time, each part padded to its own longest
    column (a value fails or passes on its own, so the parts' failures add up to the whole's)."""
    for not_null in (True, False):
        chosen = [e for e in expectations if (e.type == NOT_NULL) == not_null]
        if not chosen:
            continue
        cols = {e.column: distinct[e.column] for e in chosen}
        run_name = f"{name}_{'nulls' if not_null else 'values'}"
        failed: dict[tuple, tuple] = {}  # expectation -> (its config, failing positions in its column)
        for start in range(0, max([len(v) for v in cols.values()] + [1]), VALUE_CHUNK):
            # the values from ``start`` of each column that has any (at the start, every column)
            part = {c: v.iloc[start:start + VALUE_CHUNK] for c, v in cols.items() if not start or len(v) > start}
            judged = [e for e in chosen if e.column in part]
            for r in _failures(run_name, _padded(part, fill=not_null), judged, not not_null):
                cfg = r.expectation_config
                at = failed.setdefault(_where(cfg.type, cfg.kwargs), (cfg, []))[1]
                at += [start + int(i) for i in r.result.get("unexpected_index_list") or []]
        order = [_where(e.type, {"column": e.column, "column_list": e.column_list}) for e in chosen]
        for key in sorted(failed, key=order.index):
            cfg, at = failed[key]
            column = _column_of(cfg)
            if not_null:
                bad = np.flatnonzero(distinct[column].isna().to_numpy(dtype=bool))
            else:
                k = len(distinct[column])
                bad = np.unique([i for i in at if i < k])
            yield cfg, bad


@cache
def _frames():
    """The batch definition every frame is validated through: one ephemeral context with one
    in-memory data source, made once per process. (Adding a data source, an asset or a batch
    definition saves the context's whole configuration as YAML: three times per validation
    when each made its own.)"""
    gx = import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context.data_sources.add_pandas("frames").add_dataframe_asset(name="frame") \
        .add_batch_definition_whole_dataframe("whole")


def _validate(name: str, frame: pd.DataFrame, expectations: list[Expectation], result_format: str) -> list:
    gx = import_gx()
    batch = _frames().get_batch(batch_parameters={"dataframe": frame})
    suite = gx.ExpectationSuite(name=name, expectations=[e.to_gx() for e in expectations])
    return batch.validate(suite, result_format={"result_format": result_format, "partial_unexpected_count": 0}).results


def _where(type_: str, kwargs) -> tuple:
    return type_, kwargs.get("column"), tuple(kwargs.get("column_list") or ())


def _failures(name: str, frame: pd.DataFrame, expectations: list[Expectation], complete: bool) -> list:
    """GX's results for the expectations that ``frame`` fails, with unexpected counts (and, when
    ``complete``, the positions of the unexpected rows). Every expectation is first run for its
    outcome alone, which costs GX about half as much; only those that fail run again for detail."""
    failed = {_where(r.expectation_config.type, r.expectation_config.kwargs)
              for r in _validate(name, frame, expectations, "BOOLEAN_ONLY") if not r.success}
    again = [e for e in expectations
             if _where(e.type, {"column": e.column, "column_list": e.column_list}) in failed]
    if not again:
        return []
    return [r for r in _validate(name, frame, again, "COMPLETE" if complete else "SUMMARY") if not r.success]


def _column_of(cfg) -> str:
    return cfg.kwargs.get("column") or "+".join(cfg.kwargs.get("column_list", []))


def _split(expectations: list[Expectation]) -> tuple[list[Expectation], list[Expectation]]:
    """(value-wise, row-wise) expectations."""
    return [e for e in expectations if e.type in VALUE_WISE], [e for e in expectations if e.type not in VALUE_WISE]


def validate(name: str, frame: pd.DataFrame, expectations: list, row_positions: bool = False) -> ContractResult:
    """Validate ``frame`` against ``expectations``; only counts (and positions if asked) come back.

    Row-wise expectations (unique keys) run over the rows; value-wise ones (not null, formats,
    sets, ranges) run over each column's distinct values, and a failing value counts every row
    that holds it. The outcome is the same as running everything over the rows, at a fraction of
    the work when values repeat, as ids, dates and amounts do.
    """
    if len(frame) == 0:
        return ContractResult(name, 0, len(expectations), [])
    by_values, by_rows = _split(expectations)
    failures = []
    if by_rows:
        for r in _failures(name, frame, by_rows, row_positions):
            rows = [int(i) for i in r.result.get("unexpected_index_list") or []] if row_positions else []
            failures.append(Failure(r.expectation_config.type, _column_of(r.expectation_config),
                                    int(r.result.get("unexpected_count") or 0), rows))
    if by_values:
        distinct = {c: pd.Series(pd.unique(frame[c]), dtype=frame[c].dtype) for c in {e.column for e in by_values}}
        for cfg, bad in _failing_values(name, distinct, by_values):
            column = _column_of(cfg)
            if cfg.type == NOT_NULL:
                hit = frame[column].isna().to_numpy(dtype=bool)
            else:
                hit = frame[column].isin(distinct[column].iloc[bad]).to_numpy(dtype=bool) \
                    & frame[column].notna().to_numpy(dtype=bool)
            rows = np.flatnonzero(hit).tolist() if row_positions else []
            failures.append(Failure(cfg.type, column, int(hit.sum()), rows))
    return ContractResult(name, len(frame), len(expectations), failures)


def read_table(con, source: str, params: list, expectations: list[Expectation],
               row_parts: list[tuple[str, list]] | None = None) -> TableSample:
    """Read from the warehouse what ``expectations`` need of the rows of ``source`` (a table or
    ``(SELECT …)``, with ``params``): for value-wise ones each column's distinct values with
    their row counts (``SELECT col, count(*) … GROUP BY col``); for row-wise ones (unique keys)
    just their columns, once per part of ``row_parts`` ((source, params) pairs that partition
    the rows so that no key can repeat across parts; default: the whole relation)."""
    n = con.execute(f"SELECT count(*) FROM {source}", params).fetchone()[0]
    sample = TableSample(n)
    if n == 0:
        return sample
    by_values, by_rows = _split(expectations)
    if by_rows:
        cols = sorted({c for e in by_rows for c in e.columns()})
        for part, part_params in row_parts or [(source, params)]:
            table = con.execute(f"SELECT {', '.join(cols)} FROM {part}", part_params).arrow()
            table = table.read_all() if hasattr(table, "read_all") else table
            sample.key_parts.append(pd.DataFrame({c: _codes(table.column(c)) for c in cols}))
            del table
    for col in sorted({e.column for e in by_values}):
        values = con.execute(f"SELECT {col} AS v, count(*) AS n FROM {source} GROUP BY ALL", params).df()
        sample.distinct[col], sample.counts[col] = values["v"], values["n"].to_numpy()
    return sample


def _codes(column: pa.ChunkedArray) -> pd.Series:
    """A key column as integer codes, one per distinct value in it (a null stays missing): keys
    repeat exactly where their codes do, and codes are a fraction of the values' size, to send
    and for GX to judge."""
    codes = pc.dictionary_encode(column.combine_chunks()).indices
    return pd.Series(codes.to_pandas()).astype("Int64" if codes.null_count else codes.type.to_pandas_dtype())


def judge_table(name: str, sample: TableSample, expectations: list[Expectation]) -> ContractResult:
    """The contract over a ``TableSample``: value-wise expectations over the distinct values (a
    failing value counts its rows), row-wise ones over each key part. Counts only: no row
    positions, no values."""
    if sample.rows == 0:
        return ContractResult(name, 0, len(expectations), [])
    by_values, by_rows = _split(expectations)
    failures = []
    if by_rows:
        found: dict[tuple[str, str], int] = {}
        for i, frame in enumerate(sample.key_parts):
            for r in _failures(f"{name}_{i}", frame, by_rows, False) if len(frame) else []:
                at = (r.expectation_config.type, _column_of(r.expectation_config))
                found[at] = found.get(at, 0) + int(r.result.get("unexpected_count") or 0)
        failures += [Failure(e, c, k) for (e, c), k in found.items()]
    if by_values:
        for cfg, bad in _failing_values(name, sample.distinct, by_values):
            column = _column_of(cfg)
            failures.append(Failure(cfg.type, column, int(sample.counts[column][bad].sum())))
    return ContractResult(name, sample.rows, len(expectations), failures)


def validate_input(kind: str, tables: list[pa.Table], parties: dict[str, str], units: set[str]) -> ContractResult:
    """The input contract of ``kind`` over the raw text rows of some files (``sample_input``
    then ``judge_table``), in this process."""
    expectations = input_expectations(kind, parties, units)
    return judge_table(kind, sample_input(kind, tables, expectations), expectations)


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
    bounded however many files arrive. ``add`` each file's raw Arrow table; ``results`` merges
    the batches' counts per kind.

    A batch is sampled here (``sample_input``: distinct values and key codes, Arrow kernels)
    and judged by GX in the contract process. It goes once it has ``batch_rows`` rows and the
    process is idle, or once it has ``max_rows``: a busy process gets fewer, larger batches
    (each judgement has a fixed cost of a fraction of a second), an idle one gets work at once.
    A kind's last batch goes as soon as a file of another kind comes (files come in path order,
    so kind by kind), and is judged while the next kind is read. Batches are sampled in a
    thread of their own (Arrow's kernels release the GIL), so the ingest goes on meanwhile."""

    def __init__(self, parties: dict[str, str], units: set[str], submit: Callable[..., Future],
                 batch_rows: int = 250_000, max_rows: int = 1_000_000):
        self.parties, self.units, self.batch_rows, self.max_rows = parties, units, batch_rows, max_rows
        self.submit = submit  # runs a function of this module in the contract process
        self.pending: dict[str, list[pa.Table]] = {}
        self.done: dict[str, list[Future]] = {}  # per batch: the sampling, whose result is the judgement
        self._sampler: ThreadPoolExecutor | None = None

    def add(self, kind: str, table: pa.Table) -> None:
        for other in [k for k in self.pending if k != kind]:  # files come kind by kind: that kind is done
            self._flush(other)
        tables = self.pending.setdefault(kind, [])
        tables.append(table)
        rows = sum(t.num_rows for t in tables)
        busy = any(not f.done() or not f.result().done() for futures in self.done.values() for f in futures)
        if rows >= self.max_rows or (rows >= self.batch_rows and not busy):
            self._flush(kind)

    def _flush(self, kind: str) -> None:
        expectations = input_expectations(kind, self.parties, self.units)
        tables = self.pending.pop(kind, [])
        if self._sampler is None:
            self._sampler = ThreadPoolExecutor(1, thread_name_prefix="pennytrail-sample")
        self.done.setdefault(kind, []).append(self._sampler.submit(
            lambda: self.submit(judge_table, kind, sample_input(kind, tables, expectations), expectations)))

    def send(self) -> None:
        """Send what is pending now (the files are all added), so it runs while this process goes on."""
        for kind in list(self.pending):
            self._flush(kind)

    def results(self) -> dict[str, ContractResult]:
        self.send()
        try:
            return {kind: merge(kind, [f.result().result() for f in self.done.get(kind, [])]
                                or [validate_input(kind, [], self.parties, self.units)])
                    for kind in INPUT_KINDS}
        finally:
            if self._sampler is not None:
                self._sampler.shutdown()
                self._sampler = None


class ContractProcessError(RuntimeError):
    """The contract process failed or died; the message carries its traceback or exit code."""


class ContractProcess:
    """A second Python process that imports GX once and runs contract functions in order.

    ``submit(fn, *args)`` returns a Future at once: a sender thread pickles the arguments to the
    process (frames of Arrow strings go as their buffers) and a reader thread sets each result,
    so this process goes on working while a contract runs. Spawned, not forked: this process
    has DuckDB's and Dagster's threads. On ``stop``, or when this process dies, the contract
    process exits at once, without tearing GX down: it holds nothing to save.
    """

    def __init__(self):
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child,), name="pennytrail-contracts", daemon=True)
        self._proc.start()
        child.close()
        self._waiting: deque[Future] = deque()
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._ended = threading.Event()  # set by the reader, the only thread that waits for the process
        threading.Thread(target=self._send, name="pennytrail-contracts-send", daemon=True).start()
        threading.Thread(target=self._receive, name="pennytrail-contracts-receive", daemon=True).start()

    @property
    def alive(self) -> bool:
        return not self._ended.is_set()

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        if self._ended.is_set():
            future.set_exception(ContractProcessError("the data contract process has ended"))
        else:
            self._outbox.put((future, fn, args))
        return future

    def stop(self) -> None:
        self._outbox.put(None)
        self._ended.wait()

    def _send(self) -> None:
        """Send each task in order; a future waits for its answer from the moment its task is
        sent (the reader answers them in that order)."""
        while True:
            item = self._outbox.get()
            if item is None:  # the process exits
                try:
                    self._conn.send(None)
                except (OSError, ValueError):
                    pass  # it is gone already
                return
            future, fn, args = item
            with self._lock:
                if self._ended.is_set():
                    future.set_exception(ContractProcessError("the data contract process has ended"))
                    continue
                self._waiting.append(future)
            try:
                self._conn.send((fn, args))  # pickled before any byte is written
            except (OSError, ValueError):
                continue  # the process is gone: the reader fails what waits
            except Exception as e:  # the task could not be pickled; nothing was sent
                with self._lock:
                    self._waiting.remove(future)
                future.set_exception(ContractProcessError(
                    f"{getattr(fn, '__name__', fn)} could not be sent to the data contract process: {e}"))

    def _receive(self) -> None:
        while True:
            try:
                ok, value = self._conn.recv()
            except (EOFError, OSError):  # the process has exited
                self._ended.set()
                break
            with self._lock:
                future = self._waiting.popleft()
            if ok:
                future.set_result(value)
            else:
                future.set_exception(ContractProcessError(value))
        self._proc.join(timeout=5)
        self._conn.close()
        with self._lock:
            while self._waiting:
                self._waiting.popleft().set_exception(ContractProcessError(
                    f"the data contract process ended (exit code {self._proc.exitcode}) before it answered"))


def _serve(conn) -> None:
    """The contract process: run each task received, send back (ok, result or traceback)."""
    import traceback

    from tqdm import tqdm

    # GX makes (disabled) tqdm progress bars, and tqdm's default lock is an interprocess
    # semaphore that this process's quick exit would leave behind: a thread lock is enough here
    tqdm.set_lock(threading.RLock())
    import_gx()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the process that started this one is gone
            task = None
        if task is None:
            os._exit(0)
        fn, args = task
        try:
            answer = (True, fn(*args))
        except BaseException:
            answer = (False, traceback.format_exc())
        try:
            conn.send(answer)
        except (OSError, ValueError):
            os._exit(0)  # the process that started this one is gone
        except Exception:  # the result could not be pickled
            conn.send((False, traceback.format_exc()))
        del task, fn, args, answer
        give_back()  # what the task freed: a close's contracts come in waves, alongside its own work


def validate_output(table: str, frame: pd.DataFrame) -> ContractResult:
    """The output contract of ``table`` over a frame of its rows."""
    return validate(table, frame, output_expectations(table))
