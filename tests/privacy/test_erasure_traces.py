"""Issue 13 items 6 and 7: no string of an erased person anywhere; the erasure answers at once."""

from unittest.mock import patch

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import reverse

from customers.models import Contact, Customer
from insights.models import RebuildRun
from insights.rebuild import insights_rebuild
from privacy.erasure import customer_erase
from tests.factories import ChatContactFactory, ContactFactory, DealFactory, UserFactory
from tests.insights.build import at
from tests.insights.test_enqueue import another_rebuild_running

pytestmark = pytest.mark.django_db

# What the attacker found left behind, in the forms it was typed and stored.
HER = ("Nur Nasution", "nur.nasution2526@gmail.com", "0812-3456-7890", "+6281234567890")


def _text_columns() -> list[tuple[str, str]]:
    """(table, column) for every text-like column of every table in the database."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                try:
                    kind = connection.introspection.get_field_type(column.type_code, column)
                except KeyError:
                    kind = "TextField"  # unknown types are scanned too
                if kind in ("CharField", "TextField", "JSONField", "EmailField", "SlugField"):
                    found.append((table, column.name))
    return found


def _where_found(needles: tuple[str, ...]) -> list[tuple[str, str, str]]:
    quote = connection.ops.quote_name
    hits = []
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            for needle in needles:
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quote(table)} "
                    f"WHERE LOWER(CAST({quote(column)} AS TEXT)) LIKE %s",
                    [f"%{needle.lower()}%"],
                )
                if cursor.fetchone()[0]:
                    hits.append((table, column, needle))
    return hits


@pytest.fixture
def nur(client):
    contact = ContactFactory(
        first_name="Nur",
        last_name="Nasution",
        email="nur.nasution2526@gmail.com",
        phone="0812-3456-7890",
        created_at=at("2026-01-05"),
    )
    ChatContactFactory(name="Nur Nasution", phone="+62 812 3456 7890", created_at=at("2026-01-06"))
    DealFactory(contact=contact, name="Modul Akuntansi – Nur Nasution")
    ContactFactory(first_name="Budi", email="budi@contoh.id", created_at=at("2026-01-05"))
    insights_rebuild(trigger="test")
    # The traces the attack found: an export searched by her email and by her phone as typed,
    # and "Recent actions" naming her record.
    manager = UserFactory(username="manager", is_staff=True)
    manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_insights", "view_personal_data"])
    )
    client.force_login(manager)
    for term in ("nur.nasution2526@gmail.com", "0812 3456 7890"):
        response = client.get("/api/v1/customers/", {"search": term, "format": "csv"})
        b"".join(response.streaming_content)
    LogEntry.objects.create(
        user=manager,
        content_type=ContentType.objects.get_for_model(Contact),
        object_id=str(contact.pk),
        object_repr=str(contact),
        action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["Phone"]}}]',
    )
    return Customer.objects.get(contacts=contact)


def test_no_string_of_the_person_remains_in_any_text_column(nur):
    # given: she is in several tables before
    assert _where_found(HER)

    # when
    erasure = customer_erase(customer=nur, erased_by=None)
    insights_rebuild(trigger="test")

    # then: a scan of every text column of every table finds nothing of hers
    assert _where_found(HER) == []
    assert _where_found(("Nasution",)) == []
    assert _where_found(("budi@contoh.id",))  # the scan does find what is there
    counts = erasure.record.counts
    assert counts["export_filters_redacted"] == 2
    assert counts["admin_log_redacted"] == 1
    assert counts["deal_names_redacted"] == 1


def test_without_a_broker_the_erasure_offers_rebuild_now_and_runs_nothing(
    nur, django_capture_on_commit_callbacks
):
    # given
    runs = RebuildRun.objects.count()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        erasure = customer_erase(customer=nur, erased_by=None)

    # then
    [said] = erasure.follow_up
    assert "until the next rebuild" in said
    assert reverse("admin:insights_rebuildrun_changelist") in said and "Rebuild now" in said
    assert RebuildRun.objects.count() == runs


def test_with_a_broker_the_rebuild_is_queued_after_the_commit(
    nur, django_capture_on_commit_callbacks
):
    # given
    with (
        patch("insights.enqueue._eager", return_value=False),
        patch("insights.tasks.rebuild_insights.apply_async") as queue,
    ):
        # when
        with django_capture_on_commit_callbacks(execute=False) as pending:
            erasure = customer_erase(customer=nur, erased_by=None)
        queued_before_commit = queue.called
        for callback in pending:
            callback()

    # then
    assert not queued_before_commit
    assert queue.call_args.kwargs["kwargs"] == {"trigger": f"erasure of customer {nur.pk}"}
    assert erasure.follow_up == [
        "A rebuild is queued; the figures stop counting this person when it finishes."
    ]


@pytest.mark.django_db(transaction=True)
def test_erasing_while_a_rebuild_runs_answers_at_once(client, nur):
    # given: a rebuild holds the lock (the erasure once waited for it until killed)
    dpo = UserFactory(username="dpo", is_staff=True)
    dpo.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_customer", "delete_customer"])
    )
    client.force_login(dpo)
    url = reverse("privacy_customer_erase", args=[nur.pk])

    # when
    with (
        patch("insights.enqueue._eager", return_value=False),
        patch("insights.tasks.rebuild_insights.apply_async") as queue,
        another_rebuild_running(),
    ):
        response = client.post(url, follow=True)

    # then: erased, told the truth about the figures, nothing queued behind the lock
    assert response.status_code == 200
    assert not Customer.objects.filter(pk=nur.pk).exists()
    said = [str(m) for m in response.context["messages"]]
    assert said[0] == f"Customer {nur.pk} was erased: 1 CRM and 1 chat records."
    assert said[1].startswith("A rebuild is running and may still count this person")
    assert not queue.called
