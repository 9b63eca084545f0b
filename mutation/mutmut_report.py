"""After `mutmut run`: print the score of the core's Python mutants and every survivor.

    .venv/bin/python mutation/mutmut_report.py

The score is killed ÷ (killed + survived + timed out + no tests): a mutant that no fast test
reaches counts against it. Survivors are listed by mutmut's name (``mutmut show NAME`` prints
the change)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def main() -> int:
    subprocess.run([str(BIN / "mutmut"), "export-cicd-stats"], check=True, capture_output=True)
    s = json.loads(Path("mutants/mutmut-cicd-stats.json").read_text(encoding="utf-8"))
    scored = s["killed"] + s["survived"] + s["timeout"] + s["no_tests"]
    print(f"mutmut (pennytrail/core): {s['total']} mutants, killed {s['killed']}, survived {s['survived']}, "
          f"no tests {s['no_tests']}, timed out {s['timeout']}, skipped {s['skipped']}, suspicious {s['suspicious']}")
    if scored:
        print(f"score: {s['killed']}/{scored} ({100 * s['killed'] / scored:.1f}%)")
    listed = subprocess.run([str(BIN / "mutmut"), "results"], capture_output=True, text=True).stdout
    survivors = [ln.strip() for ln in listed.splitlines() if ln.strip()]
    print(f"survivors and mutants no fast test reaches ({len(survivors)}):")
    for line in survivors:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
