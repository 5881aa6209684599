"""Fixtures of the API tests: users with and without insights.view_insights, token clients."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customers.models import Customer
from insights.models import CustomerStats
from insights.periods import local_date
from tests.factories import UserFactory

JAKARTA = ZoneInfo("Asia/Jakarta")


def at(text: str) -> datetime:
    """A Jakarta wall-clock time, "2026-01-10 10:00" (or a bare date at 10:00)."""
    if len(text) == 10:
        text += " 10:00"
    return datetime.fromisoformat(text).replace(tzinfo=JAKARTA)


def make_customer(*, first_seen: str = "2026-01-10", revenue: str | None = None, **fields):
    """A snapshot customer written directly (list/filter tests that need no identity run)."""
    moment = at(first_seen)
    customer = Customer.objects.create(
        first_seen_at=moment, first_seen_date=local_date(moment), **fields
    )
    if revenue is not None:
        CustomerStats.objects.create(customer=customer, lifetime_revenue=revenue)
    return customer


@pytest.fixture(autouse=True)
def _fresh_throttle_counts(request):
    # Throttle history lives in the cache, a database table: each test that uses the database
    # starts with none (what it writes is rolled back with it); others have none to clear.
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    if marker or {"db", "transactional_db"} & names:
        # Autouse fixtures come first: open the database this test uses before clearing.
        transactional = "transactional_db" in names or (marker and marker.kwargs.get("transaction"))
        request.getfixturevalue("transactional_db" if transactional else "db")
        cache.clear()
    yield


@pytest.fixture
def viewer(db):
    # Also sees personal data: these tests read names, emails and phones as stored (the
    # masked view of a user without accounts.view_personal_data is tested in tests/accounts).
    user = UserFactory(username="viewer")
    user.user_permissions.add(
        Permission.objects.get(codename="view_insights"),
        Permission.objects.get(codename="view_personal_data"),
    )
    return user


@pytest.fixture
def viewer_token(viewer) -> Token:
    return Token.objects.create(user=viewer)


@pytest.fixture
def api(viewer_token) -> APIClient:
    """A client authenticated by the viewer's token, as a real API client would be."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {viewer_token.key}")
    return client
