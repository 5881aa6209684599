"""Each figure of METRICS.md section 4 pinned by small hand-computed cases."""

from datetime import UTC, date, datetime
from decimal import Decimal
from unittest import mock

import pytest

from deals.models import LostReason
from insights import queries
from insights.queries import (
    AssociationBucket,
    GrowthBucket,
    LabelCount,
    LostReasonRow,
    ProductRow,
    RfmGroupRow,
)
from tests.factories import CompanyFactory, DealFactory, DealItemFactory, ProductFactory
from tests.insights.build import customer, deal, period, rebuild, room, stage

pytestmark = pytest.mark.django_db
D = Decimal


def test_growth_partial_months_weeks_and_monthly_averages():
    # given: first seen 5 Jan, 20 Jan, 10 Feb and 2 Mar (after the period)
    a = customer("2026-01-05")
    b = customer("2026-01-20")
    customer("2026-02-10")
    customer("2026-03-02")
    room(a, created="2026-01-16")
    deal(b, created="2026-02-01")
    rebuild()

    # when: 15 Jan - 14 Feb (two partial months) by ISO week
    growth = queries.growth_overview(period=period("2026-01-15", "2026-02-14"), granularity="week")

    # then: months Jan 15-31 (B inactive) and Feb 1-14 (A, C inactive): mean 1.5;
    # M(P) = 17/31 + 14/28 = 65/62, so 2 new customers are 124/65 = 1.9077 a month
    assert (growth.total_customers, growth.new_customers, growth.inactive_customers) == (3, 2, 1)
    assert growth.monthly_avg_new_customers == D("1.91")
    assert growth.monthly_avg_inactive_customers == D("1.50")
    assert growth.trend == [
        GrowthBucket(date(2026, 1, 15), date(2026, 1, 18), 1, 0, 0),
        GrowthBucket(date(2026, 1, 19), date(2026, 1, 25), 2, 1, 2),
        GrowthBucket(date(2026, 1, 26), date(2026, 2, 1), 2, 0, 1),
        GrowthBucket(date(2026, 2, 2), date(2026, 2, 8), 2, 0, 2),
        GrowthBucket(date(2026, 2, 9), date(2026, 2, 14), 3, 1, 3),
    ]


def test_growth_iso_weeks_across_the_year_boundary():
    # given
    for day in ("2025-12-27", "2025-12-31", "2026-01-02", "2026-01-06"):
        customer(day)
    rebuild()

    # when: Thu 25 Dec 2025 - Tue 6 Jan 2026
    growth = queries.growth_overview(period=period("2025-12-25", "2026-01-06"), granularity="week")

    # then: the week of Mon 29 Dec runs to Sun 4 Jan; two months
    assert [(b.start, b.end, b.total, b.new) for b in growth.trend] == [
        (date(2025, 12, 25), date(2025, 12, 28), 1, 1),
        (date(2025, 12, 29), date(2026, 1, 4), 3, 2),
        (date(2026, 1, 5), date(2026, 1, 6), 4, 1),
    ]
    # M(P) = 7/31 + 6/31 = 13/31 (not 2 months): 4 new customers are 124/13 = 9.54 a month
    assert growth.monthly_avg_new_customers == D("9.54")


def test_future_period_everyone_inactive_and_zero_denominators():
    # given
    a = customer("2026-01-05")
    deal(a, created="2026-01-06", closed="2026-01-07", outcome="won")
    rebuild()
    future = period("2027-01-01", "2027-01-31")

    # when
    growth = queries.growth_overview(period=future)
    sales = queries.sales_lifecycle(period=future)
    revenue = queries.revenue_kpis(period=future)

    # then
    assert (growth.total_customers, growth.new_customers, growth.inactive_customers) == (1, 0, 1)
    assert (sales.customers_with_deals, sales.deal_association_pct) == (0, D("0.00"))
    assert (sales.won_customers_pct, sales.avg_deal_size_per_customer) == (D("0.00"), D("0.00"))
    assert revenue.revenue == D("0.00") and revenue.paying_customers == 0
    assert revenue.avg_revenue_per_customer == D("0.00")
    assert revenue.top_20pct_revenue_share == D("0.00")
    assert revenue.avg_lifetime_value == D("100.00")  # 100 won in Jan 2026, 1 customer


