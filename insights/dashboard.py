"""Customer Insights pages inside Django admin: the dashboard, "recompute now" and customer 360°.

Views stay thin: the figures come only from `insights.queries` (which reads the rollups), the
360° page from one bounded set of prefetching queries. Everything a chart draws is embedded
with `json_script`, so the page needs no second request and no inline script.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.masking import can_see_personal_data, mask_email, mask_name, mask_phone
from chats.models import ChatContact, ChatRoom
from customers.models import Contact, Customer, CustomerAlias
from deals.models import Deal, DealItem, PipelineStage

from . import queries
from .periods import (
    CURRENT_PRESETS,
    GRANULARITIES,
    NEXT_PRESETS,
    PAST_PRESETS,
    Period,
    PeriodError,
    buckets,
    parse_period,
    resolve_granularity,
)

logger = logging.getLogger(__name__)

VIEW_PERM = "insights.view_insights"
REBUILD_PERM = "insights.run_rebuild"
SCOPES = ("all", "new")
ORDERS = ("frequency", "revenue")
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

# METRICS.md section 4, word for word where a sentence fits under a figure.
HELP = {
    "total_customers": gettext_lazy("Customers first seen on or before the end of the period."),
    "new_customers": gettext_lazy("Customers first seen in the period."),
    "monthly_avg_new_customers": gettext_lazy(
        "New customers divided by the number of calendar months that intersect the period."
    ),
    "inactive_customers": gettext_lazy(
        "Customers first seen on or before the end of the period with no chat room created in "
        "the period and no deal created in the period."
    ),
    "monthly_avg_inactive_customers": gettext_lazy(
        "Mean, over the months of the period, of the inactive customers for each month (cut to "
        "the period)."
    ),
    "growth_trend": gettext_lazy(
        "Per bucket: total customers first seen by its end, new customers first seen in it, and "
        "customers inactive in it."
    ),
    "by_source": gettext_lazy(
        "Customers per source: the first of their records, by creation time, with a source or "
        "channel. Other: none."
    ),
    "by_company": gettext_lazy(
        "Customers per company: the company of their first CRM contact that has one. Other: none."
    ),
    "customers_with_deals": gettext_lazy("Customers with at least one deal created in the period."),
    "deal_association_pct": gettext_lazy("100 × customers with deals / total customers."),
    "association_trend": gettext_lazy("Deal association (%) computed for each bucket."),
    "customers_with_won_deals": gettext_lazy(
        "Customers with at least one deal created in the period that is won (even if it closed "
        "after the period)."
    ),
    "won_customers_pct": gettext_lazy("100 × customers with won deals / customers with deals."),
    "total_deal_size": gettext_lazy("Sum of the values of the deals created in the period."),
    "avg_deal_size_per_customer": gettext_lazy("Total deal size / customers with deals."),
    "lost_reasons": gettext_lazy(
        "Lost deals whose close date is in the period, per lost reason (blank: Unspecified): "
        "deals, and distinct customers among them."
    ),
    "top_products": gettext_lazy(
        "Won deals whose close date is in the period, per product: won deals that include it, "
        "quantity and line revenue."
    ),
    "rfm_grid": gettext_lazy(
        "Customers with a won deal closed in the period, by recency score (R) and frequency "
        "score (F), 1 to 5."
    ),
    "rfm_segments": gettext_lazy(
        "The segment follows from the R and F scores; revenue is the value of the segment's won "
        "deals closed in the period."
    ),
    "revenue": gettext_lazy(
        "Values of won deals that belong to a customer, dated by close date, in the period."
    ),
    "paying_customers": gettext_lazy("Customers with at least one won deal in the period."),
    "avg_revenue_per_customer": gettext_lazy("Revenue / paying customers."),
    "top_20pct_revenue_share": gettext_lazy(
        "Revenue of the top ⌈0.2 × paying customers⌉ customers by their revenue in the period, "
        "as a share of revenue (%)."
    ),
    "avg_lifetime_value": gettext_lazy(
        "Revenue closed on or before the end of the period / customers with at least one won "
        "deal closed by then."
    ),
    "one_time_customers": gettext_lazy(
        "Paying customers with exactly 1 won deal closed on or before the end of the period."
    ),
    "repeat_customers": gettext_lazy(
        "Paying customers with 2 or more won deals closed on or before the end of the period."
    ),
}


# --- Parameters -------------------------------------------------------------------------------
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


def dashboard_params(*, query: QueryDict, today: date | None = None) -> DashboardParams:
    """The dashboard's choices from its querystring; raises PeriodError naming a bad one."""
    preset = query.get("preset") or None
    start = query.get("start") or None
    end = query.get("end") or None
    if preset == CUSTOM:
        # The form's "Custom range": start and end give the period.
        preset = None
        if start is None and end is None:
            raise PeriodError("start", _("Choose a start and an end date for a custom range."))
    period = parse_period(preset=preset, start=start, end=end, today=today)
    granularity = query.get("granularity") or "auto"
    resolve_granularity(period, granularity)  # validates
    scope = query.get("scope") or "all"
    if scope not in SCOPES:
        raise PeriodError("scope", _("Unknown scope %(value)r: all or new.") % {"value": scope})
    order = query.get("order") or "frequency"
    if order not in ORDERS:
        raise PeriodError(
            "order", _("Unknown order %(value)r: frequency or revenue.") % {"value": order}
        )
    buckets(period, granularity)  # raises PeriodError for more buckets than a chart can hold
    return DashboardParams(period=period, granularity=granularity, scope=scope, order=order)


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


