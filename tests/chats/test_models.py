"""Validation of chat rooms and survey responses: model clean() and the database checks."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from chats.models import SurveyResponse
from privacy.erasure import customer_erase
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    ContactFactory,
    CustomerFactory,
    SurveyResponseFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_room_times_before_opening_fail_validation():
    room = ChatRoomFactory.build(chat_contact=ChatContactFactory())
    room.first_response_at = room.created_at - timedelta(seconds=1)
    room.resolved_at = room.created_at - timedelta(seconds=1)
    with pytest.raises(ValidationError) as error:
        room.full_clean()
    assert set(error.value.message_dict) == {"first_response_at", "resolved_at"}
    room.first_response_at = room.resolved_at = room.created_at
    room.full_clean()


@pytest.mark.parametrize(
    ("kind", "score", "valid"),
    [("nps", 0, True), ("nps", 10, True), ("nps", 11, False), ("ces", 1, True),
     ("ces", 7, True), ("ces", 0, False), ("ces", 8, False)],
)  # fmt: skip
def test_survey_score_range_depends_on_kind(kind, score, valid):
    response = SurveyResponseFactory.build(
        kind=kind, score=score, chat_contact=ChatContactFactory()
    )
    if valid:
        response.full_clean()
    else:
        with pytest.raises(ValidationError) as error:
            response.full_clean()
        assert "score" in error.value.message_dict


def test_survey_needs_exactly_one_record_in_clean_and_in_the_database():
    both = SurveyResponseFactory.build(contact=ContactFactory(), chat_contact=ChatContactFactory())
    with pytest.raises(ValidationError):
        both.full_clean()
    with pytest.raises(IntegrityError):
        SurveyResponseFactory(contact=None, chat_contact=None)


def test_survey_score_outside_kind_range_is_refused_by_the_database():
    with pytest.raises(IntegrityError):
        SurveyResponseFactory(kind="ces", score=9)


def test_survey_belongs_to_the_customer_of_its_record_and_is_erased_with_it():
    # given: one customer with a CRM contact and a chat contact, one answer through each
    person = CustomerFactory()
    contact = ContactFactory(customer=person)
    chat = ChatContactFactory(customer=person)
    by_contact = SurveyResponseFactory(contact=contact, chat_contact=None)
    by_chat = SurveyResponseFactory(chat_contact=chat)
    kept = SurveyResponseFactory(chat_contact=ChatContactFactory(customer=CustomerFactory()))
    assert (by_contact.customer_id, by_chat.customer_id) == (person.pk, person.pk)

    # when
    customer_erase(customer=person, erased_by=UserFactory())

    # then
    assert list(SurveyResponse.objects.values_list("pk", flat=True)) == [kept.pk]
