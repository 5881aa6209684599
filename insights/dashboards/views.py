"""Customer Insights pages inside Django admin: the dashboard, "recompute now" and customer 360°.

Views stay thin: parameters are parsed in `params` (with the API's rules), the figures shaped
in `core` and the other section modules of this package (which read the engine's figures, hence
the rollups), and the 360° page's reads live in `customer360`. Everything a chart draws is
embedded with `json_script`, so the page needs no second request and no inline script.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.masking import can_see_personal_data
from accounts.roles import VIEW_OWN_SALES
from audit.services import export_record_create
from customers.models import Customer

from .. import queries
from ..api.customer360 import customer_survivor_id
from ..enqueue import Outcome, rebuild_request
from ..figures import help_texts, section_titles
from ..periods import GRANULARITIES, PeriodError, local_today, resolve_granularity
from ..service_360 import customer_survey_responses, rooms_with_times
from ..templatetags.insights_format import WHOLE_CURRENCIES
from .core import dashboard_figures
from .customer360 import (
    customer_360,
    customer_explanation_rows,
    customer_lifetime_revenue,
    mask_customer,
    mask_key,
    timeline_page,
)
from .forecast import forecast_section
from .health import health_section, stored_customer_health
from .lifecycle import lifecycle_choices, lifecycle_dashboard
from .owners import my_sales, team_section
from .params import (
    CUSTOM,
    GRANULARITY_LABELS,
    dashboard_params,
    preset_groups,
)
from .service import service_section
from .value import stored_customer_value, value_section
from .xlsx import dashboard_sheets, dashboard_workbook

logger = logging.getLogger(__name__)

VIEW_PERM = "insights.view_insights"
OWN_SALES_PERM = VIEW_OWN_SALES
REBUILD_PERM = "insights.run_rebuild"


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """GET admin/insights/dashboard/: every figure for the period in the querystring."""
    _require(request, VIEW_PERM)
    context = {
        **admin.site.each_context(request),
        "title": _("Customer Insights"),
        "preset_groups": preset_groups(),
        "granularities": [(g, GRANULARITY_LABELS[g]) for g in GRANULARITIES],
        "help": help_texts(),
        "sections": section_titles(),
        "chart_format": {
            "currency": settings.INSIGHTS_CURRENCY,
            "money_decimals": 0 if settings.INSIGHTS_CURRENCY in WHOLE_CURRENCIES else 2,
        },
        "computed_at": queries.computed_at(),
        "can_rebuild": request.user.has_perm(REBUILD_PERM),
        "raw": {k: request.GET.get(k, "") for k in ("preset", "start", "end", "granularity")},
    }
    status = 200
    try:
        params = dashboard_params(query=request.GET)
        lost_after, event = lifecycle_choices(request.GET)
    except PeriodError as error:
        # Keep what the user typed: the form shows it again with the message beside the field.
        context.update(
            error=error.form_message,
            error_param=error.param,
            selected_preset=_typed_preset(request),
            selected_granularity=request.GET.get("granularity") or "auto",
        )
        status = 400
    else:
        context.update(
            params=params,
            period=params.period,
            selected_preset=params.period.preset or CUSTOM,
            selected_granularity=params.granularity,
            resolved_granularity=GRANULARITY_LABELS[
                resolve_granularity(params.period, params.granularity)
            ],
            scope_all_query=params.query(scope="all"),
            scope_new_query=params.query(scope="new"),
            order_frequency_query=params.query(order="frequency"),
            order_revenue_query=params.query(order="revenue"),
            xlsx_query=params.query(),
            print_mode=request.GET.get("print") == "1",
            **dashboard_figures(params=params),
            value=value_section(period=params.period),
            health=health_section(period=params.period),
            **forecast_section(period=params.period),
        )
        context.update(
            lifecycle_dashboard(params=params, figures=context, lost_after=lost_after, event=event)
        )
        context.update(team_section(period=params.period, user=request.user))
        context.update(
            service_section(
                period=params.period,
                granularity=params.granularity,
                charts=context["charts"],
                chart_labels=context["chart_labels"],
            )
        )
    return TemplateResponse(request, "admin/insights/dashboard.html", context, status=status)


def my_sales_view(request: HttpRequest) -> HttpResponse:
    """GET admin/insights/my-sales/: the user's own sales (a sales rep's landing page)."""
    if not (request.user.has_perm(OWN_SALES_PERM) or request.user.has_perm(VIEW_PERM)):
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": _("My sales"),
        "computed_at": queries.computed_at(),
        **my_sales(user=request.user, today=local_today()),
    }
    return TemplateResponse(request, "admin/insights/my_sales.html", context)


def _query_without(request: HttpRequest, name: str) -> str:
    """The request's querystring without `name`, to build links that change only it."""
    query = request.GET.copy()
    query.pop(name, None)
    return query.urlencode()


def _typed_preset(request: HttpRequest) -> str:
    """The period choice as typed: a preset name, or "custom" when dates were given."""
    preset = request.GET.get("preset", "")
    if not preset and (request.GET.get("start") or request.GET.get("end")):
        return CUSTOM
    return preset


