"""Issue 27 item 12: "Save as segment" in the admin checks permissions before reading filters."""

import pytest
from django.contrib.auth.models import Permission

from insights.models import Segment
from tests.factories import ProductFactory, UserFactory

SAVE = "/admin/customers/customer/save-segment/"

pytestmark = pytest.mark.django_db


def _staff(client, *codenames: str):
    user = UserFactory(is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    return user


def test_a_user_who_may_not_view_customers_cannot_save_a_shared_segment(client):
    # given: staff who may read insights but not list customers
    _staff(client, "view_insights")
    # when
    response = client.post(SAVE, {"name": "Semua", "filters": "city=Jakarta", "shared": "on"})
    # then
    assert response.status_code == 403
    assert not Segment.objects.exists()


def test_a_user_who_may_not_read_insights_cannot_save_a_segment(client):
    _staff(client, "view_customer")
    response = client.post(SAVE, {"name": "Jakarta", "filters": "city=Jakarta"})
    assert response.status_code == 403
    assert not Segment.objects.exists()


def test_product_ids_cannot_be_probed_without_the_permission(client):
    # given: a product that exists and one that does not
    ProductFactory(external_id="TAB")
    _staff(client, "view_insights")
    # when
    known = client.post(SAVE, {"name": "x", "filters": "product=TAB"})
    unknown = client.post(SAVE, {"name": "x", "filters": "product=NOPE"})
    # then: the same answer, saying nothing about either id
    assert (known.status_code, unknown.status_code) == (403, 403)
    assert known.content == unknown.content
    assert b"NOPE" not in unknown.content and b"TAB" not in known.content


def test_a_user_with_both_permissions_saves(client):
    _staff(client, "view_customer", "view_insights")
    response = client.post(SAVE, {"name": "Jakarta", "filters": "city=Jakarta"})
    assert response.status_code == 302
    assert Segment.objects.get().filters == {"city": "Jakarta"}
