"""Dashboard parts of issue 14: buyer lifecycle, retention, Putler KPI cards, comparisons.

insights.dashboard calls `lifecycle_dashboard` once with its parameters and figures; the
figures come from insights.lifecycle and insights.queries only (the rollups), the previous
period's from the same functions (insights.comparison).
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.translation import gettext as _

from . import lifecycle, queries
from .comparison import change_pct, previous_period
from .drilldown import customer_list_url
from .figures import figure as registry_figure
from .periods import Period, PeriodError

# More of these is bad news: their arrows turn red when they go up.
BAD_WHEN_UP = frozenset(
    {
        "inactive_customers",
        "monthly_avg_inactive_customers",
        "lost_buyers",
        "churned_buyers",
        "buyer_churn_pct",
        "hours_per_new_customer",
    }
)

# Help texts from the figure registry (insights/figures.py), by key.
HELP = {
    key: registry_figure(key).help
    for key in (
        "won_deals",
        "avg_order_value",
        "win_rate_pct",
        "revenue_per_day",
        "new_customers_per_day",
        "hours_per_new_customer",
        "new_buyers",
        "returning_buyers",
        "lost_buyers",
        "active_buyers_start",
        "churned_buyers",
        "buyer_churn_pct",
        "buyer_retention_pct",
        "lifecycle_trend",
        "retention",
    )
}


def lifecycle_choices(query: QueryDict) -> tuple[int, str]:
    """(lost_after, event) of the dashboard's querystring; PeriodError names a bad one."""
    raw = query.get("lost_after") or str(lifecycle.LOST_AFTER_DEFAULT)
    if raw not in {str(choice) for choice in lifecycle.LOST_AFTER_CHOICES}:
        raise PeriodError(
            "lost_after",
            _("Lost after must be one of %(choices)s days.")
            % {"choices": ", ".join(map(str, lifecycle.LOST_AFTER_CHOICES))},
        )
    event = query.get("event") or "purchase"
    if event not in lifecycle.EVENTS:
        raise PeriodError(
            "event", _("Unknown event %(value)r: purchase or activity.") % {"value": event}
        )
    return int(raw), event


def _direction(key: str, value: Any, previous: Any) -> tuple[str, str]:
    """(arrow, tone): up/down/flat and good/bad/neutral by what the figure means."""
    if value == previous:
        return "flat", "neutral"
    up = value > previous
    good = up != (key in BAD_WHEN_UP)
    return ("up" if up else "down"), ("good" if good else "bad")


def compare_figures(figures: list[dict[str, Any]], previous: dict[str, Any]) -> None:
    """Add previous value, change % and a meaningful arrow to each headline card, in place."""
    for figure in figures:
        key = figure["key"]
        if key not in previous:
            continue
        before = previous[key]
        arrow, tone = _direction(key, figure["value"], before)
        figure.update(
            previous=before, change=change_pct(figure["value"], before), arrow=arrow, tone=tone
        )


def _previous(compute: Any, period: Period, **options: Any) -> dict[str, Any]:
    try:
        before = previous_period(period)
    except OverflowError:
        return {}
    return asdict(compute(period=before, **options))


def _figure(key: str, label: str, value: Any, kind: str = "count") -> dict[str, Any]:
    # Label, unit and help text come from the registry; `label` and `kind` say it at the call.
    entry = registry_figure(key)
    return {
        "key": key,
        "label": entry.label,
        "value": value,
        "kind": entry.unit,
        "help": entry.help,
    }


def _drill(filters: dict[str, str]) -> str:
    return f"{customer_list_url()}?{urlencode(filters)}"


