"""Issue 27 items 13 and 14: the segments list is paginated and counts only its page; hostile
bodies get the documented JSON error shape, never a 500 or an HTML page."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from insights.models import Segment
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SEGMENTS = "/api/v1/segments/"


@pytest.fixture
def owner():
    user = UserFactory(username="pemilik")
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    return user


@pytest.fixture
def client(owner):
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(owner)
    return api


def _post_raw(client, body: bytes):
    return client.generic("POST", SEGMENTS, body, content_type="application/json")


def _documented(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"errors"} and all(
        isinstance(messages, list) and all(isinstance(m, str) for m in messages)
        for messages in body["errors"].values()
    ), body
    return body["errors"]


def test_the_list_is_paginated_and_counts_only_its_page(client, owner):
    # given: 240 segments
    Segment.objects.bulk_create(
        [Segment(name=f"Kota {n:03d}", owner=owner, filters={"city": f"K{n}"}) for n in range(240)]
    )
    # when
    with CaptureQueriesContext(connection) as queries:
        first = client.get(SEGMENTS)
    last = client.get(SEGMENTS, {"page": 5})
    # then
    body = first.json()
    assert body["count"] == 240 and len(body["results"]) == 50 and body["next"]
    assert body["results"][0]["name"] == "Kota 000" and body["results"][0]["count"] == 0
    assert len(last.json()["results"]) == 40 and last.json()["next"] is None
    assert len(queries) < 60  # 50 page counts and a few more, never one per segment (240)


def test_a_lone_surrogate_in_a_filter_key_is_a_400(client):
    response = _post_raw(client, b'{"name": "x", "filters": {"\\ud800": "1"}}')
    assert response.status_code == 400
    errors = _documented(response)
    assert list(errors) == ["body"] and "surrogate" in errors["body"][0]


def test_a_lone_surrogate_in_a_value_or_name_is_a_400_or_kept_safely(client):
    response = _post_raw(client, b'{"name": "\\udfff", "filters": {"city": "\\ud800"}}')
    assert response.status_code == 400
    _documented(response)


def test_deeply_nested_json_is_a_400(client):
    body = ('{"name": "x", "filters": ' + "[" * 100_000 + "]" * 100_000 + "}").encode()
    response = _post_raw(client, body)
    assert response.status_code == 400
    _documented(response)


def test_a_5_mb_body_is_a_json_413_or_400(client):
    body = json.dumps({"name": "x", "filters": {"city": "J" * 5_000_000}}).encode()
    response = _post_raw(client, body)
    assert response.status_code in (400, 413)
    _documented(response)
