"""The dashboard's presenter: the figures of `insights.queries` shaped for the template.

Cards take their label, help text and unit from the figure registry (insights/figures.py);
charts get plain numbers (Chart.js cannot read Decimal) and the drill-down link of each element.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from .. import customer_filters, queries
from ..figures import cards, figure
from ..templatetags.insights_format import country_label, display_label
from . import drilldown
from .drilldown import (
    DrillDown,
    drill_cell,
    drill_company,
    drill_new,
    drill_place,
    drill_rfm_group,
    drill_source,
)
from .params import DashboardParams


def section_cards(section_key: str, result: Any) -> list[dict[str, Any]]:
    """The section's cards, one per headline figure of the registry: label, help text, unit
    and "up is bad" from the registry, the value from the section's result."""
    return [
        {
            "key": entry.key,
            "label": entry.label,
            "value": getattr(result, entry.key),
            "kind": entry.unit,
            "help": entry.help,
            "up_is_bad": entry.up_is_bad,
        }
        for entry in cards(section_key)
    ]


def _heat(count: int, top: int) -> int:
    """0-5 colour step of a grid cell; 0 only for an empty cell."""
    if count <= 0 or top <= 0:
        return 0
    return max(1, -(-5 * count // top))


def _num(value: Decimal | int) -> float | int:
    # Chart.js needs numbers; the exact Decimal stays in the tables beside each chart.
    return float(value) if isinstance(value, Decimal) else value


def dashboard_figures(*, params: DashboardParams) -> dict[str, Any]:
    """Every figure of the dashboard for `params`, from `insights.queries` only."""
    period = params.period
    growth = queries.growth_overview(period=period, granularity=params.granularity)
    demo = queries.demographics(period=period, scope=params.scope)
    sales = queries.sales_lifecycle(period=period, granularity=params.granularity)
    lost = queries.lost_reasons(period=period)
    products = queries.top_products(period=period, order=params.order)
    rfm_groups = queries.rfm_groups(period=period)
    grid = queries.rfm_grid(period=period)
    kpis = queries.revenue_kpis(period=period)

    trend = [
        {
            "bucket": b,
            "drill": drill_new(start=b.start, end=b.end),
            "total_drill": DrillDown(drilldown.growth_total_filters(end=b.end)),
            "inactive_drill": DrillDown(
                drilldown.growth_inactive_filters(start=b.start, end=b.end)
            ),
        }
        for b in growth.trend
    ]
    association_rows = [
        {"row": b, "drill": DrillDown(drilldown.association_filters(start=b.start, end=b.end))}
        for b in sales.association_trend
    ]
    lost_rows = [
        {
            "row": r,
            "drill": DrillDown(drilldown.lost_reason_filters(reason=r.reason, period=period)),
        }
        for r in lost
    ]
    external_ids = drilldown.product_external_ids(p.product_id for p in products)
    # The chart counts won deals, the drill-down lists their customers: the row says both.
    buyers = customer_filters.product_buyers(
        product_ids=[p.product_id for p in products], period=period
    )
    product_rows = [
        {
            "row": p,
            "buyers": customer_filters.deals_by_customers(
                p.won_deals, buyers.get(p.product_id, (0, 0))[1]
            ),
            "drill": DrillDown(
                drilldown.product_filters(external_id=external_ids[p.product_id], period=period)
            )
            if p.product_id in external_ids
            else None,
        }
        for p in products
    ]
    sources = [
        {"row": r, "drill": _unless_others(r, drill_source(key=r.key, params=params))}
        for r in demo.by_source
    ]
    companies = [
        {"row": r, "drill": _unless_others(r, drill_company(key=r.key, params=params))}
        for r in demo.by_company
    ]
    countries = [
        {"row": r, "drill": _unless_others(r, drill_place("country", key=r.key, params=params))}
        for r in demo.by_country
    ]
    cities = [
        {"row": r, "drill": _unless_others(r, drill_place("city", key=r.key, params=params))}
        for r in demo.by_city
    ]
    rfm_group_rows = [
        {"row": g, "drill": drill_rfm_group(group=g.segment, period=period)} for g in rfm_groups
    ]
    top = max((count for row in grid for count in row), default=0)
    # Highest recency first, so the best customers sit at the top left like the usual RFM chart.
    grid_rows = [
        {
            "r": r,
            "cells": [
                {
                    "f": f,
                    "count": grid[r - 1][f - 1],
                    "heat": _heat(grid[r - 1][f - 1], top),
                    "drill": drill_cell(r=r, f=f, period=period),
                }
                for f in range(1, 6)
            ],
        }
        for r in range(5, 0, -1)
    ]
    charts = {
        "growth": {
            "labels": [b.start.isoformat() for b in growth.trend],
            "series": {
                "total": [b.total for b in growth.trend],
                "new": [b.new for b in growth.trend],
                "inactive": [b.inactive for b in growth.trend],
            },
            "urls": [t["drill"].url for t in trend],
            # Per dataset (total, new, inactive): each point lists the customers it counts.
            "dataset_urls": [
                [t["total_drill"].url for t in trend],
                [t["drill"].url for t in trend],
                [t["inactive_drill"].url for t in trend],
            ],
        },
        "source": _label_chart(sources),
        "company": _label_chart(companies),
        "country": _label_chart(countries, country_label),
        "city": _label_chart(cities),
        "association": {
            "labels": [b.start.isoformat() for b in sales.association_trend],
            "series": {"pct": [_num(b.pct) for b in sales.association_trend]},
            "urls": [a["drill"].url for a in association_rows],
        },
        "lost": {
            "labels": [display_label(r.reason) for r in lost],
            "series": {
                "deals": [r.deals for r in lost],
                "customers": [r.customers for r in lost],
            },
            "urls": [r["drill"].url for r in lost_rows],
        },
        "products": {
            "labels": [p.product for p in products],
            "series": {
                "won_deals": [p.won_deals for p in products],
                "revenue": [_num(p.revenue) for p in products],
            },
            "order": params.order,
            "urls": [r["drill"].url if r["drill"] else None for r in product_rows],
        },
        "segments": {
            "labels": [display_label(g.segment) for g in rfm_groups],
            "series": {
                "customers": [g.customers for g in rfm_groups],
                "revenue": [_num(g.revenue) for g in rfm_groups],
            },
            "urls": [g["drill"].url for g in rfm_group_rows],
        },
    }
    return {
        "growth": growth,
        "growth_figures": section_cards("growth", growth),
        "trend": trend,
        "sources": sources,
        "companies": companies,
        "countries": countries,
        "cities": cities,
        "sales": sales,
        "sales_figures": section_cards("sales", sales),
        "lost": lost,
        "products": products,
        "association_rows": association_rows,
        "lost_rows": lost_rows,
        "product_rows": product_rows,
        "segments": rfm_group_rows,
        "grid_rows": grid_rows,
        "kpis": kpis,
        "kpi_figures": section_cards("revenue", kpis),
        "charts": charts,
        "chart_labels": {
            "total": str(figure("total_customers").label),
            "new": str(figure("new_customers").label),
            "inactive": str(figure("inactive_customers").label),
            "customers": _("Customers"),
            "pct": str(figure("association_trend").label),
            "deals": _("Deals"),
            "won_deals": _("Won deals"),
            "revenue": str(figure("revenue").label),
        },
    }


def _label_chart(
    rows: list[dict[str, Any]], name: Callable[[object], str] = display_label
) -> dict[str, Any]:
    return {
        "labels": [name(r["row"].label) for r in rows],
        "series": {"customers": [r["row"].customers for r in rows]},
        "urls": [r["drill"].url if r["drill"] else None for r in rows],
        # "All others" sums many labels: the chart gives it a neutral colour of its own.
        "others": [_is_others(r["row"]) for r in rows],
    }


def _is_others(row: queries.LabelCount) -> bool:
    return row.key is None and row.label == queries.ALL_OTHERS


def _unless_others(row: queries.LabelCount, drill: DrillDown) -> DrillDown | None:
    # The "All others" row sums many labels: no one filter lists exactly its customers.
    return None if _is_others(row) else drill
