"""The fixed cost of an API request, pinned in statements (bench.request_cost times it)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory

REVENUE = "/api/v1/insights/revenue/?preset=last_30_days"


def _statements(client: APIClient, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    # The throttle's counter lives in the shared cache: Redis in production (no SQL), a
    # database table in the embedded default (with a savepoint around its write); its
    # statements are not the request's own.
    return [
        q["sql"] for q in queries if "wawasan_cache" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]


@pytest.fixture
def manager_api(db) -> APIClient:
    """A manager holding view_insights through a group, as the Sales manager role does."""
    group = Group.objects.create(name="managers")
    group.permissions.add(Permission.objects.get(codename="view_insights"))
    user = UserFactory(username="manager")
    user.groups.add(group)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.mark.django_db
def test_a_cached_figure_costs_four_statements(manager_api):
    # given: the first read computes the figure and stores it
    _statements(manager_api, REVENUE)
    # when
    sqls = _statements(manager_api, REVENUE)
    # then: token + user, the permissions (own and groups' in one), the last run (read once
    # for the cache key and computed_at), the cached payloads of P and of P' (the comparison)
    assert len(sqls) == 5, sqls
    assert sum("insights_rebuildrun" in sql for sql in sqls) == 1
    assert sum("insights_figurecache" in sql for sql in sqls) == 2


@pytest.mark.django_db
def test_a_user_without_the_permission_is_refused_after_one_permission_read(db):
    # given: a user whose group grants something else
    group = Group.objects.create(name="reps")
    group.permissions.add(Permission.objects.get(codename="view_customer"))
    user = UserFactory(username="rep")
    user.groups.add(group)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    # when
    with CaptureQueriesContext(connection) as queries:
        response = client.get(REVENUE)
    # then
    assert response.status_code == 403
    assert len(queries) == 2


@pytest.mark.django_db
def test_a_permission_revoked_counts_from_the_next_request(manager_api):
    # given
    _statements(manager_api, REVENUE)
    # when: admin takes the group's permission away
    Group.objects.get(name="managers").permissions.clear()
    # then: nothing was kept across requests
    assert manager_api.get(REVENUE).status_code == 403
