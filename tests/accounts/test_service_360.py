"""The 360° (API and admin page) lists survey answers, masked for the analyst, and room times."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.roles import ANALYST, SALES_MANAGER
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    ContactFactory,
    SurveyResponseFactory,
)

from .conftest import snapshot_customer

COMMENT = "Admin ramah, tapi lama membalas"
OPENED = datetime(2026, 1, 12, 3, 0, tzinfo=UTC)


def _customer():
    ani = snapshot_customer(display_name="Ani", record_count=2)
    contact = ContactFactory(customer=ani)
    chat = ChatContactFactory(customer=ani)
    ChatRoomFactory(
        chat_contact=chat,
        created_at=OPENED,
        first_response_at=OPENED + timedelta(seconds=125.9),
        resolved_at=OPENED + timedelta(hours=2, minutes=5),
    )
    SurveyResponseFactory(contact=contact, chat_contact=None, kind="nps", score=6, comment=COMMENT,
                          created_at=OPENED)  # fmt: skip
    SurveyResponseFactory(chat_contact=chat, kind="ces", score=2, comment="",
                          created_at=OPENED + timedelta(days=1))  # fmt: skip
    SurveyResponseFactory(chat_contact=ChatContactFactory(), comment="someone else")
    return ani


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "shown"), [(SALES_MANAGER, COMMENT), (ANALYST, "*** (31 characters)")]
)
def test_api_detail_lists_survey_answers_and_room_times(client, member, role, shown):
    # given
    ani = _customer()
    client.force_login(member(role))

    # when
    body = client.get(f"/api/v1/customers/{ani.pk}/").json()

    # then: newest first; comments masked for the analyst
    answers = [
        (s["kind"], s["score"], s["comment"], s["record_kind"]) for s in body["survey_responses"]
    ]
    assert answers == [("ces", 2, "", "chat_contact"), ("nps", 6, shown, "contact")]
    room = body["chat_rooms"][0]
    assert (room["first_response_s"], room["resolution_s"]) == (125, 7500)


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "masked"), [(SALES_MANAGER, False), (ANALYST, True)])
def test_360_page_lists_survey_answers_and_room_times(client, member, role, masked):
    # given
    ani = _customer()
    client.force_login(member(role))

    # when
    html = client.get(f"/admin/insights/customer360/{ani.pk}/").content.decode()

    # then
    assert "2 min 5 s" in html and "2 h 5 min" in html
    assert (COMMENT in html) is not masked
    assert ("*** (31 characters)" in html) is masked
    assert "someone else" not in html
