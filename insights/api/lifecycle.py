"""API of buyer lifecycle (METRICS.md G) and retention by cohort (H): params, shapes, views.

Kept beside views.py so the shared API modules only gain their URL lines; the views are the
same thin InsightsApi (parameters -> insights.lifecycle -> serializer).
"""

from dataclasses import asdict
from typing import Any

from rest_framework import serializers

from insights import lifecycle
from insights.section_params import EVENT, LOST_AFTER

from . import params as p
from .comparison_fields import comparison_fields
from .serializers import Count, InsightsResponse, Money
from .views import InsightsApi, _insights_schema

BUYING_DAYS = (
    "A customer's buying days are the close dates of its won deals, a close date after today "
    "included."
)


# --- Parameters -------------------------------------------------------------------------------
class LifecycleParams(p.TrendParams):
    lost_after = p.spec_field(
        LOST_AFTER,
        f"The lapse window W in days, {LOST_AFTER.bounds()}: a customer is lost on day d + W "
        "for every buying day d after which it buys nothing in (d, d + W]. " + BUYING_DAYS,
    )


class RetentionParams(p.PeriodParams):
    event = p.spec_field(
        EVENT,
        "`purchase`: a customer's cohort is the month of its first buying day and it is "
        "retained in a month when it has a buying day there. `activity`: the cohort is the "
        "month it was first seen and it is retained in a month with a chat room or deal "
        f"created (default `{EVENT.default}`). " + BUYING_DAYS,
    )


# --- Responses --------------------------------------------------------------------------------
class LifecycleBucketSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First local date of the bucket b.")
    end = serializers.DateField(help_text="Last local date of the bucket b.")
    new_buyers = Count("Customers whose first buying day is in b.")
    returning_buyers = Count("Customers with a buying day in b and a buying day before b's start.")
    lost_buyers = Count(
        "Customers with a lost day in b (a buying day d + lost_after with no buying day in "
        "between); a lost day after today has not happened and does not count."
    )


class LifecycleSerializer(InsightsResponse):
    lost_after = Count("The lapse window W in days used for these figures.")
    new_buyers = Count("Customers whose first buying day is in P.")
    returning_buyers = Count("Customers with a buying day in P and a buying day before P's start.")
    lost_buyers = Count(
        "Customers with a lost day in P, counted once; lost on d + W for a buying day d with no "
        "buying day in (d, d + W]; not after today."
    )
    active_buyers_start = Count(
        "Customers active on start − 1: with a buying day in [start − W, start − 1]."
    )
    churned_buyers = Count("Of the active_buyers_start, those with a lost day in P.")
    buyer_churn_pct = Money("100 × churned_buyers / active_buyers_start.")
    buyer_retention_pct = Money(
        "100 × (active_buyers_start − churned_buyers) / active_buyers_start."
    )
    trend = LifecycleBucketSerializer(many=True, help_text="One entry per bucket of P.")
    previous, change_pct = comparison_fields("Lifecycle", locals(), "lifecycle")


class CohortSerializer(serializers.Serializer):
    cohort = serializers.CharField(help_text="The cohort month c, YYYY-MM.")
    size = Count("Customers of cohort c.")
    retained = serializers.ListField(
        child=serializers.IntegerField(),
        help_text=(
            "retained[k], k = 0, 1, …, 12: customers of cohort c with a buying day (activity: an "
            "activity) in month c + k; only months that have begun by today (none for a cohort "
            "month that has not begun)."
        ),
    )
    pct = serializers.ListField(
        child=serializers.DecimalField(max_digits=None, decimal_places=2, coerce_to_string=True),
        help_text="100 × retained[k] / size, 2 places (0 when size is 0).",
    )


class RetentionSerializer(InsightsResponse):
    event = serializers.ChoiceField(
        choices=lifecycle.EVENTS, help_text="What starts a cohort and what retains it."
    )
    cohorts = CohortSerializer(
        many=True,
        help_text=(
            "Every calendar month of P, oldest first (the whole month, even where P cuts it; "
            "an empty cohort too, with size 0)."
        ),
    )


# --- Views ------------------------------------------------------------------------------------
@_insights_schema(LifecycleParams, LifecycleSerializer, "lifecycle")
class LifecycleApi(InsightsApi):
    params_class = LifecycleParams
    output_class = LifecycleSerializer
    is_trend = True

    def figures(self, *, period, granularity, lost_after) -> dict[str, Any]:
        result = lifecycle.buyer_lifecycle(
            period=period, granularity=granularity, lost_after=lost_after
        )
        return asdict(result)


@_insights_schema(RetentionParams, RetentionSerializer, "retention")
class RetentionApi(InsightsApi):
    params_class = RetentionParams
    output_class = RetentionSerializer

    def figures(self, *, period, event) -> dict[str, Any]:
        return asdict(lifecycle.cohort_retention(period=period, event=event))
