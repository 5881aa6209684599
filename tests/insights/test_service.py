"""METRICS.md S (customer service) pinned by small hand-computed cases."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest

from insights.comparison import headline_comparison
from insights.models import ServiceDayGroup, ServiceRoomFact
from insights.service import (
    ServiceBucket,
    ServiceRow,
    nearest_rank,
    service_figures,
)
from tests.factories import ChatContactFactory, ChatRoomFactory, SurveyResponseFactory
from tests.insights.build import at, customer, period, rebuild

pytestmark = pytest.mark.django_db
D = Decimal


def _chat(contact=None, channel="WhatsApp"):
    person = contact.customer if contact is not None else None
    return ChatContactFactory(customer=person, channel=channel)


def _room(chat, created, *, first=None, resolved=None, agent="", csat=None):
    opened = at(created) if isinstance(created, str) else created
    return ChatRoomFactory(
        chat_contact=chat,
        created_at=opened,
        first_response_at=opened + timedelta(seconds=first) if first is not None else None,
        resolved_at=opened + timedelta(seconds=resolved) if resolved is not None else None,
        agent=agent,
        csat_score=csat,
    )


def test_nearest_rank_in_integers():
    # ceil(0.9 x 70) is 63; 0.9 * 70 in floating point is 63.000000000000007
    assert nearest_rank(70, 9, 10) == 63
    assert [nearest_rank(n, 1, 2) for n in (1, 2, 3, 4, 5)] == [1, 1, 2, 2, 3]
    assert [nearest_rank(n, 9, 10) for n in (1, 9, 10, 11)] == [1, 9, 9, 10]


def test_percentiles_odd_and_even_counts_and_fractional_seconds():
    # given: one WhatsApp chat with three rooms, one Email chat with four
    wa = _chat(customer("2026-01-01"), "WhatsApp")
    mail = _chat(customer("2026-01-01"), "Email")
    _room(wa, "2026-01-10 09:00", first=30, resolved=600.9, agent="Budi", csat=5)
    _room(wa, "2026-01-10 10:00", first=9.4, resolved=100, agent="Budi", csat=3)
    _room(wa, "2026-01-11 10:00", first=60, agent="budi")
    _room(mail, "2026-01-12 10:00", first=400, resolved=4000, agent="Sari", csat=4)
    _room(mail, "2026-01-12 11:00", first=100, resolved=1000, agent="Sari", csat=2)
    _room(mail, "2026-01-12 12:00", first=300, resolved=3000, agent="Sari")
    _room(mail, "2026-01-12 13:00", first=200, resolved=2000)
    rebuild()

    # when
    figures = service_figures(period=period("2026-01-10", "2026-01-12"), granularity="day")

    # then: first responses 9 30 60 100 200 300 400 -> median rank 4 (100), p90 rank 7 (400)
    assert (figures.rooms, figures.resolved_rooms, figures.resolution_pct) == (7, 6, D("85.71"))
    assert (figures.median_first_response_s, figures.p90_first_response_s) == (100, 400)
    # resolutions 100 600 1000 2000 3000 4000 (600.9 s rounds down): ranks 3 and 6
    assert (figures.median_resolution_s, figures.p90_resolution_s) == (1000, 4000)
    # CSAT 5, 3, 4, 2: mean 3.5, two of four at 4 or 5
    assert (figures.rated_rooms, figures.csat_avg, figures.csat_pct) == (4, D("3.50"), D("50.00"))
    # every resolved room is alone in its customer's next 7 days, except the first WhatsApp
    # room: the 10:00 room opened before it was resolved, the 11 Jan room within 7 days.
    # Room 1 resolved 09:10, next opening after it 10:00 -> not FCR; room 2 resolved 10:01:40,
    # next opening 11 Jan -> not FCR. Email: room 4 resolved 11:06:40, room 5 opened 11:00
    # (before), room 6 opened 12:00 -> not FCR; room 5 resolved 11:16:40 -> 12:00 -> not;
    # room 6 resolved 12:50 -> 13:00 -> not; room 7 -> none after -> FCR.
    assert figures.fcr_pct == D("16.67")
    assert figures.by_channel == [
        ServiceRow("Email", 4, 4, D("100.00"), 200, 400, 2000, 4000, 2, D("3.00"), D("50.00"),
                   D("25.00")),
        ServiceRow("WhatsApp", 3, 2, D("66.67"), 30, 60, 100, 600, 2, D("4.00"), D("50.00"),
                   D("0.00")),
    ]  # fmt: skip
    # agents as written (Budi and budi are two labels), blank is Unassigned; rooms desc, label
    assert [(r.label, r.rooms) for r in figures.by_agent] == [
        ("Sari", 3),
        ("Budi", 2),
        ("Unassigned", 1),
        ("budi", 1),
    ]
    unassigned = figures.by_agent[2]
    assert (unassigned.median_resolution_s, unassigned.fcr_pct) == (2000, D("100.00"))
    assert figures.trend == [
        ServiceBucket(date(2026, 1, 10), date(2026, 1, 10), 2, 100),
        ServiceBucket(date(2026, 1, 11), date(2026, 1, 11), 1, 0),
        ServiceBucket(date(2026, 1, 12), date(2026, 1, 12), 4, 2000),
    ]


def test_durations_past_32_bits_are_kept_exact():
    # given: one room resolved 2**31 + 5 s (about 68 years) after it opened; the per-day
    # duration runs then switch from 4 to 8 bytes a value
    chat = _chat(customer("2026-01-01"))
    _room(chat, "2026-01-10 09:00", first=2**31 + 7, resolved=2**31 + 5)
    _room(chat, "2026-01-10 10:00", first=10, resolved=20)
    _room(chat, "2026-01-10 11:00", first=30, resolved=40)
    rebuild()

    # when
    figures = service_figures(period=period("2026-01-10", "2026-01-10"))

    # then: resolutions 20 40 2**31+5 -> median rank 2, p90 rank 3
    assert (figures.median_resolution_s, figures.p90_resolution_s) == (40, 2**31 + 5)
    assert (figures.median_first_response_s, figures.p90_first_response_s) == (30, 2**31 + 7)
    assert set(ServiceDayGroup.objects.values_list("width", flat=True)) == {8}


def test_room_at_2330_utc_is_the_next_day_in_jakarta():
    # given: 31 Jan 23:30 UTC is 1 Feb 06:30 in Jakarta
    chat = _chat(customer("2026-01-01"))
    _room(chat, datetime(2026, 1, 31, 23, 30, tzinfo=UTC), first=60)
    rebuild()

    # then
    assert ServiceRoomFact.objects.get().day == date(2026, 2, 1).toordinal()
    assert service_figures(period=period("2026-01-31", "2026-01-31")).rooms == 0
    assert service_figures(period=period("2026-02-01", "2026-02-01")).rooms == 1


def test_fcr_window_is_open_at_resolution_and_closed_at_seven_days():
    # given: two customers, each with a room resolved at R; A opens another exactly at R + 7 d
    # (inside (R, R + 7 d], so not FCR); B opens one at R + 7 d + 1 s (outside: FCR)
    a = _chat(customer("2026-01-01"))
    b = _chat(customer("2026-01-01"), "Email")
    a_other = ChatContactFactory(customer=a.customer, channel="Instagram")  # any channel counts
    first_a = _room(a, "2026-01-05 10:00", resolved=3600)
    first_b = _room(b, "2026-01-05 10:00", resolved=3600)
    _room(a_other, first_a.resolved_at + timedelta(days=7))
    _room(b, first_b.resolved_at + timedelta(days=7, seconds=1))
    # a room opened exactly at its sibling's resolution is not "after" it
    c = _chat(customer("2026-01-01"), "LINE")
    first_c = _room(c, "2026-01-05 10:00", resolved=60)
    _room(c, first_c.resolved_at)
    rebuild()

    # then
    facts = dict(ServiceRoomFact.objects.values_list("room_id", "fcr"))
    assert (facts[first_a.pk], facts[first_b.pk], facts[first_c.pk]) == (0, 1, 1)
    figures = service_figures(period=period("2026-01-05", "2026-01-05"))
    assert (figures.resolved_rooms, figures.fcr_pct) == (3, D("66.67"))


def test_nps_with_scores_6_7_8_9_and_ces():
    # given: a detractor (6), two passives (7, 8), a promoter (9); CES 2 and 5
    chat = _chat(customer("2026-01-01"))
    for score in (6, 7, 8, 9):
        SurveyResponseFactory(
            chat_contact=chat, kind="nps", score=score, created_at=at("2026-01-10")
        )
    SurveyResponseFactory(chat_contact=chat, kind="ces", score=2, created_at=at("2026-01-10"))
    SurveyResponseFactory(chat_contact=chat, kind="ces", score=5, created_at=at("2026-01-11"))
    SurveyResponseFactory(chat_contact=chat, kind="nps", score=10, created_at=at("2026-01-20"))
    rebuild()

    # when
    figures = service_figures(period=period("2026-01-10", "2026-01-11"))

    # then: 100 x (1 - 1) / 4 = 0; the 20 Jan promoter is outside P
    assert (figures.nps_responses, figures.nps) == (4, D("0.00"))
    assert (figures.nps_promoters, figures.nps_passives, figures.nps_detractors) == (1, 2, 1)
    assert (figures.ces_responses, figures.ces_avg) == (2, D("3.50"))


def test_zero_denominators_and_previous_period():
    # given: nothing in P = 10-11 Jan; the previous period 8-9 Jan has one unresolved room
    chat = _chat(customer("2026-01-01"))
    _room(chat, "2026-01-08", first=90)
    rebuild()

    # when
    figures = service_figures(period=period("2026-01-10", "2026-01-11"))
    compared = headline_comparison(
        section_key="service",
        options={"period": period("2026-01-10", "2026-01-11")},
        current=figures,
    )

    # then: every ratio over 0 is 0, percentiles of nothing are 0, change from 0 is null
    assert figures.rooms == 0
    assert (figures.resolution_pct, figures.csat_avg, figures.csat_pct) == (D(0), D(0), D(0))
    assert (figures.fcr_pct, figures.nps, figures.ces_avg) == (D(0), D(0), D(0))
    assert (figures.median_first_response_s, figures.p90_resolution_s) == (0, 0)
    assert figures.by_channel == [] and figures.by_agent == []
    assert compared["previous"]["rooms"] == 1
    assert compared["previous"]["median_first_response_s"] == 90
    assert compared["change_pct"]["rooms"] == D("-100.00")
    assert compared["change_pct"]["resolved_rooms"] is None  # no baseline


def test_rebuild_twice_gives_the_same_table():
    chat = _chat(customer("2026-01-01"))
    _room(chat, "2026-01-08", first=90, resolved=100, agent="Budi", csat=4)
    rebuild()
    first = list(ServiceRoomFact.objects.order_by("room_id").values())
    rebuild()
    assert list(ServiceRoomFact.objects.order_by("room_id").values()) == first
    section_s = ("room_id", "customer_id", "day", "channel", "agent", "first_response_s",
                 "resolution_s", "csat", "fcr")  # fmt: skip
    assert [{name: row[name] for name in section_s} for row in first] == [
        {
            "room_id": first[0]["room_id"],
            "customer_id": chat.customer_id,
            "day": date(2026, 1, 8).toordinal(),
            "channel": "WhatsApp",
            "agent": "Budi",
            "first_response_s": 90,
            "resolution_s": 100,
            "csat": 4,
            "fcr": 1,
        }
    ]


def test_percentiles_with_tied_durations():
    # given: first responses 5, 5, 5, 7 s and resolutions 5, 5, 5, 5 s
    chat = _chat(customer("2026-01-01"))
    for first in (5, 5, 5, 7):
        _room(chat, "2026-01-10 10:00", first=first, resolved=5)
    rebuild()

    # when
    figures = service_figures(period=period("2026-01-10", "2026-01-10"))

    # then: ranks 2 and 4 of 5 5 5 7; every rank of 5 5 5 5 is 5
    assert (figures.median_first_response_s, figures.p90_first_response_s) == (5, 7)
    assert (figures.median_resolution_s, figures.p90_resolution_s) == (5, 5)


@pytest.mark.cache_warm
def test_rebuild_warms_presets_up_to_the_limit_and_later_reads_are_cached(
    django_assert_max_num_queries, settings
):
    # given: the default warms every preset; a lower limit leaves longer presets to a request
    from insights.models import FigureCache
    from insights.periods import preset_period

    chat = _chat(customer("2026-01-01"))
    _room(chat, "2026-01-08", first=90)
    last_30 = preset_period("last_30_days", date(2026, 1, 20))
    last_90 = preset_period("last_90_days", date(2026, 1, 20))
    last_year = preset_period("last_year", date(2026, 1, 20))

    def warmed() -> list[str]:
        with mock.patch("insights.rebuild.local_today", return_value=date(2026, 1, 20)):
            rebuild()
        return list(
            FigureCache.objects.filter(key__contains="|service|").values_list("key", flat=True)
        )

    keys = warmed()
    assert any(f"|service|{last_year.start}|{last_year.end}|" in key for key in keys)
    settings.INSIGHTS_SERVICE_WARM_MAX_DAYS = 31
    keys = warmed()

    # then: last_30_days and its previous period are stored, last_90_days is not (first request)
    assert any(f"|service|{last_30.start}|{last_30.end}|" in key for key in keys)
    assert not any(f"|service|{last_90.start}|{last_90.end}|" in key for key in keys)
    with django_assert_max_num_queries(4):  # run id and cache row, for P and for P'
        assert service_figures(period=last_30).rooms == 1
