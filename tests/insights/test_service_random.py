"""The service rollups equal a slow, direct reading of METRICS.md S and §L on random data and
periods: targets per channel and by default on both clocks, holidays, several business ranges a
day, responses stamped after the rebuild's now, survey answers naming their room."""

import math
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import override_settings

from chats.models import ChatRoom, Holiday, ServiceTarget, SurveyResponse
from insights import service
from insights.periods import Period, buckets, local_date
from insights.service import business_calendar, service_figures
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    CustomerFactory,
    SurveyResponseFactory,
)
from tests.insights.build import rebuild
from tests.insights.test_random import ratio

pytestmark = pytest.mark.django_db
FIRST = datetime(2026, 1, 1, tzinfo=UTC)
WEEK = timedelta(days=7)
SECOND = timedelta(seconds=1)  # timedelta // timedelta is exact floor division
# The rebuild's now: inside the data, so rooms are pending, late with no reply, or answered
# after it (which counts as no reply yet).
NOW = datetime(2026, 1, 28, 5, 17, 23, 250_000, tzinfo=UTC)
HOURS = "mon-fri 08:00-12:00,13:00-17:00;sat 09:00-13:00"


def _moment(rng: random.Random) -> datetime:
    # Whole minutes plus some microseconds: fractional seconds must be rounded down.
    return FIRST + timedelta(
        minutes=rng.randrange(0, 40 * 24 * 60), microseconds=rng.randrange(0, 10**6)
    )


def _build(rng: random.Random) -> None:
    for _ in range(14):
        person = CustomerFactory(first_seen_at=FIRST)
        chats = [
            ChatContactFactory(customer=person, channel=rng.choice(["WhatsApp", "Email", "LINE"]))
            for _ in range(rng.randrange(1, 3))
        ]
        for _ in range(rng.randrange(1, 9)):
            created = _moment(rng)
            later = [
                created
                + timedelta(seconds=rng.randrange(0, rng.choice([900, 3 * 3600, 9 * 86400])),
                            microseconds=micros)
                for micros in (rng.randrange(0, 10**6), rng.randrange(0, 10**6))
            ]  # fmt: skip
            if rng.random() < 0.25:  # opened shortly before now: pending, or just late
                created = NOW - timedelta(seconds=rng.randrange(0, 4 * 3600))
                later = [NOW + timedelta(seconds=rng.randrange(-600, 3600)) for _ in range(2)]
            ChatRoomFactory(
                chat_contact=rng.choice(chats),
                created_at=created,
                first_response_at=rng.choice([None, later[0]]),
                resolved_at=rng.choice([None, later[1], later[1]]),
                agent=rng.choice(["", "Budi", "budi", "Sari"]),
                csat_score=rng.choice([None, 1, 2, 3, 4, 5]),
            )
        for _ in range(rng.randrange(0, 4)):
            kind = rng.choice(["nps", "ces"])
            SurveyResponseFactory(
                chat_contact=rng.choice(chats),
                kind=kind,
                score=rng.randrange(0, 11) if kind == "nps" else rng.randrange(1, 8),
                created_at=_moment(rng),
                chat_room=rng.choice([None, *ChatRoom.objects.filter(chat_contact__in=chats)]),
            )
    # WhatsApp on the calendar; LINE with its own row but no first-reply target; every other
    # channel (Email) by the default, in business hours.
    ServiceTarget.objects.create(channel="WhatsApp", first_response_s=3600, resolution_s=86400)
    ServiceTarget.objects.create(channel="LINE", resolution_s=2 * 86400, clock="business")
    ServiceTarget.objects.create(
        channel="", first_response_s=2 * 3600, resolution_s=5 * 3600, clock="business"
    )
    Holiday.objects.create(date=date(2026, 1, 16), name="Isra Mikraj")
    Holiday.objects.create(date=date(2026, 1, 29), name="Libur")


def _status(at, created, target, elapsed_now, duration) -> str | None:
    if target is None:
        return None
    if at is not None and at <= NOW:
        return "met" if duration(created, at) <= target else "breached"
    return "breached" if elapsed_now(created) > target else "pending"


