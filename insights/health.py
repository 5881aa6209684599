"""Customer health (METRICS.md Q): components, score, band, figures and the backtest.

For every customer with a buying day on or before A (METRICS.md V's calibrated customers):
- purchase = 100 × P(alive) under the default model fitted as of A (0 when not fitted);
- recency from the days since the last buying day on or before A;
- service = 100 × rated rooms scoring 4-5 / rated rooms, over rooms created in [A − 179, A];
- voice from the latest NPS answer in (A − 365, A].
health = the weighted mean of the components present (INSIGHTS_HEALTH_WEIGHTS; a component
with weight 0 is left out), rounded half away from zero; bands healthy, attention and
at_risk from the score bounds of section_params (HEALTHY_FROM, ATTENTION_FROM).

Everything is read from the per-customer tables the rebuild keeps: CustomerWonDay (buying
days and revenue), ServiceRoomFact (each room's customer, day and CSAT) and CustomerNpsDay
(each customer's latest NPS answer per day, written here by the rebuild), never the raw
records. The rebuild stores today's scores in CustomerHealth (lists, filters, 360°); other
as-of dates are computed on request and cached like every figure.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
from django.conf import settings

from chats.models import ChatContact, SurveyResponse
from customers.models import Contact

from . import clv, customer_value
from .engine import cache, db
from .models import CustomerHealth, CustomerNpsDay, CustomerWonDay, ServiceRoomFact
from .periods import Period, local_today
from .rollup import rows_write, statistics_refresh
from .section_params import ATTENTION_FROM, HEALTH_BAND, HEALTHY_FROM

COMPONENTS = ("purchase", "recency", "service", "voice")
BANDS = HEALTH_BAND.choices  # bounds: insights.section_params
SERVICE_DAYS = 180  # rooms created in [A − 179, A]
VOICE_DAYS = 365  # NPS answers created in (A − 365, A]
BACKTEST_DAYS = 90
# health is a weighted mean of decimals computed in floats: 62.5 may arrive as 62.49999999999999.
# Half away from zero is taken with this much slack (far below any real difference in a score).
ROUNDING_SLACK = 1e-9
CENT = Decimal("0.01")

T_WONDAY = CustomerWonDay._meta.db_table
T_ROOMS = ServiceRoomFact._meta.db_table
T_NPS = CustomerNpsDay._meta.db_table
T_HEALTH = CustomerHealth._meta.db_table
T_SURVEY = SurveyResponse._meta.db_table
T_CONTACT = Contact._meta.db_table
T_CHATCONTACT = ChatContact._meta.db_table


# --- Rules (pure) -----------------------------------------------------------------------------


def recency_score(days: np.ndarray) -> np.ndarray:
    """100 when d ≤ 30, 75 when ≤ 90, 50 when ≤ 180, 25 when ≤ 365, else 0."""
    return np.select(
        [days <= 30, days <= 90, days <= 180, days <= 365], [100.0, 75.0, 50.0, 25.0], 0.0
    )


def voice_score(nps: np.ndarray) -> np.ndarray:
    """100 for an NPS answer of 9-10, 50 for 7-8, 0 for 0-6 (NaN, no answer, stays NaN)."""
    return np.where(np.isnan(nps), np.nan, np.select([nps >= 9, nps >= 7], [100.0, 50.0], 0.0))


def health_score(components: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """The weighted mean of the components present (NaN: absent), rounded half away from zero;
    NaN when no component with a weight above 0 is present."""
    total = np.zeros_like(components["purchase"])
    weight = np.zeros_like(total)
    for name in COMPONENTS:
        if weights.get(name, 0.0) > 0:
            values = components[name]
            present = ~np.isnan(values)
            total += np.where(present, weights[name] * np.nan_to_num(values), 0.0)
            weight += np.where(present, weights[name], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / weight
    # Scores are 0-100: half away from zero is floor(v + 0.5).
    return np.where(weight > 0, np.floor(mean + 0.5 + ROUNDING_SLACK), np.nan)


def band_of(health: float) -> str:
    if health >= HEALTHY_FROM:
        return "healthy"
    return "attention" if health >= ATTENTION_FROM else "at_risk"


def bands(health: np.ndarray) -> np.ndarray:
    """0 healthy, 1 attention, 2 at_risk (BANDS' order); −1 for no score."""
    return np.select(
        [np.isnan(health), health >= HEALTHY_FROM, health >= ATTENTION_FROM], [-1, 0, 1], 2
    )


def weights_in_force() -> dict[str, float]:
    return dict(settings.INSIGHTS_HEALTH_WEIGHTS)


# --- Scores as of A ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """Per calibrated customer (sorted by id): components (NaN absent), health, revenue."""

    ids: np.ndarray
    purchase: np.ndarray
    recency: np.ndarray
    service: np.ndarray
    voice: np.ndarray
    health: np.ndarray
    revenue_cents: np.ndarray
    fitted: bool


_SERVICE_SQL = f"""
    SELECT customer_id, COUNT(*), SUM(CASE WHEN csat >= 4 THEN 1 ELSE 0 END)
    FROM {T_ROOMS}
    WHERE customer_id IS NOT NULL AND csat IS NOT NULL AND day BETWEEN %(low)s AND %(as_of)s
    GROUP BY customer_id
"""
# Each customer's latest NPS day in (low, A] with its score, in one aggregate: a day has one
# answer per customer (CustomerNpsDay's grain), so the largest day · 2^15 + score is the latest
# day's, and its remainder is that score (a PositiveSmallIntegerField: below 2^15).
_VOICE_SQL = f"""
    SELECT customer_id, MAX(CAST(day AS BIGINT) * 32768 + score) %% 32768
    FROM {T_NPS} WHERE day > %(low)s AND day <= %(as_of)s GROUP BY customer_id
"""


def _by_id(ids: np.ndarray, rows: np.ndarray, column: int) -> np.ndarray:
    """rows[:, column] placed at each of `ids` (NaN where a customer has no row)."""
    out = np.full(len(ids), np.nan)
    if len(rows) and len(ids):
        at = np.searchsorted(ids, rows[:, 0])
        inside = at < len(ids)
        at, rows = at[inside], rows[inside]
        match = ids[at] == rows[:, 0]
        out[at[match]] = rows[match, column]
    return out


def _p_alive(a: int, rows: np.ndarray, stored: customer_value.StoredFit) -> tuple[np.ndarray, bool]:
    """P(alive) of each row of customer_value.customer_rows under the default model fitted as
    of day `a` (the rebuild's stored fit, `stored`, for its own day); zeros when not fitted.
    The fit reads the distinct triples made from the same rows (no second pass over the won
    days), and P(alive) is computed once per distinct triple. Reads no database."""
    if not len(rows):
        return np.zeros(0), False
    try:
        triples, pairs, where = customer_value.inputs_of_customers(a, rows)
        fits = customer_value.fits_for(a, triples, pairs, stored=stored)
        alive = clv.purchase_p_alive(fits.purchase, triples.x, triples.t_x, triples.T)
        if not np.all(np.isfinite(alive)):
            raise clv.ModelError("P(alive) is not finite", reason="not_finite")
    except clv.ModelError:
        return np.zeros(len(rows)), False
    return alive[where], True


def health_scores(*, as_of: date, weights: dict[str, float] | None = None) -> Scores:
    """Every calibrated customer's components and health as of A (METRICS.md Q)."""
    a = as_of.toordinal()
    service_rows = db.float_rows(_SERVICE_SQL, {"as_of": a, "low": a - SERVICE_DAYS + 1}, 3)
    voice_rows = db.float_rows(_VOICE_SQL, {"as_of": a, "low": a - VOICE_DAYS}, 2)
    rows = customer_value.customer_rows(a)
    purchase = _p_alive(a, rows, customer_value.stored_fit())
    return _scores(a, rows, service_rows, voice_rows, purchase, weights)


def _scores(
    a: int,
    rows: np.ndarray,
    service_rows: np.ndarray,
    voice_rows: np.ndarray,
    purchase: tuple[np.ndarray, bool],
    weights: dict[str, float] | None,
) -> Scores:
    """The scores as of day `a` from its per-customer rows (customer_value.customer_rows),
    its (customer, rated, rated 4-5) rows, its (customer, latest NPS) rows and _p_alive's
    (P(alive) per row, fitted)."""
    weights = weights_in_force() if weights is None else weights
    ids = rows[:, 0]
    alive, fitted = purchase
    rated, high = _by_id(ids, service_rows, 1), _by_id(ids, service_rows, 2)
    components = {
        "purchase": 100.0 * alive,
        "recency": recency_score(a - rows[:, 3]),
        "service": np.where(rated > 0, 100.0 * high / np.where(rated > 0, rated, 1.0), np.nan),
        "voice": voice_score(_by_id(ids, voice_rows, 1)),
    }
    return Scores(
        ids=ids.astype(np.int64),
        **components,
        health=health_score(components, weights),
        revenue_cents=rows[:, 4],
        fitted=fitted,
    )


# --- A and A0 = A − 90 in one pass ----------------------------------------------------------
# The figure needs the scores as of A and as of its backtest day A0, and who bought in
# (A0, A]. Both dates share their reads: the won days up to A give every per-customer row as
# of A and (by CASE) as of A0, and the days after A0; the rooms of [A0 − 179, A] both service
# windows; the NPS days of (A0 − 365, A] both latest answers. One pass each instead of two
# (and no separate read of the buyers): the reads were most of the time at 1M people.

# The buying days up to A in the order of CustomerWonDay's customer index (an index-only scan,
# no sort): _rows_now_and_then sums them per customer in numpy. Grouped in SQL (a window for
# the first day, then CASE sums) the same rows took 0.8 s at 1M people, read raw 0.25 s.
_WON_DAYS_SQL = f"""
    SELECT customer_id, day, revenue_cents FROM {T_WONDAY}
    WHERE day <= %(as_of)s ORDER BY customer_id, day
"""


def _rows_now_and_then(a: int, a0: int) -> np.ndarray:
    """Per customer with a buying day on or before A (by id): customer_value.customer_rows as
    of A (customer, x, first, last, revenue, repeat revenue), then as of A0 (days, last day,
    revenue, repeat revenue; 0 days and last −1 when the first buying day is after A0) and
    the buying days in (A0, A]. One buying day per customer and day (the table's grain), so
    a customer's first row is its first day, whose revenue is not repeat revenue."""
    days = db.float_rows(_WON_DAYS_SQL, {"as_of": a}, 3)
    if not len(days):
        return np.empty((0, 11))
    customer, day = days[:, 0], days[:, 1]
    revenue = days[:, 2].astype(np.int64)  # cents: summed exactly, as SQL's BIGINT sums
    first = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    last = np.r_[first[1:], len(customer)] - 1
    count = last - first + 1
    then = day <= a0
    count_then = np.add.reduceat(then.astype(np.int64), first)
    total = np.add.reduceat(revenue, first)
    total_then = np.add.reduceat(np.where(then, revenue, 0), first)
    return np.column_stack(
        (
            customer[first], count - 1, day[first], day[last], total, total - revenue[first],
            count_then, np.maximum.reduceat(np.where(then, day, -1), first), total_then,
            np.where(count_then > 0, total_then - revenue[first], 0), count - count_then,
        )
    ).astype(np.float64)  # fmt: skip


_BOTH_SERVICE_SQL = f"""
    SELECT customer_id,
           SUM(CASE WHEN day >= %(low)s THEN 1 ELSE 0 END),
           SUM(CASE WHEN day >= %(low)s AND csat >= 4 THEN 1 ELSE 0 END),
           SUM(CASE WHEN day <= %(then)s THEN 1 ELSE 0 END),
           SUM(CASE WHEN day <= %(then)s AND csat >= 4 THEN 1 ELSE 0 END)
    FROM {T_ROOMS}
    WHERE customer_id IS NOT NULL AND csat IS NOT NULL AND day BETWEEN %(low0)s AND %(as_of)s
    GROUP BY customer_id
"""
# Each customer's latest NPS answer in (A − 365, A] and in (A0 − 365, A0], as _VOICE_SQL finds
# it (NULL, read as NaN, where there is none: the same as no row). The self-joins this replaced
# (the latest days, then their scores) took twice the time at 1M people.
_BOTH_VOICE_SQL = f"""
    SELECT customer_id,
           MAX(CASE WHEN day > %(low)s THEN CAST(day AS BIGINT) * 32768 + score END) %% 32768,
           MAX(CASE WHEN day <= %(then)s THEN CAST(day AS BIGINT) * 32768 + score END) %% 32768
    FROM {T_NPS} WHERE day > %(low0)s AND day <= %(as_of)s GROUP BY customer_id
"""


def scores_now_and_then(
    *, as_of: date, weights: dict[str, float] | None = None
) -> tuple[Scores, Scores, np.ndarray]:
    """health_scores as of A and as of A0 = A − BACKTEST_DAYS, and per customer scored as of
    A0 whether they bought in (A0, A]: the same figures, with every read shared."""
    a = as_of.toordinal()
    a0 = a - BACKTEST_DAYS
    both = _rows_now_and_then(a, a0)
    then_rows = both[both[:, 6] > 0]
    rows_now = both[:, :6]
    rows_then = np.column_stack(
        (then_rows[:, 0], then_rows[:, 6] - 1, then_rows[:, 2], *then_rows[:, 7:10].T)
    ).reshape(-1, 6)
    stored = customer_value.stored_fit()
    # The two fits are numpy and scipy alone, no database: they run in two threads beside the
    # service and voice reads, whose time is mostly the database server's (the numpy work
    # lets go of the GIL).
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="health-fit") as pool:
        purchase_now = pool.submit(_p_alive, a, rows_now, stored)
        purchase_then = pool.submit(_p_alive, a0, rows_then, stored)
        params = {
            "as_of": a,
            "then": a0,
            "low": a - SERVICE_DAYS + 1,
            "low0": a0 - SERVICE_DAYS + 1,
        }
        service = db.float_rows(_BOTH_SERVICE_SQL, params, 5)
        params = {"as_of": a, "then": a0, "low": a - VOICE_DAYS, "low0": a0 - VOICE_DAYS}
        voice = db.float_rows(_BOTH_VOICE_SQL, params, 3)
        now_alive, then_alive = purchase_now.result(), purchase_then.result()
    now = _scores(a, rows_now, service[:, :3], voice[:, :2], now_alive, weights)
    then = _scores(a0, rows_then, service[:, [0, 3, 4]], voice[:, [0, 2]], then_alive, weights)
    return now, then, then_rows[:, 10] > 0


