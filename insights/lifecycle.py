"""Buyer lifecycle (METRICS.md G) and retention by cohort (H): rollup writer and reader.

Design note
-----------
* A customer's buying days are the close days of its won deals: exactly the days of the
  CustomerWonDay rollup (insights.rollup), a close day after today included. Every read here
  uses rollups only, never the raw deal or chat tables.
* new / returning buyers of a range reuse the gap-encoded `paid` cells of GapCell: a customer's
  first buying day is its row with prev = 0, so new = SUM(customers) over prev = 0 and day in the
  range; buyers = the distinct `paid` customers of the range (insights.engine.distinct);
  returning = buyers - new (a buyer of b that is not new in b bought before b's start).
* Lost buyers depend on the window W (section_params.LOST_AFTER), given per request, so the
  rollup stores every W at once. For W, a customer's buying days d1 < d2 < ... split into
  *chains*: maximal runs in which each day is within W of the one before. A chain from c to d
  is followed by no buying day in (d, d + W], so the customer is lost on d + W; lost days are
  exactly the chain ends + W. With g_i = d(i+1) - d(i) (the gap after day i; none: infinite,
  stored as INFINITE_GAP > any W), the
  chain ending at j (a lapse: W < g_j) starts after the nearest i < j with W < g_i: its
  previous lapse. As W grows that previous lapse steps back through the "records" of the gaps
  before j (a monotonic stack), so LapseChain stores, per buying day j and per step, the row
  (prev = d_i or 0, first_day = d(i+1) or d1, last_day = d_j, lo, hi): for W in [lo, hi) that chain
  exists, where lo = the largest gap between i and j (0 if none) and hi = min(g_i, g_j).
  Rows are built by streaming CustomerWonDay ordered by customer and day; a customer with one
  buying day has one row (0, d, d, 0, 731) and those aggregate per day. Reads (L = lo <= W < hi):
  - lost in [s, e]: chains with last_day in [s - W, min(e, today) - W] (a lost day after today has
    not happened) and prev < s - W, so each customer counts once, by its first chain there
    (the chain before it ended before s - W, i.e. its lost day is before s).
  - active on t: a buying day in [t - W + 1, t]: the distinct `paid` customers of that range.
  - churned in P: the chain active on start - 1 (first_day <= start - 1 and last_day >=
    start - W; one per customer) ends by min(end, today) - W. Index lapsechain_lookup
    (last_day, lo).
* Retention: RetentionCell(event, cohort month, offset k, customers) with offset -1 the cohort
  size. `purchase`: cohort = month of the first buying day, retained[k] = customers with a
  buying day in month cohort + k (from CustomerWonDay). `activity`: cohort = month first seen
  (the customer snapshot), retained[k] = customers with a chat room or deal created in month
  cohort + k (as the `act` cells of rollup.py). Months are year * 12 + month - 1.
  Written in one aggregate per event: each customer's event months within the offsets
  (section_params.COHORT_OFFSET) become
  a 13-bit mask (BIT_OR of 1 << k; no DISTINCT over customer-months), the customers are then
  counted per (cohort, mask), and the few thousand (cohort, mask) counts are split into
  offsets here. At 1M people (7M rooms and deals) the phase went from 24 s to 16.5 s against
  DISTINCT (customer, month), a join and a sort, with the same 362 cells.
* Revenue's win rate needs lost deals that belong to a customer: DailySum metric
  `lost_deals_of_customers`
  (count per close day), written here next to the other rollups.
* Answers are cached in FigureCache like every figure (insights.engine.cache); the key holds
  min(end, today) (lifecycle) or today (retention), which decide what has happened.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection, models

from . import metric_keys as keys
from . import periods as period_rules
from .engine import cache, db, distinct, numbers
from .models import (
    CustomerWonDay,
    DailySum,
    DealFact,
    GapCell,
    LapseChain,
    RetentionCell,
    ServiceRoomFact,
)
from .periods import Period, PeriodError, buckets, resolve_granularity
from .rollup import (
    T_CHATCONTACT,
    T_CUSTOMER,
    T_ROOM,
    rows_write,
    statistics_refresh,
)
from .section_params import COHORT_OFFSET, EVENT, LOST_AFTER, ParamError

T_CHAIN = LapseChain._meta.db_table
T_RETENTION = RetentionCell._meta.db_table
T_WONDAY = CustomerWonDay._meta.db_table
T_GAP = GapCell._meta.db_table
T_SUM = DailySum._meta.db_table
T_FACT = DealFact._meta.db_table
T_ROOMFACT = ServiceRoomFact._meta.db_table

# The options' bounds are the sections' parameter specs (insights.section_params).
LOST_AFTER_DEFAULT = LOST_AFTER.default
LOST_AFTER_MIN, LOST_AFTER_MAX = LOST_AFTER.low, LOST_AFTER.high
LOST_AFTER_CHOICES = LOST_AFTER.offered  # the dashboard's choice
# Larger than any lost_after: "no next buying day" and gaps beyond every window alike.
INFINITE_GAP = LOST_AFTER.high + 1
EVENTS = EVENT.choices
MAX_OFFSET = COHORT_OFFSET.high
LIFECYCLE_HEADLINE = (
    "new_buyers",
    "returning_buyers",
    "lost_buyers",
    "active_buyers_start",
    "churned_buyers",
    "buyer_churn_pct",
    "buyer_retention_pct",
)


# --- Rollup writer ---------------------------------------------------------------------------


def _month(column: str) -> str:
    """SQL for year * 12 + month - 1 of a day ordinal column."""
    if connection.vendor == "postgresql":
        moment = f"(DATE '0001-01-01' + (({column}) - 1))"
        return (
            f"(CAST(EXTRACT(YEAR FROM {moment}) AS INTEGER) * 12"
            f" + CAST(EXTRACT(MONTH FROM {moment}) AS INTEGER) - 1)"
        )
    return f"w_month({column})"


def chain_rows(days: Sequence[int]) -> Iterable[tuple[int, int, int, int, int]]:
    """(prev, start, end, lo, hi) of one customer's sorted distinct buying days (see above)."""
    gaps = [min(b - a, INFINITE_GAP) for a, b in zip(days, days[1:], strict=False)]
    gaps.append(INFINITE_GAP)
    stack: list[int] = []  # indices i < j with g_i greater than every gap after it, up to j - 1
    for j, end in enumerate(days):
        between = 0  # the largest gap strictly between the stack entry and j
        for i in reversed(stack):
            hi = min(gaps[i], gaps[j])
            if between < hi:
                yield days[i], days[i + 1], end, between, hi
            between = max(between, gaps[i])
            if between >= gaps[j]:
                break
        else:
            if between < gaps[j]:
                yield 0, days[0], end, between, gaps[j]
        while stack and gaps[stack[-1]] <= gaps[j]:
            stack.pop()
        stack.append(j)


