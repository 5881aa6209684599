"""Reads: one function per figure of METRICS.md section 4, answered from the rollups only.

Every function is keyword-only, takes an `insights.periods.Period` (closed range of local
dates in settings.TIME_ZONE) and returns small frozen dataclasses. Money, percentages and
averages are Decimal quantised to 0.01 (ROUND_HALF_UP); counts are int.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction

from common.db_routing import read_connection
from customers.models import Company
from deals.models import Product

from . import metric_keys as keys
from . import periods as period_rules
from .comparison import comparison_period
from .current_run import latest_succeeded_run
from .models import (
    CustomerWonDay,
    DailySum,
    FigureCache,
    GapCell,
    RepeatCell,
)
from .periods import Period, buckets, resolve_granularity

logger = logging.getLogger(__name__)

T_GAP = GapCell._meta.db_table
T_SUM = DailySum._meta.db_table
T_REPEAT = RepeatCell._meta.db_table
T_WONDAY = CustomerWonDay._meta.db_table

SEGMENTS: tuple[str, ...] = (
    "Champions",
    "Loyal Customers",
    "Potential Loyalists",
    "New Customers",
    "Promising",
    "Need Attention",
    "About To Sleep",
    "Can't Lose Them",
    "At Risk",
    "Hibernating",
)


@dataclass(frozen=True)
class GrowthBucket:
    start: date
    end: date
    total: int
    new: int
    inactive: int


@dataclass(frozen=True)
class Growth:
    total_customers: int
    new_customers: int
    monthly_avg_new_customers: Decimal
    inactive_customers: int
    monthly_avg_inactive_customers: Decimal
    trend: list[GrowthBucket]


@dataclass(frozen=True)
class LabelCount:
    label: str
    customers: int
    # The drill-down filter value: the source as written, or str(company_id); None for "Other".
    key: str | None


@dataclass(frozen=True)
class Demographics:
    by_source: list[LabelCount]
    by_company: list[LabelCount]
    by_country: list[LabelCount] = field(default_factory=list)
    by_city: list[LabelCount] = field(default_factory=list)


ALL_OTHERS = "All others"
DEMOGRAPHICS_LIMIT = 10
DEMOGRAPHICS_MAX_LIMIT = 100
# Stored name of each demographics list -> its API field.
# (key of the cached payload, rollup metric, Demographics field); the payload keys stay short
# so cached answers keep their shape.
DEMOGRAPHIC_LISTS = (
    ("src", keys.NEW_BY_SOURCE, "by_source"),
    ("co", keys.NEW_BY_COMPANY, "by_company"),
    ("ctry", keys.NEW_BY_COUNTRY, "by_country"),
    ("city", keys.NEW_BY_CITY, "by_city"),
)


@dataclass(frozen=True)
class AssociationBucket:
    start: date
    end: date
    customers_with_deals: int
    total_customers: int
    pct: Decimal


@dataclass(frozen=True)
class SalesLifecycle:
    total_customers: int
    customers_with_deals: int
    deal_association_pct: Decimal
    customers_with_won_deals: int
    won_customers_pct: Decimal
    total_deal_size: Decimal
    avg_deal_size_per_customer: Decimal
    association_trend: list[AssociationBucket]


@dataclass(frozen=True)
class LostReasonRow:
    reason: str
    deals: int
    customers: int


@dataclass(frozen=True)
class ProductRow:
    product_id: int
    product: str
    won_deals: int
    quantity: Decimal
    revenue: Decimal


@dataclass(frozen=True)
class SegmentRow:
    segment: str
    customers: int
    revenue: Decimal


@dataclass(frozen=True)
class CustomerRfm:
    customer_id: int
    recency_days: int
    frequency: int
    monetary: Decimal
    r: int
    f: int
    m: int
    segment: str


@dataclass(frozen=True)
class RevenueKpis:
    revenue: Decimal
    paying_customers: int
    avg_revenue_per_customer: Decimal
    top_20pct_revenue_share: Decimal
    avg_lifetime_value: Decimal
    one_time_customers: int
    repeat_customers: int
    won_deals: int
    avg_order_value: Decimal
    win_rate_pct: Decimal
    revenue_per_day: Decimal
    new_customers_per_day: Decimal
    hours_per_new_customer: Decimal


# --- Helpers ---------------------------------------------------------------------------------

# Bump when a payload's shape or a definition changes: old cache rows are then never read.
CACHE_VERSION = (
    6  # 2: demographics sorted; 3: + country, city, top rows; 4: RFM recency; 5-6: RFM thresholds
)
# While a rebuild warms the cache, keys use the id of the run being committed.
_run_override: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "insights_run_override", default=None
)
_warm_collector: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "insights_warm_collector", default=None
)
CENT = Decimal("0.01")
SCOPES = ("all", "new")
ORDERS = ("frequency", "revenue")


def _div(num: int, den: int, *, scale: int = 1, unit: int = 1) -> Decimal:
    """(num / unit) × scale / den, rounded half-up to 0.01 in exact integers; 0 when den is 0."""
    if den == 0:
        return Decimal("0.00")
    numerator = abs(num) * scale * 100
    denominator = abs(den) * unit
    hundredths = (2 * numerator + denominator) // (2 * denominator)
    sign = -1 if (num < 0) != (den < 0) else 1
    return (Decimal(sign * hundredths) / 100).quantize(CENT)


def _money(amount: int, unit: int = 100) -> Decimal:
    return _div(amount, 1, unit=unit)


def _rows(sql: str, params: dict[str, Any]) -> list[tuple]:
    # The pinned replica inside a figure-reading request (common.db_routing), else the primary.
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _int(sql: str, params: dict[str, Any]) -> int:
    # PostgreSQL returns SUM(bigint) as numeric: int() makes both databases alike.
    return int(_rows(sql, params)[0][0] or 0)


def _run_id() -> int:
    override = _run_override.get()
    if override is not None:
        return override
    return latest_succeeded_run()[0]  # read once per request (insights.current_run)


def cache_key(name: str, *params: object) -> str:
    parts = [f"v{CACHE_VERSION}", settings.TIME_ZONE, str(_run_id()), name, *map(str, params)]
    return "|".join(parts)


# How long a reader waits for another process computing the same figure before computing it
# too (a figure that slow is better served twice than not at all).
SINGLE_FLIGHT_WAIT_S = 20.0
SINGLE_FLIGHT_POLL_S = 0.1


@contextlib.contextmanager
def _computing(key: str) -> Iterator[Any]:
    """One process computes an uncached figure at a time (PostgreSQL); yields the payload a
    waiter found stored meanwhile, else None (then the caller computes).

    At nine in the morning a whole team opens the same cold figure: eight readers computing a
    year of service percentiles at once ran past the web server's 30 s timeout, where one
    computing and seven reading its result answer in the time of one. A session advisory lock
    keyed by the cache key marks the computation; the others poll the cache (never block on
    the lock, so figures that compute others inside them cannot deadlock).
    """
    if connection.vendor != "postgresql":
        yield None
        return
    lock_id = int.from_bytes(
        hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        locked = cursor.fetchone()[0]
        deadline = time.monotonic() + SINGLE_FLIGHT_WAIT_S
        while not locked and time.monotonic() < deadline:
            time.sleep(SINGLE_FLIGHT_POLL_S)
            stored = FigureCache.objects.filter(key=key).values_list("payload", flat=True).first()
            if stored is not None:
                yield stored
                return
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
            locked = cursor.fetchone()[0]
    try:
        yield None
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


def _cached(name: str, params: tuple, compute: Callable[[], Any]) -> Any:
    """The JSON payload of a figure: from FigureCache, or computed from rollups and stored."""
    key = cache_key(name, *params)
    collected = _warm_collector.get()
    if collected is not None:  # warming an empty cache: no lookup, one bulk insert at the end
        if key not in collected:
            collected[key] = json.loads(json.dumps(compute()))
        return collected[key]
    payload = FigureCache.objects.filter(key=key).values_list("payload", flat=True).first()
    if payload is not None:
        return payload
    with _computing(key) as stored_meanwhile:
        if stored_meanwhile is not None:
            return stored_meanwhile
        payload = json.loads(json.dumps(compute()))  # the same shape as a cached one
    try:
        with transaction.atomic():
            FigureCache.objects.create(key=key, payload=payload)
    except (IntegrityError, DatabaseError) as error:
        # Another reader stored it first, or a rebuild holds the SQLite write lock: serve anyway.
        logger.info("figure cache not stored for %s: %s", key, error)
    return payload


def _distinct_many(metric: str, ranges: Sequence[tuple[int, int]]) -> list[int]:
    """Distinct customers with a `metric` event in each [start, end] (gap encoding, rollup.py).

    One statement for all ranges (a period, its buckets and its months): per day of a range,
    one seek on gapcell_grain (metric, dim, day, previous_day, ...) for the running sum at the
    largest previous_day < start; plus the few cells of customers first seen after the event
    (metric_keys.seen_later) with first_seen_later <= end.
    """
    if not ranges:
        return []
    params: dict[str, Any] = {"metric": metric, "exceptions": keys.seen_later(metric)}
    rows = []
    for n, (start, end) in enumerate(ranges):
        params[f"s{n}"], params[f"e{n}"] = start, end
        rows.append(f"({n}, CAST(%(s{n})s AS INTEGER), CAST(%(e{n})s AS INTEGER))")
    sql = f"""
        WITH RECURSIVE b(i, s, e) AS (VALUES {", ".join(rows)}),
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
    for i, n in _rows(sql, params):
        counts[int(i) % len(ranges)] += int(n or 0)
    return counts


