"""The service rollups equal a slow, direct reading of METRICS.md S on random data and periods."""

import math
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from chats.models import ChatRoom, SurveyResponse
from insights.periods import Period, local_date
from insights.service import service_figures
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


def _moment(rng: random.Random) -> datetime:
    # Whole minutes plus some microseconds: fractional seconds must be rounded down.
    return FIRST + timedelta(
        minutes=rng.randrange(0, 40 * 24 * 60), microseconds=rng.randrange(0, 10**6)
    )


def _build(rng: random.Random) -> None:
    for _ in range(8):
        person = CustomerFactory(first_seen_at=FIRST)
        chats = [
            ChatContactFactory(customer=person, channel=rng.choice(["WhatsApp", "Email", "LINE"]))
            for _ in range(rng.randrange(1, 3))
        ]
        for _ in range(rng.randrange(0, 7)):
            created = _moment(rng)
            later = [
                created + timedelta(seconds=rng.randrange(0, 9 * 86400), microseconds=micros)
                for micros in (rng.randrange(0, 10**6), rng.randrange(0, 10**6))
            ]
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
            )


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


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_service_figures_equal_a_direct_computation(seed):
    # given
    rng = random.Random(seed)
    _build(rng)
    rebuild()
    all_rooms = list(ChatRoom.objects.select_related("chat_contact"))
    surveys = list(SurveyResponse.objects.all())

    for _ in range(6):
        start = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 40))
        period = Period(start, start + timedelta(days=rng.randrange(0, 20)))

        # when
        figures = service_figures(period=period)

        # then
        rooms = [r for r in all_rooms if period.contains(local_date(r.created_at))]
        expected = _direct_rows(rooms, all_rooms)
        assert {name: getattr(figures, name) for name in expected} == expected
        for attribute, label_of in (
            ("by_channel", lambda r: r.chat_contact.channel),
            ("by_agent", lambda r: r.agent or "Unassigned"),
        ):
            labels = sorted({label_of(r) for r in rooms})
            direct = [
                {
                    "label": label,
                    **_direct_rows([r for r in rooms if label_of(r) == label], all_rooms),
                }
                for label in labels
            ]
            direct.sort(key=lambda row: (-row["rooms"], row["label"]))
            assert [row.__dict__ for row in getattr(figures, attribute)] == direct
        answered = [s for s in surveys if period.contains(local_date(s.created_at))]
        nps = [s.score for s in answered if s.kind == "nps"]
        ces = [s.score for s in answered if s.kind == "ces"]
        promoters = sum(1 for s in nps if s >= 9)
        detractors = sum(1 for s in nps if s <= 6)
        assert (figures.nps_responses, figures.nps) == (
            len(nps),
            ratio(promoters - detractors, len(nps), 100),
        )
        assert (figures.ces_responses, figures.ces_avg) == (len(ces), ratio(sum(ces), len(ces)))