def test_jakarta_midnight_edge_belongs_to_the_next_month():
    # given: 23:30 UTC on 31 Jan is 06:30 on 1 Feb in Jakarta; 16:59 UTC is 23:59 on 31 Jan
    a = customer("2026-01-05")
    late = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    DealFactory(contact=a, stage=stage("won"), amount=D("70.00"), created_at=late)
    b = customer("2026-01-05")
    DealFactory(
        contact=b, stage=stage("won"), amount=D("5.00"),
        created_at=datetime(2026, 1, 31, 16, 59, tzinfo=UTC),
    )  # fmt: skip
    rebuild()

    # when
    january = queries.revenue_kpis(period=period("2026-01-01", "2026-01-31"))
    february = queries.revenue_kpis(period=period("2026-02-01", "2026-02-28"))
    sales_feb = queries.sales_lifecycle(period=period("2026-02-01", "2026-02-28"))

    # then
    assert (january.revenue, january.paying_customers) == (D("5.00"), 1)
    assert (february.revenue, february.paying_customers) == (D("70.00"), 1)
    assert sales_feb.customers_with_deals == 1


def test_chat_room_at_utc_late_evening_is_activity_of_the_next_local_day():
    # given
    a = customer("2026-01-05")
    room(a, created="2026-02-01 06:30")  # = 2026-01-31 23:30 UTC
    rebuild()

    # when / then
    jan = queries.growth_overview(period=period("2026-01-01", "2026-01-31"))
    feb = queries.growth_overview(period=period("2026-02-01", "2026-02-28"))
    assert (jan.inactive_customers, feb.inactive_customers) == (1, 0)


def test_sales_lifecycle_base_won_by_probability_lost_stage_and_deals_without_contact():
    # given
    a = customer("2026-01-05")
    b = customer("2026-01-10")
    c = customer("2026-02-20")  # first seen after the period: not in Base
    d = customer("2026-01-28")
    deal(a, created="2026-01-12", amount="200.00")
    # won by its own probability 100 in an open stage, closing after the period
    deal(a, created="2026-01-15", closed="2026-02-05", amount="300.00", probability=100)
    # a lost stage with probability 100 is lost
    deal(
        b,
        created="2026-01-20",
        closed="2026-01-21",
        outcome="lost",
        amount="50.00",
        probability=100,
    )
    deal(c, created="2026-01-25", amount="40.00")
    deal(None, created="2026-01-18", amount="999.00")
    deal(d, created="2026-01-03", amount="100.00")  # created before its customer was first seen
    rebuild()

    # when
    sales = queries.sales_lifecycle(period=period("2026-01-01", "2026-01-31"))
    early = queries.sales_lifecycle(period=period("2026-01-01", "2026-01-10"))

    # then
    assert (sales.total_customers, sales.customers_with_deals) == (3, 3)
    assert sales.deal_association_pct == D("100.00")
    assert (sales.customers_with_won_deals, sales.won_customers_pct) == (1, D("33.33"))
    assert sales.total_deal_size == D("650.00")
    assert sales.avg_deal_size_per_customer == D("216.67")
    assert sales.association_trend[2] == AssociationBucket(
        date(2026, 1, 3), date(2026, 1, 3), 0, 0, D("0.00")
    )
    assert sales.association_trend[11] == AssociationBucket(
        date(2026, 1, 12), date(2026, 1, 12), 1, 2, D("50.00")
    )
    # D (first seen 28 Jan) is outside Base(1-10 Jan), so its 3 Jan deal is too
    assert (early.total_customers, early.customers_with_deals) == (2, 0)
    assert (early.total_deal_size, early.avg_deal_size_per_customer) == (D("0.00"), D("0.00"))


def test_demographics_sorted_by_count_then_code_point_label():
    # given
    co = CompanyFactory(name="PT Maju")
    customer("2026-01-05", source="email", company=co)
    customer("2026-01-06", source="Referral", company=co)
    customer("2026-01-07", source="email")
    customer("2026-01-20", source="")
    customer("2026-02-02", source="Referral", company=CompanyFactory(name="PT Lain"))
    rebuild()
    jan = period("2026-01-10", "2026-01-31")

    # when
    everyone = queries.demographics(period=jan)
    new = queries.demographics(period=jan, scope="new")

    # then
    assert everyone.by_source == [
        LabelCount("email", 2, "email"),
        LabelCount("Other", 1, None),
        LabelCount("Referral", 1, "Referral"),
    ]
    assert everyone.by_company == [
        LabelCount("Other", 2, None),
        LabelCount("PT Maju", 2, str(co.pk)),
    ]
    assert new.by_source == [LabelCount("Other", 1, None)]
    assert new.by_company == [LabelCount("Other", 1, None)]


