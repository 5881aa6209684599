"""insights/lifecycle/ and insights/retention/, and the previous-period comparison."""

from datetime import date
from unittest import mock

import pytest

from tests.insights.api.test_insights import JANUARY_QUERY, seeded  # noqa: F401 (fixture)

LIFECYCLE = "/api/v1/insights/lifecycle/"
RETENTION = "/api/v1/insights/retention/"


@pytest.fixture
def february_15():
    with mock.patch("insights.periods.local_today", return_value=date(2026, 2, 15)):
        yield


def test_lifecycle_hand_computed_with_its_comparison(api, seeded, february_15):  # noqa: F811
    # when: A bought 10 and 20 January; with W = 5 it is lost on 15 and 25 January
    body = api.get(LIFECYCLE, {**JANUARY_QUERY, "lost_after": "5", "granularity": "month"}).json()

    # then
    assert body["period"]["granularity"] == "month"
    assert {k: v for k, v in body.items() if k not in ("period", "computed_at")} == {
        "lost_after": 5,
        "new_buyers": 1,
        "returning_buyers": 0,
        "lost_buyers": 1,
        "active_buyers_start": 0,
        "churned_buyers": 0,
        "buyer_churn_pct": "0.00",
        "buyer_retention_pct": "0.00",
        "trend": [
            {
                "start": "2026-01-01",
                "end": "2026-01-31",
                "new_buyers": 1,
                "returning_buyers": 0,
                "lost_buyers": 1,
            }
        ],
        # December had no buyers: previous 0 everywhere, so no change can be stated
        "previous": {
            "new_buyers": 0,
            "returning_buyers": 0,
            "lost_buyers": 0,
            "active_buyers_start": 0,
            "churned_buyers": 0,
            "buyer_churn_pct": "0.00",
            "buyer_retention_pct": "0.00",
        },
        "change_pct": dict.fromkeys(
            (
                "new_buyers",
                "returning_buyers",
                "lost_buyers",
                "active_buyers_start",
                "churned_buyers",
                "buyer_churn_pct",
                "buyer_retention_pct",
            ),
            None,
        ),  # fmt: skip
    }


def test_february_compared_with_january(api, seeded, february_15):  # noqa: F811
    # when: February (28 days) against 4-31 January; W = 5 is lost 15 and 25 January
    body = api.get(LIFECYCLE, {"start": "2026-02-01", "end": "2026-02-28", "lost_after": "5"})

    # then: no buyer in February; January's one new buyer gives -100%
    data = body.json()
    assert (data["new_buyers"], data["previous"]["new_buyers"]) == (0, 1)
    assert data["change_pct"]["new_buyers"] == "-100.00"
    assert data["previous"]["lost_buyers"] == 1
    assert data["change_pct"]["lost_buyers"] == "-100.00"


def test_growth_and_sales_carry_previous_and_change(api, seeded):  # noqa: F811
    # when
    growth = api.get("/api/v1/insights/growth/", JANUARY_QUERY).json()
    sales = api.get("/api/v1/insights/sales/", JANUARY_QUERY).json()

    # then: December: A only (first seen 20 Dec); January: A, B, C
    assert growth["previous"]["total_customers"] == 1
    assert growth["change_pct"]["total_customers"] == "200.00"
    assert growth["previous"]["new_customers"] == 1
    assert growth["change_pct"]["new_customers"] == "100.00"
    assert "trend" not in growth["previous"]
    assert sales["previous"]["total_customers"] == 1
    assert sales["previous"]["customers_with_deals"] == 0
    assert sales["change_pct"]["customers_with_deals"] is None


def test_retention_by_purchase_and_activity(api, seeded, february_15):  # noqa: F811
    # when
    purchase = api.get(RETENTION, {"start": "2025-12-01", "end": "2026-03-31"}).json()
    activity = api.get(
        RETENTION, {"start": "2025-12-01", "end": "2026-01-31", "event": "activity"}
    ).json()

    # then: A's first buying day is in January; March has not begun on 15 February
    assert purchase["event"] == "purchase"
    assert purchase["cohorts"] == [
        {"cohort": "2025-12", "size": 0, "retained": [0, 0, 0], "pct": ["0.00"] * 3},
        {"cohort": "2026-01", "size": 1, "retained": [1, 0], "pct": ["100.00", "0.00"]},
        {"cohort": "2026-02", "size": 0, "retained": [0], "pct": ["0.00"]},
        {"cohort": "2026-03", "size": 0, "retained": [], "pct": []},
    ]
    # first seen: A in December (deals created in January); B and C in January, both active
    assert activity["cohorts"] == [
        {"cohort": "2025-12", "size": 1, "retained": [0, 1, 0], "pct": ["0.00", "100.00", "0.00"]},
        {"cohort": "2026-01", "size": 2, "retained": [2, 0], "pct": ["100.00", "0.00"]},
    ]
    assert "previous" not in purchase


@pytest.mark.parametrize(
    ("url", "query", "param"),
    [
        (LIFECYCLE, {"lost_after": "0"}, "lost_after"),
        (LIFECYCLE, {"lost_after": "731"}, "lost_after"),
        (LIFECYCLE, {"lost_after": "ninety"}, "lost_after"),
        (LIFECYCLE, {"granularity": "hour"}, "granularity"),
        (RETENTION, {"event": "visit"}, "event"),
        (RETENTION, {"start": "2026-02-30", "end": "2026-03-01"}, "start"),
    ],
)
def test_bad_parameters_get_400_naming_them(api, url, query, param):
    # when
    response = api.get(url, query)

    # then
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [param]
