"""The dashboard's drill-down links: one URL lookup per page, not one per link (issue 20)."""

from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.urls import get_script_prefix, set_script_prefix

from insights.dashboards import drilldown
from tests.factories import UserFactory
from tests.insights.dashboard_fakes import FakeQueries

URL = "/admin/insights/dashboard/"


@pytest.fixture
def viewer(client, db):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    client.force_login(user)
    return user


@pytest.mark.django_db
def test_the_customer_list_url_is_reversed_once_for_every_link(client, viewer, monkeypatch):
    # given
    FakeQueries().install(monkeypatch)
    drilldown._reversed.cache_clear()
    # when
    with mock.patch.object(drilldown, "reverse", wraps=drilldown.reverse) as spy:
        first = client.get(URL).content.decode()
        calls_first = spy.call_count
        client.get(URL)
    # then: the page has many drill-down links, all to the same list
    assert first.count('href="/admin/customers/customer/?') > 10
    assert calls_first == 1
    assert spy.call_count == 1


def test_a_script_prefix_gets_its_own_url():
    # given: the project served under /crm/ (SCRIPT_NAME) after being served at the root
    before = get_script_prefix()
    try:
        at_root = drilldown.customer_list_url()
        set_script_prefix("/crm/")
        # when
        under_crm = drilldown.customer_list_url()
    finally:
        set_script_prefix(before)
    # then: the remembered URL is per prefix
    assert at_root == "/admin/customers/customer/"
    assert under_crm == "/crm/admin/customers/customer/"