def _direct_levels(rooms: list[ChatRoom], calendar) -> dict:
    targets = {t.channel: t for t in ServiceTarget.objects.all()}
    counts = {f"{kind}_{status}": 0 for kind in ("first_response", "resolution")
              for status in ("met", "breached", "pending")}  # fmt: skip
    for room in rooms:
        target = targets.get(room.chat_contact.channel, targets.get(""))
        if target.clock == "business":
            duration = calendar.business_seconds
        else:

            def duration(a, b):
                return (b - a) // SECOND

        for kind, at, seconds in (
            ("first_response", room.first_response_at, target.first_response_s),
            ("resolution", room.resolved_at, target.resolution_s),
        ):
            status = _status(at, room.created_at, seconds, lambda c, d=duration: d(c, NOW),
                             duration)  # fmt: skip
            if status:
                counts[f"{kind}_{status}"] += 1
    for kind in ("first_response", "resolution"):
        met, breached = counts[f"{kind}_met"], counts[f"{kind}_breached"]
        counts[f"{kind}_met_pct"] = ratio(met, met + breached, 100)
    return counts


def _direct_surveys(answers: list[SurveyResponse]) -> dict:
    nps = [s.score for s in answers if s.kind == "nps"]
    ces = [s.score for s in answers if s.kind == "ces"]
    promoters = sum(1 for s in nps if s >= 9)
    detractors = sum(1 for s in nps if s <= 6)
    return {
        "nps_responses": len(nps),
        "nps": ratio(promoters - detractors, len(nps), 100),
        "ces_responses": len(ces),
        "ces_avg": ratio(sum(ces), len(ces)),
    }


def _percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[math.ceil(round(q * len(ordered), 9)) - 1] if ordered else 0