# --- Dashboard --------------------------------------------------------------------------------
def _figure(key: str, label: str, value: Any, kind: str = "count") -> dict[str, Any]:
    return {"key": key, "label": label, "value": value, "kind": kind, "help": HELP[key]}


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
    segments = queries.rfm_segments(period=period)
    grid = queries.rfm_grid(period=period)
    kpis = queries.revenue_kpis(period=period)

    trend = [{"bucket": b, "drill": drill_new(start=b.start, end=b.end)} for b in growth.trend]
    sources = [{"row": r, "drill": drill_source(key=r.key, params=params)} for r in demo.by_source]
    companies = [
        {"row": r, "drill": drill_company(key=r.key, params=params)} for r in demo.by_company
    ]
    segment_rows = [
        {"row": s, "drill": drill_segment(segment=s.segment, period=period)} for s in segments
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
        },
        "source": _label_chart(sources),
        "company": _label_chart(companies),
        "association": {
            "labels": [b.start.isoformat() for b in sales.association_trend],
            "series": {"pct": [_num(b.pct) for b in sales.association_trend]},
        },
        "lost": {
            "labels": [r.reason for r in lost],
            "series": {
                "deals": [r.deals for r in lost],
                "customers": [r.customers for r in lost],
            },
        },
        "products": {
            "labels": [p.product for p in products],
            "series": {
                "won_deals": [p.won_deals for p in products],
                "revenue": [_num(p.revenue) for p in products],
            },
            "order": params.order,
        },
        "segments": {
            "labels": [s.segment for s in segments],
            "series": {
                "customers": [s.customers for s in segments],
                "revenue": [_num(s.revenue) for s in segments],
            },
            "urls": [s["drill"].url for s in segment_rows],
        },
    }
    return {
        "growth": growth,
        "growth_figures": [
            _figure("total_customers", _("Total customers"), growth.total_customers),
            _figure("new_customers", _("New customers"), growth.new_customers),
            _figure(
                "monthly_avg_new_customers",
                _("Monthly average new customers"),
                growth.monthly_avg_new_customers,
                "decimal",
            ),
            _figure("inactive_customers", _("Inactive customers"), growth.inactive_customers),
            _figure(
                "monthly_avg_inactive_customers",
                _("Monthly average inactive customers"),
                growth.monthly_avg_inactive_customers,
                "decimal",
            ),
        ],
        "trend": trend,
        "sources": sources,
        "companies": companies,
        "sales": sales,
        "sales_figures": [
            _figure("customers_with_deals", _("Customers with deals"), sales.customers_with_deals),
            _figure(
                "deal_association_pct",
                _("Deal association"),
                sales.deal_association_pct,
                "pct",
            ),
            _figure(
                "customers_with_won_deals",
                _("Customers with won deals"),
                sales.customers_with_won_deals,
            ),
            _figure("won_customers_pct", _("Won customers"), sales.won_customers_pct, "pct"),
            _figure("total_deal_size", _("Total deal size"), sales.total_deal_size, "money"),
            _figure(
                "avg_deal_size_per_customer",
                _("Average deal size per customer"),
                sales.avg_deal_size_per_customer,
                "money",
            ),
        ],
        "lost": lost,
        "products": products,
        "segments": segment_rows,
        "grid_rows": grid_rows,
        "kpis": kpis,
        "kpi_figures": [
            _figure("revenue", _("Revenue"), kpis.revenue, "money"),
            _figure("paying_customers", _("Paying customers"), kpis.paying_customers),
            _figure(
                "avg_revenue_per_customer",
                _("Average revenue per customer"),
                kpis.avg_revenue_per_customer,
                "money",
            ),
            _figure(
                "top_20pct_revenue_share",
                _("Revenue share of the top 20%"),
                kpis.top_20pct_revenue_share,
                "pct",
            ),
            _figure(
                "avg_lifetime_value",
                _("Average lifetime value"),
                kpis.avg_lifetime_value,
                "money",
            ),
            _figure("one_time_customers", _("One-time customers"), kpis.one_time_customers),
            _figure("repeat_customers", _("Repeat customers"), kpis.repeat_customers),
        ],
        "charts": charts,
        "chart_labels": {
            "total": _("Total customers"),
            "new": _("New customers"),
            "inactive": _("Inactive customers"),
            "customers": _("Customers"),
            "pct": _("Deal association %"),
            "deals": _("Deals"),
            "won_deals": _("Won deals"),
            "revenue": _("Revenue"),
        },
    }


