"""Insights endpoints: the metric engine's figures, formatted as CONTRACT.md section 4 says."""

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal

import pytest

from insights import queries
from insights.periods import Period, preset_period
from insights.rebuild import insights_rebuild
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    CompanyFactory,
    ContactFactory,
    DealFactory,
    DealItemFactory,
    LostReasonFactory,
    ProductFactory,
    StageFactory,
)

from .conftest import at

JANUARY = Period(date(2026, 1, 1), date(2026, 1, 31))
JANUARY_QUERY = {"start": "2026-01-01", "end": "2026-01-31"}


@pytest.fixture
def seeded(db):
    """Three people, January 2026 (Jakarta):

    A: CRM contact (Referral, PT Alfa) seen 20 Dec; won 300.00 (2 × X at 150) closed 10 Jan and
       won 100.50 (1.5 × Y at 67) closed 20 Jan, both created in January.
    B: WhatsApp chat contact 15 Jan + CRM contact 16 Jan with the same email: one customer;
       a lost deal (50.00, "Harga") created 18 Jan, closed 25 Jan.
    C: CRM contact seen 20 Jan, a chat room on 21 Jan (through a chat contact sharing its phone).
    """
    won = StageFactory(name="Won", outcome="won", default_win_probability=100)
    lost = StageFactory(name="Lost", outcome="lost", default_win_probability=0)
    alfa = CompanyFactory(name="PT Alfa")
    a = ContactFactory(
        first_name="Ani",
        source="Referral",
        company=alfa,
        phone="0812 3456 7890",
        created_at=at("2025-12-20"),
    )
    x, y = ProductFactory(name="X"), ProductFactory(name="Y")
    d1 = DealFactory(
        contact=a,
        stage=won,
        amount=Decimal("300.00"),
        created_at=at("2026-01-05"),
        closed_at=at("2026-01-10"),
    )
    DealItemFactory(deal=d1, product=x, quantity=Decimal("2"), unit_price=Decimal("150"))
    d2 = DealFactory(
        contact=a,
        stage=won,
        amount=Decimal("100.50"),
        created_at=at("2026-01-12"),
        closed_at=at("2026-01-20"),
    )
    DealItemFactory(deal=d2, product=y, quantity=Decimal("1.5"), unit_price=Decimal("67"))
    ChatContactFactory(name="Budi", email="budi@example.com", created_at=at("2026-01-15"))
    b = ContactFactory(
        first_name="Budi", email="Budi@Example.com", source="email", created_at=at("2026-01-16")
    )
    DealFactory(
        contact=b,
        stage=lost,
        amount=Decimal("50.00"),
        created_at=at("2026-01-18"),
        closed_at=at("2026-01-25"),
        lost_reason=LostReasonFactory(name="Harga"),
    )
    ContactFactory(first_name="Cici", phone="+62 813 1111 2222", created_at=at("2026-01-20"))
    chat_c = ChatContactFactory(name="Cici", phone="081311112222", created_at=at("2026-01-20"))
    ChatRoomFactory(chat_contact=chat_c, created_at=at("2026-01-21"))
    run = insights_rebuild(trigger="test")
    assert run.status == "succeeded", run.error
    return run


