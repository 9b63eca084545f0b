"""Every problem reference data can have, each named exactly (file, row, field and what was
expected), every one of them reported rather than the first, and the values at the edges of each
range accepted. Reference data that loads is read into exactly what the files say."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from pennytrail.core.reference import Program, Rate, ReferenceDataError, load_reference

from .conftest import write


def problems(data_dir) -> list[str]:
    with pytest.raises(ReferenceDataError) as e:
        load_reference(data_dir)
    return [str(p) for p in e.value.problems]


def append(data_dir, file: str, *lines: str) -> None:
    with (data_dir / "reference" / file).open("a", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))


# the small reference (tests/conftest.py) has 2 programs, 6 parties, 2 rates and 4 units: a row
# appended is row 4 of programs.csv and rates.csv, row 8 of parties.csv, row 6 of units.csv
@pytest.mark.parametrize("file,line,problem", [
    ("units.csv", ",lb,5", "units.csv row 6, unit: a value is required"),
    ("units.csv", ",,5", "units.csv row 6, unit: a value is required"),
    ("units.csv", "crate,,5", "units.csv row 6, base_unit: a value is required"),
    ("units.csv", "crate,lb,five", "units.csv row 6, factor: expected a plain number such as 12.5, got 'five'"),
    ("units.csv", "crate,lb,0", "units.csv row 6, factor: expected a number above 0 and at most 1,000,000, got '0'"),
    ("units.csv", "crate,lb,0.0000001", "units.csv row 6, factor: expected at most 6 decimal places, got '0.0000001'"),
    ("units.csv", "crate,lb,1000000.000001",
     "units.csv row 6, factor: expected a number above 0 and at most 1,000,000, got '1000000.000001'"),
    ("units.csv", "cwt,lb,100", "units.csv row 6, unit: 'cwt' is listed twice"),
    ("units.csv", "kg,kg,2", "units.csv, factor: base unit 'kg' must have factor 1"),
    ("units.csv", "pallet,cwt,10", "units.csv, base_unit: 'pallet' names base unit 'cwt', which is not a base unit"),
    ("units.csv", "cr\u200bate,lb,5",
     "units.csv row 6, unit: 'cr\\u200bate' holds an invisible character at position 3 (U+200B ZERO WIDTH SPACE): "
     "remove it"),
    ("programs.csv", ",X,USD,units,0,14,7,2026-01-05", "programs.csv row 4, program_id: a value is required"),
    ("programs.csv", "P3,X,USD,pieces,0,14,7,2026-01-05",
     "programs.csv row 4, allocation_basis: expected one of units, hours, gross_wages, equal, got 'pieces'"),
    ("programs.csv", "P3,X,USD,units,ten,14,7,2026-01-05",
     "programs.csv row 4, grower_retention_pct: expected a plain number such as 12.5, got 'ten'"),
    ("programs.csv", "P3,X,USD,units,100.01,14,7,2026-01-05",
     "programs.csv row 4, grower_retention_pct: expected 0 to 100, got '100.01'"),
    ("programs.csv", "P3,X,USD,units,-0.01,14,7,2026-01-05",
     "programs.csv row 4, grower_retention_pct: expected 0 to 100, got '-0.01'"),
    ("programs.csv", "P3,X,USD,units,0,3661,7,2026-01-05",
     "programs.csv row 4, distribution_deadline_days: expected a whole number of days from 0 to 3,660 (ten years), "
     "got '3661'"),
    ("programs.csv", "P3,X,USD,units,0,14,10,2026-01-05", "programs.csv row 4, period_days: expected 7 or 14, got '10'"),
    ("programs.csv", "P3,X,USD,units,0,14,7,2026-02-30",
     "programs.csv row 4, period_anchor: expected a date YYYY-MM-DD, got '2026-02-30'"),
    ("programs.csv", "FFP,X,USD,units,0,14,7,2026-01-05", "programs.csv row 4, program_id: 'FFP' is listed twice"),
    ("parties.csv", ",buyer,X,", "parties.csv row 8, party_id: a value is required"),
    ("parties.csv", "X1,seller,X,",
     "parties.csv row 8, party_type: expected one of buyer, grower, intermediary, got 'seller'"),
    ("parties.csv", "G9,grower,X,", "parties.csv row 8, program_id: grower 'G9' has no program"),
    ("parties.csv", "G9,grower,X,NOPE", "parties.csv row 8, program_id: program 'NOPE' is not in programs.csv"),
    ("parties.csv", "B9,buyer,X,NOPE", "parties.csv row 8, program_id: program 'NOPE' is not in programs.csv"),
    ("parties.csv", "B1,buyer,X,", "parties.csv row 8, party_id: 'B1' is listed twice"),
    ("rates.csv", "NOPE,tomatoes,0.01,lb,2020-01-01,", "rates.csv row 4, program_id: program 'NOPE' is not in programs.csv"),
    ("rates.csv", "FFP,,0.01,lb,2020-01-01,", "rates.csv row 4, commodity: a value is required"),
    ("rates.csv", "FFP,peppers,one,lb,2020-01-01,",
     "rates.csv row 4, rate: expected a plain number such as 12.5, got 'one'"),
    ("rates.csv", "FFP,peppers,-0.000001,lb,2020-01-01,",
     "rates.csv row 4, rate: expected dollars per rate unit from 0 to 1,000, got '-0.000001'"),
    ("rates.csv", "FFP,peppers,1000.000001,lb,2020-01-01,",
     "rates.csv row 4, rate: expected dollars per rate unit from 0 to 1,000, got '1000.000001'"),
    ("rates.csv", "FFP,peppers,0.0000001,lb,2020-01-01,",
     "rates.csv row 4, rate: expected at most 6 decimal places, got '0.0000001'"),
    ("rates.csv", "FFP,peppers,0.01,bushel,2020-01-01,", "rates.csv row 4, rate_unit: unit 'bushel' is not in units.csv"),
    ("rates.csv", "FFP,peppers,0.01,lb,2020-1-1,",
     "rates.csv row 4, effective_from: expected a date YYYY-MM-DD, got '2020-1-1'"),
    ("rates.csv", "FFP,peppers,0.01,lb,2020-01-01,someday",
     "rates.csv row 4, effective_to: expected a date YYYY-MM-DD or blank, got 'someday'"),
    ("rates.csv", "FFP,peppers,0.01,lb,2020-01-02,2020-01-01",
     "rates.csv row 4, effective_to: 2020-01-01 is before effective_from 2020-01-02"),
])
def test_each_problem_names_its_file_row_and_field_and_what_was_expected(data_dir, file, line, problem):
    append(data_dir, file, line)
    assert problems(data_dir) == ["reference/" + problem]


@pytest.mark.parametrize("file,line", [
    ("units.csv", "crate,lb,0.000001"), ("units.csv", "pallet,lb,1000000"),
    ("programs.csv", "P3,X,USD,equal,0,0,7,2026-01-05"), ("programs.csv", "P3,X,USD,gross_wages,100,3660,14,2026-01-04"),
    ("rates.csv", "FFP,peppers,0,lb,2020-01-01,"), ("rates.csv", "FFP,peppers,1000,lb,2020-01-01,2020-01-01"),
])
def test_the_values_at_the_edges_of_each_range_load(data_dir, file, line):
    append(data_dir, file, line)
    load_reference(data_dir)


def test_every_problem_of_every_file_is_reported_not_the_first(data_dir):
    append(data_dir, "units.csv", "crate,lb,0", "crate,lb,5", "crate,lb,6", "pallet,box_25lb,2", ",lb,5",
           "bin,lb,five", "cwt,lb,100")
    append(data_dir, "programs.csv", "P3,X,USD,pieces,0,14,7,2026-01-05", "P4,X,USD,units,0,14,10,2026-01-05")
    append(data_dir, "parties.csv", "X1,seller,X,", "G9,grower,X,P3", "G1,grower,Grower One,FFP")
    append(data_dir, "rates.csv", "FFP,,0.01,lb,2020-01-01,", "MWD,milk,0.06,bushel,2020-01-01,",
           "FFP,tomatoes,0.02,lb,2026-01-01,")
    assert problems(data_dir) == [
        "reference/units.csv row 6, factor: expected a number above 0 and at most 1,000,000, got '0'",
        "reference/units.csv row 8, unit: 'crate' is listed twice",
        "reference/units.csv row 10, unit: a value is required",
        "reference/units.csv row 11, factor: expected a plain number such as 12.5, got 'five'",
        "reference/units.csv row 12, unit: 'cwt' is listed twice",
        "reference/units.csv, base_unit: 'pallet' names base unit 'box_25lb', which is not a base unit",
        "reference/programs.csv row 4, allocation_basis: expected one of units, hours, gross_wages, equal, got 'pieces'",
        "reference/programs.csv row 5, period_days: expected 7 or 14, got '10'",
        "reference/parties.csv row 8, party_type: expected one of buyer, grower, intermediary, got 'seller'",
        "reference/parties.csv row 9, program_id: program 'P3' is not in programs.csv",
        "reference/parties.csv row 10, party_id: 'G1' is listed twice",
        "reference/rates.csv row 4, commodity: a value is required",
        "reference/rates.csv row 5, rate_unit: unit 'bushel' is not in units.csv",
        "reference/rates.csv row 6, effective_from: two rates in force for FFP/tomatoes on the same days "
        "(this row and row 2)",
    ]


def test_the_problems_of_reading_each_file_are_all_reported(data_dir):
    """A missing file, a missing column, a file that is not text and an id that is not what it
    shows: each file's problem, whichever comes first."""
    (data_dir / "reference/programs.csv").unlink()
    write(data_dir / "reference/parties.csv", "party_id,party_type,name\nB1,buyer,Buyer One\n")
    (data_dir / "reference/rates.csv").write_bytes(b"program_id,commodity\xff\n")
    append(data_dir, "units.csv", "cr\u200bate,lb,5", "\uff4b\uff47,\uff4b\uff47,1")
    found = problems(data_dir)
    assert found[:2] == ["reference/programs.csv: the file is missing",
                         "reference/parties.csv row 1, program_id: required column missing from the header"]
    assert found[2].startswith("reference/rates.csv: ") and "UTF-8" in found[2]
    assert found[3:] == [
        "reference/units.csv row 6, unit: 'cr\\u200bate' holds an invisible character at position 3 "
        "(U+200B ZERO WIDTH SPACE): remove it"] + found[4:] and len(found) == 6
    assert all(p.startswith("reference/units.csv row 7, ") for p in found[4:])


