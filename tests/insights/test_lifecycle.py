"""Buyer lifecycle (METRICS.md G) and retention by cohort (H), pinned by hand-computed cases."""

from datetime import date
from decimal import Decimal
from unittest import mock

import pytest

from insights import lifecycle
from insights.lifecycle import Cohort, LifecycleBucket, chain_rows
from insights.models import LapseChain, RetentionCell
from tests.insights.build import customer, deal, period, rebuild, room

pytestmark = pytest.mark.django_db
D = Decimal


def today_is(day: str):
    return mock.patch("insights.periods.local_today", return_value=date.fromisoformat(day))


def buys(contact, *days: str) -> None:
    for day in days:
        deal(contact, created=day, closed=day, outcome="won")


# --- the chain encoding, without a database -------------------------------------------------


def _lost_days_direct(days: list[int], w: int) -> list[int]:
    return [d + w for d, n in zip(days, [*days[1:], None], strict=True) if n is None or n - d > w]


def _lost_days_from_chains(days: list[int], w: int) -> list[int]:
    return sorted(end + w for _p, _s, end, lo, hi in chain_rows(days) if lo <= w < hi)


@pytest.mark.django_db(False)
def test_chain_rows_give_every_lost_day_once_for_every_window():
    # given: gaps 4, 25, 10, 3, 800 (longer than any window), then the last day
    days = [1, 5, 30, 40, 43, 843]

    for w in (1, 3, 4, 9, 10, 11, 24, 25, 26, 730):
        # then
        assert _lost_days_from_chains(days, w) == _lost_days_direct(days, w), w


@pytest.mark.django_db(False)
def test_chain_rows_name_the_chain_start_and_the_buying_day_before_it():
    # given: gaps 4, 25 -> for W in [4, 25) the chains are {1, 5} and {30}
    rows = set(chain_rows([1, 5, 30]))

    # then
    assert (0, 1, 5, 4, 25) in rows  # chain 1..5, no day before it
    assert (5, 30, 30, 0, 25) in rows  # chain 30 after 5, for W < 25
    assert (0, 1, 30, 25, 731) in rows  # from W = 25 on, one chain 1..30
    assert (0, 1, 1, 0, 4) in rows  # W < 4: day 1 alone


def test_rebuild_writes_the_whole_lapse_and_retention_tables():
    # given: one customer buying 1 and 5 January 2026 (gap 4), first seen 1 January
    c = customer("2026-01-01")
    buys(c, "2026-01-01", "2026-01-05")
    deal(c, created="2026-01-03", closed="2026-01-04", outcome="lost")
    rebuild()
    jan1, jan5 = date(2026, 1, 1).toordinal(), date(2026, 1, 5).toordinal()
    january = 2026 * 12

    # then: W < 4: chains {1} and {5}; W >= 4: one chain {1, 5}
    assert sorted(
        LapseChain.objects.values_list("prev", "first_day", "last_day", "lo", "hi", "customers")
    ) == sorted([(0, jan1, jan1, 0, 4, 1), (jan1, jan5, jan5, 0, 4, 1), (0, jan1, jan5, 4, 731, 1)])
    assert sorted(
        RetentionCell.objects.values_list("event", "cohort", "months_after", "customers")
    ) == [
        ("activity", january, -1, 1), ("activity", january, 0, 1),
        ("purchase", january, -1, 1), ("purchase", january, 0, 1),
    ]  # fmt: skip


# --- G. Buyer lifecycle ----------------------------------------------------------------------


@pytest.fixture
def five_buyers():
    """W = 10, today 1 March 2026, P = January - March 2026 (see the test for the story)."""
    x = customer("2025-12-01")
    buys(x, "2026-01-01", "2026-01-05", "2026-01-30", "2026-02-09")  # lost 15 Jan, 19 Feb
    y = customer("2025-12-01")
    buys(y, "2025-12-25")  # active on 31 Dec, lost 4 Jan
    z = customer("2025-12-01")
    buys(z, "2025-12-28", "2026-01-06", "2026-01-16", "2026-02-26")  # lost 26 Jan, 8 Mar
    v = customer("2025-12-01")
    buys(v, "2026-02-03", "2026-02-20")  # first and repeat in Feb; lost 13 Feb, 2 Mar
    s = customer("2025-12-01")
    buys(s, "2025-12-30", "2026-01-09", "2026-01-19", "2026-01-29", "2026-02-08")
    buys(s, "2026-02-18", "2026-02-28")  # exactly 10 days apart: never lost until 10 Mar
    u = customer("2025-12-01")
    buys(u, "2026-04-10")  # a buying day after today
    deal(u, created="2026-01-10", closed="2026-01-10", outcome="lost")  # not a buying day
    rebuild()
    return {"x": x, "y": y, "z": z, "v": v, "s": s, "u": u}