def _distinct(metric: str, start: int, end: int) -> int:
    return _distinct_many(metric, [(start, end)])[0]


def _total_before(day: int) -> int:
    """Customers first seen on or before `day`."""
    sql = f"""
        SELECT COALESCE(SUM(count), 0) FROM {T_SUM} WHERE metric = %(metric)s AND day <= %(day)s
    """
    return _int(sql, {"day": day, "metric": keys.NEW_CUSTOMERS})


def _new_by_day(start: int, end: int) -> dict[int, int]:
    sql = f"""
        SELECT day, SUM(count) FROM {T_SUM}
        WHERE metric = %(metric)s AND day >= %(start)s AND day <= %(end)s GROUP BY day
    """
    params = {"start": start, "end": end, "metric": keys.NEW_CUSTOMERS}
    return {int(day): int(count) for day, count in _rows(sql, params)}


class _Totals:
    """|Base(b)| and new customers for any sub-range of a period from one read of daily counts."""

    def __init__(self, period: Period) -> None:
        self.start = period.start.toordinal()
        self.before = _total_before(self.start - 1)
        self.daily = _new_by_day(self.start, period.end.toordinal())

    def new(self, start: int, end: int) -> int:
        return sum(count for day, count in self.daily.items() if start <= day <= end)

    def total(self, end: int) -> int:
        return self.before + self.new(self.start, end)


