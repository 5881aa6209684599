"""The forecast's rollup answers equal a slow, direct reading of METRICS.md §P on random data."""

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pytest

from deals.models import Deal, PipelineStage
from insights import clv, customer_value, forecast
from insights.models import CustomerValueFit
from insights.periods import Period, local_date, local_today
from tests.factories import ContactFactory, CustomerFactory, DealFactory
from tests.insights.build import rebuild

pytestmark = pytest.mark.django_db
CENT = Decimal("0.01")
PEOPLE = (Path(__file__).resolve().parents[1] / "data" / "clv_people.txt").read_text().splitlines()


def _noon(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(5), tzinfo=UTC)


def _world(rng: random.Random) -> None:
    now = datetime.now(UTC)
    stages = [
        PipelineStage.objects.update_or_create(
            name=name, defaults={"outcome": outcome, "default_win_probability": p, "order": o}
        )[0]
        for name, outcome, p, o in (
            ("Lead", "open", 0, 2),
            ("lead b", "open", 35, 2),
            ("Offer", "open", 60, 1),
            ("Sure", "open", 100, 3),  # its default makes its deals won
            ("Won", "won", 100, 9),
            ("Lost", "lost", 0, 9),
        )
    ]
    # Buyers simulated from the model itself (tests/data/clv_people.txt, whose "today" was
    # 30 Jun 2026), moved to end today, so the model can be fitted; then random open deals.
    shift = local_today() - date(2026, 6, 30)
    for history in PEOPLE:
        purchases = [item.split(":") for item in history.split()]
        first = min(_noon(day) for day, _amount in purchases) + shift
        person = CustomerFactory(first_seen_at=first)
        contact = ContactFactory(created_at=first, customer=person)
        for day, amount in purchases:
            closed = _noon(day) + shift
            DealFactory(
                contact=contact, stage=stages[4], created_at=closed, closed_at=closed,
                amount=Decimal(amount),
            )  # fmt: skip
    for _ in range(120):
        created = now - timedelta(days=rng.randrange(0, 500), minutes=rng.randrange(0, 1440))
        expected = rng.choice(
            [None, now + timedelta(days=rng.randrange(-60, 120), minutes=rng.randrange(0, 1440))]
        )
        DealFactory(
            contact=None,  # the pipeline counts deals with or without a customer
            stage=rng.choice(stages),
            win_probability=rng.choice([None, None, 0, 25, 80, 100]),
            amount=Decimal(rng.randrange(0, 10**9)) / 100,
            created_at=created,
            closed_at=rng.choice([None, created + timedelta(days=rng.randrange(0, 30))]),
            expected_close_at=expected,
        )


def _direct(period: Period) -> dict:
    today = local_today()
    rows: dict[tuple[int, str, int], list[Decimal]] = {}
    overdue = [0, Decimal(0)]
    undated = [0, Decimal(0)]
    won = lost = 0
    for deal in Deal.objects.select_related("stage"):
        close = local_date(deal.closed_at or deal.created_at)
        if today - timedelta(days=365) <= close <= today - timedelta(days=1):
            won += deal.status == "won"
            lost += deal.status == "lost"
        if deal.status != "open":
            continue
        if deal.expected_close_at is None:
            undated[0] += 1
            undated[1] += deal.amount
            continue
        expected = local_date(deal.expected_close_at)
        if expected < today:
            overdue[0] += 1
            overdue[1] += deal.amount
        if period.start <= expected <= period.end:
            key = (deal.stage.order, deal.stage.name, deal.stage_id)
            row = rows.setdefault(key, [Decimal(0), Decimal(0), Decimal(0)])
            row[0] += 1
            row[1] += deal.amount
            row[2] += deal.amount * deal.effective_win_probability / 100
    rate = (Decimal(100 * won) / (won + lost)).quantize(CENT, ROUND_HALF_UP) if won + lost else 0
    value = sum((row[1] for row in rows.values()), Decimal(0))
    return {
        "by_stage": [
            (name, int(row[0]), row[1], row[2].quantize(CENT, ROUND_HALF_UP))
            for (_order, name, _id), row in sorted(rows.items())
        ],
        "open_value": value,
        "weighted": sum((row[2] for row in rows.values()), Decimal(0)).quantize(
            CENT, ROUND_HALF_UP
        ),
        "overdue": tuple(overdue),
        "undated": tuple(undated),
        "rate": Decimal(rate),
        "at_rate": (value * Decimal(rate) / 100).quantize(CENT, ROUND_HALF_UP),
    }


def _expected_days(first: int, last: int) -> float:
    """Σ over calibrated customers of E[buying days in (today + first − 1, today + last]]."""
    a = local_today().toordinal()
    _day, _model, fits, _error = customer_value.stored_fit()
    assert fits is not None
    rows = customer_value.rows_array(customer_value._PER_CUSTOMER_SQL, {"as_of": a}, 5)
    x, t_x, T = rows[:, 1], rows[:, 2] - rows[:, 3], a - rows[:, 3]

    def e(h: int) -> np.ndarray:
        if h <= 0:
            return np.zeros_like(x)
        return clv.purchase_expected(fits.purchase, float(h), x, t_x, T)

    return float((e(last) - e(first - 1)).sum())


@pytest.mark.parametrize("seed", [1, 2])
def test_forecast_equals_a_direct_reading(seed):
    rng = random.Random(seed)
    _world(rng)
    rebuild()
    today = local_today()
    for first, last in [(1, 30), (0, 0), (-45, -1), (-10, 10), (rng.randrange(1, 40), 90)]:
        period = Period(today + timedelta(days=first), today + timedelta(days=last))
        result = forecast.forecast(period=period)
        direct = _direct(period)
        got = [(r.stage, r.deals, r.value, r.weighted_value) for r in result.by_stage]
        assert got == direct["by_stage"], period
        assert result.open_value == direct["open_value"]
        assert result.open_deals == sum(row[1] for row in direct["by_stage"])
        assert result.weighted_value == direct["weighted"]
        assert (result.overdue_deals, result.overdue_value) == direct["overdue"]
        assert (result.undated_deals, result.undated_value) == direct["undated"]
        assert result.historical_win_rate_pct == direct["rate"]
        assert result.value_at_historical_rate == direct["at_rate"]
        assert result.model_fitted, CustomerValueFit.objects.values_list("message", flat=True)[0]
        assert CustomerValueFit.objects.get().model == customer_value.DEFAULT_MODEL
        if last <= 0:
            assert result.expected_buying_days is None
        else:
            expected = _expected_days(max(first, 1), last)
            assert result.expected_buying_days == pytest.approx(expected, rel=1e-9)
            assert result.expected_repeat_revenue is not None
