"""Fixtures of the access-control tests: one staff user per role group of the migration."""

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from customers.models import Customer
from insights.periods import local_date
from tests.factories import UserFactory

JAKARTA = ZoneInfo("Asia/Jakarta")


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
def member(db) -> Callable:
    """member("Sales rep", username="rita"): a staff user in that group (from the migration)."""

    def make(group: str, *, username: str | None = None):
        user = UserFactory(username=username or group.lower().replace(" ", "_"), is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        return user

    return make


def snapshot_customer(**fields) -> Customer:
    """A snapshot customer written directly: first seen 10 Jan 2026, 10:00 Jakarta."""
    moment = datetime(2026, 1, 10, 10, 0, tzinfo=JAKARTA)
    return Customer.objects.create(
        first_seen_at=moment, first_seen_date=local_date(moment), **fields
    )
