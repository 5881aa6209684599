"""The admin customer 360° page's reads: records, deals, rooms, a timeline, and masking.

One bounded set of prefetching queries per customer; masking happens in memory, on instances
the page never saves, for readers without accounts.view_personal_data.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, Sum
from django.db.models.functions import Trim, Upper
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from accounts.masking import mask_email, mask_name, mask_phone
from chats.models import ChatContact
from customers.explanation_text import record_label, via_label
from customers.models import Contact, Customer
from deals import rules as deal_rules
from deals.currency import base_currency
from deals.models import Deal, PipelineStage

from ..api.customer360 import customer_explanation_rows as explanation_rows
from ..api.customer360 import customer_records
from ..models import CustomerStats


def customer_explanation_rows(customer: Customer) -> list[dict[str, Any]]:
    """Why the records are one customer, with records and links named for a reader."""
    return [
        {
            **row,
            "source": record_label(row["source"]),
            "via": via_label(row["via"]),
            "target": record_label(row["target"]),
        }
        for row in explanation_rows(customer=customer)
    ]


def customer_lifetime_revenue(*, customer: Customer) -> Decimal:
    """Sum of the values of the customer's won deals of all time: CustomerStats, else one SUM."""
    value = (
        CustomerStats.objects.filter(customer=customer)
        .values_list("lifetime_revenue", flat=True)
        .first()
    )
    if value is not None:
        return value
    # No stats row yet (before the first rebuild): the won deals in the base currency only;
    # converting the others needs the rebuild's rates (METRICS.md §3).
    total = (
        Deal.objects.filter(deal_rules.won_q(), contact__customer=customer)
        .annotate(w_currency=Upper(Trim("currency")))
        .filter(Q(w_currency="") | Q(w_currency=base_currency()))
        .aggregate(s=Sum("amount"))
    )
    return total["s"] or Decimal("0.00")


def mask_key(key: str) -> str:
    return mask_email(key) if "@" in key else mask_phone(key)


def mask_customer(customer: Customer) -> None:
    """Mask the customer's name, email and phone in memory, for a page that never saves it."""
    customer.display_name = mask_name(customer.display_name)
    customer.primary_email = mask_email(customer.primary_email)
    customer.primary_phone = mask_phone(customer.primary_phone)


def _mask_record(record: Contact | ChatContact) -> None:
    # In memory only, before anything renders str(record) (the table and the timeline).
    if isinstance(record, Contact):
        record.first_name = mask_name(record.first_name)
        record.last_name = mask_name(record.last_name)
    else:
        record.name = mask_name(record.name)
    record.email = mask_email(record.email)
    record.phone = mask_phone(record.phone)
    record.email_key = mask_email(record.email_key)
    record.phone_key = mask_phone(record.phone_key)


def _url(name: str, obj: Any) -> str:
    """The admin change page of `obj`, or "" when its model has no admin page."""
    try:
        return reverse(name, args=[obj.pk])
    except NoReverseMatch:
        return ""


TIMELINE_PAGE_SIZE = 50


def timeline_page(timeline: list[dict[str, Any]], number: str | None) -> Page:
    """One page of the (newest-first) timeline; a bad or too-high page number gives the last."""
    return Paginator(timeline, TIMELINE_PAGE_SIZE).get_page(number)


def customer_360(*, customer: Customer, masked: bool = False) -> dict[str, Any]:
    """Records, deals, chat rooms and a timeline for one customer in a fixed number of queries.

    masked: the records' names, emails, phones and keys are masked (the reader lacks
    accounts.view_personal_data); the model instances returned must then never be saved.
    """
    found = customer_records(customer=customer)
    contacts, chat_contacts = found.contacts, found.chat_contacts
    deals, rooms = found.deals, found.rooms
    if masked:
        for record in (*contacts, *chat_contacts):
            _mask_record(record)
        for deal in deals:  # a free-text deal name may carry a person's ("Modul Akuntansi – Nur")
            deal.name = mask_name(deal.name)
    scores = [room.csat_score for room in rooms if room.csat_score is not None]
    contact_url, chat_url = "admin:customers_contact_change", "admin:chats_chatcontact_change"
    deal_url, room_url = "admin:deals_deal_change", "admin:chats_chatroom_change"
    timeline: list[tuple[datetime, int, str, str, str]] = []
    for contact in contacts:
        timeline.append(
            (
                contact.created_at,
                0,
                _("CRM contact created"),
                str(contact),
                _url(contact_url, contact),
            )
        )
    for chat in chat_contacts:
        what = f"{chat.channel}: {chat}"
        timeline.append((chat.created_at, 1, _("Chat contact created"), what, _url(chat_url, chat)))
    for deal in deals:
        url = _url(deal_url, deal)
        timeline.append((deal.created_at, 2, _("Deal created"), str(deal), url))
        if deal.closed_at:
            label = PipelineStage.Outcome(deal.status).label
            timeline.append((deal.closed_at, 3, _("Deal closed (%s)") % label, str(deal), url))
    for room in rooms:
        url = _url(room_url, room)
        timeline.append((room.created_at, 4, _("Chat room opened"), str(room), url))
        if room.resolved_at:
            timeline.append((room.resolved_at, 5, _("Chat room resolved"), str(room), url))
    # Newest first: what happened last is what a salesperson asks about.
    timeline.sort(key=lambda event: (event[0], event[1]), reverse=True)
    return {
        "contacts": contacts,
        "chat_contacts": chat_contacts,
        "deals": deals,
        "rooms": rooms,
        "record_total": len(contacts) + len(chat_contacts),
        "csat_average": (
            (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.01")) if scores else None
        ),
        "timeline": [
            {"at": at, "event": event, "what": what, "url": url}
            for at, _o, event, what, url in timeline
        ],
    }
