"""The figures of each insights endpoint computed at request time from the raw tables (PostgreSQL).

This is the baseline the API is measured against: what a BI tool pointed at the database would
run for the same chart. Plain joins deal → contact → customer and chat room → chat contact →
customer, COUNT(DISTINCT ...), dates cut in the local time zone, no rollups and no CustomerStats.
Only the customer snapshot itself (`customers_customer`: first seen, source, company, and the
`customer_id` written on each record) is used, because resolving identities cannot be done in a
query at request time at all.

Each function returns a small dict of the headline figures, and `api_figures` takes the same dict
out of an API response, so the benchmark can also say whether the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from insights.periods import Period, buckets

WON = (
    "(s.outcome <> 'lost' AND (s.outcome = 'won' "
    "OR COALESCE(d.win_probability, s.default_win_probability) = 100))"
)
CLOSE_DATE = "((COALESCE(d.closed_at, d.created_at) AT TIME ZONE %(tz)s)::date)"


def _params(period: Period, bucket_list: list[Period] | None = None) -> dict[str, Any]:
    zone = ZoneInfo(settings.TIME_ZONE)
    params: dict[str, Any] = {
        "tz": settings.TIME_ZONE,
        "start": period.start,
        "end": period.end,
        # UTC bounds of the local dates, so created_at filters can use their index.
        "lo": datetime.combine(period.start, time.min, tzinfo=zone),
        "hi": datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=zone),
    }
    if bucket_list is not None:
        params["bs"] = [b.start for b in bucket_list]
        params["be"] = [b.end for b in bucket_list]
    return params


def _rows(sql: str, params: dict[str, Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _money(value: Decimal | None) -> str:
    return f"{(value or Decimal(0)):.2f}"


def growth(period: Period) -> dict[str, Any]:
    """Total, new and inactive customers for P, its months and its trend buckets, in one query."""
    tagged = [("period", period)]
    tagged += [("month", m) for m in period.months()]
    tagged += [("trend", b) for b in buckets(period, "auto")]
    params = _params(period, [b for _, b in tagged])
    params["tags"] = [t for t, _ in tagged]
    sql = """
        WITH b AS (
            SELECT * FROM unnest(%(tags)s::text[], %(bs)s::date[], %(be)s::date[])
                AS b(tag, bstart, bend)
        ), activity AS (
            SELECT DISTINCT c.customer_id, (d.created_at AT TIME ZONE %(tz)s)::date AS day
            FROM deals_deal d JOIN customers_contact c ON c.id = d.contact_id
            WHERE d.created_at >= %(lo)s AND d.created_at < %(hi)s AND c.customer_id IS NOT NULL
            UNION
            SELECT cc.customer_id, (r.created_at AT TIME ZONE %(tz)s)::date
            FROM chats_chatroom r JOIN chats_chatcontact cc ON cc.id = r.chat_contact_id
            WHERE r.created_at >= %(lo)s AND r.created_at < %(hi)s AND cc.customer_id IS NOT NULL
        ), active AS (
            SELECT b.tag, b.bstart, count(DISTINCT a.customer_id) AS n
            FROM b JOIN activity a ON a.day BETWEEN b.bstart AND b.bend
            JOIN customers_customer cu ON cu.id = a.customer_id AND cu.first_seen_date <= b.bend
            GROUP BY b.tag, b.bstart
        )
        SELECT b.tag, b.bstart,
            (SELECT count(*) FROM customers_customer WHERE first_seen_date <= b.bend),
            (SELECT count(*) FROM customers_customer
              WHERE first_seen_date BETWEEN b.bstart AND b.bend),
            COALESCE(active.n, 0)
        FROM b LEFT JOIN active ON active.tag = b.tag AND active.bstart = b.bstart
        ORDER BY b.tag, b.bstart
    """
    rows = _rows(sql, params)
    head = next(r for r in rows if r[0] == "period")
    return {
        "total_customers": head[2],
        "new_customers": head[3],
        "inactive_customers": head[2] - head[4],
        "trend_total": [r[2] for r in rows if r[0] == "trend"],
    }


def demographics(period: Period) -> dict[str, Any]:
    params = _params(period)
    by_source = _rows(
        "SELECT source, count(*) FROM customers_customer WHERE first_seen_date <= %(end)s "
        "GROUP BY source",
        params,
    )
    by_company = _rows(
        "SELECT COALESCE(co.name, 'Other'), count(*) FROM customers_customer cu "
        "LEFT JOIN customers_company co ON co.id = cu.company_id "
        "WHERE cu.first_seen_date <= %(end)s GROUP BY cu.company_id, co.name",
        params,
    )
    return {
        "by_source": dict(sorted(by_source)),
        "company_customers": sum(n for _, n in by_company),
    }


def sales(period: Period) -> dict[str, Any]:
    trend = buckets(period, "auto")
    params = _params(period, trend)
    deals_cte = f"""
        WITH dp AS (
            SELECT c.customer_id, cu.first_seen_date AS first_seen,
                (d.created_at AT TIME ZONE %(tz)s)::date AS day, d.amount, {WON} AS won
            FROM deals_deal d
            JOIN deals_pipelinestage s ON s.id = d.stage_id
            JOIN customers_contact c ON c.id = d.contact_id
            JOIN customers_customer cu ON cu.id = c.customer_id
            WHERE d.created_at >= %(lo)s AND d.created_at < %(hi)s
        )
    """
    head = _rows(
        deals_cte
        + """
        SELECT count(DISTINCT customer_id), count(DISTINCT customer_id) FILTER (WHERE won),
            sum(amount)
        FROM dp WHERE first_seen <= %(end)s
        """,
        params,
    )[0]
    per_bucket = _rows(
        deals_cte
        + """
        SELECT b.bstart, count(DISTINCT dp.customer_id),
            (SELECT count(*) FROM customers_customer WHERE first_seen_date <= b.bend)
        FROM unnest(%(bs)s::date[], %(be)s::date[]) AS b(bstart, bend)
        LEFT JOIN dp ON dp.day BETWEEN b.bstart AND b.bend AND dp.first_seen <= b.bend
        GROUP BY b.bstart, b.bend ORDER BY b.bstart
        """,
        params,
    )
    return {
        "customers_with_deals": head[0],
        "customers_with_won_deals": head[1],
        "total_deal_size": _money(head[2]),
        "trend_with_deals": [r[1] for r in per_bucket],
    }


def lost_reasons(period: Period) -> dict[str, Any]:
    rows = _rows(
        f"""
        SELECT COALESCE(NULLIF(lr.name, ''), 'Unspecified') AS reason, count(*),
            count(DISTINCT c.customer_id)
        FROM deals_deal d
        JOIN deals_pipelinestage s ON s.id = d.stage_id AND s.outcome = 'lost'
        LEFT JOIN deals_lostreason lr ON lr.id = d.lost_reason_id
        LEFT JOIN customers_contact c ON c.id = d.contact_id
        WHERE {CLOSE_DATE} BETWEEN %(start)s AND %(end)s
        GROUP BY 1 ORDER BY 2 DESC, 1
        """,
        _params(period),
    )
    return {"reasons": {r[0]: [r[1], r[2]] for r in rows}}


def top_products(period: Period) -> dict[str, Any]:
    rows = _rows(
        f"""
        SELECT p.name, count(DISTINCT d.id), sum(i.quantity), sum(i.quantity * i.unit_price)
        FROM deals_deal d
        JOIN deals_pipelinestage s ON s.id = d.stage_id
        JOIN deals_dealitem i ON i.deal_id = d.id
        JOIN deals_product p ON p.id = i.product_id
        WHERE {WON} AND {CLOSE_DATE} BETWEEN %(start)s AND %(end)s
        GROUP BY p.id, p.name ORDER BY 2 DESC, 4 DESC, 1 LIMIT 10
        """,
        _params(period),
    )
    return {"products": [[r[0], r[1], _money(r[3])] for r in rows]}


SEGMENT_SQL = """
    CASE
        WHEN rs = 5 AND fs >= 4 THEN 'Champions'
        WHEN rs IN (3, 4) AND fs >= 4 THEN 'Loyal Customers'
        WHEN rs >= 4 AND fs IN (2, 3) THEN 'Potential Loyalists'
        WHEN rs = 5 AND fs = 1 THEN 'New Customers'
        WHEN rs = 4 AND fs = 1 THEN 'Promising'
        WHEN rs = 3 AND fs = 3 THEN 'Need Attention'
        WHEN rs = 3 AND fs <= 2 THEN 'About To Sleep'
        WHEN rs <= 2 AND fs = 5 THEN 'Can''t Lose Them'
        WHEN rs <= 2 AND fs IN (3, 4) THEN 'At Risk'
        ELSE 'Hibernating'
    END
