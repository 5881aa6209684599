from django.contrib import admin
from django.db.models import Q

from accounts.admin_scoping import OwnerScopedAdminMixin

from . import admin_snapshot  # noqa: F401  (snapshot, rules and data-quality admin)
from .keys import email_key, phone_key
from .models import Company, Contact


class IdentitySearchMixin:
    """Search also matches the stored identity keys, so a phone or email found in any format.

    "+62 812-3456-7890" finds a record typed "0812 3456 7890": the term is normalised like the
    records were (customers.keys) and compared with the indexed email_key / phone_key.
    """

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        by_key = Q()
        if key := phone_key(term):
            by_key |= Q(phone_key=key)
        if key := email_key(term):
            by_key |= Q(email_key=key)
        if by_key:
            results = results | queryset.filter(by_key)
        return results, may_have_duplicates


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "industry", "created_at", "external_id"]
    list_filter = ["industry"]
    search_fields = ["name", "external_id"]


@admin.register(Contact)
class ContactAdmin(OwnerScopedAdminMixin, IdentitySearchMixin, admin.ModelAdmin):
    list_display = ["__str__", "email", "phone", "company", "source", "owner", "created_at"]
    list_filter = ["source", "owner", "created_at"]
    list_select_related = ["company", "owner"]
    search_fields = ["first_name", "last_name", "email", "phone", "external_id", "company__name"]
    autocomplete_fields = ["company", "owner"]
    readonly_fields = ["email_key", "phone_key"]
