"""Where a chart element of the dashboard leads: the filtered customer list and its CSV export.

Each bar, slice, RFM segment and grid cell links to the admin customer list with the filters
that select exactly the customers it counts, and to the same rows as CSV from the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from .dashboard_params import DashboardParams
from .periods import Period


# --- Drill-down -------------------------------------------------------------------------------
def _url(name: str, fallback: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return fallback


def customer_list_url() -> str:
    return _url("admin:customers_customer_changelist", "/admin/customers/customer/")


def customer_csv_base() -> str:
    return "/api/v1/customers/"


@dataclass(frozen=True)
class DrillDown:
    """Where a bar, slice, segment or cell leads: the filtered customer list and its CSV."""

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


def _scope_filters(params: DashboardParams) -> dict[str, str]:
    # Demographics count Base(P) (first seen by the end) or, with scope=new, those first seen in P.
    filters = {"first_seen_to": params.period.end.isoformat()}
    if params.scope == "new":
        filters = {"first_seen_from": params.period.start.isoformat(), **filters}
    return filters


def drill_new(*, start: date, end: date) -> DrillDown:
    return DrillDown({"first_seen_from": start.isoformat(), "first_seen_to": end.isoformat()})


def drill_segment(*, segment: str, period: Period) -> DrillDown:
    return DrillDown({"segment": segment, **_rfm_period(period)})


def drill_cell(*, r: int, f: int, period: Period) -> DrillDown:
    return DrillDown({"r": str(r), "f": str(f), **_rfm_period(period)})


def _rfm_period(period: Period) -> dict[str, str]:
    return {"rfm_start": period.start.isoformat(), "rfm_end": period.end.isoformat()}
