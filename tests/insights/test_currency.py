"""METRICS.md §3 "Currency": deal values in the base currency, hand-computed (issue 27 item 11).

A deal in another currency is worth amount × the rate of its currency with the latest date on
or before its (local) close date, an open deal's on or before the rebuild's day, rounded to
cents half away from zero; a line item's revenue is quantity × unit price × rate rounded per
line; a deal whose currency has no such rate is left out of every figure and listed.
"""

from datetime import date
from decimal import Decimal
from unittest.mock import patch

import pytest

from deals.currency import converted, currency_code_valid, deals_without_rate, is_base
from deals.models import Deal, ExchangeRate
from insights import metric_keys as keys
from insights.models import CustomerStats, DailySum, DealFact, RebuildRun
from insights.queries import sales_lifecycle, top_products
from insights.rebuild import insights_rebuild
from tests.factories import DealFactory, DealItemFactory, ProductFactory
from tests.insights.build import at, customer, period, rebuild, stage

pytestmark = pytest.mark.django_db(transaction=True)


def rate(currency: str, day: str, value: str) -> None:
    ExchangeRate.objects.create(currency=currency, date=date.fromisoformat(day), rate=value)


def won(contact, *, currency: str, amount: str, closed: str, created: str = "2026-01-02"):
    return DealFactory(
        contact=contact,
        stage=stage("won"),
        currency=currency,
        amount=Decimal(amount),
        created_at=at(created),
        closed_at=at(closed),
    )


def cents(deal: Deal) -> int | None:
    fact = DealFact.objects.filter(deal_id=deal.pk).first()
    return None if fact is None else fact.amount_cents


def test_the_rate_of_the_close_date_applies_rounded_half_away_from_zero():
    # given: rates before, on and after the close date
    ani = customer("2026-01-01")
    rate("USD", "2026-01-09", "14000")
    rate("USD", "2026-01-10", "15000.5")
    rate("USD", "2026-01-11", "16000")
    deal = won(ani, currency="USD", amount="100.01", closed="2026-01-10 15:00")
    # when
    rebuild()
    # then: 100.01 × 15000.5 = 1,500,200.005 → 1,500,200.01
    assert cents(deal) == 150_020_001
    assert CustomerStats.objects.get(customer=ani.customer).lifetime_revenue == Decimal(
        "1500200.01"
    )


def test_the_latest_rate_before_the_close_date_applies_by_the_local_date():
    # given: closed 23:30 UTC on 10 January, which is 11 January in Jakarta
    ani = customer("2026-01-01")
    rate("SGD", "2026-01-05", "11000")
    rate("SGD", "2026-01-11", "12000")
    rate("SGD", "2026-01-12", "13000")
    early = won(ani, currency="SGD", amount="2.00", closed="2026-01-08")  # day before: none
    late = DealFactory(
        contact=ani,
        stage=stage("won"),
        currency="SGD",
        amount=Decimal("3.00"),
        created_at=at("2026-01-02"),
        closed_at=at("2026-01-11 06:30"),  # 23:30 UTC on the 10th
    )
    # when
    rebuild()
    # then: the rate dated the 5th for the 8th; the 11th's for the local 11th
    assert cents(early) == 2 * 11000 * 100
    assert cents(late) == 3 * 12000 * 100


def test_no_rate_leaves_the_deal_out_of_every_figure_and_lists_it():
    # given: a euro deal with no euro rate, a dollar deal closed before the first dollar rate
    ani = customer("2026-01-01")
    budi = customer("2026-01-01")
    rate("USD", "2026-02-01", "15000")
    euro = won(ani, currency="EUR", amount="10.00", closed="2026-01-10")
    early = won(budi, currency="USD", amount="10.00", closed="2026-01-10")
    counted = won(budi, currency="USD", amount="1.00", closed="2026-02-03", created="2026-02-02")
    # when
    rebuild()
    # then: neither exists for the figures: no deal, no buyer, no revenue, no activity
    assert cents(euro) is None and cents(early) is None
    assert cents(counted) == 15000_00
    ani_stats = CustomerStats.objects.get(customer=ani.customer)
    assert (ani_stats.deals, ani_stats.won_deals, ani_stats.lifetime_revenue) == (0, 0, 0)
    assert ani_stats.last_activity_at is None
    january = sales_lifecycle(period=period("2026-01-01", "2026-01-31"))
    assert (january.customers_with_deals, january.total_deal_size) == (0, Decimal("0.00"))
    # ... and both are listed as "no exchange rate", exactly the deals the rebuild left out
    listed = set(deals_without_rate(Deal.objects.all(), today=date(2026, 3, 1)).values_list(
        "pk", flat=True))  # fmt: skip
    assert listed == {euro.pk, early.pk}
    left_out = set(Deal.objects.values_list("pk", flat=True)) - set(
        DealFact.objects.values_list("deal_id", flat=True)
    )
    assert left_out == listed


