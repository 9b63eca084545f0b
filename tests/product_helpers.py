"""What the tests read of the product's results, beside what the product itself needs: the
personal columns of a contract, a raw frame as an input contract sees it, a warehouse table
judged in this process, and the rows a contract failed on."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import data_contracts
from data_contracts import gx


def personal_columns(name: str) -> set[str]:
    return {c for c, spec in data_contracts.load(name)["columns"].items() if spec.get("personal_data")}


def failing_rows(result: gx.ContractResult) -> set[int]:
    """The positions of the rows a contract's row-wise checks failed on (asked for with ``row_positions``)."""
    return {r for f in result.failures for r in f.rows}


def raw_frame_for(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A raw text frame as the input contract sees it: its columns only, blank as None, and the
    number of the file each row came from (0: one file). ``sample_input`` reads the same rows
    the same way, without making this frame."""
    contract = data_contracts.load(kind)
    cols = {}
    for col in contract["columns"]:
        if col in frame.columns:
            v = frame[col].astype("string[pyarrow]")
            cols[col] = v.mask(v == "")  # Arrow strings; blank is missing
        else:
            cols[col] = pd.Series(pd.NA, index=frame.index, dtype="string[pyarrow]")
    out = pd.DataFrame(cols).reset_index(drop=True)
    if kind == "payroll":
        filled = pc.coalesce(*(pa.chunked_array(pa.array(out[c])) for c in ("premium_period_start",
                                                                                   "period_start")))
        out["premium_period_start"] = pd.Series(pd.arrays.ArrowStringArray(filled), index=out.index)
    out["source_file"] = 0
    return out



def validate_table(name: str, con, source: str, params: list, expectations: list[gx.Expectation],
                   row_parts: list[tuple[str, list]] | None = None) -> gx.ContractResult:
    """Validate the rows of a warehouse relation the way ``validate`` does a frame, reading only
    what the expectations need (``read_table``), in this process."""
    return gx.judge_table(name, gx.read_table(con, source, params, expectations, row_parts), expectations)