def _span(period: Period) -> tuple[int, int]:
    return period.start.toordinal(), period.end.toordinal()


# --- A. Customer growth ----------------------------------------------------------------------


def _growth_payload(period: Period, granularity: str) -> dict[str, Any]:
    totals = _Totals(period)
    parts = buckets(period, granularity)
    months = period.months()
    spans = [_span(part) for part in (period, *parts, *months)]
    active = _distinct_many(keys.ACTIVE, spans)
    inactive = [totals.total(end) - n for (_start, end), n in zip(spans, active, strict=True)]
    start, end = spans[0]
    trend = [
        [b.start.isoformat(), b.end.isoformat(), totals.total(b.end.toordinal()),
         totals.new(*_span(b)), inactive[1 + n]]
        for n, b in enumerate(parts)
    ]  # fmt: skip
    return {
        "total": totals.total(end),
        "new": totals.new(start, end),
        "inactive": inactive[0],
        "inactive_month_sum": sum(inactive[1 + len(parts) :]),
        "months": len(months),
        "trend": trend,
    }


def growth_overview(*, period: Period, granularity: str = "auto") -> Growth:
    """METRICS.md A over the local-date period P (both ends included)."""
    # Validates before touching the cache; "auto" and what it resolves to (the API asks
    # with the resolved one) must share one cache entry, or the rebuild warms the wrong one.
    granularity = resolve_granularity(period, granularity)
    data = _cached(
        "growth",
        (period.start, period.end, granularity),
        lambda: _growth_payload(period, granularity),
    )
    return Growth(
        total_customers=data["total"],
        new_customers=data["new"],
        # M(P) is fractional (METRICS.md 1): new / (a / b) = new × b / a, exactly.
        monthly_avg_new_customers=_div(
            data["new"] * period.month_length.denominator, period.month_length.numerator
        ),
        inactive_customers=data["inactive"],
        monthly_avg_inactive_customers=_div(data["inactive_month_sum"], data["months"]),
        trend=[
            GrowthBucket(date.fromisoformat(s), date.fromisoformat(e), total, new, inactive)
            for s, e, total, new, inactive in data["trend"]
        ],
    )


# --- B. Demographics -------------------------------------------------------------------------


def _demographic_sql(scope: str, end: int) -> str:
    """Customers per dim first seen in [start, end] ("new") or by end ("all").

    Index dailysum_lookup (metric, day, dim): one range scan. For "all", the base is either
    the days up to the end or the all-time totals minus the days after the end, whichever
    range holds fewer days (at 1M people a base ending yesterday read 25,000 companies x 500
    days; now the totals and one day). Every demographic list counts each customer on its
    first-seen day, so all of them span the days of new_customers: one bounds read.
    """
    if scope == "new":
        return f"""
            SELECT dim, SUM(count) FROM {T_SUM}
            WHERE metric = %(metric)s AND day >= %(start)s AND day <= %(end)s GROUP BY dim
        """
    first, last = _rows(
        f"SELECT MIN(day), MAX(day) FROM {T_SUM} WHERE metric = %(metric)s",
        {"metric": keys.NEW_CUSTOMERS},
    )[0]
    if first is None or last - end >= end - first:
        return f"""
            SELECT dim, SUM(count) FROM {T_SUM}
            WHERE metric = %(metric)s AND day <= %(end)s GROUP BY dim
        """
    return f"""
        SELECT dim, SUM(n) FROM (
            SELECT dim, count AS n FROM {T_SUM} WHERE metric = %(all_time)s
            UNION ALL
            SELECT dim, -count FROM {T_SUM} WHERE metric = %(metric)s AND day > %(end)s
        ) x GROUP BY dim
    """


def _demographics_payload(period: Period, scope: str) -> dict[str, Any]:
    start, end = _span(period)
    sql = _demographic_sql(scope, end)
    result: dict[str, Any] = {}
    for name, metric, _field in DEMOGRAPHIC_LISTS:
        params = {"metric": metric, "all_time": keys.all_time(metric), "start": start, "end": end}
        result[name] = [[dim, int(count)] for dim, count in _rows(sql, params) if count]
    # Names only for the companies that can make the first DEMOGRAPHICS_MAX_LIMIT rows: those
    # counting at least as many as the row at the limit (ties there are ordered by name).
    # Fetching all 25,000 names at a million customers cost 0.4 s per period and scope.
    counts = sorted((count for _, count in result["co"]), reverse=True)
    cut = counts[DEMOGRAPHICS_MAX_LIMIT - 1] if len(counts) > DEMOGRAPHICS_MAX_LIMIT else 0
    co_total = sum(counts)
    ids = [int(dim) for dim, count in result["co"] if dim and count >= cut]
    names = dict(Company.objects.filter(pk__in=ids).values_list("pk", "name"))
    result["co"] = [
        [names.get(int(dim), f"Company {dim}") if dim else "Other", dim or None, count]
        for dim, count in result["co"]
        if count >= cut
    ]
    for metric in ("src", "ctry", "city"):
        result[metric] = [
            [dim, None if dim == "Other" else dim, count] for dim, count in result[metric]
        ]
    # Sorted once here, not on every read, and only the first DEMOGRAPHICS_MAX_LIMIT rows kept
    # with the sum over all rows: by_company has a row per company (25,000 at a million
    # customers), yet any `limit` up to the maximum is answered exactly from this much.
    # Code-point order in Python, the same on every database.
    for metric, rows in result.items():
        rows.sort(key=lambda row: (-row[2], row[0], row[1] or ""))
        result[metric] = {
            "rows": rows[:DEMOGRAPHICS_MAX_LIMIT],
            "total": co_total if metric == "co" else sum(row[2] for row in rows),
        }
    return result


