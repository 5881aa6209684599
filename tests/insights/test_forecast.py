"""Pipeline and forecast (METRICS.md §P), pinned by hand-computed cases relative to today."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from deals.models import Deal, DealChange, ExchangeRate, PipelineStage
from insights import forecast
from insights.periods import Period, local_today
from tests.factories import DealFactory
from tests.insights.build import customer, rebuild

pytestmark = pytest.mark.django_db
JAKARTA = ZoneInfo("Asia/Jakarta")


def day(offset: int) -> date:
    return local_today() + timedelta(days=offset)


def at(offset: int, hour: int = 10) -> datetime:
    """Today + offset days at `hour` Jakarta time."""
    return datetime.combine(day(offset), datetime.min.time(), tzinfo=JAKARTA) + timedelta(
        hours=hour
    )


def period(first: int, last: int) -> Period:
    return Period(day(first), day(last))


def _stage(name: str, outcome: str, default_win_probability: int, order: int) -> PipelineStage:
    stage, _ = PipelineStage.objects.update_or_create(
        name=name,
        defaults={"outcome": outcome, "default_win_probability": default_win_probability,
                  "order": order},
    )  # fmt: skip
    return stage


@pytest.fixture
def stages():
    return {
        # A stage without a default probability (the import's "0"), first in the pipeline.
        "qualify": _stage(name="Qualify", outcome="open", default_win_probability=0, order=0),
        "proposal": _stage(name="Proposal", outcome="open", default_win_probability=50, order=1),
        # Same order as Proposal: code-point order puts "Proposal" before "negotiation".
        "negotiation": _stage(
            name="negotiation", outcome="open", default_win_probability=70, order=1
        ),
        "won": _stage(name="Won", outcome="won", default_win_probability=100, order=9),
        "lost": _stage(name="Lost", outcome="lost", default_win_probability=0, order=9),
    }


def open_deal(stage, amount: str, expected: datetime | None, probability: int | None = None):
    return DealFactory(
        stage=stage,
        amount=Decimal(amount),
        created_at=at(-20),
        expected_close_at=expected,
        win_probability=probability,
    )


def closed_deal(stage, closed: int, *, amount: str = "100.00", contact=None):
    return DealFactory(
        stage=stage, amount=Decimal(amount), created_at=at(closed - 5), closed_at=at(closed),
        contact=contact,
    )  # fmt: skip


@pytest.fixture
def pipeline(stages):
    s = stages
    open_deal(s["proposal"], "1000.00", at(1, 0))  # P's first day, at local midnight: in
    open_deal(s["proposal"], "500.00", at(30, 23), probability=20)  # P's last day: in
    open_deal(s["proposal"], "300.00", at(31, 0))  # the day after P: out
    open_deal(s["qualify"], "200.00", at(10))  # no default probability: weight 0
    # 23:30 UTC on day 4 is 06:30 on day 5 in Jakarta: in P by its local date.
    open_deal(s["negotiation"], "1000.50", datetime.combine(day(4), datetime.min.time(), UTC)
              + timedelta(hours=23, minutes=30))  # fmt: skip
    # Its own 100% probability makes it won, whatever its stage: not in the pipeline.
    DealFactory(stage=s["negotiation"], amount=Decimal("9999.00"), created_at=at(-10),
                expected_close_at=at(3), win_probability=100)  # fmt: skip
    DealFactory(stage=s["lost"], amount=Decimal("777.00"), created_at=at(-3),
                expected_close_at=at(2))  # fmt: skip
    open_deal(s["proposal"], "50.00", at(0))  # expected today: neither in P nor overdue
    open_deal(s["proposal"], "400.00", at(-1))  # overdue
    open_deal(s["qualify"], "250.00", None)  # undated
    # The historical rate's window [today − 365, today − 1]: edges in, today and day −366 out.
    closed_deal(s["won"], -365)
    closed_deal(s["lost"], -1)
    closed_deal(s["lost"], -366)
    closed_deal(s["won"], 0)
    closed_deal(s["won"], -100)
    # Won (own 100%, closed_at empty: closed on created day −10); lost (created −3): both in.
    rebuild()
    return s


def test_future_period_pipeline_by_stage_in_pipeline_order(pipeline):
    result = forecast.forecast(period=period(1, 30))
    assert [(r.stage, r.deals, r.value, r.weighted_value) for r in result.by_stage] == [
        ("Qualify", 1, Decimal("200.00"), Decimal("0.00")),
        ("Proposal", 2, Decimal("1500.00"), Decimal("600.00")),  # 1000 × .5 + 500 × .2
        ("negotiation", 1, Decimal("1000.50"), Decimal("700.35")),
    ]
    assert result.open_deals == 4
    assert result.open_value == Decimal("2700.50")
    assert result.weighted_value == Decimal("1300.35")


def test_overdue_and_undated_whatever_the_period(pipeline):
    for p in (period(1, 30), period(-400, -300), period(0, 0)):
        result = forecast.forecast(period=p)
        assert (result.overdue_deals, result.overdue_value) == (1, Decimal("400.00"))
        assert (result.undated_deals, result.undated_value) == (1, Decimal("250.00"))


def test_historical_win_rate_and_value_at_it(pipeline):
    result = forecast.forecast(period=period(1, 30))
    # Won: days −365, −100, −10 (own 100%); lost: −1, −3. Not day 0 nor −366.
    assert result.historical_win_rate_pct == Decimal("60.00")
    assert result.value_at_historical_rate == Decimal("1620.30")  # 2700.50 × 0.60


def test_expected_close_today_is_in_a_period_of_today_only(pipeline):
    result = forecast.forecast(period=period(0, 0))
    assert [(r.stage, r.deals, r.value) for r in result.by_stage] == [
        ("Proposal", 1, Decimal("50.00"))
    ]
    # F = [today + 1, today] is empty: no expected repeat buying.
    assert result.expected_buying_days is None
    assert result.expected_repeat_revenue is None


def test_past_period_shows_the_deals_that_slipped(pipeline):
    result = forecast.forecast(period=period(-5, -1))
    assert [(r.stage, r.deals, r.weighted_value) for r in result.by_stage] == [
        ("Proposal", 1, Decimal("200.00"))
    ]
    assert result.expected_buying_days is None


def test_unfitted_model_gives_nulls(pipeline):
    result = forecast.forecast(period=period(1, 30))
    assert result.model_fitted is False
    assert result.expected_buying_days is None
    assert result.expected_repeat_revenue is None


def test_nothing_at_all():
    rebuild()
    result = forecast.forecast(period=period(1, 7))
    assert (result.open_deals, result.open_value, result.weighted_value) == (0, 0, 0)
    assert result.historical_win_rate_pct == Decimal("0.00")
    assert result.backtest.weighted_value == Decimal("0.00")
    assert result.backtest.thin


# --- Backtest -------------------------------------------------------------------------------


def history(deal: Deal, *rows: dict) -> None:
    """Replace the deal's recorded history by `rows` (each with `at` and the state fields)."""
    DealChange.objects.filter(deal=deal).delete()
    for row in rows:
        fields = dict(row)
        moment = fields.pop("at")
        DealChange.objects.create(deal=deal, changed_at=moment, **fields)


