"""Issue 32 item 4: the "Customers at risk" card of a past period drills down to the customers
it counts, as of the card's date (the period's end), not today's at-risk customers."""

import re

import pytest

from insights.rebuild import insights_rebuild

from .test_customer_value import _people

pytestmark = pytest.mark.django_db
DASHBOARD = "/admin/insights/dashboard/"
LIST = "/admin/customers/customer/"
YEAR_2025 = {"preset": "custom", "start": "2025-01-01", "end": "2025-12-31"}


def _card(html: str) -> tuple[int, str]:
    card = html.split('id="figure-customers_at_risk"')[1].split("</div>")[0]
    found = re.search(r'<a href="([^"]+)">([\d,.]+)</a>', card)
    assert found, card
    return int(found.group(2).replace(",", "").replace(".", "")), found.group(1).replace(
        "&amp;", "&"
    )


def test_the_at_risk_list_counts_what_the_card_of_a_past_period_says(admin_client):
    # given 40 customers whose buying days run into 2026, and the rebuild of today
    _people()
    insights_rebuild(trigger="test")
    # when the card of 2025 (as of 2025-12-31) is followed to its list
    count, url = _card(admin_client.get(DASHBOARD, YEAR_2025).content.decode())
    listed = admin_client.get(url)
    today = admin_client.get(LIST, {"value": "at_risk"})
    # then the list has exactly the card's customers, and says as of when
    assert "value_as_of=2025-12-31" in url
    assert count > 0
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == count
    summary = listed.content.decode().split('id="filter-summary"')[1].split("</p>")[0]
    assert "At risk: P(alive) below 0.5 as of 31 Dec 2025" in summary
    # and today's at-risk list is another set: the list follows the card, not today
    assert today.context["cl"].result_count != count


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"value": "at_risk", "value_as_of": "2999-01-01"}, "a date up to today"),
        ({"value": "at_risk", "value_as_of": "31/12/2025"}, "a date YYYY-MM-DD"),
        ({"value_as_of": "2025-12-31"}, "needs value=at_risk"),
    ],
)
def test_a_bad_as_of_date_is_a_400_naming_it(api, params, message):
    response = api.get("/api/v1/customers/", params)
    assert response.status_code == 400
    assert response.json()["errors"]["value_as_of"] == [message]
