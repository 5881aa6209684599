"""A small data set that gives every dashboard chart something to draw, dated from `today`.

Raw records (CRM contacts, chat contacts, rooms, deals with items) go through the real
pipeline: `insights.rebuild.insights_rebuild` resolves customers and writes the rollups.
Everything happens between 40 and 2 days before `today`, so `last_30_days` and `last_90_days`
both see won and lost deals closing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from chats.models import ChatContact, ChatRoom
from customers.models import Company, Contact
from deals.models import Deal, DealItem, LostReason, PipelineStage, Product

JAKARTA = ZoneInfo("Asia/Jakarta")


def _at(today: date, days_ago: int, hour: int = 10) -> datetime:
    return datetime.combine(today - timedelta(days=days_ago), time(hour), tzinfo=JAKARTA)


def seed_dashboard(*, today: date, prefix: str = "s") -> dict[str, int]:
    """Create the records; returns counts. `prefix` keeps external ids unique across calls."""
    won, _ = PipelineStage.objects.get_or_create(
        name="Won", defaults={"outcome": "won", "default_win_probability": 100}
    )
    lost, _ = PipelineStage.objects.get_or_create(
        name="Lost", defaults={"outcome": "lost", "default_win_probability": 0}
    )
    proposal, _ = PipelineStage.objects.get_or_create(
        name="Proposal", defaults={"outcome": "open", "default_win_probability": 50}
    )
    maju = Company.objects.create(external_id=f"{prefix}-co-1", name=f"PT Maju {prefix}")
    sejahtera = Company.objects.create(external_id=f"{prefix}-co-2", name=f"CV Sejahtera {prefix}")
    products = [
        Product.objects.create(external_id=f"{prefix}-p-{i}", name=name, price=price)
        for i, (name, price) in enumerate(
            [
                ("Paket Premium", Decimal("15000000")),
                ("Paket Dasar", Decimal("2500000")),
                ("Pelatihan", Decimal("1000000")),
            ]
        )
    ]
    price_reason, _ = LostReason.objects.get_or_create(name="Harga terlalu tinggi")
    timing_reason, _ = LostReason.objects.get_or_create(name="Belum butuh")

    people = [
        # (first name, source, company, days ago created)
        ("Ani", "Referral", maju, 40),
        ("Budi", "Instagram", maju, 35),
        ("Citra", "Referral", sejahtera, 28),
        ("Dewi", "", None, 20),
        ("Eko", "Website", None, 12),
        ("Fajar", "Instagram", sejahtera, 6),
    ]
    contacts = []
    for i, (name, source, company, days) in enumerate(people):
        contacts.append(
            Contact.objects.create(
                external_id=f"{prefix}-c-{i}",
                first_name=name,
                last_name="Wijaya",
                email=f"{name.lower()}.{prefix}@example.com",
                phone=f"+62 812 {sum(map(ord, prefix)) % 10000:04d} {i:04d}",
                source=source,
                company=company,
                created_at=_at(today, days),
            )
        )
    # A chat contact sharing Ani's email joins her customer; Gita only chats.
    chats = [
        ChatContact.objects.create(
            external_id=f"{prefix}-cc-0",
            channel="WhatsApp",
            name="Ani W",
            email=f"ani.{prefix}@example.com",
            created_at=_at(today, 30),
        ),
        ChatContact.objects.create(
            external_id=f"{prefix}-cc-1",
            channel="WhatsApp",
            name="Gita",
            email=f"gita.{prefix}@example.com",
            created_at=_at(today, 15),
        ),
    ]
    rooms = [(chats[0], 25, 5), (chats[1], 14, 3), (chats[1], 4, 4)]
    for i, (chat, days, csat) in enumerate(rooms):
        ChatRoom.objects.create(
            external_id=f"{prefix}-room-{i}",
            chat_contact=chat,
            created_at=_at(today, days),
            resolved_at=_at(today, days, 12),
            csat_score=csat,
        )

    def deal(i, contact, stage, amount, created, closed=None, reason=None, items=()):
        row = Deal.objects.create(
            external_id=f"{prefix}-d-{i}",
            name=f"Deal {contact.first_name} {i}",
            contact=contact,
            stage=stage,
            amount=Decimal(amount),
            created_at=_at(today, created),
            closed_at=_at(today, closed) if closed is not None else None,
            lost_reason=reason,
        )
        for product, quantity in items:
            DealItem.objects.create(
                deal=row, product=product, quantity=Decimal(quantity), unit_price=product.price
            )
        return row

    p = products
    deal(0, contacts[0], won, "30000000", 30, 20, items=[(p[0], "2")])
    deal(1, contacts[0], won, "2500000", 15, 3, items=[(p[1], "1")])
    deal(2, contacts[1], won, "16000000", 25, 10, items=[(p[0], "1"), (p[2], "1")])
    deal(3, contacts[2], won, "5000000", 20, 5, items=[(p[1], "2")])
    deal(4, contacts[4], won, "1000000", 10, 2, items=[(p[2], "1")])
    deal(5, contacts[3], lost, "7000000", 18, 8, reason=price_reason)
    deal(6, contacts[5], lost, "3000000", 5, 3, reason=timing_reason)
    deal(7, contacts[5], lost, "1500000", 5, 2)
    deal(8, contacts[1], proposal, "9000000", 4)
    return {"contacts": len(contacts), "chat_contacts": len(chats), "deals": 9}