# --- Figures ----------------------------------------------------------------------------------


def _pct(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.00")
    return (Decimal(100 * part) / Decimal(whole)).quantize(CENT, ROUND_HALF_UP)


def _money(cents: float) -> str:
    return str((Decimal(int(round(cents))) / 100).quantize(CENT, ROUND_HALF_UP))


def _by_band(scores: Scores) -> list[dict[str, Any]]:
    band = bands(scores.health)
    return [
        {
            "band": name,
            "customers": int(np.count_nonzero(band == i)),
            "revenue": _money(float(scores.revenue_cents[band == i].sum())),
        }
        for i, name in enumerate(BANDS)
    ]


def _backtest(start: date, then: Scores, again: np.ndarray) -> dict[str, Any] | None:
    """Per band of the scores as of A0 = A − 90 (model fitted then), the share who bought in
    (A0, A] (`again`, per customer of `then`); None when nobody has a buying day on or before
    A0."""
    if not len(then.ids):
        return None
    band = bands(then.health)
    rows = []
    for i, name in enumerate(BANDS):
        members = band == i
        customers = int(np.count_nonzero(members))
        rows.append(
            {
                "band": name,
                "customers": customers,
                "bought_pct": str(_pct(int(np.count_nonzero(again & members)), customers)),
            }
        )
    return {"as_of": start.isoformat(), "by_band": rows}


def health_payload(*, as_of: date, weights: dict[str, float] | None = None) -> dict[str, Any]:
    """The JSON payload of insights/health/ for as-of date A (money as decimal strings)."""
    weights = weights_in_force() if weights is None else weights
    scores, then, again = scores_now_and_then(as_of=as_of, weights=weights)
    scored = scores.health[~np.isnan(scores.health)]
    average = (
        (Decimal(int(scored.sum())) / Decimal(len(scored))).quantize(CENT, ROUND_HALF_UP)
        if len(scored)
        else Decimal("0.00")
    )
    return {
        "as_of": as_of.isoformat(),
        "customers": int(len(scored)),
        "avg_health": str(average),
        "by_band": _by_band(scores),
        "backtest": _backtest(as_of - timedelta(days=BACKTEST_DAYS), then, again),
        "model_fitted": scores.fitted,
    }


def customer_health(*, period: Period) -> dict[str, Any]:
    """METRICS.md Q for the as-of date of `period`: cached per (A, weights)."""
    as_of = min(period.end, local_today())
    weights = weights_in_force()
    key = tuple(weights[name] for name in COMPONENTS)
    return cache.cached(
        "health",
        (as_of, *key),
        lambda: health_payload(as_of=as_of, weights=weights),
        shape=health_payload,  # the payload is the answer: keyed by its builder's source
    )


# --- The rebuild's tables ---------------------------------------------------------------------


def nps_days_rebuild() -> int:
    """CustomerNpsDay: each customer's latest NPS answer of each local day (by answer time,
    then id), from the survey answers and their records' customers. Inside the rebuild."""
    db.execute(f"DELETE FROM {T_NPS}")
    written = db.execute(f"""
        INSERT INTO {T_NPS} (customer_id, day, score)
        SELECT customer_id, day, score FROM (
            SELECT COALESCE(c.customer_id, cc.customer_id) AS customer_id,
                   {db.day_sql("s.created_at")} AS day, s.score AS score,
                   ROW_NUMBER() OVER (
                       PARTITION BY COALESCE(c.customer_id, cc.customer_id),
                                    {db.day_sql("s.created_at")}
                       ORDER BY s.created_at DESC, s.id DESC
                   ) AS rn
            FROM {T_SURVEY} s
            LEFT JOIN {T_CONTACT} c ON c.id = s.contact_id
            LEFT JOIN {T_CHATCONTACT} cc ON cc.id = s.chat_contact_id
            WHERE s.kind = 'nps'
        ) latest
        WHERE rn = 1 AND customer_id IS NOT NULL
    """)  # fmt: skip
    statistics_refresh(T_NPS)
    return written


def customer_health_rebuild(*, today: date | None = None) -> int:
    """Rewrite CustomerHealth with every calibrated customer's score as of today (the stored
    fit of this rebuild is reused). Inside the rebuild, after the customer value."""
    today = today or local_today()
    CustomerHealth.objects.all().delete()
    scores = health_scores(as_of=today)
    keep = ~np.isnan(scores.health)
    band = bands(scores.health)

    def nullable(values: np.ndarray) -> list[Any]:
        return [None if np.isnan(v) else v for v in values[keep].tolist()]

    records = zip(
        scores.ids[keep].tolist(),
        [int(v) for v in scores.health[keep].tolist()],
        [BANDS[i] for i in band[keep].tolist()],
        scores.purchase[keep].tolist(),
        [int(v) for v in scores.recency[keep].tolist()],
        nullable(scores.service),
        [None if v is None else int(v) for v in nullable(scores.voice)],
        strict=True,
    )
    columns = ("customer_id", "health", "band", "purchase", "recency", "service", "voice")
    rows = list(records)
    if rows:
        rows_write(T_HEALTH, columns, rows)
    statistics_refresh(T_HEALTH)
    return len(rows)
