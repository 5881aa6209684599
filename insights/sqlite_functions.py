"""The SQL functions the engine's SQL calls on SQLite, registered once per connection.

PostgreSQL has each of these built in (time zones, BIT_OR, string_agg of int4send...); SQLite
gets a deterministic Python function of the same meaning. They are registered by a
`connection_created` receiver (insights.apps), so every connection of every process has all of
them before its first statement: a module never registers them itself, and no path (full
rebuild, incremental rebuild, a figure read) can meet a connection that lacks one.

  w_day(ts)      local-day ordinal of a stored UTC timestamp (settings.TIME_ZONE)
  w_dord(date)   ordinal of a stored date
  w_date(ord)    the ISO date of a day ordinal
  w_cents(a, r)  cents of amount × rate, half away from zero (METRICS.md §3)
  w_line(q,p,r)  a converted line's revenue in 1/10000 (quantity × unit price × rate, to cents)
  w_month(ord)   year * 12 + month - 1 of a day ordinal
  w_us(ts)       microseconds since 1970 of a stored UTC timestamp (exact)
  w_sum(x)       SUM without SQLite's integer-overflow error
  w_pack4/8(x)   the group's non-null integers as big-endian 4/8-byte signed values
  bit_or(x)      bitwise OR of the group
"""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings


def _local_day(value: str | None) -> int | None:
    """Ordinal of the local date of a UTC timestamp as Django stores it in SQLite."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date().toordinal()
    except OverflowError:  # year 1 or 9999 stored before the import bounded timestamps
        return moment.date().toordinal()


def _date_ordinal(value: str | None) -> int | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).date().toordinal()


def _iso_date(ordinal: int | None) -> str | None:
    return None if ordinal is None else date.fromordinal(ordinal).isoformat()


def _decimal(value: float | int | str, places: int) -> Decimal:
    # SQLite keeps decimals as REAL; the shortest repr of a stored 18.2 / 24.10 decimal reads
    # back as the decimal that was written.
    return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(
        Decimal(1).scaleb(-places)
    )


def _converted_cents(amount: float | None, rate: float | None) -> int | None:
    """Cents of amount × rate, rounded half away from zero (METRICS.md §3)."""
    if amount is None or rate is None:
        return None
    value = _decimal(amount, 2) * _decimal(rate, 10) * 100
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _converted_line(
    quantity: float | None, unit_price: float | None, rate: float | None
) -> int | None:
    """A converted line's revenue in 1/10000: quantity × unit price × rate rounded to cents."""
    if quantity is None or unit_price is None or rate is None:
        return None
    value = _decimal(quantity, 2) * _decimal(unit_price, 2)
    cents = value * _decimal(rate, 10) * 100
    return int(cents.quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 100


def _month_of_ordinal(value: int | None) -> int | None:
    if value is None:
        return None
    day = date.fromordinal(value)
    return day.year * 12 + day.month - 1


def _epoch_us(value: str | None) -> int | None:
    """Microseconds since 1970 of a UTC timestamp as Django stores it in SQLite (exact)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


class _ExactSum:
    """SUM without SQLite's "integer overflow" error: exact while it fits 64 bits, else REAL."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, value: int | float | None) -> None:
        if value is not None:
            self.total += int(value)

    def finalize(self) -> int | float:
        return self.total if -(2**63) <= self.total < 2**63 else float(self.total)


class _Pack4:
    """The non-null integers of a group as big-endian signed `width` bytes, the format
    PostgreSQL's string_agg(int4send(v)) / string_agg(int8send(v)) writes."""

    code = ">i"

    def __init__(self) -> None:
        self.values: list[int] = []

    def step(self, value: int | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> bytes:
        return struct.pack(f"{self.code[0]}{len(self.values)}{self.code[1]}", *self.values)


class _Pack8(_Pack4):
    code = ">q"


class _BitOr:
    """SQLite's missing BIT_OR aggregate (PostgreSQL has it)."""

    def __init__(self) -> None:
        self.value = 0

    def step(self, value: int | None) -> None:
        if value is not None:
            self.value |= value

    def finalize(self) -> int:
        return self.value


FUNCTIONS: dict[str, tuple[int, Any]] = {
    "w_day": (1, _local_day),
    "w_dord": (1, _date_ordinal),
    "w_date": (1, _iso_date),
    "w_cents": (2, _converted_cents),
    "w_line": (3, _converted_line),
    "w_month": (1, _month_of_ordinal),
    "w_us": (1, _epoch_us),
}
AGGREGATES: dict[str, type] = {
    "w_sum": _ExactSum,
    "w_pack4": _Pack4,
    "w_pack8": _Pack8,
    "bit_or": _BitOr,
}


def sqlite_functions_register(raw: Any) -> None:
    """Give one raw sqlite3 connection every function and aggregate above."""
    for name, (arity, function) in FUNCTIONS.items():
        raw.create_function(name, arity, function, deterministic=True)
    for name, aggregate in AGGREGATES.items():
        raw.create_aggregate(name, 1, aggregate)


def on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: every new SQLite connection gets the functions."""
    if connection.vendor == "sqlite":
        sqlite_functions_register(connection.connection)