def demographics_rows(
    *, period: Period, scope: str = "all", limit: int = DEMOGRAPHICS_LIMIT
) -> dict[str, list[list]]:
    """METRICS.md B as lists {"src"|"co"|"ctry"|"city": [[label, key, customers], ...]}.

    Each list keeps its first `limit` rows in display order; when rows are left out, a last
    row [ALL_OTHERS, None, their customers] follows. Keys are the drill-down filter values
    (source, company id, country, city); None for "Other" and for ALL_OTHERS.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; one of: all, new")
    if not 1 <= limit <= DEMOGRAPHICS_MAX_LIMIT:
        raise ValueError(f"limit must be 1 to {DEMOGRAPHICS_MAX_LIMIT}, not {limit}")
    data = _cached(
        "demographics",
        (period.start, period.end, scope),
        lambda: _demographics_payload(period, scope),
    )
    result: dict[str, list[list]] = {}
    for name, _metric, _field in DEMOGRAPHIC_LISTS:
        rows = data[name]["rows"][:limit]
        rest = data[name]["total"] - sum(row[2] for row in rows)
        result[name] = [*rows, [ALL_OTHERS, None, rest]] if rest else rows
    return result


def demographics(
    *, period: Period, scope: str = "all", limit: int = DEMOGRAPHICS_LIMIT
) -> Demographics:
    """METRICS.md B: customers per source, company, country and city over Base(P), or first
    seen in P; each list cut to `limit` rows plus `All others` (key None)."""
    data = demographics_rows(period=period, scope=scope, limit=limit)
    lists = {
        field: [LabelCount(label=r[0], customers=r[2], key=r[1]) for r in data[name]]
        for name, _metric, field in DEMOGRAPHIC_LISTS
    }
    return Demographics(**lists)


# --- C. Sales lifecycle ----------------------------------------------------------------------


def _sales_payload(period: Period, granularity: str) -> dict[str, Any]:
    totals = _Totals(period)
    start, end = _span(period)
    sql = f"""
        SELECT COALESCE(SUM(amount), 0) FROM {T_SUM}
        WHERE metric = %(metric)s AND day >= %(start)s AND day <= %(end)s
          AND first_seen_later <= %(end)s
    """
    parts = buckets(period, granularity)
    with_deals = _distinct_many(keys.DEAL_CREATED, [(start, end), *(_span(b) for b in parts)])
    trend = [
        [b.start.isoformat(), b.end.isoformat(), with_deals[1 + n],
         totals.total(b.end.toordinal())]
        for n, b in enumerate(parts)
    ]  # fmt: skip
    return {
        "total": totals.total(end),
        "with_deals": with_deals[0],
        "with_won": _distinct(keys.WON_CREATED, start, end),
        "deal_cents": _int(sql, {"start": start, "end": end, "metric": keys.DEAL_VALUE_CREATED}),
        "trend": trend,
    }


def sales_lifecycle(*, period: Period, granularity: str = "auto") -> SalesLifecycle:
    """METRICS.md C over P: deals created in P of customers first seen on or before its end."""
    granularity = resolve_granularity(period, granularity)  # as in growth_overview
    data = _cached(
        "sales",
        (period.start, period.end, granularity),
        lambda: _sales_payload(period, granularity),
    )
    return SalesLifecycle(
        total_customers=data["total"],
        customers_with_deals=data["with_deals"],
        deal_association_pct=_div(data["with_deals"], data["total"], scale=100),
        customers_with_won_deals=data["with_won"],
        won_customers_pct=_div(data["with_won"], data["with_deals"], scale=100),
        total_deal_size=_money(data["deal_cents"]),
        avg_deal_size_per_customer=_div(data["deal_cents"], data["with_deals"], unit=100),
        association_trend=[
            AssociationBucket(
                date.fromisoformat(s),
                date.fromisoformat(e),
                with_deals,
                total,
                _div(with_deals, total, scale=100),
            )
            for s, e, with_deals, total in data["trend"]
        ],  # fmt: skip
    )


# --- E. Lost reasons -------------------------------------------------------------------------


def _lost_payload(period: Period) -> list[list]:
    start, end = _span(period)
    params = {
        "start": start,
        "end": end,
        "deals": keys.LOST_DEALS,
        "customers": keys.LOST_CLOSED,
    }
    deals_sql = f"""
        SELECT dim, SUM(count) FROM {T_SUM}
        WHERE metric = %(deals)s AND day >= %(start)s AND day <= %(end)s GROUP BY dim
    """
    customers_sql = f"""
        SELECT dim, SUM(customers) FROM {T_GAP}
        WHERE metric = %(customers)s AND day >= %(start)s AND day <= %(end)s
          AND previous_day < %(start)s
        GROUP BY dim
    """
    customers = {dim: int(n) for dim, n in _rows(customers_sql, params)}
    # Sorted so the stored payload does not depend on the database's hash order.
    return sorted([dim, int(n), customers.get(dim, 0)] for dim, n in _rows(deals_sql, params))


def lost_reasons(*, period: Period) -> list[LostReasonRow]:
    """METRICS.md E: lost deals closed in P per reason, deals desc then reason (code points)."""
    data = _cached("lost", (period.start, period.end), lambda: _lost_payload(period))
    rows = sorted(data, key=lambda row: (-row[1], row[0]))
    return [LostReasonRow(reason=reason, deals=deals, customers=n) for reason, deals, n in rows]


# --- F. Top products -------------------------------------------------------------------------


def _products_payload(period: Period) -> list[list]:
    start, end = _span(period)
    sql = f"""
        SELECT dim, SUM(count), SUM(quantity), SUM(amount) FROM {T_SUM}
        WHERE metric = %(metric)s AND day >= %(start)s AND day <= %(end)s GROUP BY dim
    """
    rows = _rows(sql, {"start": start, "end": end, "metric": keys.PRODUCT_SALES})
    names = dict(Product.objects.filter(pk__in=[int(r[0]) for r in rows]).values_list("pk", "name"))
    return [
        [int(pid), names.get(int(pid), f"Product {pid}"), int(n), int(qty), int(revenue)]
        for pid, n, qty, revenue in rows
    ]


def top_products(*, period: Period, order: str = "frequency", limit: int = 10) -> list[ProductRow]:
    """METRICS.md F: products of won deals closed in P; revenue is quantity × unit price."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; one of: frequency, revenue")
    limit = min(max(limit, 1), 100)
    data = _cached("products", (period.start, period.end), lambda: _products_payload(period))
    if order == "frequency":
        data.sort(key=lambda row: (-row[2], -row[4], row[1], row[0]))
    else:
        data.sort(key=lambda row: (-row[4], -row[2], row[1], row[0]))
    return [
        ProductRow(
            product_id=pid, product=name, won_deals=n,
            quantity=_money(qty), revenue=_money(revenue, unit=10000),
        )
        for pid, name, n, qty, revenue in data[:limit]
    ]  # fmt: skip


