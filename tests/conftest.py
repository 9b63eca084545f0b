"""Shared fixtures: a generated demo program, closed once through the real Dagster graph."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# no test asserts wall time: Hypothesis's per-example deadline would, on a loaded machine
settings.register_profile("pennytrail", deadline=None)
settings.load_profile("pennytrail")

from pennytrail.generator import generate  # noqa: E402

# Under mutation testing (mutmut sets MUTANT_UNDER_TEST for each mutant's run), a mutant is killed
# by its first failing test: the files that check one function directly, in milliseconds, run
# before those that ingest a whole inbox, and the property tests, which draw many examples, last.
QUICK_FIRST = ("test_privacy.py", "test_row_messages.py", "test_row_checks.py", "test_money.py", "test_statement.py",
               "test_allocation.py", "test_ranges_and_ids.py", "test_reference.py", "test_reference_problems.py",
               "test_hostile_files.py")
LAST = ("test_properties.py",)


def pytest_collection_modifyitems(config, items):
    if "MUTANT_UNDER_TEST" not in os.environ:
        return
    rank = {name: i for i, name in enumerate(QUICK_FIRST)}
    rank.update({name: len(QUICK_FIRST) + 1 + i for i, name in enumerate(LAST)})
    items.sort(key=lambda item: rank.get(item.path.name, len(QUICK_FIRST)))  # stable: a file keeps its order


# One contract process per test process, kept warm from one close to the next. A close starts its
# data contract process (a second Python that imports Great Expectations, seconds of CPU) and
# stops it at its end; the suite runs a hundred closes in its two processes. Here a close's
# ``Contracts.stop`` hands a live process to the next close of the same test process instead of
# ending it, so GX is imported once per test process. The process judges each task from its
# arguments alone, so what a close is told does not depend on the close before. Tests of the
# process's own life (``tests/test_contracts.py``) and any test marked ``fresh_contracts`` get
# the product's behaviour; so does every close run as a command in a child process.
_warm: list = []


@pytest.fixture(autouse=True)
def warm_contract_process(request, monkeypatch):
    if request.node.get_closest_marker("fresh_contracts") or request.path.name == "test_contracts.py" \
            or os.environ.get("PENNYTRAIL_FRESH_CONTRACTS"):
        yield
        return
    from pipelines.contracts import Contracts

    def process(self):
        if self._process is not None and not self._process.alive:
            self._process = None
        if self._process is None:
            while _warm and self._process is None:
                candidate = _warm.pop()
                if candidate.alive:
                    self._process = candidate
            if self._process is None:
                self._process = start(self)
        return self._process

    def stop(self):
        self._ahead.clear()
        if self._process is not None:
            if self._process.alive:
                _warm.append(self._process)
            self._process = None

    start = Contracts.process
    monkeypatch.setattr(Contracts, "process", process)
    monkeypatch.setattr(Contracts, "stop", stop)
    yield


REFERENCE = {
    "programs.csv": """\
        program_id,name,currency,allocation_basis,grower_retention_pct,distribution_deadline_days,period_days,period_anchor
        FFP,Tomatoes,USD,units,0,14,7,2026-01-05
        MWD,Dairy,USD,hours,10,21,14,2026-01-05
        """,
    "parties.csv": """\
        party_id,party_type,name,program_id
        B1,buyer,Buyer One,
        B2,buyer,Buyer Two,
        R1,intermediary,Repacker,
        G1,grower,Grower One,FFP
        G2,grower,Grower Two,FFP
        D1,grower,Dairy One,MWD
        """,
    "rates.csv": """\
        program_id,commodity,rate,rate_unit,effective_from,effective_to
        FFP,tomatoes,0.01,lb,2020-01-01,
        MWD,milk,0.05,cwt,2020-01-01,
        """,
    "units.csv": """\
        unit,base_unit,factor
        lb,lb,1
        box_25lb,lb,25
        cwt,lb,100
        gal,gal,1
        """,
}


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(textwrap.dedent(text).encode(encoding))
    return path


_REFERENCES: dict[tuple, object] = {}


def reference_of(data_dir: Path):
    """``load_reference(data_dir)`` for tests whose subject is not the reference data: loaded once
    per set of reference files (by their bytes) and handed out as a fresh copy. The reference
    tests call ``load_reference`` itself; so a mutant of it runs against them, not against every
    test that only needs programs and rates as input."""
    import copy

    from pennytrail.core.reference import FILES, load_reference

    paths = [data_dir / "reference" / f"{name}.csv" for name in FILES]
    key = tuple(p.read_bytes() if p.exists() else None for p in paths)
    if key not in _REFERENCES:
        _REFERENCES[key] = load_reference(data_dir)
    return copy.deepcopy(_REFERENCES[key])


def small_data_dir(d: Path) -> Path:
    """``d`` made a data folder with small reference files and an empty inbox."""
    for name, text in REFERENCE.items():
        write(d / "reference" / name, text)
    (d / "inbox").mkdir(parents=True)
    return d


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder with small reference files and an empty inbox."""
    return small_data_dir(tmp_path / "data")


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("demo") / "data"
    generate(d, seed=1, scale="demo")
    return d


@pytest.fixture(scope="session")
def closed_demo(demo_data: Path, tmp_path_factory) -> Path:
    """HOME of a close of the demo program through the Dagster asset graph."""
    from pennytrail.app import close

    home = tmp_path_factory.mktemp("home")
    data = home / "data"
    shutil.copytree(demo_data, data)
    close(data, home, None, progress=lambda m: None)
    return home


@pytest.fixture(scope="session")
def boundary_home(tmp_path_factory) -> Path:
    """HOME of the hand-written boundary program (``tests/boundary_data.py``), closed once by the
    `pennytrail close` command (in process): files in, tables out."""
    from pennytrail.cli import main

    from .boundary_data import write_program

    home = tmp_path_factory.mktemp("boundary")
    write_program(home / "data")
    assert main(["close", "--data", str(home / "data"), "--home", str(home)]) == 0
    return home


# Spark for small programs: compiling a query plan to Java costs more than it saves on a few
# thousand rows, and so does the JIT's optimising compiler on a JVM that lives a minute
SPARK_TEST_SETTINGS = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}


@pytest.fixture(scope="session")
def spark_session():
    """The one Spark session of a test process (local[2], small memory), started when a test
    first asks for it; the reconciliation on Spark (``pennytrail.core.engines.spark``) runs on it."""
    from pennytrail.core.engines import spark

    session = spark.session("local[2]", memory="512m", partitions=2, settings=SPARK_TEST_SETTINGS)
    yield session
    session.stop()


@pytest.fixture
def far_east(monkeypatch):
    """The machine's clock set to a zone nine hours ahead of UTC (a server abroad): a time taken
    in local time instead of UTC is then nine hours off."""
    import time

    monkeypatch.setenv("TZ", "JST-9")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
