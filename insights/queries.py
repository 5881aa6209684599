"""The core sections (METRICS.md section 4: growth, demographics, sales, lost reasons, top
products, RFM, revenue), answered from the rollups only.

A section module like the others: it reads through the engine kernel (insights.engine: the
figure cache, the SQL helper, exact numbers, the gap-encoded distinct counts). Every function
is keyword-only, takes an `insights.periods.Period` (closed range of local dates in
settings.TIME_ZONE) and returns small frozen dataclasses. Money, percentages and averages are
Decimal quantised to 0.01 (ROUND_HALF_UP); counts are int.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from customers.models import Company
from deals.models import Product

from . import metric_keys as keys
from .current_run import latest_succeeded_run
from .engine import cache, db, distinct, numbers
from .models import (
    CustomerWonDay,
    DailySum,
    GapCell,
    RepeatCell,
)
from .periods import Period, buckets, resolve_granularity

T_GAP = GapCell._meta.db_table
T_SUM = DailySum._meta.db_table
T_REPEAT = RepeatCell._meta.db_table
T_WONDAY = CustomerWonDay._meta.db_table

RFM_GROUPS: tuple[str, ...] = (
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
class RfmGroupRow:
    # The rfm/ API writes these rows as they are: `segment` is the published field name.
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
    segment: str  # the RFM group; the name the customer 360 API publishes


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

SCOPES = ("all", "new")
ORDERS = ("frequency", "revenue")


def _total_before(day: int) -> int:
    """Customers first seen on or before `day`."""
    sql = f"""
        SELECT COALESCE(SUM(count), 0) FROM {T_SUM} WHERE metric = %(metric)s AND day <= %(day)s
    """
    return db.scalar(sql, {"day": day, "metric": keys.NEW_CUSTOMERS})


def _new_by_day(start: int, end: int) -> dict[int, int]:
    sql = f"""
        SELECT day, SUM(count) FROM {T_SUM}
        WHERE metric = %(metric)s AND day >= %(start)s AND day <= %(end)s GROUP BY day
    """
    params = {"start": start, "end": end, "metric": keys.NEW_CUSTOMERS}
    return {int(day): int(count) for day, count in db.rows(sql, params)}


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


# --- A. Customer growth ----------------------------------------------------------------------


def _growth_payload(period: Period, granularity: str) -> dict[str, Any]:
    totals = _Totals(period)
    parts = buckets(period, granularity)
    months = period.months()
    spans = [db.span(part) for part in (period, *parts, *months)]
    active = distinct.distinct_many(keys.ACTIVE, spans)
    inactive = [totals.total(end) - n for (_start, end), n in zip(spans, active, strict=True)]
    start, end = spans[0]
    trend = [
        [b.start.isoformat(), b.end.isoformat(), totals.total(b.end.toordinal()),
         totals.new(*db.span(b)), inactive[1 + n]]
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
    data = cache.cached(
        "growth",
        (period.start, period.end, granularity),
        lambda: _growth_payload(period, granularity),
        shape=Growth,
    )
    return Growth(
        total_customers=data["total"],
        new_customers=data["new"],
        # M(P) is fractional (METRICS.md 1): new / (a / b) = new × b / a, exactly.
        monthly_avg_new_customers=numbers.ratio(
            data["new"] * period.month_length.denominator, period.month_length.numerator
        ),
        inactive_customers=data["inactive"],
        monthly_avg_inactive_customers=numbers.ratio(data["inactive_month_sum"], data["months"]),
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
    first, last = db.rows(
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
    start, end = db.span(period)
    sql = _demographic_sql(scope, end)
    result: dict[str, Any] = {}
    for name, metric, _field in DEMOGRAPHIC_LISTS:
        params = {"metric": metric, "all_time": keys.all_time(metric), "start": start, "end": end}
        result[name] = [[dim, int(count)] for dim, count in db.rows(sql, params) if count]
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
    data = cache.cached(
        "demographics",
        (period.start, period.end, scope),
        lambda: _demographics_payload(period, scope),
        shape=Demographics,
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
    start, end = db.span(period)
    sql = f"""
        SELECT COALESCE(SUM(amount), 0) FROM {T_SUM}
        WHERE metric = %(metric)s AND day >= %(start)s AND day <= %(end)s
          AND first_seen_later <= %(end)s
    """
    parts = buckets(period, granularity)
    with_deals = distinct.distinct_many(
        keys.DEAL_CREATED, [(start, end), *(db.span(b) for b in parts)]
    )
    trend = [
        [b.start.isoformat(), b.end.isoformat(), with_deals[1 + n],
         totals.total(b.end.toordinal())]
        for n, b in enumerate(parts)
    ]  # fmt: skip
    return {
        "total": totals.total(end),
        "with_deals": with_deals[0],
        "with_won": distinct.distinct(keys.WON_CREATED, start, end),
        "deal_cents": db.scalar(
            sql, {"start": start, "end": end, "metric": keys.DEAL_VALUE_CREATED}
        ),
        "trend": trend,
    }


def sales_lifecycle(*, period: Period, granularity: str = "auto") -> SalesLifecycle:
    """METRICS.md C over P: deals created in P of customers first seen on or before its end."""
    granularity = resolve_granularity(period, granularity)  # as in growth_overview
    data = cache.cached(
        "sales",
        (period.start, period.end, granularity),
        lambda: _sales_payload(period, granularity),
        shape=SalesLifecycle,
    )
    return SalesLifecycle(
        total_customers=data["total"],
        customers_with_deals=data["with_deals"],
        deal_association_pct=numbers.ratio(data["with_deals"], data["total"], scale=100),
        customers_with_won_deals=data["with_won"],
        won_customers_pct=numbers.ratio(data["with_won"], data["with_deals"], scale=100),
        total_deal_size=numbers.money(data["deal_cents"]),
        avg_deal_size_per_customer=numbers.ratio(data["deal_cents"], data["with_deals"], unit=100),
        association_trend=[
            AssociationBucket(
                date.fromisoformat(s),
                date.fromisoformat(e),
                with_deals,
                total,
                numbers.ratio(with_deals, total, scale=100),
            )
            for s, e, with_deals, total in data["trend"]
        ],  # fmt: skip
    )


# --- E. Lost reasons -------------------------------------------------------------------------


def _lost_payload(period: Period) -> list[list]:
    start, end = db.span(period)
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
    customers = {dim: int(n) for dim, n in db.rows(customers_sql, params)}
    # Sorted so the stored payload does not depend on the database's hash order.
    return sorted([dim, int(n), customers.get(dim, 0)] for dim, n in db.rows(deals_sql, params))


def lost_reasons(*, period: Period) -> list[LostReasonRow]:
    """METRICS.md E: lost deals closed in P per reason, deals desc then reason (code points)."""
    data = cache.cached(
        "lost", (period.start, period.end), lambda: _lost_payload(period), shape=LostReasonRow
    )
    rows = sorted(data, key=lambda row: (-row[1], row[0]))
    return [LostReasonRow(reason=reason, deals=deals, customers=n) for reason, deals, n in rows]


# --- F. Top products -------------------------------------------------------------------------


def _products_payload(period: Period) -> list[list]:
    start, end = db.span(period)
    sql = f"""
        SELECT dim, SUM(count), SUM(quantity), SUM(amount) FROM {T_SUM}
        WHERE metric = %(metric)s AND day >= %(start)s AND day <= %(end)s GROUP BY dim
    """
    rows = db.rows(sql, {"start": start, "end": end, "metric": keys.PRODUCT_SALES})
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
    data = cache.cached(
        "products", (period.start, period.end), lambda: _products_payload(period), shape=ProductRow
    )
    if order == "frequency":
        data.sort(key=lambda row: (-row[2], -row[4], row[1], row[0]))
    else:
        data.sort(key=lambda row: (-row[4], -row[2], row[1], row[0]))
    return [
        ProductRow(
            product_id=pid, product=name, won_deals=n,
            quantity=numbers.money(qty), revenue=numbers.money(revenue, unit=10000),
        )
        for pid, name, n, qty, revenue in data[:limit]
    ]  # fmt: skip


# --- R. RFM ----------------------------------------------------------------------------------


def rfm_group(*, r: int, f: int) -> str:
    """The RFM group of an R/F score pair: METRICS.md R, first match wins."""
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
    raise ValueError(f"no RFM group for R={r} F={f}")


def rfm_params(period: Period) -> dict[str, Any]:
    """The parameters of the RFM SQL for P: its days, the as-of day and the length L."""
    start, end = db.span(period)
    as_of = db.as_of(period)
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
    for r, f, freq, m, n, mon, mon_max in db.rows(sql, rfm_params(period)):
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
    return cache.cached(
        "rfm",
        (period.start, period.end, date.fromordinal(db.as_of(period))),
        lambda: _rfm_grid_payload(period),
        # Read into thresholds and cells, not one dataclass: keyed by the builder's source.
        shape=_rfm_grid_payload,
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


def rfm_groups(*, period: Period) -> list[RfmGroupRow]:
    """METRICS.md R: customers and their revenue in P per RFM group, all ten in order."""
    customers = dict.fromkeys(RFM_GROUPS, 0)
    revenue = dict.fromkeys(RFM_GROUPS, 0)
    for r, f, n, mon in _rfm_cells(period):
        group = rfm_group(r=r, f=f)
        customers[group] += n
        revenue[group] += mon
    return [
        RfmGroupRow(segment=g, customers=customers[g], revenue=numbers.money(revenue[g]))
        for g in RFM_GROUPS
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
    params = rfm_params(period)
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
    rows = db.rows(sql, params)
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
            monetary=numbers.money(mon), r=int(r), f=f, m=m, segment=rfm_group(r=int(r), f=f),
        )  # fmt: skip
    return result


def rfm_customer_ids(
    *, period: Period, group: str | None = None, r: int | None = None, f: int | None = None
) -> list[int]:
    """Customers in an RFM group and/or an R/F grid cell for P, by id."""
    if group is not None and group not in RFM_GROUPS:
        raise ValueError(f"unknown RFM group {group!r}")
    cells = [
        (rr, ff)
        for rr in range(1, 6)
        for ff in range(1, 6)
        if (group is None or rfm_group(r=rr, f=ff) == group)
        and (r is None or rr == r)
        and (f is None or ff == f)
    ]
    if not cells:
        return []
    # Literal small ints from the loop above, not user text.
    condition = " OR ".join(f"(x.r = {rr} AND x.f = {ff})" for rr, ff in cells)
    sql = f"SELECT x.customer_id FROM ({_rfm_sql()}) x WHERE {condition} ORDER BY x.customer_id"
    return [int(row[0]) for row in db.rows(sql, rfm_params(period))]


# --- K. Revenue KPIs -------------------------------------------------------------------------


def _revenue_payload(period: Period) -> dict[str, int]:
    start, end = db.span(period)
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
    revenue, top, lifetime, ever_paid, one_time = (int(v or 0) for v in db.rows(sql, params)[0])
    won, lost, new = (int(v or 0) for v in db.rows(counts_sql, params)[0])
    return {
        "revenue": revenue,
        "paying": distinct.distinct(keys.WON_CLOSED, start, end),
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
    data = cache.cached(
        "revenue", (period.start, period.end), lambda: _revenue_payload(period), shape=RevenueKpis
    )
    return revenue_kpis_of(data, elapsed_days=period.elapsed_days())


def revenue_kpis_of(data: dict[str, int], *, elapsed_days: int | None = None) -> RevenueKpis:
    """The K figures from their integer parts (cents and counts): one formula for every caller.

    The per-day figures divide by the days of P's elapsed part (METRICS.md K), read at request
    time (the cached parts do not know today); none: the days of the cached P."""
    days = data["days"] if elapsed_days is None else elapsed_days
    return RevenueKpis(
        revenue=numbers.money(data["revenue"]),
        paying_customers=data["paying"],
        avg_revenue_per_customer=numbers.ratio(data["revenue"], data["paying"], unit=100),
        top_20pct_revenue_share=numbers.ratio(data["top"], data["revenue"], scale=100),
        avg_lifetime_value=numbers.ratio(data["lifetime"], data["ever_paid"], unit=100),
        one_time_customers=data["one_time"],
        repeat_customers=data["paying"] - data["one_time"],
        won_deals=data["won"],
        avg_order_value=numbers.ratio(data["revenue"], data["won"], unit=100),
        win_rate_pct=numbers.ratio(data["won"], data["won"] + data["lost"], scale=100),
        revenue_per_day=numbers.ratio(data["revenue"], days, unit=100),
        new_customers_per_day=numbers.ratio(data["new"], days),
        hours_per_new_customer=numbers.ratio(24 * days, data["new"]),
    )


def computed_at() -> datetime | None:
    """When the rollups being read were committed: finished_at of the last successful rebuild."""
    return latest_succeeded_run()[1]
