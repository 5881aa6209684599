"""Sales by owner in the API, the dashboard's Team section, "My sales" and the targets admin:
who sees which rows, and every drill-down list counts what its figure says."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from unittest.mock import patch

import pytest
from django.contrib.auth.models import Group

from accounts.roles import SALES_MANAGER, SALES_REP
from deals.models import SalesTarget
from insights.dashboards import owners as owners_dashboard
from insights.periods import Period
from tests.factories import DealFactory, UserFactory
from tests.insights.build import at, customer, rebuild, stage

pytestmark = pytest.mark.django_db
D = Decimal
OWNERS = "/api/v1/insights/owners/"
JANUARY = "?start=2026-01-01&end=2026-01-31"


def member(group: str, username: str):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def sale(owner, *, closed=None, outcome="won", amount="100.00", expected=None, contact=None):
    return DealFactory(
        owner=owner,
        contact=contact,
        stage=stage(outcome),
        amount=D(amount),
        created_at=at("2026-01-02"),
        closed_at=at(closed) if closed else None,
        expected_close_at=at(expected) if expected else None,
        win_probability=None if outcome != "open" else 50,
    )


@pytest.fixture
def team():
    """Rita and Sari (reps) and their manager Mira; January 2026 deals of each kind."""
    rita, sari = member(SALES_REP, "rita"), member(SALES_REP, "sari")
    mira = member(SALES_MANAGER, "mira")
    buyer = customer("2025-12-01")
    sale(rita, closed="2026-01-05", amount="300.00", contact=buyer)
    sale(rita, closed="2026-01-31 23:30")  # the last evening of P, local time
    sale(rita, closed="2026-02-01 00:30")  # just after P
    sale(rita, closed="2026-01-10", outcome="lost")
    sale(rita, outcome="open", expected="2026-01-20", amount="1000.00")
    sale(rita, outcome="open", expected="2026-02-20")
    sale(sari, closed="2026-01-07", outcome="lost")
    sale(None, closed="2026-01-08", amount="50.00")
    sale(None, outcome="open", expected="2026-01-09")
    SalesTarget.objects.create(owner=rita, month=date(2026, 1, 1), amount=D("800.00"))
    rebuild()
    return {"rita": rita, "sari": sari, "mira": mira}


def test_a_manager_gets_every_row_and_the_team(client, team):
    # given
    client.force_login(team["mira"])

    # when
    body = client.get(OWNERS + JANUARY).json()

    # then: exactly the CONTRACT's fields
    assert [row["owner"] for row in body["owners"]] == ["rita", "Unassigned", "sari"]
    assert body["owners"][0] == {
        "owner": "rita", "won_deals": 2, "revenue": "400.00", "lost_deals": 1,
        "win_rate_pct": "66.67", "avg_won_value": "200.00", "median_cycle_days": 3,
        "new_buyers": 1, "open_deals": 1, "open_value": "1000.00", "weighted_value": "500.00",
        "target": "800.00", "attainment_pct": "50.00",
    }  # fmt: skip
    assert body["team"] == {
        "won_deals": 3, "revenue": "450.00", "target": "800.00", "attainment_pct": "56.25"
    }  # fmt: skip
    assert set(body) == {"period", "computed_at", "owners", "team"}


def test_a_rep_gets_only_its_own_row_and_no_team(client, team):
    # given
    client.force_login(team["sari"])

    # when
    response = client.get(OWNERS + JANUARY)
    other = client.get("/api/v1/insights/growth/" + JANUARY)

    # then
    assert response.status_code == 200
    assert [row["owner"] for row in response.json()["owners"]] == ["sari"]
    assert response.json()["team"] is None
    assert other.status_code == 403  # no customer figures for a rep


def _listed(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    assert "e=1" not in response.get("Location", ""), url  # the admin's "bad filter" redirect
    return response.context["cl"].result_count


def test_every_team_drill_down_lists_what_its_figure_counts(client, team):
    # given
    client.force_login(team["mira"])
    period = Period(date(2026, 1, 1), date(2026, 1, 31))

    # when
    section = owners_dashboard.team_section(period=period, user=team["mira"])

    # then: per row, won / lost / won or lost / open (by expected close)
    assert len(section["team_rows"]) == 3
    for view in section["team_rows"]:
        row = view.row
        assert _listed(client, view.won_url) == row.won_deals, row.owner
        assert _listed(client, view.lost_url) == row.lost_deals, row.owner
        assert _listed(client, view.closed_url) == row.won_deals + row.lost_deals, row.owner
        assert _listed(client, view.open_url) == row.open_deals, row.owner


def test_the_dashboard_shows_the_team_section_with_its_links(client, team):
    # given
    client.force_login(team["mira"])

    # when
    response = client.get("/admin/insights/dashboard/" + JANUARY)

    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="section-owners"' in page
    assert "owner__id__exact=" in page and "owner__isnull=True" in page
    assert "800.00" in page or "800,00" in page


def test_a_rep_lands_on_my_sales_and_its_links_count_its_own_deals(client, team):
    # given: "today" is 10 February 2026
    rita = team["rita"]
    rita.set_password("pw")
    rita.save()
    sale(rita, outcome="open", expected="2026-02-03", amount="70.00")  # overdue
    rebuild()

    # when
    with patch("insights.dashboards.views.local_today", return_value=date(2026, 2, 10)):
        landed = client.post(
            "/admin/login/", {"username": "rita", "password": "pw", "next": "/admin/"}
        )
        page = client.get("/admin/insights/my-sales/")
    context = owners_dashboard.my_sales(user=rita, today=date(2026, 2, 10))

    # then: this month (February) beside January
    assert landed.status_code == 302 and landed.url == "/admin/insights/my-sales/"
    assert page.status_code == 200
    february, january = (card["row"] for card in context["cards"])
    assert (february.won_deals, february.revenue) == (1, D("100.00"))
    assert (january.won_deals, january.revenue, january.target) == (2, D("400.00"), D("800.00"))
    for card in context["cards"]:
        assert _listed(client, card["won_url"]) == card["row"].won_deals
        assert _listed(client, card["lost_url"]) == card["row"].lost_deals
        assert _listed(client, card["open_url"]) == card["row"].open_deals
    # overdue: expected before today, open (the January and 3 February ones)
    assert context["overdue"].deals == 2
    assert _listed(client, context["overdue_url"]) == 2
    assert [d.amount for d in context["overdue_deals"]] == [D("1000.00"), D("70.00")]
    pipeline = {b["period"].start: b["pipeline"].deals for b in context["buckets"]}
    assert pipeline[date(2026, 2, 1)] == 2  # the 3rd (overdue) and the 20th
    assert sum(pipeline.values()) == 2
    for bucket in context["buckets"]:
        assert _listed(client, bucket["url"]) == bucket["pipeline"].deals


def test_a_manager_logging_in_lands_on_the_index(client, team):
    # given
    team["mira"].set_password("pw")
    team["mira"].save()

    # when
    landed = client.post("/admin/login/", {"username": "mira", "password": "pw", "next": "/admin/"})

    # then
    assert landed.url == "/admin/"


def test_managers_edit_targets_and_reps_read_only_their_own(client, team):
    # given
    client.force_login(team["mira"])

    # when: a team target typed on any day of the month
    added = client.post(
        "/admin/deals/salestarget/add/", {"owner": "", "month": "2026-03-15", "amount": "5000"}
    )
    client.force_login(team["sari"])
    SalesTarget.objects.create(owner=team["sari"], month=date(2026, 1, 1), amount=D("10"))
    listed = client.get("/admin/deals/salestarget/")
    change = client.post(
        f"/admin/deals/salestarget/{SalesTarget.objects.get(owner=team['sari']).pk}/change/",
        {"owner": team["sari"].pk, "month": "2026-01-01", "amount": "99999"},
    )

    # then
    assert added.status_code == 302
    assert SalesTarget.objects.get(owner=None).month == date(2026, 3, 1)
    assert [t.owner for t in listed.context["cl"].result_list] == [team["sari"]]
    assert change.status_code == 403
    assert SalesTarget.objects.get(owner=team["sari"]).amount == D("10.00")
