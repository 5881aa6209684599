"""GET /api/v1/insights/forecast/ (CONTRACT.md section 4): pipeline and forecast (METRICS.md §P).

The forecast's figures are not compared with a previous period (METRICS.md §4): the response
has no `previous` and no `change_pct`.
"""

from typing import Any

from rest_framework import serializers

from insights.figures import figure_help
from insights.forecast import forecast

from . import params as p
from .serializers import Count, InsightsResponse, Money
from .views import InsightsApi, _insights_schema


class ForecastStageSerializer(serializers.Serializer):
    stage = serializers.CharField(help_text="The stage's name as the catalogue spells it.")
    deals = Count("Open deals of the stage with an expected close date in P.")
    value = Money("The sum of their values.")
    weighted_value = Money("The sum of value × win probability / 100 (rounded once).")


class ForecastBacktestSerializer(serializers.Serializer):
    as_of = serializers.DateField(help_text="A0 = today − 90: when the forecast is made.")
    weighted_value = Money(
        "The weighted value of the deals open as of A0 (their history's state at the end of "
        "A0) with an expected close date in the 90 days after A0."
    )
    value_at_historical_rate = Money(
        "Their value × the win rate of the 365 days before A0, rounded to 2 places."
    )
    expected_repeat_revenue = Money(
        "The expected repeat revenue in the 90 days after A0 from the model fitted as of A0; "
        "null when it cannot be fitted.",
        allow_null=True,
    )
    actual_won_value = Money(
        "The values of those same deals that were won with a close date in the 90 days after A0."
    )
    actual_repeat_revenue = Money(
        "The revenue in the 90 days after A0 of the customers who had bought by A0."
    )


ForecastSerializer = type(
    "ForecastSerializer",
    (InsightsResponse,),
    {
        "open_deals": Count(figure_help("open_deals")),
        "open_value": Money(figure_help("open_value")),
        "weighted_value": Money(figure_help("weighted_value")),
        "by_stage": ForecastStageSerializer(many=True, help_text=figure_help("by_stage")),
        "overdue_deals": Count(figure_help("overdue_deals")),
        "overdue_value": Money(figure_help("overdue_value")),
        "undated_deals": Count(figure_help("undated_deals")),
        "undated_value": Money(figure_help("undated_value")),
        "historical_win_rate_pct": Money(figure_help("historical_win_rate_pct")),
        "value_at_historical_rate": Money(figure_help("value_at_historical_rate")),
        "expected_buying_days": serializers.FloatField(
            allow_null=True, help_text=figure_help("expected_buying_days")
        ),
        "expected_repeat_revenue": Money(figure_help("expected_repeat_revenue"), allow_null=True),
        "model_fitted": serializers.BooleanField(help_text=figure_help("model_fitted")),
        "backtest": ForecastBacktestSerializer(help_text=figure_help("backtest")),
    },
)


@_insights_schema(p.PeriodParams, ForecastSerializer, "forecast")
class ForecastApi(InsightsApi):
    output_class = ForecastSerializer

    def figures(self, *, period) -> dict[str, Any]:
        result = forecast(period=period)
        backtest = result.backtest
        return {
            "open_deals": result.open_deals,
            "open_value": result.open_value,
            "weighted_value": result.weighted_value,
            "by_stage": [
                {
                    "stage": row.stage,
                    "deals": row.deals,
                    "value": row.value,
                    "weighted_value": row.weighted_value,
                }
                for row in result.by_stage
            ],
            "overdue_deals": result.overdue_deals,
            "overdue_value": result.overdue_value,
            "undated_deals": result.undated_deals,
            "undated_value": result.undated_value,
            "historical_win_rate_pct": result.historical_win_rate_pct,
            "value_at_historical_rate": result.value_at_historical_rate,
            "expected_buying_days": result.expected_buying_days,
            "expected_repeat_revenue": result.expected_repeat_revenue,
            "model_fitted": result.model_fitted,
            "backtest": {
                "as_of": backtest.as_of,
                "weighted_value": backtest.weighted_value,
                "value_at_historical_rate": backtest.value_at_historical_rate,
                "expected_repeat_revenue": backtest.expected_repeat_revenue,
                "actual_won_value": backtest.actual_won_value,
                "actual_repeat_revenue": backtest.actual_repeat_revenue,
            },
        }