def test_a_file_that_cannot_be_read_at_all_is_named_with_what_to_do(data_dir, monkeypatch):
    from pennytrail.core import reference

    def fails(path, *args):
        if path.name == "rates.csv":
            raise OSError("disk")
        return read(path, *args)
    read = reference.read_table
    monkeypatch.setattr(reference, "read_table", fails)
    (data_dir / "reference/units.csv").unlink()
    assert problems(data_dir) == [
        "reference/rates.csv: the file cannot be read (OSError); save it again as CSV UTF-8",
        "reference/units.csv: the file is missing"]


def test_two_missing_columns_are_named_together(data_dir):
    write(data_dir / "reference/units.csv", "unit\nlb\n")
    write(data_dir / "reference/parties.csv", "party_id,party_type\nB1,buyer\n")
    assert problems(data_dir) == [
        "reference/parties.csv row 1, name, program_id: required column missing from the header",
        "reference/units.csv row 1, base_unit, factor: required column missing from the header"]


def test_reference_data_is_read_into_exactly_what_the_files_say(data_dir):
    append(data_dir, "units.csv", "crate,lb,2.5", "l,gal2,1")
    append(data_dir, "rates.csv", "MWD,cream,0.125,gal,2026-01-05,2026-03-31")
    ref = load_reference(data_dir)
    assert ref.programs == {
        "FFP": Program("FFP", "Tomatoes", "USD", "units", Decimal(0), 14, 7, dt.date(2026, 1, 5)),
        "MWD": Program("MWD", "Dairy", "USD", "hours", Decimal(10), 21, 14, dt.date(2026, 1, 5))}
    assert ref.parties == {"B1": ("buyer", "Buyer One", None), "B2": ("buyer", "Buyer Two", None),
                           "R1": ("intermediary", "Repacker", None), "G1": ("grower", "Grower One", "FFP"),
                           "G2": ("grower", "Grower Two", "FFP"), "D1": ("grower", "Dairy One", "MWD")}
    assert ref.rates == [Rate("FFP", "tomatoes", Decimal("0.01"), "lb", dt.date(2020, 1, 1), None),
                         Rate("MWD", "milk", Decimal("0.05"), "cwt", dt.date(2020, 1, 1), None),
                         Rate("MWD", "cream", Decimal("0.125"), "gal", dt.date(2026, 1, 5), dt.date(2026, 3, 31))]
    assert ref.units == {"lb": ("lb", 1), "box_25lb": ("lb", 25), "cwt": ("lb", 100), "gal": ("gal", 1),
                         "crate": ("lb", Decimal("2.5")), "l": ("gal2", 1), "gal2": ("gal2", 1)}
    assert [type(f) for _, f in ref.units.values()] == [Decimal] * 7
    assert ref.program_of("G1").program_id == "FFP" and ref.program_of("B1") is None
    assert ref.program_of("nobody") is None


def test_the_error_shows_five_problems_joined_and_counts_the_rest(data_dir):
    append(data_dir, "units.csv", *[f"u{i},lb,0" for i in range(7)])
    with pytest.raises(ReferenceDataError) as e:
        load_reference(data_dir)
    first = "reference/units.csv row {}, factor: expected a number above 0 and at most 1,000,000, got '0'"
    assert str(e.value) == ("reference data is inconsistent: " + "; ".join(first.format(n) for n in range(6, 11))
                            + " (and 2 more)")
