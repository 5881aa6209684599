"""Predicted customer value (METRICS.md V): calibration inputs from rollups, fits, figures, table.

Inputs come from CustomerWonDay (customer, close day, won deals, revenue in cents), the
per-customer buying days of METRICS.md G: one row per buying day. Per customer, on the days
<= A: x = days − 1, t_x = last − first, T = A − first, and the repeat revenue (days after the
first) whose mean over x is m. The SQL aggregates to distinct (x, t_x, T) triples and distinct
(x, repeat revenue) pairs, so a figure streams tens of thousands of tuples, never models.

The model maths live in insights.clv (pure numpy/scipy). Figures are cached per
(as-of date, horizon) through insights.queries' FigureCache; the rebuild fits today's as-of
date once and stores every customer's outputs in CustomerValue (lists, filters, 360°).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

import numpy as np

from . import clv
from .engine import cache, db
from .models import (
    CustomerValue,
    CustomerValueFit,
    CustomerValueSpend,
    CustomerValueTriple,
    CustomerWonDay,
)
from .periods import Period, local_today
from .rollup import rows_write, statistics_refresh
from .section_params import AT_RISK_BELOW, HORIZON, MODEL

logger = logging.getLogger(__name__)

T_WONDAY = CustomerWonDay._meta.db_table
T_VALUE = CustomerValue._meta.db_table
T_TRIPLE = CustomerValueTriple._meta.db_table
T_SPEND = CustomerValueSpend._meta.db_table
# The section's options (insights.section_params): horizon and model, and at risk: p_alive below
# AT_RISK_BELOW (METRICS.md V; with bgnbd also x > 0).
DEFAULT_HORIZON = HORIZON.default
MIN_HORIZON, MAX_HORIZON = HORIZON.low, HORIZON.high
DEFAULT_MODEL = MODEL.default
MODELS = MODEL.choices
HOLDOUT_XS = 7  # per x = 0..6, then "7+"
CENT = Decimal("0.01")

# Per customer with a buying day on or before A. ROW_NUMBER marks the first buying day, whose
# revenue is not part of m (m is the mean over the repeat days). Index customerwonday_lookup
# (day, customer_id) bounds the scan to day <= A.
_CALIBRATION_SQL = f"""
    SELECT customer_id, COUNT(*) - 1 AS x, MIN(day) AS first_day, MAX(day) AS last_day,
           CAST(SUM(revenue_cents) AS BIGINT) AS revenue,
           CAST(SUM(CASE WHEN rn > 1 THEN revenue_cents ELSE 0 END) AS BIGINT) AS repeat_revenue
    FROM (
        SELECT customer_id, day, revenue_cents,
               ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY day) AS rn
        FROM {T_WONDAY} WHERE day <= %(as_of)s
    ) w
    GROUP BY customer_id
"""


_PER_CUSTOMER_SQL = f"""
    SELECT customer_id, x, last_day, first_day, repeat_revenue FROM ({_CALIBRATION_SQL}) c
"""


@dataclass(frozen=True)
class Triples:
    """Distinct calibration triples with, per triple, customers, repeat and total revenue."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    customers: np.ndarray
    repeat_cents: np.ndarray
    revenue_cents: np.ndarray


Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]


# The as-of dates whose inputs the rebuild keeps, in days before today: today (the fit, the
# forecast, customer-value/ and health as of today) and the backtests' as-of date
# (forecast.BACKTEST_DAYS and health.BACKTEST_DAYS, which a test keeps equal to it).
INPUTS_KEPT_DAYS_BACK = (0, 90)

