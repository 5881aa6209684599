"""GET /api/v1/insights/service/ carries METRICS.md §L: hand-computed targets, business time,
backlog and surveys per label (Jakarta; business hours mon-fri 08:00-17:00)."""

from datetime import timedelta

import pytest

from chats.models import Holiday, ServiceTarget
from insights.service import service_figures
from tests.factories import ChatContactFactory, ChatRoomFactory, SurveyResponseFactory
from tests.insights.build import customer, period, rebuild

from .conftest import at

URL = "/api/v1/insights/service/"
QUERY = {"start": "2026-01-10", "end": "2026-01-12", "granularity": "day"}
NOW = at("2026-01-12 10:00")  # a Monday; 10-11 Jan is a weekend


def _room(chat, opened, *, first=None, resolved=None, agent=""):
    start = at(opened)
    return ChatRoomFactory(
        chat_contact=chat,
        created_at=start,
        first_response_at=None if first is None else start + timedelta(seconds=first),
        resolved_at=None if resolved is None else start + timedelta(seconds=resolved),
        agent=agent,
    )


@pytest.fixture
def seeded(db):
    # WhatsApp: 2 min to reply, 10 min to resolve, calendar time. LINE: its own row, with no
    # first-reply target (the default does not fill it in). Every other channel (Email): one
    # business hour to reply, no resolution target.
    ServiceTarget.objects.create(channel="WhatsApp", first_response_s=120, resolution_s=600)
    ServiceTarget.objects.create(channel="LINE", resolution_s=86400)
    ServiceTarget.objects.create(channel="", first_response_s=3600, clock="business")
    person = customer("2026-01-01").customer
    wa = ChatContactFactory(customer=person, channel="WhatsApp")
    mail = ChatContactFactory(customer=person, channel="Email")
    line = ChatContactFactory(customer=person, channel="LINE")
    telegram = ChatContactFactory(customer=person, channel="Telegram")
    rooms = {
        # met (60 s), resolved exactly on the target (600 s): met
        "wa1": _room(wa, "2026-01-10 09:00", first=60, resolved=600, agent="Budi"),
        # replied exactly on the target: met; unresolved 25 h at now: resolution breached
        "wa2": _room(wa, "2026-01-11 09:00", first=120, agent="Budi"),
        # Saturday noon, replied an hour later: 0 business seconds, met (calendar: on target)
        "m1": _room(mail, "2026-01-10 12:00", first=3600, resolved=7200),
        # Saturday 20:00, answered Monday 08:05: 300 business seconds, met (calendar: late)
        "m2": _room(mail, "2026-01-10 20:00", first=36 * 3600 + 300),
        # Sunday 10:00, no reply: 2 business hours at now, breached
        "m3": _room(mail, "2026-01-11 10:00"),
        # Monday 09:30, no reply: 30 business minutes, pending
        "m4": _room(mail, "2026-01-12 09:30"),
        # Monday 09:45, replied 10:30, after now: no reply yet, pending
        "m5": _room(mail, "2026-01-12 09:45", first=2700),
        # Monday 09:00, no reply: exactly the target has passed, still pending
        "m6": _room(mail, "2026-01-12 09:00"),
        # resolved after exactly one day: met; no first-reply target
        "line1": _room(line, "2026-01-10 09:00", resolved=86400, agent="Sari"),
        # before P, still open: in the backlog, over 7 days
        "old": _room(mail, "2026-01-02 09:00"),
        # before P, resolved; an answer in P names it
        "tg": _room(telegram, "2026-01-02 09:00", first=10, resolved=20, agent="Rina"),
    }
    for room, kind, score, answered in (
        ("wa1", "nps", 10, "2026-01-10 11:00"),
        ("old", "nps", 3, "2026-01-11 11:00"),
        ("m3", "ces", 5, "2026-01-12 09:00"),
        ("tg", "nps", 9, "2026-01-11 12:00"),
    ):
        SurveyResponseFactory(chat_contact=rooms[room].chat_contact, chat_room=rooms[room],
                              kind=kind, score=score, created_at=at(answered))  # fmt: skip
    rebuild(now=NOW)
    return rooms


