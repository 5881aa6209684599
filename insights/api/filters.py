"""Filters of the customers list: the parameters of insights.customer_filters (the module the
admin list and saved segments use too), declared here for the OpenAPI schema only; checking
and filtering happen in that module, so both lists accept and refuse exactly the same input."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from rest_framework.exceptions import ValidationError

from accounts.masking import can_see_personal_data
from customers.models import Customer
from insights import queries
from insights.customer_filters import (
    ORDERINGS,
    CustomerFilterError,
    customer_filter,
    customer_order,
    customer_rfm_period,
    customer_search_q,
    filter_params,
)
from insights.section_params import (
    AT_RISK_BELOW,
    COHORT_OFFSET,
    LOST_AFTER,
    health_bands_text,
)

DOCS: dict[str, str] = {
    "preset": (
        "A past or current period preset (`last_30_days`, `this_month`…) instead of start and "
        "end: it moves with today, so a saved segment keeps its rolling period."
    ),
    "source": "The source as written (a CRM source or a chat channel); `Other` = none.",
    "company": "A company id, or `none` for customers whose company is Other.",
    "country": (
        "ISO 3166-1 alpha-2 code in any case (`id` = `ID`), or `Other`: the country of the first "
        "CRM contact that has one, else the region of the first phone number that has one."
    ),
    "city": "The city as written (of the first CRM contact that has one), or `Other`.",
    "first_seen_from": "First seen (local date) on or after this date, YYYY-MM-DD.",
    "first_seen_to": "First seen (local date) on or before this date, YYYY-MM-DD.",
    "start": (
        "First local date of a period P (YYYY-MM-DD, with `end`) for `product`, "
        "`revenue_min`/`revenue_max`, `has_deals`, `inactive`, `lost_reason` and RFM."
    ),
    "end": "Last local date of the period P (YYYY-MM-DD, with `start`).",
    "product": (
        "A product's external_id: customers with a won deal that includes it, closed in P "
        "(at any time without P)."
    ),
    "revenue_min": (
        "Revenue (values of won deals closed in P; lifetime without P) at least this much; "
        "a customer without any has 0."
    ),
    "revenue_max": "Revenue in P (lifetime without P) at most this much.",
    "has_deals": "`yes`: at least one deal created in P (any time without P); `no`: none.",
    "inactive": "`yes`: no deal and no chat room created in P (needs `start` and `end`).",
    "lost_reason": (
        "A lost reason as the lost-reasons chart shows it (`Unspecified` for none): customers "
        "with a lost deal for it closed in P (needs `start` and `end`)."
    ),
    "segment": "RFM segment for rfm_start..rfm_end (else P, else last_30_days).",
    "r": "RFM recency score 1–5 (a grid cell with f) for the RFM period.",
    "f": "RFM frequency score 1–5 for the RFM period.",
    "rfm_start": "First local date of the period the RFM segment / cell is computed for.",
    "rfm_end": "Last local date of the period the RFM segment / cell is computed for.",
    "segment_id": "A saved segment (yours or a shared one): its customers only.",
    "p_alive_min": (
        "P(alive) as of today (the probability that the customer still buys from you, MBG/NBD) "
        "at least this, 0 to 1; customers without a buying day have none and never match."
    ),
    "p_alive_max": "P(alive) as of today at most this, 0 to 1.",
    "last_purchase_from": (
        "Last buying day (as of the last rebuild) on or after this date, YYYY-MM-DD; a customer "
        "who never bought never matches."
    ),
    "last_purchase_to": "Last buying day on or before this date, YYYY-MM-DD.",
    "predicted_clv_min": (
        "Predicted value of its won deals over the next 365 days (as of the last rebuild) at "
        "least this much."
    ),
    "predicted_clv_max": "Predicted value over the next 365 days at most this much.",
    "buyers": (
        "`new`, `returning` or `lost` buyers of the bucket buyers_start..buyers_end (YYYY-MM-DD) "
        "with the lapse window lost_after: first buying day in it; a buying day in it and one "
        "before; a lost day (W days after a buying day with none since) in it."
    ),
    "buyers_start": "First local date of the buyers bucket, YYYY-MM-DD.",
    "buyers_end": "Last local date of the buyers bucket, YYYY-MM-DD.",
    "lost_after": f"The lapse window W in days, {LOST_AFTER.bounds()}, for buyers and lifecycle.",
    "cohort": (
        "A cohort month YYYY-MM: customers whose first buying day (event=activity: first seen) "
        "is in it, retained in month cohort + cohort_offset."
    ),
    "cohort_offset": f"Months after the cohort month, {COHORT_OFFSET.bounds()}.",
    "event": "`purchase` (default: a buying day) or `activity` (a deal or chat room created).",
    "lifecycle": (
        "`active`: a buying day in the last lost_after days (today included); `lost`: buying "
        "days before, none in them."
    ),
    "value": (
        f"`at_risk`: customers whose P(alive) is below {AT_RISK_BELOW} as of the last rebuild "
        "(MBG/NBD: one-time buyers included)."
    ),
    "value_as_of": (
        "With value=at_risk: the as-of date A (YYYY-MM-DD, up to today) instead of the last "
        "rebuild's; P(alive) is scored with the fit of A, as the customers-at-risk figure of a "
        "period whose as-of date is A counts them."
    ),
    "health": (
        f"{health_bands_text()}, as of the last rebuild; customers without a buying day have "
        "no health and never match."
    ),
}


def _noop(queryset: QuerySet, name: str, value: str) -> QuerySet:
    return queryset  # filter_queryset applies every parameter at once


def _declared() -> dict[str, filters.Filter]:
    # Plain text filters: the values are checked by customer_filter alone (one path, one set
    # of messages), not by django-filter's form.
    docs = {
        **DOCS,
        "segment": f"{DOCS['segment']} One of: {', '.join(queries.RFM_GROUPS)}.",
        "ordering": (
            "Sort by `lifetime_revenue`, `last_purchase`, `p_alive`, `predicted_clv` or `health` "
            "(`-` first: descending; no prediction or score sorts last), or `id`: "
            f"one of {', '.join(ORDERINGS)}."
        ),
        "search": (
            "Part of the name or email, or a whole email or phone in any format "
            "(`0812 3456 7890` finds `+6281234567890`), matched against every member record."
        ),
    }
    return {
        name: filters.CharFilter(method=_noop, help_text=docs.get(name, name))
        for name in (*filter_params(), "ordering", "search")
    }


def _filter_queryset(self: filters.FilterSet, queryset: QuerySet) -> QuerySet:
    request = getattr(self, "request", None)
    user = getattr(request, "user", None)
    try:
        queryset = customer_filter(queryset=queryset, params=self.data, user=user)
        if ordering := self.data.get("ordering"):
            queryset = customer_order(queryset, ordering)
    except CustomerFilterError as error:
        raise ValidationError({error.param: [error.message]}) from None
    if (term := self.data.get("search", "")).strip():
        # Readers of masked data match only a whole email or phone (issue 13 item 2).
        masked = not can_see_personal_data(user)
        queryset = queryset.filter(customer_search_q(term, substrings=not masked))
    return queryset


class _Meta:
    model = Customer
    fields: list[str] = []


CustomerFilter = type(
    "CustomerFilter",
    (filters.FilterSet,),
    {**_declared(), "Meta": _Meta, "filter_queryset": _filter_queryset, "__module__": __name__},
)


def customer_page_rfm(*, params: Mapping[str, str], customers: Sequence[Any]) -> dict[int, str]:
    """RFM group of each customer of a page for the list's RFM period (params validated)."""
    ids = [customer.pk for customer in customers]
    if not ids:
        return {}
    period = customer_rfm_period(params)
    rows = queries.rfm_for_customers(period=period, customer_ids=ids)
    return {cid: row.segment for cid, row in rows.items()}
