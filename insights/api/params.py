"""Query parameters of the API, validated by DRF serializers (CONTRACT.md section 4).

Each serializer's `validated_data` holds the keyword arguments of an insights.queries
function: `period` (an insights.periods.Period) plus its own options. Help texts are the
METRICS.md wording, so the OpenAPI schema documents every parameter.
"""

from typing import Any

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from insights.customer_filters import segments_visible
from insights.periods import GRANULARITIES, PRESETS, PeriodError, parse_period, resolve_granularity
from insights.queries import ORDERS, SCOPES
from insights.section_params import HORIZON, MODEL, ROWS, ParamError, Spec, WholeSpec

PRESET_HELP = (
    "A named period relative to today (the local date now, settings.TIME_ZONE). Past: "
    "`yesterday`, `last_7_days`, `last_14_days`, `last_30_days`, `last_90_days` (the N days "
    "ending yesterday), `last_week`, `last_month`, `last_quarter`, `last_year` (the previous "
    "whole calendar week/month/quarter/year). Current: `today`, `this_week`, `this_month`, "
    "`this_quarter`, `this_year` (the whole calendar period that contains today). Next: "
    "`tomorrow`, `next_7_days`, `next_30_days` (the N days starting tomorrow), `next_week`, "
    "`next_month`, `next_quarter`, `next_year`. Not together with start/end; with neither, "
    "`last_30_days`."
)
START_HELP = (
    "First local date of the period P = [start, end], a closed range (YYYY-MM-DD); "
    "needs `end`, not together with `preset`."
)
END_HELP = (
    "Last local date of the period P = [start, end], included (YYYY-MM-DD); "
    "needs `start`, on or after it."
)
GRANULARITY_HELP = (
    "Trend buckets: each calendar day, ISO week (Monday to Sunday) or calendar month that "
    "intersects P, cut to P. `auto` picks `day` when P has at most 31 days, `week` when at "
    "most 183, else `month`."
)


def spec_field(spec: Spec, help_text: str) -> serializers.Field:
    """A query parameter parsed by its section's spec (insights.section_params): the API's 400
    says what the dashboard and the customer filters say of the same value; the schema gets
    the spec's bounds or choices."""
    if isinstance(spec, WholeSpec):
        return WholeField(
            spec=spec, min_value=spec.low, max_value=spec.high, default=spec.default,
            help_text=help_text,
        )  # fmt: skip
    return ChoiceSpecField(
        spec=spec, choices=spec.choices, default=spec.default, help_text=help_text
    )


class _SpecParsed:
    spec: Spec

    def to_internal_value(self, data: Any) -> Any:
        try:
            return self.spec.parse(data)
        except ParamError as error:
            raise serializers.ValidationError(error.message) from None


class WholeField(_SpecParsed, serializers.IntegerField):
    def __init__(self, *, spec: Spec, **kwargs: Any) -> None:
        self.spec = spec
        super().__init__(**kwargs)


class ChoiceSpecField(_SpecParsed, serializers.ChoiceField):
    def __init__(self, *, spec: Spec, **kwargs: Any) -> None:
        self.spec = spec
        super().__init__(**kwargs)


_ISO_DATE = RegexValidator(r"^\d{4}-\d{2}-\d{2}$", "Enter a date in the form YYYY-MM-DD.")


@extend_schema_field(OpenApiTypes.DATE)
class IsoDateField(serializers.CharField):
    """A YYYY-MM-DD string, parsed later by insights.periods so the rules live in one place."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, validators=[_ISO_DATE], **kwargs)


class PeriodParams(serializers.Serializer):
    """`preset`, or `start` and `end`; validated_data = {"period": Period}."""

    preset = serializers.ChoiceField(
        choices=PRESETS,
        required=False,
        help_text=PRESET_HELP,
        error_messages={"invalid_choice": _("unknown preset '{input}'; see the list of presets.")},
    )
    start = IsoDateField(help_text=START_HELP)
    end = IsoDateField(help_text=END_HELP)

    # The names under which this serializer's period parameters reach the client.
    param_names = {"preset": "preset", "start": "start", "end": "end"}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            period = parse_period(
                preset=attrs.pop("preset", None),
                start=attrs.pop("start", None),
                end=attrs.pop("end", None),
            )
        except PeriodError as error:
            raise serializers.ValidationError(
                {self.param_names.get(error.param, error.param): [error.message]}
            ) from None
        return {**attrs, "period": period}


class TrendParams(PeriodParams):
    """A period and a trend granularity; validated granularity is the resolved one."""

    granularity = serializers.ChoiceField(
        choices=GRANULARITIES,
        default="auto",
        help_text=GRANULARITY_HELP,
        error_messages={
            "invalid_choice": _("unknown granularity '{input}'; one of: day, week, month, auto")
        },
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs["granularity"] = resolve_granularity(attrs["period"], attrs["granularity"])
        return attrs


class DemographicsParams(PeriodParams):
    scope = serializers.ChoiceField(
        choices=SCOPES,
        default="all",
        error_messages={"invalid_choice": _("Unknown scope '{input}': all or new.")},
        help_text=(
            "`all`: over the customers first seen on or before `end`; "
            "`new`: over the customers first seen in P."
        ),
    )
    limit = spec_field(
        ROWS,
        f"Rows kept per list, {ROWS.bounds()}; the customers of the rows left out are "
        "summed in a last row labelled `All others`.",
    )


class TopProductsParams(PeriodParams):
    order = serializers.ChoiceField(
        choices=ORDERS,
        default="frequency",
        error_messages={"invalid_choice": _("Unknown order '{input}': frequency or revenue.")},
        help_text=(
            "`frequency` sorts by won_deals desc, revenue desc, name; "
            "`revenue` by revenue desc, won_deals desc, name."
        ),
    )
    limit = spec_field(ROWS, f"How many products, {ROWS.bounds()}.")


class CustomerValueParams(PeriodParams):
    horizon = spec_field(
        HORIZON,
        f"H, in days ({HORIZON.bounds()}): expected buying days and predicted value are "
        "for the days after the as-of date A up to and including A + H.",
    )
    model = spec_field(
        MODEL,
        "The purchase model: `mbgnbd` (MBG/NBD, a customer may drop out at its first "
        "purchase, so one-time buyers get a real P(alive)) or `bgnbd` (BG/NBD, every "
        f"one-time buyer has P(alive) 1); default `{MODEL.default}`.",
    )


class SegmentPeriodParams(PeriodParams):
    """A period and, optionally, a saved segment whose customers alone are counted."""

    segment_id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=10**18 - 1,
        help_text=(
            "A saved segment (yours or a shared one, see `segments/`): the figures count only "
            "its customers. RFM scores still rank each customer among every customer with a "
            "won deal in P."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        segment_id = attrs.pop("segment_id", None)
        if segment_id is None:
            return attrs
        request = self.context.get("request")
        segment = segments_visible(getattr(request, "user", None)).filter(pk=segment_id).first()
        if segment is None:
            raise serializers.ValidationError(
                {"segment_id": [f"No segment {segment_id} that you can see."]}
            )
        return {**attrs, "segment": segment}
