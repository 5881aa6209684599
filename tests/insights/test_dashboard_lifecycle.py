"""The dashboard's lifecycle and retention sections, KPI cards, comparisons and drill-downs."""

from datetime import date
from decimal import Decimal
from unittest import mock

import pytest

from insights.comparison import change_pct
from insights.dashboards.lifecycle import compare_figures
from tests.insights.build import customer, deal
from tests.insights.build import rebuild as rebuild_all
from tests.insights.test_dashboard import fake, viewer  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
URL = "/admin/insights/dashboard/"
D = Decimal


def test_sections_cards_and_lost_after_choice_kept_in_the_url(client, fake, viewer):  # noqa: F811
    # when
    response = client.get(URL, {"preset": "this_year", "lost_after": "180", "event": "activity"})
    html = response.content.decode()

    # then
    assert response.status_code == 200
    assert 'id="section-lifecycle"' in html and 'id="section-retention"' in html
    assert {kw["lost_after"] for name, kw in fake.calls if name == "buyer_lifecycle"} == {180}
    assert {kw["event"] for name, kw in fake.calls if name == "cohort_retention"} == {"activity"}
    for days in (30, 60, 90, 180, 365):
        assert f"lost_after={days}&amp;event=activity" in html
    # the scope and order switches keep the choice too; so does the period form
    assert "scope=new&amp;order=frequency&amp;preset=this_year&amp;lost_after=180" in html
    assert '<input type="hidden" name="lost_after" value="180">' in html
    for key in ("won_deals", "avg_order_value", "win_rate_pct", "hours_per_new_customer"):
        assert f'id="figure-{key}"' in html
    # the retention cell: 1 of 4 is 25%, with the counts on hover and a drill-down
    assert 'title="1 of 4 customers">25%</a>' in html
    assert "cohort=2026-01&amp;cohort_offset=1&amp;event=activity" in html


@pytest.mark.parametrize(
    ("query", "param"), [({"lost_after": "45"}, "lost_after"), ({"event": "visit"}, "event")]
)
def test_a_bad_lifecycle_choice_is_refused(client, fake, viewer, query, param):  # noqa: F811
    # when
    response = client.get(URL, query)

    # then
    assert response.status_code == 400
    assert response.context["error_param"] == param


def test_comparison_arrows_are_coloured_by_meaning():
    # given
    figures = [
        {"key": "revenue", "value": D("150.00")},
        {"key": "inactive_customers", "value": 12},
        {"key": "lost_buyers", "value": 3},
        {"key": "new_customers", "value": 5},
        {"key": "paying_customers", "value": 7},
    ]
    previous = {
        "revenue": D("100.00"),
        "inactive_customers": 10,
        "lost_buyers": 4,
        "new_customers": 0,
        "paying_customers": 7,
    }

    change = {
        key: change_pct(f["value"], previous[key]) for key, f in zip(previous, figures, strict=True)
    }

    # when
    compare_figures(figures, {"previous": previous, "change_pct": change})

    # then
    assert [(f["arrow"], f["tone"], f["change"]) for f in figures] == [
        ("up", "good", D("50.00")),
        ("up", "bad", D("20.00")),
        ("down", "good", D("-25.00")),
        ("up", "good", None),  # no baseline
        ("flat", "neutral", D("0.00")),
    ]


def _listed(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["cl"].result_count


def test_every_drill_down_lists_as_many_customers_as_its_figure(admin_client):
    # given: buyers in December-February; W = 30
    a = customer("2025-11-01")
    for day in ("2025-12-05", "2026-01-03", "2026-02-20"):
        deal(a, created=day, closed=day, outcome="won")
    b = customer("2025-11-01")
    for day in ("2026-01-10", "2026-01-20"):
        deal(b, created=day, closed=day, outcome="won")
    c = customer("2025-11-01")
    deal(c, created="2025-12-20", closed="2025-12-20", outcome="won")
    rebuild_all()

    # when
    with mock.patch("insights.periods.local_today", return_value=date(2026, 3, 10)):
        response = admin_client.get(
            URL,
            {"preset": "custom", "start": "2026-01-01", "end": "2026-02-28",
             "granularity": "month", "lost_after": "30"},
        )  # fmt: skip
        trend = response.context["lifecycle_trend"]
        cohorts = response.context["retention_rows"]

        # then: Jan: new B; returning A (5 Dec and 3 Jan are 29 days apart: not lost); lost C
        # (20 Dec + 30). Feb: returning A; lost A (3 Jan + 30 = 2 Feb), B (20 Jan + 30 = 19 Feb)
        figures = [(t["bucket"].new_buyers, t["bucket"].returning_buyers, t["bucket"].lost_buyers)
                   for t in trend]  # fmt: skip
        assert figures == [(1, 1, 1), (0, 1, 2)]
        for t in trend:
            assert _listed(admin_client, t["new_url"]) == t["bucket"].new_buyers
            assert _listed(admin_client, t["returning_url"]) == t["bucket"].returning_buyers
            assert _listed(admin_client, t["lost_url"]) == t["bucket"].lost_buyers
        assert [row["cohort"].retained for row in cohorts] == [[1, 0, 0], [0, 0]]
        for row in cohorts:
            for cell in row["cells"]:
                assert _listed(admin_client, cell["url"]) == cell["count"], cell["url"]


def test_a_bad_drill_down_value_is_refused(admin_client):
    # when
    response = admin_client.get("/admin/customers/customer/?buyers=gone")

    # then: back to the list without the bad parameter, with a message naming it
    assert response.status_code == 302
    assert "buyers" not in response["Location"]


def test_every_card_takes_label_unit_and_direction_from_the_registry(client, fake, viewer):  # noqa: F811
    """Issue 26: cards typed by hand ignored the registry (labels, units, "bad when up")."""
    from insights.figures import FIGURES, cards

    # when
    response = client.get(URL, {"preset": "last_month"})

    # then: every card of growth, sales, revenue and lifecycle is the registry's entry
    shown = {
        card["key"]: card
        for name in ("growth_figures", "sales_figures", "kpi_figures", "lifecycle_figures")
        for card in response.context[name]
    }
    for section in ("growth", "sales", "revenue", "lifecycle"):
        for entry in cards(section):
            card = shown[entry.key]
            assert (card["label"], card["kind"], card["up_is_bad"]) == (
                entry.label,
                entry.unit,
                entry.up_is_bad,
            )
    assert len(response.context["kpi_figures"]) == 13  # every revenue card
    # the service cards' labels are the registry's too ("CES", not a hand-typed one)
    labels = {card.key: card.label for card in response.context["service_cards"]}
    registry = {f.key: str(f.label) for f in FIGURES}
    assert all(labels[key] == registry[key] for key in labels)
    assert labels["ces_avg"] == "CES"
