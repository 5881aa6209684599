"""The customer list a manager reads (issue 32): the columns it shows first, the ones switched on,
numbers and countries in the reader's language, the row opening the 360° page, the sidebar
filters for saved segment, revenue, last purchase and P(alive) counting what they say, and an
export of every filtered row in the reader's spreadsheet locale."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from insights.models import Segment
from tests.factories import ContactFactory, CustomerFactory
from tests.insights.build import deal, rebuild

pytestmark = pytest.mark.django_db
LIST = "/admin/customers/customer/"
EXPORT = "/admin/customers/customer/export/"


@pytest.fixture
def buyers():
    """Three customers who bought 5, 40 and 200 days ago for 100, 1,000 and 10,000 (SG, ID, ID),
    and one who never bought."""
    today = timezone.localdate()
    made = {}
    for name, days, amount, country in (
        ("Recent", 5, "100.50", "SG"),
        ("Middle", 40, "1000", "ID"),
        ("Old", 200, "10000", "ID"),
    ):
        customer = CustomerFactory(display_name=name, country=country)
        contact = ContactFactory(customer=customer, created_at=customer.first_seen_at)
        day = (today - timedelta(days=days)).isoformat()
        deal(contact, created=day, closed=day, outcome="won", amount=amount)
        made[name] = customer
    made["Never"] = CustomerFactory(display_name="Never", country="ID")
    ContactFactory(customer=made["Never"], created_at=made["Never"].first_seen_at)
    rebuild()
    return made


def _names(response) -> list[str]:
    return sorted(c.display_name for c in response.context["cl"].result_list)


def test_the_default_columns_are_a_managers_and_the_rest_can_be_switched_on(buyers, admin_client):
    # when
    default = admin_client.get(LIST)
    more = admin_client.get(LIST, {"columns": ["primary_email", "city"]})
    # then
    assert default.context["cl"].list_display[1:] == [
        "customer", "company", "country_name", "lifetime_revenue", "last_purchase",
        "rfm_segment", "p_alive", "health_score",
    ]  # fmt: skip
    assert "primary_email" in more.context["cl"].list_display
    assert "city" in more.context["cl"].list_display
    assert "primary_phone" not in more.context["cl"].list_display
    assert more.context["cl"].result_count == 4  # `columns` is not a filter


def test_a_row_opens_the_customers_360_page(buyers, admin_client):
    # when
    html = admin_client.get(LIST).content.decode()
    # then
    recent = buyers["Recent"]
    assert f'href="/admin/insights/customer360/{recent.pk}/">Recent</a>' in html
    assert f"/admin/customers/customer/{recent.pk}/change/" not in html


def test_money_probabilities_and_countries_in_the_readers_language(buyers, admin_client):
    # when
    english = admin_client.get(LIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    admin_client.cookies["django_language"] = "id"
    indonesian = admin_client.get(LIST, HTTP_ACCEPT_LANGUAGE="id").content.decode()
    # then: the rupiah without cents in each language's grouping, names for country codes
    assert "IDR\u00a010,000<" in english and "Rp10.000<" in indonesian
    assert "Singapore" in english and "Singapura" in indonesian
    assert "18540500.00" not in english and ".00<" not in indonesian


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"last_purchase_from": "{d29}"}, ["Recent"]),
        ({"last_purchase_from": "{d90}", "last_purchase_to": "{d30}"}, ["Middle"]),
        ({"last_purchase_from": "{d365}", "last_purchase_to": "{d91}"}, ["Old"]),
        ({"revenue_max": "0"}, ["Never"]),
        ({"revenue_min": "1000"}, ["Middle", "Old"]),
    ],
)
def test_the_sidebar_filters_count_what_they_say(buyers, admin_client, params, expected):
    # given: the sidebar's own links carry these parameters (days ago from today)
    today = timezone.localdate()
    days = {f"d{n}": (today - timedelta(days=n)).isoformat() for n in (29, 30, 90, 91, 365)}
    query = {key: value.format(**days) for key, value in params.items()}
    # when
    response = admin_client.get(LIST, query)
    # then
    assert response.status_code == 200
    assert _names(response) == expected
    assert response.context["cl"].result_count == len(expected)


def test_the_sidebar_offers_the_ranges_it_filters_by(buyers, admin_client):
    # when
    response = admin_client.get(LIST)
    specs = {spec.title: spec for spec in response.context["cl"].filter_specs}
    last_purchase = list(specs["last purchase"].choices(response.context["cl"]))
    # then: following the "last 30 days" link lists exactly the customer who bought 5 days ago
    link = last_purchase[1]["query_string"]
    followed = admin_client.get(LIST + link)
    assert _names(followed) == ["Recent"]
    assert {"lifetime revenue", "P(alive)"} <= set(specs)  # segments: once one exists


def test_the_saved_segment_filter_lists_its_customers(buyers, admin_client, admin_user):
    # given
    segment = Segment.objects.create(
        name="Big buyers", owner=admin_user, filters={"revenue_min": "5000"}
    )
    # when
    response = admin_client.get(LIST, {"segment_id": str(segment.pk)})
    # then
    assert _names(response) == ["Old"]
    specs = {spec.title: spec for spec in response.context["cl"].filter_specs}
    choices = list(specs["saved segment"].choices(response.context["cl"]))
    assert [c["display"] for c in choices if c["selected"]] == ["Big buyers"]


def test_the_export_link_needs_no_selection_and_writes_the_readers_spreadsheet(
    buyers, admin_client
):
    # when: every customer who bought, exported from an Indonesian page
    admin_client.cookies["django_language"] = "id"
    response = admin_client.get(EXPORT, {"revenue_min": "1"}, HTTP_ACCEPT_LANGUAGE="id")
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body), delimiter=";"))
    # then: the filtered rows, with the columns the list shows, decimals with a comma
    assert response.status_code == 200
    assert sorted(r["display_name"] for r in rows) == ["Middle", "Old", "Recent"]
    recent = next(r for r in rows if r["display_name"] == "Recent")
    assert recent["lifetime_revenue"] == "100,50"
    assert recent["country"] == "SG"
    assert recent["last_purchase"] == (timezone.localdate() - timedelta(days=5)).isoformat()
    assert {"city", "p_alive", "predicted_clv"} <= set(recent)


def test_the_api_csv_stays_plain(buyers, admin_client):
    # when
    response = admin_client.get("/api/v1/customers/", {"format": "csv", "revenue_min": "1"})
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    # then: a client of the API reads commas and a decimal point whatever the language
    assert sorted(r["lifetime_revenue"] for r in rows) == ["100.50", "1000.00", "10000.00"]