CHAIN_COLUMNS = ("prev", "first_day", "last_day", "lo", "hi", "customers")
T_CHAIN_WORK = "insights_tmp_chains"


def lapse_chain_counts(*, customers: str) -> Counter[tuple[int, int, int, int, int]]:
    """The chains of some customers (a subquery of ids), counted: an incremental rebuild's part."""
    counts: Counter[tuple[int, int, int, int, int]] = Counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT customer_id, day FROM {T_WONDAY} WHERE customer_id IN ({customers}) "
            "ORDER BY customer_id, day"
        )
        current: int | None = None
        days: list[int] = []
        for customer_id, day in cursor.fetchall():
            if customer_id != current:
                counts.update(chain_rows(days))
                current, days = customer_id, []
            days.append(day)
        counts.update(chain_rows(days))
    return counts


def rollup_lapse_chains() -> int:
    """LapseChain from CustomerWonDay: one SQL statement for the customers with one buying day
    (one chain, every window: aggregated per day), streaming by customer for the others.

    Both go through a work table and are summed per chain there, so the table holds one row
    per chain (prev, first_day, last_day, lo, hi), which an incremental rebuild adds to.
    """
    db.execute(f"DELETE FROM {T_CHAIN}")
    db.execute(f"DROP TABLE IF EXISTS {T_CHAIN_WORK}")
    db.execute(
        f"CREATE TEMP TABLE {T_CHAIN_WORK} (prev INTEGER, first_day INTEGER, last_day INTEGER, "
        "lo INTEGER, hi INTEGER, customers BIGINT)"
    )
    db.execute(
        f"""INSERT INTO {T_CHAIN_WORK} (prev, first_day, last_day, lo, hi, customers)
            SELECT 0, one.day, one.day, 0, {INFINITE_GAP}, COUNT(*) FROM (
                SELECT customer_id, MIN(day) AS day FROM {T_WONDAY}
                GROUP BY customer_id HAVING COUNT(*) = 1
            ) one GROUP BY one.day"""
    )
    repeaters = (
        CustomerWonDay.objects.values("customer_id")
        .annotate(days=models.Count("day"))
        .filter(days__gt=1)
        .values("customer_id")
    )
    rows = (
        CustomerWonDay.objects.filter(customer_id__in=repeaters)
        .order_by("customer_id", "day")
        .values_list("customer_id", "day")
    )
    pending: Counter[tuple[int, int, int, int, int]] = Counter()

    def flush() -> None:
        rows_write(T_CHAIN_WORK, CHAIN_COLUMNS, [(*key, n) for key, n in pending.items()])
        pending.clear()

    current: int | None = None
    days: list[int] = []
    for customer_id, day in rows.iterator(chunk_size=20000):
        if customer_id != current:
            pending.update(chain_rows(days))
            current, days = customer_id, []
            if len(pending) >= 50000:
                flush()
        days.append(day)
    pending.update(chain_rows(days))
    flush()
    written = db.execute(
        f"""INSERT INTO {T_CHAIN} (prev, first_day, last_day, lo, hi, customers)
            SELECT prev, first_day, last_day, lo, hi, SUM(customers) FROM {T_CHAIN_WORK}
            GROUP BY prev, first_day, last_day, lo, hi"""
    )
    db.execute(f"DROP TABLE {T_CHAIN_WORK}")
    return written