# --- R. RFM ----------------------------------------------------------------------------------


def rfm_segment(*, r: int, f: int) -> str:
    """The segment of an R/F score pair: METRICS.md R, first match wins."""
    if r == 5 and f in (4, 5):
        return "Champions"
    if r in (3, 4) and f in (4, 5):
        return "Loyal Customers"
    if r in (4, 5) and f in (2, 3):
        return "Potential Loyalists"
    if r == 5 and f == 1:
        return "New Customers"
    if r == 4 and f == 1:
        return "Promising"
    if r == 3 and f == 3:
        return "Need Attention"
    if r == 3 and f in (1, 2):
        return "About To Sleep"
    if r in (1, 2) and f == 5:
        return "Can't Lose Them"
    if r in (1, 2) and f in (3, 4):
        return "At Risk"
    if r in (1, 2) and f in (1, 2):
        return "Hibernating"
    raise ValueError(f"no segment for R={r} F={f}")


def _as_of(period: Period) -> int:
    """The as-of date A = min(end, today) of METRICS.md section 1, as an ordinal."""
    return min(period.end, period_rules.local_today()).toordinal()


def _rfm_params(period: Period) -> dict[str, Any]:
    start, end = _span(period)
    as_of = _as_of(period)
    return {"start": start, "end": end, "as_of": as_of, "span": max(1, as_of - start + 1)}


# Over one customer's CustomerWonDay rows of P (GROUP BY customer_id): max(0, A - last day).
RECENCY_DAYS_SQL = "CASE WHEN %(as_of)s - MAX(day) > 0 THEN %(as_of)s - MAX(day) ELSE 0 END"
# R from recency_days `rec` and L = `span`: 5 - min(4, floor(5 rec / L)).
RECENCY_SCORE_SQL = "5 - CASE WHEN (5 * rec) / %(span)s > 4 THEN 4 ELSE (5 * rec) / %(span)s END"


