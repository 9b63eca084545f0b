"""docs/rules.md explains every word the program shows: each status, exception code and table."""

import re
from pathlib import Path

import data_contracts
from pennytrail.core import reconcile

ROOT = Path(__file__).resolve().parents[1]
RULES = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")


def test_every_output_table_has_its_section():
    documented = set(re.findall(r"^### `([a-z_]+)`$", RULES.split("## Output tables", 1)[1], flags=re.M))
    assert set(data_contracts.OUTPUT_TABLES) <= documented


def test_every_code_and_status_the_reconciliation_writes_is_explained():
    sql = "\n".join(s for _, s in reconcile.STAGES)
    written = set(re.findall(r"'([A-Z][A-Z_]{2,})'", sql))
    assert written, "no codes found in the reconciliation"
    assert {c for c in written if f"`{c}`" not in RULES} == set()


def test_every_row_check_code_and_month_status_is_explained():
    from pennytrail.core import validate

    for check in validate.CHECKS:
        assert f"`{check.__name__.upper()}`" in RULES
    for status in ("open", "signed", "needs re-sign-off"):
        assert f"`{status}`" in RULES


def test_no_doc_points_at_a_file_the_repository_does_not_hold():
    """Every file a README, doc, contract or docstring names by path exists (a `<placeholder>`
    or a home folder's file excepted)."""
    import subprocess

    files = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True).stdout.split()
    files = [f for f in files if (ROOT / f).is_file()]
    held = set(files) | {str(Path(f).parent) for f in files}
    missing = []
    for name in files:
        # the layering test writes modules of its own (`assets/bad.py`) under a temporary root
        if not name.endswith((".md", ".py", ".yaml")) or name in ("tests/test_rules_doc.py", "tests/test_layers.py"):
            continue
        text = (ROOT / name).read_text(encoding="utf-8")
        if "SPEC.md" in text or "DOMAIN.md" in text:
            missing.append(f"{name} cites a rulebook the repository does not hold")
        for ref in re.findall(r"\b((?:docs|tests|bench|reports|pipelines|assets|data_contracts|pennytrail)/[\w./-]+\.(?:md|py|yaml|sql))\b", text):
            if "<" not in ref and ref not in held:
                missing.append(f"{name} names {ref}")
    assert missing == []