def retention_counts(
    *, customers: str = "", rooms_from_facts: bool = False
) -> Counter[tuple[str, int, int]]:
    """RetentionCell counts (event, cohort, offset; offset -1: cohort size), optionally of
    some customers (a subquery of ids). `rooms_from_facts` reads the rooms' months from
    ServiceRoomFact, as the last rebuild counted them (see insights.incremental)."""
    scope = f" AND customer_id IN ({customers})" if customers else ""
    bought = f"SELECT customer_id, {_month('day')} AS mon FROM {T_WONDAY} WHERE 1 = 1{scope}"
    first_bought = f"SELECT customer_id, MIN(mon) AS cohort FROM ({bought}) b GROUP BY customer_id"
    first_seen = f"""
        SELECT id AS customer_id, {_month(db.date_ordinal_sql("first_seen_date"))} AS cohort
        FROM {T_CUSTOMER}{f" WHERE id IN ({customers})" if customers else ""}
    """
    room_scope = f" AND cc.customer_id IN ({customers})" if customers else ""
    if rooms_from_facts:
        rooms = f"SELECT customer_id, day FROM {T_ROOMFACT} WHERE customer_id IS NOT NULL{scope}"
    else:
        rooms = f"""
            SELECT cc.customer_id AS customer_id, {db.day_sql("r.created_at")} AS day
            FROM {T_ROOM} r JOIN {T_CHATCONTACT} cc ON cc.id = r.chat_contact_id
            WHERE cc.customer_id IS NOT NULL{room_scope}
        """
    active = f"""
        SELECT a.customer_id, {_month("a.day")} AS mon FROM (
            {rooms}
            UNION ALL
            SELECT customer_id, created_day FROM {T_FACT} WHERE customer_id IS NOT NULL{scope}
        ) a
    """
    counts: Counter[tuple[str, int, int]] = Counter()
    for event, cohorts, events in (
        ("purchase", first_bought, bought),
        ("activity", first_seen, active),
    ):
        sizes = db.rows(f"SELECT cohort, COUNT(*) FROM ({cohorts}) c GROUP BY cohort", {})
        for cohort, size in sizes:
            counts[(event, int(cohort), -1)] += int(size)
        masks = db.rows(
            f"""SELECT cohort, mask, COUNT(*) FROM (
                    SELECT c.customer_id, c.cohort, BIT_OR(1 << (e.mon - c.cohort)) AS mask
                    FROM ({cohorts}) c JOIN ({events}) e ON e.customer_id = c.customer_id
                    WHERE e.mon >= c.cohort AND e.mon <= c.cohort + {MAX_OFFSET}
                    GROUP BY c.customer_id, c.cohort
                ) m GROUP BY cohort, mask""",
            {},
        )
        for cohort, mask, customers_n in masks:
            for offset in range(MAX_OFFSET + 1):
                if int(mask) >> offset & 1:
                    counts[(event, int(cohort), offset)] += int(customers_n)
    return counts


