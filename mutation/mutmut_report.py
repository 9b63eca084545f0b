"""After `mutmut run`: print the score of the core's Python mutants and every survivor, and hold
the survivors in the functions that decide a cent to a written reason.

    .venv/bin/python mutation/mutmut_report.py

The score is killed ÷ (killed + survived + timed out + no tests): a mutant that no fast test
reaches counts against it. Survivors are listed by mutmut's name (``mutmut show NAME`` prints
the change). A survivor in a module whose Python decides a cent (``CENT_MODULES``) must be a
change to a message's text only, or carry a reason in ``EQUIVALENT`` why it cannot change any
figure; otherwise the report names it and exits 1 (a test is missing). Mutants not run yet (a
run stopped early) are counted apart."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent

# the core's modules whose Python decides a figure: money, the split, the SQL the reconciliation
# runs, the conservation checks, what a buyer may see of workers, the row checks, a statement's
# verification
CENT_MODULES = ("money", "allocation", "reconcile", "conservation", "privacy", "validate", "statement")

# mutant name -> why it cannot change any figure
EQUIVALENT = {
    "pennytrail.core.money.x_round_half_up__mutmut_8":
        "x = 0 then gets the sign -1, and -1 × 0 is the integer 0 as well",
    "pennytrail.core.reconcile.x_split_sql__mutmut_4":
        "the default column names go into SQL, where DuckDB's identifiers ignore case: AMOUNT is amount",
    "pennytrail.core.reconcile.x_split_sql__mutmut_6":
        "the default column names go into SQL, where DuckDB's identifiers ignore case: SHARE is share",
    "pennytrail.core.statement.x_canonical__mutmut_5":
        "ensure_ascii=None is false, as ensure_ascii=False is: the same bytes",
    "pennytrail.core.validate.x__days__mutmut_2":
        "the dates come from pd.to_datetime, whose result is datetime64[ns]: to_numpy() gives that dtype anyway",
}


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
    unexplained = []
    for line in survivors:
        name, _, outcome = line.partition(": ")
        if outcome != "survived" or not decides_a_cent(name) or name in EQUIVALENT:
            continue
        if not message_only(name):
            unexplained.append(name)
    explained = [n for n in EQUIVALENT if any(ln.startswith(n + ":") for ln in survivors)]
    for name in explained:
        print(f"  equivalent: {name}: {EQUIVALENT[name]}")
    for name in unexplained:
        print(f"  NO REASON: {name} survived in a function that decides a cent: a test is missing")
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