def _heat(pct: Decimal) -> int:
    """0-5 shading step of a retention cell by its percentage; 0 only for 0%."""
    if pct <= 0:
        return 0
    return min(5, 1 + int(pct // 20))


def lifecycle_dashboard(
    *, params: Any, figures: dict[str, Any], lost_after: int, event: str
) -> dict[str, Any]:
    """Context of the lifecycle and retention sections, the new KPI cards and comparisons.

    `params` are insights.dashboard's DashboardParams and `figures` its dashboard_figures();
    the headline card lists in `figures` gain previous/change/arrow in place.
    """
    period, granularity = params.period, params.granularity
    result = lifecycle.buyer_lifecycle(
        period=period, granularity=granularity, lost_after=lost_after
    )
    retention = lifecycle.cohort_retention(period=period, event=event)
    kpis = figures["kpis"]
    figures["kpi_figures"].extend(
        [
            _figure("won_deals", _("Won deals"), kpis.won_deals),
            _figure("avg_order_value", _("Average order value"), kpis.avg_order_value, "money"),
            _figure("win_rate_pct", _("Win rate"), kpis.win_rate_pct, "pct"),
            _figure("revenue_per_day", _("Revenue per day"), kpis.revenue_per_day, "money"),
            _figure(
                "new_customers_per_day",
                _("New customers per day"),
                kpis.new_customers_per_day,
                "decimal",
            ),
            _figure(
                "hours_per_new_customer",
                _("A new customer every … hours"),
                kpis.hours_per_new_customer,
                "decimal",
            ),
        ]
    )
    lifecycle_figures = [
        _figure("new_buyers", _("New buyers"), result.new_buyers),
        _figure("returning_buyers", _("Returning buyers"), result.returning_buyers),
        _figure("lost_buyers", _("Lost buyers"), result.lost_buyers),
        _figure("active_buyers_start", _("Active buyers at the start"), result.active_buyers_start),
        _figure("churned_buyers", _("Churned buyers"), result.churned_buyers),
        _figure("buyer_churn_pct", _("Buyer churn"), result.buyer_churn_pct, "pct"),
        _figure("buyer_retention_pct", _("Buyer retention"), result.buyer_retention_pct, "pct"),
    ]
    compare_figures(
        figures["growth_figures"],
        _previous(queries.growth_overview, period, granularity=granularity),
    )
    compare_figures(
        figures["sales_figures"],
        _previous(queries.sales_lifecycle, period, granularity=granularity),
    )
    compare_figures(figures["kpi_figures"], _previous(queries.revenue_kpis, period))
    compare_figures(
        lifecycle_figures,
        _previous(
            lifecycle.buyer_lifecycle, period, granularity=granularity, lost_after=lost_after
        ),
    )

    def buyers(state: str, start: Any, end: Any) -> str:
        return _drill(
            {
                "buyers": state,
                "buyers_start": start.isoformat(),
                "buyers_end": end.isoformat(),
                "lost_after": str(lost_after),
            }
        )

    trend = [
        {
            "bucket": b,
            "new_url": buyers("new", b.start, b.end),
            "returning_url": buyers("returning", b.start, b.end),
            "lost_url": buyers("lost", b.start, b.end),
        }
        for b in result.trend
    ]
    cohorts = [
        {
            "cohort": c,
            "cells": [
                {
                    "k": k,
                    "count": n,
                    "pct": pct,
                    "heat": _heat(pct),
                    "url": _drill({"cohort": c.cohort, "cohort_offset": str(k), "event": event}),
                }
                for k, (n, pct) in enumerate(zip(c.retained, c.pct, strict=True))
            ],
        }
        for c in retention.cohorts
    ]
    keep = {"lost_after": str(lost_after), "event": event}
    # The other switches of the page keep these choices in the URL too (when not the default).
    chosen = {
        name: value
        for name, value in keep.items()
        if value not in (str(lifecycle.LOST_AFTER_DEFAULT), "purchase")
    }
    switches = (
        "scope_all_query",
        "scope_new_query",
        "order_frequency_query",
        "order_revenue_query",
    )
    for name in switches:
        if name in figures and chosen:
            figures[name] = f"{figures[name]}&{urlencode(chosen)}"
    figures["charts"]["lifecycle"] = {
        "labels": [b.start.isoformat() for b in result.trend],
        "series": {
            "new_buyers": [b.new_buyers for b in result.trend],
            "returning_buyers": [b.returning_buyers for b in result.trend],
            "lost_buyers": [b.lost_buyers for b in result.trend],
        },
        "series_urls": [
            [t["new_url"] for t in trend],
            [t["returning_url"] for t in trend],
            [t["lost_url"] for t in trend],
        ],
    }
    figures["chart_labels"].update(
        new_buyers=_("New buyers"),
        returning_buyers=_("Returning buyers"),
        lost_buyers=_("Lost buyers"),
    )
    return {
        "lifecycle": result,
        "lifecycle_figures": lifecycle_figures,
        "lifecycle_trend": trend,
        "lifecycle_help": HELP,
        "lost_after": lost_after,
        "lost_after_links": [
            (choice, params.query(**{**keep, "lost_after": str(choice)}))
            for choice in lifecycle.LOST_AFTER_CHOICES
        ],
        "event": event,
        "event_links": [
            ("purchase", _("Purchase"), params.query(**{**keep, "event": "purchase"})),
            ("activity", _("Activity"), params.query(**{**keep, "event": "activity"})),
        ],
        "retention_offsets": range(lifecycle.MAX_OFFSET + 1),
        "retention_rows": cohorts,
        "lifecycle_keep": keep,
    }
