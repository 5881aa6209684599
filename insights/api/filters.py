"""Filters of the customers list: the drill-down querystring of docs/INTERFACES.md, plus a
lifetime-revenue range and a search over name, email and phone in any format."""

from datetime import date

from django.db.models import Exists, OuterRef, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from accounts.masking import can_see_personal_data
from customers.models import Customer
from customers.snapshot_filters import customer_search_q
from deals.models import Deal
from insights import queries
from insights.periods import PeriodError, parse_period

from .customer360 import MAX_ID

RFM_PARAMS = ("segment", "r", "f")
SCORE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]


def _documented(filter_class: type, schema: dict, description: str) -> type:
    """A filter class whose OpenAPI schema is `schema` (drf-spectacular then takes the
    description from it, not from help_text)."""
    return extend_schema_field({**schema, "description": description})(
        type(filter_class.__name__, (filter_class,), {})
    )


COMPANY_SCHEMA = {"type": "string", "pattern": r"^(\d{1,18}|none)$"}
# CustomerStats.lifetime_revenue: at most 16 digits before and 2 after the point.
MONEY_SCHEMA = {"type": "string", "format": "decimal", "pattern": r"^-?\d{1,16}(\.\d{1,2})?$"}


class CustomerFilter(filters.FilterSet):
    source = filters.CharFilter(
        field_name="source",
        help_text="The source as written (a CRM source or a chat channel); `Other` = none.",
    )
    company = _documented(
        filters.CharFilter,
        COMPANY_SCHEMA,
        "A company id, or `none` for customers whose company is Other.",
    )(method="filter_company")
    first_seen_from = filters.DateFilter(
        field_name="first_seen_date",
        lookup_expr="gte",
        help_text="First seen (local date) on or after this date, YYYY-MM-DD.",
    )
    first_seen_to = filters.DateFilter(
        field_name="first_seen_date",
        lookup_expr="lte",
        help_text="First seen (local date) on or before this date, YYYY-MM-DD.",
    )
    has_deals = filters.ChoiceFilter(
        choices=[("yes", "yes"), ("no", "no")],
        method="filter_has_deals",
        help_text="`yes`: customers with at least one deal (any time); `no`: without.",
    )
    segment = filters.ChoiceFilter(
        choices=[(name, name) for name in queries.SEGMENTS],
        method="filter_noop",
        help_text="RFM segment for the period rfm_start..rfm_end (default last_30_days).",
    )
    r = filters.ChoiceFilter(
        choices=SCORE_CHOICES,
        method="filter_noop",
        help_text="RFM recency score 1–5 (a grid cell with f) for the period rfm_start..rfm_end.",
    )
    f = filters.ChoiceFilter(
        choices=SCORE_CHOICES,
        method="filter_noop",
        help_text="RFM frequency score 1–5 for the period rfm_start..rfm_end.",
    )
    rfm_start = filters.DateFilter(
        method="filter_rfm_period",
        help_text="First local date of the period the RFM segment / cell is computed for.",
    )
    rfm_end = filters.DateFilter(
        method="filter_rfm_period",
        help_text="Last local date of the period the RFM segment / cell is computed for.",
    )
    revenue_min = _documented(
        filters.NumberFilter,
        MONEY_SCHEMA,
        "Lifetime revenue (won deals of all time, as of the last rebuild) at least this much.",
    )(field_name="stats__lifetime_revenue", lookup_expr="gte", max_digits=18, decimal_places=2)
    revenue_max = _documented(
        filters.NumberFilter,
        MONEY_SCHEMA,
        "Lifetime revenue (won deals of all time, as of the last rebuild) at most this much.",
    )(field_name="stats__lifetime_revenue", lookup_expr="lte", max_digits=18, decimal_places=2)
    search = filters.CharFilter(
        method="filter_search",
        help_text=(
            "Part of the name or email, or a whole email or phone in any format "
            "(`0812 3456 7890` finds `+6281234567890`), matched against every member record."
        ),
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_noop(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # segment / r / f and their period work together; filter_queryset applies them at once.
        return queryset

    def filter_rfm_period(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset  # read by filter_queryset with segment / r / f

    def filter_company(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value.lower() == "none":
            return queryset.filter(company__isnull=True)
        if not value.isdigit() or int(value) > MAX_ID:
            raise ValidationError({"company": ["Enter a company id or `none`."]})
        return queryset.filter(company_id=int(value))

    def filter_has_deals(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Uses the deal and contact foreign-key indexes; a deal belongs to its contact's customer.
        has = Exists(Deal.objects.filter(contact__customer_id=OuterRef("pk")))
        return queryset.filter(has if value == "yes" else ~has)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value.strip():
            return queryset
        masked = not can_see_personal_data(getattr(self.request, "user", None))
        return queryset.filter(customer_search_q(value, substrings=not masked))

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if not any(data.get(param) for param in RFM_PARAMS):
            return queryset
        start, end = data.get("rfm_start"), data.get("rfm_end")
        try:
            period = parse_period(
                start=start.isoformat() if start else None, end=end.isoformat() if end else None
            )
        except PeriodError as error:
            raise ValidationError({f"rfm_{error.param}": [error.message]}) from None
        ids = queries.rfm_customer_ids(
            period=period,
            segment=data.get("segment") or None,
            r=int(data["r"]) if data.get("r") else None,
            f=int(data["f"]) if data.get("f") else None,
        )
        return queryset.filter(pk__in=ids)
