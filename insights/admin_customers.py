"""The admin customer list with the insights filters, columns, summary, CSV export and saved
segments; registered over customers' CustomerAdmin (customers does not import insights).

Every filter is applied by insights.customer_filters, the same module as the API's list.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.masking import can_see_personal_data
from customers.admin_snapshot import CustomerAdmin
from customers.models import Company, Customer

from . import queries
from .api.export import customer_csv_response
from .customer_filters import (
    CustomerFilterError,
    customer_filter,
    customer_filter_summary,
    customer_filters_clean,
    customer_order,
    customer_rfm_period,
    filter_params,
    segment_customers,
    segments_visible,
)
from .customer_search import customer_search_q
from .models import Segment
from .templatetags.insights_format import display_label


class _ChoicesOnly(admin.SimpleListFilter):
    """A sidebar filter that offers choices; customer_filter applies every parameter at once."""

    def queryset(self, request, queryset):
        return queryset


class SourceFilter(_ChoicesOnly):
    title = _("source")
    parameter_name = "source"

    def lookups(self, request, model_admin):
        sources = Customer.objects.order_by("source").values_list("source", flat=True).distinct()
        return [(s, s) for s in sources]


class CountryFilter(_ChoicesOnly):
    title = _("country")
    parameter_name = "country"

    def lookups(self, request, model_admin):
        # customer_country_idx: a distinct scan of a short index.
        countries = Customer.objects.order_by("country").values_list("country", flat=True)
        return [(c, c) for c in countries.distinct()]


class CompanyFilter(_ChoicesOnly):
    title = _("company")
    parameter_name = "company"

    def lookups(self, request, model_admin):
        # Companies are many; offer "Other" and the one a drill-down arrived with.
        choices = [("none", _("Other (no company)"))]
        value = self.value()
        if value and value != "none" and value.isdigit():
            choices += [(str(c.pk), c.name) for c in Company.objects.filter(pk=int(value))]
        return choices


class HasDealsFilter(_ChoicesOnly):
    title = _("has deals")
    parameter_name = "has_deals"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]


SIDEBAR = ("source", "country", "company", "has_deals")


class InsightsChangeList(ChangeList):
    """Applies customer_filter to the querystring and the RFM segment column per page."""

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        for name in (*filter_params(), "ordering"):
            if name not in SIDEBAR:
                lookup_params.pop(name, None)
        return lookup_params

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        queryset = customer_filter(queryset=queryset, params=request.GET, user=request.user)
        ordering = request.GET.get("ordering")
        if not ordering and request.GET.get("value") == "at_risk" and "o" not in request.GET:
            # The at-risk list answers "whom do we stand to lose": largest revenue first.
            ordering = "-lifetime_revenue"
        if ordering:
            queryset = customer_order(queryset, ordering)
        return queryset

    def get_results(self, request):
        super().get_results(request)
        # One RFM read for the page, not one per row.
        period = customer_rfm_period(request.GET)
        ids = [customer.pk for customer in self.result_list]
        rfm = queries.rfm_for_customers(period=period, customer_ids=ids) if ids else {}
        for customer in self.result_list:
            row = rfm.get(customer.pk)
            customer.rfm_segment_label = row.segment if row else None


class InsightsCustomerAdmin(CustomerAdmin):
    list_display = [
        "id",
        "display_name",
        "primary_email",
        "primary_phone",
        "source",
        "company",
        "country",
        "city",
        "first_seen_at",
        "lifetime_revenue",
        "last_purchase",
        "rfm_segment",
        "p_alive",
    ]
    list_filter = [SourceFilter, CountryFilter, CompanyFilter, HasDealsFilter]
    list_select_related = ["company", "stats", "value"]
    actions = [*CustomerAdmin.actions, "export_csv"]
    change_list_template = "admin/customers/customer/insights_change_list.html"

    def get_changelist(self, request, **kwargs):
        return InsightsChangeList

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        # Readers of masked data match only a whole email or phone (issue 13 item 2).
        match = customer_search_q(search_term, substrings=can_see_personal_data(request.user))
        if search_term.strip().isdigit():  # staff paste customer ids into the admin search
            match |= Q(pk=int(search_term.strip()))
        return queryset.filter(match), False

    @admin.display(description=_("P(alive)"), ordering="value__p_alive")
    def p_alive(self, obj: Customer):
        # The stored prediction of the last rebuild (as of today); none without a buying day.
        value = getattr(obj, "value", None)
        return f"{value.p_alive:.2f}" if value is not None else None

    @admin.display(description=_("lifetime revenue"), ordering="stats__lifetime_revenue")
    def lifetime_revenue(self, obj: Customer):
        stats = getattr(obj, "stats", None)
        return stats.lifetime_revenue if stats else None

    @admin.display(description=_("last purchase"), ordering="stats__last_purchase_day")
    def last_purchase(self, obj: Customer):
        stats = getattr(obj, "stats", None)
        day = stats.last_purchase_day if stats else None
        return date.fromordinal(day) if day else None

    @admin.display(description=_("RFM segment"))
    def rfm_segment(self, obj: Customer):
        return display_label(getattr(obj, "rfm_segment_label", None)) or "—"

    @admin.action(description=_("Export to CSV (selected, or all filtered rows)"))
    def export_csv(self, request, queryset: QuerySet):
        """The same export as the API's ?format=csv: masking, audit record, streamed rows."""
        return customer_csv_response(
            queryset=queryset.order_by("id"),
            user=request.user,
            params={key: values[-1] for key, values in request.GET.lists()},
            endpoint=request.path,
        )

    def changelist_view(self, request, extra_context=None):
        try:
            customer_filter(queryset=Customer.objects.none(), params=request.GET, user=request.user)
            if ordering := request.GET.get("ordering"):
                customer_order(Customer.objects.none(), ordering)
        except CustomerFilterError as error:
            self.message_user(
                request,
                _("Filter %(param)s: %(message)s")
                % {"param": error.param, "message": error.message},
                level=messages.ERROR,
            )
            rest = {k: v for k, v in request.GET.items() if k != error.param}
            return HttpResponseRedirect(f"{request.path}?{urlencode(rest)}")
        active = {k: v for k, v in request.GET.items() if k in filter_params() and v}
        context = {
            "filter_summary": customer_filter_summary(active),
            "dashboard_url": _dashboard_url(request.GET),
            "segment_filters": urlencode(active),
            "can_save_segment": bool(active),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def get_urls(self):
        return [
            path(
                "save-segment/",
                self.admin_site.admin_view(require_POST(self.save_segment_view)),
                name="customers_customer_save_segment",
            ),
            *super().get_urls(),
        ]

    def save_segment_view(self, request: HttpRequest):
        """ "Save as segment": the list's current filters under a name, owned by the user."""
        from django.http import QueryDict

        filters = QueryDict(request.POST.get("filters", ""))
        name = request.POST.get("name", "").strip()
        back = reverse("admin:customers_customer_changelist") + "?" + filters.urlencode()
        if not name:
            self.message_user(request, _("Give the segment a name."), level=messages.ERROR)
            return HttpResponseRedirect(back)
        try:
            cleaned = customer_filters_clean(filters.dict())
        except CustomerFilterError as error:
            self.message_user(request, str(error), level=messages.ERROR)
            return HttpResponseRedirect(back)
        segment = Segment.objects.create(
            name=name[:200],
            owner=request.user,
            shared=request.POST.get("shared") == "on",
            filters=cleaned,
        )
        self.message_user(
            request, _("Saved segment “%(name)s”.") % {"name": segment.name}, messages.SUCCESS
        )
        return HttpResponseRedirect(back)


def _dashboard_url(params) -> str | None:
    """The dashboard for the period the list came from (start/end, else the RFM period)."""
    for start, end in (("start", "end"), ("rfm_start", "rfm_end")):
        if params.get(start) and params.get(end):
            query = urlencode({"preset": "custom", "start": params[start], "end": params[end]})
            try:
                return f"{reverse('insights_dashboard')}?{query}"
            except Exception:  # noqa: BLE001 - the dashboard URL is optional here
                return None
    return None


admin.site.unregister(Customer)
admin.site.register(Customer, InsightsCustomerAdmin)


# --- Saved segments --------------------------------------------------------------------------
@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "shared", "customers", "list_link", "updated_at"]
    list_select_related = ["owner"]
    fields = ["name", "shared", "filters", "owner", "created_at", "updated_at"]
    readonly_fields = ["owner", "created_at", "updated_at"]
    actions = ["export_csv"]

    def get_queryset(self, request):
        return segments_visible(request.user).select_related("owner")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.owner_id != request.user.pk and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.owner_id != request.user.pk and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class SegmentForm(form):
            def clean_filters(self):
                value = self.cleaned_data.get("filters") or {}
                if not isinstance(value, dict):
                    raise ValidationError(_("Filters are an object of parameter: value."))
                try:
                    return customer_filters_clean({k: str(v) for k, v in value.items()})
                except CustomerFilterError as error:
                    raise ValidationError(str(error)) from None

        return SegmentForm

    def save_model(self, request, obj, form, change):
        if not change:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description=_("customers"))
    def customers(self, obj: Segment) -> Any:
        try:
            return segment_customers(segment=obj).count()
        except CustomerFilterError as error:
            return format_html('<span class="errornote">{}</span>', str(error))

    @admin.display(description=_("list"))
    def list_link(self, obj: Segment):
        url = reverse("admin:customers_customer_changelist")
        return format_html(
            '<a href="{}?{}">{}</a>', url, urlencode({"segment_id": obj.pk}), _("Open")
        )

    @admin.action(description=_("Export the customers of the selected segments to CSV"))
    def export_csv(self, request, queryset: QuerySet):
        members = Q(pk__in=[])
        for segment in queryset:
            try:
                members |= Q(pk__in=segment_customers(segment=segment).values("pk"))
            except CustomerFilterError as error:
                self.message_user(request, str(error), level=messages.ERROR)
                return None
        return customer_csv_response(
            queryset=Customer.objects.filter(members).order_by("id"),
            user=request.user,
            params={"segment_ids": ",".join(str(s.pk) for s in queryset)},
            endpoint=request.path,
        )
