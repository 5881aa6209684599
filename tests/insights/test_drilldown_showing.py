"""Every drill-down says what it shows (issue 32 item 4): the lifecycle, cohort, at-risk and
lifecycle-state lists, and the chat-room list the service tables open."""

import pytest

from tests.factories import ChatContactFactory, ChatRoomFactory, UserFactory

pytestmark = pytest.mark.django_db
CUSTOMERS = "/admin/customers/customer/"
ROOMS = "/admin/chats/chatroom/"
DEALS = "/admin/deals/deal/"


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
        ({"value": "at_risk", "value_as_of": "2026-01-31"},
         "At risk: P(alive) below 0.5 as of 31 Jan 2026"),
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


def test_the_chat_room_list_says_which_service_level_it_lists(admin_client):
    # when: the service-level table's late rooms and the open rooms, oldest first
    late = admin_client.get(
        ROOMS,
        {"created_at__date__gte": "2026-10-01", "created_at__date__lte": "2026-10-31",
         "service_level": "first_response_breached"},
    )  # fmt: skip
    open_rooms = admin_client.get(ROOMS, {"service_level": "open", "o": "4"})
    # then
    assert "service level (last recalculation): First reply late" in _summary(late)
    assert "Opened Oct.\u00a01,\u00a02026" in _summary(late)
    assert "service level (last recalculation): Open" in _summary(open_rooms)


def test_the_deal_list_says_which_deals_it_lists(admin_client):
    # given: the Team section's won deals of an owner, and the forecast's pipeline of a month
    owner = UserFactory(username="rina", first_name="Rina")
    won = admin_client.get(
        DEALS,
        {"status": "won", "closed_from": "2026-10-01", "closed_to": "2026-10-31",
         "owner__id__exact": str(owner.pk)},
    )  # fmt: skip
    pipeline = admin_client.get(
        DEALS, {"status": "open", "expected_from": "2026-12-01", "expected_to": "2026-12-31"}
    )
    # then
    summary = _summary(won)
    assert "status: Won" in summary
    assert "close date: Oct.\u00a01,\u00a02026 – Oct.\u00a031,\u00a02026" in summary
    assert "owner: rina" in summary.lower()
    summary = _summary(pipeline)
    assert "status: Open" in summary
    assert "Expected to close Dec.\u00a01,\u00a02026 to Dec.\u00a031,\u00a02026" in summary
