"""Issue 27 item 10: contact edits made by SQL reach the default (incremental) rebuild."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from chats.models import ChatContact
from customers.models import Contact, Customer
from insights import metric_keys as keys
from insights.models import ChangedRecord, DailySum, RebuildRun
from insights.rebuild import insights_rebuild
from tests.factories import ChatContactFactory, ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)
WHEN = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def by_source() -> dict[str, int]:
    rows = DailySum.objects.filter(metric=keys.NEW_BY_SOURCE).values_list("dim", "count")
    totals: dict[str, int] = {}
    for dim, count in rows:
        totals[dim] = totals.get(dim, 0) + count
    return totals


def test_a_contact_updated_by_sql_is_seen_by_the_next_rebuild():
    # given: a resolved contact from the website
    contact = ContactFactory(email="ani@contoh.id", source="Website", created_at=WHEN)
    assert insights_rebuild(trigger="test", full=True).status == RebuildRun.Status.SUCCEEDED
    assert by_source() == {"Website": 1}
    # when: its source is changed by hand-written SQL (no signal, no updated_at)
    with connection.cursor() as cursor:
        table = Contact._meta.db_table
        cursor.execute(f"UPDATE {table} SET source = %s WHERE id = %s", ["Pameran", contact.pk])
    run = insights_rebuild(trigger="test")
    # then: not "nothing changed": the customer and the figures follow, incrementally
    assert run.status == RebuildRun.Status.SUCCEEDED, run.error
    assert run.rows["incremental"] == 1
    assert Customer.objects.get().source == "Pameran"
    assert by_source() == {"Pameran": 1}


def test_a_chat_contact_updated_by_queryset_update_is_seen():
    chat = ChatContactFactory(phone="0812-1111-2222", channel="WhatsApp", created_at=WHEN)
    insights_rebuild(trigger="test", full=True)
    assert Customer.objects.get().source == "WhatsApp"
    ChatContact.objects.filter(pk=chat.pk).update(channel="Instagram")
    run = insights_rebuild(trigger="test")
    assert run.status == RebuildRun.Status.SUCCEEDED and run.rows["incremental"] == 1
    assert Customer.objects.get().source == "Instagram"


def test_identity_own_writes_leave_nothing_in_the_change_log():
    # given: new records that the rebuild resolves (it writes their customer and keys)
    ContactFactory(email="budi@contoh.id", created_at=WHEN)
    ChatContactFactory(email="budi@contoh.id", created_at=WHEN)
    insights_rebuild(trigger="test")
    # then: nothing is left for the next rebuild, which finds nothing changed
    assert not ChangedRecord.objects.exists()
    assert insights_rebuild(trigger="test").status == RebuildRun.Status.UNCHANGED