def _label_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "labels": [r["row"].label for r in rows],
        "series": {"customers": [r["row"].customers for r in rows]},
        "urls": [r["drill"].url for r in rows],
    }


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """GET admin/insights/dashboard/: every figure for the period in the querystring."""
    _require(request, VIEW_PERM)
    context = {
        **admin.site.each_context(request),
        "title": _("Customer Insights"),
        "preset_groups": [
            (label, [(name, PRESET_LABELS[name]) for name in names])
            for label, names in PRESET_GROUPS
        ],
        "granularities": [(g, GRANULARITY_LABELS[g]) for g in GRANULARITIES],
        "help": HELP,
        "computed_at": queries.computed_at(),
        "can_rebuild": request.user.has_perm(REBUILD_PERM),
        "raw": {k: request.GET.get(k, "") for k in ("preset", "start", "end", "granularity")},
    }
    status = 200
    try:
        params = dashboard_params(query=request.GET)
    except PeriodError as error:
        context.update(error=error.message, error_param=error.param)
        status = 400
    else:
        context.update(
            params=params,
            period=params.period,
            selected_preset=params.period.preset or CUSTOM,
            resolved_granularity=GRANULARITY_LABELS[
                resolve_granularity(params.period, params.granularity)
            ],
            scope_all_query=params.query(scope="all"),
            scope_new_query=params.query(scope="new"),
            order_frequency_query=params.query(order="frequency"),
            order_revenue_query=params.query(order="revenue"),
            **dashboard_figures(params=params),
        )
    return TemplateResponse(request, "admin/insights/dashboard.html", context, status=status)


def _rebuild_task() -> Any | None:
    """The Celery task of insights.tasks, imported lazily: the app may run without it."""
    try:
        tasks = importlib.import_module("insights.tasks")
    except ImportError:
        return None
    # insights.tasks names its task "insights.rebuild"; find it by that name, not the attribute.
    for value in vars(tasks).values():
        if getattr(value, "name", None) == "insights.rebuild" and hasattr(value, "delay"):
            return value
    return None


