"""`previous` and `change_pct` on the headline responses (METRICS.md section 4, Comparison).

The API views name their headline fields; the figures are computed again for the previous
period P' (insights.comparison) with the same options and compared as reported.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from rest_framework import serializers

from insights.comparison import comparison, previous_period

GROWTH_HEADLINE = (
    "total_customers",
    "new_customers",
    "monthly_avg_new_customers",
    "inactive_customers",
    "monthly_avg_inactive_customers",
)
SALES_HEADLINE = (
    "total_customers",
    "customers_with_deals",
    "deal_association_pct",
    "customers_with_won_deals",
    "won_customers_pct",
    "total_deal_size",
    "avg_deal_size_per_customer",
)
REVENUE_HEADLINE = (
    "revenue",
    "paying_customers",
    "avg_revenue_per_customer",
    "top_20pct_revenue_share",
    "avg_lifetime_value",
    "one_time_customers",
    "repeat_customers",
    "won_deals",
    "avg_order_value",
    "win_rate_pct",
    "revenue_per_day",
    "new_customers_per_day",
    "hours_per_new_customer",
)
LIFECYCLE_HEADLINE = (
    "new_buyers",
    "returning_buyers",
    "lost_buyers",
    "active_buyers_start",
    "churned_buyers",
    "buyer_churn_pct",
    "buyer_retention_pct",
)

PREVIOUS_HELP = (
    "Each headline figure for the previous period P′ = [start − days(P), start − 1], the same "
    "length just before P."
)
CHANGE_HELP = (
    "Per headline figure, 100 × (value − previous) / previous from the two figures as "
    "reported, rounded half away from zero to 2 places; null when previous is 0 (no baseline, "
    "not the same as no change)."
)


def comparison_fields(
    name: str, declared: Mapping[str, Any], headline: tuple[str, ...]
) -> tuple[serializers.Serializer, serializers.Serializer]:
    """The `previous` and `change_pct` fields of a response serializer, from its own fields."""
    previous = type(
        f"{name}PreviousSerializer",
        (serializers.Serializer,),
        {field: copy.deepcopy(declared[field]) for field in headline},
    )
    change = type(
        f"{name}ChangeSerializer",
        (serializers.Serializer,),
        {
            field: serializers.DecimalField(
                max_digits=None,
                decimal_places=2,
                coerce_to_string=True,
                allow_null=True,
                help_text=f"Change of {field} against P′ in %; null when its previous value is 0.",
            )
            for field in headline
        },
    )
    return previous(help_text=PREVIOUS_HELP), change(help_text=CHANGE_HELP)


def headline_comparison(
    figures: Callable[..., dict[str, Any]],
    options: dict[str, Any],
    current: Mapping[str, Any],
    headline: tuple[str, ...],
) -> dict[str, Any]:
    """{"previous": ..., "change_pct": ...} for `current`, the figures of options["period"]."""
    try:
        before = previous_period(options["period"])
    except OverflowError:  # P starts in year 1: nothing happened before it
        earlier = {name: type(current[name])(0) for name in headline}
    else:
        earlier = figures(**{**options, "period": before})
    previous, change = comparison(current, earlier, headline)
    return {"previous": previous, "change_pct": change}