def test_labels_sort_in_code_point_order_on_ties():
    # given
    customer("2026-01-05", source="email")
    customer("2026-01-05", source="Referral")
    rebuild()

    # when
    result = queries.demographics(period=period("2026-01-01", "2026-01-31"))

    # then: "R" (U+0052) sorts before "e" (U+0065) whatever the database collation
    assert [row.label for row in result.by_source] == ["Referral", "email"]


def test_lost_reasons_blank_unspecified_case_variants_and_order():
    # given
    a = customer("2026-01-05")
    b = customer("2026-01-05")
    expensive = LostReason.objects.create(name="Too expensive")
    LostReason.objects.create(name="")
    deal(a, created="2026-03-01", closed="2026-03-03", outcome="lost", reason="Too expensive")
    deal(b, created="2026-03-01", closed="2026-03-04", outcome="lost", reason="Too expensive")
    deal(a, created="2026-03-01", closed="2026-03-10", outcome="lost", reason="Too expensive")
    deal(None, created="2026-03-01", closed="2026-03-05", outcome="lost")
    deal(b, created="2026-03-06", outcome="lost", reason="")  # close date = created date
    deal(a, created="2026-03-01", closed="2026-03-07", outcome="lost", reason="Zebra")
    deal(a, created="2026-03-01", closed="2026-03-08", outcome="lost", reason="apple")
    deal(a, created="2026-03-01", closed="2026-04-01", outcome="lost", reason="apple")
    deal(a, created="2026-03-01", closed="2026-03-08", outcome="won")
    rebuild()

    # when
    rows = queries.lost_reasons(period=period("2026-03-01", "2026-03-31"))

    # then: the catalogue is case-insensitive unique, so "too expensive" is the same reason
    assert LostReason.objects.filter(name__iexact="too expensive").get() == expensive
    assert rows == [
        LostReasonRow("Too expensive", 3, 2),
        LostReasonRow("Unspecified", 2, 1),
        LostReasonRow("Zebra", 1, 1),
        LostReasonRow("apple", 1, 1),
    ]


def test_top_products_product_twice_in_a_deal_and_both_orders():
    # given
    p1 = ProductFactory(name="Kopi")
    p2 = ProductFactory(name="Teh")
    a = customer("2026-01-05")
    won = deal(a, created="2026-03-01", closed="2026-03-02", outcome="won")
    DealItemFactory(deal=won, product=p1, quantity=D("2"), unit_price=D("10.00"))
    DealItemFactory(deal=won, product=p1, quantity=D("1.5"), unit_price=D("10.00"))
    DealItemFactory(deal=won, product=p2, quantity=D("1"), unit_price=D("100.00"))
    anonymous = deal(None, created="2026-03-03", outcome="won")
    DealItemFactory(deal=anonymous, product=p1, quantity=D("1"), unit_price=D("12.50"))
    still_open = deal(a, created="2026-03-03")
    DealItemFactory(deal=still_open, product=p2, quantity=D("5"), unit_price=D("100.00"))
    later = deal(a, created="2026-03-03", closed="2026-04-01", outcome="won")
    DealItemFactory(deal=later, product=p2, quantity=D("5"), unit_price=D("100.00"))
    rebuild()
    march = period("2026-03-01", "2026-03-31")

    # when
    by_frequency = queries.top_products(period=march)
    by_revenue = queries.top_products(period=march, order="revenue", limit=1)

    # then
    kopi = ProductRow(p1.pk, "Kopi", 2, D("4.50"), D("47.50"))
    teh = ProductRow(p2.pk, "Teh", 1, D("1.00"), D("100.00"))
    assert by_frequency == [kopi, teh]
    assert by_revenue == [teh]


def test_line_revenue_is_exact_and_rounded_half_up_at_the_end():
    # given: 3 × (0.33 × 0.35) = 3 × 0.1155 = 0.3465 -> 0.35
    p = ProductFactory(name="Permen")
    won = deal(customer("2026-01-05"), created="2026-03-01", outcome="won")
    for _ in range(3):
        DealItemFactory(deal=won, product=p, quantity=D("0.33"), unit_price=D("0.35"))
    rebuild()

    # when
    rows = queries.top_products(period=period("2026-03-01", "2026-03-31"))

    # then
    assert rows == [ProductRow(p.pk, "Permen", 1, D("0.99"), D("0.35"))]


