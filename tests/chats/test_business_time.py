"""Business time (METRICS.md §L): hand-computed cases for every rule, and a brute-force check."""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chats.business_time import (
    DEFAULT_BUSINESS_HOURS,
    BusinessCalendar,
    BusinessHoursError,
    parse_business_hours,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
BERLIN = ZoneInfo("Europe/Berlin")
SPLIT = "mon-fri 08:00-12:00,13:00-17:00;sat 09:00-13:00"
HOUR = 3600


def calendar(hours=DEFAULT_BUSINESS_HOURS, *, zone=JAKARTA, holidays=()):
    return BusinessCalendar(
        schedule=parse_business_hours(hours),
        holidays=holidays,
        zone=zone,
        first=date(2025, 12, 1),
        last=date(2027, 12, 31),
    )


def at(zone, *args):
    return datetime(*args, tzinfo=zone)


# --- the schedule ---------------------------------------------------------------------------


def test_the_default_schedule_is_monday_to_friday_eight_to_five():
    assert parse_business_hours(DEFAULT_BUSINESS_HOURS) == (
        ((480, 1020),),
        ((480, 1020),),
        ((480, 1020),),
        ((480, 1020),),
        ((480, 1020),),
        (),
        (),
    )


def test_several_ranges_a_day_and_day_lists():
    week = parse_business_hours("mon,wed-thu 13:00-17:00, 08:00-12:00 ; sat 09:00-24:00")
    assert week[0] == week[2] == week[3] == ((480, 720), (780, 1020))
    assert week[1] == week[4] == week[6] == ()
    assert week[5] == ((540, 1440),)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "is empty"),
        ("mon-fri", "needs days and times"),
        ("mon-fry 08:00-17:00", "'fry' in 'mon-fry 08:00-17:00' is not a day"),
        ("fri-mon 08:00-17:00", "runs backwards"),
        ("mon 8am-5pm", "is not a time"),
        ("mon 08:00-24:30", "'24:30' in 'mon 08:00-24:30' is not a time of day"),
        ("mon 08:61-09:00", "is not a time of day"),
        ("mon 17:00-08:00", "ends at or before it starts"),
        ("mon 08:00", "is not a range"),
        ("mon-fri 08:00-12:00,11:00-17:00", "the ranges of mon overlap"),
        ("mon 08:00-12:00;mon-tue 11:00-13:00", "the ranges of mon overlap"),
    ],
)
def test_a_bad_schedule_is_refused_with_its_reason(text, says):
    with pytest.raises(BusinessHoursError, match="INSIGHTS_BUSINESS_HOURS") as error:
        parse_business_hours(text)
    assert says in str(error.value)


# --- business time ---------------------------------------------------------------------------


def test_a_room_opened_on_saturday_and_answered_monday_at_0805_waited_five_minutes():
    cal = calendar()
    assert cal.business_seconds(at(JAKARTA, 2026, 12, 5, 10), at(JAKARTA, 2026, 12, 7, 8, 5)) == 300


def test_across_midnight_and_the_weekend():
    cal = calendar()
    # Friday 16:00 to Monday 09:00: one hour on Friday, one on Monday.
    assert cal.business_seconds(at(JAKARTA, 2026, 12, 4, 16), at(JAKARTA, 2026, 12, 7, 9)) == (
        2 * HOUR
    )
    # Tuesday 20:00 to Wednesday 07:59: none.
    assert cal.business_seconds(at(JAKARTA, 2026, 12, 8, 20), at(JAKARTA, 2026, 12, 9, 7, 59)) == 0
    # Both ends outside hours on the same evening, and a whole working day between.
    assert cal.business_seconds(at(JAKARTA, 2026, 12, 8, 18), at(JAKARTA, 2026, 12, 9, 18)) == (
        9 * HOUR
    )


def test_whole_seconds_rounded_down():
    cal = calendar()
    start = at(JAKARTA, 2026, 12, 8, 9, 0, 0, 500_000)
    assert cal.business_seconds(start, at(JAKARTA, 2026, 12, 8, 9, 0, 10, 200_000)) == 9
    assert cal.business_seconds(start, start) == 0


def test_a_holiday_has_no_business_hours():
    cal = calendar(holidays=[date(2026, 12, 7)])  # a Monday
    # Friday 16:30 to Tuesday 08:10: 30 minutes on Friday, 10 on Tuesday.
    assert (
        cal.business_seconds(at(JAKARTA, 2026, 12, 4, 16, 30), at(JAKARTA, 2026, 12, 8, 8, 10))
        == 40 * 60
    )
    assert cal.business_seconds(at(JAKARTA, 2026, 12, 7, 9), at(JAKARTA, 2026, 12, 7, 16)) == 0


