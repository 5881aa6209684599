"""Admin for the customer snapshot: explanations, rules, data quality (identity).

Customers are written only by identity resolution, so they are read-only here. Reps steer
resolution with match rules and fix the records listed under data quality.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import ReadOnlyListAdmin, sees_all_records

from .explanation_text import edge_text
from .identity import customer_explanation, customer_resolve_id
from .models import ContactToFix, Customer, MatchRule, PlaceholderKey
from .quality import PROBLEMS, problem_q, problems_annotate


def _admin_url(name: str, *args) -> str | None:
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return None


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
    # Filters, list columns and export come from insights.admin_customers, which registers a
    # subclass (the filters need insights; customers does not import it).
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
        # Erasure (privacy.erasure, page privacy.views) is the one way a customer leaves the
        # snapshot by hand; the model's delete permission grants it (the plain delete stays
        # off: it would leave the records behind).
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
        return HttpResponseRedirect(reverse("privacy_customer_erase", args=[ids[0]]))

    def get_urls(self):
        return [
            path(
                "resolve/<int:customer_id>/",
                self.admin_site.admin_view(self.resolve_view),
                name="customers_customer_resolve",
            ),
            *super().get_urls(),
        ]

    def resolve_view(self, request, customer_id: int):
        """A customer id as once shown, merged or not, leads to the customer it is now."""
        if not self.has_view_permission(request):  # admin_view alone lets any staff user in
            raise PermissionDenied
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
            url = reverse("privacy_customer_erase", args=[int(object_id)])
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
                        date_format(localtime(record.created_at), "Y-m-d H:i"),
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
            "<ol>{}</ol>", format_html_join("", "<li>{}</li>", ((edge_text(e),) for e in edges))
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
                (_admin_url("chats_chatcontacttofix_changelist"), _("chat contacts")),
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
        # Only a real key replaces the default "any problem": an empty ?key= once showed
        # every record, problem or not.
        if self.value() is None and not request.GET.get("key", "").strip():
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


class RecordsToFixAdmin(ReadOnlyListAdmin):
    """A read-only list of records with key problems; each row links to the record's editor."""

    list_filter = [ProblemFilter, KeyFilter]
    list_select_related = ["customer"]
    edit_url_name = ""
    owner_field = ""  # the record's owner, for reps who see only their own

    def get_queryset(self, request):
        # Scoped like the record's own list: a rep sees only the contacts they own (search,
        # filters and change pages all go through this queryset).
        queryset = problems_annotate(super().get_queryset(request))
        if self.owner_field and not sees_all_records(request.user):
            queryset = queryset.filter(**{self.owner_field: request.user})
        return queryset

    @admin.display(description=_("problems"))
    def problems(self, obj):
        found = [label for name, label in PROBLEMS.items() if getattr(obj, f"problem_{name}")]
        if obj.email_placeholder:
            found.append(_("placeholder %(key)s") % {"key": obj.email_key})
        if obj.phone_placeholder:
            found.append(_("placeholder %(key)s") % {"key": obj.phone_key})
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
    # Its own permission: seeing contacts is not seeing every contact's key problems.
    view_permission = "customers.view_contacttofix"
    owner_field = "owner"
