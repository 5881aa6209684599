"""Admin for the customer snapshot: explanations, rules, data quality (identity).

The Customer list takes the dashboards' drill-down querystring (docs/INTERFACES.md); customers
are written only by identity resolution, so they are read-only here. Reps steer resolution with
match rules and fix the records listed under data quality.
"""

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from .erasure import customer_erase
from .identity import customer_explanation, customer_resolve_id
from .models import (
    ChatContactToFix,
    ContactToFix,
    Customer,
    MatchRule,
    PlaceholderKey,
)
from .quality import PROBLEMS, problem_q
from .snapshot_filters import (
    LIFECYCLE_DRILLDOWN_PARAMS,
    DrilldownError,
    customer_drilldown,
    customer_search_q,
)

# Handled by the changelist below rather than by sidebar filters (dates and RFM have no
# fixed choices); source, company and has_deals have sidebar filters of the same names.
CHANGELIST_PARAMS = (
    "first_seen_from",
    "first_seen_to",
    "segment",
    "rfm_start",
    "rfm_end",
    "r",
    "f",
    *LIFECYCLE_DRILLDOWN_PARAMS,
)


def _admin_url(name: str, *args) -> str | None:
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return None


class DrilldownFilter(admin.SimpleListFilter):
    """A sidebar filter for one drill-down parameter, filtering with customer_drilldown."""

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        try:
            return customer_drilldown(queryset=queryset, params={self.parameter_name: self.value()})
        except DrilldownError as exc:
            raise IncorrectLookupParameters(str(exc)) from exc


class SourceFilter(DrilldownFilter):
    title = _("source")
    parameter_name = "source"

    def lookups(self, request, model_admin):
        sources = Customer.objects.order_by("source").values_list("source", flat=True).distinct()
        return [(s, s) for s in sources]


class CompanyFilter(DrilldownFilter):
    title = _("company")
    parameter_name = "company"

    def lookups(self, request, model_admin):
        # Companies are many; offer "Other" and the one a drill-down arrived with.
        choices = [("none", _("Other (no company)"))]
        value = self.value()
        if value and value != "none" and value.isdigit():
            company = Customer._meta.get_field("company").related_model.objects.filter(
                pk=int(value)
            )
            choices += [(str(c.pk), c.name) for c in company]
        return choices


class HasDealsFilter(DrilldownFilter):
    title = _("has deals")
    parameter_name = "has_deals"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]


