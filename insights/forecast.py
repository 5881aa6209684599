"""Pipeline and forecast (METRICS.md §P): what is still to come in a period, and a backtest.

Design note
-----------
* The pipeline reads OpenPipelineDay, which the rebuild sums from DealFact (its one row per
  deal: status, value in cents, the same value every other figure sums, stage, win
  probability, its own else the stage's default, and local expected close day): the open
  deals per expected close day, stage and owner. A period's pipeline, the overdue and the
  undated deals are a range of a few rows a day, not a read of every open deal. The stage
  catalogue gives each stage's name and pipeline order.
* Weighted values are summed exactly in integer cents × percent and rounded once, at the end.
* The expected repeat buying days and revenue in F = [max(start, today + 1), end] use the
  customer value model fitted as of today (insights.customer_value; the rebuild's own fit is
  reused): E(end − today) − E(max(start, today + 1) − 1 − today) per calibration triple, and,
  as that module does, the Gamma-Gamma value summed per triple (linear in m).
* The backtest reads the deal history (deals.DealChange, written by database triggers and
  the `deal_changes` import): each deal's state at the end of A0 = today − 90 is, field by
  field, the latest recorded value (a blank field of an imported row keeps the value before
  it). Deals with no history by then are left out. It streams only the deals open at A0 with
  an expected close date in the next 90 days; each A0 value is converted at A0's rate in
  Python, exactly.
* Answers are cached in FigureCache per (period, today) and the backtest per today. The
  rebuild computes the backtest of its own day (ForecastBacktest), so readers of that day
  never fit the model as of today − 90 nor read the deal history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import connection

from deals import rules as deal_rules
from deals.models import DealChange, ExchangeRate, PipelineStage

from . import clv, customer_value
from . import metric_keys as keys
from .current_run import latest_succeeded_run
from .engine import cache, db, numbers
from .models import CustomerWonDay, DailySum, DealFact, ForecastBacktest, OpenPipelineDay
from .periods import Period, local_today

T_FACT = DealFact._meta.db_table
T_PIPELINE = OpenPipelineDay._meta.db_table
T_DAILY = DailySum._meta.db_table
T_STAGE = PipelineStage._meta.db_table
T_HISTORY = DealChange._meta.db_table
T_RATE = ExchangeRate._meta.db_table
T_WONDAY = CustomerWonDay._meta.db_table
CENT = Decimal("0.01")
HISTORY_DAYS = 365  # the historical win rate's window: [today − 365, today − 1]
BACKTEST_DAYS = 90  # the backtest is made as of today − 90 and checked over the 90 days after
THIN_BACKTEST_DEALS = 10  # below this many deals the dashboard says the backtest is thin


@dataclass(frozen=True)
class StageRow:
    stage: str
    stage_id: int
    deals: int
    value: Decimal
    weighted_value: Decimal


@dataclass(frozen=True)
class Backtest:
    as_of: date
    weighted_value: Decimal
    value_at_historical_rate: Decimal
    expected_repeat_revenue: Decimal | None
    actual_won_value: Decimal
    actual_repeat_revenue: Decimal
    # Not in the API: how many deals the backtest's pipeline holds, and how many deals created
    # by A0 it leaves out because their history starts after A0 (the dashboard's warning).
    deals: int = 0
    left_out: int = 0

    @property
    def thin(self) -> bool:
        return self.deals < THIN_BACKTEST_DEALS or self.left_out > self.deals


@dataclass(frozen=True)
class Forecast:
    open_deals: int
    open_value: Decimal
    weighted_value: Decimal
    by_stage: list[StageRow]
    overdue_deals: int
    overdue_value: Decimal
    undated_deals: int
    undated_value: Decimal
    historical_win_rate_pct: Decimal
    value_at_historical_rate: Decimal
    expected_buying_days: float | None
    expected_repeat_revenue: Decimal | None
    model_fitted: bool
    backtest: Backtest
    today: date


# --- Pipeline ---------------------------------------------------------------------------------


def _sum(expression: str) -> str:
    """An exact SUM of bigint products (SQLite's own SUM stops with "integer overflow")."""
    return f"w_sum({expression})" if connection.vendor == "sqlite" else f"SUM({expression})"


PIPELINE_KEYS = ("stage_id", "owner_id")


def open_pipeline_rebuild() -> int:
    """OpenPipelineDay from DealFact, whole (a rebuild step, after the deal facts)."""
    db.execute(f"DELETE FROM {T_PIPELINE}")
    return db.execute(f"""
        INSERT INTO {T_PIPELINE} (day, stage_id, owner_id, deals, value_cents, weighted)
        SELECT expected_close_day, stage_id, owner_id, COUNT(*), {_sum("amount_cents")},
               {_sum("amount_cents * win_probability")}
        FROM {T_FACT}
        WHERE status = 'open'
        GROUP BY expected_close_day, stage_id, owner_id
    """)


def open_pipeline_rows(*, start: int, end: int, by: str) -> list[tuple[int, int, int, int]]:
    """(key, open deals, cents, cents × percent) of the open deals (METRICS.md §P) whose
    expected close day (a proleptic ordinal) is in [start, end], per `by`: "stage_id" (the
    forecast) or "owner_id" (sales by owner, 0: none). From OpenPipelineDay."""
    if by not in PIPELINE_KEYS:
        raise ValueError(f"the pipeline is split by one of {PIPELINE_KEYS}, not {by!r}")
    sql = f"""
        SELECT {by}, SUM(deals), {_sum("value_cents")}, {_sum("weighted")}
        FROM {T_PIPELINE}
        WHERE day >= %(start)s AND day <= %(end)s
        GROUP BY {by} ORDER BY {by}
    """
    return [
        (int(key or 0), int(n), int(value or 0), int(weighted or 0))
        for key, n, value, weighted in db.rows(sql, {"start": start, "end": end})
    ]


def _pipeline(*, start: int, end: int, today: int) -> dict[str, Any]:
    """Open deals by stage with an expected close day in [start, end], overdue and undated."""
    sql = f"""
        SELECT 1, 0, COALESCE(SUM(deals), 0), {_sum("value_cents")}, 0 FROM {T_PIPELINE}
        WHERE day < %(today)s
        UNION ALL
        SELECT 2, 0, COALESCE(SUM(deals), 0), {_sum("value_cents")}, 0 FROM {T_PIPELINE}
        WHERE day IS NULL
    """
    rows: list[tuple[int, int, int, int, int]] = [
        (0, *row) for row in open_pipeline_rows(start=start, end=end, by="stage_id")
    ]
    rows += db.rows(sql, {"today": today})
    stages: dict[int, tuple[str, int]] = {
        int(stage_id): (name, order)
        for stage_id, name, order in PipelineStage.objects.filter(
            id__in=[row[1] for row in rows if row[0] == 0]
        ).values_list("id", "name", "order")
    }
    # Pipeline order: the stage's order, then its name in code-point order (Python's own).
    by_stage: list[list[Any]] = sorted(
        (
            [stages[int(stage_id)][0], int(stage_id), int(n), int(value or 0), int(weighted or 0)]
            for kind, stage_id, n, value, weighted in rows
            if kind == 0 and int(stage_id) in stages
        ),
        key=lambda row: (stages[row[1]][1], row[0]),
    )
    totals = {int(kind): (int(n), int(value or 0)) for kind, _s, n, value, _w in rows if kind}
    return {
        "by_stage": by_stage,
        "overdue": totals.get(1, (0, 0)),
        "undated": totals.get(2, (0, 0)),
    }


def _win_rate(*, first: int, last: int) -> tuple[int, int]:
    """(won, lost) deals, with or without a customer, with a close day in [first, last]: from
    the daily sums (a few rows a day), not DealFact (a year of it is most of the deals)."""
    sql = f"""
        SELECT SUM(CASE WHEN metric = %(won)s THEN count ELSE 0 END),
               SUM(CASE WHEN metric = %(lost)s THEN count ELSE 0 END)
        FROM {T_DAILY}
        WHERE metric IN (%(won)s, %(lost)s) AND day >= %(first)s AND day <= %(last)s
    """
    params = {"won": keys.WON_DEALS, "lost": keys.LOST_DEALS, "first": first, "last": last}
    won, lost = db.rows(sql, params)[0]
    return int(won or 0), int(lost or 0)


def _rate_pct(won: int, lost: int) -> Decimal:
    return numbers.ratio(won, won + lost, scale=100)


def _at_rate(value_cents: int, rate_pct: Decimal) -> Decimal:
    """value × rate / 100, rounded half away from zero to 2 places."""
    return (Decimal(value_cents) / 100 * rate_pct / 100).quantize(CENT, ROUND_HALF_UP)


def _weighted(cents_times_pct: int) -> Decimal:
    return numbers.money(cents_times_pct, unit=10_000)


# --- Expected repeat buying (the customer value model) ----------------------------------------


# The model's inputs and fit as of a day, for the last (run, day) asked: the presets warmed
# after a rebuild all ask for today's, and reading them is one pass over CustomerWonDay.
_model_memo: dict[tuple[int, str, int], tuple[Any, Any, Any]] = {}


def _model_fit(as_of: int) -> tuple[Any, Any, Any]:
    triples, pairs = customer_value.model_inputs(as_of)
    try:
        fits: Any = customer_value.fits_for(as_of, triples, pairs, customer_value.DEFAULT_MODEL)
    except clv.ModelError as error:
        fits = error
    return triples, pairs, fits


def _model(as_of: int, *, memo: bool = True) -> tuple[Any, Any, Any]:
    """(triples, pairs, fits or the ModelError) of the default model fitted as of `as_of`.

    memo=False inside a rebuild: its rows are not the last succeeded run's, which the memo's
    key names."""
    if not memo:
        return _model_fit(as_of)
    # The run's id and finish time: ids can come again (a rolled-back run), times do not.
    key = (cache.run_id(), str(latest_succeeded_run()[1]), as_of)
    if key not in _model_memo:
        if len(_model_memo) >= 2:
            _model_memo.clear()
        _model_memo[key] = _model_fit(as_of)
    return _model_memo[key]


def _expected_repeat(*, as_of: int, horizons: tuple[int, int], memo: bool = True) -> dict[str, Any]:
    """With the model fitted as of day `as_of`: expected buying days and their value in
    (as_of + h0, as_of + h1] over every calibrated customer (h0 = 0: from the day after)."""
    triples, _pairs, fits = _model(as_of, memo=memo)
    try:
        if isinstance(fits, clv.ModelError):
            raise fits
        x, t_x, T, n = triples.x, triples.t_x, triples.T, triples.customers
        expected = [
            clv.purchase_expected(fits.purchase, float(h), x, t_x, T) if h > 0 else np.zeros_like(x)
            for h in horizons
        ]
        in_window = expected[1] - expected[0]
        if not np.all(np.isfinite(in_window)):
            raise clv.ModelError(
                "the fitted model gives values that are not finite", reason="not_finite"
            )
    except clv.ModelError:
        return {"fitted": False, "days": None, "revenue_cents": None}
    v = fits.gamma_gamma
    # Σ over a triple's customers of E[value | x, m] is linear in m (insights.customer_value).
    weight = v.p * x / (v.p * x + v.q - 1.0)
    population = v.p * v.gamma / (v.q - 1.0)
    sum_m = np.divide(triples.repeat_cents / 100.0, x, out=np.zeros_like(x), where=x > 0)
    value_sum = (1.0 - weight) * population * n + weight * sum_m
    return {
        "fitted": True,
        "days": float(np.dot(n, in_window)),
        "revenue_cents": int(round(float(np.dot(in_window, value_sum)) * 100)),
    }


# --- Backtest ---------------------------------------------------------------------------------


def _day_start(day: date) -> Any:
    """The first instant of a local date, as a query parameter (SQLite compares UTC text)."""
    moment = datetime.combine(day, time(0), tzinfo=ZoneInfo(settings.TIME_ZONE))
    return connection.ops.adapt_datetimefield_value(moment)


def _usable(is_set: str) -> str:
    """1 when a history row sets a field: a recorded row always does (its null win
    probability means "the stage's default"); an imported row's blank keeps the previous."""
    return f"CASE WHEN source = 'recorded' OR {is_set} THEN 1 ELSE 0 END"


HISTORY_FIELDS = (
    ("stage_name", "stage_name <> ''"),
    ("win_probability", "win_probability IS NOT NULL"),
    ("amount", "amount IS NOT NULL"),
    ("currency", "currency <> ''"),
    ("expected_close_at", "expected_close_at IS NOT NULL"),
)


def state_sql() -> str:
    """SELECT (deal_id, stage_name, win_probability, amount, currency, expected_close_at): each
    deal's state at %(cutoff)s from its history, field by field the latest value set."""
    order = "ORDER BY changed_at, id"
    groups = ", ".join(
        f"SUM({_usable(blank)}) OVER (PARTITION BY deal_id {order} "
        f"ROWS UNBOUNDED PRECEDING) AS g_{name}"
        for name, blank in HISTORY_FIELDS
    )
    values = ", ".join(
        f"FIRST_VALUE({name}) OVER (PARTITION BY deal_id, g_{name} {order}) AS {name}"
        for name, _blank in HISTORY_FIELDS
    )
    names = ", ".join(name for name, _blank in HISTORY_FIELDS)
    return f"""
        SELECT deal_id, {names} FROM (
            SELECT deal_id, {values},
                   ROW_NUMBER() OVER (PARTITION BY deal_id ORDER BY changed_at DESC, id DESC)
                       AS latest
            FROM (
                SELECT deal_id, changed_at, id, {names}, {groups}
                FROM {T_HISTORY} WHERE changed_at < %(cutoff)s
            ) h
        ) s
        WHERE latest = 1
    """


def _rates(as_of: date) -> dict[str, Decimal]:
    """Each currency's rate on `as_of`: its row with the latest date on or before it."""
    rates: dict[str, Decimal] = {}
    for currency, rate in (
        ExchangeRate.objects.filter(date__lte=as_of)
        .order_by("currency", "date")
        .values_list("currency", "rate")
    ):
        rates[currency.upper()] = rate
    return rates


def _value_cents(amount: Decimal, currency: str, rates: dict[str, Decimal]) -> int | None:
    """A deal's value in base-currency cents (METRICS.md §3), None without a rate."""
    code = (currency or "").upper()
    if code in ("", settings.INSIGHTS_CURRENCY.upper()):
        return int((amount * 100).to_integral_value(ROUND_HALF_UP))
    rate = rates.get(code)
    if rate is None:
        return None
    return int((amount * rate * 100).to_integral_value(ROUND_HALF_UP))


def _backtest_pipeline(*, a0: date, today: date) -> dict[str, int]:
    """The deals open as of A0 with an expected close day in N = [A0 + 1, today], in their A0
    state: weighted value, value, and the won value (now, closed in N) of the same deals."""
    a0_day, first, last = a0.toordinal(), a0.toordinal() + 1, today.toordinal()
    sql = f"""
        SELECT st.amount, st.currency, st.win_probability, s.outcome, s.default_win_probability,
               f.status, f.close_day, f.amount_cents
        FROM ({state_sql()}) st
        JOIN {T_FACT} f ON f.deal_id = st.deal_id
        LEFT JOIN {T_STAGE} s ON LOWER(s.name) = LOWER(st.stage_name)
        WHERE f.created_day <= %(a0)s
          AND {db.day_sql("st.expected_close_at")} >= %(first)s
          AND {db.day_sql("st.expected_close_at")} <= %(last)s
    """
    params = {"cutoff": _day_start(a0 + timedelta(days=1)), "a0": a0_day}
    params |= {"first": first, "last": last}
    rates = _rates(a0)
    totals = {"deals": 0, "value": 0, "weighted": 0, "won": 0}
    for rows in db.chunks(sql, params, 10_000):
        for amount, currency, own, outcome, default, status, close_day, cents in rows:
            if amount is None:
                continue
            probability = own if own is not None else (default or 0)
            state = deal_rules.deal_status(
                stage_outcome=outcome or deal_rules.OPEN,
                stage_default_win_probability=default or 0,
                win_probability=own,
            )
            value = _value_cents(Decimal(str(amount)).quantize(CENT), currency, rates)
            if state != deal_rules.OPEN or value is None:
                continue
            totals["deals"] += 1
            totals["value"] += value
            totals["weighted"] += value * int(probability)
            if status == deal_rules.WON and first <= close_day <= last:
                totals["won"] += int(cents)
    return totals


def _left_out(a0: date) -> int:
    """Deals created on or before A0 whose history starts after it."""
    sql = f"""
        SELECT COUNT(*) FROM {T_FACT} f
        WHERE f.created_day <= %(a0)s AND NOT EXISTS (
            SELECT 1 FROM {T_HISTORY} h WHERE h.deal_id = f.deal_id AND h.changed_at < %(cutoff)s)
    """
    return db.scalar(sql, {"a0": a0.toordinal(), "cutoff": _day_start(a0 + timedelta(days=1))})


def _repeat_revenue_actual(*, a0: int, last: int) -> int:
    """Revenue in (A0, last] of the customers calibrated as of A0 (a buying day by A0)."""
    sql = f"""
        SELECT SUM(w.revenue_cents) FROM {T_WONDAY} w
        WHERE w.day > %(a0)s AND w.day <= %(last)s AND w.customer_id IN (
            SELECT customer_id FROM {T_WONDAY} WHERE day <= %(a0)s)
    """
    return db.scalar(sql, {"a0": a0, "last": last})


def _backtest_payload(today: date, *, memo: bool = True) -> dict[str, Any]:
    a0 = today - timedelta(days=BACKTEST_DAYS)
    a = a0.toordinal()
    pipeline = _backtest_pipeline(a0=a0, today=today)
    won, lost = _win_rate(first=a - HISTORY_DAYS, last=a - 1)
    repeat = _expected_repeat(as_of=a, horizons=(0, BACKTEST_DAYS), memo=memo)
    return {
        "as_of": a0.isoformat(),
        "weighted": pipeline["weighted"],
        "value": pipeline["value"],
        "won_lost": [won, lost],
        "expected_repeat_cents": repeat["revenue_cents"],
        "actual_won_cents": pipeline["won"],
        "actual_repeat_cents": _repeat_revenue_actual(a0=a, last=today.toordinal()),
        "deals": pipeline["deals"],
        "left_out": _left_out(a0),
    }


def backtest_rebuild(today: date) -> int:
    """ForecastBacktest for the rebuild's day, whole (a rebuild step, after customer value,
    whose kept inputs as of today − 90 it reads)."""
    ForecastBacktest.objects.all().delete()
    ForecastBacktest.objects.create(day=today, payload=_backtest_payload(today, memo=False))
    return 1


def _backtest_kept_or_computed(today: date) -> dict[str, Any]:
    kept = ForecastBacktest.objects.filter(day=today).values_list("payload", flat=True).first()
    return kept if kept is not None else _backtest_payload(today)


def backtest(*, today: date | None = None) -> Backtest:
    """The forecast as made BACKTEST_DAYS ago beside what happened (METRICS.md §P)."""
    today = today or local_today()
    data = cache.cached(
        "forecast_backtest", (today,), lambda: _backtest_kept_or_computed(today), shape=Backtest
    )
    rate = _rate_pct(*data["won_lost"])
    return Backtest(
        as_of=date.fromisoformat(data["as_of"]),
        weighted_value=_weighted(data["weighted"]),
        value_at_historical_rate=_at_rate(data["value"], rate),
        expected_repeat_revenue=customer_value.money(data["expected_repeat_cents"]),
        actual_won_value=numbers.money(data["actual_won_cents"]),
        actual_repeat_revenue=numbers.money(data["actual_repeat_cents"]),
        deals=data["deals"],
        left_out=data["left_out"],
    )


# --- The figures ------------------------------------------------------------------------------


def _forecast_payload(period: Period, today: date) -> dict[str, Any]:
    t = today.toordinal()
    start, end = period.start.toordinal(), period.end.toordinal()
    payload = _pipeline(start=start, end=end, today=t)
    payload["won_lost"] = list(_win_rate(first=t - HISTORY_DAYS, last=t - 1))
    f_start = max(start, t + 1)
    if f_start > end:  # F is empty: nothing of P is after today
        fitted = _expected_repeat(as_of=t, horizons=(0, 0))["fitted"]
        payload["repeat"] = {"fitted": fitted, "days": None, "revenue_cents": None}
    else:
        payload["repeat"] = _expected_repeat(as_of=t, horizons=(f_start - 1 - t, end - t))
    return payload


def forecast_warms(period: Period) -> bool:
    """Whether the rebuild warms the forecast of `period` (the registry's warm_if): the periods
    the dashboard opens it on, those not ended yet."""
    return period.end > local_today()


def forecast(*, period: Period) -> Forecast:
    """METRICS.md §P for `period`, as of today."""
    today = local_today()
    data = cache.cached(
        "forecast",
        (period.start, period.end, today),
        lambda: _forecast_payload(period, today),
        shape=Forecast,
    )
    by_stage = [
        StageRow(
            stage=name,
            stage_id=stage_id,
            deals=n,
            value=numbers.money(value),
            weighted_value=_weighted(weighted),
        )
        for name, stage_id, n, value, weighted in data["by_stage"]
    ]
    open_value = sum(row[3] for row in data["by_stage"])
    rate = _rate_pct(*data["won_lost"])
    repeat = data["repeat"]
    return Forecast(
        open_deals=sum(row.deals for row in by_stage),
        open_value=numbers.money(open_value),
        weighted_value=_weighted(sum(row[4] for row in data["by_stage"])),
        by_stage=by_stage,
        overdue_deals=data["overdue"][0],
        overdue_value=numbers.money(data["overdue"][1]),
        undated_deals=data["undated"][0],
        undated_value=numbers.money(data["undated"][1]),
        historical_win_rate_pct=rate,
        value_at_historical_rate=_at_rate(open_value, rate),
        expected_buying_days=repeat["days"],
        expected_repeat_revenue=customer_value.money(repeat["revenue_cents"]),
        model_fitted=bool(repeat["fitted"]),
        backtest=backtest(today=today),
        today=today,
    )