def rollup_retention_cells(*, customers: str = "") -> int:
    """RetentionCell, of every customer or of some (a subquery of ids: a fan-out part)."""
    db.execute(f"DELETE FROM {T_RETENTION}")
    cells = [(event, cohort, offset, n) for (event, cohort, offset), n in
             sorted(retention_counts(customers=customers).items()) if n]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {T_RETENTION} (event, cohort, months_after, customers) "
            "VALUES (%s, %s, %s, %s)",
            cells,
        )
    return len(cells)


LIFECYCLE_PHASE_TABLES: dict[str, tuple[str, ...]] = {
    "lapse_chains": (T_CHAIN,),
    "retention_cells": (T_RETENTION,),
}
LIFECYCLE_PHASES: tuple[tuple[str, Callable[[], int]], ...] = (
    ("lapse_chains", rollup_lapse_chains),
    ("retention_cells", rollup_retention_cells),
)


def lifecycle_rollup_rebuild(*, customers: str = "") -> tuple[dict[str, int], dict[str, float]]:
    """Rebuild the lifecycle rollups after insights.rollup's (inside the rebuild transaction).

    `customers`: one shard's customers (a fan-out part, insights.fanout): the chains and cells
    of those customers only, counted from the part's own won days (its staged CustomerWonDay
    holds only theirs); lifecycle_parts_merge adds the shards up."""
    rows: dict[str, int] = {}
    timings: dict[str, float] = {}
    phases = LIFECYCLE_PHASES
    if customers:
        phases = (
            ("lapse_chains", rollup_lapse_chains),
            ("retention_cells", lambda: rollup_retention_cells(customers=customers)),
        )
    for name, phase in phases:
        started = time.monotonic()
        rows[name] = phase()
        statistics_refresh(*LIFECYCLE_PHASE_TABLES[name])
        timings[name] = round(time.monotonic() - started, 3)
    return rows, timings


def lifecycle_parts_merge(union: Callable[[str, Sequence[str]], str]) -> dict[str, int]:
    """Replace the lifecycle rollups with the sum of the parts' (a fanned-out run's last step):
    every customer's chains and cells are in one part, so the counts per key add up."""
    chain_key = ", ".join(CHAIN_COLUMNS[:-1])
    db.execute(f"DELETE FROM {T_CHAIN}")
    chains = db.execute(
        f"INSERT INTO {T_CHAIN} ({', '.join(CHAIN_COLUMNS)}) "
        f"SELECT {chain_key}, SUM(customers) FROM ({union(T_CHAIN, CHAIN_COLUMNS)}) u "
        f"GROUP BY {chain_key}"
    )
    cell = ("event", "cohort", "months_after", "customers")
    db.execute(f"DELETE FROM {T_RETENTION}")
    cells = db.execute(
        f"INSERT INTO {T_RETENTION} ({', '.join(cell)}) "
        f"SELECT event, cohort, months_after, SUM(customers) FROM ({union(T_RETENTION, cell)}) u "
        "GROUP BY event, cohort, months_after"
    )
    statistics_refresh(T_CHAIN, T_RETENTION)
    return {"lapse_chains": chains, "retention_cells": cells}


# --- Reads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LifecycleBucket:
    start: date
    end: date
    new_buyers: int
    returning_buyers: int
    lost_buyers: int


@dataclass(frozen=True)
class BuyerLifecycle:
    lost_after: int
    new_buyers: int
    returning_buyers: int
    lost_buyers: int
    active_buyers_start: int
    churned_buyers: int
    buyer_churn_pct: Decimal
    buyer_retention_pct: Decimal
    trend: list[LifecycleBucket]


@dataclass(frozen=True)
class Cohort:
    cohort: str  # YYYY-MM
    size: int
    retained: list[int]
    pct: list[Decimal]


@dataclass(frozen=True)
class Retention:
    event: str
    cohorts: list[Cohort]


