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


PROGRAM = "MWD,Dairy,USD,hours,10,{days},14,{anchor}\n"


@pytest.mark.parametrize("days", ["²", "99999999999", "3,000,000", "3661", "-1", "1.5", "٣"])
def test_a_deadline_that_is_not_a_sane_number_of_days_names_file_row_and_field(data_dir, days):
    path = data_dir / "reference/programs.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[1] + PROGRAM.format(days=f'"{days}"', anchor="2026-01-05"))
    found = problems(data_dir)
    assert found[0].startswith("reference/programs.csv row 3, distribution_deadline_days")
    assert "3,660" in found[0]


@pytest.mark.parametrize("anchor", ["２０２６-01-05", "2026-1-5", "20260105"])
def test_a_date_in_another_form_names_the_field(data_dir, anchor):
    path = data_dir / "reference/programs.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[1] + PROGRAM.format(days="21", anchor=anchor))
    assert any("programs.csv row 3, period_anchor" in p for p in problems(data_dir))


@pytest.mark.parametrize("file,line,field", [
    ("rates.csv", "FFP,peppers,1000.01,lb,2020-01-01,\n", "rate"),
    ("rates.csv", "FFP,peppers,99999999999999999999,lb,2020-01-01,\n", "rate"),
    ("units.csv", "truck,lb,1000001\n", "factor"),
    ("parties.csv", "G\u200b3,grower,Grower Three,FFP\n", "party_id"),
    ("rates.csv", "FFP,tomatoe\u0455,0.01,lb,2020-01-01,\n", "commodity"),
])
def test_reference_values_past_their_range_or_with_invisible_characters(data_dir, file, line, field):
    with (data_dir / "reference" / file).open("a", encoding="utf-8") as f:
        f.write(line)
    assert any(f"{file} row" in p and f", {field}:" in p for p in problems(data_dir))


def test_an_unreadable_reference_file_is_a_problem_not_a_crash(data_dir):
    (data_dir / "reference/units.csv").write_bytes("unit,base_unit,factor\nlb,lb,1\n".encode("utf-16"))
    found = problems(data_dir)
    assert found[0].startswith("reference/units.csv: the file is UTF-16")


RATES_HEADER = "program_id,commodity,rate,rate_unit,effective_from,effective_to\n"


@pytest.mark.parametrize("first,second,overlap", [
    (("2026-01-01", "2026-01-31"), ("2026-02-01", ""), False),            # the next rate starts the day after
    (("2026-01-01", "2026-01-31"), ("2026-01-31", ""), True),             # ... or on the last day: one day of two
    (("2026-02-01", ""), ("2026-01-01", "2026-02-01"), True),             # an earlier rate ending on the first day
    (("2026-02-01", ""), ("2026-01-01", "2026-01-31"), False),            # ... or the day before
    (("2026-03-01", "2026-03-31"), ("2026-01-01", "2026-01-31"), False),  # listed out of order, apart
    (("2026-01-01", ""), ("2025-06-01", ""), True),                       # two open-ended rates
])
def test_two_rates_overlap_when_they_share_a_day_both_ends_inclusive(data_dir, first, second, overlap):
    write(data_dir / "reference/rates.csv", RATES_HEADER + "".join(
        f"FFP,tomatoes,0.0{i},lb,{start},{end}\n" for i, (start, end) in enumerate((first, second), 1))
        + "MWD,milk,0.05,cwt,2020-01-01,\n")
    if overlap:
        assert any("rates.csv row 3, effective_from" in p and "row 2" in p for p in problems(data_dir))
    else:
        rates = [(str(r.rate), r.effective_from.isoformat()) for r in load_reference(data_dir).rates
                 if r.commodity == "tomatoes"]
        assert rates == [("0.01", first[0]), ("0.02", second[0])]


@pytest.mark.parametrize("n,more", [(5, ""), (6, " (and 1 more)"), (8, " (and 3 more)")])
def test_the_error_names_the_first_five_problems_and_counts_the_rest(data_dir, n, more):
    write(data_dir / "reference/units.csv", "unit,base_unit,factor\nlb,lb,1\ncwt,lb,100\nbox_25lb,lb,25\n"
          + "".join(f"u{i},lb,0\n" for i in range(n)))
    with pytest.raises(ReferenceDataError) as e:
        load_reference(data_dir)
    message = str(e.value)
    assert len(e.value.problems) == n and message.startswith("reference data is inconsistent: ")
    assert message.endswith("got '0'" + more) and message.count("units.csv row") == 5
