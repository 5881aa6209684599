"""Chat rooms admin (times, filters) and survey responses admin (filters, search, masking)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    ContactFactory,
    SurveyResponseFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
ROOMS = "/admin/chats/chatroom/"
SURVEYS = "/admin/chats/surveyresponse/"
COMMENT = "Pelayanan lambat sekali"


def _staff(client, *codenames: str):
    user = UserFactory(is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    return user


def test_room_list_shows_response_and_resolution_times_and_filters_resolved(admin_client):
    # given
    room = ChatRoomFactory(agent="Sari")
    room.first_response_at = room.created_at + timedelta(seconds=125.7)
    room.resolved_at = room.created_at + timedelta(hours=2, minutes=5)
    room.save()
    ChatRoomFactory(agent="")

    # when
    html = admin_client.get(ROOMS).content.decode()
    resolved = admin_client.get(ROOMS, {"resolved": "yes"}).context["cl"].result_count
    open_ = admin_client.get(ROOMS, {"resolved": "no"}).context["cl"].result_count

    # then
    assert "2 min 5 s" in html and "2 h 5 min" in html
    assert (resolved, open_) == (1, 1)
    by_agent = admin_client.get(ROOMS, {"agent_label": "Sari"}).context["cl"].result_count
    assert by_agent == 1


def test_survey_list_filters_and_searches(admin_client):
    SurveyResponseFactory(kind="nps", score=9, comment=COMMENT)
    SurveyResponseFactory(kind="ces", score=2, comment="Mudah")
    count = lambda **q: admin_client.get(SURVEYS, q).context["cl"].result_count  # noqa: E731
    assert (count(kind="nps"), count(kind="ces"), count(score="2")) == (1, 1, 1)
    assert count(q="lambat") == 1  # the superuser sees personal data, comments included


def test_survey_comments_are_masked_and_unsearchable_without_personal_data(client):
    # given: a staff user who may view survey responses but not personal data
    response = SurveyResponseFactory(comment=COMMENT)
    _staff(client, "view_surveyresponse")

    # when
    listing = client.get(SURVEYS)
    searched = client.get(SURVEYS, {"q": "lambat"}).context["cl"].result_count
    detail = client.get(f"{SURVEYS}{response.pk}/change/").content.decode()

    # then
    assert COMMENT not in listing.content.decode()
    assert "*** (23 characters)" in listing.content.decode()
    assert searched == 0
    assert COMMENT not in detail


def test_survey_comments_shown_with_personal_data_permission(client):
    SurveyResponseFactory(comment=COMMENT)
    _staff(client, "view_surveyresponse", "view_personal_data")
    assert COMMENT in client.get(SURVEYS).content.decode()


def test_survey_list_is_owner_scoped_for_contacts(client):
    # given: a rep sees answers through their own contacts and through chat contacts
    rep = _staff(client, "view_surveyresponse")
    mine = SurveyResponseFactory(contact=ContactFactory(owner=rep), chat_contact=None)
    SurveyResponseFactory(contact=ContactFactory(owner=UserFactory()), chat_contact=None)
    by_chat = SurveyResponseFactory(chat_contact=ChatContactFactory())

    # when
    shown = {r.pk for r in client.get(SURVEYS).context["cl"].result_list}

    # then
    assert shown == {mine.pk, by_chat.pk}
