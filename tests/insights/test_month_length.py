"""M(P) is fractional and the per-day figures use the elapsed days (METRICS.md 1 and K), pinned
by hand-computed cases."""

from datetime import date, timedelta
from fractions import Fraction

import pytest
from django.utils import timezone

from insights import queries
from insights.api.customer360 import months_text
from insights.periods import Period
from tests.insights.build import customer, deal, rebuild

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("start", "end", "exact", "text"),
    [
        (date(2026, 1, 1), date(2026, 3, 31), Fraction(3), "3.0000"),
        (date(2026, 2, 1), date(2026, 2, 28), Fraction(1), "1.0000"),
        (date(2026, 11, 6), date(2026, 12, 5), Fraction(25, 30) + Fraction(5, 31), "0.9946"),
        # 30 days touching two months are about one month, not two
        (date(2026, 10, 20), date(2026, 11, 18), Fraction(12, 31) + Fraction(18, 30), "0.9871"),
        (date(2024, 2, 29), date(2024, 2, 29), Fraction(1, 29), "0.0345"),
    ],
)
def test_month_length_is_the_sum_of_each_months_share(start, end, exact, text):
    period = Period(start, end)
    assert period.month_length == exact
    assert months_text(period) == text


def test_elapsed_days():
    today = date(2026, 12, 6)
    assert Period(date(2026, 12, 1), date(2026, 12, 31)).elapsed_days(today) == 6
    assert Period(date(2026, 11, 1), date(2026, 11, 30)).elapsed_days(today) == 30
    assert Period(date(2026, 12, 6), date(2026, 12, 6)).elapsed_days(today) == 1
    assert Period(date(2026, 12, 7), date(2026, 12, 31)).elapsed_days(today) == 0


def test_per_day_figures_of_a_period_not_ended_use_its_elapsed_days():
    # given: 300.00 won and one new customer, 2 days ago, in a period of 10 days (5 to come)
    today = timezone.localdate()
    buyer = customer((today - timedelta(days=2)).isoformat())
    day = (today - timedelta(days=2)).isoformat()
    deal(buyer, created=day, closed=day, outcome="won", amount="300")
    rebuild()
    period = Period(today - timedelta(days=4), today + timedelta(days=5))
    # when
    kpis = queries.revenue_kpis(period=period)
    # then: 5 days have happened (today included), not 10
    assert kpis.revenue == queries.Decimal("300.00")
    assert kpis.revenue_per_day == queries.Decimal("60.00")
    assert kpis.new_customers_per_day == queries.Decimal("0.20")
    assert kpis.hours_per_new_customer == queries.Decimal("120.00")


def test_per_day_figures_of_a_period_that_starts_after_today_are_zero():
    today = timezone.localdate()
    kpis = queries.revenue_kpis(period=Period(today + timedelta(days=1), today + timedelta(days=7)))
    assert (kpis.revenue_per_day, kpis.new_customers_per_day, kpis.hours_per_new_customer) == (
        queries.Decimal("0.00"), queries.Decimal("0.00"), queries.Decimal("0.00"))  # fmt: skip