_INPUTS_SQL = f"""
    WITH c AS ({_CALIBRATION_SQL})
    SELECT 0, x, last_day - first_day, %(as_of)s - first_day, COUNT(*),
           CAST(SUM(repeat_revenue) AS BIGINT), CAST(SUM(revenue) AS BIGINT)
    FROM c GROUP BY x, last_day - first_day, first_day
    UNION ALL
    SELECT 1, x, repeat_revenue, 0, COUNT(*), 0, 0
    FROM c WHERE x > 0 GROUP BY x, repeat_revenue
    ORDER BY 1, 2, 3, 4
"""
# The same rows, kept by the rebuild (CustomerValueTriple, CustomerValueSpend), in the same
# order, so the arrays (and every sum over them) come out identical.
_KEPT_INPUTS_SQL = f"""
    SELECT 0, x, t_x, age, customers, repeat_cents, revenue_cents
    FROM {T_TRIPLE} WHERE as_of_day = %(as_of)s
    UNION ALL
    SELECT 1, x, repeat_cents, 0, customers, 0, 0
    FROM {T_SPEND} WHERE as_of_day = %(as_of)s
    ORDER BY 1, 2, 3, 4
"""


def _inputs(rows: list[tuple]) -> tuple[Triples, Pairs]:
    data = np.array(rows, dtype=np.float64).reshape(-1, 7)
    tri, pair = data[data[:, 0] == 0], data[data[:, 0] == 1]
    triples = Triples(*(tri[:, i] for i in range(1, 7)))
    x = pair[:, 1]
    m = np.divide(pair[:, 2], 100.0 * x, out=np.zeros_like(x), where=x > 0)
    return triples, (x, m, pair[:, 4])


def model_inputs(as_of: int) -> tuple[Triples, Pairs]:
    """Distinct triples and, for x > 0, distinct (x, repeat revenue) as of day `as_of`: the
    rebuild's kept rows for its as-of dates (INPUTS_KEPT_DAYS_BACK), else one calibration
    pass over CustomerWonDay (which is also what a day with no calibrated customer reads:
    nothing, through the day index)."""
    kept = db.rows(_KEPT_INPUTS_SQL, {"as_of": as_of})
    return _inputs(kept if kept else db.rows(_INPUTS_SQL, {"as_of": as_of}))


def model_inputs_computed(as_of: int) -> tuple[Triples, Pairs]:
    """model_inputs from CustomerWonDay itself (the rebuild's pass, and the tests' reference)."""
    return _inputs(db.rows(_INPUTS_SQL, {"as_of": as_of}))


_PER_CUSTOMER_ORDERED_SQL = f"""
    SELECT customer_id, x, first_day, last_day, revenue, repeat_revenue
    FROM ({_CALIBRATION_SQL}) c ORDER BY customer_id
"""


def customer_rows(as_of: int) -> np.ndarray:
    """Per calibrated customer as of day `as_of`, by id: (customer, x, first day, last day,
    revenue, repeat revenue), one pass over CustomerWonDay (its customer index, in order)."""
    return rows_array(_PER_CUSTOMER_ORDERED_SQL, {"as_of": as_of}, 6)