def state(stage: str, amount: str, expected: datetime | None, **more) -> dict:
    return {"stage_name": stage, "amount": Decimal(amount), "expected_close_at": expected, **more}


def test_backtest_reads_the_pipeline_as_of_90_days_ago(stages):
    s = stages
    a0_end = at(-89, 0)  # the first instant after A0 = today − 90
    buyer = customer(str(day(-400)))
    newcomer = customer(str(day(-400)))
    # b1: open at A0 (Proposal, weight .5), won since with a close date in N.
    b1 = DealFactory(stage=s["won"], amount=Decimal("1000.00"), created_at=at(-120),
                     closed_at=at(-30), contact=newcomer)  # fmt: skip
    history(b1, {"at": at(-120), **state("Proposal", "1000.00", at(-50))},
            {"at": at(-30), **state("Won", "1000.00", at(-50))})  # fmt: skip
    # b2: its amount grew after A0 (the A0 amount counts); lost since.
    b2 = DealFactory(stage=s["lost"], amount=Decimal("3000.00"), created_at=at(-100),
                     closed_at=at(-5))  # fmt: skip
    history(
        b2,
        {"at": at(-100), **state("proposal", "2000.00", at(-10), win_probability=20)},
        {"at": at(-60), **state("proposal", "3000.00", at(-10), win_probability=20)},
    )
    # b3: created long before A0 but first recorded after it: left out.
    b3 = DealFactory(stage=s["proposal"], created_at=at(-200), expected_close_at=at(-20))
    history(b3, {"at": at(-80), **state("Proposal", "1000000.00", at(-20))})
    # b4: expected after N: out.
    b4 = DealFactory(stage=s["proposal"], created_at=at(-95), expected_close_at=at(10))
    history(b4, {"at": at(-95), **state("Proposal", "1000000.00", at(10))})
    # b5: already won by A0: not open. Its buyer bought again in N (repeat revenue).
    b5 = DealFactory(stage=s["won"], amount=Decimal("100.00"), created_at=at(-150),
                     closed_at=at(-150), contact=buyer)  # fmt: skip
    history(b5, {"at": at(-150), **state("Won", "100.00", None)})
    again = DealFactory(stage=s["won"], amount=Decimal("700.00"), created_at=at(-45),
                        closed_at=at(-40), contact=buyer)  # fmt: skip
    history(again, {"at": at(-45), **state("Won", "700.00", None)})
    # b6: imported history in USD; the second row's blanks keep the first row's values.
    b6 = DealFactory(stage=s["proposal"], amount=Decimal("100.00"), currency="USD",
                     created_at=at(-130))  # fmt: skip
    imported = DealChange.Source.IMPORTED
    history(
        b6,
        {"at": at(-130), "source": imported,
         **state("Proposal", "100.00", at(-20), currency="USD")},
        {"at": at(-110), "source": imported, "stage_name": "", "amount": None,
         "expected_close_at": None, "currency": "", "win_probability": 60},
    )  # fmt: skip
    ExchangeRate.objects.create(currency="USD", date=day(-200), rate=Decimal("15000"))
    ExchangeRate.objects.create(currency="USD", date=day(-50), rate=Decimal("16000"))
    # b7: EUR without a rate on or before A0: out.
    b7 = DealFactory(stage=s["proposal"], currency="EUR", created_at=at(-130))
    history(b7, {"at": at(-130), **state("Proposal", "5.00", at(-20), currency="EUR")})
    ExchangeRate.objects.create(currency="EUR", date=day(-10), rate=Decimal("17000"))
    # b8: recorded in A0's last minute, expected on N's first day: in. b9: at the first
    # instant after A0: its state then is too late (b9 has an earlier record as lost).
    b8 = DealFactory(stage=s["proposal"], amount=Decimal("10.00"), created_at=at(-91))
    history(b8, {"at": a0_end - timedelta(minutes=1), **state("Proposal", "10.00", at(-89))})
    b9 = DealFactory(stage=s["lost"], created_at=at(-200), closed_at=at(-200))
    history(b9, {"at": at(-200), **state("Lost", "1.00", at(-30))},
            {"at": a0_end, **state("Proposal", "1.00", at(-30))})  # fmt: skip
    rebuild()

    result = forecast.backtest()

    assert result.as_of == day(-90)
    # Open at A0 with an expected close in N: b1 1000 × .5, b2 2000 × .2, b6 1,500,000 × .6,
    # b8 10 × .5.
    assert result.deals == 4
    assert result.weighted_value == Decimal("900905.00")
    # Rate over [A0 − 365, A0 − 1]: won b5 (day −150), lost b9 (day −200): 50%.
    assert result.value_at_historical_rate == Decimal("751505.00")  # 1,503,010 × .5
    assert result.actual_won_value == Decimal("1000.00")  # b1 only
    assert result.actual_repeat_revenue == Decimal("700.00")  # the buyer's day −40
    assert result.expected_repeat_revenue is None  # too few customers to fit
    assert result.left_out == 1  # b3


