"""RFM (METRICS.md R) and revenue KPIs (METRICS.md K) over one saved segment's customers.

Reading rule: the segment's customers are scored exactly as on the whole dashboard (RFM scores
rank a customer among every customer with a won deal in P, so a Champion stays a Champion
whichever list shows them) and then only they are counted; revenue figures sum only their won
deals. Both read the per-customer rollup CustomerWonDay, never the deal tables.

Speed: the segment's customer ids are materialised once per request into a temporary table
(the filters compiled to one INSERT ... SELECT on the server) and joined to CustomerWonDay;
answers are cached like every figure, keyed by the segment and its last change.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import connection, transaction

from customers.models import Customer

from . import queries
from .customer_filters import segment_customers
from .models import DealFact, Segment
from .periods import Period
from .queries import SEGMENTS, RevenueKpis, SegmentRow

T_IDS = "insights_tmp_segment_ids"
T_WONDAY = queries.T_WONDAY
T_FACT = DealFact._meta.db_table
T_CUSTOMER = Customer._meta.db_table


def _with_segment_ids(segment: Segment, compute) -> Any:
    """Run compute() with T_IDS holding the segment's customer ids (dropped afterwards)."""
    members = segment_customers(segment=segment, queryset=Customer.objects.all())
    sql, params = members.order_by().values("pk").query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {T_IDS}")
        cursor.execute(f"CREATE TEMP TABLE {T_IDS} (customer_id BIGINT PRIMARY KEY)")
        cursor.execute(f"INSERT INTO {T_IDS} (customer_id) {sql}", params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {T_IDS}")  # temp tables get no autovacuum statistics
        try:
            return compute()
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {T_IDS}")


def _key(segment: Segment) -> tuple:
    return (segment.pk, segment.updated_at.isoformat())


def _rfm_payload(period: Period) -> list[list[int]]:
    sql = f"""
        SELECT x.r, x.f, COUNT(*), SUM(x.mon) FROM ({queries._rfm_sql()}) x
        JOIN {T_IDS} i ON i.customer_id = x.customer_id GROUP BY x.r, x.f
    """
    return [
        [int(r), int(f), int(n), int(mon)]
        for r, f, n, mon in queries._rows(sql, queries._rfm_params(period))
    ]


def segment_rfm(*, segment: Segment, period: Period) -> list[SegmentRow]:
    """METRICS.md R for P, counting only the segment's customers; all ten segments in order."""
    cells = queries._cached(
        "rfm_segment",
        # The as-of date is in the key: for a period running past today, recency moves daily.
        (*_key(segment), period.start, period.end, date.fromordinal(queries._as_of(period))),
        lambda: _with_segment_ids(segment, lambda: _rfm_payload(period)),
    )
    customers = dict.fromkeys(SEGMENTS, 0)
    revenue = dict.fromkeys(SEGMENTS, 0)
    for r, f, n, mon in cells:
        name = queries.rfm_segment(r=r, f=f)
        customers[name] += n
        revenue[name] += mon
    return [
        SegmentRow(segment=s, customers=customers[s], revenue=queries._money(revenue[s]))
        for s in SEGMENTS
    ]


def _revenue_payload(period: Period) -> dict[str, int]:
    start, end = queries._span(period)
    # One pass over the won days up to the end of P joined to the segment's ids (a hash join
    # on the analysed temp table): per customer its revenue in P (NULL: none), its revenue
    # and won deals up to the end.
    sql = f"""
        WITH c AS (
            SELECT w.customer_id,
                   SUM(CASE WHEN w.day >= %(start)s THEN w.revenue_cents END) AS rev_p,
                   SUM(CASE WHEN w.day >= %(start)s THEN w.won_deals ELSE 0 END) AS won_p,
                   SUM(w.revenue_cents) AS rev_all,
                   SUM(w.won_deals) AS deals_all
            FROM {T_WONDAY} w JOIN {T_IDS} i ON i.customer_id = w.customer_id
            WHERE w.day <= %(end)s GROUP BY w.customer_id
        ), ranked AS (
            SELECT rev_p, ROW_NUMBER() OVER (ORDER BY rev_p DESC) AS rn,
                   COUNT(*) OVER () AS n
            FROM c WHERE rev_p IS NOT NULL
        )
        SELECT (SELECT COALESCE(SUM(rev_p), 0) FROM c),
               (SELECT COUNT(rev_p) FROM c),
               (SELECT COALESCE(SUM(rev_p), 0) FROM ranked WHERE rn <= (2 * n + 9) / 10),
               (SELECT COALESCE(SUM(rev_all), 0) FROM c),
               (SELECT COUNT(*) FROM c),
               (SELECT COUNT(*) FROM c WHERE rev_p IS NOT NULL AND deals_all = 1),
               (SELECT COALESCE(SUM(won_p), 0) FROM c),
               (SELECT COUNT(*) FROM {T_FACT} f JOIN {T_IDS} i ON i.customer_id = f.customer_id
                WHERE f.status = 'lost' AND f.close_day >= %(start)s AND f.close_day <= %(end)s),
               (SELECT COUNT(*) FROM {T_CUSTOMER} cu JOIN {T_IDS} i ON i.customer_id = cu.id
                WHERE cu.first_seen_date >= %(start_date)s AND cu.first_seen_date <= %(end_date)s)
    """
    params = {"start": start, "end": end, "start_date": period.start, "end_date": period.end}
    row = queries._rows(sql, params)[0]
    revenue, paying, top, lifetime, ever_paid, one_time, won, lost, new = (int(v or 0) for v in row)
    return {
        "won": won,
        "lost": lost,
        "new": new,
        "days": period.days,
        "revenue": revenue,
        "paying": paying,
        "top": top,
        "lifetime": lifetime,
        "ever_paid": ever_paid,
        "one_time": one_time,
    }


def segment_revenue_kpis(*, segment: Segment, period: Period) -> RevenueKpis:
    """METRICS.md K for P over the segment's customers only (their won deals)."""
    data = queries._cached(
        "revenue_segment",
        (*_key(segment), period.start, period.end),
        lambda: _with_segment_ids(segment, lambda: _revenue_payload(period)),
    )
    return queries.revenue_kpis_of(data)
