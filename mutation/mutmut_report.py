"""After `mutmut run`: print the score of the core's Python mutants and every survivor, and hold
the survivors in the functions that decide a cent to a written reason.

    .venv/bin/python mutation/mutmut_report.py

The score is killed ÷ (killed + survived + timed out + no tests): a mutant that no fast test
reaches counts against it. Survivors are listed by mutmut's name (``mutmut show NAME`` prints
the change). A survivor in a module whose Python decides a cent (``CENT_MODULES``), or a mutant
there that no fast test reaches, must be a change to a message's text only, or carry a reason in
``EQUIVALENT`` why it cannot change any figure; otherwise the report names it and exits 1 (a test
is missing). Mutants not run yet (a
run stopped early) are counted apart."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent

# the core's modules whose Python decides a figure: money, the stages' SQL and the reconciliation that
# runs, the conservation checks, what a buyer may see of workers, the row checks, a statement's
# verification
CENT_MODULES = ("money", "stages", "reconcile", "conservation", "privacy", "validate", "statement")

# why a mutant cannot change any figure -> the mutants it explains
_REASONS = {
    "x = 0 then gets the sign -1, and -1 × 0 is the integer 0 as well":
        ("pennytrail.core.money.x_round_half_up__mutmut_8",),
    "ensure_ascii=None is false, as ensure_ascii=False is: the same bytes":
        ("pennytrail.core.statement.x_canonical__mutmut_5",),
    "np.full with the fill None makes an object array, with dtype=None or no dtype: the same array":
        ("pennytrail.core.validate.xǁBatchǁ__post_init____mutmut_4",
         "pennytrail.core.validate.xǁBatchǁ__post_init____mutmut_7",
         "pennytrail.core.validate.xǁBatchǁ__post_init____mutmut_10",
         "pennytrail.core.validate.xǁBatchǁ__post_init____mutmut_13"),
    "None stored in a numpy bool array is False: the rows are closed as before":
        ("pennytrail.core.validate.xǁBatchǁflag__mutmut_7",),
    "pyarrow tests zero_copy_only for truth: None is false as False is":
        ("pennytrail.core.validate.x_bad_id__mutmut_4",),
    "the distinct values as object text instead of Arrow text: str.fullmatch gives the same booleans "
    "and to_datetime reads them as objects either way":
        ("pennytrail.core.validate.x_bad_date__mutmut_9",
         "pennytrail.core.validate.x_bad_date__mutmut_11"),
    "only values of the shape YYYY-MM-DD reach to_datetime (the rest are None): pandas infers that "
    "format, or falls back to dateutil, which reads that shape as year-month-day too, and an "
    "impossible date is NaT either way":
        ("pennytrail.core.validate.x_bad_date__mutmut_20",),
    "where() without a replacement puts NaN, which to_datetime reads as NaT, as it reads None":
        ("pennytrail.core.validate.x_bad_date__mutmut_24",),
    "validate_many gives the batch's text a RangeIndex from 0, which is the default index: the same "
    "Series":
        ("pennytrail.core.validate.x_bad_date__mutmut_33",
         "pennytrail.core.validate.x_bad_date__mutmut_35"),
    "shape is only set where bad is, so bad | shape is bad; and of bad, the rows the two flags before"
    " leave open are exactly bad & shape (a value of the right shape is a numeral)":
        ("pennytrail.core.validate.x__numbers__mutmut_73",),
    "regex=True is str.contains's default":
        ("pennytrail.core.validate.x_negative_value__mutmut_18",),
    "the row checks run on the input kinds only, whose contracts each list rules: get never falls "
    "back":
        ("pennytrail.core.validate.x_no_rate__mutmut_9",
         "pennytrail.core.validate.x_no_rate__mutmut_11"),
    "without on, merge joins on the columns both frames have: program_id and commodity":
        ("pennytrail.core.validate.x_no_rate__mutmut_61",
         "pennytrail.core.validate.x_no_rate__mutmut_64"),
    "an inner join drops the rows with no rate of their program and commodity; the left join keeps "
    "them with a blank start, which the filter on the ship date then drops: the same frame":
        ("pennytrail.core.validate.x_no_rate__mutmut_65",),
    "without on, merge joins on the one column both frames have: i":
        ("pennytrail.core.validate.x_no_rate__mutmut_89",),
    "a float mask of 0 and 1 instead of a bool one: flag turns it into bool (_b), True where 1":
        ("pennytrail.core.validate.x_no_rate__mutmut_103",
         "pennytrail.core.validate.x_no_rate__mutmut_105",
         "pennytrail.core.validate.x_unit_mismatch__mutmut_12",
         "pennytrail.core.validate.x_unit_mismatch__mutmut_14",
         "pennytrail.core.validate.x_owed_too_large__mutmut_92",
         "pennytrail.core.validate.x_owed_too_large__mutmut_94"),
    "a Series made from an object array is an object Series without a dtype: the same values, read by"
    " .loc and map":
        ("pennytrail.core.validate.x_no_rate__mutmut_118",
         "pennytrail.core.validate.x_no_rate__mutmut_121"),
    "a Series made from an object array of Decimals is an object Series without a dtype: the same "
    "values":
        ("pennytrail.core.validate.x_no_rate__mutmut_129",
         "pennytrail.core.validate.x_no_rate__mutmut_132"),
    "an Arrow text column's to_numpy() is an object array without a dtype too: the same values in the"
    " message":
        ("pennytrail.core.validate.x_no_rate__mutmut_160",
         "pennytrail.core.validate.x_no_rate__mutmut_163"),
    "the digit counts in another integer dtype: grouped by the same values, and each goes through "
    "int()":
        ("pennytrail.core.validate.x_owed_too_large__mutmut_35",),
    "pandas reads sort=None as false: groups are numbered in order of first appearance, as with "
    "sort=False":
        ("pennytrail.core.validate.x_owed_too_large__mutmut_47",),
    "itertuples tests index for truth: None is false as False is":
        ("pennytrail.core.validate.x_owed_too_large__mutmut_60",),
    "the frame has exactly the columns cols names: drop_duplicates over all columns is the same":
        ("pennytrail.core.validate.x_owed_too_large__mutmut_61",
         "pennytrail.core.validate.x_owed_too_large__mutmut_77"),
    "a numpy array of Python bools is a bool array without a dtype too":
        ("pennytrail.core.validate.x_owed_too_large__mutmut_65",
         "pennytrail.core.validate.x_owed_too_large__mutmut_67",
         "pennytrail.core.validate.x_period_misaligned__mutmut_13",
         "pennytrail.core.validate.x_period_misaligned__mutmut_15"),
    "reach only picks the lines computed exactly: a larger bound (11^d > 10^d) picks more lines, each"
    " then computed exactly, so the same lines are flagged":
        ("pennytrail.core.validate.x_owed_too_large__mutmut_70",),
    "reach only picks the lines computed exactly: >= picks the lines > picks and those at the bound "
    "itself, each then computed exactly, so the same lines are flagged":
        ("pennytrail.core.validate.x_owed_too_large__mutmut_72",),
    "the appended entry is for a blank grower_id, which MISSING_FIELD has already quarantined: flag "
    "only touches open rows":
        ("pennytrail.core.validate.x_period_misaligned__mutmut_18",),
    "the anchor of a grower without a program is never used: every flag of this check requires has, "
    "false for it":
        ("pennytrail.core.validate.x_period_misaligned__mutmut_25",),
    "the appended anchor is for a blank grower_id, which MISSING_FIELD has already quarantined, and "
    "has is false for it":
        ("pennytrail.core.validate.x_period_misaligned__mutmut_26",),
    "the period length of a grower without a program is never used: every flag of this check requires"
    " has, false for it":
        ("pennytrail.core.validate.x_period_misaligned__mutmut_32",),
    "the appended length is for a blank grower_id, which MISSING_FIELD has already quarantined, and "
    "has is false for it":
        ("pennytrail.core.validate.x_period_misaligned__mutmut_33",),
    "period_start is required and a date (MISSING_FIELD and BAD_DATE come first): on every open row "
    "has_start is true, so | and & agree":
        ("pennytrail.core.validate.x_period_misaligned__mutmut_49",),
    "numpy infers the unit D from a date object: the same day number":
        ("pennytrail.core.validate.x_period_misaligned__mutmut_58",),
    "the key frame is a copy of the batch's text, whose index is a RangeIndex from 0: the default "
    "index is the same":
        ("pennytrail.core.validate.x_duplicate_key__mutmut_19",
         "pennytrail.core.validate.x_duplicate_key__mutmut_21"),
    "transform returns one value per original row, aligned to the rows whatever sort says: the same "
    "first rows":
        ("pennytrail.core.validate.x_duplicate_key__mutmut_57",
         "pennytrail.core.validate.x_duplicate_key__mutmut_59",
         "pennytrail.core.validate.x_duplicate_key__mutmut_63"),
    "a frame made from Series with the default index gets that RangeIndex from 0 anyway":
        ("pennytrail.core.validate.x_validate_many__mutmut_12",
         "pennytrail.core.validate.x_validate_many__mutmut_14"),
    "whether the Series copies the Arrow array or not, its values are the same and no check writes to"
    " them":
        ("pennytrail.core.validate.x_validate_many__mutmut_16",
         "pennytrail.core.validate.x_validate_many__mutmut_18",
         "pennytrail.core.validate.x_validate_many__mutmut_27"),
    "the sheet names are the same strings whether numpy holds them as objects or as its own text; a "
    "CSV's sheet is None, which makes an object array anyway":
        ("pennytrail.core.validate.x_validate_many__mutmut_41",
         "pennytrail.core.validate.x_validate_many__mutmut_43"),
    "numpy turns the fill None into False in a bool array: missing is False as before":
        ("pennytrail.core.validate.x__b__mutmut_2",),
    "the dates come from pd.to_datetime, whose result is datetime64[ns]: to_numpy() gives that dtype "
    "anyway":
        ("pennytrail.core.validate.x__days__mutmut_2",),
}
EQUIVALENT = {name: reason for reason, names in _REASONS.items() for name in names}  # mutant -> why


STRING = re.compile(r"""(?:\b[rRbBfFuU]{1,2})?("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|\bNone\b""")


