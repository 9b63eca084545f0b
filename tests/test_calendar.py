"""The senders' calendar (core.calendar): what each sender owes, its due date and its status,
on small inline facts a reader can check by hand."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from pennytrail.core import calendar as cal

D = dt.date.fromisoformat
WEEKLY = cal.Program("FFP", deadline_days=14, period_days=7, anchor=D("2026-01-05"))
PARTIES = {"T1": ("grower", "FFP"), "B1": ("buyer", None), "R1": ("intermediary", None)}


def facts(**changes) -> cal.Facts:
    base = dict(as_of=D("2026-03-10"), programs={"FFP": WEEKLY}, parties=PARTIES, grower_work_dates={},
                buyer_first={}, seller_first={}, received=set(), nil_returns=set())
    return cal.Facts(**{**base, **changes})


def test_period_of__aligned_to_the_anchor_before_and_after_it():
    assert cal.period_of(D("2026-01-05"), WEEKLY.anchor, 7) == D("2026-01-05")
    assert cal.period_of(D("2026-01-11"), WEEKLY.anchor, 7) == D("2026-01-05")
    assert cal.period_of(D("2026-01-12"), WEEKLY.anchor, 7) == D("2026-01-12")
    assert cal.period_of(D("2026-01-04"), WEEKLY.anchor, 7) == D("2025-12-29")


def test_a_growers_payroll_is_owed_for_each_pay_period_of_its_purchase_lines():
    found = cal.items(facts(grower_work_dates={"T1": {D("2026-01-06"), D("2026-01-08"), D("2026-01-20")}},
                            received={("T1", "payroll", "2026-01-05")}))
    assert [(i.kind, i.period, i.period_end, i.due, i.status) for i in found] == [
        ("payroll", "2026-01-05", D("2026-01-11"), D("2026-01-25"), "received"),
        ("payroll", "2026-01-19", D("2026-01-25"), D("2026-02-08"), "late"),
    ]


def test_payroll_due_on_the_deadline_is_not_late_until_the_day_after():
    lines = {"T1": {D("2026-02-23")}}  # period 2026-02-23..03-01, due 03-15
    assert cal.items(facts(grower_work_dates=lines, as_of=D("2026-03-15")))[0].status == "missing"
    assert cal.items(facts(grower_work_dates=lines, as_of=D("2026-03-16")))[0].status == "late"


def test_a_buyer_owes_purchases_and_payments_every_month_from_its_first_through_the_as_of_month():
    found = cal.items(facts(buyer_first={"B1": D("2026-01-20")},
                            received={("B1", "purchases", "2026-01"), ("B1", "payments", "2026-02")},
                            nil_returns={("B1", "purchases", "2026-02")}))
    shown = [(i.kind, i.period, i.due.isoformat(), i.status, i.nil_return) for i in found]
    assert shown == [
        ("purchases", "2026-01", "2026-02-04", "received", False),
        ("purchases", "2026-02", "2026-03-04", "received", True),
        ("purchases", "2026-03", "2026-04-04", "missing", False),
        ("payments", "2026-01", "2026-02-04", "late", False),
        ("payments", "2026-02", "2026-03-04", "received", False),
        ("payments", "2026-03", "2026-04-04", "missing", False),
    ]


def test_only_a_seller_that_ever_reported_sales_owes_sales():
    found = cal.items(facts(seller_first={"R1": D("2026-02-01")}, grower_work_dates={}))
    assert [(i.party_id, i.kind, i.period) for i in found] == [("R1", "sales", "2026-02"), ("R1", "sales", "2026-03")]


def test_rows_received_win_over_a_nil_return_and_nothing_is_owed_before_any_close():
    key = ("B1", "purchases", "2026-01")
    got = cal.items(facts(buyer_first={"B1": D("2026-01-02")}, as_of=D("2026-01-31"), received={key},
                          nil_returns={key}))
    assert [(i.status, i.nil_return) for i in got if i.kind == "purchases"] == [("received", False)]
    assert cal.items(facts(buyer_first={"B1": D("2026-01-02")}, as_of=None)) == []


def test_month_due_across_the_year_end():
    assert cal.month_due("2025-12") == D("2026-01-04")
    assert cal.months_from(D("2025-11-30"), D("2026-02-01")) == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_a_reminder_names_an_open_item_once_per_interval_and_never_a_received_one():
    found = cal.items(facts(buyer_first={"B1": D("2026-03-01")}, received={("B1", "payments", "2026-03")}))
    now = dt.datetime(2026, 3, 10, 8, tzinfo=dt.timezone.utc)
    week = dt.timedelta(days=7)
    first = cal.due_reminders(found, {}, now, week)
    assert [(i.kind, i.period) for i in first] == [("purchases", "2026-03")]
    sent = {i.key: now for i in first}
    assert cal.due_reminders(found, sent, now + dt.timedelta(days=6), week) == []
    assert cal.due_reminders(found, sent, now + week, week) == first


dates = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2027, 12, 31))


@settings(max_examples=60, deadline=None)
@given(work=st.dictionaries(st.sampled_from(["T1", "T2"]), st.sets(dates, min_size=1, max_size=12), max_size=2),
       first=st.dictionaries(st.sampled_from(["B1", "R1"]), dates, max_size=2),
       as_of=dates, days=st.sampled_from([7, 14]), deadline=st.integers(0, 60),
       got=st.sets(st.integers(0, 40), max_size=10))
def test_every_owed_period_is_listed_once_with_one_status_and_a_due_date_after_it_ends(work, first, as_of, days,
                                                                                     deadline, got):
    program = cal.Program("FFP", deadline, days, D("2026-01-05"))
    parties = {"T1": ("grower", "FFP"), "T2": ("grower", "FFP"), "B1": ("buyer", None), "R1": ("intermediary", None)}
    base = facts(programs={"FFP": program}, parties=parties, grower_work_dates=work,
                 buyer_first={k: v for k, v in first.items() if k == "B1"},
                 seller_first={k: v for k, v in first.items() if k == "R1"}, as_of=as_of)
    listed = cal.items(base)
    received = {listed[n].key for n in got if n < len(listed)}
    found = cal.items(facts(**{**base.__dict__, "received": received}))
    keys = [i.key for i in found]
    assert len(keys) == len(set(keys))
    # every purchase line's pay period is owed, and nothing else of a grower
    owed = {(g, "payroll", cal.period_of(d, program.anchor, days).isoformat()) for g, ds in work.items() for d in ds}
    assert {k for k in keys if k[1] == "payroll"} == owed
    for i in found:
        assert i.due >= i.period_end
        assert i.status == ("received" if i.key in received else "late" if as_of > i.due else "missing")
        if i.kind != "payroll":
            assert first[i.party_id] <= i.period_end and i.period <= cal.month_of(as_of)
    assert sum(cal.counts(found).values()) == len(found)


def test_a_file_sent_since_the_close_is_noted_and_not_reminded_until_a_close_reads_it():
    key = ("B1", "purchases", "2026-02")
    base = dict(buyer_first={"B1": D("2026-02-02")}, as_of=D("2026-03-10"), submitted={key: "S-000007"})
    item = next(i for i in cal.items(facts(**base)) if i.key == key)
    assert (item.status, item.submitted) == ("late", "S-000007")  # still late: no close has read it
    now = dt.datetime(2026, 3, 10, tzinfo=dt.timezone.utc)
    assert key not in {i.key for i in cal.due_reminders(cal.items(facts(**base)), {}, now, dt.timedelta(days=7))}
    read = next(i for i in cal.items(facts(**base, received={key})) if i.key == key)
    assert (read.status, read.submitted) == ("received", None)
