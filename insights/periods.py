"""Periods, presets, months and buckets (METRICS.md section 1).

All dates here are local calendar dates in settings.TIME_ZONE; a period is a closed range.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _

GRANULARITIES = ("day", "week", "month", "auto")

PAST_PRESETS = (
    "yesterday",
    "last_7_days",
    "last_14_days",
    "last_30_days",
    "last_90_days",
    "last_week",
    "last_month",
    "last_quarter",
    "last_year",
)
CURRENT_PRESETS = ("today", "this_week", "this_month", "this_quarter", "this_year")
NEXT_PRESETS = (
    "tomorrow",
    "next_7_days",
    "next_30_days",
    "next_week",
    "next_month",
    "next_quarter",
    "next_year",
)
PRESETS = PAST_PRESETS + CURRENT_PRESETS + NEXT_PRESETS
DEFAULT_PRESET = "last_30_days"
# Bounds on what a request may ask for: a fuzzer's 0001-01-01..9999-12-31 by day would be
# 3.6 million buckets, each a range to count.
MAX_PERIOD_DAYS = 50 * 366
MAX_BUCKETS = 1000
# The edges of the calendar (one rule for every endpoint and page): P's previous period P'
# (METRICS.md 1) must start early enough after the first day there is for every look back
# before it (a lapse window of up to 730 days, the health backtest's 90) to be a date, and P
# must end early enough for every step past its end (the day after a bucket, an ISO week
# running on, a lapse window) to be a date.
FIRST_DAY = date(3, 1, 1)
LAST_DAY = date(9997, 12, 31)


class PeriodError(ValueError):
    """A period parameter is wrong; `param` names it for the API's 400 body.

    `form_message` says it in the words of the dashboard's form (its field labels, dates in the
    reader's format): "Start (30 June 2026) is after End (1 January 2026)" where the API says
    "start 2026-06-30 is after end 2026-01-01". Without one, the message serves both.
    """

    def __init__(self, param: str, message: str, *, form_message: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.message = message
        self.form_message = form_message or message


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    preset: str | None = None

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise PeriodError("start", _("start must be on or before end"))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def months(self) -> list[Period]:
        """The calendar months intersecting the period, each cut to it (M(P) = len)."""
        return buckets(self, "month")

    @property
    def month_count(self) -> int:
        """How many calendar months intersect P (a bucket count, and the divisor of the
        monthly average of inactive customers)."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    @property
    def month_length(self) -> Fraction:
        """M(P), exact (METRICS.md 1): over the months m intersecting P, the sum of
        days(m ∩ P) / days(m). 1 Jan–31 Mar is 3; 6 Nov–5 Dec is 25/30 + 5/31."""
        total = Fraction(0)
        for part in buckets(self, "month"):
            total += Fraction(part.days, calendar.monthrange(part.start.year, part.start.month)[1])
        return total

    def elapsed_days(self, today: date | None = None) -> int:
        """The days of P's elapsed part [start, A], A = min(end, today) (METRICS.md 1): all of
        P once it has ended, none when it starts after today."""
        as_of = min(self.end, today or local_today())
        return max(0, (as_of - self.start).days + 1)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def local_today() -> date:
    return timezone.localdate()


def local_date(moment: datetime) -> date:
    """The calendar date of an aware timestamp in settings.TIME_ZONE."""
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def preset_period(name: str, today: date | None = None) -> Period:
    """The period a preset names, relative to `today` (default: the local date now)."""
    today = today or local_today()
    one = timedelta(days=1)
    week_start = today - timedelta(days=today.weekday())
    month_start = _month_start(today)
    quarter_start = _quarter_start(today)
    year_start = date(today.year, 1, 1)
    ranges: dict[str, tuple[date, date]] = {
        "yesterday": (today - one, today - one),
        "today": (today, today),
        "tomorrow": (today + one, today + one),
        "this_week": (week_start, week_start + timedelta(days=6)),
        "last_week": (week_start - timedelta(days=7), week_start - one),
        "next_week": (week_start + timedelta(days=7), week_start + timedelta(days=13)),
        "this_month": (month_start, _month_end(today)),
        "last_month": (_add_months(month_start, -1), month_start - one),
        "next_month": (_add_months(month_start, 1), _month_end(_add_months(month_start, 1))),
        "this_quarter": (quarter_start, _add_months(quarter_start, 3) - one),
        "last_quarter": (_add_months(quarter_start, -3), quarter_start - one),
        "next_quarter": (_add_months(quarter_start, 3), _add_months(quarter_start, 6) - one),
        "this_year": (year_start, date(today.year, 12, 31)),
        "last_year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        "next_year": (date(today.year + 1, 1, 1), date(today.year + 1, 12, 31)),
    }
    for days in (7, 14, 30, 90):
        ranges[f"last_{days}_days"] = (today - timedelta(days=days), today - one)
    for days in (7, 30):
        ranges[f"next_{days}_days"] = (today + one, today + timedelta(days=days))
    if name not in ranges:
        raise PeriodError(
            "preset",
            _("unknown preset %(name)r; one of: %(presets)s")
            % {"name": name, "presets": ", ".join(PRESETS)},
        )
    start, end = ranges[name]
    return Period(start, end, preset=name)


