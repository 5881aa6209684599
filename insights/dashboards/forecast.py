"""The dashboard's "Pipeline and forecast" section (METRICS.md §P), first for a period that has
not ended.

Figures come from insights.forecast (the same function as the API); this module only shapes
them for templates/admin/insights/_forecast.html and builds the drill-down links: the stage
bars and counts open the deal admin list filtered the same way (open, expected close in P,
the stage), the overdue and undated warnings the open deals overdue or undated, and the
expected repeat revenue the customer list of the calibrated customers ordered by expected
purchases.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from ..figures import figure, section
from ..forecast import Forecast, forecast
from ..periods import Period, local_today

# The customer value model's calibrated customers (those with a prediction), most expected
# purchases first: the customers the expected repeat revenue sums over.
REPEAT_FILTERS = {"p_alive_min": "0", "ordering": "-expected_purchases"}


# Headline figures shown inside another figure's element rather than as a card of their own
# (the registry coverage test reads this): the overdue and undated values in their warning,
# the win rate in the weighting sentence about the value at that rate, the buying days and the
# model's state in the sentence about the expected repeat revenue.
SHOWN_WITHIN = {
    "overdue_value": "overdue_deals",
    "undated_value": "undated_deals",
    "historical_win_rate_pct": "value_at_historical_rate",
    "expected_buying_days": "expected_repeat_revenue",
    "model_fitted": "expected_repeat_revenue",
}
# Shown only when there are some: a warning, not a card of zeros.
SHOWN_WHEN_ANY = ("overdue_deals", "undated_deals")


def deal_list_url(**filters: Any) -> str:
    try:
        base = reverse("admin:deals_deal_changelist")
    except NoReverseMatch:
        base = "/admin/deals/deal/"
    return f"{base}?{urlencode({k: v for k, v in filters.items() if v is not None})}"


def pipeline_url(*, period: Period, stage_id: int | None = None) -> str:
    """Open deals with an expected close date in P (local dates), optionally of one stage."""
    return deal_list_url(
        status="open",
        expected_from=period.start.isoformat(),
        expected_to=period.end.isoformat(),
        stage__id__exact=stage_id,
    )


def repeat_customers_url() -> str:
    try:
        base = reverse("admin:customers_customer_changelist")
    except NoReverseMatch:
        base = "/admin/customers/customer/"
    return f"{base}?{urlencode(REPEAT_FILTERS)}"


def forecast_section(*, period: Period) -> dict[str, Any]:
    """The section's context, or {} when P has ended (it then comes at its usual place: not
    at all, the past periods read history)."""
    if period.end <= local_today():
        return {}
    result: Forecast = forecast(period=period)
    top = max((row.value for row in result.by_stage), default=0) or 1
    return {
        "forecast": result,
        "forecast_title": section("forecast").title,
        "forecast_help": {
            key: figure(key).help
            for key in (
                "open_value",
                "weighted_value",
                "by_stage",
                "historical_win_rate_pct",
                "expected_repeat_revenue",
                "backtest",
            )
        },
        "forecast_stages": [
            {"row": row, "url": pipeline_url(period=period, stage_id=row.stage_id), "top": top}
            for row in result.by_stage
        ],
        "forecast_pipeline_url": pipeline_url(period=period),
        "forecast_overdue_url": deal_list_url(status="open", expected="overdue"),
        "forecast_undated_url": deal_list_url(status="open", expected="undated"),
        "forecast_repeat_url": repeat_customers_url(),
    }