def _check_lost_after(lost_after: int) -> None:
    if not LOST_AFTER_MIN <= lost_after <= LOST_AFTER_MAX:
        raise ValueError(f"lost_after must be {LOST_AFTER_MIN} to {LOST_AFTER_MAX} days")


def _ranges_sql(ranges: Sequence[tuple[int, int]], params: dict[str, Any]) -> str:
    """A VALUES list b(i, s, e) of the ranges, bound as parameters s0, e0, s1, ..."""
    rows = []
    for n, (start, end) in enumerate(ranges):
        params[f"s{n}"], params[f"e{n}"] = start, end
        rows.append(f"({n}, CAST(%(s{n})s AS INTEGER), CAST(%(e{n})s AS INTEGER))")
    return f"b(i, s, e) AS (VALUES {', '.join(rows)})"


def _per_range(sql: str, params: dict[str, Any], count: int) -> list[int]:
    result = [0] * count
    for i, n in db.rows(sql, params):
        result[int(i)] = int(n or 0)
    return result


def _new_buyers(ranges: Sequence[tuple[int, int]]) -> list[int]:
    """Customers whose first buying day is in each range: `won_closed` cells with no previous day.

    One statement for all ranges; index gapcell_lookup (metric, dim, day, prev).
    """
    params: dict[str, Any] = {}
    sql = f"""
        WITH {_ranges_sql(ranges, params)}
        SELECT b.i, SUM(g.customers) FROM b
        JOIN {T_GAP} g ON g.metric = '{keys.WON_CLOSED}' AND g.dim = ''
                      AND g.day >= b.s AND g.day <= b.e AND g.previous_day = 0
        GROUP BY b.i
    """
    return _per_range(sql, params, len(ranges))


def _lost_buyers(ranges: Sequence[tuple[int, int]], lost_after: int, today: int) -> list[int]:
    """Customers with a lost day in each range (on or before today), each by its first chain.

    The chain ends (last buying days) of a range [s, e] lie in [s - W, min(e, today) - W].
    One statement for all ranges; index lapsechain_lookup (last_day, lo).
    """
    shifted = [(start - lost_after, min(end, today) - lost_after) for start, end in ranges]
    params: dict[str, Any] = {"w": lost_after}
    sql = f"""
        WITH {_ranges_sql(shifted, params)}
        SELECT b.i, SUM(c.customers) FROM b
        JOIN {T_CHAIN} c ON c.last_day >= b.s AND c.last_day <= b.e
                        AND c.lo <= %(w)s AND c.hi > %(w)s AND c.prev < b.s
        GROUP BY b.i
    """
    return _per_range(sql, params, len(ranges))


def _churned(start: int, end: int, lost_after: int, today: int) -> int:
    """Of the customers active on start - 1, those lost on a day of [start, min(end, today)]."""
    low, high = start - lost_after, min(end, today) - lost_after
    if high < low:
        return 0
    sql = f"""
        SELECT COALESCE(SUM(customers), 0) FROM {T_CHAIN}
        WHERE last_day >= %(low)s AND last_day <= %(high)s AND lo <= %(w)s AND hi > %(w)s
          AND first_day <= %(before)s
    """
    params = {"low": low, "high": high, "w": lost_after, "before": start - 1}
    return db.scalar(sql, params)


def _lifecycle_payload(period: Period, granularity: str, lost_after: int) -> dict[str, Any]:
    today = period_rules.local_today().toordinal()
    parts = buckets(period, granularity)
    spans = [db.span(part) for part in (period, *parts)]
    start, end = spans[0]
    buyers = distinct.distinct_many(keys.WON_CLOSED, spans)
    new = _new_buyers(spans)
    lost = _lost_buyers(spans, lost_after, today)
    return {
        "new": new[0],
        "returning": buyers[0] - new[0],
        "lost": lost[0],
        "active": distinct.distinct(keys.WON_CLOSED, start - lost_after, start - 1),
        "churned": _churned(start, end, lost_after, today),
        "trend": [
            [b.start.isoformat(), b.end.isoformat(), new[n], buyers[n] - new[n], lost[n]]
            for n, b in enumerate(parts, start=1)
        ],
    }


