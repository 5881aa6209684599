"""Saved segments a manager can edit (issue 32 item 10): a form with the list's own filters, a
rolling preset kept as a preset, unique names per owner (admin, "Save as segment", API)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from insights.customer_filters import customer_filter, rolling_preset_of
from insights.models import Segment
from insights.periods import parse_period
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
ADD = "/admin/insights/segment/add/"
SAVE = "/admin/customers/customer/save-segment/"


def _change(segment: Segment) -> str:
    return f"/admin/insights/segment/{segment.pk}/change/"


def _form_data(**filters: str) -> dict[str, str]:
    return {"name": filters.pop("name", "Jakarta buyers"), **filters}


def test_the_form_shows_each_filter_as_a_field_not_json(admin_client, admin_user):
    # given
    segment = Segment.objects.create(
        name="Jakarta", owner=admin_user, filters={"city": "Jakarta", "revenue_min": "100"}
    )
    # when
    html = admin_client.get(_change(segment)).content.decode()
    # then
    assert 'name="city"' in html and 'value="Jakarta"' in html
    assert 'name="revenue_min"' in html and 'value="100"' in html
    assert 'name="filters"' not in html
    assert 'name="preset"' in html  # the rolling period, as a choice


def test_the_form_saves_the_filters_checked_as_the_list_applies_them(admin_client, admin_user):
    # when: a good and then a bad value
    good = admin_client.post(ADD, _form_data(city="Jakarta", preset="last_30_days"))
    bad = admin_client.post(ADD, _form_data(name="Other", country="Indonesia"))
    # then
    assert good.status_code == 302
    saved = Segment.objects.get(name="Jakarta buyers")
    assert saved.filters == {"city": "Jakarta", "preset": "last_30_days"}
    assert saved.owner == admin_user
    assert bad.status_code == 200
    assert "a two-letter country code" in bad.content.decode()
    assert not Segment.objects.filter(name="Other").exists()


def test_a_rolling_preset_moves_with_today():
    # given: customers first seen 3 and 40 days ago, a segment "last 30 days"
    today = timezone.localdate()
    recent = CustomerFactory(first_seen_date=today - timedelta(days=3))
    CustomerFactory(first_seen_date=today - timedelta(days=40))
    period = parse_period(preset="last_30_days")
    # when: the list's period comes from the preset, today
    from customers.models import Customer

    params = {"preset": "last_30_days", "first_seen_from": period.start.isoformat()}
    ids = list(customer_filter(queryset=Customer.objects.all(), params=params).values_list(
        "pk", flat=True))  # fmt: skip
    # then
    assert ids == [recent.pk]
    assert rolling_preset_of(period.start.isoformat(), period.end.isoformat()) == "last_30_days"
    assert rolling_preset_of("2001-01-01", "2001-01-02") is None


def test_save_as_segment_keeps_the_preset_when_asked(admin_client):
    # given: the list arrived from the dashboard's "last 30 days" (its dates)
    period = parse_period(preset="last_30_days")
    filters = f"has_deals=yes&start={period.start.isoformat()}&end={period.end.isoformat()}"
    # when
    admin_client.post(SAVE, {"filters": filters, "name": "Rolling", "rolling": "last_30_days"})
    admin_client.post(SAVE, {"filters": filters, "name": "Frozen"})
    # then
    assert Segment.objects.get(name="Rolling").filters == {
        "has_deals": "yes", "preset": "last_30_days"}  # fmt: skip
    assert Segment.objects.get(name="Frozen").filters["start"] == period.start.isoformat()


def test_names_are_unique_per_owner_everywhere(admin_client, admin_user, client):
    # given
    Segment.objects.create(name="VIP", owner=admin_user, filters={"city": "Jakarta"})
    # when: the same name in another case, through the list, the form and the API
    admin_client.post(SAVE, {"filters": "city=Bandung", "name": "vip"})
    form = admin_client.post(ADD, _form_data(name="Vip", city="Bandung"))
    api = admin_client.post(
        "/api/v1/segments/", {"name": "VIP ", "filters": {"city": "Bandung"}},
        content_type="application/json",
    )  # fmt: skip
    # then: still one, and each said why
    assert Segment.objects.filter(name__iexact="vip").count() == 1
    assert form.status_code == 200 and "already have a segment" in form.content.decode()
    assert api.status_code == 400 and "name" in api.json()["errors"]
    # another owner may use the name
    other = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(other)
    client.post(SAVE, {"filters": "city=Bandung", "name": "VIP"})
    assert Segment.objects.filter(name="VIP", owner=other).exists()


def test_every_filter_of_the_list_has_a_field_in_the_form(admin_client, admin_user):
    # given: a segment using every filter name the list knows (values need not be valid here)
    from insights.customer_filters import filter_params

    segment = Segment.objects.create(name="All", owner=admin_user, filters={})
    # when
    html = admin_client.get(_change(segment)).content.decode()
    # then: saving the form can never drop a filter it does not show
    missing = [name for name in filter_params() if f'name="{name}"' not in html]
    assert missing == []