class DrilldownChangeList(ChangeList):
    """Takes first-seen range and RFM parameters besides the sidebar filters."""

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        for name in CHANGELIST_PARAMS:
            lookup_params.pop(name, None)
        return lookup_params

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        params = {name: request.GET.get(name, "") for name in CHANGELIST_PARAMS}
        try:
            return customer_drilldown(queryset=queryset, params=params)
        except DrilldownError as exc:
            raise IncorrectLookupParameters(str(exc)) from exc


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "display_name",
        "primary_email",
        "primary_phone",
        "source",
        "company",
        "first_seen_at",
        "record_count",
    ]
    list_display_links = ["id", "display_name"]
    list_filter = [SourceFilter, CompanyFilter, HasDealsFilter]
    list_select_related = ["company"]
    search_fields = ["display_name"]  # widened to keys in get_search_results
    search_help_text = _("Name, email or phone in any format (0812…, +62 812…), or a customer id.")
    show_full_result_count = False  # a second COUNT over every customer buys nothing here
    fields = [
        "display_name",
        "primary_email",
        "primary_phone",
        "source",
        "company",
        "first_seen_at",
        "first_seen_date",
        "record_count",
        "records",
        "explanation",
        "merged_ids",
        "customer_360",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_erase_permission(self, request, obj=None) -> bool:
        # Erasure is the one way a customer leaves the snapshot by hand; the model's delete
        # permission grants it (the plain delete stays off: it would leave the records behind).
        return request.user.is_superuser or request.user.has_perm("customers.delete_customer")

    actions = ["erase_person"]

    @admin.action(description=_("Erase this person"), permissions=["erase"])
    def erase_person(self, request, queryset):
        """Leads to the confirmation page; one person at a time, so nobody erases by accident."""
        ids = list(queryset.values_list("pk", flat=True)[:2])
        if len(ids) != 1:
            self.message_user(
                request, _("Select exactly one customer to erase."), level=messages.WARNING
            )
            return None
        return HttpResponseRedirect(reverse("admin:customers_customer_erase", args=[ids[0]]))

    def erase_view(self, request, customer_id: int):
        """GET: what will go, with a confirm button; POST: erase and record the audit entry."""
        if not self.has_erase_permission(request):
            raise PermissionDenied
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise Http404(_("No such customer."))
        if request.method == "POST":
            record = customer_erase(customer=customer, erased_by=request.user)
            self.message_user(
                request,
                _("Customer %(id)s was erased: %(contacts)s CRM and %(chats)s chat records.")
                % {
                    "id": customer_id,
                    "contacts": record.counts["contacts"],
                    "chats": record.counts["chat_contacts"],
                },
                level=messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:customers_customer_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Erase this person"),
            "customer": customer,
            "contacts": customer.contacts.count(),
            "chat_contacts": customer.chat_contacts.count(),
        }
        return TemplateResponse(request, "admin/customers/customer/erase_confirm.html", context)

    def get_changelist(self, request, **kwargs):
        return DrilldownChangeList

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        match = customer_search_q(search_term)
        if search_term.strip().isdigit():  # staff paste customer ids into the admin search
            match |= Q(pk=int(search_term.strip()))
        return queryset.filter(match), False

    def get_urls(self):
        return [
            path(
                "resolve/<int:customer_id>/",
                self.admin_site.admin_view(self.resolve_view),
                name="customers_customer_resolve",
            ),
            path(
                "<int:customer_id>/erase/",
                self.admin_site.admin_view(self.erase_view),
                name="customers_customer_erase",
            ),
            *super().get_urls(),
        ]

    def resolve_view(self, request, customer_id: int):
        """A customer id as once shown, merged or not, leads to the customer it is now."""
        resolved = customer_resolve_id(customer_id=customer_id)
        if resolved is None:
            raise Http404(_("No customer has ever had this id."))
        return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[resolved]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if object_id.isdigit() and not Customer.objects.filter(pk=int(object_id)).exists():
            resolved = customer_resolve_id(customer_id=int(object_id))
            if resolved is not None:
                self.message_user(
                    request,
                    _("Customer %(old)s was merged into %(new)s.")
                    % {
                        "old": object_id,
                        "new": resolved,
                    },
                )
                url = reverse("admin:customers_customer_change", args=[resolved])
                return HttpResponseRedirect(url)
        if object_id.isdigit() and self.has_erase_permission(request):
            url = reverse("admin:customers_customer_erase", args=[int(object_id)])
            extra_context = {**(extra_context or {}), "erase_url": url}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("records"))
    def records(self, obj: Customer):
        rows = []
        for record in obj.contacts.order_by("created_at", "id"):
            rows.append((record, 0, _("CRM contact"), record.source, "customers_contact_change"))
        for record in obj.chat_contacts.order_by("created_at", "id"):
            rows.append((record, 1, _("chat contact"), record.channel, "chats_chatcontact_change"))
        rows.sort(key=lambda row: (row[0].created_at, row[1], row[0].pk))  # record order
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
            "<th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("record"),
            _("created"),
            _("email key"),
            _("phone key"),
            _("source / channel"),
            _("external id"),
            format_html_join(
                "",
                "<tr><td><a href='{}'>{} {}: {}</a></td><td>{}</td><td>{}</td><td>{}</td>"
                "<td>{}</td><td>{}</td></tr>",
                (
                    (
                        _admin_url(url, record.pk) or "#",
                        kind,
                        record.pk,
                        record,
                        record.created_at,
                        record.email_key or "—",
                        record.phone_key or "—",
                        source or "—",
                        record.external_id or "—",
                    )
                    for record, _order, kind, source, url in rows
                ),
            ),
        )

    @admin.display(description=_("why these records are one customer"))
    def explanation(self, obj: Customer):
        edges = customer_explanation(customer=obj)
        if not edges:
            return _("A single record.")
        return format_html(
            "<ol>{}</ol>", format_html_join("", "<li>{}</li>", ((str(e),) for e in edges))
        )

    @admin.display(description=_("merged customer ids"))
    def merged_ids(self, obj: Customer):
        ids = list(obj.aliases.order_by("alias_id").values_list("alias_id", flat=True))
        return ", ".join(str(i) for i in ids) or "—"

    @admin.display(description=_("Customer 360°"))
    def customer_360(self, obj: Customer):
        try:
            url = reverse("insights_customer360", args=[obj.pk])
        except NoReverseMatch:
            return "—"
        return format_html("<a href='{}'>{}</a>", url, _("deals, chats and timeline"))


