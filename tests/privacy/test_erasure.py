"""Erasure of one person: records, keys, snapshot and figures gone; an audit entry without them."""

from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.models import ErasureRecord
from chats.models import ChatContact, ChatRoom
from customers.models import Contact, Customer, CustomerAlias, IdentityChange, MatchRule
from deals.models import Deal
from insights import queries
from insights.models import CustomerStats, CustomerWonDay, DealFact
from insights.periods import Period
from insights.rebuild import insights_rebuild
from privacy.erasure import customer_erase
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    ContactFactory,
    DealFactory,
    StageFactory,
    UserFactory,
)
from tests.insights.build import at

pytestmark = pytest.mark.django_db
YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))
PERSONAL = ("Ani", "Wijaya", "ani@contoh.id", "0812", "812", "+62")


def _people():
    """Ani: a CRM contact and a chat contact sharing her email, a room, a won deal; Budi apart."""
    won = StageFactory(name="Won", outcome="won", default_win_probability=100)
    ani = ContactFactory(
        first_name="Ani", email="ani@contoh.id", phone="0812-3456-7890", created_at=at("2026-01-05")
    )
    ani_chat = ChatContactFactory(name="Ani W", email="ANI@contoh.id", created_at=at("2026-01-06"))
    ChatRoomFactory(chat_contact=ani_chat, created_at=at("2026-01-07"))
    DealFactory(contact=ani, stage=won, created_at=at("2026-01-08"), closed_at=at("2026-01-09"))
    budi = ContactFactory(first_name="Budi", email="budi@contoh.id", created_at=at("2026-01-05"))
    insights_rebuild(trigger="test")
    return ani, ani_chat, budi


def test_erasure_removes_records_keys_snapshot_and_counts():
    # given
    ani, ani_chat, budi = _people()
    person = Customer.objects.get(contacts=ani)
    MatchRule.objects.create(kind="always", contact_a=ani, contact_b=budi)
    before = queries.growth_overview(period=YEAR).total_customers
    admin_user = UserFactory(username="dpo")

    # when: the erasure, then the rebuild it asks for (no broker here: the next one)
    record = customer_erase(customer=person, erased_by=admin_user).record
    insights_rebuild(trigger="test")

    # then: no record, key or snapshot row of hers remains
    assert before == 2
    assert not Contact.objects.filter(pk=ani.pk).exists()
    assert not ChatContact.objects.filter(pk=ani_chat.pk).exists()
    assert ChatRoom.objects.count() == 0 and MatchRule.objects.count() == 0
    assert not Contact.objects.filter(email_key="ani@contoh.id").exists()
    assert not ChatContact.objects.filter(email_key="ani@contoh.id").exists()
    assert not Contact.objects.filter(phone_key="+6281234567890").exists()
    assert not IdentityChange.objects.filter(email_key="ani@contoh.id").exists()
    assert not Customer.objects.filter(pk=person.pk).exists()
    assert not CustomerAlias.objects.filter(customer_id=person.pk).exists()
    assert not CustomerStats.objects.filter(customer_id=person.pk).exists()
    assert not CustomerWonDay.objects.filter(customer_id=person.pk).exists()
    # the company's deal stays, cut loose from her
    deal = Deal.objects.get()
    assert deal.contact_id is None
    assert DealFact.objects.get(deal_id=deal.pk).customer_id is None
    # the figures no longer count her
    assert queries.growth_overview(period=YEAR).total_customers == 1
    assert list(Customer.objects.values_list("contacts", flat=True)) == [budi.pk]
    # the audit entry: who, when, counts, no personal data
    assert record.username == "dpo" and record.customer_id == person.pk
    assert record.counts == {
        "contacts": 1,
        "chat_contacts": 1,
        "chat_rooms": 1,
        "match_rules": 1,
        "merged_ids": 0,
        "deals_detached": 1,
        "deal_names_redacted": 0,
        "export_filters_redacted": 0,
        "admin_log_redacted": 0,
        "free_text_redacted": 0,
        "segments_redacted": 0,
        "import_jobs_reached": 0,
        "import_uploads_removed": 0,
        "import_rejected_rows_removed": 0,
    }
    assert not [word for word in PERSONAL if word in _stored_text()]


def _stored_text() -> str:
    """The audit rows' text, without ids and timestamps: their digits ("...13:08:12.812...")
    would match the phone's "812" by chance and say nothing of what was stored."""
    rows = [
        {k: v for k, v in row.items() if not isinstance(v, int | date)}
        for row in ErasureRecord.objects.values()
    ]
    return repr(rows)


def test_erasure_takes_unresolved_records_sharing_her_keys():
    # given: a new chat contact with her phone, imported after the last rebuild
    ani, _chat, _budi = _people()
    person = Customer.objects.get(contacts=ani)
    late = ChatContactFactory(name="Ani", phone="+62 812 3456 7890", created_at=at("2026-02-01"))

    # when
    record = customer_erase(customer=person, erased_by=None).record

    # then
    assert not ChatContact.objects.filter(pk=late.pk).exists()
    assert record.counts["chat_contacts"] == 2 and record.username == ""
    insights_rebuild(trigger="test")
    assert Customer.objects.count() == 1


def test_admin_erase_needs_the_permission_and_confirms(client):
    # given
    ani, _chat, _budi = _people()
    person = Customer.objects.get(contacts=ani)
    url = reverse("privacy_customer_erase", args=[person.pk])
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_customer"))
    dpo = UserFactory(username="dpo", is_staff=True)
    dpo.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_customer", "delete_customer"])
    )

    # when / then: without the permission, no page and no erasure
    client.force_login(viewer)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert (
        "Erase this person"
        not in client.get(
            reverse("admin:customers_customer_change", args=[person.pk])
        ).content.decode()
    )

    # when / then: with it, a confirmation page first, the erasure on POST
    client.force_login(dpo)
    change = client.get(reverse("admin:customers_customer_change", args=[person.pk]))
    assert url in change.content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "cannot be undone" in page.content.decode()
    assert Customer.objects.filter(pk=person.pk).exists()
    response = client.post(url)
    assert response.status_code == 302
    assert not Customer.objects.filter(pk=person.pk).exists()
    assert ErasureRecord.objects.get().username == "dpo"


def test_admin_action_leads_to_the_confirmation_page(client):
    # given
    ani, _chat, _budi = _people()
    person = Customer.objects.get(contacts=ani)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    # when
    response = client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "erase_person", "_selected_action": [person.pk]},
    )

    # then
    assert response.status_code == 302
    assert response.url == reverse("privacy_customer_erase", args=[person.pk])
    assert Customer.objects.filter(pk=person.pk).exists()


def test_erasures_are_listed_read_only_in_the_audit_admin(client):
    # given
    ani, _chat, _budi = _people()
    customer_erase(customer=Customer.objects.get(contacts=ani), erased_by=None)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    # when
    listing = client.get(reverse("admin:audit_erasurerecord_changelist"))
    adding = client.get(reverse("admin:audit_erasurerecord_add"))

    # then
    assert listing.status_code == 200 and "contacts" in listing.content.decode()
    assert adding.status_code == 403
