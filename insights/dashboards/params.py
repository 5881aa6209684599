"""The dashboard's querystring: parsed by the API's own parameter serializers (one set of rules).

The dashboard adds only what a form needs on top of the API: the "Custom range" choice of the
period select, translated labels for presets and granularities, and the querystring that
reproduces a view. A bad value raises PeriodError naming the parameter, with a message in the
active language, so the form can show it beside the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..api import params as api_params
from ..periods import (
    CURRENT_PRESETS,
    NEXT_PRESETS,
    PAST_PRESETS,
    Period,
    PeriodError,
    buckets,
    parse_period,
)

CUSTOM = "custom"

PRESET_LABELS = {
    "yesterday": gettext_lazy("Yesterday"),
    "last_7_days": gettext_lazy("Last 7 days"),
    "last_14_days": gettext_lazy("Last 14 days"),
    "last_30_days": gettext_lazy("Last 30 days"),
    "last_90_days": gettext_lazy("Last 90 days"),
    "last_week": gettext_lazy("Last week"),
    "last_month": gettext_lazy("Last month"),
    "last_quarter": gettext_lazy("Last quarter"),
    "last_year": gettext_lazy("Last year"),
    "today": gettext_lazy("Today"),
    "this_week": gettext_lazy("This week"),
    "this_month": gettext_lazy("This month"),
    "this_quarter": gettext_lazy("This quarter"),
    "this_year": gettext_lazy("This year"),
    "tomorrow": gettext_lazy("Tomorrow"),
    "next_7_days": gettext_lazy("Next 7 days"),
    "next_30_days": gettext_lazy("Next 30 days"),
    "next_week": gettext_lazy("Next week"),
    "next_month": gettext_lazy("Next month"),
    "next_quarter": gettext_lazy("Next quarter"),
    "next_year": gettext_lazy("Next year"),
}
PRESET_GROUPS = (
    (gettext_lazy("Past"), PAST_PRESETS),
    (gettext_lazy("Current"), CURRENT_PRESETS),
    (gettext_lazy("Next"), NEXT_PRESETS),
)
GRANULARITY_LABELS = {
    "auto": gettext_lazy("Automatic"),
    "day": gettext_lazy("Day"),
    "week": gettext_lazy("Week"),
    "month": gettext_lazy("Month"),
}


def preset_groups() -> list[tuple[Any, list[tuple[str, Any]]]]:
    """The period select's option groups: (group label, [(preset, label), ...])."""
    return [
        (label, [(name, PRESET_LABELS[name]) for name in names]) for label, names in PRESET_GROUPS
    ]


@dataclass(frozen=True)
class DashboardParams:
    period: Period
    granularity: str
    scope: str
    order: str

    def query(self, **overrides: str) -> str:
        """The querystring that reproduces this view, with `overrides` applied."""
        values = {"granularity": self.granularity, "scope": self.scope, "order": self.order}
        if self.period.preset:
            values["preset"] = self.period.preset
        else:
            values.update(
                preset=CUSTOM,
                start=self.period.start.isoformat(),
                end=self.period.end.isoformat(),
            )
        values.update(overrides)
        return urlencode(values)


class _DashboardQuery(
    api_params.TrendParams, api_params.DemographicsParams, api_params.TopProductsParams
):
    """The API's period, granularity, scope and order parameters, validated together."""


def dashboard_params(*, query: QueryDict) -> DashboardParams:
    """The dashboard's choices from its querystring; raises PeriodError naming a bad one."""
    data = {
        key: query[key]
        for key in ("preset", "start", "end", "granularity", "scope", "order")
        if query.get(key)
    }
    if data.get("preset") == CUSTOM:
        # The form's "Custom range": start and end give the period.
        del data["preset"]
        if "start" not in data and "end" not in data:
            raise PeriodError("start", _("Choose a start and an end date for a custom range."))
    # The period first, on its own: its errors keep the form's words (PeriodError.form_message:
    # the field labels and the reader's dates), which the serializer's error list would drop.
    parse_period(preset=data.get("preset"), start=data.get("start"), end=data.get("end"))
    serializer = _DashboardQuery(data=data)
    if not serializer.is_valid():
        param, messages = next(iter(serializer.errors.items()))
        raise PeriodError(param, str(messages[0]))
    period = serializer.validated_data["period"]
    granularity = data.get("granularity", "auto")
    buckets(period, granularity)  # raises PeriodError for more buckets than a chart can hold
    return DashboardParams(
        period=period,
        granularity=granularity,
        scope=serializer.validated_data["scope"],
        order=serializer.validated_data["order"],
    )
