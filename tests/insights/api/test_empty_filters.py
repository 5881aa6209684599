"""Issue 27 item 4: a filter that matches nobody is an empty page (200), never a 500.

The customers/ list pages a selective filter from the filter's own matches when the table
is large (PostgreSQL's estimate); a filter that compiles to "no row at all" (an id list that
came out empty) broke that path. The estimate is patched so both databases take it.
"""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from insights.api import pagination
from tests.factories import UserFactory

from .conftest import make_customer

pytestmark = pytest.mark.django_db

LIST = "/api/v1/customers/"
NOBODY = [
    {"search": "budi"},
    {"segment": "Champions", "start": "2010-01-01", "end": "2010-01-31"},
    {"cohort": "2010-01", "cohort_offset": "0"},
    {"cohort": "2010-01", "cohort_offset": "0", "event": "purchase"},
    {"buyers": "new", "buyers_start": "2010-01-01", "buyers_end": "2010-01-31"},
    {"buyers": "lost", "buyers_start": "2010-01-01", "buyers_end": "2010-01-31"},
    {"lifecycle": "lost"},
    {"r": "5", "f": "5", "start": "2010-01-01", "end": "2010-01-31"},
    {"city": "Atlantis"},
    {"has_deals": "yes"},
    {"lost_reason": "Mahal", "start": "2010-01-01", "end": "2010-01-31"},
    {"value": "at_risk"},
]


@pytest.fixture
def large_table(monkeypatch):
    # A million customers by the planner's estimate: the selective-filter path is taken.
    monkeypatch.setattr(pagination, "table_row_estimate", lambda **kwargs: 1_000_000)


@pytest.fixture
def masked():
    """A client whose user reads insights but not personal data (search matches whole keys)."""
    user = UserFactory(username="analis")
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _name(params: dict[str, str]) -> str:
    return "&".join(f"{key}={value}" for key, value in params.items())


@pytest.mark.parametrize("params", NOBODY, ids=_name)
def test_a_filter_matching_nobody_is_an_empty_page(monkeypatch, masked, params):
    # given: a customer first seen long after 2010, who matches none of these
    make_customer(
        display_name="Budi Santoso", primary_email="budi@contoh.id", city="Jakarta",
        first_seen="2026-01-10",
    )  # fmt: skip
    small = masked.get(LIST, params)
    # when: the same list over a large table
    monkeypatch.setattr(pagination, "table_row_estimate", lambda **kwargs: 1_000_000)
    large = masked.get(LIST, params)
    # then
    assert small.status_code == 200, small.content[:300]
    assert large.status_code == 200, large.content[:300]
    assert large.json()["count"] == small.json()["count"] == 0
    assert (large.json()["results"], large.json()["next"]) == ([], None)


def test_the_selective_path_still_finds_its_matches(large_table, masked):
    budi = make_customer(display_name="Budi", city="Bandung")
    make_customer(display_name="Ani", city="Jakarta")
    body = masked.get(LIST, {"city": "Bandung"}).json()
    assert (body["count"], [row["id"] for row in body["results"]]) == (1, [budi.pk])
