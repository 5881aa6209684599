"""GET /api/v1/insights/service/ (CONTRACT.md section 4): customer service figures.

Definitions (METRICS.md S) are stated in the help texts, which become the OpenAPI schema.
"""

from dataclasses import asdict
from typing import Any

from django.utils.functional import Promise
from django.utils.text import format_lazy
from rest_framework import serializers

from insights import service
from insights.figures import figure_help
from insights.service import (
    BACKLOG_BUCKETS,
    HEADLINE_FIELDS,
    LEVEL_FIELDS,
    ROOM_FIELDS,
    SURVEY_FIELDS,
    TARGET_FIELDS,
)

from . import params as p
from .serializers import Count, InsightsResponse, Money
from .views import InsightsApi, _insights_schema

# The definitions come from the figure registry, so the API and the dashboard say the same.
ROOM_FIELD_HELP: dict[str, Promise] = {name: figure_help(name) for name in ROOM_FIELDS}
SURVEY_FIELD_HELP: dict[str, Promise] = {name: figure_help(name) for name in SURVEY_FIELDS}
LEVEL_FIELD_HELP: dict[str, Promise] = {name: figure_help(name) for name in LEVEL_FIELDS}
DECIMAL_FIELDS = {
    "resolution_pct",
    "csat_avg",
    "csat_pct",
    "fcr_pct",
    "nps",
    "ces_avg",
    "first_response_met_pct",
    "resolution_met_pct",
}


def _field(name: str, help_text: str | Promise, **kwargs: Any) -> serializers.Field:
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
        **{name: _field(name, LEVEL_FIELD_HELP[name]) for name in TARGET_FIELDS},
        **{
            name: _field(
                name,
                format_lazy("{} Counted for the survey answers naming a room of this label.", text),
            )
            for name, text in SURVEY_FIELD_HELP.items()
        },
    },
)

ServiceBacklogSerializer = type(
    "ServiceBacklogSerializer",
    (serializers.Serializer,),
    {name: Count(f"Open rooms aged {name.replace('_', ' ')} at computed_at.")
     for name in BACKLOG_BUCKETS},
)  # fmt: skip

ServicePreviousSerializer = type(
    "ServicePreviousSerializer",
    (serializers.Serializer,),
    {
        name: _field(
            name,
            format_lazy("The figure for the period compared with (null before P starts): {}", text),
            allow_null=True,
        )
        for name, text in {**ROOM_FIELD_HELP, **SURVEY_FIELD_HELP, **LEVEL_FIELD_HELP}.items()
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
        **{name: _field(name, text) for name, text in LEVEL_FIELD_HELP.items()},
        "open_rooms": Count(figure_help("open_rooms")),
        "backlog_age": ServiceBacklogSerializer(help_text=figure_help("backlog_age")),
        "nps_promoters": Count("NPS responses scoring 9–10."),
        "nps_passives": Count("NPS responses scoring 7–8."),
        "nps_detractors": Count("NPS responses scoring 0–6."),
        "by_channel": ServiceRowSerializer(
            many=True,
            help_text="Every room figure, the target figures and the answers naming a room, per "
            "channel; rooms desc, then label.",
        ),
        "by_agent": ServiceRowSerializer(
            many=True,
            help_text="Every room figure, the target figures and the answers naming a room, per "
            "agent; rooms desc, then label.",
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
        return asdict(service.service_figures(period=period, granularity=granularity))
