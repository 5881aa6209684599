from datetime import date

import pytest

from insights.periods import Period, PeriodError, buckets, parse_period, preset_period

TODAY = date(2026, 11, 23)  # a Monday


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("yesterday", date(2026, 11, 22), date(2026, 11, 22)),
        ("last_7_days", date(2026, 11, 16), date(2026, 11, 22)),
        ("last_30_days", date(2026, 10, 24), date(2026, 11, 22)),
        ("last_week", date(2026, 11, 16), date(2026, 11, 22)),
        ("last_month", date(2026, 10, 1), date(2026, 10, 31)),
        ("last_quarter", date(2026, 7, 1), date(2026, 9, 30)),
        ("last_year", date(2025, 1, 1), date(2025, 12, 31)),
        ("today", TODAY, TODAY),
        ("this_week", date(2026, 11, 23), date(2026, 11, 29)),
        ("this_month", date(2026, 11, 1), date(2026, 11, 30)),
        ("this_quarter", date(2026, 10, 1), date(2026, 12, 31)),
        ("this_year", date(2026, 1, 1), date(2026, 12, 31)),
        ("tomorrow", date(2026, 11, 24), date(2026, 11, 24)),
        ("next_7_days", date(2026, 11, 24), date(2026, 11, 30)),
        ("next_30_days", date(2026, 11, 24), date(2026, 12, 23)),
        ("next_week", date(2026, 11, 30), date(2026, 12, 6)),
        ("next_month", date(2026, 12, 1), date(2026, 12, 31)),
        ("next_quarter", date(2027, 1, 1), date(2027, 3, 31)),
        ("next_year", date(2027, 1, 1), date(2027, 12, 31)),
    ],
)
def test_presets_relative_to_today(preset, start, end):
    # when
    period = preset_period(preset, TODAY)
    # then
    assert (period.start, period.end, period.preset) == (start, end, preset)


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2026, 1, 1), date(2026, 3, 31), 3),
        (date(2026, 1, 15), date(2026, 2, 10), 2),
        (date(2026, 1, 3), date(2026, 1, 9), 1),
        (date(2025, 12, 31), date(2026, 1, 1), 2),
    ],
)
def test_months_of_a_period(start, end, months):
    period = Period(start, end)
    assert period.month_count == months
    assert len(period.months()) == months


def test_iso_week_buckets_cross_the_year_boundary_and_are_cut_to_the_period():
    # given: Tue 2025-12-30 .. Wed 2026-01-14; ISO week 1 of 2026 starts Mon 2025-12-29
    period = Period(date(2025, 12, 30), date(2026, 1, 14))
    # when
    result = buckets(period, "week")
    # then
    assert [(b.start, b.end) for b in result] == [
        (date(2025, 12, 30), date(2026, 1, 4)),
        (date(2026, 1, 5), date(2026, 1, 11)),
        (date(2026, 1, 12), date(2026, 1, 14)),
    ]


def test_auto_granularity_thresholds():
    assert len(buckets(Period(date(2026, 1, 1), date(2026, 1, 31)), "auto")) == 31
    # 32 days: weeks
    assert buckets(Period(date(2026, 1, 1), date(2026, 2, 1)), "auto")[0].end == date(2026, 1, 4)
    # 184 days: months
    months = buckets(Period(date(2026, 1, 1), date(2026, 7, 3)), "auto")
    assert [b.start.month for b in months] == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"preset": "last_decade"}, "preset"),
        ({"preset": "today", "start": "2026-01-01"}, "preset"),
        ({"start": "2026-01-01"}, "end"),
        ({"end": "2026-01-01"}, "start"),
        ({"start": "2026-02-30", "end": "2026-03-01"}, "start"),
        ({"start": "2026-3-1", "end": "2026-03-01"}, "start"),
        ({"start": "2026-W01-1", "end": "2026-03-01"}, "start"),
        ({"start": "0001-01-01", "end": "9999-12-31"}, "end"),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "start"),
    ],
)
def test_bad_period_parameters_name_the_parameter(kwargs, param):
    with pytest.raises(PeriodError) as error:
        parse_period(today=TODAY, **kwargs)
    assert error.value.param == param


def test_no_parameters_means_last_30_days():
    assert parse_period(today=TODAY) == preset_period("last_30_days", TODAY)


def test_too_many_buckets_is_a_granularity_error():
    # given: 1,001 days by day
    period = Period(date(2020, 1, 1), date(2022, 9, 27))
    # when / then
    with pytest.raises(PeriodError) as error:
        buckets(period, "day")
    assert error.value.param == "granularity"
    assert len(buckets(period, "week")) == 144
