"""The dashboard's Customer service section on the real engine, and its drill-downs."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.utils import translation

from chats.durations import duration_human
from insights.dashboards.service import chatroom_list_url
from insights.service import service_figures
from tests.factories import ChatContactFactory, ChatRoomFactory, SurveyResponseFactory, UserFactory
from tests.insights.build import at, customer, period, rebuild

pytestmark = pytest.mark.django_db
URL = "/admin/insights/dashboard/"
P = period("2026-02-01", "2026-02-03")


@pytest.fixture
def seeded():
    """Rooms of 1-3 Feb (Jakarta) plus one at 31 Jan 23:30 UTC (1 Feb 06:30 in Jakarta), one
    at 3 Feb 17:30 UTC (4 Feb in Jakarta: outside), agents Budi, budi, blank and spaces."""
    wa = ChatContactFactory(customer=customer("2026-01-01").customer, channel="WhatsApp")
    mail = ChatContactFactory(customer=customer("2026-01-01").customer, channel="Email")
    for chat, opened, agent, resolved in (
        (wa, datetime(2026, 1, 31, 23, 30, tzinfo=UTC), "Budi", 7500),
        (wa, at("2026-02-02 09:00"), "budi", 60),
        (wa, at("2026-02-03 09:00"), "", None),
        (mail, at("2026-02-01 09:00"), "  ", 90000),
        (mail, datetime(2026, 2, 3, 17, 30, tzinfo=UTC), "Budi", 60),
        (mail, at("2026-01-31 12:00"), "Budi", 60),
    ):
        ChatRoomFactory(
            chat_contact=chat,
            created_at=opened,
            first_response_at=opened + timedelta(seconds=125),
            resolved_at=opened + timedelta(seconds=resolved) if resolved else None,
            agent=agent,
        )
    SurveyResponseFactory(chat_contact=wa, kind="nps", score=9, created_at=at("2026-02-02"))
    rebuild()


@pytest.fixture
def staff(client):
    def login(*, superuser: bool = True):
        user = UserFactory(is_staff=True, is_superuser=superuser)
        client.force_login(user)
        return user

    return login


def _admin_count(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["cl"].result_count


def test_every_channel_and_agent_row_drills_down_to_the_same_number_of_rooms(client, staff, seeded):
    # given
    staff()
    figures = service_figures(period=P)

    # then: the table rows as hand-computed
    assert [(r.label, r.rooms) for r in figures.by_channel] == [("WhatsApp", 3), ("Email", 1)]
    assert [(r.label, r.rooms) for r in figures.by_agent] == [
        ("Unassigned", 2),
        ("Budi", 1),
        ("budi", 1),
    ]
    # and each row's link lists exactly its rooms (local dates, exact agent, blank = Unassigned)
    for row in figures.by_channel:
        assert _admin_count(client, chatroom_list_url(period=P, channel=row.label)) == row.rooms
    for row in figures.by_agent:
        assert _admin_count(client, chatroom_list_url(period=P, agent=row.label)) == row.rooms
    assert _admin_count(client, chatroom_list_url(period=P)) == figures.rooms == 4


def test_section_renders_cards_tables_and_links(client, staff, seeded):
    # given
    staff()

    # when
    with mock.patch("insights.periods.local_today", return_value=P.end + timedelta(days=1)):
        response = client.get(URL, {"preset": "custom", "start": "2026-02-01", "end": "2026-02-03"})

    # then: resolutions 60, 7500, 90000 -> median 7500 s = 2 h 5 min; p90 90000 s = 1 d 1 h
    assert response.status_code == 200
    html = response.content.decode()
    section = html.split('id="section-service"')[1].split("</section>")[0]
    median = section.split('id="figure-service-median_resolution_s"')[1].split("</div>")[0]
    assert "2 h 5 min" in median and "1 d 1 h" in median
    assert "2 min 5 s" in section  # first responses all 125 s
    assert "1 promoters · 0 passives · 0 detractors" in section
    assert chatroom_list_url(period=P, agent="Unassigned").replace("&", "&amp;") in section
    assert '"service"' in html.split('id="insights-charts"')[1].split("</script>")[0]


def test_durations_in_human_units_in_english_and_indonesian():
    assert [duration_human(s) for s in (0, 9, 125, 7500, 90000, None)] == [
        "0 s",
        "9 s",
        "2 min 5 s",
        "2 h 5 min",
        "1 d 1 h",
        "",
    ]
    with translation.override("id"):
        assert duration_human(7500) == "2 j 5 mnt"
        assert duration_human(90000) == "1 hr 1 j"
