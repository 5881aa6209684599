"""Reading and validating the cells of one row (CONTRACT.md section 1)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache

from django.db import models
from django.utils import timezone


class Cells:
    """Reads and validates the cells of one row, collecting (column, reason) errors."""

    def __init__(self, record: dict[str, str]):
        self.record = record
        self.errors: list[tuple[str, str]] = []

    def fail(self, column: str, reason: str) -> None:
        self.errors.append((column, reason))

    def text(self, column: str, *, max_length: int, required: bool = False) -> str:
        value = self.record.get(column, "").strip()
        if required and not value:
            self.fail(column, "required")
        elif len(value) > max_length:
            self.fail(column, f"longer than {max_length} characters")
        return value

    def timestamp(self, column: str, *, required: bool = False) -> datetime | None:
        value = self.record.get(column, "").strip()
        if not value:
            if required:
                self.fail(column, "required")
            return None
        try:
            # Python 3.11 reads ISO 8601 with or without offset, "Z", and plain dates.
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(column, f"not an ISO 8601 timestamp: {value!r}")
            return None
        if timezone.is_naive(parsed):
            # No offset: local time in settings.TIME_ZONE (CONTRACT.md section 1).
            parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
        return parsed

    def decimal(
        self, column: str, *, max_digits: int, places: int, required: bool = False
    ) -> Decimal | None:
        value = self.record.get(column, "").strip()
        if not value:
            if required:
                self.fail(column, "required")
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.fail(column, f"not a number: {value!r}")
            return None
        if not number.is_finite():
            self.fail(column, f"not a number: {value!r}")
            return None
        if number < 0:
            self.fail(column, "must not be negative")
            return None
        # Reject rather than round: money that changes silently is worse than a rejected row.
        if number != number.quantize(Decimal(1).scaleb(-places)):
            self.fail(column, f"more than {places} decimal places")
            return None
        if abs(number) >= Decimal(10) ** (max_digits - places):
            self.fail(column, "too large")
            return None
        return number

    def integer(self, column: str, *, low: int, high: int) -> int | None:
        value = self.record.get(column, "").strip()
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number != number.to_integral_value():
            self.fail(column, f"not a whole number: {value!r}")
            return None
        if not low <= number <= high:
            self.fail(column, f"must be between {low} and {high}")
            return None
        return int(number)


@cache
def field_length(model: type[models.Model], name: str) -> int:
    return model._meta.get_field(name).max_length