def buyer_lifecycle(
    *, period: Period, granularity: str = "auto", lost_after: int = LOST_AFTER_DEFAULT
) -> BuyerLifecycle:
    """METRICS.md G over P and its buckets, for the lapse window lost_after (days)."""
    _check_lost_after(lost_after)
    # Validates before touching the cache; "auto" and what it resolves to (the API asks
    # with the resolved one) must share one cache entry, or the rebuild warms the wrong one.
    granularity = resolve_granularity(period, granularity)
    as_of = min(period.end, period_rules.local_today())
    data = cache.cached(
        "lifecycle",
        (period.start, period.end, granularity, lost_after, as_of),
        lambda: _lifecycle_payload(period, granularity, lost_after),
        shape=BuyerLifecycle,
    )
    active, churned = data["active"], data["churned"]
    return BuyerLifecycle(
        lost_after=lost_after,
        new_buyers=data["new"],
        returning_buyers=data["returning"],
        lost_buyers=data["lost"],
        active_buyers_start=active,
        churned_buyers=churned,
        buyer_churn_pct=numbers.ratio(churned, active, scale=100),
        buyer_retention_pct=numbers.ratio(active - churned, active, scale=100),
        trend=[
            LifecycleBucket(date.fromisoformat(s), date.fromisoformat(e), new, ret, lost)
            for s, e, new, ret, lost in data["trend"]
        ],
    )


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _retention_payload(period: Period, event: str, today: date) -> list[list]:
    first, last = _month_index(period.start), _month_index(period.end)
    sql = f"""
        SELECT cohort, months_after, customers FROM {T_RETENTION}
        WHERE event = %(event)s AND cohort >= %(first)s AND cohort <= %(last)s
    """
    cells = {
        (int(c), int(k)): int(n)
        for c, k, n in db.rows(sql, {"event": event, "first": first, "last": last})
    }
    now = _month_index(today)
    rows = []
    for cohort in range(first, last + 1):
        offsets = range(0, min(MAX_OFFSET, now - cohort) + 1)  # months that have begun
        rows.append(
            [
                _month_label(cohort),
                cells.get((cohort, -1), 0),
                [cells.get((cohort, k), 0) for k in offsets],
            ]
        )
    return rows