def resolve_granularity(period: Period, granularity: str = "auto") -> str:
    if granularity not in GRANULARITIES:
        raise PeriodError(
            "granularity",
            _("unknown granularity %(value)r; one of: day, week, month, auto")
            % {"value": granularity},
        )
    if granularity != "auto":
        return granularity
    if period.days <= 31:
        return "day"
    if period.days <= 183:
        return "week"
    return "month"


def buckets(period: Period, granularity: str = "auto") -> list[Period]:
    """Each day, ISO week or calendar month intersecting the period, cut to it."""
    granularity = resolve_granularity(period, granularity)
    count = {
        "day": period.days,
        "week": (period.end - period.start).days // 7 + 2,
        "month": period.month_count,
    }[granularity]
    if count > MAX_BUCKETS:
        raise PeriodError(
            "granularity",
            _(
                "%(granularity)s buckets over this period would be about %(count)s; at most "
                "%(max)s: choose a coarser granularity or a shorter period"
            )
            % {"granularity": granularity, "count": count, "max": MAX_BUCKETS},
        )
    result: list[Period] = []
    cursor = period.start
    while cursor <= period.end:
        if granularity == "day":
            bucket_end = cursor
        elif granularity == "week":
            bucket_end = cursor + timedelta(days=6 - cursor.weekday())
        else:
            bucket_end = _month_end(cursor)
        bucket_end = min(bucket_end, period.end)
        result.append(Period(cursor, bucket_end))
        cursor = bucket_end + timedelta(days=1)
    return result


def parse_period(
    *,
    preset: str | None = None,
    start: str | None = None,
    end: str | None = None,
    today: date | None = None,
) -> Period:
    """The period of an API or dashboard request: a preset, or start and end, or the default."""
    if preset and (start or end):
        raise PeriodError("preset", _("give either preset or start and end, not both"))
    if preset:
        return period_within_calendar(preset_period(preset, today), param="preset")
    if start is None and end is None:
        return period_within_calendar(preset_period(DEFAULT_PRESET, today), param="preset")
    if not start:
        raise PeriodError(
            "start",
            _("start is required when end is given"),
            form_message=_("Choose a Start date as well as an End date."),
        )
    if not end:
        raise PeriodError(
            "end",
            _("end is required when start is given"),
            form_message=_("Choose an End date as well as a Start date."),
        )
    start_date = _parse_date("start", start)
    end_date = _parse_date("end", end)
    if start_date > end_date:
        raise PeriodError(
            "start",
            _("start %(start)s is after end %(end)s") % {"start": start, "end": end},
            form_message=_(
                "Start (%(start)s) is after End (%(end)s): choose an End on or after it."
            )
            % {"start": _shown(start_date), "end": _shown(end_date)},
        )
    if (end_date - start_date).days + 1 > MAX_PERIOD_DAYS:
        raise PeriodError(
            "end", _("a period may span at most %(days)s days") % {"days": MAX_PERIOD_DAYS}
        )
    return period_within_calendar(Period(start_date, end_date))


def period_within_calendar(period: Period, *, param: str | None = None) -> Period:
    """`period` when its figures can be computed, else PeriodError naming the parameter.

    Its previous period must not start before FIRST_DAY, and it must end on or before
    LAST_DAY. Every request's period passes here (parse_period), so no figure function needs
    a guard of its own.
    """
    if period.start.toordinal() - period.days < FIRST_DAY.toordinal():
        raise PeriodError(
            param or "start",
            _(
                "a period of %(days)s days starting %(start)s has no previous period to compare "
                "with (it would start before %(first)s): choose a later start"
            )
            % {
                "days": period.days,
                "start": period.start.isoformat(),
                "first": FIRST_DAY.isoformat(),
            },
        )
    if period.end > LAST_DAY:
        raise PeriodError(
            param or "end",
            _("a period must end on or before %(last)s") % {"last": LAST_DAY.isoformat()},
        )
    return period


def _shown(day: date) -> str:
    """A date as the reader's language writes it (the form's date field shows the browser's)."""
    return formats.date_format(day, "DATE_FORMAT")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_date(param: str, value: str) -> date:
    try:
        # fromisoformat alone also takes week dates such as 2026-W01-1.
        if not _ISO_DATE.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise PeriodError(
            param, _("%(value)r is not a date in the form YYYY-MM-DD") % {"value": value}
        ) from None
