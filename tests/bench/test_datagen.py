"""Smoke test of the benchmark data generator at 200 people, on the database the suite runs."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, F, Q

from bench.datagen import PLACEHOLDER_EMAILS, PLACEHOLDER_PHONES, dataset_generate
from chats.models import ChatContact, ChatRoom, SurveyResponse
from customers.keys import email_key, phone_key
from customers.models import Contact
from deals.models import Deal, DealItem, Product

NOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_generator_writes_records_shaped_like_real_data():
    # given a fixed seed and clock
    # when 200 people are generated
    counts = dataset_generate(people=200, seed=11, now=NOW, chunk_people=120)

    # then about one CRM and one chat contact, two deals and five rooms per person (pinned)
    assert {k: v for k, v in counts.items() if k != "seconds"} == {
        "customers_company": 20,
        "deals_product": 200,
        "deals_lostreason": 12,
        "customers_contact": 200,
        "chats_chatcontact": 201,
        "chats_chatroom": 997,
        "deals_deal": 413,
        "deals_dealitem": 594,
        "chats_surveyresponse": 170,
    }
    # service fields: never answered before opening; surveys in their kind's range
    assert not ChatRoom.objects.filter(first_response_at__lt=F("created_at")).exists()
    assert ChatRoom.objects.filter(first_response_at__isnull=False).count() > 900
    assert not SurveyResponse.objects.filter(
        Q(kind="nps", score__gt=10) | Q(kind="ces", score__lt=1) | Q(kind="ces", score__gt=7)
    ).exists()
    assert Contact.objects.count() == 200 and ChatRoom.objects.count() == 997
    # stored keys are what customers.keys computes from the raw spellings, on every record
    for model in (Contact, ChatContact):
        for email, phone, ekey, pkey in model.objects.values_list(
            "email", "phone", "email_key", "phone_key"
        ):
            assert (ekey, pkey) == (email_key(email), phone_key(phone))
    # nothing is resolved yet
    assert not Contact.objects.filter(
        Q(customer__isnull=False) | ~Q(resolved_email_key="") | ~Q(resolved_phone_key="")
    ).exists()
    # the same person appears in CRM and chat, typed differently
    shared = set(Contact.objects.exclude(phone_key="").values_list("phone_key", flat=True)) & set(
        ChatContact.objects.exclude(phone_key="").values_list("phone_key", flat=True)
    )
    assert len(shared) > 100
    spellings = Contact.objects.filter(phone_key__in=shared).values_list("phone", flat=True)
    assert any(p.startswith("+62 ") for p in spellings) and any("-" in p for p in spellings)
    placeholder_keys = {phone_key(p) for p in PLACEHOLDER_PHONES} | {
        email_key(e) for e in PLACEHOLDER_EMAILS
    }
    assert (
        Contact.objects.filter(
            Q(phone_key__in=placeholder_keys) | Q(email_key__in=placeholder_keys)
        ).exists()
        or ChatContact.objects.filter(
            Q(phone_key__in=placeholder_keys) | Q(email_key__in=placeholder_keys)
        ).exists()
    )
    # 18 months of history up to now; closed deals close after they open
    start = NOW - timedelta(days=548)
    assert not Contact.objects.filter(Q(created_at__lt=start) | Q(created_at__gt=NOW)).exists()
    assert not Deal.objects.filter(closed_at__lt=F("created_at")).exists()
    outcomes = dict(Deal.objects.values_list("stage__outcome").annotate(n=Count("id")))
    assert set(outcomes) == {"open", "won", "lost"}
    assert Deal.objects.filter(stage__outcome="lost", lost_reason__isnull=False).exists()
    assert Deal.objects.filter(contact__isnull=True).exists()
    # owners and expected close dates (§O, §P): most deals owned, open ones dated on both sides
    # of now, some undated; every survey answer names the room it rates, of its chat contact
    owned = Deal.objects.filter(owner__isnull=False).count()
    assert 0.8 * 413 < owned < 413
    open_deals = Deal.objects.filter(stage__outcome="open")
    assert open_deals.filter(expected_close_at__lt=NOW).exists()
    assert open_deals.filter(expected_close_at__gt=NOW + timedelta(days=30)).exists()
    assert open_deals.filter(expected_close_at__isnull=True).exists()
    assert not SurveyResponse.objects.exclude(
        chat_contact_id=F("chat_room__chat_contact_id")
    ).exists()
    assert DealItem.objects.filter(product__in=Product.objects.all()).count() == 594


@pytest.mark.django_db
def test_generator_is_deterministic_and_replaces_what_was_there():
    # given a first generation
    dataset_generate(people=50, seed=5, now=NOW)
    first = list(Contact.objects.order_by("id").values_list("id", "phone", "email", "created_at"))

    # when it runs again with the same seed and clock
    dataset_generate(people=50, seed=5, now=NOW)

    # then the tables hold the same rows, ids restarting at 1
    again = list(Contact.objects.order_by("id").values_list("id", "phone", "email", "created_at"))
    assert again == first and again[0][0] == 1


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor == "postgresql", reason="the refusal is for SQLite")
def test_benchmark_refuses_sqlite():
    # given the default SQLite database
    # when / then the benchmark command and a large generation are refused
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("bench_insights", "--people", "10")
    with pytest.raises(ValueError, match="smoke runs only"):
        dataset_generate(people=10_000)
