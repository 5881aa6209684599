"""Exact numbers: figures are computed from integers (counts, cents) and made Decimal last.

Every ratio, average and percentage of METRICS.md is rounded half-up to 0.01 from exact
integers, so PostgreSQL and SQLite (and a cached and a fresh answer) give the same digits.
"""

from __future__ import annotations

from decimal import Decimal

CENT = Decimal("0.01")


def ratio(num: int, den: int, *, scale: int = 1, unit: int = 1) -> Decimal:
    """(num / unit) × scale / den, rounded half-up to 0.01 in exact integers; 0 when den is 0."""
    if den == 0:
        return Decimal("0.00")
    numerator = abs(num) * scale * 100
    denominator = abs(den) * unit
    hundredths = (2 * numerator + denominator) // (2 * denominator)
    sign = -1 if (num < 0) != (den < 0) else 1
    return (Decimal(sign * hundredths) / 100).quantize(CENT)


def money(amount: int, unit: int = 100) -> Decimal:
    """An integer amount in 1/unit (cents by default) as Decimal to 0.01, half-up."""
    return ratio(amount, 1, unit=unit)