def test_lifecycle_buckets_and_period_by_hand(five_buyers):
    # when
    with today_is("2026-03-01"):
        result = lifecycle.buyer_lifecycle(
            period=period("2026-01-01", "2026-03-31"), granularity="month", lost_after=10
        )

    # then: Jan: new X; returning Z, S; lost X (15th), Y (4th), Z (26th).
    # Feb: new V (its repeat on the 20th is in the same bucket); returning X, Z, S; lost X (19th),
    # V (13th). Mar: lost days 2 Mar (V), 8 Mar (Z), 10 Mar (S) are after today: none count.
    assert result.trend == [
        LifecycleBucket(date(2026, 1, 1), date(2026, 1, 31), 1, 2, 3),
        LifecycleBucket(date(2026, 2, 1), date(2026, 2, 28), 1, 3, 2),
        LifecycleBucket(date(2026, 3, 1), date(2026, 3, 31), 0, 0, 0),
    ]
    # P: X lost twice counts once; active on 31 Dec: Y, Z, S; churned Y, Z (S lasts past today)
    assert (result.new_buyers, result.returning_buyers, result.lost_buyers) == (2, 2, 4)
    assert (result.active_buyers_start, result.churned_buyers) == (3, 2)
    assert (result.buyer_churn_pct, result.buyer_retention_pct) == (D("66.67"), D("33.33"))
    assert result.lost_after == 10


def test_lifecycle_a_lost_day_after_today_counts_once_it_has_happened(five_buyers):
    # given: the same period, seen on 15 March: V (2 Mar), Z (8 Mar), S (10 Mar) are now lost
    with today_is("2026-03-15"):
        # when
        result = lifecycle.buyer_lifecycle(
            period=period("2026-03-01", "2026-03-31"), granularity="month", lost_after=10
        )

    # then: active on 28 Feb (buying day 19-28 Feb): Z, V, S; all three lost in March
    assert result.trend == [LifecycleBucket(date(2026, 3, 1), date(2026, 3, 31), 0, 0, 3)]
    assert (result.lost_buyers, result.active_buyers_start, result.churned_buyers) == (3, 3, 3)


def test_lifecycle_with_the_default_window_and_a_comparison_of_zero(five_buyers):
    # when: W = 90 over January; nobody is lost before 25 March
    with today_is("2026-06-30"):
        result = lifecycle.buyer_lifecycle(period=period("2026-01-01", "2026-01-31"))

    # then: active on 31 Dec: Y, Z, S; the first lost day is Y's, 25 Mar
    assert (result.new_buyers, result.returning_buyers, result.lost_buyers) == (1, 2, 0)
    assert (result.active_buyers_start, result.churned_buyers) == (3, 0)
    assert (result.buyer_churn_pct, result.buyer_retention_pct) == (D("0.00"), D("100.00"))


def test_lifecycle_lost_after_one_day():
    # given: buying days 1, 2 and 4 January: with W = 1 lost on 3 and 5 January
    c = customer("2025-12-01")
    buys(c, "2026-01-01", "2026-01-02", "2026-01-04")
    rebuild()

    # when
    with today_is("2026-02-01"):
        result = lifecycle.buyer_lifecycle(
            period=period("2026-01-01", "2026-01-06"), granularity="day", lost_after=1
        )

    # then
    assert [(b.new_buyers, b.returning_buyers, b.lost_buyers) for b in result.trend] == [
        (1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 1, 0), (0, 0, 1), (0, 0, 0),
    ]  # fmt: skip
    assert (result.new_buyers, result.returning_buyers, result.lost_buyers) == (1, 0, 1)
    assert (result.active_buyers_start, result.churned_buyers) == (0, 0)
    assert LapseChain.objects.count() > 0


def test_lifecycle_rejects_a_window_out_of_range():
    with pytest.raises(ValueError, match="lost_after"):
        lifecycle.buyer_lifecycle(period=period("2026-01-01", "2026-01-31"), lost_after=0)
    with pytest.raises(ValueError, match="lost_after"):
        lifecycle.buyer_lifecycle(period=period("2026-01-01", "2026-01-31"), lost_after=731)


def test_lifecycle_drill_downs_list_as_many_customers_as_the_figures(five_buyers):
    # given
    ids = {name: c.customer_id for name, c in five_buyers.items()}
    january, february = period("2026-01-01", "2026-01-31"), period("2026-02-01", "2026-02-28")

    # when
    with today_is("2026-03-01"):

        def listed(p, state):
            return lifecycle.lifecycle_customer_ids(period=p, state=state, lost_after=10)

        # then
        assert listed(january, "new") == [ids["x"]]
        assert listed(january, "returning") == sorted([ids["z"], ids["s"]])
        assert listed(january, "lost") == sorted([ids["x"], ids["y"], ids["z"]])
        assert listed(february, "new") == [ids["v"]]
        assert listed(february, "returning") == sorted([ids["x"], ids["z"], ids["s"]])
        assert listed(february, "lost") == sorted([ids["x"], ids["v"]])
        assert listed(period("2026-03-01", "2026-03-31"), "lost") == []
        assert listed(period("2026-01-01", "2026-03-31"), "lost") == sorted(
            [ids["x"], ids["y"], ids["z"], ids["v"]]
        )
    with pytest.raises(ValueError, match="state"):
        lifecycle.lifecycle_customer_ids(period=january, state="gone")