"""


def _today() -> date:
    return local_day(datetime.now(tz=ZoneInfo(settings.TIME_ZONE)))


def _rfm_params(period: Period) -> dict[str, Any]:
    # METRICS.md R: recency from the as-of date A = min(end, today), scored by fifths of
    # L = max(1, A - start + 1).
    as_of = min(period.end, _today())
    return {**_params(period), "as_of": as_of, "span": max(1, (as_of - period.start).days + 1)}


def rfm(period: Period) -> dict[str, Any]:
    rows = _rows(
        f"""
        WITH w AS (
            SELECT c.customer_id, greatest(0, %(as_of)s::date - max({CLOSE_DATE})) AS rec,
                count(*) AS f, sum(d.amount) AS m
            FROM deals_deal d
            JOIN deals_pipelinestage s ON s.id = d.stage_id
            JOIN customers_contact c ON c.id = d.contact_id
            WHERE {WON} AND c.customer_id IS NOT NULL
              AND {CLOSE_DATE} BETWEEN %(start)s AND %(end)s
            GROUP BY c.customer_id
        ), n AS (
            SELECT count(*) AS n, count(*) FILTER (WHERE f >= 2) AS n2 FROM w
        ), ranked AS (
            SELECT w.*, rank() OVER (ORDER BY rec DESC) AS rr,
                rank() OVER (PARTITION BY f >= 2 ORDER BY f) AS fr
            FROM w
        ), scored AS (
            SELECT m, 5 - least(4, floor(5.0 * rec / %(span)s)) AS rs,
                CASE WHEN f >= 2 THEN 2 + floor(4.0 * (fr - 1) / n.n2) ELSE 1 END AS fs
            FROM ranked, n
        )
        SELECT {SEGMENT_SQL} AS segment, count(*), sum(m) FROM scored GROUP BY 1
        """,
        _rfm_params(period),
    )
    return {"segments": {r[0]: r[1] for r in rows}}


def revenue(period: Period) -> dict[str, Any]:
    row = _rows(
        f"""
        WITH won AS (
            SELECT c.customer_id, {CLOSE_DATE} AS day, d.amount
            FROM deals_deal d
            JOIN deals_pipelinestage s ON s.id = d.stage_id
            JOIN customers_contact c ON c.id = d.contact_id
            WHERE {WON} AND c.customer_id IS NOT NULL AND {CLOSE_DATE} <= %(end)s
        ), inp AS (
            SELECT customer_id, sum(amount) AS rev FROM won WHERE day >= %(start)s
            GROUP BY customer_id
        ), ranked AS (
            SELECT rev, row_number() OVER (ORDER BY rev DESC) AS rn, count(*) OVER () AS n
            FROM inp
        ), life AS (
            SELECT customer_id, count(*) AS cnt FROM won GROUP BY customer_id
        )
        SELECT (SELECT sum(rev) FROM inp), (SELECT count(*) FROM inp),
            (SELECT sum(rev) FROM ranked WHERE rn <= ceil(0.2 * n)),
            (SELECT sum(amount) FROM won), (SELECT count(*) FROM life),
            (SELECT count(*) FROM inp JOIN life USING (customer_id) WHERE cnt = 1),
            (SELECT count(*) FROM inp JOIN life USING (customer_id) WHERE cnt >= 2)
        """,
        _params(period),
    )[0]
    return {
        "revenue": _money(row[0]),
        "paying_customers": row[1],
        "one_time_customers": row[5],
        "repeat_customers": row[6],
    }


def customer_value(period: Period) -> dict[str, Any]:
    """METRICS.md V from the raw deals: buying days per customer up to A, then both fits.

    The SQL part is what a BI tool would run; the fit is insights.clv (no database), so the
    comparison with the API measures the rollup read and the cache, not two optimisers.
    """
    import numpy as np

    from insights import clv
    from insights.periods import local_today

    as_of = min(period.end, local_today())
    sql = f"""
        WITH days AS (
            SELECT c.customer_id, {CLOSE_DATE} AS day, sum(d.amount) AS revenue
            FROM deals_deal d
            JOIN deals_pipelinestage s ON s.id = d.stage_id
            JOIN customers_contact c ON c.id = d.contact_id
            WHERE {WON} AND c.customer_id IS NOT NULL
              AND {CLOSE_DATE} <= %(as_of)s
            GROUP BY 1, 2
        ), per AS (
            SELECT customer_id, count(*) - 1 AS x, min(day) AS first, max(day) AS last,
                   sum(revenue) - sum(revenue) FILTER (WHERE day = first_day) AS repeat
            FROM (SELECT *, min(day) OVER (PARTITION BY customer_id) AS first_day FROM days) t
            GROUP BY customer_id
        )
        SELECT x, last - first, %(as_of)s - first, count(*), sum(repeat) FROM per
        GROUP BY 1, 2, 3
    """
    rows = _rows(sql, {**_params(period), "as_of": as_of})
    data = np.array([[float(v) for v in row] for row in rows]).reshape(-1, 5)
    x, t_x, T, n, repeat = (data[:, i] for i in range(5))
    out: dict[str, Any] = {"customers": int(n.sum())}
    try:
        fit = clv.bgnbd_fit(x, t_x, T, weights=n)
    except clv.ModelError:
        return {**out, "fitted": False}
    # 4 significant digits: two optimisers started elsewhere agree to about 1e-5.
    return {**out, "fitted": True, "r": float(f"{fit.r:.4g}"), "alpha": float(f"{fit.alpha:.4g}")}


BUYING_DAYS = f"""
    SELECT DISTINCT c.customer_id, {CLOSE_DATE} AS day
    FROM deals_deal d
    JOIN deals_pipelinestage s ON s.id = d.stage_id
    JOIN customers_contact c ON c.id = d.contact_id
    WHERE {WON} AND c.customer_id IS NOT NULL
