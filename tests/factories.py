"""Shared factory-boy factories: fixed dates and sequences, never random Faker dates."""

from datetime import UTC, datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from chats.models import ChatContact, ChatRoom, SurveyResponse
from customers.models import Company, Contact, Customer
from deals.models import Deal, DealItem, LostReason, PipelineStage, Product
from insights.periods import local_date

T0 = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)  # 10:00 in Jakarta


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    external_id = factory.Sequence(lambda n: f"co-{n}")
    name = factory.Sequence(lambda n: f"PT Contoh {n}")
    created_at = T0


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    external_id = factory.Sequence(lambda n: f"c-{n}")
    first_name = factory.Sequence(lambda n: f"Ani{n}")
    last_name = "Wijaya"
    created_at = T0


class ChatContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatContact

    external_id = factory.Sequence(lambda n: f"cc-{n}")
    channel = "WhatsApp"
    name = factory.Sequence(lambda n: f"Budi{n}")
    created_at = T0


class ChatRoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatRoom

    external_id = factory.Sequence(lambda n: f"room-{n}")
    chat_contact = factory.SubFactory(ChatContactFactory)
    created_at = T0


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyResponse

    external_id = factory.Sequence(lambda n: f"sr-{n}")
    kind = "nps"
    score = 9
    chat_contact = factory.SubFactory(ChatContactFactory)
    created_at = T0


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PipelineStage
        django_get_or_create = ("name",)

    name = "Proposal"
    outcome = PipelineStage.Outcome.OPEN
    default_win_probability = 50


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    external_id = factory.Sequence(lambda n: f"p-{n}")
    name = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("100000.00")


class LostReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LostReason
        django_get_or_create = ("name",)

    name = "Harga terlalu tinggi"


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deal

    external_id = factory.Sequence(lambda n: f"d-{n}")
    name = factory.Sequence(lambda n: f"Deal {n}")
    stage = factory.SubFactory(StageFactory)
    amount = Decimal("1000000.00")
    created_at = T0


class DealItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealItem

    deal = factory.SubFactory(DealFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = Decimal("1")
    unit_price = Decimal("100000.00")


class CustomerFactory(factory.django.DjangoModelFactory):
    """A snapshot customer built directly (tests that must not depend on identity resolution)."""

    class Meta:
        model = Customer

    first_seen_at = T0
    first_seen_date = factory.LazyAttribute(lambda c: local_date(c.first_seen_at))
    source = "Other"
