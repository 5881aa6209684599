"""RFM (METRICS.md R) and revenue KPIs (METRICS.md K) over one saved segment's customers.

Reading rule: the segment's customers are scored exactly as on the whole dashboard (RFM scores
rank a customer among every customer with a won deal in P, so a Champion stays a Champion
whichever list shows them) and then only they are counted; revenue figures sum only their won
deals. Both read the per-customer rollup CustomerWonDay, never the deal tables.

Speed (docs/BENCHMARKS.md, "Saved segments"): only the segment's members are read.
* The members (id, first-seen date) are materialised once per request into a temporary table
  (the filters compiled to one INSERT ... SELECT on the server).
* R needs only the member's own days. F ranks a member among all of P's repeat buyers, but
  F >= k exactly when the member's frequency exceeds one threshold (queries.
  rfm_frequency_thresholds), read from the whole-dashboard RFM payload, which the rebuild warms
  for every preset. So nobody outside the segment is ranked again.
* The members are merge-joined to the per-customer indexes customerwonday_customer and
  dealfact_lost_customer (index-only scans in customer order).
* Revenue computes P and P' (the API's comparison asks for both) in one pass.
Answers are cached like every figure, keyed by the segment and its last change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from django.db import connection, transaction

from customers.models import Customer

from . import queries
from .comparison import previous_period
from .customer_filters import segment_customers
from .engine import cache, db, numbers
from .models import DealFact, Segment
from .periods import Period
from .queries import RFM_GROUPS, RevenueKpis, RfmGroupRow

T_IDS = "insights_tmp_segment_ids"
T_WONDAY = queries.T_WONDAY
T_FACT = DealFact._meta.db_table


def _with_segment_ids(segment: Segment, compute, *, first_seen: bool = False) -> Any:
    """Run compute() with T_IDS holding the segment's customers (dropped afterwards).

    T_IDS (customer_id, first_seen_date). The first-seen date (revenue's "new in P") rides
    along with the filter's own read of the customers, so it needs no second pass over them.
    A filter on a facet reads its index alone either way: customer_city_idx and the others
    are (facet, first_seen_date, id).
    """
    members = segment_customers(segment=segment, queryset=Customer.objects.all())
    columns = ("pk", "first_seen_date") if first_seen else ("pk",)
    sql, params = members.order_by().values(*columns).query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A 100,000-member segment hash-joins against a year of rollup rows: with the
            # default 4 MB the aggregate spills to disk, and JIT compiling costs more than the
            # query it would speed up. Both only for this transaction.
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL jit = off")
            # The ids are merge-joined to the per-customer indexes customerwonday_customer and
            # dealfact_lost_customer (index-only, in customer order); the planner's default is
            # to hash-join a whole scan of the rollup, 2.3x slower at 1M (BENCHMARKS.md).
            cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute(f"DROP TABLE IF EXISTS {T_IDS}")
        # No primary key: every read joins the whole list, an index would only cost time.
        cursor.execute(f"CREATE TEMP TABLE {T_IDS} (customer_id BIGINT, first_seen_date DATE)")
        target = "customer_id, first_seen_date" if first_seen else "customer_id"
        cursor.execute(f"INSERT INTO {T_IDS} ({target}) {sql}", params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {T_IDS}")  # temp tables get no autovacuum statistics
        try:
            return compute()
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {T_IDS}")


def _key(segment: Segment) -> tuple:
    return (segment.pk, segment.updated_at.isoformat())


def _rfm_payload(period: Period) -> list[list[int]]:
    # Only the members' won days are read: F comes from the frequencies that split all of
    # P's repeat buyers (cached with the whole-dashboard RFM), R from the member's own days.
    thresholds = queries.rfm_frequency_thresholds(period=period)
    above = " + ".join(
        [f"CASE WHEN freq > {int(value)} THEN 1 ELSE 0 END" for value in thresholds] or ["0"]
    )
    sql = f"""
        SELECT {queries.RECENCY_SCORE_SQL} AS r,
               CASE WHEN freq < 2 THEN 1 ELSE 2 + {above} END AS f, COUNT(*), SUM(mon)
        FROM (
            SELECT w.customer_id, {queries.RECENCY_DAYS_SQL} AS rec,
                   SUM(w.won_deals) AS freq, SUM(w.revenue_cents) AS mon
            FROM {T_WONDAY} w JOIN {T_IDS} i ON i.customer_id = w.customer_id
            WHERE w.day >= %(start)s AND w.day <= %(end)s GROUP BY w.customer_id
        ) c
        GROUP BY 1, 2
    """
    return [
        [int(r), int(f), int(n), int(mon)]
        for r, f, n, mon in db.rows(sql, queries.rfm_params(period))
    ]


def segment_rfm(*, segment: Segment, period: Period) -> list[RfmGroupRow]:
    """METRICS.md R for P, counting only the segment's customers; all ten RFM groups in order."""
    cells = cache.cached(
        "segment_rfm",
        # The as-of date is in the key: for a period running past today, recency moves daily.
        (*_key(segment), period.start, period.end, date.fromordinal(db.as_of(period))),
        lambda: _with_segment_ids(segment, lambda: _rfm_payload(period)),
        shape=RfmGroupRow,
    )
    customers = dict.fromkeys(RFM_GROUPS, 0)
    revenue = dict.fromkeys(RFM_GROUPS, 0)
    for r, f, n, mon in cells:
        group = queries.rfm_group(r=r, f=f)
        customers[group] += n
        revenue[group] += mon
    return [
        RfmGroupRow(segment=g, customers=customers[g], revenue=numbers.money(revenue[g]))
        for g in RFM_GROUPS
    ]


def _revenue_payloads(periods: Sequence[Period]) -> list[dict[str, int]]:
    """The K parts of each period over the segment's customers, in one pass for all of them.

    One merge join of the won days up to the latest end with the segment's ids gives, per
    customer and period, its revenue in the period (NULL: none) and its revenue and won deals
    up to the period's end; the lost deals come from one read of the lost-deal index.
    """
    params: dict[str, Any] = {}
    sums, selects = [], []
    for n, period in enumerate(periods):
        start, end = db.span(period)
        params.update({f"s{n}": start, f"e{n}": end, f"sd{n}": period.start, f"ed{n}": period.end})
        in_p = f"w.day >= %(s{n})s AND w.day <= %(e{n})s"
        upto = f"w.day <= %(e{n})s"
        sums.append(f"""
               SUM(CASE WHEN {in_p} THEN w.revenue_cents END) AS rev_p{n},
               SUM(CASE WHEN {in_p} THEN w.won_deals ELSE 0 END) AS won_p{n},
               SUM(CASE WHEN {upto} THEN w.revenue_cents END) AS rev_all{n},
               SUM(CASE WHEN {upto} THEN w.won_deals ELSE 0 END) AS deals_all{n}""")
        selects.append(f"""
            SELECT {n},
               (SELECT COALESCE(SUM(rev_p{n}), 0) FROM c),
               (SELECT COUNT(rev_p{n}) FROM c),
               (SELECT COALESCE(SUM(rev_p{n}), 0) FROM (
                    SELECT rev_p{n}, ROW_NUMBER() OVER (ORDER BY rev_p{n} DESC) AS rn,
                           COUNT(*) OVER () AS n FROM c WHERE rev_p{n} IS NOT NULL
                ) ranked WHERE rn <= (2 * n + 9) / 10),
               (SELECT COALESCE(SUM(rev_all{n}), 0) FROM c),
               (SELECT COUNT(rev_all{n}) FROM c),
               (SELECT COUNT(*) FROM c WHERE rev_p{n} IS NOT NULL AND deals_all{n} = 1),
               (SELECT COALESCE(SUM(won_p{n}), 0) FROM c),
               (SELECT COALESCE(SUM(CASE WHEN close_day >= %(s{n})s AND close_day <= %(e{n})s
                                    THEN 1 ELSE 0 END), 0) FROM lost),
               (SELECT COUNT(*) FROM {T_IDS}
                WHERE first_seen_date >= %(sd{n})s AND first_seen_date <= %(ed{n})s)""")
    params["first"] = min(db.span(p)[0] for p in periods)
    params["last"] = max(db.span(p)[1] for p in periods)
    sql = f"""
        WITH c AS (
            SELECT w.customer_id, {",".join(sums)}
            FROM {T_WONDAY} w JOIN {T_IDS} i ON i.customer_id = w.customer_id
            WHERE w.day <= %(last)s GROUP BY w.customer_id
        ), lost AS (
            SELECT f.close_day FROM {T_FACT} f JOIN {T_IDS} i ON i.customer_id = f.customer_id
            WHERE f.status = 'lost' AND f.close_day >= %(first)s AND f.close_day <= %(last)s
        )
        {" UNION ALL ".join(selects)}
    """
    found = {}
    for n, *values in db.rows(sql, params):
        revenue, paying, top, lifetime, ever_paid, one_time, won, lost, new = (
            int(v or 0) for v in values
        )
        found[int(n)] = {
            "won": won,
            "lost": lost,
            "new": new,
            "days": periods[int(n)].days,
            "revenue": revenue,
            "paying": paying,
            "top": top,
            "lifetime": lifetime,
            "ever_paid": ever_paid,
            "one_time": one_time,
        }
    return [found[n] for n in range(len(periods))]


def _revenue_with_previous(segment: Segment, period: Period) -> dict[str, int]:
    """P's payload; P' (which the API's comparison asks for next) is computed in the same pass
    and stored, so a cold request materialises the segment and reads the rollups once."""
    periods = [period, previous_period(period)]

    def compute() -> dict[str, int]:
        current, *earlier = _revenue_payloads(periods)
        for before, payload in zip(periods[1:], earlier, strict=True):
            cache.cached(
                "revenue_segment",
                (*_key(segment), before.start, before.end),
                _given(payload),
                shape=RevenueKpis,
            )
        return current

    return _with_segment_ids(segment, compute, first_seen=True)


def _given(payload: dict[str, int]) -> Callable[[], dict[str, int]]:
    # The loop's own payload, not the loop variable's last value.
    return lambda: payload


def segment_revenue_kpis(*, segment: Segment, period: Period) -> RevenueKpis:
    """METRICS.md K for P over the segment's customers only (their won deals)."""
    data = cache.cached(
        "revenue_segment",
        (*_key(segment), period.start, period.end),
        lambda: _revenue_with_previous(segment, period),
        shape=RevenueKpis,
    )
    return queries.revenue_kpis_of(data, elapsed_days=period.elapsed_days())
