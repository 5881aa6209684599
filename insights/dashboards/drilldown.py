"""Where a chart element of the dashboard leads: the filtered customer list and its CSV export.

Each bar, slice, RFM group and grid cell links to the admin customer list with the filters
that select exactly the customers it counts, and to the same rows as CSV from the API:

* growth trend, bucket b: total = first seen on or before b's end (Base(b)); new = first seen
  in b; inactive = in Base(b) with no deal and no chat room created in b;
* association trend, bucket b: customers in Base(b) with a deal created in b;
* lost reasons: customers with a lost deal for that reason closed in P;
* top products: customers with a won deal that includes the product, closed in P (the chart
  counts won deals; the list shows their customers, deals without a customer have none).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from urllib.parse import urlencode

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import translation

from deals.models import Product

from ..periods import Period
from .params import DashboardParams


# --- Drill-down -------------------------------------------------------------------------------
def _url(name: str, fallback: str) -> str:
    # A page draws hundreds of drill-down links to the same list (one per company, cell,
    # bucket...): reverse() once per URLconf, script prefix and language, not once per link.
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _reversed(name, fallback, urlconf, get_script_prefix(), translation.get_language())


@lru_cache(maxsize=64)
def _reversed(name: str, fallback: str, urlconf: str, prefix: str, language: str | None) -> str:
    try:
        return reverse(name, urlconf=urlconf)
    except NoReverseMatch:
        return fallback


def customer_list_url() -> str:
    return _url("admin:customers_customer_changelist", "/admin/customers/customer/")


def customer_csv_base() -> str:
    return "/api/v1/customers/"


@dataclass(frozen=True)
class DrillDown:
    """Where a bar, slice, RFM group or cell leads: the filtered customer list and its CSV."""

    filters: dict[str, str]

    @property
    def query(self) -> str:
        return urlencode(self.filters)

    @property
    def url(self) -> str:
        return f"{customer_list_url()}?{self.query}"

    @property
    def csv_url(self) -> str:
        return f"{customer_csv_base()}?{urlencode({'format': 'csv', **self.filters})}"


def drill_source(*, key: str | None, params: DashboardParams) -> DrillDown:
    return DrillDown({"source": key or "Other", **_scope_filters(params)})


def drill_company(*, key: str | None, params: DashboardParams) -> DrillDown:
    return DrillDown({"company": key or "none", **_scope_filters(params)})


def drill_place(param: str, *, key: str | None, params: DashboardParams) -> DrillDown:
    return DrillDown({param: key or "Other", **_scope_filters(params)})


def _scope_filters(params: DashboardParams) -> dict[str, str]:
    # Demographics count Base(P) (first seen by the end) or, with scope=new, those first seen in P.
    filters = {"first_seen_to": params.period.end.isoformat()}
    if params.scope == "new":
        filters = {"first_seen_from": params.period.start.isoformat(), **filters}
    return filters


def drill_new(*, start: date, end: date) -> DrillDown:
    return DrillDown({"first_seen_from": start.isoformat(), "first_seen_to": end.isoformat()})


def drill_rfm_group(*, group: str, period: Period) -> DrillDown:
    # The customer list's parameter for an RFM group is `segment` (CONTRACT.md).
    return DrillDown({"segment": group, **_rfm_period(period)})


def drill_cell(*, r: int, f: int, period: Period) -> DrillDown:
    return DrillDown({"r": str(r), "f": str(f), **_rfm_period(period)})


def _rfm_period(period: Period) -> dict[str, str]:
    return {"rfm_start": period.start.isoformat(), "rfm_end": period.end.isoformat()}


# --- The filters behind the trend points and table rows ---------------------------------------
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
