"""The admin customer list with the insights filters, columns, summary, CSV export and saved
segments; registered over customers' CustomerAdmin (customers does not import insights).

Every filter is applied by insights.customer_filters, the same module as the API's list.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.masking import can_see_personal_data
from customers.admin_snapshot import CustomerAdmin
from customers.models import Company, Customer

from . import queries
from .api.export import csv_style, customer_csv_response
from .api.filters import DOCS as FILTER_DOCS
from .customer_filters import (
    ROLLING_PRESETS,
    CustomerFilterError,
    customer_filter,
    customer_filter_summary,
    customer_filters_clean,
    customer_order,
    customer_rfm_period,
    filter_params,
    rolling_preset_of,
    segment_customers,
    segment_name_taken,
    segments_visible,
)
from .customer_search import customer_search_q
from .dashboards.params import PRESET_LABELS
from .models import CustomerStats, Segment
from .section_params import AT_RISK_BELOW, health_band_labels
from .templatetags.insights_format import (
    country_label,
    day_format,
    display_label,
    moment_format,
    money_format,
    money_short_format,
    number_format,
)


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


def country_name(code: str | None) -> str:
    return country_label(code) if code else ""


class CountryFilter(_ChoicesOnly):
    title = _("country")
    parameter_name = "country"

    def lookups(self, request, model_admin):
        # customer_country_idx: a distinct scan of a short index.
        countries = Customer.objects.order_by("country").values_list("country", flat=True)
        return sorted(((c, country_name(c)) for c in countries.distinct()), key=lambda c: c[1])


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


class _RangeFilter(admin.ListFilter):
    """A sidebar filter whose choices set several customer_filter parameters at once (a range:
    `revenue_min` alone, or `last_purchase_from` with `last_purchase_to`). customer_filter
    applies them with every other parameter; this only offers the choices."""

    parameters: tuple[str, ...] = ()

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.current: dict[str, str] = {}
        for name in self.parameters:
            value = params.pop(name, None)
            if value not in (None, "", []):
                self.current[name] = value[-1] if isinstance(value, list) else value
        self.request = request

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return list(self.parameters)

    def queryset(self, request, queryset):
        return queryset

    def ranges(self) -> list[tuple[str, dict[str, str]]]:
        raise NotImplementedError

    def choices(self, changelist):
        yield {
            "selected": not self.current,
            "query_string": changelist.get_query_string(remove=list(self.parameters)),
            "display": _("All"),
        }
        for label, values in self.ranges():
            yield {
                "selected": self.current == values,
                "query_string": changelist.get_query_string(
                    values, remove=[p for p in self.parameters if p not in values]
                ),
                "display": label,
            }


class LastPurchaseFilter(_RangeFilter):
    title = _("last purchase")
    parameters = ("last_purchase_from", "last_purchase_to")

    def ranges(self):
        today = timezone.localdate()

        def days_ago(n: int) -> str:
            return (today - timedelta(days=n)).isoformat()

        return [
            (_("In the last 30 days"), {"last_purchase_from": days_ago(29)}),
            (
                _("31 to 90 days ago"),
                {"last_purchase_from": days_ago(90), "last_purchase_to": days_ago(30)},
            ),
            (
                _("91 to 365 days ago"),
                {"last_purchase_from": days_ago(365), "last_purchase_to": days_ago(91)},
            ),
            (_("Over a year ago"), {"last_purchase_to": days_ago(366)}),
        ]


class PAliveFilter(_RangeFilter):
    title = _("P(alive)")
    parameters = ("p_alive_min", "p_alive_max")

    def ranges(self):
        risk = number_format(AT_RISK_BELOW, decimals=2)
        return [
            (_("0.8 to 1 (likely to buy again)"), {"p_alive_min": "0.8"}),
            # The at-risk bound is the value section's (section_params.AT_RISK_BELOW).
            (_("%(low)s to 0.8") % {"low": risk}, {"p_alive_min": str(AT_RISK_BELOW),
                                                   "p_alive_max": "0.8"}),
            (_("0 to %(high)s (at risk)") % {"high": risk}, {"p_alive_max": str(AT_RISK_BELOW)}),
        ]  # fmt: skip


class HealthFilter(_RangeFilter):
    title = _("health")
    parameters = ("health",)

    def ranges(self):
        labels = health_band_labels()
        return [
            (labels["healthy"], {"health": "healthy"}),
            (labels["attention"], {"health": "attention"}),
            (labels["at_risk"], {"health": "at_risk"}),
        ]


def _round_figure(amount: Decimal) -> Decimal:
    """1 significant figure (4,370,000 → 4,000,000): a threshold a person reads at a glance."""
    if amount <= 0:
        return Decimal(0)
    exponent = amount.adjusted()
    return (amount.scaleb(-exponent).quantize(Decimal(1))).scaleb(exponent)


class RevenueFilter(_RangeFilter):
    """Lifetime revenue bands taken from the data (the buyers' median, and ten times it), so
    they fit any currency and any business without a hard-wired amount."""

    title = _("lifetime revenue")
    parameters = ("revenue_min", "revenue_max")

    def ranges(self):
        buyers = CustomerStats.objects.filter(lifetime_revenue__gt=0)
        count = buyers.count()
        choices = [(_("None"), {"revenue_max": "0"})]
        if count:
            median = buyers.order_by("lifetime_revenue").values_list("lifetime_revenue", flat=True)[
                count // 2
            ]
            for threshold in sorted({_round_figure(median), _round_figure(median * 10)}):
                if threshold > 0:
                    label = _("At least %(amount)s") % {"amount": money_short_format(threshold)}
                    choices.append((label, {"revenue_min": f"{threshold:f}"}))
        return choices


class SavedSegmentFilter(_ChoicesOnly):
    title = _("saved segment")
    parameter_name = "segment_id"

    def lookups(self, request, model_admin):
        segments = segments_visible(request.user).order_by("name").values_list("pk", "name")
        return [(str(pk), name) for pk, name in segments[:50]]


SIDEBAR = (
    "source",
    "country",
    "company",
    "has_deals",
    "segment_id",
    "revenue_min",
    "revenue_max",
    "last_purchase_from",
    "last_purchase_to",
    "p_alive_min",
    "p_alive_max",
)
# Columns a manager reads first; the rest are switched on with ?columns=… (the list's
# "Columns" form), and kept in the links of the page like any filter.
DEFAULT_COLUMNS = (
    "customer",
    "company",
    "country_name",
    "lifetime_revenue",
    "last_purchase",
    "rfm_segment",
    "p_alive",
    "health_score",
)
OPTIONAL_COLUMNS = {
    "id": _("id"),
    "source": _("source"),
    "primary_email": _("email"),
    "primary_phone": _("phone"),
    "city": _("city"),
    "first_seen": _("first seen"),
    "predicted_clv": _("predicted value"),
}


def chosen_columns(request: HttpRequest) -> list[str]:
    asked = [c for value in request.GET.getlist("columns") for c in value.split(",")]
    return [name for name in OPTIONAL_COLUMNS if name in asked]


class InsightsChangeList(ChangeList):
    """Applies customer_filter to the querystring and the RFM group column per page."""

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        for name in (*filter_params(), "ordering", "columns"):
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
    list_display = list(DEFAULT_COLUMNS)
    list_display_links = None  # a row opens the customer's 360° page (the name's link)
    list_filter = [
        SavedSegmentFilter,
        RevenueFilter,
        LastPurchaseFilter,
        PAliveFilter,
        HealthFilter,
        SourceFilter,
        CountryFilter,
        CompanyFilter,
        HasDealsFilter,
    ]
    list_select_related = ["company", "stats", "value", "health"]
    actions = [*CustomerAdmin.actions, "export_csv"]
    change_list_template = "admin/customers/customer/insights_change_list.html"

    def get_list_display(self, request):
        extra = chosen_columns(request)
        first = [c for c in ("id",) if c in extra]
        rest = [c for c in extra if c != "id"]
        return [*first, *DEFAULT_COLUMNS[:2], *rest, *DEFAULT_COLUMNS[2:]]

    def get_list_display_links(self, request, list_display):
        return None

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

    @admin.display(description=_("customer"), ordering="display_name")
    def customer(self, obj: Customer):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("insights_customer360", args=[obj.pk]),
            obj.display_name or obj.pk,
        )

    @admin.display(description=_("country"), ordering="country")
    def country_name(self, obj: Customer):
        return country_name(obj.country)

    @admin.display(description=_("first seen"), ordering="first_seen_at")
    def first_seen(self, obj: Customer):
        return format_html('<span class="nowrap">{}</span>', moment_format(obj.first_seen_at))

    @admin.display(description=_("P(alive)"), ordering="value__p_alive")
    def p_alive(self, obj: Customer):
        # The stored prediction of the last rebuild (as of today); none without a buying day.
        value = getattr(obj, "value", None)
        return number_format(value.p_alive, decimals=2, fixed=True) if value is not None else "–"

    @admin.display(description=_("health"), ordering="health__health")
    def health_score(self, obj: Customer):
        # The stored score of the last rebuild (as of today); none without a buying day.
        health = getattr(obj, "health", None)
        return f"{health.health} · {health.get_band_display()}" if health is not None else "–"

    @admin.display(description=_("predicted value"), ordering="value__predicted_clv")
    def predicted_clv(self, obj: Customer):
        value = getattr(obj, "value", None)
        if value is None:
            return "–"
        return format_html('<span class="nowrap">{}</span>', money_format(value.predicted_clv))

    @admin.display(description=_("lifetime revenue"), ordering="stats__lifetime_revenue")
    def lifetime_revenue(self, obj: Customer):
        stats = getattr(obj, "stats", None)
        amount = stats.lifetime_revenue if stats else 0
        return format_html('<span class="nowrap">{}</span>', money_format(amount))

    @admin.display(description=_("last purchase"), ordering="stats__last_purchase_day")
    def last_purchase(self, obj: Customer):
        stats = getattr(obj, "stats", None)
        day = stats.last_purchase_day if stats else None
        return day_format(date.fromordinal(day)) if day else "–"

    @admin.display(description=_("RFM segment"))
    def rfm_segment(self, obj: Customer):
        return display_label(getattr(obj, "rfm_segment_label", None)) or "—"

    @admin.action(description=_("Export the selected customers to CSV"))
    def export_csv(self, request, queryset: QuerySet):
        """The same export as the API's ?format=csv: masking, audit record, streamed rows; in
        the reader's spreadsheet locale. All filtered rows: the list's "Export" link."""
        return customer_csv_response(
            queryset=queryset.order_by("id"),
            user=request.user,
            params={key: values[-1] for key, values in request.GET.lists()},
            endpoint=request.path,
            style=csv_style(get_language()),
        )

    def export_view(self, request: HttpRequest):
        """Every row the list's filters and search match, as CSV in the reader's locale."""
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)
        return customer_csv_response(
            queryset=queryset.order_by("id"),
            user=request.user,
            params={key: values[-1] for key, values in request.GET.lists()},
            endpoint=request.path,
            style=csv_style(get_language()),
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
        kept = [(k, v) for k, v in request.GET.items() if k not in ("columns", "p", "e")]
        context = {
            "export_query": urlencode(kept),
            "columns_chosen": chosen_columns(request),
            "columns_optional": OPTIONAL_COLUMNS.items(),
            "columns_kept": [(k, v) for k, v in kept],
            "filter_summary": customer_filter_summary(active),
            "dashboard_url": _dashboard_url(request.GET),
            "segment_filters": urlencode(active),
            "can_save_segment": bool(active) and self.can_save_segment(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def get_urls(self):
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="customers_customer_export",
            ),
            path(
                "save-segment/",
                self.admin_site.admin_view(require_POST(self.save_segment_view)),
                name="customers_customer_save_segment",
            ),
            *super().get_urls(),
        ]

    def can_save_segment(self, request: HttpRequest) -> bool:
        """May list these customers (this admin) and read insights (what segments feed)."""
        return self.has_view_permission(request) and request.user.has_perm("insights.view_insights")

    def save_segment_view(self, request: HttpRequest):
        """ "Save as segment": the list's current filters under a name, owned by the user."""
        from django.http import QueryDict

        # Before anything reads the filters: whoever may not list customers and read insights
        # (the API's segment rule) learns nothing here, not even whether a product id exists.
        if not self.can_save_segment(request):
            raise PermissionDenied
        filters = QueryDict(request.POST.get("filters", ""))
        name = request.POST.get("name", "").strip()
        back = reverse("admin:customers_customer_changelist") + "?" + filters.urlencode()
        if not name:
            self.message_user(request, _("Give the segment a name."), level=messages.ERROR)
            return HttpResponseRedirect(back)
        if segment_name_taken(owner=request.user, name=name):
            self.message_user(
                request,
                _("You already have a segment named “%(name)s”: choose another name.")
                % {"name": name},
                level=messages.ERROR,
            )
            return HttpResponseRedirect(back)
        values = filters.dict()
        rolling = request.POST.get("rolling")
        if rolling and rolling == rolling_preset_of(values.get("start"), values.get("end")):
            # "Last 30 days" stays the last 30 days: the preset is kept, not today's dates.
            values.pop("start", None)
            values.pop("end", None)
            values["preset"] = rolling
        try:
            cleaned = customer_filters_clean(values)
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
# The segment form shows the customer list's own filters, grouped as a manager thinks of them
# (not a JSON object); every parameter of insights.customer_filters has its field.
SEGMENT_FILTER_GROUPS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (_("Period"), ("preset", "start", "end")),
    (_("Who"), ("source", "company", "country", "city", "first_seen_from", "first_seen_to")),
    (
        _("Buying"),
        (
            "product",
            "revenue_min",
            "revenue_max",
            "has_deals",
            "inactive",
            "lost_reason",
            "last_purchase_from",
            "last_purchase_to",
        ),
    ),  # fmt: skip
    (
        _("Prediction and health"),
        (
            "p_alive_min",
            "p_alive_max",
            "predicted_clv_min",
            "predicted_clv_max",
            "value",
            "value_as_of",
            "health",
        ),
    ),
    (_("RFM"), ("segment", "r", "f", "rfm_start", "rfm_end")),
    (
        _("Buyer lifecycle and cohorts"),
        (
            "buyers",
            "buyers_start",
            "buyers_end",
            "lost_after",
            "lifecycle",
            "cohort",
            "cohort_offset",
            "event",
        ),
    ),  # fmt: skip
)