def _rfm_sql(where: str = "") -> str:
    """Per customer with a won deal closed in P: recency, frequency, monetary and scores.

    Recency is scored by where in P the last purchase fell (METRICS.md R): recency_days =
    max(0, A - latest close day), L = max(1, A - start + 1), R = 5 - min(4, 5 * rec // L).
    RANK() is 1 + how many are strictly worse when ordered worst first; integer division of
    non-negative integers floors. Index customerwonday_grain (day, customer_id).
    """
    return f"""
        WITH c AS (
            SELECT customer_id, {RECENCY_DAYS_SQL} AS rec,
                   SUM(won_deals) AS freq, SUM(revenue_cents) AS mon
            FROM {T_WONDAY} WHERE day >= %(start)s AND day <= %(end)s GROUP BY customer_id
        ), scored AS (
            SELECT customer_id, rec, freq, mon, {RECENCY_SCORE_SQL} AS r,
                   1 + (5 * (RANK() OVER (ORDER BY mon ASC) - 1)) / COUNT(*) OVER () AS m
            FROM c
        ), repeat AS (
            SELECT customer_id,
                   2 + (4 * (RANK() OVER (ORDER BY freq ASC) - 1)) / COUNT(*) OVER () AS f
            FROM c WHERE freq >= 2
        )
        SELECT s.customer_id, s.rec, s.freq, s.mon, s.r, COALESCE(p.f, 1) AS f, s.m
        FROM scored s LEFT JOIN repeat p ON p.customer_id = s.customer_id
        {where}
    """


def _rfm_grid_payload(period: Period) -> dict[str, list]:
    # Grouped by frequency and M too: F is a function of frequency and M of monetary, so the
    # same few rows give the grid, the frequency histogram of every payer in P and, per M,
    # the largest monetary (rfm_thresholds).
    sql = f"""
        SELECT r, f, freq, m, COUNT(*), SUM(mon), MAX(mon) FROM ({_rfm_sql()}) x
        GROUP BY r, f, freq, m
    """
    cells: dict[tuple[int, int], list[int]] = {}
    frequencies: dict[int, int] = {}
    monetary_max: list[int | None] = [None] * 5
    for r, f, freq, m, n, mon, mon_max in _rows(sql, _rfm_params(period)):
        cell = cells.setdefault((int(r), int(f)), [0, 0])
        cell[0] += int(n)
        cell[1] += int(mon)
        frequencies[int(freq)] = frequencies.get(int(freq), 0) + int(n)
        known = monetary_max[int(m) - 1]
        monetary_max[int(m) - 1] = int(mon_max) if known is None else max(known, int(mon_max))
    return {
        "cells": [[r, f, n, mon] for (r, f), (n, mon) in sorted(cells.items())],
        "frequencies": sorted([freq, n] for freq, n in frequencies.items()),
        "monetary_max": monetary_max,
    }


def _rfm_payload(period: Period) -> dict[str, Any]:
    # The as-of date is in the key: for a period running past today, recency moves each day.
    return _cached(
        "rfm",
        (period.start, period.end, date.fromordinal(_as_of(period))),
        lambda: _rfm_grid_payload(period),
    )


def _rfm_cells(period: Period) -> list[list[int]]:
    return _rfm_payload(period)["cells"]


def rfm_frequency_thresholds(*, period: Period) -> list[int]:
    """The three frequencies that split P's repeat buyers into F scores 2 to 5 (METRICS.md R).

    F = 2 + floor(4 (RANK - 1) / Nr) over the Nr payers with frequency >= 2, where RANK - 1 is
    how many of them bought less often. F >= k exactly when at least u = ceil((k - 2) Nr / 4)
    of them bought less often, that is when the frequency exceeds the u-th smallest one. So a
    customer's F is 2 + how many of the returned values their frequency exceeds: any subset of
    P's payers (a saved segment) is scored without ranking the others again. Empty when P has
    no repeat buyer.
    """
    return _frequency_thresholds(_rfm_payload(period))


def rfm_monetary_thresholds(*, period: Period) -> list[int]:
    """The four monetary values (cents) that split P's payers into M scores 1 to 5.

    M = 1 + floor(5 (RANK - 1) / N); M >= k exactly when the monetary exceeds the t-th
    smallest, t = ceil((k - 1) N / 5), and that value is the largest monetary among the payers
    whose M is below k (ties at it all rank at or below t). So the k-th threshold is the
    running maximum of the per-M maxima below k. Empty when P has no payer.
    """
    return _monetary_thresholds(_rfm_payload(period))


def _frequency_thresholds(payload: dict[str, Any]) -> list[int]:
    repeat = [(freq, n) for freq, n in payload["frequencies"] if freq >= 2]
    total = sum(n for _freq, n in repeat)
    if not total:
        return []
    thresholds = []
    for k in (3, 4, 5):
        position = ((k - 2) * total + 3) // 4  # ceil((k - 2) Nr / 4) >= 1
        seen = 0
        for freq, n in repeat:
            seen += n
            if seen >= position:
                thresholds.append(freq)
                break
    return thresholds


def _monetary_thresholds(payload: dict[str, Any]) -> list[int]:
    maxima: list[int | None] = payload["monetary_max"]
    thresholds: list[int] = []
    running: int | None = None
    for below in maxima[:4]:
        if below is not None:
            running = below if running is None else max(running, below)
        if running is None:
            return []
        thresholds.append(running)
    return thresholds


def rfm_segments(*, period: Period) -> list[SegmentRow]:
    """METRICS.md R: customers and their revenue in P per segment, all ten in order."""
    customers = dict.fromkeys(SEGMENTS, 0)
    revenue = dict.fromkeys(SEGMENTS, 0)
    for r, f, n, mon in _rfm_cells(period):
        segment = rfm_segment(r=r, f=f)
        customers[segment] += n
        revenue[segment] += mon
    return [
        SegmentRow(segment=s, customers=customers[s], revenue=_money(revenue[s])) for s in SEGMENTS
    ]