def _without_strings(code: str) -> str:
    """Some lines of code with each run of string literals (or a None put for one) as one blank
    and no white space: two forms that differ only in a message's text come out equal."""
    blanked = STRING.sub("\x00", code)
    return re.sub(r"\x00(\s*\x00)+", "\x00", blanked).replace(" ", "").replace("\n", "")


def message_only(name: str) -> bool:
    """Whether a mutant changes only string literals (or puts None for one): a message's text."""
    shown = subprocess.run([str(BIN / "mutmut"), "show", name], capture_output=True, text=True).stdout
    removed = [ln[1:].strip() for ln in shown.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    added = [ln[1:].strip() for ln in shown.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    if not removed or not added:
        return False
    return _without_strings("\n".join(removed)) == _without_strings("\n".join(added))


def decides_a_cent(name: str) -> bool:
    return any(name.startswith(f"pennytrail.core.{m}.") for m in CENT_MODULES)


def main() -> int:
    subprocess.run([str(BIN / "mutmut"), "export-cicd-stats"], check=True, capture_output=True)
    s = json.loads(Path("mutants/mutmut-cicd-stats.json").read_text(encoding="utf-8"))
    scored = s["killed"] + s["survived"] + s["timeout"] + s["no_tests"]
    not_run = s["total"] - scored - s["skipped"] - s["suspicious"]
    print(f"mutmut (pennytrail/core): {s['total']} mutants, killed {s['killed']}, survived {s['survived']}, "
          f"no tests {s['no_tests']}, timed out {s['timeout']}, skipped {s['skipped']}, suspicious {s['suspicious']}"
          + (f", not run {not_run} (the run stopped early)" if not_run > 0 else ""))
    if scored:
        print(f"score: {s['killed']}/{scored} ({100 * s['killed'] / scored:.1f}%)")
    listed = subprocess.run([str(BIN / "mutmut"), "results"], capture_output=True, text=True).stdout
    survivors = [ln.strip() for ln in listed.splitlines() if ln.strip()]
    print(f"survivors and mutants no fast test reaches ({len(survivors)}):")
    for line in survivors:
        print(f"  {line}")
    unexplained, messages = [], []
    for line in survivors:
        name, _, outcome = line.partition(": ")
        if outcome not in ("survived", "no tests") or not decides_a_cent(name) or name in EQUIVALENT:
            continue
        (messages if message_only(name) else unexplained).append(name)
    explained = [n for n in EQUIVALENT if any(ln.startswith(n + ":") for ln in survivors)]
    for name in explained:
        print(f"  equivalent: {name}: {EQUIVALENT[name]}")
    for name in unexplained:
        print(f"  NO REASON: {name} survived, or no fast test reaches it, in a function that decides a cent: "
              "a test is missing")
    print(by_module())
    print(f"in the modules that decide a cent ({', '.join(CENT_MODULES)}): {len(messages)} change only a "
          f"message's text, {len(explained)} are equivalent with their reason, {len(unexplained)} have none")
    return 1 if unexplained else 0


def by_module() -> str:
    """A table of each module's outcomes, from ``mutmut results --all true``."""
    listed = subprocess.run([str(BIN / "mutmut"), "results", "--all", "true"], capture_output=True, text=True).stdout
    outcomes = ("killed", "survived", "no tests", "timeout", "not checked")
    counts: dict[str, dict[str, int]] = {}
    for line in listed.splitlines():
        name, _, outcome = line.strip().partition(": ")
        module = name.removeprefix("pennytrail.core.").split(".")[0]
        row = counts.setdefault(module, dict.fromkeys(outcomes, 0))
        row[outcome if outcome in row else "not checked"] += 1
    lines = ["| module | " + " | ".join(outcomes) + " |", "|---" * (len(outcomes) + 1) + "|"]
    lines += [f"| {m} | " + " | ".join(str(counts[m][o]) for o in outcomes) + " |" for m in sorted(counts)]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
