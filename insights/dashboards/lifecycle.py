"""Dashboard parts of issue 14: buyer lifecycle, retention, Putler KPI cards, comparisons.

insights.dashboards.views calls `lifecycle_dashboard` once with its parameters and figures; the
figures come from insights.lifecycle and insights.queries only (the rollups), the previous
period's from the same functions (insights.comparison).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.translation import gettext as _

from .. import lifecycle
from ..comparison import headline_comparison
from ..figures import figure as registry_figure
from ..periods import PeriodError
from ..section_params import EVENT, LOST_AFTER, ParamError
from .core import section_cards
from .drilldown import customer_list_url

# Help texts from the figure registry (insights/figures.py), by key.
HELP = {key: registry_figure(key).help for key in ("lifecycle_trend", "retention")}


def lifecycle_choices(query: QueryDict) -> tuple[int, str]:
    """(lost_after, event) of the dashboard's querystring; PeriodError names a bad one."""
    # The sections' specs first (insights.section_params): a value the API refuses gets the
    # API's words; then the page's own narrower choice of lapse windows.
    try:
        lost_after = LOST_AFTER.parse(query.get("lost_after"))
        event = EVENT.parse(query.get("event"))
    except ParamError as error:
        raise PeriodError(error.param, error.message) from None
    if lost_after not in LOST_AFTER.offered:
        raise PeriodError(
            "lost_after",
            _("Lost after must be one of %(choices)s days.")
            % {"choices": ", ".join(map(str, LOST_AFTER.offered))},
        )
    return lost_after, event


def _direction(up_is_bad: bool, value: Any, previous: Any) -> tuple[str, str]:
    """(arrow, tone): up/down/flat and good/bad/neutral by what the figure means."""
    if value is None or previous is None or value == previous:
        return "flat", "neutral"
    up = value > previous
    good = up != up_is_bad
    return ("up" if up else "down"), ("good" if good else "bad")


def compare_figures(cards: list[dict[str, Any]], compared: dict[str, dict[str, Any]]) -> None:
    """Add previous value, change % and a meaningful arrow to each card, in place.

    `compared` is insights.comparison.headline_comparison's answer; nothing is computed here.
    """
    for card in cards:
        key = card["key"]
        if key not in compared["previous"]:
            continue
        before = compared["previous"][key]
        arrow, tone = _direction(registry_figure(key).up_is_bad, card["value"], before)
        card.update(previous=before, change=compared["change_pct"][key], arrow=arrow, tone=tone)


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

    `params` are insights.dashboards.views's DashboardParams and `figures` its dashboard_figures();
    the headline card lists in `figures` gain previous/change/arrow in place.
    """
    period, granularity = params.period, params.granularity
    result = lifecycle.buyer_lifecycle(
        period=period, granularity=granularity, lost_after=lost_after
    )
    retention = lifecycle.cohort_retention(period=period, event=event)
    lifecycle_figures = section_cards("lifecycle", result)
    options = {"period": period, "granularity": granularity, "lost_after": lost_after}
    for cards, key, current in (
        (figures["growth_figures"], "growth", figures["growth"]),
        (figures["sales_figures"], "sales", figures["sales"]),
        (figures["kpi_figures"], "revenue", figures["kpis"]),
        (lifecycle_figures, "lifecycle", result),
    ):
        compare_figures(
            cards, headline_comparison(section_key=key, options=options, current=current)
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
