"""Lifecycle, retention and comparison rollup answers equal a direct reading of METRICS.md."""

import random
from collections import defaultdict
from datetime import date, timedelta
from unittest import mock

import pytest

from insights import lifecycle, queries
from insights.comparison import previous_period
from insights.periods import Period, buckets
from tests.insights.test_random import Direct, build_random_data, random_periods, ratio

pytestmark = pytest.mark.django_db


class DirectLifecycle:
    """METRICS.md G and H from the raw deals, in plain Python."""

    def __init__(self, direct: Direct, today: date) -> None:
        self.today = today
        days = defaultdict(set)
        for d in direct.deals:
            if d["status"] == "won" and d["customer"] is not None:
                days[d["customer"]].add(d["close"])
        self.days = {c: sorted(ds) for c, ds in days.items()}
        self.first_seen = {pk: c.first_seen_date for pk, c in direct.customers.items()}
        self.activity = defaultdict(set)
        for d in direct.deals:
            if d["customer"] is not None:
                self.activity[d["customer"]].add(d["created"])
        for customer, day in direct.rooms:
            if customer is not None:
                self.activity[customer].add(day)

    def lost_days(self, customer: int, w: int) -> list[date]:
        ds = self.days[customer]
        result = []
        for n, d in enumerate(ds):
            following = ds[n + 1] if n + 1 < len(ds) else None
            if following is None or (following - d).days > w:
                if d + timedelta(days=w) <= self.today:
                    result.append(d + timedelta(days=w))
        return result

    def active(self, customer: int, day: date, w: int) -> bool:
        return any(day - timedelta(days=w - 1) <= d <= day for d in self.days[customer])

    def bucket(self, p: Period, w: int) -> tuple[int, int, int]:
        new = returning = lost = 0
        for c, ds in self.days.items():
            bought = any(p.contains(d) for d in ds)
            new += p.contains(ds[0])
            returning += bought and ds[0] < p.start
            lost += any(p.contains(d) for d in self.lost_days(c, w))
        return new, returning, lost

    def lifecycle(self, p: Period, w: int, granularity: str):
        before = p.start - timedelta(days=1)
        active = [c for c in self.days if self.active(c, before, w)]
        churned = sum(1 for c in active if any(p.contains(d) for d in self.lost_days(c, w)))
        return (
            *self.bucket(p, w), len(active), churned,
            ratio(churned, len(active), 100), ratio(len(active) - churned, len(active), 100),
            [(b.start, b.end, *self.bucket(b, w)) for b in buckets(p, granularity)],
        )  # fmt: skip

    def retention(self, p: Period, event: str):
        def month(d: date) -> int:
            return d.year * 12 + d.month - 1

        if event == "purchase":
            cohort = {c: month(ds[0]) for c, ds in self.days.items()}
            events = {c: {month(d) for d in ds} for c, ds in self.days.items()}
        else:
            cohort = {c: month(d) for c, d in self.first_seen.items()}
            events = {c: {month(d) for d in self.activity[c]} for c in self.first_seen}
        rows = []
        for m in range(month(p.start), month(p.end) + 1):
            members = [c for c, cm in cohort.items() if cm == m]
            offsets = range(0, min(12, month(self.today) - m) + 1)
            retained = [sum(1 for c in members if m + k in events[c]) for k in offsets]
            rows.append(
                (
                    f"{m // 12:04d}-{m % 12 + 1:02d}",
                    len(members),
                    retained,
                    [ratio(n, len(members), 100) for n in retained],
                )
            )
        return rows


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_lifecycle_and_retention_equal_a_direct_computation(seed):
    # given: data from 20 Dec 2025 for 80 days; "today" inside it or after it
    rng = random.Random(seed)
    build_random_data(rng)
    from tests.insights.build import rebuild

    assert rebuild().status == "succeeded"
    direct = Direct()

    for today in (date(2026, 2, 10), date(2026, 6, 1)):
        expected = DirectLifecycle(direct, today)
        with mock.patch("insights.periods.local_today", return_value=today):
            for p in random_periods(rng):
                w = rng.choice([1, 2, 5, 10, 30, 90, 730])
                granularity = rng.choice(["day", "week", "month"])
                # when
                result = lifecycle.buyer_lifecycle(period=p, granularity=granularity, lost_after=w)
                # then
                assert (
                    result.new_buyers, result.returning_buyers, result.lost_buyers,
                    result.active_buyers_start, result.churned_buyers, result.buyer_churn_pct,
                    result.buyer_retention_pct,
                    [(b.start, b.end, b.new_buyers, b.returning_buyers, b.lost_buyers)
                     for b in result.trend],
                ) == expected.lifecycle(p, w, granularity), (p, w)  # fmt: skip
                for event in ("purchase", "activity"):
                    cohorts = lifecycle.cohort_retention(period=p, event=event).cohorts
                    assert [
                        (c.cohort, c.size, c.retained, c.pct) for c in cohorts
                    ] == expected.retention(p, event), (p, event)
                for state, position in (("new", 0), ("returning", 1), ("lost", 2)):
                    ids = lifecycle.lifecycle_customer_ids(period=p, state=state, lost_after=w)
                    assert len(ids) == expected.bucket(p, w)[position], (p, w, state)


@pytest.mark.parametrize("seed", [7])
def test_previous_period_figures_equal_the_figures_of_the_period_before(seed):
    # given
    rng = random.Random(seed)
    build_random_data(rng)
    from tests.insights.build import rebuild

    assert rebuild().status == "succeeded"
    direct = Direct()

    for p in random_periods(rng):
        before = previous_period(p)
        # then: P' is the same length, just before P
        assert before.days == p.days and before.end == p.start - timedelta(days=1)
        revenue = queries.revenue_kpis(period=before)
        assert (
            revenue.revenue, revenue.paying_customers, revenue.avg_revenue_per_customer,
            revenue.top_20pct_revenue_share, revenue.avg_lifetime_value,
            revenue.one_time_customers, revenue.repeat_customers,
        ) == direct.revenue(before), before  # fmt: skip


@pytest.mark.parametrize("seed", [8, 9])
def test_revenue_putler_figures_equal_a_direct_computation(seed):
    # given
    rng = random.Random(seed)
    build_random_data(rng)
    from tests.insights.build import rebuild

    assert rebuild().status == "succeeded"
    direct = Direct()

    for p in random_periods(rng):
        # when
        result = queries.revenue_kpis(period=p)
        # then
        closed = [d for d in direct.deals if d["customer"] is not None and p.contains(d["close"])]
        won = [d for d in closed if d["status"] == "won"]
        lost = [d for d in closed if d["status"] == "lost"]
        revenue = sum(d["amount"] for d in won)
        new = sum(1 for c in direct.customers.values() if p.contains(c.first_seen_date))
        assert (
            result.won_deals, result.avg_order_value, result.win_rate_pct,
            result.revenue_per_day, result.new_customers_per_day, result.hours_per_new_customer,
        ) == (
            len(won), ratio(revenue, len(won)), ratio(len(won), len(won) + len(lost), 100),
            ratio(revenue, p.days), ratio(new, p.days), ratio(24 * p.days, new),
        ), p  # fmt: skip
