"""The previous-period comparison of headline figures (METRICS.md section 4, Comparison).

Every single-number figure of growth, sales, revenue, lifecycle and service is also computed
for the previous period P' = [start - days(P), start - 1], the same length just before P.
Its change is 100 x (value - previous) / previous, computed from the two figures as reported
(after their own rounding), rounded half away from zero to 2 decimals; None when previous is 0
(no baseline, which is not the same as "no change").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from .periods import Period

HUNDREDTH = Decimal("0.01")


def previous_period(period: Period) -> Period:
    """P' of METRICS.md section 1: the days(P) days just before P's start (no preset)."""
    return Period(
        start=period.start - timedelta(days=period.days),
        end=period.start - timedelta(days=1),
    )


def change_pct(value: int | Decimal, previous: int | Decimal) -> Decimal | None:
    """100 x (value - previous) / previous, half-up to 0.01; None when previous is 0."""
    base = Decimal(previous)
    if base == 0:
        return None
    return (Decimal(100) * (Decimal(value) - base) / base).quantize(HUNDREDTH, ROUND_HALF_UP)


def comparison(
    current: Mapping[str, int | Decimal],
    previous: Mapping[str, int | Decimal],
    fields: Iterable[str],
) -> tuple[dict[str, int | Decimal], dict[str, Decimal | None]]:
    """(previous values, change_pct) for the named headline fields, for an API/dashboard payload."""
    names = list(fields)
    return (
        {name: previous[name] for name in names},
        {name: change_pct(current[name], previous[name]) for name in names},
    )
