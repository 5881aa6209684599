"""Business hours and business time (METRICS.md §L).

Business hours are a weekly schedule in local time (`INSIGHTS_BUSINESS_HOURS`, default
`mon-fri 08:00-17:00`; several ranges a day: `mon-fri 08:00-12:00,13:00-17:00;sat 09:00-13:00`)
less the holidays. The business time between two instants is the part of the interval that
falls in business hours, in whole seconds (rounded down).

Design note
-----------
* No per-second or per-minute loops: a `BusinessCalendar` holds, for each local day of a range,
  the day's business intervals as UTC instants (microseconds since 1970) and the business
  microseconds before the day (a cumulative sum from a fixed origin, 2000-01-01). The business
  time up to an instant t is then `B(t) = before[day of t] + the clamped overlaps of t with
  that day's (one to a few) intervals`, and the business time between a and b is
  `B(b) − B(a)`: constant work per instant, whatever the distance between them.
* The same calendar is written as a table for the database (insights.service), one row per day
  with the same intervals and cumulative sum, so the rollup computes B in SQL with the same
  numbers; the fixed origin makes B of an instant the same in every rebuild.
* Daylight saving: each range is turned into instants on its own day. A range covers the
  instants from the first time the wall clock shows its start to the last time it shows its
  end: on the autumn day 02:00–03:00 happens twice and `00:00-24:00` lasts 25 hours; in spring
  a wall time the clocks skip counts from the moment they jump (`00:00-24:00` lasts 23 hours).
* This module imports nothing from Django, so settings can parse the schedule at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo

DEFAULT_BUSINESS_HOURS = "mon-fri 08:00-17:00"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ORIGIN = date(2000, 1, 1)
MICROSECOND = timedelta(microseconds=1)
US = 1_000_000

# (start minute, end minute) of the local day, end up to 24 * 60; per weekday, Monday first.
Ranges = tuple[tuple[int, int], ...]
Schedule = tuple[Ranges, Ranges, Ranges, Ranges, Ranges, Ranges, Ranges]

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


class BusinessHoursError(ValueError):
    """INSIGHTS_BUSINESS_HOURS cannot be read; the message names the part and what is wrong."""


def _minute(text: str, *, clause: str) -> int:
    found = _TIME.match(text)
    if not found:
        raise BusinessHoursError(
            f"INSIGHTS_BUSINESS_HOURS: {text!r} in {clause!r} is not a time (HH:MM)."
        )
    hours, minutes = int(found.group(1)), int(found.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise BusinessHoursError(
            f"INSIGHTS_BUSINESS_HOURS: {text!r} in {clause!r} is not a time of day "
            "(00:00 to 24:00)."
        )
    return hours * 60 + minutes


def _weekday(text: str, *, clause: str) -> int:
    try:
        return WEEKDAYS.index(text.lower())
    except ValueError:
        raise BusinessHoursError(
            f"INSIGHTS_BUSINESS_HOURS: {text!r} in {clause!r} is not a day ({', '.join(WEEKDAYS)})."
        ) from None


def _days(text: str, *, clause: str) -> list[int]:
    days: list[int] = []
    for item in text.split(","):
        first, dash, last = item.strip().partition("-")
        start = _weekday(first.strip(), clause=clause)
        end = _weekday(last.strip(), clause=clause) if dash else start
        if end < start:
            raise BusinessHoursError(
                f"INSIGHTS_BUSINESS_HOURS: {item.strip()!r} in {clause!r} runs backwards "
                "(write mon-fri, not fri-mon)."
            )
        days.extend(range(start, end + 1))
    return days


def parse_business_hours(text: str) -> Schedule:
    """The weekly schedule written as `DAYS HH:MM-HH:MM[,HH:MM-HH:MM...][;DAYS ...]`.

    DAYS is a day (`sat`), a run (`mon-fri`) or a comma list of them (`mon,wed-thu`). Raises
    BusinessHoursError naming the clause and the problem: an unknown day, a time that is not
    HH:MM within 00:00–24:00, a range that ends at or before its start, ranges of one day
    that overlap, or no range at all.
    """
    week: list[list[tuple[int, int]]] = [[] for _ in WEEKDAYS]
    clauses = [clause.strip() for clause in (text or "").split(";") if clause.strip()]
    if not clauses:
        raise BusinessHoursError(
            f"INSIGHTS_BUSINESS_HOURS is empty; write for example {DEFAULT_BUSINESS_HOURS!r}."
        )
    for clause in clauses:
        parts = clause.split(None, 1)
        if len(parts) != 2:
            raise BusinessHoursError(
                f"INSIGHTS_BUSINESS_HOURS: {clause!r} needs days and times, "
                f"like {DEFAULT_BUSINESS_HOURS!r}."
            )
        days = _days(parts[0], clause=clause)
        for piece in parts[1].replace(" ", "").split(","):
            start_text, dash, end_text = piece.partition("-")
            if not dash:
                raise BusinessHoursError(
                    f"INSIGHTS_BUSINESS_HOURS: {piece!r} in {clause!r} is not a range "
                    "(HH:MM-HH:MM)."
                )
            start = _minute(start_text, clause=clause)
            end = _minute(end_text, clause=clause)
            if end <= start:
                raise BusinessHoursError(
                    f"INSIGHTS_BUSINESS_HOURS: {piece!r} in {clause!r} ends at or before it starts."
                )
            for day in days:
                week[day].append((start, end))
    for day, ranges in enumerate(week):
        ranges.sort()
        for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
            if start < end:
                raise BusinessHoursError(
                    f"INSIGHTS_BUSINESS_HOURS: the ranges of {WEEKDAYS[day]} overlap."
                )
    return tuple(tuple(ranges) for ranges in week)  # type: ignore[return-value]


def epoch_us(moment: datetime) -> int:
    """Microseconds since 1970-01-01 UTC of an aware datetime (exact)."""
    return (moment - EPOCH) // MICROSECOND


def _local_naive(us: int, zone: tzinfo) -> datetime:
    return (EPOCH + timedelta(microseconds=us)).astimezone(zone).replace(tzinfo=None)


def _wall_instant(day: date, minute: int, zone: tzinfo, *, last: bool) -> int:
    """The UTC instant (us) at which the wall clock of `day` shows `minute`: its first
    occurrence (its last when `last`, for a range's end); a skipped time: when clocks jump."""
    if minute == 24 * 60:
        day, minute = day + timedelta(days=1), 0
        last = False  # midnight starts the next day; its first occurrence ends this one
    wall = datetime.combine(day, time(minute // 60, minute % 60))
    folds = [epoch_us(wall.replace(tzinfo=zone, fold=fold)) for fold in (0, 1)]
    exists = [us for us in folds if _local_naive(us, zone) == wall]
    if exists:
        return max(exists) if last else min(exists)
    # Skipped by a spring-forward change: the first instant whose wall time is at or after
    # `wall`, found by bisection between the two readings (the earlier shows a wall time
    # before `wall`, the later one after): about 32 steps, on the few days a zone changes.
    low, high = min(folds), max(folds)
    while high - low > 1:
        middle = low + (high - low) // 2
        if _local_naive(middle, zone) >= wall:
            high = middle
        else:
            low = middle
    return high


class BusinessCalendar:
    """Business intervals and the cumulative business time of each local day of a range.

    Covers the days from `first` to `last` and the origin (ORIGIN); B is defined for any
    instant whose local date is among them, else ValueError.
    """

    def __init__(
        self,
        *,
        schedule: Schedule,
        holidays: Iterable[date],
        zone: tzinfo,
        first: date,
        last: date,
    ) -> None:
        self.schedule = schedule
        self.zone = zone
        off = set(holidays)
        self.first = min(first, last, ORIGIN)
        self.last = max(first, last, ORIGIN)
        self.intervals: list[tuple[tuple[int, int], ...]] = []
        day_us: list[int] = []
        day = self.first
        while day <= self.last:
            ranges = () if day in off else schedule[day.weekday()]
            found = tuple(
                (
                    _wall_instant(day, start, zone, last=False),
                    _wall_instant(day, end, zone, last=True),
                )
                for start, end in ranges
            )
            self.intervals.append(found)
            day_us.append(sum(max(0, e - s) for s, e in found))
            day += timedelta(days=1)
        # before[i]: business us from the origin's midnight to day i's midnight (negative
        # before the origin).
        self.before: list[int] = []
        total = 0
        for length in day_us:
            self.before.append(total)
            total += length
        shift = self.before[(ORIGIN - self.first).days]
        self.before = [value - shift for value in self.before]
        self.width = max([len(ranges) for ranges in schedule] + [1])

    def _index(self, day: date) -> int:
        if not self.first <= day <= self.last:
            raise ValueError(f"{day} is outside the business calendar {self.first}..{self.last}")
        return (day - self.first).days

    def cumulative_us(self, moment: datetime) -> int:
        """B(t): business microseconds from the origin to `moment` (negative before it)."""
        t = epoch_us(moment)
        index = self._index(moment.astimezone(self.zone).date())
        inside = sum(min(max(t - s, 0), max(e - s, 0)) for s, e in self.intervals[index])
        return self.before[index] + inside

    def business_us(self, start: datetime, end: datetime) -> int:
        return self.cumulative_us(end) - self.cumulative_us(start)

    def business_seconds(self, start: datetime, end: datetime) -> int:
        """Business time from `start` to `end` in whole seconds, rounded toward zero (down for
        every interval that does not run backwards)."""
        micro = self.business_us(start, end)
        return micro // US if micro >= 0 else -((-micro) // US)

    def rows(self) -> list[tuple[int, ...]]:
        """One row per day for the database: (day ordinal, before_us, s0, e0, s1, e1, ...)
        with `width` intervals, padded with empty ones (0, 0)."""
        result = []
        day = self.first.toordinal()
        for offset, ranges in enumerate(self.intervals):
            padded = [value for pair in ranges for value in pair]
            padded += [0, 0] * (self.width - len(ranges))
            result.append((day + offset, self.before[offset], *padded))
        return result
