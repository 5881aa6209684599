"""Who may read the API: insights.view_insights, by session or token; throttling; CORS."""

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from tests.factories import UserFactory

from .conftest import make_customer

ENDPOINTS = [
    "/api/v1/insights/growth/",
    "/api/v1/insights/demographics/",
    "/api/v1/insights/sales/",
    "/api/v1/insights/lost-reasons/",
    "/api/v1/insights/top-products/",
    "/api/v1/insights/rfm/",
    "/api/v1/insights/revenue/",
    "/api/v1/insights/customer-value/",
    "/api/v1/customers/",
    "/api/v1/customers/?format=csv",
    "/api/v1/customers/{id}/",
    "/api/v1/schema/",
]


def _url(template: str) -> str:
    return template.format(id=make_customer(display_name="Ani").pk)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ENDPOINTS)
def test_anonymous_gets_401_and_no_data(url):
    # given
    client = APIClient()
    # when
    response = client.get(_url(url))
    # then
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert set(response.json()) == {"detail"}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ENDPOINTS)
def test_staff_without_the_permission_gets_403(url):
    # given
    client = APIClient()
    client.force_login(UserFactory(username="staff", is_staff=True))
    # when
    response = client.get(_url(url))
    # then
    assert response.status_code == 403
    assert set(response.json()) == {"detail"}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ENDPOINTS)
def test_session_user_with_the_permission_through_a_group_gets_200(url):
    # given
    group = Group.objects.create(name="analysts")
    group.permissions.add(Permission.objects.get(codename="view_insights"))
    user = UserFactory(username="analyst")
    user.groups.add(group)
    client = APIClient()
    client.force_login(user)
    # when
    response = client.get(_url(url))
    # then
    assert response.status_code == 200


@pytest.mark.django_db
def test_token_authenticates_and_a_deleted_token_gets_401(api, viewer_token):
    # given
    assert api.get("/api/v1/customers/").status_code == 200
    # when: the token is revoked in admin (deleting it is how TokenAdmin revokes)
    viewer_token.delete()
    response = api.get("/api/v1/customers/")
    # then
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


@pytest.mark.django_db
def test_a_token_of_a_user_without_the_permission_gets_403():
    # given
    token = Token.objects.create(user=UserFactory(username="nobody"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    # when
    response = client.get("/api/v1/insights/revenue/")
    # then
    assert response.status_code == 403


@pytest.mark.django_db
def test_token_admin_is_registered_for_issuing_and_revoking(admin_client):
    # when
    response = admin_client.get("/admin/authtoken/tokenproxy/")
    # then
    assert response.status_code == 200


@pytest.mark.django_db
def test_throttling_is_per_user(api, monkeypatch, viewer):
    # given: a rate of 2 requests a minute
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute"})
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=_viewer('other')).key}")
    # when
    statuses = [api.get("/api/v1/customers/").status_code for _ in range(3)]
    # then: the third is refused, and another user still gets through
    assert statuses == [200, 200, 429]
    assert other.get("/api/v1/customers/").status_code == 200


def _viewer(username: str):
    user = UserFactory(username=username)
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    return user


@pytest.mark.django_db
def test_cors_is_off_by_default(api):
    # when
    response = api.get("/api/v1/customers/", HTTP_ORIGIN="https://bi.example.com")
    # then
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
def test_cors_allows_the_configured_origins_on_the_api_only(api, admin_client, settings):
    # given
    settings.CORS_ALLOWED_ORIGINS = ["https://bi.example.com"]
    # when
    api_response = api.get("/api/v1/customers/", HTTP_ORIGIN="https://bi.example.com")
    admin_response = admin_client.get("/admin/", HTTP_ORIGIN="https://bi.example.com")
    # then
    assert api_response["Access-Control-Allow-Origin"] == "https://bi.example.com"
    assert "Access-Control-Allow-Origin" not in admin_response


@pytest.mark.django_db
def test_throttle_counts_live_in_the_shared_database_cache(api, viewer):
    # given: 2 workers at 600/minute once let 1,187 requests through, each counting alone in
    # its own memory; the counts must sit where every worker reads them (issue 13 item 10)
    from django.conf import settings
    from django.db import connection

    # when
    api.get("/api/v1/customers/")

    # then: the throttle's history for this user is a row of the database cache table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cache_key FROM {connection.ops.quote_name(settings.CACHE_TABLE)}")
        keys = [row[0] for row in cursor.fetchall()]
    assert any(f"throttle_user_{viewer.pk}" in key for key in keys)