def test_lifecycle_state_today(five_buyers):
    # given: today 1 March, W = 10: active = a buying day in 20 Feb - 1 Mar
    ids = {name: c.customer_id for name, c in five_buyers.items()}

    # when
    with today_is("2026-03-01"):
        active = lifecycle.lifecycle_state_customer_ids(state="active", lost_after=10)
        lost = lifecycle.lifecycle_state_customer_ids(state="lost", lost_after=10)

    # then: Z (26 Feb), V (20 Feb), S (28 Feb) active; X (9 Feb), Y (25 Dec) lost; U only
    # buys after today, so it is neither
    assert active == sorted([ids["z"], ids["v"], ids["s"]])
    assert lost == sorted([ids["x"], ids["y"]])


# --- H. Retention by cohort ------------------------------------------------------------------


@pytest.fixture
def cohorts():
    a = customer("2025-11-20")
    buys(a, "2025-11-20", "2025-12-05", "2026-02-01")
    b = customer("2025-12-01")
    buys(b, "2025-12-31", "2026-01-02")
    c = customer("2025-10-01")
    buys(c, "2025-10-05", "2025-11-03")
    d = customer("2026-01-10")
    buys(d, "2026-01-15")
    room(d, created="2026-02-03")
    e = customer("2025-12-15")  # never active
    rebuild()
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def test_retention_by_purchase_across_a_year_boundary(cohorts):
    # when: today 15 Feb 2026; March has not begun
    with today_is("2026-02-15"):
        result = lifecycle.cohort_retention(period=period("2025-11-10", "2026-03-05"))

    # then: whole months, even where P cuts them; C's cohort (October) is not a month of P
    assert result.event == "purchase"
    assert result.cohorts == [
        Cohort("2025-11", 1, [1, 1, 0, 1], [D("100.00"), D("100.00"), D("0.00"), D("100.00")]),
        Cohort("2025-12", 1, [1, 1, 0], [D("100.00"), D("100.00"), D("0.00")]),
        Cohort("2026-01", 1, [1, 0], [D("100.00"), D("0.00")]),
        Cohort("2026-02", 0, [0], [D("0.00")]),
        Cohort("2026-03", 0, [], []),
    ]


def test_retention_by_activity_counts_rooms_and_deals_created(cohorts):
    # when
    with today_is("2026-02-15"):
        result = lifecycle.cohort_retention(
            period=period("2025-12-01", "2026-01-31"), event="activity"
        )

    # then: December first seen: B and E (never active); January: D (deal Jan, room Feb)
    assert result.cohorts == [
        Cohort("2025-12", 2, [1, 1, 0], [D("50.00"), D("50.00"), D("0.00")]),
        Cohort("2026-01", 1, [1, 1], [D("100.00"), D("100.00")]),
    ]


def test_retention_offsets_stop_at_twelve_months():
    # given: bought January 2025 and January 2026 (offset 12) and February 2026 (13)
    c = customer("2025-01-01")
    buys(c, "2025-01-10", "2026-01-10", "2026-02-10")
    rebuild()

    # when
    with today_is("2026-06-01"):
        result = lifecycle.cohort_retention(period=period("2025-01-01", "2025-01-31"))

    # then
    assert result.cohorts[0].retained == [1] + [0] * 11 + [1]


def test_retention_drill_down_lists_the_retained_customers(cohorts):
    ids = {name: c.customer_id for name, c in cohorts.items()}

    # then
    assert lifecycle.cohort_customer_ids(cohort="2025-11", offset=3) == [ids["a"]]
    assert lifecycle.cohort_customer_ids(cohort="2025-11", offset=2) == []
    assert lifecycle.cohort_customer_ids(cohort="2025-12", offset=1) == [ids["b"]]
    assert lifecycle.cohort_customer_ids(cohort="2026-01", offset=1, event="activity") == [ids["d"]]
    assert lifecycle.cohort_customer_ids(cohort="2025-12", offset=0, event="activity") == [ids["b"]]
    with pytest.raises(ValueError, match="offset"):
        lifecycle.cohort_customer_ids(cohort="2025-12", offset=13)
    with pytest.raises(ValueError, match="YYYY-MM"):
        lifecycle.cohort_customer_ids(cohort="2025-13", offset=0)
