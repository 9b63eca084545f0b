"""Running the data contracts with Great Expectations 1.x.

The suites are built from the YAML contracts; GX is imported lazily (it takes seconds) and runs
in an ephemeral context over pandas frames. Results are reduced to counts and row positions:
no value of any column travels out of here, so no personal data can leak through a result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import pandas as pd

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
    out.append(E.ExpectCompoundColumnsToBeUnique(column_list=list(contract["key"])))
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
    """A raw text frame as the input contract sees it: its columns only, blank as None."""
    contract = load(kind)
    cols = {}
    for col in contract["columns"]:
        v = frame[col] if col in frame.columns else pd.Series([""] * len(frame), index=frame.index, dtype=object)
        cols[col] = v.where(v != "", None)
    out = pd.DataFrame(cols).reset_index(drop=True)
    if kind == "payroll":
        out["premium_period_start"] = out["premium_period_start"].fillna(out["period_start"])
    return out


def validate(name: str, frame: pd.DataFrame, expectations: list, row_positions: bool = False) -> ContractResult:
    """Validate ``frame`` against ``expectations``; only counts (and positions if asked) come back."""
    if len(frame) == 0:
        return ContractResult(name, 0, len(expectations), [])
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (context.data_sources.add_pandas("frames").add_dataframe_asset(name=name)
             .add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": frame}))
    suite = gx.ExpectationSuite(name=name, expectations=[e.copy() for e in expectations])
    fmt = {"result_format": "COMPLETE" if row_positions else "SUMMARY", "partial_unexpected_count": 0}
    result = batch.validate(suite, result_format=fmt)
    failures = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        column = cfg.kwargs.get("column") or "+".join(cfg.kwargs.get("column_list", []))
        rows = [int(i) for i in r.result.get("unexpected_index_list") or []] if row_positions else []
        failures.append(Failure(cfg.type, column, int(r.result.get("unexpected_count") or 0), rows))
    return ContractResult(name, len(frame), len(expectations), failures)


def validate_input(kind: str, frames: list[pd.DataFrame], parties: dict[str, str], units: set[str]) -> ContractResult:
    """The input contract of ``kind`` over the raw text rows of some files."""
    frame = raw_frame_for(kind, pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame()
    return validate(kind, frame, input_expectations(kind, parties, units))