@pytest.mark.parametrize("code", ["IDR", "idr", "Idr", "   ", ""])
def test_a_blank_or_base_currency_in_any_case_is_not_converted(code):
    ani = customer("2026-01-01")
    deal = won(ani, currency=code, amount="1234.56", closed="2026-01-10")
    rebuild()
    assert cents(deal) == 123456
    assert DealFact.objects.get(deal_id=deal.pk).rate is None
    assert is_base(code)


def test_line_items_are_converted_and_rounded_per_line():
    # given: 3 × 0.35 × 1.5 = 1.575 → 1.58 a line; two lines 3.16 (not 3.15 rounded once)
    ani = customer("2026-01-01")
    rate("USD", "2026-01-01", "1.5")
    deal = won(ani, currency="USD", amount="2.10", closed="2026-01-10")
    tablet = ProductFactory(name="Tablet")
    for _ in range(2):
        DealItemFactory(
            deal=deal, product=tablet, quantity=Decimal("3"), unit_price=Decimal("0.35")
        )
    # when
    rebuild()
    # then
    [row] = top_products(period=period("2026-01-01", "2026-01-31"), order="revenue")
    assert (row.won_deals, row.quantity, row.revenue) == (1, Decimal("6.00"), Decimal("3.16"))
    assert cents(deal) == 315  # the deal's own amount: 2.10 × 1.5 = 3.15


def test_base_currency_line_items_stay_exact():
    ani = customer("2026-01-01")
    deal = won(ani, currency="idr", amount="0.01", closed="2026-01-10")
    DealItemFactory(deal=deal, quantity=Decimal("0.5"), unit_price=Decimal("0.01"))
    rebuild()
    stored = DailySum.objects.get(metric=keys.PRODUCT_SALES)
    assert stored.amount == 50  # 0.005 in 1/10000, not rounded


def test_an_open_deal_takes_the_rate_of_the_rebuild_day():
    # given: an open deal and a rate that comes into force tomorrow
    ani = customer("2026-01-01")
    rate("USD", "2026-01-01", "2")
    rate("USD", "2026-03-02", "3")
    deal = DealFactory(
        contact=ani, stage=stage("open"), currency="usd", amount=Decimal("10.00"),
        created_at=at("2026-01-05"),
    )  # fmt: skip
    # when: rebuilt on 1 March, then (incrementally, nothing edited) on 2 March
    with patch("insights.engine.db.local_today", return_value=date(2026, 3, 1)):
        insights_rebuild(trigger="test", full=True)
    first = cents(deal)
    with (
        patch("insights.engine.db.local_today", return_value=date(2026, 3, 2)),
        patch("insights.rebuild.local_today", return_value=date(2026, 3, 2)),
    ):
        run = insights_rebuild(trigger="test")
    # then
    assert first == 2000
    assert run.status == RebuildRun.Status.SUCCEEDED and run.rows["incremental"] == 1, run.rows
    assert cents(deal) == 3000


def test_a_rate_change_recomputes_its_deals_incrementally():
    # given
    ani = customer("2026-01-01")
    rate("USD", "2026-01-01", "2")
    deal = won(ani, currency="USD", amount="10.00", closed="2026-01-10")
    euro = won(ani, currency="EUR", amount="5.00", closed="2026-01-10")
    insights_rebuild(trigger="test", full=True)
    assert (cents(deal), cents(euro)) == (2000, None)
    # when: a rate changed by SQL, a new currency's rate added
    ExchangeRate.objects.filter(currency="USD").update(rate=Decimal("2.5"))
    rate("EUR", "2026-01-10", "4")
    run = insights_rebuild(trigger="test")
    # then
    assert run.rows["incremental"] == 1, run.rows
    assert (cents(deal), cents(euro)) == (2500, 2000)
    assert CustomerStats.objects.get(customer=ani.customer).lifetime_revenue == Decimal("45.00")
    # and deleting the rate takes the deals out again
    ExchangeRate.objects.filter(currency="EUR").delete()
    insights_rebuild(trigger="test")
    assert cents(euro) is None


def test_converted_rounds_half_away_from_zero():
    assert converted(Decimal("0.01"), Decimal("0.5")) == Decimal("0.01")
    assert converted(Decimal("-0.01"), Decimal("0.5")) == Decimal("-0.01")
    assert converted(Decimal("0.01"), Decimal("0.4999999999")) == Decimal("0.00")


@pytest.mark.parametrize(
    ("code", "valid"),
    [("USD", True), ("usd", True), (" sgd ", True), ("US", False), ("USDT", False),
     ("U$D", False), ("", False), ("ÄBC", False)],
)  # fmt: skip
def test_currency_codes_have_the_iso_4217_shape(code, valid):
    assert currency_code_valid(code) is valid
