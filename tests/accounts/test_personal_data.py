"""Masked personal data in the customer 360° (API and admin page); query counts unchanged."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import ANALYST, SALES_MANAGER
from tests.factories import ChatContactFactory, ChatRoomFactory, ContactFactory

from .conftest import snapshot_customer

RAW = ("Ani Wijaya", "ani@x.id", "+6281234567890", "0812 3456 7890", "Budi Santoso", "budi@y.id")
MASKED = ("A** W*****", "a***@x.id", "+62 812 **** 7890", "B*** S******", "b***@y.id")


def _ani():
    """A customer of one CRM contact and one chat contact sharing a phone."""
    ani = snapshot_customer(
        display_name="Ani Wijaya",
        primary_email="ani@x.id",
        primary_phone="+6281234567890",
        record_count=2,
    )
    ContactFactory(
        customer=ani,
        first_name="Ani",
        last_name="Wijaya",
        email="ani@x.id",
        phone="0812 3456 7890",
        created_at=datetime(2026, 1, 10, 3, 0, tzinfo=UTC),
    )
    chat = ChatContactFactory(
        customer=ani,
        name="Budi Santoso",
        email="budi@y.id",
        phone="+6281234567890",
        created_at=datetime(2026, 1, 11, 3, 0, tzinfo=UTC),
    )
    ChatRoomFactory(chat_contact=chat, agent="Sari")
    return ani


def _get(client, url: str):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(queries)


@pytest.mark.django_db
def test_api_detail_masks_customer_records_and_keys_for_the_analyst(client, member):
    # given
    ani = _ani()
    client.force_login(member(ANALYST))

    # when
    body = client.get(f"/api/v1/customers/{ani.pk}/?preset=this_year").json()

    # then
    assert (body["display_name"], body["primary_email"], body["primary_phone"]) == MASKED[:3]
    records = [(r["name"], r["email"], r["phone"], r["email_key"]) for r in body["records"]]
    assert records == [
        ("A** W*****", "a***@x.id", "+62 812 **** 7890", "a***@x.id"),
        ("B*** S******", "b***@y.id", "+62 812 **** 7890", "b***@y.id"),
    ]
    assert {r["phone_key"] for r in body["records"]} == {"+62 812 **** 7890"}
    assert body["chat_rooms"][0]["agent"] == "Sari"  # staff names are not customer data
    text = str(body)
    assert not any(raw in text for raw in RAW)


@pytest.mark.django_db
def test_api_detail_shows_personal_data_to_the_sales_manager(client, member):
    # given
    ani = _ani()
    client.force_login(member(SALES_MANAGER))

    # when
    body = client.get(f"/api/v1/customers/{ani.pk}/?preset=this_year").json()

    # then
    assert body["display_name"] == "Ani Wijaya"
    assert [r["email"] for r in body["records"]] == ["ani@x.id", "budi@y.id"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/customers/", "/api/v1/customers/?format=csv", "/api/v1/customers/{pk}/"]
)
def test_masking_costs_no_query(client, member, path):
    # given
    ani = _ani()
    url = path.format(pk=ani.pk)
    client.force_login(member(SALES_MANAGER))
    _plain, plain_count = _get(client, url)
    client.force_login(member(ANALYST))

    # when
    _masked, masked_count = _get(client, url)

    # then
    assert masked_count == plain_count


@pytest.mark.django_db
def test_360_page_masks_personal_data_for_the_analyst_at_the_same_query_count(client, member):
    # given
    ani = _ani()
    url = f"/admin/insights/customer360/{ani.pk}/?preset=this_year"
    client.force_login(member(SALES_MANAGER))
    plain, plain_count = _get(client, url)
    client.force_login(member(ANALYST))

    # when
    masked, masked_count = _get(client, url)

    # then
    plain_html, masked_html = plain.content.decode(), masked.content.decode()
    assert "Ani Wijaya" in plain_html and "budi@y.id" in plain_html
    assert not any(raw in masked_html for raw in RAW)
    for text in ("A** W*****", "a***@x.id", "+62 812 **** 7890", "B*** S******", "b***@y.id"):
        assert text in masked_html
    assert masked_count == plain_count
