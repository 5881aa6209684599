"""Distinct customers over any day range, read from the gap-encoded cells (insights.rollup).

A customer with an event in [s, e] has exactly one GapCell row there with previous_day < s
(its first event in the range), so a distinct count is a sum; the running sums make it one
index seek per day of the range.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import metric_keys as keys
from ..models import GapCell
from . import db

T_GAP = GapCell._meta.db_table


def distinct_many(metric: str, ranges: Sequence[tuple[int, int]]) -> list[int]:
    """Distinct customers with a `metric` event in each [start, end] (gap encoding, rollup.py).

    One statement for all ranges (a period, its buckets and its months): per day of a range,
    one seek on gapcell_grain (metric, dim, day, previous_day, ...) for the running sum at the
    largest previous_day < start; plus the few cells of customers first seen after the event
    (metric_keys.seen_later) with first_seen_later <= end.
    """
    if not ranges:
        return []
    params: dict[str, Any] = {"metric": metric, "exceptions": keys.seen_later(metric)}
    values = []
    for n, (start, end) in enumerate(ranges):
        params[f"s{n}"], params[f"e{n}"] = start, end
        values.append(f"({n}, CAST(%(s{n})s AS INTEGER), CAST(%(e{n})s AS INTEGER))")
    statement = f"""
        WITH RECURSIVE b(i, s, e) AS (VALUES {", ".join(values)}),
        d(i, s, e, day) AS (
            SELECT i, s, e, s FROM b
            UNION ALL
            SELECT i, s, e, day + 1 FROM d WHERE day < e
        )
        SELECT d.i, COALESCE(SUM((
            SELECT g.running_customers FROM {T_GAP} g
            WHERE g.metric = %(metric)s AND g.dim = '' AND g.day = d.day
              AND g.previous_day < d.s
            ORDER BY g.previous_day DESC LIMIT 1
        )), 0)
        FROM d GROUP BY d.i
        UNION ALL
        SELECT b.i + {len(ranges)}, COALESCE(SUM(g.customers), 0) FROM b
        JOIN {T_GAP} g
          ON g.metric = %(exceptions)s AND g.dim = '' AND g.day >= b.s AND g.day <= b.e
         AND g.previous_day < b.s AND g.first_seen_later <= b.e
        GROUP BY b.i
    """
    counts = [0] * len(ranges)
    for i, n in db.rows(statement, params):
        counts[int(i) % len(ranges)] += int(n or 0)
    return counts


def distinct(metric: str, start: int, end: int) -> int:
    """Distinct customers with a `metric` event in [start, end] (day ordinals)."""
    return distinct_many(metric, [(start, end)])[0]
