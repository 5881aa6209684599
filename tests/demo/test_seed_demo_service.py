"""Demo data for the service figures: channel-dependent times, agents, unresolved rooms, surveys."""

from datetime import date

import pytest

from chats.models import ChatRoom, Holiday, ServiceTarget, SurveyResponse
from demo.seed import demo_seed
from insights.periods import Period
from insights.service import service_figures
from tests.insights.build import rebuild

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 15)


def test_demo_rooms_and_surveys_look_like_a_real_inbox():
    # given
    counts = demo_seed(people=400, seed=7, today=TODAY)
    rebuild()

    # when
    figures = service_figures(period=Period(date(2024, 1, 1), TODAY))

    # then: WhatsApp answers and resolves faster than email
    by_channel = {row.label: row for row in figures.by_channel}
    assert (
        by_channel["WhatsApp"].median_first_response_s < by_channel["Email"].median_first_response_s
    )
    assert by_channel["WhatsApp"].median_resolution_s < by_channel["Email"].median_resolution_s
    # several agents, some rooms unassigned, some unresolved, none answered before opening
    assert len(figures.by_agent) >= 5 and "Unassigned" in {row.label for row in figures.by_agent}
    assert 0 < figures.resolved_rooms < figures.rooms
    assert not [
        room
        for room in ChatRoom.objects.all()
        if (room.first_response_at and room.first_response_at < room.created_at)
        or (room.resolved_at and room.resolved_at < room.created_at)
    ]
    # surveys of both kinds, some through CRM contacts, with Indonesian comments
    assert counts["survey_responses"] == SurveyResponse.objects.count() > 0
    assert figures.nps_responses > 0 and figures.ces_responses > 0
    assert SurveyResponse.objects.filter(contact__isnull=False).exists()
    assert SurveyResponse.objects.filter(comment__icontains="lama").exists()


def test_demo_has_service_targets_holidays_and_answers_naming_their_room():
    # given
    demo_seed(people=300, seed=7, today=TODAY)
    rebuild()

    # when
    figures = service_figures(period=Period(date(2024, 1, 1), TODAY))

    # then: a business-hours target among the targets, holidays of two years
    assert ServiceTarget.objects.filter(clock="business").exists()
    assert ServiceTarget.objects.filter(channel="").exists()
    assert {d.year for d in Holiday.objects.values_list("date", flat=True)} == {2025, 2026}
    assert SurveyResponse.objects.filter(chat_room__isnull=False).exists()
    assert figures.first_response_met and figures.first_response_breached
    assert figures.business_clock
    assert sum(row.nps_responses + row.ces_responses for row in figures.by_channel) == (
        SurveyResponse.objects.filter(chat_room__isnull=False, created_at__date__lte=TODAY).count()
    )
