"""GET /api/v1/insights/service/ (CONTRACT.md section 4): customer service figures.

Definitions (METRICS.md S) are stated in the help texts, which become the OpenAPI schema.
"""

from dataclasses import asdict
from typing import Any

from rest_framework import serializers

from insights.service import HEADLINE_FIELDS, service_figures

from . import params as p
from .serializers import Count, InsightsResponse, Money
from .views import InsightsApi, _insights_schema

ROOMS_IN_P = "Chat rooms created in P (local dates, both ends included)"
ROOM_FIELD_HELP: dict[str, str] = {
    "rooms": f"{ROOMS_IN_P}.",
    "resolved_rooms": "Of those rooms, the ones with a resolved_at.",
    "resolution_pct": "100 × resolved_rooms / rooms (0 when there are no rooms).",
    "median_first_response_s": (
        "Median first response time in whole seconds (first_response_at − created_at, "
        "rounded down), over rooms with a first response: the nearest-rank value at position "
        "ceil(0.5 × n) of the sorted times; 0 when there are none."
    ),
    "p90_first_response_s": (
        "90th percentile of the same first response times (nearest rank: position "
        "ceil(0.9 × n)); 0 when there are none."
    ),
    "median_resolution_s": (
        "Median resolution time in whole seconds (resolved_at − created_at, rounded down) of "
        "resolved rooms, nearest rank ceil(0.5 × n); 0 when there are none."
    ),
    "p90_resolution_s": "90th percentile (nearest rank ceil(0.9 × n)) of the resolution times.",
    "rated_rooms": "Rooms with a CSAT score (1–5).",
    "csat_avg": "Mean CSAT score of rated rooms, 2 places (0 when none are rated).",
    "csat_pct": "100 × rated rooms scoring 4 or 5 / rated_rooms.",
    "fcr_pct": (
        "First contact resolution: 100 × resolved rooms whose customer opened no other room "
        "(on any channel) in (resolved_at, resolved_at + 7 days] / resolved_rooms."
    ),
}
SURVEY_FIELD_HELP: dict[str, str] = {
    "nps_responses": "NPS survey responses (score 0–10) created in P.",
    "nps": (
        "Net promoter score: 100 × (responses scoring 9–10 − responses scoring 0–6) / "
        "nps_responses, from −100 to 100 (0 when there are none)."
    ),
    "ces_responses": "Customer effort survey responses (score 1–7) created in P.",
    "ces_avg": "Mean customer effort score of those responses (0 when there are none).",
}
DECIMAL_FIELDS = {"resolution_pct", "csat_avg", "csat_pct", "fcr_pct", "nps", "ces_avg"}


def _field(name: str, help_text: str, **kwargs: Any) -> serializers.Field:
    return Money(help_text, **kwargs) if name in DECIMAL_FIELDS else Count(help_text, **kwargs)


def _room_fields() -> dict[str, serializers.Field]:
    return {name: _field(name, text) for name, text in ROOM_FIELD_HELP.items()}


ServiceRowSerializer = type(
    "ServiceRowSerializer",
    (serializers.Serializer,),
    {
        "label": serializers.CharField(
            help_text="The channel (the chat contact's) or the agent as written; blank agent: "
            "`Unassigned`."
        ),
        **_room_fields(),
    },
)

ServicePreviousSerializer = type(
    "ServicePreviousSerializer",
    (serializers.Serializer,),
    {
        name: _field(name, f"The same figure for the previous period P′ ({text})")
        for name, text in {**ROOM_FIELD_HELP, **SURVEY_FIELD_HELP}.items()
    },
)

ServiceChangeSerializer = type(
    "ServiceChangeSerializer",
    (serializers.Serializer,),
    {
        name: Money(
            "100 × (value − previous) / previous from the two reported figures, 2 places; "
            "null when previous is 0 (no baseline).",
            allow_null=True,
        )
        for name in HEADLINE_FIELDS
    },
)


class ServiceBucketSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First local date of the bucket.")
    end = serializers.DateField(help_text="Last local date of the bucket.")
    rooms = Count("Chat rooms created in the bucket.")
    median_resolution_s = Count(
        "Median resolution time (whole seconds, nearest rank) of those rooms that are resolved."
    )


ServiceSerializer = type(
    "ServiceSerializer",
    (InsightsResponse,),
    {
        **_room_fields(),
        **{name: _field(name, text) for name, text in SURVEY_FIELD_HELP.items()},
        "nps_promoters": Count("NPS responses scoring 9–10."),
        "nps_passives": Count("NPS responses scoring 7–8."),
        "nps_detractors": Count("NPS responses scoring 0–6."),
        "by_channel": ServiceRowSerializer(
            many=True, help_text="Every room figure per channel; rooms desc, then label."
        ),
        "by_agent": ServiceRowSerializer(
            many=True, help_text="Every room figure per agent; rooms desc, then label."
        ),
        "trend": ServiceBucketSerializer(many=True, help_text="Rooms per bucket of P."),
        "previous": ServicePreviousSerializer(
            help_text="Each headline figure for P′, the days(P) days just before P."
        ),
        "change_pct": ServiceChangeSerializer(help_text="Change of each headline figure."),
    },
)


@_insights_schema(p.TrendParams, ServiceSerializer, "service")
class ServiceApi(InsightsApi):
    params_class = p.TrendParams
    output_class = ServiceSerializer
    is_trend = True

    def figures(self, *, period, granularity) -> dict[str, Any]:
        return asdict(service_figures(period=period, granularity=granularity))
