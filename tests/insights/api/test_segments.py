"""segments/ (own + shared, edit own), and segment_id on insights/rfm/ and insights/revenue/."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from insights.models import Segment
from tests.factories import ContactFactory, CustomerFactory, UserFactory
from tests.insights.build import deal, rebuild

pytestmark = pytest.mark.django_db
SEGMENTS = "/api/v1/segments/"


def client_for(user) -> APIClient:
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def people():
    """Jakarta: Ani (won 300 in Oct, 2 deals), Budi (won 100 in Oct, 1 deal); Medan: Citra (won
    1000 in Oct)."""
    result = {}
    for name, city, amounts in (
        ("Ani", "Jakarta", ["200", "100"]),
        ("Budi", "Jakarta", ["100"]),
        ("Citra", "Medan", ["1000"]),
    ):
        customer = CustomerFactory(display_name=name, city=city, country="ID")
        contact = ContactFactory(customer=customer, created_at=customer.first_seen_at)
        for n, amount in enumerate(amounts):
            day = f"2026-10-{10 + n:02d}"
            deal(contact, created=day, closed=day, outcome="won", amount=amount)
        result[name] = customer
    rebuild()
    return result


def test_create_list_read_with_counts_and_visibility(people):
    # given
    ani, budi = UserFactory(username="ani"), UserFactory(username="budi")
    as_ani, as_budi = client_for(ani), client_for(budi)
    # when
    mine = as_ani.post(SEGMENTS, {"name": "Jakarta", "filters": {"city": "Jakarta"}}, format="json")
    shared = as_ani.post(
        SEGMENTS,
        {"name": "Medan", "filters": {"city": "Medan"}, "shared": True},
        format="json",
    )
    # then
    assert mine.status_code == 201
    assert mine.json()["count"] == 2
    assert mine.json()["owner"] == "ani"
    assert [s["name"] for s in as_ani.get(SEGMENTS).json()["results"]] == ["Jakarta", "Medan"]
    listed = as_budi.get(SEGMENTS).json()["results"]
    assert [(s["name"], s["count"]) for s in listed] == [("Medan", 1)]
    assert as_budi.get(f"{SEGMENTS}{mine.json()['id']}/").status_code == 404
    assert as_budi.get(f"{SEGMENTS}{shared.json()['id']}/").json()["count"] == 1


def test_only_the_owner_edits_or_deletes(people):
    # given
    owner, other = UserFactory(), UserFactory()
    segment = Segment.objects.create(
        name="Medan", owner=owner, shared=True, filters={"city": "Medan"}
    )
    url = f"{SEGMENTS}{segment.pk}/"
    # when
    refused = client_for(other).patch(url, {"name": "Mine now"}, format="json")
    not_deleted = client_for(other).delete(url)
    renamed = client_for(owner).patch(
        url, {"name": "Jakarta", "filters": {"city": "Jakarta"}}, format="json"
    )
    # then
    assert refused.status_code == 403
    assert not_deleted.status_code == 403
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["count"]) == ("Jakarta", 2)
    assert client_for(owner).delete(url).status_code == 204
    assert not Segment.objects.exists()


def test_bad_filters_are_refused_naming_the_parameter(people):
    # when
    response = client_for(UserFactory()).post(
        SEGMENTS, {"name": "Bad", "filters": {"country": "Indonesia"}}, format="json"
    )
    # then
    assert response.status_code == 400
    assert response.json()["errors"]["filters"] == ["country: a two-letter country code, or Other"]


def test_an_invalid_saved_filter_is_reported_with_no_count(people):
    # given: saved before its product was removed
    owner = UserFactory()
    segment = Segment.objects.create(name="Old", owner=owner, filters={"product": "GONE"})
    # when
    body = client_for(owner).get(f"{SEGMENTS}{segment.pk}/").json()
    rfm = client_for(owner).get(
        "/api/v1/insights/rfm/",
        {"start": "2026-10-01", "end": "2026-10-31", "segment_id": segment.pk},
    )
    # then
    assert body["count"] is None
    assert "invalid saved filter" in body["error"]
    assert rfm.status_code == 400
    assert "invalid saved filter" in rfm.json()["errors"]["segment_id"][0]


def test_rfm_and_revenue_over_a_segment_count_only_its_customers(people):
    # given
    owner = UserFactory()
    jakarta = Segment.objects.create(name="Jakarta", owner=owner, filters={"city": "Jakarta"})
    client = client_for(owner)
    october = {"start": "2026-10-01", "end": "2026-10-31"}
    # when
    revenue = client.get("/api/v1/insights/revenue/", {**october, "segment_id": jakarta.pk})
    rfm = client.get("/api/v1/insights/rfm/", {**october, "segment_id": jakarta.pk})
    everyone = client.get("/api/v1/insights/rfm/", october).json()
    # then: Ani 300 (2 deals) + Budi 100 (1 deal); Citra's 1000 left out
    body = revenue.json()
    assert (body["revenue"], body["paying_customers"]) == ("400.00", 2)
    assert body["avg_revenue_per_customer"] == "200.00"
    assert body["top_20pct_revenue_share"] == "75.00"  # top ⌈0.4⌉ = 1 customer: 300 / 400
    assert (body["one_time_customers"], body["repeat_customers"]) == (1, 1)
    assert body["avg_lifetime_value"] == "200.00"
    segments = {row["segment"]: row for row in rfm.json()["segments"]}
    assert sum(row["customers"] for row in segments.values()) == 2
    assert sum(float(row["revenue"]) for row in segments.values()) == 400.0
    # each customer keeps the segment it has on the whole dashboard
    whole = {row["segment"]: row["customers"] for row in everyone["segments"]}
    assert all(segments[name]["customers"] <= whole[name] for name in segments)


def test_segment_id_of_someone_elses_private_segment_is_400(people):
    # given
    private = Segment.objects.create(name="Mine", owner=UserFactory(), filters={})
    # when
    response = client_for(UserFactory()).get(
        "/api/v1/insights/revenue/", {"preset": "last_30_days", "segment_id": private.pk}
    )
    # then
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["segment_id"]


def test_customer_list_with_segment_id_and_new_columns(people):
    # given
    owner = UserFactory()
    owner.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    jakarta = Segment.objects.create(name="Jakarta", owner=owner, filters={"city": "Jakarta"})
    # when
    body = client_for(owner).get(
        "/api/v1/customers/",
        {"segment_id": jakarta.pk, "ordering": "-lifetime_revenue", **{"rfm_start": "2026-10-01"},
         "rfm_end": "2026-10-31"},
    ).json()  # fmt: skip
    # then
    rows = [(r["display_name"], r["lifetime_revenue"], r["last_purchase"]) for r in body["results"]]
    assert rows == [("Ani", "300.00", "2026-10-11"), ("Budi", "100.00", "2026-10-10")]
    assert all(r["rfm_segment"] for r in body["results"])
    assert body["results"][0]["city"] == "Jakarta"


def test_customer_list_bad_filter_is_400_naming_it(people):
    response = client_for(UserFactory()).get("/api/v1/customers/", {"revenue_min": "abc"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["revenue_min"]


def test_customer_list_query_count_does_not_grow_with_rows(people, django_assert_max_num_queries):
    # given
    client = client_for(UserFactory())
    # when / then: auth, count, page, RFM of the page (and the run id + cache read for RFM),
    # and the throttle's shared counter (a database cache table without Redis: 3 statements)
    with django_assert_max_num_queries(11):
        response = client.get("/api/v1/customers/", {"ordering": "last_purchase"})
    assert response.json()["count"] == 3


def test_nested_errors_answer_in_the_documented_shape():
    # given: a filter whose value is a list where text belongs (the schema fuzzer found a 400
    # answered as {"errors": {"filters": {"<key>": [...]}}}, against the documented schema)
    response = client_for(UserFactory()).post(
        SEGMENTS, {"name": "Odd", "filters": {"city": ["Jakarta"]}}, format="json"
    )
    # then: 400 with {"errors": {param: [message, ...]}}, never a nested object
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and all(
        isinstance(messages, list) and all(isinstance(m, str) for m in messages)
        for messages in errors.values()
    ), errors
    assert errors == {"filters.city": ["Not a valid string."]}
