"""The dashboard's service levels (METRICS.md §L): met % per channel and agent, calendar time
beside business time, breach and open-room drill-downs that count what the figures say."""

from datetime import timedelta
from unittest import mock

import pytest

from insights.dashboards.service import chatroom_list_url, open_rooms_url
from insights.service import service_figures
from tests.insights.api.test_service_levels_api import seeded  # noqa: F401  (fixture)
from tests.insights.build import period

pytestmark = pytest.mark.django_db
URL = "/admin/insights/dashboard/"
P = period("2026-01-10", "2026-01-12")


def _listed(admin_client, url: str) -> tuple[list[str], int]:
    response = admin_client.get(url)
    assert response.status_code == 200, url
    changelist = response.context["cl"]
    return [str(room) for room in changelist.result_list], changelist.result_count


def test_every_breach_link_lists_the_late_rooms_of_its_row(admin_client, seeded):  # noqa: F811
    figures = service_figures(period=P)
    for by, rows in (("channel", figures.by_channel), ("agent", figures.by_agent)):
        for row in rows:
            for kind in ("first_response", "resolution"):
                url = chatroom_list_url(period=P, level=f"{kind}_breached", **{by: row.label})
                _rooms, count = _listed(admin_client, url)
                assert count == getattr(row, f"{kind}_breached"), (by, row.label, kind)
    # hand-computed: Email's late first reply is m3, WhatsApp's late resolution wa2
    url = chatroom_list_url(period=P, channel="Email", level="first_response_breached")
    assert _listed(admin_client, url)[0] == [str(seeded["m3"])]
    url = chatroom_list_url(period=P, agent="Budi", level="resolution_breached")
    assert _listed(admin_client, url)[0] == [str(seeded["wa2"])]
    # and the headline
    url = chatroom_list_url(period=P, level="first_response_breached")
    assert _listed(admin_client, url)[1] == figures.first_response_breached == 1


def test_the_open_rooms_link_lists_the_backlog_oldest_first(admin_client, seeded):  # noqa: F811
    figures = service_figures(period=P)

    rooms, count = _listed(admin_client, open_rooms_url())

    assert count == figures.open_rooms == sum(figures.backlog_age.values()) == 7
    assert rooms == [str(seeded[k]) for k in ("old", "m2", "wa2", "m3", "m6", "m4", "m5")]


def test_section_shows_targets_both_clocks_backlog_and_surveys(admin_client, seeded):  # noqa: F811
    with mock.patch("insights.periods.local_today", return_value=P.end + timedelta(days=1)):
        response = admin_client.get(
            URL, {"preset": "custom", "start": "2026-01-10", "end": "2026-01-12"}
        )

    assert response.status_code == 200
    section = response.content.decode().split('id="section-service"')[1].split("</section>")[0]
    card = section.split('id="figure-service-first_response_met_pct"')[1].split("</div>")[0]
    assert "80%" in card and "1 late · 3 pending" in card and "calendar time: 60%" in card
    # the dashboard's conventions: previous value, arrow coloured by meaning (P' had none)
    assert "tone-good" in card and "no baseline" in card and "previous period:" in card
    assert "Under 1 hour: 2" in section and "Over 7 days: 1" in section
    assert open_rooms_url().replace("&", "&amp;") in section
    email = section.split('<th scope="row">Email</th>')[1].split("</tr>")[0]
    assert "66.67%" in email and "33.33%" in email  # Email: business beside calendar
    late = chatroom_list_url(period=P, channel="Email", level="first_response_breached")
    assert late.replace("&", "&amp;") in section
    assert "-100.00 <small>(1)</small>" in section  # Email's NPS from the answer naming "old"