SEGMENT_MAP = {
    (5, 1): "New Customers", (5, 2): "Potential Loyalists", (5, 3): "Potential Loyalists",
    (5, 4): "Champions", (5, 5): "Champions",
    (4, 1): "Promising", (4, 2): "Potential Loyalists", (4, 3): "Potential Loyalists",
    (4, 4): "Loyal Customers", (4, 5): "Loyal Customers",
    (3, 1): "About To Sleep", (3, 2): "About To Sleep", (3, 3): "Need Attention",
    (3, 4): "Loyal Customers", (3, 5): "Loyal Customers",
    (2, 1): "Hibernating", (2, 2): "Hibernating", (2, 3): "At Risk", (2, 4): "At Risk",
    (2, 5): "Can't Lose Them",
    (1, 1): "Hibernating", (1, 2): "Hibernating", (1, 3): "At Risk", (1, 4): "At Risk",
    (1, 5): "Can't Lose Them",
}  # fmt: skip


@pytest.mark.parametrize(("r", "f"), sorted(SEGMENT_MAP))
def test_rfm_segment_map_all_25_combinations(r, f):
    assert queries.rfm_group(r=r, f=f) == SEGMENT_MAP[(r, f)]


def test_rfm_scores_ties_and_segments():
    # given: five customers with won deals closed in March (end 31 Mar)
    c1, c2, c3, c4, c5 = (customer("2026-01-05") for _ in range(5))
    deal(c1, created="2026-02-01", closed="2026-03-31", outcome="won", amount="100.00")
    deal(c1, created="2026-02-01", closed="2026-02-10", outcome="won", amount="900.00")
    deal(c2, created="2026-02-01", closed="2026-03-31", outcome="won", amount="100.00")
    deal(c3, created="2026-02-01", closed="2026-03-01", outcome="won", amount="50.00")
    deal(c3, created="2026-02-01", closed="2026-03-10", outcome="won", amount="50.00")
    for _ in range(3):
        deal(c4, created="2026-02-01", closed="2026-03-20", outcome="won", amount="10.00")
    deal(c5, created="2026-02-01", closed="2026-03-05", outcome="won", amount="500.00")
    deal(None, created="2026-02-01", closed="2026-03-05", outcome="won", amount="7.00")
    rebuild()
    march = period("2026-03-01", "2026-03-31")
    ids = [c.customer_id for c in (c1, c2, c3, c4, c5)]

    # when
    segments = queries.rfm_groups(period=march)
    grid = queries.rfm_grid(period=march)
    rfm = queries.rfm_for_customers(period=march, customer_ids=[*ids, 999999])

    # then: A = 31 Mar (before today), L = 31; recency 0,0,21,11,26 -> R = 5 - min(4, 5r//31)
    # = 5,5,2,4,1; monetary 100,100,100,30,500 -> M 2,2,2,1,5; F: one deal in March 1,
    # two -> 2, three -> 4 (the repeaters 2 and 3 ranked among themselves)
    assert [(rfm[i].r, rfm[i].f, rfm[i].m) for i in ids] == [
        (5, 1, 2), (5, 1, 2), (2, 2, 2), (4, 4, 1), (1, 1, 5),
    ]  # fmt: skip
    assert rfm[ids[3]].recency_days == 11 and rfm[ids[3]].frequency == 3
    assert rfm[ids[3]].monetary == D("30.00") and rfm[ids[3]].segment == "Loyal Customers"
    assert 999999 not in rfm
    assert segments == [
        RfmGroupRow("Champions", 0, D("0.00")),
        RfmGroupRow("Loyal Customers", 1, D("30.00")),
        RfmGroupRow("Potential Loyalists", 0, D("0.00")),
        RfmGroupRow("New Customers", 2, D("200.00")),
        RfmGroupRow("Promising", 0, D("0.00")),
        RfmGroupRow("Need Attention", 0, D("0.00")),
        RfmGroupRow("About To Sleep", 0, D("0.00")),
        RfmGroupRow("Can't Lose Them", 0, D("0.00")),
        RfmGroupRow("At Risk", 0, D("0.00")),
        RfmGroupRow("Hibernating", 2, D("600.00")),
    ]
    assert grid == [
        [1, 0, 0, 0, 0],
        [0, 1, 0, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 1, 0],
        [2, 0, 0, 0, 0],
    ]
    assert queries.rfm_customer_ids(period=march, group="New Customers") == ids[:2]
    assert queries.rfm_customer_ids(period=march, r=2, f=2) == [ids[2]]
    assert queries.rfm_customer_ids(period=march, group="Champions") == []