def contract(value):
    """A metric engine value written as the API promises: 2-place strings, ISO dates."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: contract(item) for key, item in value.items()}
    if isinstance(value, list):
        return [contract(item) for item in value]
    return value


def _without(row: dict, *keys: str) -> dict:
    return {key: value for key, value in row.items() if key not in keys}


def test_growth_equals_the_engine_and_hand_computed_figures(api, seeded):
    # when
    body = api.get("/api/v1/insights/growth/", JANUARY_QUERY).json()
    # then
    engine = asdict(queries.growth_overview(period=JANUARY, granularity="day"))
    assert _without(body, "period", "computed_at", "previous", "change_pct") == contract(engine)
    assert body["period"] == {
        "start": "2026-01-01",
        "end": "2026-01-31",
        "preset": None,
        "months": "1.0000",
        "granularity": "day",
    }
    assert datetime.fromisoformat(body["computed_at"]) == seeded.finished_at
    assert body["total_customers"] == 3
    assert body["new_customers"] == 2
    assert body["monthly_avg_new_customers"] == "2.00"
    assert len(body["trend"]) == 31
    assert body["trend"][0] == {
        "start": "2026-01-01",
        "end": "2026-01-01",
        "total": 1,
        "new": 0,
        "inactive": 1,
    }


def test_trend_granularity_is_resolved_and_reported(api, seeded):
    # when
    auto = api.get("/api/v1/insights/sales/", {"start": "2026-01-01", "end": "2026-03-31"})
    month = api.get("/api/v1/insights/growth/", {**JANUARY_QUERY, "granularity": "month"})
    # then: 90 days is "week" under auto (31 < days <= 183)
    assert auto.json()["period"]["granularity"] == "week"
    assert auto.json()["period"]["months"] == "3.0000"
    assert month.json()["period"]["granularity"] == "month"
    assert [(b["start"], b["end"]) for b in month.json()["trend"]] == [("2026-01-01", "2026-01-31")]


def test_demographics_both_scopes_equal_the_engine(api, seeded):
    for scope in ("all", "new"):
        # when
        body = api.get("/api/v1/insights/demographics/", {**JANUARY_QUERY, "scope": scope}).json()
        # then
        engine = queries.demographics(period=JANUARY, scope=scope)
        assert body["period"]["granularity"] is None
        assert body["by_source"] == [
            {"label": row.label, "customers": row.customers} for row in engine.by_source
        ]
        assert body["by_company"] == [
            {"label": row.label, "customers": row.customers} for row in engine.by_company
        ]
    all_scope = api.get("/api/v1/insights/demographics/", JANUARY_QUERY).json()
    assert all_scope["by_company"] == [
        {"label": "Other", "customers": 2},
        {"label": "PT Alfa", "customers": 1},
    ]


def test_sales_equals_the_engine(api, seeded):
    # when
    body = api.get("/api/v1/insights/sales/", JANUARY_QUERY).json()
    # then
    engine = asdict(queries.sales_lifecycle(period=JANUARY, granularity="day"))
    assert _without(body, "period", "computed_at", "previous", "change_pct") == contract(engine)
    assert body["customers_with_deals"] == 2
    assert body["deal_association_pct"] == "66.67"
    assert body["total_deal_size"] == "450.50"
    assert body["avg_deal_size_per_customer"] == "225.25"


def test_lost_reasons_hand_computed(api, seeded):
    # when
    body = api.get("/api/v1/insights/lost-reasons/", JANUARY_QUERY).json()
    # then
    assert body["reasons"] == [{"reason": "Harga", "deals": 1, "customers": 1}]
    assert body["reasons"] == contract(
        [asdict(row) for row in queries.lost_reasons(period=JANUARY)]
    )


def test_top_products_orders_and_limits(api, seeded):
    # when
    by_frequency = api.get("/api/v1/insights/top-products/", JANUARY_QUERY).json()
    by_revenue = api.get(
        "/api/v1/insights/top-products/", {**JANUARY_QUERY, "order": "revenue", "limit": "1"}
    ).json()
    # then
    assert by_frequency["products"] == [
        {"product": "X", "won_deals": 1, "quantity": "2.00", "revenue": "300.00"},
        {"product": "Y", "won_deals": 1, "quantity": "1.50", "revenue": "100.50"},
    ]
    assert by_revenue["products"] == [
        {"product": "X", "won_deals": 1, "quantity": "2.00", "revenue": "300.00"}
    ]
    engine = queries.top_products(period=JANUARY, order="frequency", limit=10)
    assert by_frequency["products"] == contract(
        [_without(asdict(row), "product_id") for row in engine]
    )


def test_rfm_lists_all_ten_segments_in_metrics_order(api, seeded):
    # when
    body = api.get("/api/v1/insights/rfm/", JANUARY_QUERY).json()
    # then
    assert [row["segment"] for row in body["segments"]] == list(queries.RFM_GROUPS)
    assert body["segments"] == contract([asdict(r) for r in queries.rfm_groups(period=JANUARY)])
    assert sum(row["customers"] for row in body["segments"]) == 1


def test_revenue_hand_computed(api, seeded):
    # when
    body = api.get("/api/v1/insights/revenue/", JANUARY_QUERY).json()
    # then
    assert _without(body, "period", "computed_at", "previous", "change_pct") == {
        "revenue": "400.50",
        "paying_customers": 1,
        "avg_revenue_per_customer": "400.50",
        "top_20pct_revenue_share": "100.00",
        "avg_lifetime_value": "400.50",
        "one_time_customers": 0,
        "repeat_customers": 1,
        "won_deals": 2,
        "avg_order_value": "200.25",
        "win_rate_pct": "66.67",
        "revenue_per_day": "12.92",
        "new_customers_per_day": "0.06",
        "hours_per_new_customer": "372.00",
    }
    # December: only A was first seen (20 Dec), nothing was won: no baseline but for the
    # new-customer rates (1 / 31 = 0.03 a day, one every 744 hours)
    assert body["previous"]["revenue"] == "0.00"
    assert body["previous"]["won_deals"] == 0
    assert body["previous"]["new_customers_per_day"] == "0.03"
    assert body["previous"]["hours_per_new_customer"] == "744.00"
    assert body["change_pct"]["revenue"] is None
    assert body["change_pct"]["new_customers_per_day"] == "100.00"
    assert body["change_pct"]["hours_per_new_customer"] == "-50.00"
    assert set(body["previous"]) == set(body["change_pct"]) == {
        "revenue", "paying_customers", "avg_revenue_per_customer", "top_20pct_revenue_share",
        "avg_lifetime_value", "one_time_customers", "repeat_customers", "won_deals",
        "avg_order_value", "win_rate_pct", "revenue_per_day", "new_customers_per_day",
        "hours_per_new_customer",
    }  # fmt: skip
    assert _without(body, "period", "computed_at", "previous", "change_pct") == contract(
        asdict(queries.revenue_kpis(period=JANUARY))
    )


def test_preset_and_the_default_period(api, seeded):
    # when
    preset = api.get("/api/v1/insights/revenue/", {"preset": "last_month"}).json()
    default = api.get("/api/v1/insights/revenue/").json()
    # then
    last_month = preset_period("last_month")
    assert preset["period"]["start"] == last_month.start.isoformat()
    assert preset["period"]["end"] == last_month.end.isoformat()
    assert preset["period"]["preset"] == "last_month"
    assert preset["period"]["months"] == "1.0000"
    assert preset["period"]["granularity"] is None
    assert default["period"]["preset"] == "last_30_days"


@pytest.mark.django_db
def test_computed_at_is_null_before_any_rebuild(api):
    # when
    body = api.get("/api/v1/insights/revenue/", JANUARY_QUERY).json()
    # then
    assert body["computed_at"] is None
    assert body["revenue"] == "0.00"
    assert body["paying_customers"] == 0


def test_customer_detail_after_a_real_rebuild_explains_the_merge(api, seeded):
    # given: Budi's chat contact and CRM contact share an email, so they are one customer
    budi = api.get("/api/v1/customers/", {"search": "budi@example.com"}).json()["results"]
    assert len(budi) == 1
    # when
    body = api.get(f"/api/v1/customers/{budi[0]['id']}/", JANUARY_QUERY).json()
    # then
    assert [record["kind"] for record in body["records"]] == ["chat_contact", "contact"]
    assert body["record_count"] == 2
    assert [(edge["via"], edge["key"]) for edge in body["explanation"]] == [
        ("email", "budi@example.com")
    ]
    assert [(deal["status"], deal["lost_reason"]) for deal in body["deals"]] == [("lost", "Harga")]
    assert body["rfm"]["segment"] is None


def test_phone_search_in_another_format_after_a_real_rebuild(api, seeded):
    # when
    found = api.get("/api/v1/customers/", {"search": "+62 812-3456-7890"}).json()
    # then
    assert [row["display_name"] for row in found["results"]] == ["Ani Wijaya"]
    assert found["results"][0]["lifetime_revenue"] == "400.50"