def test_several_ranges_a_day():
    cal = calendar(SPLIT)
    # Monday 11:30 to 13:30: the lunch hour does not count.
    assert cal.business_seconds(
        at(JAKARTA, 2026, 12, 7, 11, 30), at(JAKARTA, 2026, 12, 7, 13, 30)
    ) == (HOUR)
    # Friday 16:00 to Saturday 10:00; Saturday 12:00 to Monday 08:30.
    assert cal.business_seconds(at(JAKARTA, 2026, 12, 4, 16), at(JAKARTA, 2026, 12, 5, 10)) == (
        2 * HOUR
    )
    assert cal.business_seconds(at(JAKARTA, 2026, 12, 5, 12), at(JAKARTA, 2026, 12, 7, 8, 30)) == (
        HOUR + 30 * 60
    )


def test_a_range_across_midnight_is_two_ranges():
    cal = calendar("mon-sun 00:00-02:00,22:00-24:00")
    assert cal.business_seconds(at(JAKARTA, 2026, 12, 8, 23), at(JAKARTA, 2026, 12, 9, 1)) == (
        2 * HOUR
    )


def test_a_long_span_is_exact_without_walking_it():
    cal = calendar()
    # 52 weeks from a Monday's midnight: 52 x 5 days x 9 hours.
    start = at(JAKARTA, 2026, 1, 5)
    assert cal.business_seconds(start, start + timedelta(weeks=52)) == 52 * 5 * 9 * HOUR
    assert cal.business_seconds(start + timedelta(weeks=52), start) == -52 * 5 * 9 * HOUR


def test_daylight_saving_days_last_23_and_25_hours():
    cal = calendar("mon-sun 00:00-24:00", zone=BERLIN)
    # Clocks go forward on Sunday 29 March 2026 and back on Sunday 25 October 2026.
    assert cal.business_seconds(at(BERLIN, 2026, 3, 28, 12), at(BERLIN, 2026, 3, 30, 12)) == (
        47 * HOUR
    )
    assert cal.business_seconds(at(BERLIN, 2026, 10, 24, 12), at(BERLIN, 2026, 10, 26, 12)) == (
        49 * HOUR
    )


def test_a_range_over_the_changed_hour():
    # 02:30 does not exist on 29 March (02:00 CET becomes 03:00 CEST): the range starts when
    # the clocks jump, so 02:30-05:00 lasts two hours.
    spring = calendar("sun 02:30-05:00", zone=BERLIN)
    day = (at(BERLIN, 2026, 3, 29, 0), at(BERLIN, 2026, 3, 30, 0))
    assert spring.business_seconds(*day) == 2 * HOUR
    # 02:30 happens twice on 25 October: from its first time to 03:30 is two hours.
    autumn = calendar("sun 02:30-03:30", zone=BERLIN)
    assert autumn.business_seconds(at(BERLIN, 2026, 10, 25, 0), at(BERLIN, 2026, 10, 26, 0)) == (
        2 * HOUR
    )


def test_office_hours_in_a_daylight_saving_zone():
    cal = calendar(zone=BERLIN)
    # Friday 16:00 before the change to Monday 09:00 after it: two hours.
    assert cal.business_seconds(at(BERLIN, 2026, 3, 27, 16), at(BERLIN, 2026, 3, 30, 9)) == (
        2 * HOUR
    )


def test_an_instant_outside_the_calendar_is_an_error():
    with pytest.raises(ValueError, match="outside the business calendar"):
        calendar().business_seconds(at(JAKARTA, 2030, 1, 1), at(JAKARTA, 2030, 1, 2))


@pytest.mark.parametrize(
    ("zone", "hours"), [(JAKARTA, SPLIT), (BERLIN, SPLIT), (BERLIN, "mon-sun 07:30-19:15")]
)
def test_business_time_equals_counting_minute_by_minute(zone, hours):
    rng = random.Random(7)
    holidays = {date(2026, 3, 30), date(2026, 10, 26)}
    cal = calendar(hours, zone=zone, holidays=holidays)
    week = parse_business_hours(hours)
    base = datetime(2026, 3, 25, tzinfo=zone)
    for _ in range(60):
        first = rng.randrange(0, 250 * 24 * 60)
        # Arithmetic on the UTC time line: a minute is a minute across the changes.
        start = (base + timedelta(minutes=first)).astimezone(UTC)
        length = rng.randrange(0, 6 * 24 * 60)
        end = start + timedelta(minutes=length)
        counted = 0
        for minute in range(length):
            local = (start + timedelta(minutes=minute)).astimezone(zone)
            of_day = local.hour * 60 + local.minute
            if local.date() not in holidays and any(
                s <= of_day < e for s, e in week[local.weekday()]
            ):
                counted += 60
        assert cal.business_seconds(start, end) == counted, (start, end)