def test_the_state_reader_matches_a_direct_replay_on_random_histories(stages):
    import random

    rng = random.Random(7)
    cutoff = at(-89, 0)
    deals = [DealFactory(stage=stages["proposal"], created_at=at(-300)) for _ in range(15)]
    expected: dict[int, tuple] = {}
    for deal in deals:
        rows = []
        for index in range(rng.randrange(1, 6)):
            moment = at(-rng.randrange(0, 200), rng.randrange(0, 23))
            source = rng.choice(["recorded", "imported"])
            row = {
                "at": moment + timedelta(microseconds=index),
                "source": source,
                "stage_name": rng.choice(["", "Proposal", "Won"]),
                "win_probability": rng.choice([None, 10, 90]),
                "amount": rng.choice([None, Decimal("1.50"), Decimal("20.00")]),
                "currency": rng.choice(["", "IDR"]),
                "expected_close_at": rng.choice([None, at(-50)]),
            }
            rows.append(row)
        history(deal, *rows)
        state_ = {}
        for row in sorted(rows, key=lambda r: r["at"]):
            if row["at"] >= cutoff:
                continue
            for name in forecast.HISTORY_FIELDS:
                field = name[0]
                value = row[field]
                if row["source"] == "recorded" or value not in (None, ""):
                    state_[field] = value
            state_.setdefault("_seen", True)
        if state_:
            first = min(rows, key=lambda r: r["at"])
            for name, _blank in forecast.HISTORY_FIELDS:
                state_.setdefault(name, first[name] if first["at"] < cutoff else None)
            expected[deal.pk] = tuple(state_[name] for name, _blank in forecast.HISTORY_FIELDS)
    from insights.engine import db

    rows = db.rows(forecast.state_sql(), {"cutoff": forecast._day_start(day(-89))})
    got = {
        row[0]: (
            row[1],
            row[2],
            None if row[3] is None else Decimal(str(row[3])).quantize(Decimal("0.01")),
            row[4],
            None if row[5] is None else _aware(row[5]),
        )
        for row in rows
    }
    assert got == expected