@pytest.mark.parametrize(
    ("frequencies", "thresholds"),
    [
        # repeat buyers 2, 2, 3, 5, 7 (Nr = 5): positions ceil(5/4) = 2, ceil(10/4) = 3,
        # ceil(15/4) = 4 -> 2, 3, 5; so F(2) = 2, F(3) = 3, F(5) = 4, F(7) = 5 as by RANK
        ([[1, 9], [2, 2], [3, 1], [5, 1], [7, 1]], [2, 3, 5]),
        ([[1, 4]], []),  # nobody bought twice: F is 1 for all
        ([[4, 1]], [4, 4, 4]),  # one repeat buyer: RANK 1 -> F = 2, exceeds none
    ],
)
def test_rfm_frequency_thresholds_split_repeat_buyers_as_rank_does(
    monkeypatch, frequencies, thresholds
):
    monkeypatch.setattr(queries, "_rfm_payload", lambda period: {"frequencies": frequencies})
    march = period("2026-03-01", "2026-03-31")
    assert queries.rfm_frequency_thresholds(period=march) == thresholds


@pytest.mark.parametrize(
    ("maxima", "thresholds"),
    [
        # monetary 30, 100, 100, 100, 500 (N = 5): M 1, 2, 2, 2, 5 by RANK; per-M maxima
        # 30, 100, -, -, 500 -> the 1st, 2nd, 3rd and 4th smallest: 30, 100, 100, 100
        ([30, 100, None, None, 500], [30, 100, 100, 100]),
        ([None] * 5, []),  # no payer in P
        ([7, None, None, None, None], [7, 7, 7, 7]),  # one payer: M 1, exceeds none
    ],
)
def test_rfm_monetary_thresholds_split_payers_as_rank_does(monkeypatch, maxima, thresholds):
    monkeypatch.setattr(queries, "_rfm_payload", lambda period: {"monetary_max": maxima})
    march = period("2026-03-01", "2026-03-31")
    assert queries.rfm_monetary_thresholds(period=march) == thresholds


def test_rfm_recency_counts_from_today_in_a_period_that_runs_past_it():
    # given: "this month" is March 2026 and today is 10 March; everyone bought today or
    # earlier this month
    today_buyers = [customer("2026-01-05") for _ in range(3)]
    for c in today_buyers:
        deal(c, created="2026-03-01", closed="2026-03-10", outcome="won")
    early = customer("2026-01-05")
    deal(early, created="2026-03-01", closed="2026-03-02", outcome="won")
    rebuild()
    march = period("2026-03-01", "2026-03-31")

    # when
    with mock.patch("insights.periods.local_today", return_value=date(2026, 3, 10)):
        rfm = queries.rfm_for_customers(
            period=march, customer_ids=[c.customer_id for c in [*today_buyers, early]]
        )

    # then: A = 10 Mar, L = 10; today's buyers have recency 0 -> R 5 ("New Customers", not
    # "Hibernating" as with ranks); 2 Mar is recency 8 -> 5 - min(4, 40 // 10) = 1
    assert [rfm[c.customer_id].r for c in today_buyers] == [5, 5, 5]
    assert {rfm[c.customer_id].segment for c in today_buyers} == {"New Customers"}
    assert (rfm[early.customer_id].recency_days, rfm[early.customer_id].r) == (8, 1)


def test_rfm_recency_fifths_and_a_one_day_period():
    # given: L = 10 (1-10 Jan): recency 1 -> 5 - 0 = 5, 2 -> 5 - 1 = 4, 9 -> 5 - 4 = 1
    a, b, c = (customer("2025-12-01") for _ in range(3))
    deal(a, created="2026-01-01", closed="2026-01-09", outcome="won")
    deal(b, created="2026-01-01", closed="2026-01-08", outcome="won")
    deal(c, created="2026-01-01", closed="2026-01-01", outcome="won")
    rebuild()

    # when
    ten = queries.rfm_for_customers(
        period=period("2026-01-01", "2026-01-10"), customer_ids=[x.customer_id for x in (a, b, c)]
    )
    one = queries.rfm_for_customers(
        period=period("2026-01-01", "2026-01-01"), customer_ids=[c.customer_id]
    )

    # then
    assert [ten[x.customer_id].r for x in (a, b, c)] == [5, 4, 1]
    assert (one[c.customer_id].recency_days, one[c.customer_id].r) == (0, 5)