@require_POST
def recompute_view(request: HttpRequest) -> HttpResponseRedirect:
    """POST admin/insights/dashboard/recompute/: queue a rebuild, then back to the page."""
    _require(request, REBUILD_PERM)
    trigger = f"admin:{request.user.get_username()}"
    try:
        task = _rebuild_task()
        if task is not None:
            task.delay(trigger=trigger)
        else:
            from celery import current_app

            current_app.send_task("insights.rebuild", kwargs={"trigger": trigger})
    except Exception:  # noqa: BLE001 - any broker/task failure becomes a message, and is logged
        logger.exception("could not start an insights rebuild from the dashboard")
        messages.error(request, _("The recompute could not be started; see the server log."))
    else:
        messages.success(
            request, _("Recompute started. The figures update when the rebuild finishes.")
        )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("insights_dashboard")
    return HttpResponseRedirect(target)


# --- Customer 360° ----------------------------------------------------------------------------
def _resolve_alias(customer_id: int) -> int | None:
    try:
        identity = importlib.import_module("customers.identity")
    except ImportError:
        identity = None
    resolve = getattr(identity, "customer_resolve_id", None)
    if resolve is not None:
        return resolve(customer_id=customer_id)
    alias = CustomerAlias.objects.filter(alias_id=customer_id).values_list("customer_id").first()
    return alias[0] if alias else None


def _explanation(customer: Customer) -> list[dict[str, Any]]:
    """Why the records are one customer, if identity resolution offers the explanation."""
    try:
        identity = importlib.import_module("customers.identity")
    except ImportError:
        return []
    explain = getattr(identity, "customer_explanation", None)
    if explain is None:
        return []
    return [
        {
            "source": getattr(edge, "source", ""),
            "via": getattr(edge, "via", ""),
            "key": getattr(edge, "key", ""),
            "target": getattr(edge, "target", str(edge)),
        }
        for edge in explain(customer=customer)
    ]


# A deal counts towards lifetime revenue when won (METRICS.md section 3): not lost, and a won
# stage or a win probability of 100 (its own, else the stage's default).
WON_DEAL = ~Q(stage__outcome=PipelineStage.Outcome.LOST) & (
    Q(stage__outcome=PipelineStage.Outcome.WON)
    | Q(win_probability=100)
    | Q(win_probability__isnull=True, stage__default_win_probability=100)
)


def customer_lifetime_revenue(*, customer: Customer) -> Decimal:
    """Sum of the values of the customer's won deals of all time: CustomerStats, else one SUM."""
    try:
        models = importlib.import_module("insights.models")
    except ImportError:  # pragma: no cover - insights.models always exists
        models = None
    stats_model = getattr(models, "CustomerStats", None)
    if stats_model is not None:
        value = (
            stats_model.objects.filter(customer=customer)
            .values_list("lifetime_revenue", flat=True)
            .first()
        )
        if value is not None:
            return value
    total = Deal.objects.filter(WON_DEAL, contact__customer=customer).aggregate(s=Sum("amount"))
    return total["s"] or Decimal("0.00")


def _mask_key(key: str) -> str:
    return mask_email(key) if "@" in key else mask_phone(key)


def mask_customer(customer: Customer) -> None:
    """Mask the customer's name, email and phone in memory, for a page that never saves it."""
    customer.display_name = mask_name(customer.display_name)
    customer.primary_email = mask_email(customer.primary_email)
    customer.primary_phone = mask_phone(customer.primary_phone)


def _mask_record(record: Contact | ChatContact) -> None:
    # In memory only, before anything renders str(record) (the table and the timeline).
    if isinstance(record, Contact):
        record.first_name = mask_name(record.first_name)
        record.last_name = mask_name(record.last_name)
    else:
        record.name = mask_name(record.name)
    record.email = mask_email(record.email)
    record.phone = mask_phone(record.phone)
    record.email_key = mask_email(record.email_key)
    record.phone_key = mask_phone(record.phone_key)


