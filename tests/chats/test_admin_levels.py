"""Service targets and holidays in the admin (METRICS.md §L), and the national holidays loader."""

from datetime import date
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from chats.models import Holiday, ServiceTarget
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
TARGETS = "/admin/chats/servicetarget/"
HOLIDAYS = "/admin/chats/holiday/"
LOAD = "/admin/chats/holiday/load-national/"


def test_targets_list_in_human_units_and_the_default_row_is_named(admin_client):
    ServiceTarget.objects.create(channel="", first_response_s=3600, clock="business")
    ServiceTarget.objects.create(channel="WhatsApp", first_response_s=300, resolution_s=86400)

    page = admin_client.get(TARGETS).content.decode()

    assert "Every other channel" in page
    assert "WhatsApp" in page and "5 min" in page and "1 d" in page and "1 h" in page


def test_a_target_is_added_in_the_admin(admin_client):
    response = admin_client.post(
        f"{TARGETS}add/",
        {"channel": "Email", "first_response_s": "7200", "resolution_s": "", "clock": "business"},
    )

    assert response.status_code == 302
    target = ServiceTarget.objects.get(channel="Email")
    assert (target.first_response_s, target.resolution_s, target.clock) == (7200, None, "business")


def test_the_national_holidays_of_this_year_and_the_next_load_in_one_step(admin_client):
    year = timezone.localdate().year
    Holiday.objects.create(date=date(year, 8, 17), name="old name")

    page = admin_client.get(HOLIDAYS).content.decode()
    assert LOAD in page

    response = admin_client.post(LOAD, follow=True)

    assert response.status_code == 200
    days = set(Holiday.objects.values_list("date", flat=True))
    assert {date(year, 1, 1), date(year, 8, 17), date(year + 1, 1, 1), date(year + 1, 8, 17)} <= (
        days
    )
    assert {d.year for d in days} == {year, year + 1}
    assert Holiday.objects.get(date=date(year, 8, 17)).name.startswith("Hari Kemerdekaan")
    added = Holiday.objects.count() - 1
    assert f"{added} added, 1 renamed" in response.content.decode()
    # A second load adds nothing.
    again = admin_client.post(LOAD, follow=True).content.decode()
    assert "0 added, 0 renamed" in again
    assert Holiday.objects.count() == added + 1


def test_loading_holidays_needs_post_and_the_add_permission(client):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_holiday"))
    client.force_login(user)

    assert LOAD not in client.get(HOLIDAYS).content.decode()
    assert client.get(LOAD).status_code == 405
    client.post(LOAD)
    assert not Holiday.objects.exists()


def test_the_command_loads_a_given_year():
    out = StringIO()
    call_command("load_holidays", "--year", "2026", stdout=out)

    assert Holiday.objects.filter(date=date(2026, 8, 17)).exists()
    assert not Holiday.objects.exclude(date__year=2026).exists()
    assert "Holidays of 2026:" in out.getvalue()
