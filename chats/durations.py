"""Durations in human units for the admin and the dashboard: "2 h 5 min" ("2 j 5 mnt" in id)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext as _

SECOND = timedelta(seconds=1)


def whole_seconds(start: datetime | None, end: datetime | None) -> int | None:
    """end − start in whole seconds, rounded down (METRICS.md S: 9.4 s is 9); None if either is."""
    if start is None or end is None:
        return None
    return (end - start) // SECOND


def duration_human(seconds: int | None) -> str:
    """The two largest non-zero units of a whole-second duration: "1 d 3 h", "2 h 5 min",
    "4 min 10 s", "9 s"; "0 s" for zero and "" for None."""
    if seconds is None:
        return ""
    units = (
        (86400, _("%(n)s d")),
        (3600, _("%(n)s h")),
        (60, _("%(n)s min")),
        (1, _("%(n)s s")),
    )
    sign = "−" if seconds < 0 else ""
    rest = abs(int(seconds))
    parts = []
    for size, label in units:
        count, rest = divmod(rest, size)
        if count or parts:
            parts.append(label % {"n": count} if count else "")
        if len(parts) == 2:
            break
    shown = [part for part in parts if part]
    return sign + (" ".join(shown) if shown else _("%(n)s s") % {"n": 0})