class SegmentForm(forms.ModelForm):
    """A saved segment: its name and the list's filters, one field each, checked exactly as the
    list applies them; a rolling preset stays a preset; names are unique per owner."""

    request_user: Any = None

    class Meta:
        model = Segment
        fields = ["name", "shared"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        saved = dict(self.instance.filters or {}) if self.instance.pk else {}
        grouped = {name for _title, names in SEGMENT_FILTER_GROUPS for name in names}
        for name in (*[n for _t, ns in SEGMENT_FILTER_GROUPS for n in ns],
                     *[n for n in filter_params() if n not in grouped]):  # fmt: skip
            if name == "preset":
                field: forms.Field = forms.ChoiceField(
                    label=_("Rolling period"),
                    required=False,
                    choices=[("", "—")] + [(p, PRESET_LABELS[p]) for p in ROLLING_PRESETS],
                    help_text=FILTER_DOCS.get(name, ""),
                )
            else:
                field = forms.CharField(
                    label=name.replace("_", " "), required=False,
                    help_text=FILTER_DOCS.get(name, ""),
                )  # fmt: skip
            field.initial = saved.get(name, "")
            self.fields[name] = field

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        owner = self.instance.owner if self.instance.pk else self.request_user
        if owner is not None and segment_name_taken(
            owner=owner, name=name, exclude_pk=self.instance.pk
        ):
            raise ValidationError(_("You already have a segment of this name."))
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        values = {name: (data.get(name) or "").strip() for name in filter_params()}
        try:
            self.instance.filters = customer_filters_clean(values)
        except CustomerFilterError as error:
            field = error.param if error.param in self.fields else None
            raise ValidationError({field: error.message} if field else str(error)) from None
        return data


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "shared", "customers", "list_link", "updated_at"]
    list_select_related = ["owner"]
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

    form = SegmentForm

    def get_fieldsets(self, request, obj=None):
        grouped = {name for _title, names in SEGMENT_FILTER_GROUPS for name in names}
        # A filter no group names yet still has its field (a segment never loses a filter).
        others = [name for name in filter_params() if name not in grouped]
        return [
            (None, {"fields": ["name", "shared", "owner", "created_at", "updated_at"]}),
            *(
                (title, {"fields": list(names), "classes": ["insights-filter-group"]})
                for title, names in SEGMENT_FILTER_GROUPS
            ),
            *([(_("Other filters"), {"fields": others})] if others else []),
        ]

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = SegmentForm
        kwargs["fields"] = None
        form = super().get_form(request, obj, **kwargs)
        form.request_user = request.user
        return form

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