def rfm_grid(*, period: Period) -> list[list[int]]:
    """grid[r-1][f-1] = customers with those R and F scores in P."""
    grid = [[0] * 5 for _ in range(5)]
    for r, f, n, _mon in _rfm_cells(period):
        grid[r - 1][f - 1] = n
    return grid


def rfm_for_customers(*, period: Period, customer_ids: Sequence[int]) -> dict[int, CustomerRfm]:
    """RFM of the given customers in P (ranked among all customers with a won deal in P).

    Only their own won days are read (index customerwonday_customer): F and M come from the
    thresholds of the whole period's payers (cached with the RFM grid), R from their days.
    """
    ids = sorted({int(i) for i in customer_ids})
    if not ids:
        return {}
    params = _rfm_params(period)
    params.update({f"id{n}": i for n, i in enumerate(ids)})
    placeholders = ", ".join(f"%(id{n})s" for n in range(len(ids)))
    sql = f"""
        SELECT customer_id, rec, freq, mon, {RECENCY_SCORE_SQL} FROM (
            SELECT customer_id, {RECENCY_DAYS_SQL} AS rec,
                   SUM(won_deals) AS freq, SUM(revenue_cents) AS mon
            FROM {T_WONDAY}
            WHERE customer_id IN ({placeholders}) AND day >= %(start)s AND day <= %(end)s
            GROUP BY customer_id
        ) c
    """
    rows = _rows(sql, params)
    if not rows:
        return {}
    payload = _rfm_payload(period)  # one cache read for both thresholds
    frequency_thresholds = _frequency_thresholds(payload)
    monetary_thresholds = _monetary_thresholds(payload)
    result = {}
    for cid, rec, freq, mon, r in rows:
        freq, mon = int(freq), int(mon)
        f = 1 if freq < 2 else 2 + sum(freq > t for t in frequency_thresholds)
        m = 1 + sum(mon > t for t in monetary_thresholds)
        result[int(cid)] = CustomerRfm(
            customer_id=int(cid), recency_days=int(rec), frequency=freq,
            monetary=_money(mon), r=int(r), f=f, m=m, segment=rfm_segment(r=int(r), f=f),
        )  # fmt: skip
    return result


def rfm_customer_ids(
    *, period: Period, segment: str | None = None, r: int | None = None, f: int | None = None
) -> list[int]:
    """Customers in a segment and/or an R/F grid cell for P, by id."""
    if segment is not None and segment not in SEGMENTS:
        raise ValueError(f"unknown segment {segment!r}")
    cells = [
        (rr, ff)
        for rr in range(1, 6)
        for ff in range(1, 6)
        if (segment is None or rfm_segment(r=rr, f=ff) == segment)
        and (r is None or rr == r)
        and (f is None or ff == f)
    ]
    if not cells:
        return []
    # Literal small ints from the loop above, not user text.
    condition = " OR ".join(f"(x.r = {rr} AND x.f = {ff})" for rr, ff in cells)
    sql = f"SELECT x.customer_id FROM ({_rfm_sql()}) x WHERE {condition} ORDER BY x.customer_id"
    return [int(row[0]) for row in _rows(sql, _rfm_params(period))]


# --- K. Revenue KPIs -------------------------------------------------------------------------


def _revenue_payload(period: Period) -> dict[str, int]:
    start, end = _span(period)
    params = {"start": start, "end": end, "revenue": keys.WON_REVENUE}
    revenue_sql = f"""
        SELECT COALESCE(SUM(amount), 0) FROM {T_SUM}
        WHERE metric = %(revenue)s AND day >= %(start)s AND day <= %(end)s
    """
    lifetime_sql = (
        f"SELECT COALESCE(SUM(amount), 0) FROM {T_SUM} "
        "WHERE metric = %(revenue)s AND day <= %(end)s"
    )
    ever_paid_sql = (
        f"SELECT COALESCE(SUM(customers), 0) FROM {T_REPEAT} WHERE first_won_day <= %(end)s"
    )
    # Exactly one won deal closed <= end and a won deal in P: that deal is the first one.
    one_time_sql = f"""
        SELECT COALESCE(SUM(customers), 0) FROM {T_REPEAT}
        WHERE first_won_day >= %(start)s AND first_won_day <= %(end)s
          AND (second_won_day IS NULL OR second_won_day > %(end)s)
    """
    # The top ceil(0.2 × n) customers by revenue in P; ties do not change the sum.
    top_sql = f"""
        SELECT COALESCE(SUM(rev), 0) FROM (
            SELECT rev, ROW_NUMBER() OVER (ORDER BY rev DESC) AS rn, COUNT(*) OVER () AS n
            FROM (
                SELECT customer_id, SUM(revenue_cents) AS rev FROM {T_WONDAY}
                WHERE day >= %(start)s AND day <= %(end)s GROUP BY customer_id
            ) c
        ) t WHERE rn <= (2 * n + 9) / 10
    """
    # Won deals, and lost deals of customers (insights.lifecycle writes them), closed in P;
    # customers first seen in P.
    counts_sql = f"""
        SELECT COALESCE(SUM(CASE WHEN metric = '{keys.WON_REVENUE}' THEN count ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN metric = '{keys.LOST_DEALS_OF_CUSTOMERS}' THEN count
                                 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN metric = '{keys.NEW_CUSTOMERS}' THEN count ELSE 0 END), 0)
        FROM {T_SUM}
        WHERE metric IN ('{keys.WON_REVENUE}', '{keys.LOST_DEALS_OF_CUSTOMERS}',
                         '{keys.NEW_CUSTOMERS}')
          AND day >= %(start)s AND day <= %(end)s
    """
    # One round trip: every part is a scalar subquery over a small rollup.
    sql = f"""
        SELECT ({revenue_sql}), ({top_sql}), ({lifetime_sql}), ({ever_paid_sql}), ({one_time_sql})
    """
    revenue, top, lifetime, ever_paid, one_time = (int(v or 0) for v in _rows(sql, params)[0])
    won, lost, new = (int(v or 0) for v in _rows(counts_sql, params)[0])
    return {
        "revenue": revenue,
        "paying": _distinct(keys.WON_CLOSED, start, end),
        "top": top,
        "lifetime": lifetime,
        "ever_paid": ever_paid,
        "one_time": one_time,
        "won": won,
        "lost": lost,
        "new": new,
        "days": end - start + 1,
    }