def _distinct(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of `columns` (whole numbers) in lexicographic order (as SQL's ORDER BY
    sorts numbers) and, per input row, the index of its distinct row.

    Non-negative columns whose bit widths fit in 62 bits together are packed into one int64
    key, whose numeric order is the lexicographic one: one sort instead of one per column."""
    widths = [int(column.max()).bit_length() if len(column) else 0 for column in columns]
    if sum(widths) <= 62 and all(len(column) == 0 or column.min() >= 0 for column in columns):
        key = np.zeros(len(columns[0]), dtype=np.int64)
        for column, width in zip(columns, widths, strict=True):
            key = (key << width) | column.astype(np.int64)
        _keys, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return [column[first] for column in columns], inverse.reshape(-1)
    order = np.lexsort(columns[::-1])
    sorted_columns = [column[order] for column in columns]
    new = np.ones(len(order), dtype=bool)
    if len(order):
        new[1:] = np.any([np.diff(column) != 0 for column in sorted_columns], axis=0)
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return [column[new] for column in sorted_columns], inverse


def inputs_of_customers(as_of: int, rows: np.ndarray) -> tuple[Triples, Pairs, np.ndarray]:
    """model_inputs computed from customer_rows(as_of) in numpy: the same arrays in the same
    order (so a fit on them is the same fit), and each row's index in the triples (a figure
    per customer is then computed once per distinct triple and gathered)."""
    x, first, last, revenue, repeat = (rows[:, i] for i in range(1, 6))
    (ux, ut, uT), where = _distinct(x, last - first, as_of - first)
    count = ux.size
    triples = Triples(
        x=ux, t_x=ut, T=uT,
        customers=np.bincount(where, minlength=count).astype(np.float64),
        repeat_cents=np.bincount(where, weights=repeat, minlength=count),
        revenue_cents=np.bincount(where, weights=revenue, minlength=count),
    )  # fmt: skip
    repeaters = x > 0
    (px, prepeat), pair = _distinct(x[repeaters], repeat[repeaters])
    n = np.bincount(pair, minlength=px.size).astype(np.float64)
    m = np.divide(prepeat, 100.0 * px, out=np.zeros_like(px), where=px > 0)
    return triples, (px, m, n), where


def _inputs_keep(as_of: int, triples: Triples, pairs: Pairs) -> None:
    """Write the inputs as of day `as_of` (inside the rebuild, after the tables were emptied)."""

    def ints(*columns: np.ndarray) -> list[tuple[int, ...]]:
        day = np.full(len(columns[0]), as_of, dtype=np.int64)
        return list(zip(*(c.astype(np.int64).tolist() for c in (day, *columns)), strict=True))

    t = triples
    if len(t.x):
        rows_write(T_TRIPLE, ("as_of_day", "x", "t_x", "age", "customers", "repeat_cents",
                              "revenue_cents"),
                   ints(t.x, t.t_x, t.T, t.customers, t.repeat_cents, t.revenue_cents))  # fmt: skip
    x, m, n = pairs
    if len(x):
        # m = repeat / (100 x) came from integer cents: multiplied back and rounded, exact.
        repeat = np.rint(m * 100.0 * x)
        rows_write(T_SPEND, ("as_of_day", "x", "repeat_cents", "customers"), ints(x, repeat, n))


def _holdout_actual(as_of: int, horizon: int) -> dict[int, int]:
    """Buying days in (A, A + H] of the customers calibrated at A, per x bucket (7 = 7+)."""
    sql = f"""
        SELECT CASE WHEN c.x >= {HOLDOUT_XS} THEN {HOLDOUT_XS} ELSE c.x END, COUNT(*)
        FROM ({_CALIBRATION_SQL}) c
        JOIN {T_WONDAY} h ON h.customer_id = c.customer_id
        WHERE h.day > %(as_of)s AND h.day <= %(until)s
        GROUP BY CASE WHEN c.x >= {HOLDOUT_XS} THEN {HOLDOUT_XS} ELSE c.x END
    """
    rows = db.rows(sql, {"as_of": as_of, "until": as_of + horizon})
    return {int(bucket): int(n) for bucket, n in rows}


@dataclass(frozen=True)
class Fits:
    """The purchase model's fit (MBG/NBD or BG/NBD: `purchase.model`) and Gamma-Gamma's."""

    purchase: clv.BgNbdFit
    gamma_gamma: clv.GammaGammaFit


def _fits(
    triples: Triples, pairs: Pairs, start: Fits | None = None, *, model: str = DEFAULT_MODEL
) -> Fits:
    """Both fits, or clv.ModelError when either cannot be fitted."""
    purchase = clv.purchase_fit(
        triples.x, triples.t_x, triples.T, weights=triples.customers,
        start=start.purchase if start else None, model=model,
    )  # fmt: skip
    x, m, n = pairs
    gamma_gamma = clv.gamma_gamma_fit(x, m, weights=n, start=start.gamma_gamma if start else None)
    return Fits(purchase=purchase, gamma_gamma=gamma_gamma)


def _fitted(value: float | None) -> float:
    # The rebuild writes a fitted row's parameters together: a missing one is a broken row.
    if value is None:
        raise ValueError("a fitted CustomerValueFit row lacks a parameter")
    return value


class StoredFit(NamedTuple):
    """The rebuild's own fit (CustomerValueFit): its as-of day, model, fits or why not."""

    as_of_day: int | None
    model: str
    fits: Fits | None
    error: clv.ModelError | None


