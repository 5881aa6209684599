"""GET /api/v1/insights/forecast/: METRICS.md §P in the fields CONTRACT.md section 4 names."""

import pytest

from insights.periods import local_today
from tests.insights.test_forecast import day, pipeline, stages  # noqa: F401 (fixtures)

URL = "/api/v1/insights/forecast/"
FIELDS = {
    "period", "computed_at", "open_deals", "open_value", "weighted_value", "by_stage",
    "overdue_deals", "overdue_value", "undated_deals", "undated_value",
    "historical_win_rate_pct", "value_at_historical_rate", "expected_buying_days",
    "expected_repeat_revenue", "model_fitted", "backtest",
}  # fmt: skip


def test_next_30_days_answers_the_contract_fields(api, pipeline):  # noqa: F811
    body = api.get(URL, {"preset": "next_30_days"}).json()
    assert set(body) == FIELDS  # no previous / change_pct: the forecast is not compared
    assert body["period"]["start"] == str(day(1))
    assert body["open_deals"] == 4
    assert (body["open_value"], body["weighted_value"]) == ("2700.50", "1300.35")
    assert body["by_stage"] == [
        {"stage": "Qualify", "deals": 1, "value": "200.00", "weighted_value": "0.00"},
        {"stage": "Proposal", "deals": 2, "value": "1500.00", "weighted_value": "600.00"},
        {"stage": "negotiation", "deals": 1, "value": "1000.50", "weighted_value": "700.35"},
    ]
    assert (body["overdue_deals"], body["overdue_value"]) == (1, "400.00")
    assert (body["undated_deals"], body["undated_value"]) == (1, "250.00")
    assert body["historical_win_rate_pct"] == "60.00"
    assert body["value_at_historical_rate"] == "1620.30"
    assert body["model_fitted"] is False
    assert body["expected_buying_days"] is None and body["expected_repeat_revenue"] is None
    assert set(body["backtest"]) == {
        "as_of", "weighted_value", "value_at_historical_rate", "expected_repeat_revenue",
        "actual_won_value", "actual_repeat_revenue",
    }  # fmt: skip
    assert body["backtest"]["as_of"] == str(day(-90))


def test_a_past_period_answers_with_the_deals_that_slipped(api, pipeline):  # noqa: F811
    first, last = day(-5), day(-1)
    body = api.get(URL, {"start": str(first), "end": str(last)}).json()
    assert [row["stage"] for row in body["by_stage"]] == ["Proposal"]
    assert body["open_value"] == "400.00"


@pytest.mark.parametrize("preset", ["tomorrow", "next_7_days", "next_week", "next_month",
                                    "next_quarter", "next_year", "this_month"])  # fmt: skip
def test_every_next_preset_answers(api, pipeline, preset):  # noqa: F811
    response = api.get(URL, {"preset": preset})
    assert response.status_code == 200
    assert response.json()["period"]["preset"] == preset


def test_bad_period_is_a_400_naming_it(api, db):
    response = api.get(URL, {"preset": "soon"})
    assert response.status_code == 400
    assert "preset" in response.json()["errors"]


def test_needs_the_permission(client, db):
    assert client.get(URL).status_code in (401, 403)
    assert local_today()
