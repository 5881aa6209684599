"""The admin customer 360° page's reads: records, deals, rooms, a timeline, and masking.

One bounded set of prefetching queries per customer; masking happens in memory, on instances
the page never saves, for readers without accounts.view_personal_data.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, Q, Sum
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from accounts.masking import mask_email, mask_name, mask_phone
from chats.models import ChatContact, ChatRoom
from customers.explanation_text import record_label, via_label
from customers.models import Contact, Customer, CustomerAlias
from deals.models import Deal, DealItem, PipelineStage


def resolve_alias(customer_id: int) -> int | None:
    try:
        identity = importlib.import_module("customers.identity")
    except ImportError:
        identity = None
    resolve = getattr(identity, "customer_resolve_id", None)
    if resolve is not None:
        return resolve(customer_id=customer_id)
    alias = CustomerAlias.objects.filter(alias_id=customer_id).values_list("customer_id").first()
    return alias[0] if alias else None


def customer_explanation_rows(customer: Customer) -> list[dict[str, Any]]:
    """Why the records are one customer, if identity resolution offers the explanation."""
    try:
        identity = importlib.import_module("customers.identity")
    except ImportError:
        return []
    explain = getattr(identity, "customer_explanation", None)
    if explain is None:
        return []
    return [
        {
            "source": record_label(getattr(edge, "source", "")),
            "via": via_label(getattr(edge, "via", "")),
            "key": getattr(edge, "key", ""),
            "target": record_label(getattr(edge, "target", str(edge))),
        }
        for edge in explain(customer=customer)
    ]


# A deal counts towards lifetime revenue when won (METRICS.md section 3): not lost, and a won
# stage or a win probability of 100 (its own, else the stage's default).
WON_DEAL = ~Q(stage__outcome=PipelineStage.Outcome.LOST) & (
    Q(stage__outcome=PipelineStage.Outcome.WON)
    | Q(win_probability=100)
    | Q(win_probability__isnull=True, stage__default_win_probability=100)
)


def customer_lifetime_revenue(*, customer: Customer) -> Decimal:
    """Sum of the values of the customer's won deals of all time: CustomerStats, else one SUM."""
    try:
        models = importlib.import_module("insights.models")
    except ImportError:  # pragma: no cover - insights.models always exists
        models = None
    stats_model = getattr(models, "CustomerStats", None)
    if stats_model is not None:
        value = (
            stats_model.objects.filter(customer=customer)
            .values_list("lifetime_revenue", flat=True)
            .first()
        )
        if value is not None:
            return value
    total = Deal.objects.filter(WON_DEAL, contact__customer=customer).aggregate(s=Sum("amount"))
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
    if masked:
        for record in (*contacts, *chat_contacts):
            _mask_record(record)
    deals = sorted(
        (deal for contact in contacts for deal in contact.deals.all()),
        key=lambda d: (d.created_at, d.id),
    )
    rooms = sorted(
        (room for chat in chat_contacts for room in chat.rooms.all()),
        key=lambda r: (r.created_at, r.id),
    )
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