def stored_fit() -> StoredFit:
    """The rebuild's own fit as stored (one read): fits_for's `stored`."""
    row = CustomerValueFit.objects.first()
    if row is None:
        return StoredFit(None, "", None, None)
    if not row.fitted:
        error = clv.ModelError(row.message or "not fitted", reason=row.reason or "no_convergence")
        return StoredFit(row.as_of_day, row.model, None, error)
    r, alpha, a, b, p, q, gamma = (
        _fitted(value) for value in (row.r, row.alpha, row.a, row.b, row.p, row.q, row.gamma)
    )
    fits = Fits(
        purchase=clv.BgNbdFit(r=r, alpha=alpha, a=a, b=b, log_likelihood=0.0, model=row.model),
        gamma_gamma=clv.GammaGammaFit(p=p, q=q, gamma=gamma, log_likelihood=0.0),
    )
    return StoredFit(row.as_of_day, row.model, fits, None)


def fits_for(
    as_of: int,
    triples: Triples,
    pairs: Pairs,
    model: str = DEFAULT_MODEL,
    stored: StoredFit | None = None,
) -> Fits:
    """The fit for as-of day `as_of`. The rebuild's own as-of date and model reuse the
    parameters it stored (log-likelihoods recomputed from the same inputs); any other date is
    fitted, starting from those parameters. `stored`: stored_fit() read beforehand, so that
    the fit itself reads no database (and can run in another thread)."""
    stored_day, stored_model, fits, error = stored_fit() if stored is None else stored
    if stored_day == as_of and stored_model == model:
        if fits is None:
            raise error or clv.ModelError("not fitted")
        return _with_likelihood(fits, triples, pairs)
    return _fits(triples, pairs, start=fits, model=model)