def cohort_retention(*, period: Period, event: str = "purchase") -> Retention:
    """METRICS.md H: the monthly cohorts of P's months, retained in months c + 0..12 begun."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; one of: purchase, activity")
    today = period_rules.local_today()
    data = cache.cached(
        "retention",
        (period.start, period.end, event, today),
        lambda: _retention_payload(period, event, today),
        shape=Retention,
    )
    return Retention(
        event=event,
        cohorts=[
            Cohort(
                cohort=label,
                size=size,
                retained=retained,
                pct=[numbers.ratio(n, size, scale=100) for n in retained],
            )
            for label, size, retained in data
        ],
    )


# --- Drill-downs: the customers behind a figure ----------------------------------------------


def lifecycle_customer_ids(
    *, period: Period, state: str, lost_after: int = LOST_AFTER_DEFAULT
) -> list[int]:
    """Customers counted as `state` (new | returning | lost) buyers of P (a bucket), by id.

    Read from CustomerWonDay per customer: the same definitions the rollups count.
    """
    _check_lost_after(lost_after)
    start, end = db.span(period)
    if state == "new":
        sql = f"""
            SELECT customer_id FROM {T_WONDAY} GROUP BY customer_id
            HAVING MIN(day) >= %(start)s AND MIN(day) <= %(end)s
        """
    elif state == "returning":
        sql = f"""
            SELECT customer_id FROM {T_WONDAY} GROUP BY customer_id
            HAVING MIN(day) < %(start)s
               AND MAX(CASE WHEN day >= %(start)s AND day <= %(end)s THEN 1 ELSE 0 END) = 1
        """
    elif state == "lost":
        today = period_rules.local_today().toordinal()
        sql = f"""
            SELECT DISTINCT customer_id FROM (
                SELECT customer_id, day,
                       LEAD(day) OVER (PARTITION BY customer_id ORDER BY day) AS next_day
                FROM {T_WONDAY} WHERE day >= %(low)s
            ) b
            WHERE day <= %(high)s AND (next_day IS NULL OR next_day - day > %(w)s)
        """
        params = {
            "low": start - lost_after,
            "high": min(end, today) - lost_after,
            "w": lost_after,
        }
        return sorted(int(row[0]) for row in db.rows(sql, params))
    else:
        raise ValueError(f"unknown lifecycle state {state!r}; one of: new, returning, lost")
    return sorted(int(row[0]) for row in db.rows(sql, {"start": start, "end": end}))


def lifecycle_state_customer_ids(*, state: str, lost_after: int = LOST_AFTER_DEFAULT) -> list[int]:
    """Customers `active` today (a buying day in the last W days, today included) or `lost`
    (a buying day before, none in the last W days: their last lost day has happened), by id.

    For the customer list's lifecycle-state filter (CONTRACT.md 4, customers/).
    """
    _check_lost_after(lost_after)
    if state not in ("active", "lost"):
        raise ValueError(f"unknown lifecycle state {state!r}; one of: active, lost")
    today = period_rules.local_today().toordinal()
    recent = "MAX(CASE WHEN day > %(since)s AND day <= %(today)s THEN 1 ELSE 0 END)"
    sql = f"""
        SELECT customer_id FROM {T_WONDAY} WHERE day <= %(today)s GROUP BY customer_id
        HAVING {recent} = {1 if state == "active" else 0}
    """
    params = {"today": today, "since": today - lost_after}
    return sorted(int(row[0]) for row in db.rows(sql, params))


def cohort_customer_ids(*, cohort: str, offset: int, event: str = "purchase") -> list[int]:
    """Customers of cohort month `cohort` (YYYY-MM) with an event in month cohort + offset."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; one of: purchase, activity")
    if not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"offset must be 0 to {MAX_OFFSET}")
    try:
        year, month = (int(part) for part in cohort.split("-"))
        index = _month_index(date(year, month, 1))
    except ValueError:
        raise ValueError(f"{cohort!r} is not a month YYYY-MM") from None
    params = {"cohort": index, "target": index + offset}
    if event == "purchase":
        sql = f"""
            SELECT customer_id FROM {T_WONDAY} GROUP BY customer_id
            HAVING MIN({_month("day")}) = %(cohort)s
               AND MAX(CASE WHEN {_month("day")} = %(target)s THEN 1 ELSE 0 END) = 1
        """
    else:
        sql = f"""
            SELECT cu.id FROM {T_CUSTOMER} cu
            WHERE {_month(db.date_ordinal_sql("cu.first_seen_date"))} = %(cohort)s
              AND (EXISTS (SELECT 1 FROM {T_FACT} f WHERE f.customer_id = cu.id
                             AND {_month("f.created_day")} = %(target)s)
                   OR EXISTS (SELECT 1 FROM {T_ROOM} r
                              JOIN {T_CHATCONTACT} cc ON cc.id = r.chat_contact_id
                              WHERE cc.customer_id = cu.id
                                AND {_month(db.day_sql("r.created_at"))} = %(target)s))
        """
    return sorted(int(row[0]) for row in db.rows(sql, params))


def drilldown_customer_ids(params: Mapping[str, str]) -> list[int] | None:
    """Customer ids of a lifecycle or cohort drill-down, or None when `params` asks for none.

    `buyers` = new | returning | lost with `buyers_start`, `buyers_end` (YYYY-MM-DD) and
    `lost_after`; or `cohort` (YYYY-MM) with `cohort_offset` and `event`. A bad value
    raises PeriodError naming its parameter.
    """
    if state := params.get("buyers"):
        if state not in ("new", "returning", "lost"):
            raise PeriodError("buyers", "new, returning or lost")
        period = period_rules.parse_period(
            start=params.get("buyers_start") or None, end=params.get("buyers_end") or None
        )
        lost_after = _parsed(LOST_AFTER, params)
        return lifecycle_customer_ids(period=period, state=state, lost_after=lost_after)
    if cohort := params.get("cohort"):
        offset = _parsed(COHORT_OFFSET, params)
        event = _parsed(EVENT, params)
        try:
            return cohort_customer_ids(cohort=cohort, offset=offset, event=event)
        except ValueError as error:
            raise PeriodError("cohort", str(error)) from None
    return None


def _parsed(spec: Any, params: Mapping[str, str]) -> Any:
    """The option as the section's spec parses it; a bad one is a PeriodError naming it."""
    try:
        return spec.parse(params.get(spec.name))
    except ParamError as error:
        raise PeriodError(error.param, error.message) from None
