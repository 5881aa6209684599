"""The dashboard's "Pipeline and forecast" section: first for a period that has not ended, and
every number drills down to a list that counts what the figure says."""

from datetime import timedelta
from pathlib import Path

import pytest

from customers.models import Customer
from insights import forecast
from insights.dashboards.forecast import (
    SHOWN_WITHIN,
    deal_list_url,
    forecast_section,
    pipeline_url,
    repeat_customers_url,
)
from insights.figures import cards
from insights.models import CustomerValue
from insights.periods import Period, local_today
from tests.factories import ContactFactory, CustomerFactory, DealFactory, UserFactory
from tests.insights.test_forecast import day, pipeline, stages  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
URL = "/admin/insights/dashboard/"
PEOPLE = (Path(__file__).resolve().parents[1] / "data" / "clv_people.txt").read_text().splitlines()


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _count(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    assert "e" not in response.wsgi_request.GET  # the admin did not refuse a parameter
    return response.context["cl"].result_count


def test_section_comes_first_for_a_period_that_has_not_ended(staff, pipeline):  # noqa: F811
    html = staff.get(URL, {"preset": "next_30_days"}).content.decode()
    assert html.index('id="section-forecast"') < html.index('id="section-growth"')
    section = html.split('id="section-forecast"')[1].split("</section>")[0]
    assert "Qualify" in section and "negotiation" in section
    assert 'id="forecast-overdue"' in section and 'id="forecast-undated"' in section
    assert 'id="forecast-backtest"' in section
    assert "60" in section.split('id="forecast-weighting"')[1].split("</p>")[0]
    period = Period(day(1), day(30))
    assert pipeline_url(period=period).replace("&", "&amp;") in section


def test_forecast_cards_carry_figure_ids(staff, pipeline):  # noqa: F811
    # given a pipeline with overdue and undated deals (their warnings show)
    html = staff.get(URL, {"preset": "next_30_days"}).content.decode()
    section = html.split('id="section-forecast"')[1].split("</section>")[0]
    # then every headline figure of the registry's forecast section has its element
    for entry in cards("forecast"):
        key = SHOWN_WITHIN.get(entry.key, entry.key)
        assert f'id="figure-{key}"' in section, entry.key
    assert section.count('id="figure-') == 7


def test_no_section_for_a_period_that_has_ended(staff, pipeline):  # noqa: F811
    html = staff.get(URL, {"preset": "last_30_days"}).content.decode()
    assert 'id="section-forecast"' not in html
    assert forecast_section(period=Period(day(-30), day(0))) == {}


def test_every_stage_and_the_total_drill_down_to_as_many_deals(staff, pipeline):  # noqa: F811
    period = Period(day(1), day(30))
    result = forecast.forecast(period=period)
    assert [row.deals for row in result.by_stage] == [1, 2, 1]
    for row in result.by_stage:
        assert _count(staff, pipeline_url(period=period, stage_id=row.stage_id)) == row.deals
    assert _count(staff, pipeline_url(period=period)) == result.open_deals == 4


def test_overdue_and_undated_warnings_drill_down_to_as_many_deals(staff, pipeline):  # noqa: F811
    result = forecast.forecast(period=Period(day(1), day(30)))
    overdue = deal_list_url(status="open", expected="overdue")
    undated = deal_list_url(status="open", expected="undated")
    assert _count(staff, overdue) == result.overdue_deals == 1
    assert _count(staff, undated) == result.undated_deals == 1


def test_repeat_revenue_drills_down_to_the_customers_it_sums_over(staff, stages):  # noqa: F811
    from datetime import UTC, date, datetime, time
    from decimal import Decimal

    from tests.insights.build import rebuild

    shift = local_today() - date(2026, 6, 30)
    for history in PEOPLE:
        purchases = [item.split(":") for item in history.split()]
        moments = [datetime.combine(date.fromisoformat(d), time(5), tzinfo=UTC) + shift
                   for d, _a in purchases]  # fmt: skip
        person = CustomerFactory(first_seen_at=min(moments))
        contact = ContactFactory(created_at=min(moments), customer=person)
        for moment, (_d, amount) in zip(moments, purchases, strict=True):
            DealFactory(contact=contact, stage=stages["won"], amount=Decimal(amount),
                        created_at=moment, closed_at=moment)  # fmt: skip
    CustomerFactory(first_seen_at=datetime.now(UTC) - timedelta(days=3))  # never bought
    rebuild()
    result = forecast.forecast(period=Period(day(1), day(90)))
    assert result.model_fitted and result.expected_repeat_revenue is not None
    calibrated = CustomerValue.objects.count()
    assert calibrated == len(PEOPLE) < Customer.objects.count()
    response = staff.get(repeat_customers_url())
    assert response.context["cl"].result_count == calibrated
    # Ordered by expected purchases, most first.
    listed = [c.pk for c in response.context["cl"].result_list]
    expected = list(
        CustomerValue.objects.order_by("-expected_purchases", "customer_id").values_list(
            "customer_id", flat=True
        )[: len(listed)]
    )
    assert listed == expected


def test_next_presets_show_the_forecast_and_no_minus_100(staff, pipeline):  # noqa: F811
    for preset in ("tomorrow", "next_7_days", "next_30_days", "next_quarter"):
        html = staff.get(URL, {"preset": preset}).content.decode()
        assert 'id="section-forecast"' in html, preset
        section = html.split('id="section-forecast"')[1].split("</section>")[0]
        assert "−100" not in section and "-100" not in section
