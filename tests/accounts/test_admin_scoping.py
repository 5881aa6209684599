"""accounts.admin_scoping on the contact and deal admin: a rep sees and edits only their own."""

import pytest
from django.contrib.auth.models import Permission

from accounts.roles import SALES_MANAGER, SALES_REP
from customers.models import Contact
from deals.models import Deal
from tests.factories import ContactFactory, DealFactory, StageFactory

CONTACTS = "/admin/customers/contact/"
DEALS = "/admin/deals/deal/"


def _listed(response) -> list[int]:
    return sorted(obj.pk for obj in response.context["cl"].result_list)


@pytest.fixture
def two_reps(member):
    rita = member(SALES_REP, username="rita")
    sam = member(SALES_REP, username="sam")
    mine = ContactFactory(first_name="Ani", owner=rita)
    theirs = ContactFactory(first_name="Budi", owner=sam)
    unowned = ContactFactory(first_name="Citra", owner=None)
    return rita, sam, mine, theirs, unowned


@pytest.mark.django_db
def test_sales_rep_sees_only_own_contacts_and_deals(client, two_reps):
    # given
    rita, sam, mine, theirs, unowned = two_reps
    my_deal = DealFactory(contact=mine, owner=rita)
    DealFactory(contact=theirs, owner=sam)

    # when
    client.force_login(rita)
    contacts = client.get(CONTACTS)
    deals = client.get(DEALS)

    # then
    assert _listed(contacts) == [mine.pk]
    assert _listed(deals) == [my_deal.pk]


@pytest.mark.django_db
def test_sales_rep_cannot_open_or_edit_someone_elses_contact(client, two_reps):
    # given
    rita, _sam, _mine, theirs, _unowned = two_reps
    client.force_login(rita)

    # when
    page = client.get(f"{CONTACTS}{theirs.pk}/change/")
    post = client.post(
        f"{CONTACTS}{theirs.pk}/change/",
        {"first_name": "Hacked", "created_at_0": "2026-01-10", "created_at_1": "10:00:00"},
    )

    # then: admin answers "does not exist" (a redirect to the index), and nothing changed
    assert page.status_code == 302
    assert post.status_code == 302
    theirs.refresh_from_db()
    assert theirs.first_name == "Budi"


@pytest.mark.django_db
def test_sales_manager_sees_every_contact(client, member, two_reps):
    # given
    _rita, _sam, mine, theirs, unowned = two_reps
    client.force_login(member(SALES_MANAGER))

    # when
    response = client.get(CONTACTS)

    # then
    assert _listed(response) == sorted([mine.pk, theirs.pk, unowned.pk])


@pytest.mark.django_db
def test_view_all_records_alone_lifts_the_scope(client, two_reps):
    # given
    rita, _sam, mine, theirs, unowned = two_reps
    rita.user_permissions.add(Permission.objects.get(codename="view_all_records"))
    client.force_login(rita)

    # when
    response = client.get(CONTACTS)

    # then
    assert len(_listed(response)) == 3


@pytest.mark.django_db
def test_contact_added_by_a_rep_is_owned_by_them(client, member):
    # given
    rita = member(SALES_REP, username="rita")
    sam = member(SALES_REP, username="sam")
    client.force_login(rita)

    # when: even an owner smuggled into the form is ignored (the field is read-only for them)
    response = client.post(
        CONTACTS + "add/",
        {
            "first_name": "Dewi",
            "last_name": "Lestari",
            "owner": sam.pk,
            "created_at_0": "2026-01-10",
            "created_at_1": "10:00:00",
        },
    )

    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Contact.objects.get(first_name="Dewi").owner == rita


@pytest.mark.django_db
def test_deal_form_offers_a_rep_only_their_own_contacts(client, two_reps):
    # given
    rita, _sam, mine, theirs, _unowned = two_reps
    StageFactory()
    client.force_login(rita)

    # when
    response = client.get(DEALS + "add/")

    # then
    field = response.context["adminform"].form.fields["contact"]
    assert list(field.queryset.values_list("pk", flat=True)) == [mine.pk]
    assert "owner" not in response.context["adminform"].form.fields  # read-only for a rep
    assert not Deal.objects.exists()
