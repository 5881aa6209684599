"""Country and city: import (CONTRACT.md 1) and the customer snapshot (METRICS.md 2)."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings

from customers.identity import snapshot_rebuild
from customers.keys import phone_key_region
from customers.models import Contact, Customer
from tests.factories import T0, ChatContactFactory, ContactFactory

pytestmark = pytest.mark.django_db


def at(minutes: int):
    return T0 + timedelta(minutes=minutes)


def customer_of(record) -> Customer:
    record.refresh_from_db()
    return Customer.objects.get(pk=record.customer_id)


def test_import_stores_country_upper_case_and_rejects_what_is_not_two_letters(tmp_path):
    # given
    path = tmp_path / "contacts.csv"
    path.write_text(
        "external_id,country,city,created_at\n"
        "a,id,Jakarta,2026-01-01T10:00:00\n"
        "b,Sg,Singapore,2026-01-01T10:00:00\n"
        "c,IDN,Bandung,2026-01-01T10:00:00\n"
        "d,1D,Medan,2026-01-01T10:00:00\n"
        "e,,,2026-01-01T10:00:00\n",
        encoding="utf-8",
    )
    err = io.StringIO()

    # when
    with pytest.raises(SystemExit) as exit_:
        call_command("import_records", "contacts", str(path), stdout=io.StringIO(), stderr=err)

    # then
    assert exit_.value.code == 1
    stored = dict(Contact.objects.values_list("external_id", "country"))
    assert stored == {"a": "ID", "b": "SG", "e": ""}
    assert Contact.objects.get(external_id="a").city == "Jakarta"
    assert "line 4: country: not a two-letter country code: 'IDN'" in err.getvalue()
    assert "line 5: country: not a two-letter country code: '1D'" in err.getvalue()


def test_country_and_city_come_from_the_first_crm_contact_that_has_one():
    # given: one person, three CRM records in this order
    first = ContactFactory(email="ani@x.id", created_at=at(0))
    ContactFactory(email="ani@x.id", country="SG", created_at=at(1))
    ContactFactory(email="ani@x.id", country="MY", city="Kuala Lumpur", created_at=at(2))

    # when
    snapshot_rebuild()

    # then
    c = customer_of(first)
    assert (c.country, c.city) == ("SG", "Kuala Lumpur")


def test_country_falls_back_to_the_region_of_the_first_phone_key_then_other():
    # given: a chat record first with a Singapore number, then an Indonesian CRM record
    chat = ChatContactFactory(email="b@x.id", phone="+65 6123 4567", created_at=at(0))
    ContactFactory(email="b@x.id", phone="0812-3456-7890", created_at=at(1))
    alone = ContactFactory(email="c@x.id")

    # when
    snapshot_rebuild()

    # then
    assert (customer_of(chat).country, customer_of(chat).city) == ("SG", "Other")
    assert (customer_of(alone).country, customer_of(alone).city) == ("Other", "Other")


def test_the_region_is_read_off_calling_codes_of_every_length():
    # given: a two-digit (+62), a three-digit (+971) and a shared (+44: GB, GG, IM, JE) code
    indonesia = ContactFactory(email="e@x.id", phone="+62 812 3456 7890")
    emirates = ContactFactory(email="f@x.id", phone="+971 50 123 4567")
    britain = ChatContactFactory(email="g@x.id", phone="+44 20 7946 0958")

    # when
    snapshot_rebuild()

    # then
    assert customer_of(indonesia).country == "ID"
    assert customer_of(emirates).country == "AE"
    assert customer_of(britain).country == "GB"


def test_a_phone_key_without_a_region_is_skipped_for_the_next_one():
    # given: +800 is a non-geographic calling code; the second record is in Malaysia
    first = ContactFactory(email="d@x.id", phone="+800 1234 5678", created_at=at(0))
    ChatContactFactory(email="d@x.id", phone="+60 12-345 6789", created_at=at(1))

    # when
    snapshot_rebuild()

    # then
    assert phone_key_region("+80012345678") == ""
    assert customer_of(first).country == "MY"


@override_settings(INSIGHTS_MAX_KEY_FANOUT=1)
def test_a_placeholder_phone_still_gives_its_country():
    # given: two people share a shop's UK number (a placeholder at fan-out 1)
    a = ContactFactory(email="e@x.id", phone="+44 20 7946 0000", created_at=at(0))
    b = ContactFactory(email="f@x.id", phone="+44 20 7946 0000", created_at=at(1))

    # when
    snapshot_rebuild()

    # then: not one customer, yet each is in GB (+44 is shared by GB, GG, IM, JE)
    assert customer_of(a).pk != customer_of(b).pk
    assert customer_of(a).country == "GB"
    assert customer_of(b).country == "GB"


def test_an_incremental_run_picks_up_a_changed_country():
    # given
    record = ContactFactory(email="g@x.id", phone="0812-1111-2222")
    snapshot_rebuild()
    assert customer_of(record).country == "ID"

    # when
    record.refresh_from_db()
    record.country = "SG"
    record.city = "Singapore"
    record.save()  # the change log marks its customer for the incremental run
    snapshot_rebuild()

    # then
    assert (customer_of(record).country, customer_of(record).city) == ("SG", "Singapore")