def customer_360(*, customer: Customer, masked: bool = False) -> dict[str, Any]:
    """Records, deals, chat rooms and a timeline for one customer in a fixed number of queries.

    masked: the records' names, emails, phones and keys are masked (the reader lacks
    accounts.view_personal_data); the model instances returned must then never be saved.
    """
    deals_qs = Deal.objects.select_related("stage", "lost_reason").prefetch_related(
        Prefetch("items", queryset=DealItem.objects.select_related("product").order_by("id"))
    )
    contacts = list(
        Contact.objects.filter(customer=customer)
        .select_related("company", "owner")
        .prefetch_related(Prefetch("deals", queryset=deals_qs.order_by("created_at", "id")))
        .order_by("created_at", "id")
    )
    chat_contacts = list(
        ChatContact.objects.filter(customer=customer)
        .prefetch_related(Prefetch("rooms", queryset=ChatRoom.objects.order_by("created_at", "id")))
        .order_by("created_at", "id")
    )
    if masked:
        for record in (*contacts, *chat_contacts):
            _mask_record(record)
    deals = sorted(
        (deal for contact in contacts for deal in contact.deals.all()),
        key=lambda d: (d.created_at, d.id),
    )
    rooms = sorted(
        (room for chat in chat_contacts for room in chat.rooms.all()),
        key=lambda r: (r.created_at, r.id),
    )
    scores = [room.csat_score for room in rooms if room.csat_score is not None]
    timeline: list[tuple[datetime, int, str, str]] = []
    for contact in contacts:
        timeline.append((contact.created_at, 0, _("CRM contact created"), str(contact)))
    for chat in chat_contacts:
        timeline.append((chat.created_at, 1, _("Chat contact created"), f"{chat.channel}: {chat}"))
    for deal in deals:
        timeline.append((deal.created_at, 2, _("Deal created"), str(deal)))
        if deal.closed_at:
            timeline.append(
                (
                    deal.closed_at,
                    3,
                    _("Deal closed (%s)") % PipelineStage.Outcome(deal.status).label,
                    str(deal),
                )
            )
    for room in rooms:
        timeline.append((room.created_at, 4, _("Chat room opened"), str(room)))
        if room.resolved_at:
            timeline.append((room.resolved_at, 5, _("Chat room resolved"), str(room)))
    timeline.sort(key=lambda event: (event[0], event[1]))
    return {
        "contacts": contacts,
        "chat_contacts": chat_contacts,
        "deals": deals,
        "rooms": rooms,
        "record_total": len(contacts) + len(chat_contacts),
        "csat_average": (
            (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.01")) if scores else None
        ),
        "timeline": [{"at": at, "event": event, "what": what} for at, _o, event, what in timeline],
    }


def customer360_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """GET admin/insights/customer360/<id>/: one customer, everything known about them."""
    _require(request, VIEW_PERM)
    customer = Customer.objects.select_related("company").filter(pk=customer_id).first()
    if customer is None:
        survivor = _resolve_alias(customer_id)
        if survivor is not None and survivor != customer_id:
            target = reverse("insights_customer360", args=[survivor])
            query = request.GET.urlencode()
            return redirect(f"{target}?{query}" if query else target)
        customer = get_object_or_404(Customer, pk=customer_id)
    # The permission is cached on the user by _require's check: no extra query.
    masked = not can_see_personal_data(request.user)
    if masked:
        mask_customer(customer)
    explanation = _explanation(customer)
    if masked:
        for edge in explanation:
            edge["key"] = _mask_key(edge["key"]) if edge["key"] else edge["key"]
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": _("Customer 360°: %(name)s") % {"name": customer},
        "customer": customer,
        "preset_groups": [
            (label, [(name, PRESET_LABELS[name]) for name in names])
            for label, names in PRESET_GROUPS
        ],
        "raw": {k: request.GET.get(k, "") for k in ("preset", "start", "end")},
        "lifetime_revenue": customer_lifetime_revenue(customer=customer),
        "explanation": explanation,
        "personal_data_masked": masked,
        **customer_360(customer=customer, masked=masked),
    }
    status = 200
    try:
        params = dashboard_params(query=request.GET)
    except PeriodError as error:
        context.update(error=error.message)
        status = 400
    else:
        rfm = queries.rfm_for_customers(period=params.period, customer_ids=[customer.pk])
        context.update(
            period=params.period,
            selected_preset=params.period.preset or CUSTOM,
            rfm=rfm.get(customer.pk),
        )
    return TemplateResponse(request, "admin/insights/customer360.html", context, status=status)
