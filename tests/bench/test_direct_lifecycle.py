"""The direct-SQL baselines of the lifecycle, retention and RFM figures agree with the API."""

from datetime import date, timedelta

import pytest
from django.db import connection

from bench import direct_sql
from insights import lifecycle, queries
from insights.periods import Period, local_today
from tests.insights.build import customer, deal, rebuild

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the baselines are PostgreSQL SQL")
def test_baselines_agree_with_the_rollups():
    # given: buyers around today, so lost days fall before and after it
    today = local_today()
    days = [today - timedelta(days=n) for n in (200, 150, 100, 95, 40, 30, 3, 0)]
    for n, pattern in enumerate(([0, 2, 5], [1, 3], [4, 6, 7], [7], [2])):
        c = customer((days[0] - timedelta(days=10 + n)).isoformat())
        for index in pattern:
            day = days[index].isoformat()
            deal(c, created=day, closed=day, outcome="won", amount=f"{10 * (n + 1)}.00")
    rebuild()
    periods = [
        Period(today - timedelta(days=120), today - timedelta(days=11)),
        Period(today - timedelta(days=29), today),
        Period(date(today.year, today.month, 1), today + timedelta(days=20)),
    ]

    for period in periods:
        # when
        figures = lifecycle.buyer_lifecycle(period=period)
        cohorts = lifecycle.cohort_retention(period=period)
        segments = queries.rfm_groups(period=period)

        # then
        assert direct_sql.lifecycle(period) == {
            "new_buyers": figures.new_buyers,
            "returning_buyers": figures.returning_buyers,
            "lost_buyers": figures.lost_buyers,
            "active_buyers_start": figures.active_buyers_start,
            "churned_buyers": figures.churned_buyers,
        }, period
        assert direct_sql.retention(period) == {
            "cohorts": {c.cohort: [c.size, *c.retained] for c in cohorts.cohorts}
        }, period
        assert direct_sql.rfm(period) == {
            "segments": {s.segment: s.customers for s in segments if s.customers}
        }, period