def fit_as_of(*, as_of: date, model: str = DEFAULT_MODEL) -> Fits:
    """The purchase model `model` and Gamma-Gamma fitted on the buying days on or before
    `as_of` (METRICS.md V), from the rollups: the public entry point for other figures.

    Raises clv.ModelError (its `reason` says why) when the data cannot be fitted.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}")
    triples, pairs = model_inputs(as_of.toordinal())
    return fits_for(as_of.toordinal(), triples, pairs, model)


def _with_likelihood(fits: Fits, triples: Triples, pairs: Pairs) -> Fits:
    g, v = fits.purchase, fits.gamma_gamma
    ll_g = float(np.dot(triples.customers, clv.purchase_log_likelihood(
        g.model, g.r, g.alpha, g.a, g.b, triples.x, triples.t_x, triples.T)))  # fmt: skip
    x, m, n = pairs
    usable = (x > 0) & (m > 0)
    ll_v = float(np.dot(n[usable], clv.gamma_gamma_log_likelihood(
        v.p, v.q, v.gamma, x[usable], m[usable])))  # fmt: skip
    return Fits(
        purchase=clv.BgNbdFit(
            r=g.r, alpha=g.alpha, a=g.a, b=g.b, log_likelihood=ll_g, model=g.model
        ),
        gamma_gamma=clv.GammaGammaFit(p=v.p, q=v.q, gamma=v.gamma, log_likelihood=ll_v),
    )


def _parameters(fits: Fits | None) -> dict[str, float | None]:
    if fits is None:
        return dict.fromkeys(("r", "alpha", "a", "b", "p", "q", "gamma"))
    g, v = fits.purchase, fits.gamma_gamma
    return {"r": g.r, "alpha": g.alpha, "a": g.a, "b": g.b, "p": v.p, "q": v.q, "gamma": v.gamma}


def _histogram(p_alive: np.ndarray, weights: np.ndarray) -> list[int]:
    # Tenths [0, 0.1), ..., [0.9, 1.0]: 1.0 itself falls in the last one.
    bins = np.minimum(np.floor(p_alive * 10).astype(int), 9)
    return [int(v) for v in np.bincount(bins, weights=weights, minlength=10).round()]


def customer_value_payload(
    *, as_of: date, horizon: int, today: date, model: str = DEFAULT_MODEL
) -> dict[str, Any]:
    """The JSON payload of insights/customer-value/ for as-of date A (money in cents).

    Besides CONTRACT's fields: `message` and `reason` (why not fitted, for the dashboard) and
    `p_alive_histogram_repeat` (the histogram's customers with x > 0).
    """
    a = as_of.toordinal()
    triples, pairs = model_inputs(a)
    customers = int(triples.customers.sum())
    payload: dict[str, Any] = {
        "fitted": False,
        "model": model,
        "as_of": as_of.isoformat(),
        "horizon": horizon,
        "parameters": _parameters(None),
        "log_likelihood": None,
        "customers": customers,
        "predicted_revenue_cents": None,
        "customers_at_risk": None,
        "revenue_at_risk_cents": None,
        "p_alive_histogram": None,
        "p_alive_histogram_repeat": None,
        "holdout": None,
        "message": "",
        "reason": "",
    }
    x, t_x, T, n = triples.x, triples.t_x, triples.T, triples.customers
    try:
        fits = fits_for(a, triples, pairs, model)
        p_alive = clv.purchase_p_alive(fits.purchase, x, t_x, T)
        expected = clv.purchase_expected(fits.purchase, float(horizon), x, t_x, T)
        if not (np.all(np.isfinite(p_alive)) and np.all(np.isfinite(expected))):
            raise clv.ModelError(
                "the fitted model gives values that are not finite", reason="not_finite"
            )
    except clv.ModelError as error:
        payload["message"], payload["reason"] = str(error), error.reason
        return payload
    g, v = fits.purchase, fits.gamma_gamma
    # Σ over a triple's customers of E[value | x, m] is linear in m, and Σ m = Σ repeat / x.
    weight = v.p * x / (v.p * x + v.q - 1.0)
    population = v.p * v.gamma / (v.q - 1.0)
    sum_m = np.divide(triples.repeat_cents / 100.0, x, out=np.zeros_like(x), where=x > 0)
    value_sum = (1.0 - weight) * population * n + weight * sum_m
    at_risk = p_alive < AT_RISK_BELOW
    if model == clv.BGNBD:
        at_risk &= x > 0
    payload.update(
        fitted=True,
        parameters=_parameters(fits),
        log_likelihood=g.log_likelihood + v.log_likelihood,
        predicted_revenue_cents=int(round(float(np.dot(expected, value_sum)) * 100)),
        customers_at_risk=int(n[at_risk].sum()),
        revenue_at_risk_cents=int(triples.revenue_cents[at_risk].sum()),
        p_alive_histogram=_histogram(p_alive, n),
        p_alive_histogram_repeat=_histogram(p_alive, np.where(x > 0, n, 0.0)),
    )
    if as_of + timedelta(days=horizon) <= today:
        payload["holdout"] = _holdout(a, horizon, x, n, expected)
    return payload


def _holdout(a: int, horizon: int, x: np.ndarray, n: np.ndarray, expected: np.ndarray) -> dict:
    actual = _holdout_actual(a, horizon)
    buckets = np.minimum(x, HOLDOUT_XS).astype(int)
    customers = np.bincount(buckets, weights=n, minlength=HOLDOUT_XS + 1)
    expected_sum = np.bincount(buckets, weights=n * expected, minlength=HOLDOUT_XS + 1)
    by_x = []
    for bucket in range(HOLDOUT_XS + 1):
        count = int(round(customers[bucket]))
        by_x.append(
            {
                "x": str(bucket) if bucket < HOLDOUT_XS else f"{HOLDOUT_XS}+",
                "customers": count,
                "actual": actual.get(bucket, 0) / count if count else 0.0,
                "expected": float(expected_sum[bucket]) / count if count else 0.0,
            }
        )
    return {
        "actual_purchases": sum(actual.values()),
        "expected_purchases": float(expected_sum.sum()),
        "by_x": by_x,
    }


def customer_value(
    *, period: Period, horizon: int = DEFAULT_HORIZON, model: str = DEFAULT_MODEL
) -> dict[str, Any]:
    """METRICS.md V for the as-of date of `period`: cached per (A, H, model, holdout due)."""
    if not MIN_HORIZON <= horizon <= MAX_HORIZON:
        raise ValueError(f"horizon must be {MIN_HORIZON} to {MAX_HORIZON} days")
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}")
    today = local_today()
    as_of = min(period.end, today)
    holdout_due = as_of + timedelta(days=horizon) <= today
    return cache.cached(
        "value",
        (as_of, horizon, model, holdout_due),
        lambda: customer_value_payload(as_of=as_of, horizon=horizon, today=today, model=model),
        shape=customer_value_payload,  # the payload is the answer: keyed by its builder's source
    )


def at_risk_customer_ids(*, as_of: date, model: str = DEFAULT_MODEL) -> list[int]:
    """The customers the "Customers at risk" figure counts as of `as_of` (METRICS.md V: P(alive)
    below AT_RISK_BELOW under the fit of that date; with BG/NBD also x > 0): the card's
    drill-down list.

    Scored per customer with the same fit as customer_value's triples, so the list counts
    exactly what the card says; cached per (A, model) like the figure. Empty when not fitted.
    """
    return cache.cached(
        "value_at_risk",
        (as_of, model),
        lambda: at_risk_ids_payload(as_of=as_of, model=model),
        shape=at_risk_ids_payload,  # the payload is the answer: keyed by its builder's source
    )


def at_risk_ids_payload(*, as_of: date, model: str = DEFAULT_MODEL) -> list[int]:
    """at_risk_customer_ids computed: ids in ascending order."""
    a = as_of.toordinal()
    try:
        fits = fits_for(a, *model_inputs(a), model)
    except clv.ModelError:
        return []
    rows = rows_array(_PER_CUSTOMER_SQL, {"as_of": a}, 5)
    x, t_x, T = rows[:, 1], rows[:, 2] - rows[:, 3], a - rows[:, 3]
    at_risk = clv.purchase_p_alive(fits.purchase, x, t_x, T) < AT_RISK_BELOW
    if model == clv.BGNBD:
        at_risk &= x > 0
    return sorted(int(pk) for pk in rows[at_risk, 0].tolist())


@dataclass(frozen=True)
class CustomerValueFigures:
    """The headline figures of METRICS.md V (None while the model cannot be fitted)."""

    predicted_revenue: Decimal | None
    customers: int
    customers_at_risk: int | None
    revenue_at_risk: Decimal | None


def customer_value_figures(
    *, period: Period, horizon: int = DEFAULT_HORIZON
) -> CustomerValueFigures:
    """customer_value's headline figures, money as Decimal (the registry's compute of V)."""
    data = customer_value(period=period, horizon=horizon)
    return CustomerValueFigures(
        predicted_revenue=money(data["predicted_revenue_cents"]),
        customers=data["customers"],
        customers_at_risk=data["customers_at_risk"],
        revenue_at_risk=money(data["revenue_at_risk_cents"]),
    )


def money(cents: int | None) -> Decimal | None:
    """Cents as a Decimal with 2 places (None stays None)."""
    return None if cents is None else (Decimal(cents) / 100).quantize(CENT, ROUND_HALF_UP)


# --- The stored table (rebuild) ---------------------------------------------------------------


def _cents(values: np.ndarray) -> list[str]:
    # Predictions, not sums of money: formatting the float to 2 places is exact enough.
    return [f"{value:.2f}" for value in values.tolist()]


def rows_array(sql: str, params: dict[str, Any], columns: int) -> np.ndarray:
    """All rows as one float array (engine.db.float_rows: no million-tuple list in memory)."""
    return db.float_rows(sql, params, columns)


def fitted_today() -> bool:
    """The stored fit is as of today: with the same buying days it would come out the same
    (the as-of day is its only other input)."""
    return CustomerValueFit.objects.filter(
        as_of_day=local_today().toordinal(), model=DEFAULT_MODEL
    ).exists()


def customer_value_rebuild(
    *, today: date | None = None, timings: dict[str, float] | None = None
) -> int:
    """Keep the model's inputs as of today and the backtests' day (INPUTS_KEPT_DAYS_BACK), fit
    as of today (horizon 365) and store every calibrated customer's outputs.

    Inside the rebuild transaction. Returns the rows written; an unfitted model writes none
    (the list and 360° then show null) and records why in CustomerValueFit. `timings` gets
    the seconds of its phases (inputs, fit, scores with their write): RebuildRun.timings.
    """
    clock = _Phases(timings)
    today = today or local_today()
    a = today.toordinal()
    CustomerValue.objects.all().delete()
    CustomerValueFit.objects.all().delete()
    CustomerValueTriple.objects.all().delete()
    CustomerValueSpend.objects.all().delete()
    # Today's inputs from the per-customer rows the scores need anyway (one pass); the other
    # kept days computed.
    rows = customer_rows(a)
    triples, pairs, where = inputs_of_customers(a, rows)
    _inputs_keep(a, triples, pairs)
    for back in INPUTS_KEPT_DAYS_BACK:
        if back:
            _inputs_keep(a - back, *model_inputs_computed(a - back))
    for table in (T_TRIPLE, T_SPEND):
        statistics_refresh(table)
    clock.lap("customer_value_inputs")
    try:
        fits = _fits(triples, pairs, model=DEFAULT_MODEL)
        clock.lap("customer_value_fit")
        ids, scores = rows[:, 0].astype(np.int64), _scores(fits, rows, triples, where)
    except clv.ModelError as error:
        clock.lap("customer_value_fit")
        CustomerValueFit.objects.create(
            as_of_day=a, horizon=DEFAULT_HORIZON, fitted=False, message=str(error)[:255],
            model=DEFAULT_MODEL, reason=error.reason,
        )  # fmt: skip
        return 0
    CustomerValueFit.objects.create(
        as_of_day=a, horizon=DEFAULT_HORIZON, fitted=True, **_parameters(fits),
        log_likelihood=fits.purchase.log_likelihood + fits.gamma_gamma.log_likelihood,
        model=DEFAULT_MODEL,
    )  # fmt: skip
    if len(ids):
        p_alive, expected, value = scores
        _store(ids, p_alive, expected, _cents(value), _cents(expected * value))
    clock.lap("customer_value_scores")
    return len(ids)


class _Phases:
    """Seconds since the last lap, under a phase's name (nothing when not asked for)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings, self.last = timings, time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        if self.timings is not None:
            self.timings[name] = round(now - self.last, 3)
        self.last = now


