"""GET /api/v1/insights/health/ (CONTRACT.md section 4): customer health (METRICS.md §Q).

Not compared with a previous period (not a headline section of METRICS.md §4).
"""

from typing import Any

from rest_framework import serializers

from insights import health
from insights.figures import figure_help
from insights.section_params import health_bands_text

from . import params as p
from .serializers import Count, InsightsResponse, Money
from .views import InsightsApi, _insights_schema

BAND_HELP = f"{health_bands_text()}."


class HealthBandSerializer(serializers.Serializer):
    band = serializers.CharField(help_text=BAND_HELP)
    customers = Count("Customers scored in this band.")
    revenue = Money("Their revenue (won deals) closed on or before the as-of date.")


class HealthBacktestBandSerializer(serializers.Serializer):
    band = serializers.CharField(help_text=BAND_HELP)
    customers = Count("Customers in this band as of A0.")
    bought_pct = Money("100 × those with a buying day in (A0, A] / customers (2 places).")


class HealthBacktestSerializer(serializers.Serializer):
    as_of = serializers.DateField(help_text="A0 = A − 90: the scores, and the model, as of then.")
    by_band = HealthBacktestBandSerializer(many=True, help_text="healthy, attention, at_risk.")


HealthSerializer = type(
    "HealthSerializer",
    (InsightsResponse,),
    {
        "as_of": serializers.DateField(help_text="A = min(end, today): the scores are as of A."),
        "customers": Count(figure_help("health_customers")),
        "avg_health": Money(figure_help("avg_health")),
        "by_band": HealthBandSerializer(many=True, help_text=figure_help("health_by_band")),
        "backtest": HealthBacktestSerializer(
            allow_null=True,
            help_text=(
                f"{figure_help('health_backtest')} Null when nobody has a buying day on or "
                "before A0."
            ),
        ),
    },
)


@_insights_schema(p.PeriodParams, HealthSerializer, "health")
class HealthApi(InsightsApi):
    output_class = HealthSerializer

    def figures(self, *, period) -> dict[str, Any]:
        data = dict(health.customer_health(period=period))
        data.pop("model_fitted", None)
        return data