@admin.register(MatchRule)
class MatchRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "note", "created_by", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["created_by"]
    raw_id_fields = ["contact_a", "chat_contact_a", "contact_b", "chat_contact_b"]
    fields = [
        "kind",
        "contact_a",
        "chat_contact_a",
        "contact_b",
        "chat_contact_b",
        "note",
        "created_by",
        "created_at",
    ]
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(PlaceholderKey)
class PlaceholderKeyAdmin(admin.ModelAdmin):
    """Keys too common to identify anyone, as found by the last rebuild."""

    list_display = ["key", "fanout", "records"]
    search_fields = ["key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("records carrying it"))
    def records(self, obj: PlaceholderKey):
        query = urlencode({"key": obj.key})
        links = [
            (f"{url}?{query}", label)
            for url, label in (
                (_admin_url("customers_contacttofix_changelist"), _("CRM contacts")),
                (_admin_url("customers_chatcontacttofix_changelist"), _("chat contacts")),
            )
            if url
        ]
        return format_html_join(" · ", "<a href='{}'>{}</a>", links)


class ProblemFilter(admin.SimpleListFilter):
    title = _("problem")
    parameter_name = "problem"

    def lookups(self, request, model_admin):
        return list(PROBLEMS.items())

    def queryset(self, request, queryset):
        if self.value() in PROBLEMS:
            return queryset.filter(problem_q(self.value()))
        if self.value() is None and "key" not in request.GET:
            return queryset.filter(problem_q())
        return queryset


class KeyFilter(admin.SimpleListFilter):
    """Records carrying one key (a placeholder's carriers), whatever their other problems."""

    title = _("key")
    parameter_name = "key"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, value)] if value else []

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(email_key=self.value()) | queryset.filter(phone_key=self.value())


class RecordsToFixAdmin(admin.ModelAdmin):
    """A read-only list of records with key problems; each row links to the record's editor."""

    list_filter = [ProblemFilter, KeyFilter]
    list_select_related = ["customer"]
    edit_url_name = ""
    view_permission = ""

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(self.view_permission)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        self._placeholders = set(PlaceholderKey.objects.values_list("key", flat=True))
        return super().get_queryset(request)

    @admin.display(description=_("problems"))
    def problems(self, obj):
        placeholders = getattr(self, "_placeholders", set())
        found = []
        if (not obj.email_key or obj.email_key in placeholders) and (
            not obj.phone_key or obj.phone_key in placeholders
        ):
            found.append(PROBLEMS["no_key"])
        if obj.phone.strip() and not obj.phone_key:
            found.append(PROBLEMS["bad_phone"])
        if obj.email.strip() and not obj.email_key:
            found.append(PROBLEMS["bad_email"])
        for key in (obj.email_key, obj.phone_key):
            if key in placeholders:
                found.append(_("placeholder %(key)s") % {"key": key})
        return "; ".join(str(p) for p in found)

    @admin.display(description=_("fix"))
    def fix(self, obj):
        url = _admin_url(self.edit_url_name, obj.pk)
        return format_html("<a href='{}'>{}</a>", url, _("edit record")) if url else "—"


@admin.register(ContactToFix)
class ContactToFixAdmin(RecordsToFixAdmin):
    list_display = ["id", "__str__", "email", "phone", "problems", "customer", "fix"]
    search_fields = ["first_name", "last_name", "email", "phone", "external_id"]
    edit_url_name = "customers_contact_change"
    view_permission = "customers.view_contact"


@admin.register(ChatContactToFix)
class ChatContactToFixAdmin(RecordsToFixAdmin):
    list_display = ["id", "__str__", "channel", "email", "phone", "problems", "customer", "fix"]
    search_fields = ["name", "email", "phone", "external_id"]
    edit_url_name = "chats_chatcontact_change"
    view_permission = "chats.view_chatcontact"
