"""Reading and validating the cells of one row (CONTRACT.md section 1)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from django.db import models
from django.utils import timezone

# Timestamps outside these years are typos or placeholders ("0001-01-01"), and the far ones
# cannot be shifted to another time zone at all (the pages that show them would fail).
EARLIEST_YEAR = 1900
LATEST_YEAR = 2100

# A plain number: ASCII digits, an optional sign and decimal point. No exponent ("1e30"), no
# "_" or thousands separators, no full-width or other Unicode digits, which Decimal() accepts.
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)

# Money (amount, price, unit price) below 10^12 and quantities below 10^6 (CONTRACT.md section
# 1): one line item then stays below 10^18, and the rollups sum them in NUMERIC, never bigint.
MONEY_LIMIT = Decimal(10) ** 12
# Said with every timestamp that does not parse: ISO 8601 stays the rule, since 31/12 and 12/31
# cannot both be read safely.
TIMESTAMP_HINT = (
    "write YYYY-MM-DD or YYYY-MM-DD HH:MM; e.g. 2026-12-31 or 2026-12-31 14:30"
    " or 2026-12-31T14:30:00+07:00"
)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
ISO_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)
CURRENCY_CODE = re.compile(r"[A-Za-z]{3}", re.ASCII)
QUANTITY_LIMIT = Decimal(10) ** 6


class Cells:
    """Reads and validates the cells of one row, collecting (column, reason) errors."""

    def __init__(self, record: dict[str, str]):
        self.record = record
        self.errors: list[tuple[str, str]] = []

    def fail(self, column: str, reason: str) -> None:
        self.errors.append((column, reason))

    def _cell(self, column: str, *, required: bool) -> str:
        """The cell, stripped; a blank one is rejected as "required" when it is."""
        value = self.record.get(column, "").strip()
        if not value and required:
            self.fail(column, "required")
        return value

    def _in_years(self, column: str, value: str, year: int) -> bool:
        """Whether a date's year is within the range CONTRACT §1 accepts; else a rejection."""
        if EARLIEST_YEAR <= year <= LATEST_YEAR:
            return True
        self.fail(column, f"{value!r} is outside {EARLIEST_YEAR}-01-01 to {LATEST_YEAR}-12-31")
        return False

    def text(self, column: str, *, max_length: int, required: bool = False) -> str:
        value = self._cell(column, required=required)
        if len(value) > max_length:
            self.fail(column, f"longer than {max_length} characters")
        return value

    def timestamp(self, column: str, *, required: bool = False) -> datetime | None:
        value = self._cell(column, required=required)
        if not value:
            return None
        try:
            # Python 3.11 reads ISO 8601 with or without offset, "Z", and plain dates.
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(column, f"not an ISO 8601 timestamp: {value!r} ({TIMESTAMP_HINT})")
            return None
        if not self._in_years(column, value, parsed.year):
            return None
        if timezone.is_naive(parsed):
            # No offset: local time in settings.TIME_ZONE (CONTRACT.md section 1).
            parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
        return parsed

    def date(self, column: str, *, required: bool = False) -> date | None:
        """A calendar date written `YYYY-MM-DD` (exactly: no time, no other order)."""
        value = self._cell(column, required=required)
        if not value:
            return None
        parsed = None
        if ISO_DATE.fullmatch(value):
            try:
                parsed = date.fromisoformat(value)
            except ValueError:
                parsed = None
        if parsed is None:
            self.fail(column, f"not a date: {value!r} (write YYYY-MM-DD, e.g. 2026-12-31)")
            return None
        if not self._in_years(column, value, parsed.year):
            return None
        return parsed

    def month(self, column: str, *, required: bool = False) -> date | None:
        """A month written `YYYY-MM`, as its first day."""
        value = self._cell(column, required=required)
        if not value:
            return None
        match = ISO_MONTH.fullmatch(value)
        if match is None or not 1 <= int(match[2]) <= 12:
            self.fail(column, f"not a month: {value!r} (write YYYY-MM, e.g. 2026-12)")
            return None
        year = int(match[1])
        if not EARLIEST_YEAR <= year <= LATEST_YEAR:
            self.fail(column, f"{value!r} is outside {EARLIEST_YEAR}-01 to {LATEST_YEAR}-12")
            return None
        return date(year, int(match[2]), 1)

    def currency(self, column: str, *, required: bool = False) -> str:
        """An ISO 4217 code: three ASCII letters in any case, returned upper-case."""
        value = self._cell(column, required=required)
        if not value:
            return ""
        if not CURRENCY_CODE.fullmatch(value):
            self.fail(column, f"not a three-letter currency code: {value!r}")
            return ""
        return value.upper()

    def not_before(
        self, column: str, value: datetime | None, earlier: str, start: datetime | None
    ) -> None:
        """Reject `column` when it is before the `earlier` column's time (both present)."""
        if value is not None and start is not None and value < start:
            self.fail(column, f"before {earlier}")

    def number(self, column: str, value: str) -> Decimal | None:
        """The cell as a Decimal when it is a plain number, else a rejection and None."""
        if not PLAIN_NUMBER.fullmatch(value):
            self.fail(column, f"not a number: {value!r}")
            return None
        return Decimal(value)

    def decimal(
        self, column: str, *, limit: Decimal, places: int, required: bool = False
    ) -> Decimal | None:
        """A non-negative amount below `limit` with at most `places` decimals."""
        value = self._cell(column, required=required)
        if not value:
            return None
        number = self.number(column, value)
        if number is None:
            return None
        if number < 0:
            self.fail(column, "must not be negative")
            return None
        # Checked before quantize, which fails on a number with more digits than its context.
        if number >= limit:
            self.fail(column, f"must be below {limit:,.0f}")
            return None
        # Reject rather than round: money that changes silently is worse than a rejected row.
        if number != number.quantize(Decimal(1).scaleb(-places)):
            self.fail(column, f"more than {places} decimal places")
            return None
        return number

    def integer(self, column: str, *, low: int, high: int) -> int | None:
        value = self.record.get(column, "").strip()
        if not value:
            return None
        number = Decimal(value) if PLAIN_NUMBER.fullmatch(value) else None
        if number is None or number != number.to_integral_value():
            self.fail(column, f"not a whole number: {value!r}")
            return None
        if not low <= number <= high:
            self.fail(column, f"must be between {low} and {high}")
            return None
        return int(number)


@cache
def field_length(model: type[models.Model], name: str) -> int:
    return model._meta.get_field(name).max_length