def test_revenue_kpis_top_share_with_ceiling_lifetime_and_repeat():
    # given
    c1, c2, c3, c4, c5, c6 = (customer("2026-01-05") for _ in range(6))
    won = {"created": "2026-01-05", "outcome": "won"}
    deal(c1, closed="2026-02-10", amount="100.00", **won)
    deal(c1, closed="2026-03-05", amount="200.00", **won)
    deal(c2, closed="2026-03-10", amount="300.00", **won)
    deal(c2, closed="2026-04-05", amount="50.00", **won)
    deal(c3, closed="2026-03-12", amount="10.00", **won)
    deal(c3, closed="2026-03-12", amount="20.00", **won)
    deal(c4, closed="2026-03-20", amount="400.00", **won)
    deal(c5, closed="2026-03-31", amount="1000.00", **won)
    deal(c6, closed="2026-01-15", amount="500.00", **won)
    deal(None, closed="2026-03-03", amount="9999.00", **won)
    deal(c4, created="2026-03-01", closed="2026-03-02", outcome="lost", amount="77.00")
    deal(None, created="2026-03-01", closed="2026-03-04", outcome="lost", amount="5.00")
    rebuild()

    # when
    march = queries.revenue_kpis(period=period("2026-03-01", "2026-03-31"))
    quarter = queries.revenue_kpis(period=period("2026-01-01", "2026-03-31"))

    # then: top ceil(0.2 × 5) = 1 customer (1000 of 1930); LTV 2530 / 6
    assert march.revenue == D("1930.00")
    assert (march.paying_customers, march.avg_revenue_per_customer) == (5, D("386.00"))
    assert march.top_20pct_revenue_share == D("51.81")
    assert march.avg_lifetime_value == D("421.67")
    assert (march.one_time_customers, march.repeat_customers) == (3, 2)
    # ceil(0.2 × 6) = 2 customers: 1000 + 500 of 2530
    assert quarter.paying_customers == 6
    assert quarter.top_20pct_revenue_share == D("59.29")
    # K's Putler figures: 6 won deals of customers in March (not the one without a customer),
    # 1 lost deal of a customer; 1930 / 6, 6 / 7, 1930 / 31; nobody new in March
    assert (march.won_deals, march.avg_order_value, march.win_rate_pct) == (
        6, D("321.67"), D("85.71"),
    )  # fmt: skip
    assert march.revenue_per_day == D("62.26")
    assert (march.new_customers_per_day, march.hours_per_new_customer) == (D("0.00"), D("0.00"))
    # the quarter: 8 won, 2530 / 8, 8 / 9, 2530 / 90; 6 new in 90 days: 0.07 a day, every 360 h
    assert (quarter.won_deals, quarter.avg_order_value, quarter.win_rate_pct) == (
        8, D("316.25"), D("88.89"),
    )  # fmt: skip
    assert quarter.revenue_per_day == D("28.11")
    assert (quarter.new_customers_per_day, quarter.hours_per_new_customer) == (
        D("0.07"), D("360.00"),
    )  # fmt: skip


def test_empty_database_gives_zeros():
    # given
    rebuild()
    jan = period("2026-01-01", "2026-01-31")

    # when
    growth = queries.growth_overview(period=jan, granularity="month")

    # then
    assert growth.trend == [GrowthBucket(date(2026, 1, 1), date(2026, 1, 31), 0, 0, 0)]
    assert growth.monthly_avg_inactive_customers == D("0.00")
    assert queries.lost_reasons(period=jan) == []
    assert queries.top_products(period=jan) == []
    assert queries.rfm_grid(period=jan) == [[0] * 5 for _ in range(5)]
    assert queries.revenue_kpis(period=jan).avg_lifetime_value == D("0.00")


def test_unknown_parameters_are_rejected():
    jan = period("2026-01-01", "2026-01-31")
    with pytest.raises(ValueError):
        queries.demographics(period=jan, scope="old")
    with pytest.raises(ValueError):
        queries.top_products(period=jan, order="price")
    with pytest.raises(ValueError):
        queries.rfm_customer_ids(period=jan, group="Whales")
