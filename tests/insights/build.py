"""Small builders for metric tests: local Jakarta times, customers with records, deals, rooms."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from unittest.mock import patch
from zoneinfo import ZoneInfo

from chats.models import ChatContact
from customers.models import Contact, Customer
from deals.models import Deal, PipelineStage
from insights.periods import Period
from insights.rebuild import insights_rebuild
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    ContactFactory,
    CustomerFactory,
    DealFactory,
    LostReasonFactory,
    StageFactory,
)

JAKARTA = ZoneInfo("Asia/Jakarta")


def at(text: str) -> datetime:
    """A Jakarta wall-clock time, "2026-01-10 10:00" (or a bare date at 10:00)."""
    if len(text) == 10:
        text += " 10:00"
    return datetime.fromisoformat(text).replace(tzinfo=JAKARTA)


def period(start: str, end: str) -> Period:
    return Period(date.fromisoformat(start), date.fromisoformat(end))


def customer(first_seen: str, *, source: str = "Other", company=None) -> Contact:
    """A customer with one CRM contact; returns the contact (deals hang off it)."""
    moment = at(first_seen)
    person = CustomerFactory(first_seen_at=moment, source=source, company=company)
    return ContactFactory(created_at=moment, customer=person, company=company)


def stage(outcome: str = "open", probability: int | None = None) -> PipelineStage:
    defaults = {"open": ("Proposal", 50), "won": ("Won", 100), "lost": ("Lost", 0)}
    name, default = defaults[outcome]
    if probability is not None:
        name = f"{name} {probability}"
        default = probability
    return StageFactory(name=name, outcome=outcome, default_win_probability=default)


def deal(
    contact: Contact | None,
    *,
    created: str,
    closed: str | None = None,
    outcome: str = "open",
    amount: str = "100.00",
    probability: int | None = None,
    reason: str | None = None,
) -> Deal:
    return DealFactory(
        contact=contact,
        stage=stage(outcome),
        amount=Decimal(amount),
        created_at=at(created),
        closed_at=at(closed) if closed else None,
        win_probability=probability,
        lost_reason=LostReasonFactory(name=reason) if reason is not None else None,
    )


def room(contact: Contact, *, created: str) -> None:
    person: Customer = contact.customer
    chat: ChatContact = ChatContactFactory(customer=person, created_at=person.first_seen_at)
    ChatRoomFactory(chat_contact=chat, created_at=at(created))


def rebuild(*, now: datetime | None = None):
    """A rebuild over the customers as the test built them (identity resolution left out);
    `now`: the rebuild's time (METRICS.md §L), else the real one."""
    with patch("insights.rebuild.snapshot_rebuild", return_value={}):
        if now is None:
            return insights_rebuild(trigger="test")
        with patch("insights.rebuild.rebuild_now", return_value=now):
            return insights_rebuild(trigger="test")
