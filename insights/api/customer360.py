"""Reads of the customers endpoints: the list queryset, the 360° view and merged-away ids.

Every read is a fixed number of queries whatever the number of records, deals or rooms.
"""

import dataclasses
from typing import Any

from django.db.models import F, Prefetch, QuerySet

from chats.models import ChatContact, ChatRoom
from customers.models import Contact, Customer, CustomerAlias
from deals.models import Deal, DealItem
from insights import queries
from insights.periods import Period
from insights.service_360 import customer_survey_responses, room_times

# Ids beyond a signed 64-bit integer cannot exist and would overflow SQLite's integer binding.
MAX_ID = 2**63 - 1


def customer_list_queryset() -> QuerySet[Customer]:
    """Customers with company and lifetime revenue (CustomerStats, null before a rebuild)."""
    return (
        Customer.objects.select_related("company")
        .annotate(lifetime_revenue=F("stats__lifetime_revenue"))
        .order_by("id")
    )


def customer_survivor_id(*, customer_id: int) -> int | None:
    """The customer a merged-away id now belongs to, or None when it was never merged."""
    try:
        from customers.identity import customer_resolve_id
    except ImportError:  # identity resolution not installed yet: read the alias table directly
        customer_resolve_id = None
    if customer_resolve_id is not None:
        survivor = customer_resolve_id(customer_id=customer_id)
    else:
        survivor = (
            CustomerAlias.objects.filter(alias_id=customer_id)
            .values_list("customer_id", flat=True)
            .first()
        )
    return survivor if survivor != customer_id else None


def _company(company: Any) -> dict[str, Any] | None:
    return {"id": company.pk, "name": company.name} if company is not None else None


def _records(customer: Customer) -> list[dict[str, Any]]:
    contacts = Contact.objects.filter(customer=customer).select_related("company")
    chats = ChatContact.objects.filter(customer=customer)
    records = [
        {
            "kind": "contact",
            "id": c.pk,
            "external_id": c.external_id,
            "name": f"{c.first_name} {c.last_name}".strip(),
            "email": c.email,
            "phone": c.phone,
            "email_key": c.email_key,
            "phone_key": c.phone_key,
            "source": c.source,
            "company": _company(c.company),
            "created_at": c.created_at,
            "_order": (c.created_at, 0, c.pk),
        }
        for c in contacts
    ] + [
        {
            "kind": "chat_contact",
            "id": c.pk,
            "external_id": c.external_id,
            "name": c.name,
            "email": c.email,
            "phone": c.phone,
            "email_key": c.email_key,
            "phone_key": c.phone_key,
            "source": c.channel,
            "company": None,
            "created_at": c.created_at,
            "_order": (c.created_at, 1, c.pk),
        }
        for c in chats
    ]
    # The order of METRICS.md section 2: created_at, CRM before chat, id.
    records.sort(key=lambda record: record["_order"])
    for record in records:
        del record["_order"]
    return records


def _deals(customer: Customer) -> list[dict[str, Any]]:
    deals = (
        Deal.objects.filter(contact__customer=customer)
        .select_related("stage", "lost_reason")
        .prefetch_related(Prefetch("items", DealItem.objects.select_related("product")))
        .order_by("-created_at", "id")
    )
    return [
        {
            "id": deal.pk,
            "external_id": deal.external_id,
            "name": deal.name,
            "stage": deal.stage.name,
            "status": str(deal.status),
            "amount": deal.amount,
            "currency": deal.currency,
            "created_at": deal.created_at,
            "closed_at": deal.closed_at,
            "lost_reason": deal.lost_reason.name if deal.lost_reason else None,
            "items": [
                {
                    "product": {"id": item.product_id, "name": item.product.name},
                    "quantity": item.quantity,
                    "unit_price": item.unit_price,
                    "revenue": item.revenue,
                }
                for item in deal.items.all()
            ],
        }
        for deal in deals
    ]


def _chat_rooms(customer: Customer) -> list[dict[str, Any]]:
    rooms = (
        ChatRoom.objects.filter(chat_contact__customer=customer)
        .select_related("chat_contact")
        .order_by("-created_at", "id")
    )
    return [
        {
            "id": room.pk,
            "external_id": room.external_id,
            "chat_contact_id": room.chat_contact_id,
            "channel": room.chat_contact.channel,
            "created_at": room.created_at,
            "resolved_at": room.resolved_at,
            "agent": room.agent,
            "csat_score": room.csat_score,
            "first_response_at": room.first_response_at,
            **room_times(room),
        }
        for room in rooms
    ]


def _rfm(customer: Customer, period: Period) -> dict[str, Any]:
    scores = queries.rfm_for_customers(period=period, customer_ids=[customer.pk]).get(customer.pk)
    fields = ("recency_days", "frequency", "monetary", "r", "f", "m", "segment")
    values = {name: getattr(scores, name) if scores else None for name in fields}
    return {"period": period_json(period), **values}


def _explanation(customer: Customer) -> list[dict[str, Any]]:
    try:
        from customers.identity import customer_explanation
    except ImportError:  # identity resolution not installed yet
        return []
    edges = customer_explanation(customer=customer)
    return [
        dataclasses.asdict(edge)
        if dataclasses.is_dataclass(edge)
        else dict(edge)
        if isinstance(edge, dict)
        else {"text": str(edge)}
        for edge in edges
    ]


def period_json(period: Period, granularity: str | None = None) -> dict[str, Any]:
    """The `period` object of every insights response."""
    return {
        "start": period.start,
        "end": period.end,
        "preset": period.preset,
        "months": period.month_count,
        "granularity": granularity,
    }


def customer_360(*, customer_id: int, period: Period) -> Customer | None:
    """The customer with its records, deals, rooms, RFM scores for `period` and explanation."""
    if customer_id > MAX_ID:
        return None
    customer = customer_list_queryset().filter(pk=customer_id).first()
    if customer is None:
        return None
    # Attached as attributes so one serializer reads list rows and the detail alike.
    customer.records = _records(customer)
    customer.deals = _deals(customer)
    customer.chat_rooms = _chat_rooms(customer)
    # Masked by the serializer for a reader without accounts.view_personal_data.
    customer.survey_responses = customer_survey_responses(customer=customer, masked=False)
    customer.rfm = _rfm(customer, period)
    customer.explanation = _explanation(customer)
    return customer
