"""Where each point, bar and row of the dashboard leads: the customer-list filters
(insights.customer_filters) that list exactly the customers that figure counts.

* growth trend, bucket b: total = first seen on or before b's end (Base(b)); new = first seen
  in b; inactive = in Base(b) with no deal and no chat room created in b;
* association trend, bucket b: customers in Base(b) with a deal created in b;
* lost reasons: customers with a lost deal for that reason closed in P;
* top products: customers with a won deal that includes the product, closed in P (the chart
  counts won deals; the list shows their customers, deals without a customer have none).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from deals.models import Product

from .periods import Period


def _span(start: date, end: date) -> dict[str, str]:
    return {"start": start.isoformat(), "end": end.isoformat()}


def growth_total_filters(*, end: date) -> dict[str, str]:
    return {"first_seen_to": end.isoformat()}


def growth_new_filters(*, start: date, end: date) -> dict[str, str]:
    return {"first_seen_from": start.isoformat(), "first_seen_to": end.isoformat()}


def growth_inactive_filters(*, start: date, end: date) -> dict[str, str]:
    return {"inactive": "yes", **_span(start, end), "first_seen_to": end.isoformat()}


def association_filters(*, start: date, end: date) -> dict[str, str]:
    return {"has_deals": "yes", **_span(start, end), "first_seen_to": end.isoformat()}


def lost_reason_filters(*, reason: str, period: Period) -> dict[str, str]:
    return {"lost_reason": reason, **_span(period.start, period.end)}


def product_filters(*, external_id: str, period: Period) -> dict[str, str]:
    return {"product": external_id, **_span(period.start, period.end)}


def product_external_ids(product_ids: Iterable[int]) -> dict[int, str]:
    """external_id of each shown product, in one query; a product typed in admin has none."""
    rows = Product.objects.filter(pk__in=list(product_ids), external_id__isnull=False)
    return dict(rows.values_list("pk", "external_id"))
