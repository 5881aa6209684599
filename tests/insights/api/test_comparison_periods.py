"""What a period is compared with (METRICS.md 4, Comparison, as changed this round): P′ for a
period that has ended, P″ (like for like) for one that has not, nothing for a future one."""

from datetime import date
from unittest import mock

import pytest

from insights.comparison import comparison_period
from insights.periods import Period
from tests.insights.build import customer, rebuild

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)


def test_the_compared_period_by_how_much_of_p_has_happened():
    march = Period(date(2026, 3, 1), date(2026, 3, 31))
    # not ended: the first A − start + 1 = 10 days of P′ = [29 Jan, 28 Feb]
    assert comparison_period(march, TODAY) == Period(date(2026, 1, 29), date(2026, 2, 7))
    # ended: P′
    assert comparison_period(march, date(2026, 4, 1)) == Period(
        date(2026, 1, 29), date(2026, 2, 28)
    )
    # ends today: ended (A = end)
    assert comparison_period(march, date(2026, 3, 31)).end == date(2026, 2, 28)
    # starts after today: nothing to compare with
    assert comparison_period(march, date(2026, 2, 28)) is None


def test_a_period_not_ended_is_compared_like_for_like(api):
    # given: new customers on 1 Feb (in P″ = 29 Jan–7 Feb) and 20 Feb (in P′ only), 5 Mar (P)
    for day in ("2026-02-01", "2026-02-20", "2026-03-05"):
        customer(day)
    rebuild()

    # when: March, on 10 March
    with mock.patch("insights.periods.local_today", return_value=TODAY):
        body = api.get("/api/v1/insights/growth/", {"preset": "this_month"}).json()

    # then: 1 new customer before, as in P″ (not 2, as in the whole P′)
    assert body["new_customers"] == 1
    assert body["previous"]["new_customers"] == 1
    assert body["change_pct"]["new_customers"] == "0.00"


def test_a_period_that_starts_after_today_has_every_comparison_null(api):
    customer("2026-03-05")
    rebuild()
    with mock.patch("insights.periods.local_today", return_value=TODAY):
        for path in ("growth", "sales", "revenue", "lifecycle", "service"):
            body = api.get(f"/api/v1/insights/{path}/", {"preset": "next_month"}).json()
            assert set(body["previous"].values()) == {None}, path
            assert set(body["change_pct"].values()) == {None}, path
