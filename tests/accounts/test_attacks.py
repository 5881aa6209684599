"""Issue 13: the admin attacks of a hostile staff user, each pinned (items 1, 12, 15)."""

import pytest
from django.urls import reverse

from accounts.roles import ANALYST, SALES_MANAGER, SALES_REP, SUPPORT_AGENT
from customers.identity import snapshot_rebuild
from tests.factories import ChatContactFactory, ContactFactory, CustomerFactory

TO_FIX = "/admin/customers/contacttofix/"
CHATS_TO_FIX = "/admin/chats/chatcontacttofix/"

pytestmark = pytest.mark.django_db


def _listed(response) -> list[int]:
    return sorted(obj.pk for obj in response.context["cl"].result_list)


@pytest.fixture
def reps(member):
    rita = member(SALES_REP, username="rita")
    sam = member(SALES_REP, username="sam")
    mine = ContactFactory(first_name="Ani", phone="12", owner=rita)
    theirs = ContactFactory(first_name="Budi", email="budi@", phone="34", owner=sam)
    fine = ContactFactory(first_name="Citra", email="citra@contoh.id", owner=sam)
    snapshot_rebuild()
    return rita, sam, mine, theirs, fine


def test_a_rep_sees_only_their_own_records_to_fix(client, reps):
    # given
    rita, _sam, mine, theirs, fine = reps
    client.force_login(rita)

    # when: the list, with the empty ?key= that once switched off both filters, and a search
    plain = client.get(TO_FIX)
    empty_key = client.get(TO_FIX, {"key": ""})
    searched = client.get(TO_FIX, {"q": "Budi"})
    change = client.get(reverse("admin:customers_contacttofix_change", args=[theirs.pk]))

    # then
    assert _listed(plain) == [mine.pk]
    assert _listed(empty_key) == [mine.pk]  # still "any problem": the fine record stays out
    assert _listed(searched) == []
    assert "budi@" not in searched.content.decode()
    assert change.status_code in (302, 404)  # "does not exist": not theirs to see


def test_a_manager_sees_every_record_to_fix_but_an_empty_key_hides_none_without_problem(
    client, member, reps
):
    # given
    _rita, _sam, mine, theirs, fine = reps
    client.force_login(member(SALES_MANAGER))

    # when
    response = client.get(TO_FIX, {"key": ""})

    # then
    assert _listed(response) == sorted([mine.pk, theirs.pk])
    assert fine.pk not in _listed(response)


@pytest.mark.parametrize(("role", "status"), [(ANALYST, 403), (SUPPORT_AGENT, 403)])
def test_data_quality_lists_need_their_own_permission(client, member, role, status):
    # given: an analyst sees no contacts; an agent sees chats but not CRM contacts to fix
    ContactFactory(phone="12")
    client.force_login(member(role))

    # when
    response = client.get(TO_FIX)

    # then
    assert response.status_code == status


def test_a_support_agent_sees_chat_contacts_to_fix(client, member):
    # given
    bad = ChatContactFactory(phone="12")
    snapshot_rebuild()
    client.force_login(member(SUPPORT_AGENT))

    # when
    response = client.get(CHATS_TO_FIX)

    # then
    assert _listed(response) == [bad.pk]


def test_problems_column_shows_what_the_filter_selected(admin_client):
    # given: a phone of spaces only (typed, no key): the filter and the column agree
    record = ContactFactory(phone="   ", email="")
    snapshot_rebuild()

    # when
    response = admin_client.get(TO_FIX, {"problem": "bad_phone"})

    # then
    [row] = response.context["cl"].result_list
    assert row.pk == record.pk
    assert response.context["cl"].model_admin.problems(row) == "no usable key; phone did not parse"


def test_resolve_needs_view_customer(client, member):
    # given: an analyst is staff but may not view customers
    customer = CustomerFactory()
    url = reverse("admin:customers_customer_resolve", args=[customer.pk])
    client.force_login(member(ANALYST))

    # when
    analyst = client.get(url)
    client.force_login(member(SALES_MANAGER))
    manager = client.get(url)

    # then
    assert analyst.status_code == 403
    assert manager.status_code == 302


@pytest.mark.parametrize(
    "url",
    [
        "/admin/customers/customer/?source=a%00b",
        "/admin/customers/contact/?q=a%00b",
        "/api/v1/customers/?search=a%00b",
    ],
)
def test_a_nul_byte_in_a_parameter_is_a_400(admin_client, url):
    # when
    response = admin_client.get(url)

    # then
    assert response.status_code == 400


def test_a_nul_byte_in_an_api_parameter_is_a_json_400_naming_it(admin_client):
    # when
    response = admin_client.get("/api/v1/customers/?search=a%00b")

    # then
    assert response.json() == {"errors": {"search": ["contains a NUL character"]}}
