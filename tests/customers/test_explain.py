from datetime import timedelta

import pytest

from customers.identity import customer_explanation, snapshot_rebuild
from customers.keys import email_key, phone_key
from customers.models import Contact, Customer, MatchRule
from tests.factories import T0, ChatContactFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "raw",
    [
        "0812-3456-7890",
        "+62 812 3456 7890",
        "6281234567890",
        "(0812) 3456 7890",
        "0812 3456 7890",
        "0812.3456.7890",
        " +62-812-3456-7890 ",
    ],
)
def test_every_phone_format_gives_the_same_key(raw):
    assert phone_key(raw) == "+6281234567890"


@pytest.mark.parametrize("raw", ["", "12", "0812", "abc", "+62 8"])
def test_a_phone_that_is_not_a_possible_number_gives_no_key(raw):
    assert phone_key(raw) == ""


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Ani@X.id", "ani@x.id"),
        ("  ANI@x.ID ", "ani@x.id"),
        ("ani.w+shop@gmail.com", "ani.w+shop@gmail.com"),  # no provider rewriting
        ("ani", ""),
        ("ani@@x.id", ""),
        ("a@b@x.id", ""),
        ("@x.id", ""),
        ("ani@", ""),
        ("", ""),
    ],
)
def test_email_keys(raw, key):
    assert email_key(raw) == key


def test_explanation_is_the_path_of_keys_joining_the_records():
    # given: CRM contact —phone→ chat contact —email→ chat contact
    crm = ContactFactory(phone="0812-3456-7890", created_at=T0)
    middle = ChatContactFactory(
        phone="+62 812 3456 7890", email="ani@x.id", created_at=T0 + timedelta(hours=1)
    )
    last = ChatContactFactory(email="ANI@x.id", created_at=T0 + timedelta(hours=2))
    snapshot_rebuild()
    customer = Customer.objects.get()
    # when
    edges = customer_explanation(customer=customer)
    # then
    assert [str(e) for e in edges] == [
        f"CRM contact {crm.pk} —phone +6281234567890→ chat contact {middle.pk}",
        f"chat contact {middle.pk} —email ani@x.id→ chat contact {last.pk}",
    ]


def test_explanation_shows_always_merge_rules_and_skips_placeholders(settings):
    # given: two records joined only by a rule; both also carry a placeholder phone
    settings.INSIGHTS_MAX_KEY_FANOUT = 2
    a = ContactFactory(phone="021 555 0000", created_at=T0)
    b = ContactFactory(phone="021 555 0000", created_at=T0 + timedelta(hours=1))
    ContactFactory(phone="021 555 0000")
    MatchRule.objects.create(kind="always", contact_a=b, contact_b=a)
    snapshot_rebuild()
    # when
    edges = customer_explanation(customer=Contact.objects.get(pk=a.pk).customer)
    # then
    assert [str(e) for e in edges] == [
        f"CRM contact {a.pk} —always-merge rule→ CRM contact {b.pk}",
    ]


def test_a_single_record_needs_no_explanation():
    # given
    ContactFactory(email="solo@x.id")
    snapshot_rebuild()
    # when / then
    assert customer_explanation(customer=Customer.objects.get()) == []