def _direct_rows(rooms: list[ChatRoom], all_rooms: list[ChatRoom]) -> dict:
    first = [(r.first_response_at - r.created_at) // SECOND for r in rooms if r.first_response_at]
    resolution = [(r.resolved_at - r.created_at) // SECOND for r in rooms if r.resolved_at]
    resolved = [r for r in rooms if r.resolved_at]
    rated = [r.csat_score for r in rooms if r.csat_score]
    fcr = [
        r
        for r in resolved
        if not any(
            o.pk != r.pk
            and o.chat_contact.customer_id == r.chat_contact.customer_id
            and r.resolved_at < o.created_at <= r.resolved_at + WEEK
            for o in all_rooms
        )
    ]
    return {
        "rooms": len(rooms),
        "resolved_rooms": len(resolved),
        "resolution_pct": ratio(len(resolved), len(rooms), 100),
        "median_first_response_s": _percentile(first, 0.5),
        "p90_first_response_s": _percentile(first, 0.9),
        "median_resolution_s": _percentile(resolution, 0.5),
        "p90_resolution_s": _percentile(resolution, 0.9),
        "rated_rooms": len(rated),
        "csat_avg": ratio(sum(rated), len(rated)),
        "csat_pct": ratio(sum(1 for s in rated if s >= 4), len(rated), 100),
        "fcr_pct": ratio(len(fcr), len(resolved), 100),
    }


ROW_FIELDS = (
    "label", "rooms", "resolved_rooms", "resolution_pct", "median_first_response_s",
    "p90_first_response_s", "median_resolution_s", "p90_resolution_s", "rated_rooms", "csat_avg",
    "csat_pct", "fcr_pct", "first_response_met", "first_response_breached",
    "first_response_pending", "first_response_met_pct", "resolution_met", "resolution_breached",
    "resolution_pending", "resolution_met_pct", "nps_responses", "nps", "ces_responses",
    "ces_avg",
)  # fmt: skip


@pytest.mark.parametrize(
    ("seed", "step"),
    # The rebuild's index step (insights.service.INDEX_STEP) as shipped, and so small that each
    # percentile is read from a few blocks of many runs (insights.engine.ranks).
    [(1, None), (2, None), (3, None), (4, 1), (5, 2), (6, 3)],
)
@override_settings(INSIGHTS_BUSINESS_HOURS=HOURS)
def test_service_figures_equal_a_direct_computation(seed, step, monkeypatch):
    # given
    rng = random.Random(seed)
    _build(rng)
    if step:
        monkeypatch.setattr(service, "INDEX_STEP", step)
    rebuild(now=NOW)
    all_rooms = list(ChatRoom.objects.select_related("chat_contact"))
    surveys = list(SurveyResponse.objects.select_related("chat_room__chat_contact"))
    calendar = business_calendar(first=date(2025, 12, 1), last=date(2026, 3, 31))
    seen = dict.fromkeys(("first_response_met", "first_response_breached",
                          "first_response_pending", "resolution_met", "resolution_breached",
                          "resolution_pending", "open_rooms"), 0)  # fmt: skip

    for _ in range(8):
        # Short periods, and long ones over whole months (read from the month runs) and their
        # edge days, with every trend granularity.
        start = date(2026, 1, 1) + timedelta(days=rng.randrange(-40, 40))
        period = Period(start, start + timedelta(days=rng.choice([0, 3, 19, 45, 80])))
        granularity = rng.choice(["auto", "day", "week", "month"])

        # when
        figures = service_figures(period=period, granularity=granularity)

        # then
        assert figures.now == NOW
        rooms = [r for r in all_rooms if period.contains(local_date(r.created_at))]
        expected = {**_direct_rows(rooms, all_rooms), **_direct_levels(rooms, calendar)}
        business = [calendar.business_seconds(r.created_at, r.first_response_at)
                    for r in rooms if r.first_response_at]  # fmt: skip
        expected["median_first_response_business_s"] = _percentile(business, 0.5)
        expected["p90_first_response_business_s"] = _percentile(business, 0.9)
        assert {name: getattr(figures, name) for name in expected} == expected
        trend = []
        for part in buckets(period, granularity):
            mine = [r for r in rooms if part.contains(local_date(r.created_at))]
            resolution = [(r.resolved_at - r.created_at) // SECOND for r in mine if r.resolved_at]
            trend.append((part.start, part.end, len(mine), _percentile(resolution, 0.5)))
        assert [(b.start, b.end, b.rooms, b.median_resolution_s) for b in figures.trend] == trend
        answered = [s for s in surveys if period.contains(local_date(s.created_at))]
        for attribute, label_of in (
            ("by_channel", lambda r: r.chat_contact.channel),
            ("by_agent", lambda r: r.agent or "Unassigned"),
        ):
            rated = [s for s in answered if s.chat_room_id]
            labels = sorted({label_of(r) for r in rooms} | {label_of(s.chat_room) for s in rated})
            direct = []
            for label in labels:
                mine = [r for r in rooms if label_of(r) == label]
                direct.append({
                    "label": label,
                    **_direct_rows(mine, all_rooms),
                    **_direct_levels(mine, calendar),
                    **_direct_surveys([s for s in rated if label_of(s.chat_room) == label]),
                })  # fmt: skip
            direct.sort(key=lambda row: (-row["rooms"], row["label"]))
            got = [{name: getattr(row, name) for name in ROW_FIELDS}
                   for row in getattr(figures, attribute)]  # fmt: skip
            assert got == [{name: row[name] for name in ROW_FIELDS} for row in direct]
        assert {
            name: getattr(figures, name)
            for name in ("nps_responses", "nps", "ces_responses", "ces_avg")
        } == _direct_surveys(answered)
        # Open rooms at now, whatever the period, by age (a bound belongs to the older bucket).
        open_rooms = [r for r in all_rooms if r.created_at <= NOW
                      and (r.resolved_at is None or r.resolved_at > NOW)]  # fmt: skip
        ages = [NOW - r.created_at for r in open_rooms]
        hour, day = timedelta(hours=1), timedelta(days=1)
        assert figures.open_rooms == len(open_rooms)
        for name in seen:
            seen[name] += getattr(figures, name)
        assert figures.backlog_age == {
            "under_1h": sum(1 for a in ages if a < hour),
            "1h_24h": sum(1 for a in ages if hour <= a < day),
            "1d_7d": sum(1 for a in ages if day <= a < 7 * day),
            "over_7d": sum(1 for a in ages if a >= 7 * day),
        }
    # The data reach every case (else the comparison above proves little).
    assert all(seen.values()), seen