def _scores(
    fits: Fits, rows: np.ndarray, triples: Triples, where: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(alive), expected buying days (365) and expected day value per row of customer_rows
    (the first two once per distinct triple, gathered by `where`); ModelError when any is
    not finite."""
    x, repeat = rows[:, 1], rows[:, 5]
    m = np.divide(repeat, 100.0 * x, out=np.zeros_like(x), where=x > 0)
    g, v = fits.purchase, fits.gamma_gamma
    p_alive = clv.purchase_p_alive(g, triples.x, triples.t_x, triples.T)[where]
    expected = clv.purchase_expected(g, float(DEFAULT_HORIZON), triples.x, triples.t_x, triples.T)[
        where
    ]
    value = clv.gamma_gamma_expected_value(v, x, m)
    if not all(np.all(np.isfinite(column)) for column in (p_alive, expected, value)):
        raise clv.ModelError(
            "the fitted model gives values that are not finite", reason="not_finite"
        )
    return p_alive, expected, value


def _store(ids, p_alive, expected, value: list[str], clv_: list[str]) -> None:
    columns = ("customer_id", "p_alive", "expected_purchases", "expected_value", "predicted_clv")
    records = zip(ids.tolist(), p_alive.tolist(), expected.tolist(), value, clv_, strict=True)
    rows_write(T_VALUE, columns, list(records))
    statistics_refresh(T_VALUE)
