"""The role groups of the migration: what each role can open in admin and in the API."""

import csv
import io

import pytest
from django.contrib.auth.models import Group

from accounts.roles import (
    ANALYST,
    ROLE_PERMISSIONS,
    SALES_MANAGER,
    SALES_REP,
    SUPPORT_AGENT,
)

from .conftest import snapshot_customer

CONTACTS = "/admin/customers/contact/"
DEALS = "/admin/deals/deal/"
CHAT_ROOMS = "/admin/chats/chatroom/"
DASHBOARD = "/admin/insights/dashboard/"
GROWTH = "/api/v1/insights/growth/"
CUSTOMERS = "/api/v1/customers/"
OWNERS = "/api/v1/insights/owners/"
MY_SALES = "/admin/insights/my-sales/"
TARGETS = "/admin/deals/salestarget/"
ADD_TARGET = "/admin/deals/salestarget/add/"

# (url, {role: status}): 200 where the role may look, 403 where it may not.
MATRIX = [
    (CONTACTS, {SALES_REP: 200, SALES_MANAGER: 200, SUPPORT_AGENT: 403, ANALYST: 403}),
    (DEALS, {SALES_REP: 200, SALES_MANAGER: 200, SUPPORT_AGENT: 403, ANALYST: 403}),
    (CHAT_ROOMS, {SALES_REP: 403, SALES_MANAGER: 200, SUPPORT_AGENT: 200, ANALYST: 403}),
    (DASHBOARD, {SALES_REP: 403, SALES_MANAGER: 200, SUPPORT_AGENT: 403, ANALYST: 200}),
    (GROWTH, {SALES_REP: 403, SALES_MANAGER: 200, SUPPORT_AGENT: 403, ANALYST: 200}),
    (CUSTOMERS, {SALES_REP: 403, SALES_MANAGER: 200, SUPPORT_AGENT: 403, ANALYST: 200}),
    # Sales by owner (README, "Who sees what"): a rep sees its own sales, not customer figures.
    (OWNERS, {SALES_REP: 200, SALES_MANAGER: 200, SUPPORT_AGENT: 403, ANALYST: 200}),
    (MY_SALES, {SALES_REP: 200, SALES_MANAGER: 200, SUPPORT_AGENT: 403, ANALYST: 200}),
    (TARGETS, {SALES_REP: 200, SALES_MANAGER: 200, SUPPORT_AGENT: 403, ANALYST: 403}),
    (ADD_TARGET, {SALES_REP: 403, SALES_MANAGER: 200, SUPPORT_AGENT: 403, ANALYST: 403}),
]
CASES = [(url, role, status) for url, statuses in MATRIX for role, status in statuses.items()]


@pytest.mark.django_db
def test_the_migration_creates_the_four_groups_with_exactly_their_permissions():
    # given / when
    groups = {
        group.name: sorted(
            f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()
        )
        for group in Group.objects.prefetch_related("permissions__content_type")
    }

    # then
    assert groups == {name: sorted(perms) for name, perms in ROLE_PERMISSIONS.items()}
    # 17, the data-quality list of their contacts, of their deals without an exchange rate,
    # the rates (read-only), their sales figures and their targets
    assert len(groups[SALES_REP]) == 22
    assert "insights.view_insights" not in groups[SALES_REP]
    assert "chats.view_surveyresponse" in groups[SUPPORT_AGENT]
    assert "accounts.view_personal_data" not in groups[ANALYST]
    assert groups[ANALYST] == ["insights.view_insights"]
    assert "accounts.view_personal_data" in groups[SUPPORT_AGENT]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "role", "status"), CASES)
def test_role_matrix(client, member, url, role, status):
    # given
    client.force_login(member(role))

    # when
    response = client.get(url)

    # then
    assert response.status_code == status


@pytest.mark.django_db
def test_sales_rep_may_add_contacts_and_deals_but_not_chat_rooms(client, member):
    # given
    client.force_login(member(SALES_REP))

    # when / then
    assert client.get(CONTACTS + "add/").status_code == 200
    assert client.get(DEALS + "add/").status_code == 200
    assert client.get("/admin/deals/lostreason/add/").status_code == 200
    assert client.get("/admin/deals/product/add/").status_code == 403  # view only
    assert client.get(CHAT_ROOMS + "add/").status_code == 403


@pytest.mark.django_db
def test_support_agent_may_add_chat_contacts_and_rooms(client, member):
    # given
    client.force_login(member(SUPPORT_AGENT))

    # when / then
    assert client.get("/admin/chats/chatcontact/add/").status_code == 200
    assert client.get(CHAT_ROOMS + "add/").status_code == 200
    assert client.get("/admin/chats/chatcontact/").status_code == 200


def _ani():
    return snapshot_customer(
        display_name="Ani Wijaya", primary_email="ani@x.id", primary_phone="+6281234567890"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (SALES_MANAGER, ("Ani Wijaya", "ani@x.id", "+6281234567890")),
        (ANALYST, ("A** W*****", "a***@x.id", "+62 812 **** 7890")),
    ],
)
def test_customers_api_masks_personal_data_without_the_permission(client, member, role, expected):
    # given
    _ani()
    client.force_login(member(role))

    # when
    row = client.get(CUSTOMERS).json()["results"][0]

    # then
    assert (row["display_name"], row["primary_email"], row["primary_phone"]) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (SALES_MANAGER, ["Ani Wijaya", "ani@x.id", "'+6281234567890"]),
        (ANALYST, ["A** W*****", "a***@x.id", "'+62 812 **** 7890"]),  # a leading + is neutralised
    ],
)
def test_csv_export_masks_personal_data_without_the_permission(client, member, role, expected):
    # given
    _ani()
    client.force_login(member(role))

    # when
    response = client.get(CUSTOMERS, {"format": "csv"})

    # then
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [rows[0][k] for k in ("display_name", "primary_email", "primary_phone")] == expected
