"""The dashboard on the real pipeline: records → identity → rollups → page.

The figures themselves are pinned by the engine's tests; here the page must show what the
engine computes, link drill-downs the customer list understands, and stay within a fixed
number of queries whatever the data size (it reads rollups, never raw tables).
"""

from datetime import date
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from insights.models import RebuildRun
from insights.rebuild import insights_rebuild
from tests.browser.seed import seed_dashboard
from tests.factories import UserFactory

URL = "/admin/insights/dashboard/"
TODAY = date(2026, 3, 15)
# The seed's records lie between 40 and 2 days before TODAY: 2026-02-03 .. 2026-03-13.
RANGE = {"preset": "custom", "start": "2026-02-01", "end": "2026-03-14"}


@pytest.fixture
def viewer(client, db):
    user = UserFactory(is_staff=True)
    # view_personal_data: the 360 page shows names and emails only to those who may see them.
    for codename in ("view_insights", "run_rebuild", "view_personal_data"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    return user


@pytest.fixture
def seeded(db):
    seed_dashboard(today=TODAY)
    insights_rebuild(trigger="test")


def _render(client, params):
    with mock.patch("insights.periods.local_today", return_value=TODAY):
        return client.get(URL, params)


def test_page_shows_the_engine_figures(client, viewer, seeded):
    # given: 7 customers (Ani's chat contact joins her CRM contact; Gita only chats)
    # when
    response = _render(client, RANGE)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert Customer.objects.count() == 7
    total = html.split('id="figure-total_customers"')[1].split("</dd>")[0]
    assert total.endswith(">7")
    # won deals of customers closed in the range: 30m + 2.5m + 16m + 5m + 1m
    revenue = html.split('id="figure-revenue"')[1].split("</dd>")[0]
    assert revenue.endswith('title="IDR\u00a054,500,000">IDR\u00a054.5M</span>')
    assert "Harga terlalu tinggi" in html and "Unspecified" in html
    assert "Paket Premium" in html
    assert "Data computed at" in html


def test_drill_down_links_match_what_the_engine_counts(client, viewer, seeded):
    # given / when
    html = _render(client, RANGE).content.decode()

    # then
    base = "/admin/customers/customer/?"
    assert f"{base}source=Referral&amp;first_seen_to=2026-03-14" in html
    assert f"{base}source=Other&amp;first_seen_to=2026-03-14" in html  # Dewi: blank source
    assert f"{base}company=none&amp;first_seen_to=2026-03-14" in html
    assert f"{base}segment=Champions&amp;rfm_start=2026-02-01&amp;rfm_end=2026-03-14" in html


def test_query_count_does_not_grow_with_the_data(client, viewer, seeded):
    # given
    with CaptureQueriesContext(connection) as small:
        _render(client, RANGE)
    seed_dashboard(today=TODAY, prefix="t")
    seed_dashboard(today=TODAY, prefix="u")
    insights_rebuild(trigger="test")

    # when
    with CaptureQueriesContext(connection) as large:
        _render(client, RANGE)
    with CaptureQueriesContext(connection) as again:
        _render(client, RANGE)

    # then: a first view grows only with the buckets (6 weeks here), never with the rows;
    # a repeat is answered from the engine's figure cache
    assert len(large) == len(small)
    # (the lifecycle, retention, service, customer-value and previous-period comparison figures
    # add their own reads; on PostgreSQL each computed figure also takes and frees its
    # single-flight lock, two statements that read nothing)
    reads = [q for q in large.captured_queries if "advisory" not in q["sql"]]
    assert len(reads) <= 160
    assert len(again) <= 40


def test_every_preset_group_renders_on_the_engine(client, viewer, seeded):
    # given / when
    statuses = [
        _render(client, {"preset": preset}).status_code
        for preset in ("last_30_days", "this_month", "next_quarter")
    ]

    # then
    assert statuses == [200, 200, 200]


def test_recompute_now_runs_the_rebuild_task(client, viewer, seeded):
    # given: no broker in tests, so the Celery task runs in-process
    before = RebuildRun.objects.count()

    # when
    response = client.post("/admin/insights/dashboard/recompute/", {"next": URL}, follow=True)

    # then
    assert response.status_code == 200
    assert RebuildRun.objects.count() == before + 1
    run = RebuildRun.objects.order_by("-id").first()
    assert run.trigger == f"admin:{viewer.username}"


def test_customer_360_on_the_engine(client, viewer, seeded):
    # given
    ani = Customer.objects.get(contacts__first_name="Ani")

    # when
    with mock.patch("insights.periods.local_today", return_value=TODAY):
        html = client.get(f"/admin/insights/customer360/{ani.pk}/", RANGE).content.decode()

    # then: two CRM-won deals of 30m and 2.5m; her chat contact shares her email key
    assert "IDR\u00a032,500,000" in html
    assert "ani.s@example.com" in html
    assert "Why these records are one customer" in html
    assert "email" in html.split('class="insights-explanation insights-stack"')[1]