def revenue_kpis(*, period: Period) -> RevenueKpis:
    """METRICS.md K: won deals of customers, dated by close date (local), over P."""
    data = _cached("revenue", (period.start, period.end), lambda: _revenue_payload(period))
    return revenue_kpis_of(data, elapsed_days=period.elapsed_days())


def revenue_kpis_of(data: dict[str, int], *, elapsed_days: int | None = None) -> RevenueKpis:
    """The K figures from their integer parts (cents and counts): one formula for every caller.

    The per-day figures divide by the days of P's elapsed part (METRICS.md K), read at request
    time (the cached parts do not know today); none: the days of the cached P."""
    days = data["days"] if elapsed_days is None else elapsed_days
    return RevenueKpis(
        revenue=_money(data["revenue"]),
        paying_customers=data["paying"],
        avg_revenue_per_customer=_div(data["revenue"], data["paying"], unit=100),
        top_20pct_revenue_share=_div(data["top"], data["revenue"], scale=100),
        avg_lifetime_value=_div(data["lifetime"], data["ever_paid"], unit=100),
        one_time_customers=data["one_time"],
        repeat_customers=data["paying"] - data["one_time"],
        won_deals=data["won"],
        avg_order_value=_div(data["revenue"], data["won"], unit=100),
        win_rate_pct=_div(data["won"], data["won"] + data["lost"], scale=100),
        revenue_per_day=_div(data["revenue"], days, unit=100),
        new_customers_per_day=_div(data["new"], days),
        hours_per_new_customer=_div(24 * days, data["new"]),
    )


def computed_at() -> datetime | None:
    """When the rollups being read were committed: finished_at of the last successful rebuild."""
    return latest_succeeded_run()[1]


# --- Cache warming (called by insights.rebuild inside its transaction) -----------------------


def _previous_periods(periods: Sequence[Period]) -> list[Period]:
    """What each period is compared with (P′, or P″ for one that has not ended; none for one
    that starts after today), when it is not itself among `periods`."""
    given = {(p.start, p.end) for p in periods}
    found: dict[tuple, Period] = {}
    today = period_rules.local_today()
    for period in periods:
        before = comparison_period(period, today)
        if before is not None and (before.start, before.end) not in given:
            found[(before.start, before.end)] = before
    return list(found.values())


def figures_warm(
    *,
    run_id: int,
    periods: Sequence[Period],
    warmers: Sequence[Callable[[Period], object]] = (),
    comparison_warmers: Sequence[Callable[[Period], object]] = (),
) -> int:
    """Compute and store every figure with default parameters for `periods` under `run_id`.

    `warmers` are the figure functions of modules that read through this one's cache
    (customer value, lifecycle, service): each is called with a period, so their answers are
    collected and stored with the rest without this module importing them.

    The figures that carry a comparison (growth, sales, revenue, and `comparison_warmers`)
    are also warmed for each period's P': a dashboard or API read of a preset asks for both,
    and a P' that is no preset (the 90 days before the last 90) was computed on the first
    morning request.
    """
    token = _run_override.set(run_id)
    collected: dict[str, Any] = {}
    collector_token = _warm_collector.set(collected)
    try:
        for period in periods:
            growth_overview(period=period)
            demographics(period=period, scope="all")
            demographics(period=period, scope="new")
            sales_lifecycle(period=period)
            lost_reasons(period=period)
            top_products(period=period)
            rfm_segments(period=period)
            revenue_kpis(period=period)
            for warm in warmers:
                warm(period)
        for before in _previous_periods(periods):
            growth_overview(period=before)
            sales_lifecycle(period=before)
            revenue_kpis(period=before)
            for warm in comparison_warmers:
                warm(before)
    finally:
        _warm_collector.reset(collector_token)
        _run_override.reset(token)
    # A reader may have computed and stored a figure first (the run is already committed).
    FigureCache.objects.bulk_create(
        [FigureCache(key=key, payload=payload) for key, payload in collected.items()],
        batch_size=500,
        ignore_conflicts=True,
    )
    return len(collected)