def test_service_levels_hand_computed(api, seeded):
    body = api.get(URL, QUERY).json()

    assert body["rooms"] == 9
    levels = {
        "first_response_met": 4,  # wa1, wa2, m1, m2
        "first_response_breached": 1,  # m3
        "first_response_pending": 3,  # m4, m5, m6
        "first_response_met_pct": "80.00",
        "resolution_met": 2,  # wa1, line1
        "resolution_breached": 1,  # wa2
        "resolution_pending": 0,
        "resolution_met_pct": "66.67",
        # business first replies: wa1 0, wa2 0, m1 0, m2 300, m5 2700 (ranks 3 and 5 of 5)
        "median_first_response_business_s": 0,
        "p90_first_response_business_s": 2700,
        "open_rooms": 7,  # wa2, m2, m3, m4, m5, m6, old
    }
    assert {name: body[name] for name in levels} == levels
    # m4 30 min, m5 15 min; m6 exactly 1 h; wa2 25 h, m2 38 h, m3 exactly 24 h; old 10 days
    assert body["backlog_age"] == {"under_1h": 2, "1h_24h": 1, "1d_7d": 3, "over_7d": 1}
    assert body["computed_at"] == "2026-01-12T10:00:00+07:00"
    assert (body["nps_responses"], body["nps"], body["ces_responses"]) == (3, "33.33", 1)

    channels = {row["label"]: row for row in body["by_channel"]}
    assert [row["label"] for row in body["by_channel"]] == ["Email", "WhatsApp", "LINE", "Telegram"]
    pick = ("rooms", "first_response_met", "first_response_breached", "first_response_pending",
            "first_response_met_pct", "resolution_met", "resolution_breached",
            "resolution_pending", "resolution_met_pct", "nps_responses", "nps",
            "ces_responses", "ces_avg")  # fmt: skip
    rows = {label: tuple(row[name] for name in pick) for label, row in channels.items()}
    assert rows == {
        "Email": (6, 2, 1, 3, "66.67", 0, 0, 0, "0.00", 1, "-100.00", 1, "5.00"),
        "WhatsApp": (2, 2, 0, 0, "100.00", 1, 1, 0, "50.00", 1, "100.00", 0, "0.00"),
        "LINE": (1, 0, 0, 0, "0.00", 1, 0, 0, "100.00", 0, "0.00", 0, "0.00"),
        # answers naming a room opened before P: a row whose room figures are 0
        "Telegram": (0, 0, 0, 0, "0.00", 0, 0, 0, "0.00", 1, "100.00", 0, "0.00"),
    }
    agents = {row["label"]: (row["rooms"], row["first_response_met"], row["nps_responses"])
              for row in body["by_agent"]}  # fmt: skip
    assert agents == {"Unassigned": (6, 2, 1), "Budi": (2, 2, 1), "Sari": (1, 0, 0),
                      "Rina": (0, 0, 1)}  # fmt: skip
    # The comparison covers the §L headline figures but open_rooms.
    assert "first_response_met_pct" in body["change_pct"]
    assert "median_first_response_business_s" in body["previous"]
    assert "open_rooms" not in body["change_pct"] and "backlog_age" not in body["previous"]


def test_the_calendar_side_of_a_business_hours_target(seeded):
    figures = service_figures(period=period("2026-01-10", "2026-01-12"))

    # Calendar time: m2 (36 h) and m3 (24 h) late, m1 exactly on the hour: 3 met of 5.
    assert str(figures.by_channel[0].first_response_cal_met_pct) == "33.33"  # Email: m1 of 3
    assert str(figures.first_response_cal_met_pct) == "60.00"
    assert figures.business_clock is True


def test_a_holiday_moves_business_time(db):
    ServiceTarget.objects.create(channel="", first_response_s=600, clock="business")
    Holiday.objects.create(date=at("2026-01-12").date(), name="Libur")
    chat = ChatContactFactory(customer=customer("2026-01-01").customer, channel="Email")
    # Saturday 20:00, answered Tuesday 08:05 (Monday is a holiday): 300 business seconds.
    _room(chat, "2026-01-10 20:00", first=(2 * 24 + 12) * 3600 + 300)
    # Friday 16:55, answered Tuesday 08:06: 5 + 6 minutes = 660 s, over the 600 s target.
    _room(chat, "2026-01-09 16:55", first=(3 * 24 + 15) * 3600 + 11 * 60)
    rebuild(now=at("2026-01-14 10:00"))

    figures = service_figures(period=period("2026-01-09", "2026-01-10"))

    assert (figures.first_response_met, figures.first_response_breached) == (1, 1)
    assert sorted([figures.median_first_response_business_s,
                   figures.p90_first_response_business_s]) == [300, 660]  # fmt: skip
