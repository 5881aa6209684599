"""Every drill-down says what it shows (issue 32 item 4): the lifecycle, cohort, at-risk and
lifecycle-state lists, and the chat-room list the service tables open."""

import pytest

from tests.factories import ChatContactFactory, ChatRoomFactory

pytestmark = pytest.mark.django_db
CUSTOMERS = "/admin/customers/customer/"
ROOMS = "/admin/chats/chatroom/"


def _summary(response) -> str:
    html = response.content.decode()
    assert 'id="filter-summary"' in html, "no Showing line"
    return html.split('id="filter-summary"')[1].split("</p>")[0]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"buyers": "lost", "buyers_start": "2026-10-01", "buyers_end": "2026-10-31",
             "lost_after": "60"},
            "Lost buyers from 2026-10-01 to 2026-10-31 (lost after 60 days without buying)",
        ),
        ({"cohort": "2026-03", "cohort_offset": "2"},
         "First bought in 2026-03, bought again 2 months later"),
        ({"cohort": "2026-03", "cohort_offset": "0", "event": "activity"},
         "First seen in 2026-03, active in that month"),
        ({"value": "at_risk"}, "At risk: P(alive) below 0.5 as of the last rebuild (today)"),
        ({"lifecycle": "lost", "lost_after": "90"},
         "Lost buyers today: bought before, none in the last 90 days"),
    ],
)  # fmt: skip
def test_the_customer_list_says_which_customers_a_drill_down_lists(admin_client, params, expected):
    # when
    response = admin_client.get(CUSTOMERS, params)
    # then
    assert response.status_code == 200
    assert expected in _summary(response)


def test_the_chat_room_list_says_which_rooms_it_lists(admin_client):
    # given
    contact = ChatContactFactory(channel="WhatsApp")
    ChatRoomFactory(chat_contact=contact)
    # when
    response = admin_client.get(
        ROOMS,
        {"created_at__date__gte": "2026-10-01", "created_at__date__lte": "2026-10-31",
         "chat_contact__channel": "WhatsApp"},
    )  # fmt: skip
    # then
    summary = _summary(response)
    assert "Opened Oct.\u00a01,\u00a02026 to Oct.\u00a031,\u00a02026" in summary
    assert "WhatsApp" in summary
