"""Reads of one customer and the list: the 360° view (API and admin page), merged-away ids.

Every read is a fixed number of queries whatever the number of records, deals or rooms.
"""

import dataclasses
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import F, Prefetch, QuerySet

from chats.models import ChatContact, ChatRoom
from customers.identity import customer_explanation, customer_resolve_id
from customers.models import Contact, Customer
from deals.models import Deal, DealItem
from insights import queries
from insights.periods import Period
from insights.service_360 import customer_survey_responses, room_times

# Ids beyond a signed 64-bit integer cannot exist and would overflow SQLite's integer binding.
MAX_ID = 2**63 - 1


def customer_list_queryset(queryset: QuerySet[Customer] | None = None) -> QuerySet[Customer]:
    """Customers with company, lifetime revenue (CustomerStats, null before a rebuild),
    predicted value as of today (CustomerValue, null without a buying day or a fit) and health
    as of today (CustomerHealth, null without a buying day).

    Given an already filtered and ordered `queryset`, adds the columns to it (in that order);
    else all customers by id.
    """
    listed = (
        (Customer.objects.all() if queryset is None else queryset)
        .select_related("company")
        .annotate(
            lifetime_revenue=F("stats__lifetime_revenue"),
            p_alive=F("value__p_alive"),
            expected_purchases=F("value__expected_purchases"),
            predicted_clv=F("value__predicted_clv"),
            last_purchase_day=F("stats__last_purchase_day"),
            health_score=F("health__health"),
            health_band=F("health__band"),
            health_purchase=F("health__purchase"),
            health_recency=F("health__recency"),
            health_service=F("health__service"),
            health_voice=F("health__voice"),
        )
    )
    return listed.order_by("id") if queryset is None else listed


def customer_survivor_id(*, customer_id: int) -> int | None:
    """The customer a merged-away id now belongs to, or None when it was never merged."""
    survivor = customer_resolve_id(customer_id=customer_id)
    return survivor if survivor != customer_id else None


@dataclasses.dataclass
class CustomerRecords:
    """What a customer is made of, read once for the API and the admin's 360° page.

    Lists are in created_at, id order; contacts carry company and owner, deals their stage,
    lost reason and items with products, rooms their chat contact.
    """

    contacts: list[Contact]
    chat_contacts: list[ChatContact]
    deals: list[Deal]
    rooms: list[ChatRoom]


def customer_records(*, customer: Customer) -> CustomerRecords:
    """The customer's records, deals and chat rooms in five queries, however many there are."""
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
    deals = sorted(
        (deal for contact in contacts for deal in contact.deals.all()),
        key=lambda d: (d.created_at, d.id),
    )
    rooms = sorted(
        (room for chat in chat_contacts for room in chat.rooms.all()),
        key=lambda r: (r.created_at, r.id),
    )
    return CustomerRecords(contacts=contacts, chat_contacts=chat_contacts, deals=deals, rooms=rooms)


def customer_explanation_rows(*, customer: Customer) -> list[dict[str, Any]]:
    """Why the records are one customer (customers.identity), one dict per link."""
    return [dataclasses.asdict(edge) for edge in customer_explanation(customer=customer)]


def _company(company: Any) -> dict[str, Any] | None:
    return {"id": company.pk, "name": company.name} if company is not None else None


def _records(found: CustomerRecords) -> list[dict[str, Any]]:
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
        for c in found.contacts
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
        for c in found.chat_contacts
    ]
    # The order of METRICS.md section 2: created_at, CRM before chat, id.
    records.sort(key=lambda record: record["_order"])
    for record in records:
        del record["_order"]
    return records


def _deals(found: CustomerRecords) -> list[dict[str, Any]]:
    # Newest first, ties by id (sorted is stable).
    deals = sorted(
        sorted(found.deals, key=lambda d: d.id), key=lambda d: d.created_at, reverse=True
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
            "expected_close_at": deal.expected_close_at,
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


def _chat_rooms(found: CustomerRecords) -> list[dict[str, Any]]:
    rooms = sorted(
        sorted(found.rooms, key=lambda r: r.id), key=lambda r: r.created_at, reverse=True
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


def months_text(period: Period) -> str:
    """M(P) as the API writes it: a decimal string with 4 places, half away from zero."""
    m = period.month_length
    exact = Decimal(m.numerator) / Decimal(m.denominator)
    return str(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def period_json(period: Period, granularity: str | None = None) -> dict[str, Any]:
    """The `period` object of every insights response."""
    return {
        "start": period.start,
        "end": period.end,
        "preset": period.preset,
        "months": months_text(period),
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
    found = customer_records(customer=customer)
    customer.records = _records(found)
    customer.deals = _deals(found)
    customer.chat_rooms = _chat_rooms(found)
    # Masked by the serializer for a reader without accounts.view_personal_data.
    customer.survey_responses = customer_survey_responses(customer=customer, masked=False)
    customer.rfm = _rfm(customer, period)
    customer.explanation = customer_explanation_rows(customer=customer)
    return customer
