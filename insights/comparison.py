"""The previous-period comparison of headline figures (METRICS.md section 4, Comparison).

Every single-number figure of growth, sales, revenue, lifecycle and service is also computed
for the previous period P' = [start - days(P), start - 1], the same length just before P.
Its change is 100 x (value - previous) / previous, computed from the two figures as reported
(after their own rounding), rounded half away from zero to 2 decimals; None when previous is 0
(no baseline, which is not the same as "no change").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import periods
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


def comparison_period(period: Period, today: Any) -> Period | None:
    """What P is compared with (METRICS.md 4, Comparison): P′ for a period that has ended;
    for one that has not, P″ = [start − days(P), A − days(P)], the first A − start + 1 days of
    P′ (like for like); None for a period that starts after today (nothing has happened)."""
    if period.start > today:
        return None
    if period.end <= today:
        return previous_period(period)
    shift = timedelta(days=period.days)
    return Period(start=period.start - shift, end=today - shift)


def _value(result: Any, key: str) -> Any:
    return result[key] if isinstance(result, Mapping) else getattr(result, key)


def headline_comparison(
    *,
    section_key: str,
    options: Mapping[str, Any],
    current: Any,
    compute: Callable[..., Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """{"previous": {key: value}, "change_pct": {key: change}} of a section's headline figures.

    The one place the comparison is made: the API, the dashboard and the XLSX all call it.
    `current` holds the figures of options["period"] (a dataclass or a dict); those of the
    period it is compared with (comparison_period: P′, P″ or none) come from `compute`
    (default: the section's compare_compute in the figure registry, else its compute) called
    with the same options.
    """
    from .figures import compared_figures, section

    entry = section(section_key)
    fields = [f.field for f in compared_figures(section_key)]
    run = compute or entry.compare_run
    other = comparison_period(options["period"], periods.local_today())
    if other is None:  # P starts after today: every figure of the comparison is null
        return {"previous": dict.fromkeys(fields), "change_pct": dict.fromkeys(fields)}
    before = run(**{**options, "period": other})
    previous, change = comparison(
        {name: _value(current, name) for name in fields},
        {name: _value(before, name) for name in fields},
        fields,
    )
    return {"previous": previous, "change_pct": change}