def dashboard_xlsx_view(request: HttpRequest) -> HttpResponse:
    """GET admin/insights/dashboard/xlsx/: every figure of the period, one sheet per section."""
    _require(request, VIEW_PERM)
    try:
        params = dashboard_params(query=request.GET)
        lost_after, event = lifecycle_choices(request.GET)
    except PeriodError as error:
        return HttpResponse(error.message, status=400, content_type="text/plain; charset=utf-8")
    sheets = _sheets_recorded(
        request, params, lost_after, event,
        endpoint="insights_dashboard_xlsx", audit=_audit_params(request), format="xlsx",
    )  # fmt: skip
    response = HttpResponse(
        dashboard_workbook(params=params, sheets=sheets),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"wawasan-{params.period.start.isoformat()}-{params.period.end.isoformat()}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
def print_view(request: HttpRequest) -> HttpResponseRedirect:
    """POST admin/insights/dashboard/print/: record the print (audited like exports), then
    open the page in print mode, which asks the browser to print or save as PDF."""
    _require(request, VIEW_PERM)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) or not target.startswith(reverse("insights_dashboard")):
        target = reverse("insights_dashboard")
    query = QueryDict(target.partition("?")[2])
    try:
        params = dashboard_params(query=query)
        lost_after, event = lifecycle_choices(query)
    except PeriodError:
        return HttpResponseRedirect(target)
    _sheets_recorded(
        request, params, lost_after, event,
        endpoint="insights_print", audit={k: query.getlist(k) for k in query}, format="pdf",
    )  # fmt: skip
    separator = "&" if "?" in target else "?"
    return HttpResponseRedirect(f"{target}{separator}print=1")


def _sheets_recorded(
    request: HttpRequest,
    params: Any,
    lost_after: int,
    event: str,
    *,
    endpoint: str,
    audit: dict[str, list[str]],
    format: str,
) -> list:
    """Every sheet of the period, and the export record an XLSX download or a print leaves."""
    sheets = dashboard_sheets(
        params=params, figures=dashboard_figures(params=params), lost_after=lost_after, event=event
    )
    export_record_create(
        user=request.user,
        endpoint=reverse(endpoint),
        params=audit,
        row_count=sum(sheet.row_count for sheet in sheets),
        format=format,
    )
    return sheets


def _audit_params(request: HttpRequest) -> dict[str, list[str]]:
    return {key: request.GET.getlist(key) for key in request.GET}


@require_POST
def recompute_view(request: HttpRequest) -> HttpResponseRedirect:
    """POST admin/insights/dashboard/recompute/: queue a rebuild, then back to the page."""
    _require(request, REBUILD_PERM)
    answer = rebuild_request(trigger=f"admin:{request.user.get_username()}")
    if answer.ok:
        messages.success(request, answer.message)
    elif answer.outcome == Outcome.RUNNING:
        messages.warning(request, answer.message)
    else:
        messages.error(request, answer.message)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("insights_dashboard")
    return HttpResponseRedirect(target)


def customer360_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """GET admin/insights/customer360/<id>/: one customer, everything known about them."""
    _require(request, VIEW_PERM)
    # "value": the stored predicted value (insights.CustomerValue) in the same query.
    customer = (
        Customer.objects.select_related("company", "value", "health").filter(pk=customer_id).first()
    )
    if customer is None:
        survivor = customer_survivor_id(customer_id=customer_id)
        if survivor is not None:
            target = reverse("insights_customer360", args=[survivor])
            query = request.GET.urlencode()
            return redirect(f"{target}?{query}" if query else target)
        customer = get_object_or_404(Customer, pk=customer_id)
    # The permission is cached on the user by _require's check: no extra query.
    masked = not can_see_personal_data(request.user)
    if masked:
        mask_customer(customer)
    explanation = customer_explanation_rows(customer)
    if masked:
        for edge in explanation:
            edge["key"] = mask_key(edge["key"]) if edge["key"] else edge["key"]
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": _("Customer 360°: %(name)s") % {"name": customer},
        "customer": customer,
        "preset_groups": preset_groups(),
        "raw": {k: request.GET.get(k, "") for k in ("preset", "start", "end")},
        "lifetime_revenue": customer_lifetime_revenue(customer=customer),
        "customer_value": stored_customer_value(customer),
        "customer_health": stored_customer_health(customer),
        "explanation": explanation,
        "personal_data_masked": masked,
        **customer_360(customer=customer, masked=masked),
    }
    context["timeline_page"] = timeline_page(context["timeline"], request.GET.get("timeline_page"))
    context["timeline_query"] = _query_without(request, "timeline_page")
    context.update(  # the service side: room times and survey answers
        room_rows=rooms_with_times(context["rooms"]),
        survey_responses=customer_survey_responses(customer=customer, masked=masked),
    )
    status = 200
    try:
        params = dashboard_params(query=request.GET)
    except PeriodError as error:
        context.update(
            error=error.form_message,
            error_param=error.param,
            selected_preset=_typed_preset(request),
        )
        status = 400
    else:
        rfm = queries.rfm_for_customers(period=params.period, customer_ids=[customer.pk])
        context.update(
            period=params.period,
            selected_preset=params.period.preset or CUSTOM,
            rfm=rfm.get(customer.pk),
        )
    return TemplateResponse(request, "admin/insights/customer360.html", context, status=status)