def _aware(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_the_rebuild_keeps_the_backtest_of_its_day_and_a_reader_of_that_day_computes_nothing(
    stages,
):
    # given: a deal open at A0 with an expected close in the 90 days after it, won since
    from unittest.mock import patch

    from insights.models import FigureCache, ForecastBacktest

    won = DealFactory(stage=stages["won"], amount=Decimal("1000.00"), created_at=at(-120),
                      closed_at=at(-30), contact=customer(str(day(-400))))  # fmt: skip
    history(won, {"at": at(-120), **state("Proposal", "1000.00", at(-50))},
            {"at": at(-30), **state("Won", "1000.00", at(-50))})  # fmt: skip
    rebuild()
    FigureCache.objects.all().delete()

    # when: the figure cache is empty, as between a rebuild's commit and its warm-up
    kept = ForecastBacktest.objects.get()
    with patch("insights.forecast._backtest_payload", side_effect=AssertionError("computed")):
        result = forecast.backtest()

    # then: the kept payload is the computation's, read without computing
    assert kept.day == local_today()
    assert kept.payload == forecast._backtest_payload(local_today())
    assert result.weighted_value == Decimal("500.00") and result.actual_won_value == Decimal(
        "1000.00"
    )
    # A reader of another day has no kept backtest: it computes (and caches) its own.
    other_day = local_today() + timedelta(days=1)
    assert forecast.backtest(today=other_day).as_of == other_day - timedelta(days=90)


def test_the_pipeline_rollup_sums_the_open_deals_per_day_stage_and_owner(stages):
    # given: open deals on two days and undated, and a won deal (not in the pipeline)
    from insights.models import OpenPipelineDay

    open_deal(stages["proposal"], "100.00", at(3))
    open_deal(stages["proposal"], "50.00", at(3), probability=10)
    open_deal(stages["qualify"], "7.00", at(4))
    open_deal(stages["proposal"], "9.00", None)
    DealFactory(stage=stages["won"], amount=Decimal("1.00"), closed_at=at(-1))

    # when
    rebuild()

    # then: cents and cents × percent, exact
    rows = set(
        OpenPipelineDay.objects.values_list("day", "stage_id", "deals", "value_cents", "weighted")
    )
    d3, d4 = day(3).toordinal(), day(4).toordinal()
    proposal, qualify = stages["proposal"].pk, stages["qualify"].pk
    assert rows == {
        (d3, proposal, 2, 15000, 10000 * 50 + 5000 * 10),
        (d4, qualify, 1, 700, 0),
        (None, proposal, 1, 900, 900 * 50),
    }
