"""GET /api/v1/insights/service/: METRICS.md S formatted as CONTRACT.md section 4 says."""

from datetime import timedelta

import pytest

from insights.service import HEADLINE_FIELDS
from tests.factories import ChatContactFactory, ChatRoomFactory, SurveyResponseFactory
from tests.insights.build import customer, rebuild

from .conftest import at

URL = "/api/v1/insights/service/"
QUERY = {"start": "2026-01-10", "end": "2026-01-11", "granularity": "day"}


@pytest.fixture
def seeded(db):
    """P = 10-11 Jan: two WhatsApp rooms (Budi), one Email room (no agent); P' = 8-9 Jan: one."""
    person = customer("2026-01-01")
    wa = ChatContactFactory(customer=person.customer, channel="WhatsApp")
    mail = ChatContactFactory(customer=customer("2026-01-01").customer, channel="Email")
    for chat, opened, first, resolved, agent, csat in (
        (wa, "2026-01-10 09:00", 60, 600, "Budi", 5),
        (wa, "2026-01-20 09:00", 60, 600, "Budi", 5),  # after P, 10 days later: keeps FCR
        (wa, "2026-01-11 09:00", 120, None, "Budi", None),
        (mail, "2026-01-10 12:00", 3600, 7200, "", 2),
        (mail, "2026-01-08 12:00", 1800, 3600, "Sari", 4),
    ):
        start = at(opened)
        ChatRoomFactory(
            chat_contact=chat,
            created_at=start,
            first_response_at=start + timedelta(seconds=first),
            resolved_at=start + timedelta(seconds=resolved) if resolved else None,
            agent=agent,
            csat_score=csat,
        )
    for score in (10, 9, 3):
        SurveyResponseFactory(chat_contact=wa, kind="nps", score=score, created_at=at("2026-01-10"))
    SurveyResponseFactory(contact=person, chat_contact=None, kind="ces", score=3,
                          created_at=at("2026-01-11"))  # fmt: skip
    rebuild()


def test_service_hand_computed(api, seeded):
    # when
    body = api.get(URL, QUERY).json()

    # then
    headline = {
        "rooms": 3,
        "resolved_rooms": 2,
        "resolution_pct": "66.67",
        "median_first_response_s": 120,
        "p90_first_response_s": 3600,
        "median_resolution_s": 600,
        "p90_resolution_s": 7200,
        "rated_rooms": 2,
        "csat_avg": "3.50",
        "csat_pct": "50.00",
        "fcr_pct": "50.00",
        "nps_responses": 3,
        "nps": "33.33",
        "ces_responses": 1,
        "ces_avg": "3.00",
    }
    assert {name: body[name] for name in headline} == headline
    assert (body["nps_promoters"], body["nps_passives"], body["nps_detractors"]) == (2, 0, 1)
    assert body["period"]["granularity"] == "day"
    section_s = ("label", *headline)
    rows = [{k: v for k, v in row.items() if k in section_s and not k.startswith(("nps", "ces"))}
            for row in body["by_channel"]]  # fmt: skip
    assert rows == [
        {"label": "WhatsApp", "rooms": 2, "resolved_rooms": 1, "resolution_pct": "50.00",
         "median_first_response_s": 60, "p90_first_response_s": 120,
         "median_resolution_s": 600, "p90_resolution_s": 600, "rated_rooms": 1,
         "csat_avg": "5.00", "csat_pct": "100.00", "fcr_pct": "0.00"},
        {"label": "Email", "rooms": 1, "resolved_rooms": 1, "resolution_pct": "100.00",
         "median_first_response_s": 3600, "p90_first_response_s": 3600,
         "median_resolution_s": 7200, "p90_resolution_s": 7200, "rated_rooms": 1,
         "csat_avg": "2.00", "csat_pct": "0.00", "fcr_pct": "100.00"},
    ]  # fmt: skip
    assert [(row["label"], row["rooms"]) for row in body["by_agent"]] == [
        ("Budi", 2),
        ("Unassigned", 1),
    ]
    assert body["trend"] == [
        {"start": "2026-01-10", "end": "2026-01-10", "rooms": 2, "median_resolution_s": 600},
        {"start": "2026-01-11", "end": "2026-01-11", "rooms": 1, "median_resolution_s": 0},
    ]
    # P' = 8-9 Jan: one Email room by Sari, resolved in 3600 s, CSAT 4, no surveys
    assert body["previous"]["rooms"] == 1
    assert body["previous"]["median_resolution_s"] == 3600
    assert body["previous"]["csat_avg"] == "4.00"
    assert body["change_pct"]["rooms"] == "200.00"
    assert body["change_pct"]["median_resolution_s"] == "-83.33"
    assert body["change_pct"]["csat_avg"] == "-12.50"
    assert body["change_pct"]["nps"] is None
    assert set(body["change_pct"]) == set(HEADLINE_FIELDS) == set(body["previous"])
    assert set(headline) < set(HEADLINE_FIELDS)


def test_service_bad_granularity_names_the_parameter(api, seeded):
    response = api.get(URL, {**QUERY, "granularity": "hour"})
    assert response.status_code == 400
    assert "granularity" in response.json()["errors"]


@pytest.mark.django_db
def test_service_needs_the_insights_permission(client):
    assert client.get(URL).status_code in (401, 403)
