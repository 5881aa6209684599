import io
from datetime import date

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from chats.models import ChatContact, ChatRoom
from customers.demo import NOREPLY_EMAIL, demo_seed
from customers.models import Contact
from deals.models import Deal, DealItem, LostReason

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 15)


def snapshot() -> dict:
    return {
        "contacts": sorted(Contact.objects.values_list("external_id", "phone", "email")),
        "chat_contacts": sorted(ChatContact.objects.values_list("external_id", "channel", "phone")),
        "deals": sorted(Deal.objects.values_list("external_id", "amount", "stage__name")),
        "items": DealItem.objects.count(),
        "rooms": sorted(ChatRoom.objects.values_list("external_id", "csat_score")),
    }


def test_same_seed_gives_the_same_data_and_rerunning_does_not_duplicate():
    # given
    first_counts = demo_seed(people=60, seed=7, today=TODAY)
    first = snapshot()

    # when
    second_counts = demo_seed(people=60, seed=7, today=TODAY)

    # then
    assert second_counts == first_counts
    assert snapshot() == first
    assert Contact.objects.count() == first_counts["contacts"]


def test_another_seed_gives_other_data_and_a_smaller_run_drops_the_rest():
    # given
    demo_seed(people=60, seed=7, today=TODAY)
    first = snapshot()

    # when
    counts = demo_seed(people=30, seed=8, today=TODAY)

    # then
    assert snapshot() != first
    assert Contact.objects.count() == counts["contacts"]
    assert Deal.objects.count() == counts["deals"]


def test_demo_data_looks_like_the_brief():
    # given / when
    demo_seed(people=400, seed=1, today=TODAY)

    # then
    phones = list(Contact.objects.exclude(phone="").values_list("phone", "phone_key"))
    assert any(p.startswith("+62 ") for p, _ in phones) and any(
        p.startswith("0") for p, _ in phones
    )
    assert all(key.startswith("+62") for _, key in phones)
    assert Contact.objects.filter(email_key=NOREPLY_EMAIL).count() == 20
    crm_keys = set(Contact.objects.exclude(phone_key="").values_list("phone_key", flat=True))
    chat_keys = set(ChatContact.objects.exclude(phone_key="").values_list("phone_key", flat=True))
    assert len(crm_keys & chat_keys) > 50  # the same people in CRM and in chat
    assert {"Won", "Lost", "Proposal"} <= set(Deal.objects.values_list("stage__name", flat=True))
    assert LostReason.objects.filter(name="Harga terlalu tinggi").exists()
    assert Deal.objects.filter(stage__name="Lost", lost_reason__isnull=True).exists()
    assert not Deal.objects.filter(created_at__date__gt=TODAY).exists()


def test_seed_demo_command_and_demo_admin_login():
    # given
    out = io.StringIO()

    # when
    call_command("seed_demo", "--people", "20", "--seed", "3", stdout=out)
    call_command("ensure_demo_admin", stdout=out)
    call_command("ensure_demo_admin", stdout=out)

    # then
    assert "contacts" in out.getvalue() and "http://127.0.0.1:8000/admin/" in out.getvalue()
    # django-axes (the first backend) needs the request a login comes with
    user = authenticate(
        RequestFactory().post("/admin/login/"), username="admin", password="wawasan-demo"
    )
    assert user is not None and user.is_superuser
