"""Reference data that contradicts itself stops the close, naming file, row and field."""

import pytest

from pennytrail.core.reference import ReferenceDataError, load_reference

from .conftest import write


def problems(data_dir):
    with pytest.raises(ReferenceDataError) as e:
        load_reference(data_dir)
    return [str(p) for p in e.value.problems]


def test_good_reference_loads(data_dir):
    ref = load_reference(data_dir)
    assert ref.program_of("G1").period_days == 7 and ref.units["cwt"] == ("lb", 100)


def test_two_rates_in_force_on_one_day(data_dir):
    with (data_dir / "reference/rates.csv").open("a") as f:
        f.write("FFP,tomatoes,0.02,lb,2025-06-01,2025-12-31\n")
    assert any("rates.csv row 4, effective_from" in p and "row 2" in p for p in problems(data_dir))


def test_rate_unit_missing_from_units(data_dir):
    with (data_dir / "reference/rates.csv").open("a") as f:
        f.write("FFP,peppers,0.02,bushel,2020-01-01,\n")
    assert any("rates.csv row 4, rate_unit" in p for p in problems(data_dir))


def test_grower_without_a_program(data_dir):
    with (data_dir / "reference/parties.csv").open("a") as f:
        f.write("G3,grower,Grower Three,\n")
    assert any("parties.csv row 8, program_id" in p for p in problems(data_dir))


def test_missing_file_and_bad_values_are_all_reported(data_dir):
    (data_dir / "reference/units.csv").unlink()
    assert problems(data_dir) == ["reference/units.csv: the file is missing"]


def test_bad_program_fields(data_dir):
    write(data_dir / "reference/programs.csv", """\
        program_id,name,currency,allocation_basis,grower_retention_pct,distribution_deadline_days,period_days,period_anchor
        FFP,Tomatoes,USD,pieces,0,14,7,2026-01-05
        MWD,Dairy,USD,hours,10.555,21,10,2026-01-05
        """)
    found = problems(data_dir)
    assert any("programs.csv row 2, allocation_basis" in p for p in found)
    assert any("programs.csv row 3, grower_retention_pct" in p for p in found)