"""
LOST_AFTER = 90  # the endpoint's default lost_after


def lifecycle(period: Period) -> dict[str, Any]:
    """METRICS.md G headline figures, W = 90, from the raw deals with window functions."""
    params = {**_params(period), "w": LOST_AFTER, "today": _today()}
    row = _rows(
        f"""
        WITH seq AS (
            SELECT customer_id, day,
                lead(day) OVER (PARTITION BY customer_id ORDER BY day) AS nxt,
                min(day) OVER (PARTITION BY customer_id) AS first
            FROM ({BUYING_DAYS}) b
        ), lost AS (
            SELECT DISTINCT customer_id FROM seq
            WHERE (nxt IS NULL OR nxt - day > %(w)s)
              AND day + %(w)s BETWEEN %(start)s AND least(%(end)s::date, %(today)s::date)
        ), active AS (
            SELECT DISTINCT customer_id FROM seq
            WHERE day BETWEEN %(start)s::date - %(w)s AND %(start)s::date - 1
        )
        SELECT
            (SELECT count(DISTINCT customer_id) FROM seq WHERE first BETWEEN %(start)s AND %(end)s),
            (SELECT count(DISTINCT customer_id) FROM seq
             WHERE day BETWEEN %(start)s AND %(end)s AND first < %(start)s),
            (SELECT count(*) FROM lost),
            (SELECT count(*) FROM active),
            (SELECT count(*) FROM active JOIN lost USING (customer_id))
        """,
        params,
    )[0]
    keys = ("new_buyers", "returning_buyers", "lost_buyers", "active_buyers_start")
    return {**dict(zip(keys, row[:4], strict=True)), "churned_buyers": row[4]}


def retention(period: Period) -> dict[str, Any]:
    """METRICS.md H with event=purchase: {cohort: [size, retained k = 0..]} per month of P."""
    rows = _rows(
        f"""
        WITH b AS ({BUYING_DAYS}),
        f AS (SELECT customer_id, date_trunc('month', min(day))::date AS cohort FROM b
              GROUP BY customer_id)
        SELECT f.cohort, -1, count(*) FROM f
        WHERE f.cohort BETWEEN date_trunc('month', %(start)s::date) AND %(end)s GROUP BY 1
        UNION ALL
        SELECT f.cohort,
            (extract(year FROM date_trunc('month', b.day)) * 12
             + extract(month FROM date_trunc('month', b.day))
             - extract(year FROM f.cohort) * 12 - extract(month FROM f.cohort))::int,
            count(DISTINCT b.customer_id)
        FROM f JOIN b USING (customer_id)
        WHERE f.cohort BETWEEN date_trunc('month', %(start)s::date) AND %(end)s
        GROUP BY 1, 2
        """,
        _params(period),
    )
    cells = {(c.year * 12 + c.month - 1, int(k)): n for c, k, n in rows}
    today = _today()
    now = today.year * 12 + today.month - 1
    result = {}
    first = period.start.year * 12 + period.start.month - 1
    last = period.end.year * 12 + period.end.month - 1
    for month in range(first, last + 1):
        offsets = range(0, min(12, now - month) + 1)
        label = f"{month // 12:04d}-{month % 12 + 1:02d}"
        result[label] = [cells.get((month, -1), 0), *(cells.get((month, k), 0) for k in offsets)]
    return {"cohorts": result}


def _ratio(num: int, den: int, scale: int = 1) -> str:
    if not den:
        return "0.00"
    value = (Decimal(num) * scale / Decimal(den)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value:.2f}"


def service(period: Period) -> dict[str, Any]:
    """METRICS.md S straight from chats_chatroom / chats_chatcontact / chats_surveyresponse."""
    rank = """(SELECT max(CASE WHEN rn = (n + 1) / 2 THEN v END),
                      max(CASE WHEN rn = (9 * n + 9) / 10 THEN v END)
               FROM (SELECT v, row_number() OVER (ORDER BY v) AS rn, count(*) OVER () AS n
                     FROM room_times WHERE v IS NOT NULL) x)"""
    row = _rows(
        """
        WITH r AS (
            SELECT r.id, r.created_at, r.resolved_at, r.csat_score,
                   COALESCE(cc.customer_id, -cc.id) AS who,
                   floor(extract(epoch FROM r.first_response_at - r.created_at))::bigint AS f,
                   floor(extract(epoch FROM r.resolved_at - r.created_at))::bigint AS res
            FROM chats_chatroom r JOIN chats_chatcontact cc ON cc.id = r.chat_contact_id
            WHERE r.created_at >= %(lo)s AND r.created_at < %(hi)s
        ), fcr AS (
            SELECT count(*) AS n FROM r
            WHERE r.resolved_at IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM chats_chatroom o JOIN chats_chatcontact oc
                  ON oc.id = o.chat_contact_id
                WHERE COALESCE(oc.customer_id, -oc.id) = r.who AND o.id <> r.id
                  AND o.created_at > r.resolved_at
                  AND o.created_at <= r.resolved_at + interval '7 days')
        )
        SELECT (SELECT count(*) FROM r), (SELECT count(resolved_at) FROM r),
               (SELECT count(csat_score) FROM r), (SELECT COALESCE(sum(csat_score), 0) FROM r),
               (SELECT n FROM fcr),
               (SELECT count(*) FILTER (WHERE kind = 'nps') FROM chats_surveyresponse
                 WHERE created_at >= %(lo)s AND created_at < %(hi)s),
               (SELECT count(*) FILTER (WHERE kind = 'nps' AND score >= 9)
                     - count(*) FILTER (WHERE kind = 'nps' AND score <= 6)
                FROM chats_surveyresponse WHERE created_at >= %(lo)s AND created_at < %(hi)s)
        """,
        _params(period),
    )[0]
    rooms, resolved, rated, csat_sum, fcr, nps_n, nps_net = (int(v or 0) for v in row)
    percentiles = {}
    for name, column in (("first_response", "first_response_at"), ("resolution", "resolved_at")):
        sql = f"""
            WITH room_times AS (
                SELECT floor(extract(epoch FROM {column} - created_at))::bigint AS v
                FROM chats_chatroom
                WHERE created_at >= %(lo)s AND created_at < %(hi)s
            )
            SELECT * FROM {rank} AS p
        """
        median, p90 = _rows(sql, _params(period))[0]
        percentiles[f"median_{name}_s"] = int(median or 0)
        percentiles[f"p90_{name}_s"] = int(p90 or 0)
    return {
        "rooms": rooms,
        "resolved_rooms": resolved,
        "rated_rooms": rated,
        **percentiles,
        "csat_avg": _ratio(csat_sum, rated),
        "fcr_pct": _ratio(fcr, resolved, 100),
        "nps_responses": nps_n,
        "nps": _ratio(nps_net, nps_n, 100),
    }


SERVICE_FIELDS = (
    "rooms", "resolved_rooms", "rated_rooms", "median_first_response_s", "p90_first_response_s",
    "median_resolution_s", "p90_resolution_s", "csat_avg", "fcr_pct", "nps_responses", "nps",
)  # fmt: skip


DIRECT: dict[str, Callable[[Period], dict[str, Any]]] = {
    "growth": growth,
    "demographics": demographics,
    "sales": sales,
    "lost-reasons": lost_reasons,
    "top-products": top_products,
    "rfm": rfm,
    "revenue": revenue,
    "customer-value": customer_value,
    "lifecycle": lifecycle,
    "retention": retention,
    "service": service,
}


def api_figures(endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    """The same headline figures taken out of an API response body (CONTRACT.md section 4)."""
    if endpoint == "growth":
        return {
            "total_customers": body["total_customers"],
            "new_customers": body["new_customers"],
            "inactive_customers": body["inactive_customers"],
            "trend_total": [b["total"] for b in body["trend"]],
        }
    if endpoint == "demographics":
        return {
            "by_source": dict(
                sorted(
                    (r["label"] if r["label"] != "Other" else "Other", r["customers"])
                    for r in body["by_source"]
                )
            ),
            "company_customers": sum(r["customers"] for r in body["by_company"]),
        }
    if endpoint == "sales":
        return {
            "customers_with_deals": body["customers_with_deals"],
            "customers_with_won_deals": body["customers_with_won_deals"],
            "total_deal_size": body["total_deal_size"],
            "trend_with_deals": [b["customers_with_deals"] for b in body["association_trend"]],
        }
    if endpoint == "lost-reasons":
        return {"reasons": {r["reason"]: [r["deals"], r["customers"]] for r in body["reasons"]}}
    if endpoint == "top-products":
        return {
            "products": [[r["product"], r["won_deals"], r["revenue"]] for r in body["products"]]
        }
    if endpoint == "rfm":
        return {
            "segments": {r["segment"]: r["customers"] for r in body["segments"] if r["customers"]}
        }
    if endpoint == "revenue":
        return {
            key: body[key]
            for key in ("revenue", "paying_customers", "one_time_customers", "repeat_customers")
        }
    if endpoint == "customer-value":
        out = {"customers": body["customers"], "fitted": body["fitted"]}
        if body["fitted"]:
            parameters = body["parameters"]
            out.update(r=float(f"{parameters['r']:.4g}"), alpha=float(f"{parameters['alpha']:.4g}"))
        return out
    if endpoint == "lifecycle":
        return {
            key: body[key]
            for key in (
                "new_buyers", "returning_buyers", "lost_buyers", "active_buyers_start",
                "churned_buyers",
            )
        }  # fmt: skip
    if endpoint == "retention":
        return {"cohorts": {c["cohort"]: [c["size"], *c["retained"]] for c in body["cohorts"]}}
    if endpoint == "service":
        return {key: body[key] for key in SERVICE_FIELDS}
    raise KeyError(endpoint)


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
