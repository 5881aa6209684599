"""Customer health (METRICS.md Q): every rule by hand, the stored table, the API, the backtest,
and random customers against a direct computation from the raw records."""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.test import override_settings

from common.health_weights import health_weights_parse
from insights import health
from insights.models import CustomerHealth, CustomerValue, CustomerValueFit
from insights.periods import local_today
from insights.rebuild import insights_rebuild
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    ContactFactory,
    DealFactory,
    StageFactory,
    SurveyResponseFactory,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/insights/health/"
LIST = "/api/v1/customers/"
WEIGHTS = {"purchase": 40.0, "recency": 30.0, "service": 15.0, "voice": 15.0}


def _at(days_ago: int, hour: int = 10):
    """A moment `days_ago` local days before today (Jakarta wall clock)."""
    from zoneinfo import ZoneInfo

    day = local_today() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour)).replace(tzinfo=ZoneInfo("Asia/Jakarta"))


class People:
    """Customers made of a CRM contact and a chat contact sharing an email."""

    def __init__(self) -> None:
        self.won = StageFactory(name="Won", outcome="won", default_win_probability=100)
        self.n = 0

    def person(self):
        self.n += 1
        email = f"orang{self.n}@contoh.id"
        contact = ContactFactory(email=email, created_at=_at(800))
        chat = ChatContactFactory(email=email, created_at=_at(800))
        return contact, chat

    def buy(self, contact, days_ago: int, amount: str = "100.00") -> None:
        DealFactory(contact=contact, stage=self.won, amount=Decimal(amount),
                    created_at=_at(days_ago), closed_at=_at(days_ago))  # fmt: skip

    def room(self, chat, days_ago: int, csat: int | None) -> None:
        ChatRoomFactory(chat_contact=chat, created_at=_at(days_ago), csat_score=csat)

    def nps(self, contact, days_ago: int, score: int, hour: int = 10) -> None:
        SurveyResponseFactory(contact=contact, chat_contact=None, kind="nps", score=score,
                              created_at=_at(days_ago, hour))  # fmt: skip


def _customer(contact) -> int:
    contact.refresh_from_db()
    return contact.customer_id


# --- The rules, pure --------------------------------------------------------------------------


def test_recency_steps():
    days = np.array([0, 30, 31, 90, 91, 180, 181, 365, 366, 5000], dtype=float)
    assert health.recency_score(days).tolist() == [100, 100, 75, 75, 50, 50, 25, 25, 0, 0]


def test_voice_steps():
    nps = np.array([10, 9, 8, 7, 6, 0, np.nan])
    got = health.voice_score(nps)
    assert got[:6].tolist() == [100, 100, 50, 50, 0, 0] and np.isnan(got[6])


@pytest.mark.parametrize(
    ("score", "band"),
    [(100, "healthy"), (70, "healthy"), (69, "attention"), (40, "attention"), (39, "at_risk"),
     (0, "at_risk")],
)  # fmt: skip
def test_band_boundaries_40_and_70(score, band):
    assert health.band_of(score) == band
    assert health.BANDS[int(health.bands(np.array([float(score)]))[0])] == band


def _one(weights, **components):
    values = {name: np.array([components.get(name, np.nan)], dtype=float) for name in WEIGHTS}
    return health.health_score(values, weights)[0]


def test_weighted_mean_of_the_components_present():
    # all four: (40·50 + 30·75 + 15·100 + 15·0) / 100 = 57.5 → 58 (half away from zero)
    assert _one(WEIGHTS, purchase=50, recency=75, service=100, voice=0) == 58
    # no rated room, no NPS: (40·50 + 30·75) / 70 = 60.71 → 61
    assert _one(WEIGHTS, purchase=50, recency=75) == 61
    # 42.5 exactly rounds up: (40·35 + 30·50) / 70 = 41.43 → 41; (40·55 + 30·25) / 70 = 42.14
    assert _one(WEIGHTS, purchase=35, recency=50) == 41
    # halves: purchase 62.5 alone under weights that leave the others out → 63
    assert _one({"purchase": 1.0, "recency": 0.0, "service": 0.0, "voice": 0.0},
                purchase=62.5, recency=0, service=0, voice=0) == 63  # fmt: skip


def test_weights_that_leave_a_component_out():
    # service weighs 0: (40·50 + 30·100 + 15·0) / 85 = 58.82 → 59, whatever the service is
    weights = health_weights_parse("purchase=40,recency=30,voice=15")
    assert weights["service"] == 0.0
    for service in (0, 100):
        assert _one(weights, purchase=50, recency=100, service=service, voice=0) == 59
    # only service and voice weigh: a customer with neither has no score
    only = health_weights_parse("service=1,voice=1")
    assert np.isnan(_one(only, purchase=50, recency=100))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("purchase=40,recency=x", "item 2 'recency=x': the weight must be a number"),
        ("purchase=40,mood=5", "unknown component"),
        ("purchase", "write name=weight"),
        ("purchase=-1", "0 or more"),
        ("purchase=1,purchase=2", "given twice"),
        ("purchase=0,recency=0", "at least one component"),
    ],
)
def test_bad_weights_say_what_and_where(text, words):
    with pytest.raises(ValueError, match=words):
        health_weights_parse(text)


def test_default_weights():
    assert health_weights_parse("purchase=40,recency=30,service=15,voice=15") == WEIGHTS


# --- By hand on records (the model not fitted: fewer than 10 repeat buyers, purchase 0) -------


def _hand_world():
    people = People()
    c1, _ = people.person()  # bought 10 days ago; no room, no NPS
    people.buy(c1, 10)
    c2, chat2 = people.person()  # bought 100 days ago; rated rooms; an NPS exactly 365 days old
    people.buy(c2, 100)
    for days, csat in ((5, 5), (60, 4), (179, 2), (180, 5), (20, None)):
        people.room(chat2, days, csat)  # 180 days ago is outside [A − 179, A]; unrated ignored
    people.nps(c2, 365, 10)
    c3, chat3 = people.person()  # bought 200 days ago; two NPS answers, the latest counts
    people.buy(c3, 200)
    people.nps(c3, 364, 9)
    people.nps(c3, 100, 7, hour=9)
    people.nps(c3, 100, 2, hour=8)  # earlier the same day: not the latest
    people.room(chat3, 179, 4)
    c4, _ = people.person()  # bought 400 days ago; a detractor 10 days ago
    people.buy(c4, 400)
    people.nps(c4, 10, 3)
    _nobody, chat5 = people.person()  # no buying day: not scored, whatever its rooms
    people.room(chat5, 3, 5)
    return c1, c2, c3, c4


def test_hand_computed_scores_stored_by_the_rebuild(api):
    # given
    c1, c2, c3, c4 = _hand_world()
    insights_rebuild(trigger="test")
    assert CustomerValueFit.objects.get().fitted is False  # purchase is 0 for everyone
    stored = {row.customer_id: row for row in CustomerHealth.objects.all()}
    # then
    assert len(stored) == 4
    one, two, three, four = (stored[_customer(c)] for c in (c1, c2, c3, c4))
    # (40·0 + 30·100) / 70 = 42.86 → 43
    assert (one.purchase, one.recency, one.service, one.voice) == (0, 100, None, None)
    assert (one.health, one.band) == (43, "attention")
    # service 100·2/3 (5, 4 high; 2 low); the NPS of exactly 365 days ago is out:
    # (30·50 + 15·66.67) / 85 = 29.41 → 29
    assert two.recency == 50 and two.service == pytest.approx(200 / 3) and two.voice is None
    assert (two.health, two.band) == (29, "at_risk")
    # voice 50 (the 7 at 9:00 is the latest answer), service 100 (rated 4, 179 days ago):
    # (30·25 + 15·100 + 15·50) / 100 = 30
    assert (three.recency, three.service, three.voice, three.health) == (25, 100, 50, 30)
    # (30·0 + 15·0) / 85 = 0
    assert (four.recency, four.service, four.voice, four.health) == (0, None, 0, 0)
    # and the API figures agree with the table
    body = api.get(URL, {"preset": "today"}).json()
    assert body["customers"] == 4
    assert body["avg_health"] == "25.50"  # (43 + 29 + 30 + 0) / 4
    assert [(b["band"], b["customers"], b["revenue"]) for b in body["by_band"]] == [
        ("healthy", 0, "0.00"),
        ("attention", 1, "100.00"),
        ("at_risk", 3, "300.00"),
    ]
    # detail: score, band and components; list: score and band
    detail = api.get(f"{LIST}{_customer(c2)}/").json()
    assert (detail["health"], detail["health_band"]) == (29, "at_risk")
    assert detail["health_components"] == {
        "purchase": 0.0,
        "recency": 50,
        "service": pytest.approx(200 / 3),
        "voice": None,
    }


@override_settings(INSIGHTS_HEALTH_WEIGHTS={"purchase": 0.0, "recency": 1.0, "service": 0.0,
                                            "voice": 0.0})  # fmt: skip
def test_weights_come_from_the_setting():
    c1, c2, c3, c4 = _hand_world()
    insights_rebuild(trigger="test")
    scores = health.health_scores(as_of=local_today())
    got = dict(zip(scores.ids.tolist(), scores.health.tolist(), strict=True))
    assert [got[_customer(c)] for c in (c1, c2, c3, c4)] == [100, 50, 25, 0]


def test_list_filter_ordering_and_detail(api):
    # given
    c1, c2, c3, c4 = _hand_world()
    insights_rebuild(trigger="test")

    def ids(**params):
        body = api.get(LIST, params).json()
        assert "results" in body, body
        return [row["id"] for row in body["results"]]

    # then
    assert ids(health="attention") == [_customer(c1)]
    assert sorted(ids(health="at_risk")) == sorted(_customer(c) for c in (c2, c3, c4))
    assert ids(health="healthy") == []
    ordered = ids(ordering="-health")
    assert ordered[:4] == [_customer(c) for c in (c1, c3, c2, c4)]  # 43, 30, 29, 0
    assert len(ordered) == 5  # the customer without a buying day sorts last
    row = api.get(LIST, {"health": "attention"}).json()["results"][0]
    assert (row["health"], row["health_band"]) == (43, "attention")
    bad = api.get(LIST, {"health": "sick"})
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["health"]


def test_health_endpoint_fields(api):
    _hand_world()
    insights_rebuild(trigger="test")
    body = api.get(URL).json()
    assert set(body) == {"period", "computed_at", "as_of", "customers", "avg_health", "by_band",
                         "backtest"}  # fmt: skip
    assert [row["band"] for row in body["by_band"]] == ["healthy", "attention", "at_risk"]
    assert api.get(URL, {"preset": "nope"}).status_code == 400


# --- Backtest ---------------------------------------------------------------------------------


def test_backtest_by_hand(api):
    # given: A0 = A − 90
    people = People()
    d1, _ = people.person()  # at A0 bought 10 days before: (30·100)/70 → 43 attention; bought again
    people.buy(d1, 100)
    people.buy(d1, 5)
    d2, _ = people.person()  # at A0 bought 210 days before: (30·25)/70 = 10.7 → 11 at risk
    people.buy(d2, 300)
    d3, _ = people.person()  # first bought after A0: not scored then
    people.buy(d3, 50)
    insights_rebuild(trigger="test")
    # when
    body = api.get(URL, {"preset": "today"}).json()
    # then
    backtest = body["backtest"]
    assert backtest["as_of"] == (local_today() - timedelta(days=90)).isoformat()
    assert backtest["by_band"] == [
        {"band": "healthy", "customers": 0, "bought_pct": "0.00"},
        {"band": "attention", "customers": 1, "bought_pct": "100.00"},
        {"band": "at_risk", "customers": 1, "bought_pct": "0.00"},
    ]


def test_backtest_null_when_nobody_had_bought_by_a0(api):
    people = People()
    d3, _ = people.person()
    people.buy(d3, 50)
    insights_rebuild(trigger="test")
    body = api.get(URL, {"preset": "today"}).json()
    assert body["customers"] == 1 and body["backtest"] is None


def test_another_as_of_date_reads_the_rollups_only(api, django_assert_max_num_queries):
    # given
    _hand_world()
    insights_rebuild(trigger="test")
    # when: an as-of date the rebuild did not compute; then: a few queries over the
    # per-customer tables, none over deals, rooms or survey answers
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        body = api.get(URL, {"start": "2026-01-01", "end": str(local_today() - timedelta(1))})
    assert body.status_code == 200
    sql = " ".join(q["sql"] for q in queries.captured_queries).lower()
    for raw in ("deals_deal", "chats_chatroom", "chats_surveyresponse"):
        assert raw not in sql, raw


# --- Random customers against a direct computation -------------------------------------------


def _direct(as_of, weights, p_alive: dict[int, float]) -> dict[int, int]:
    """Each customer's health straight from the raw records, one customer at a time."""
    from chats.models import ChatRoom, SurveyResponse
    from customers.models import Customer
    from deals.models import Deal
    from insights.periods import local_date

    out = {}
    for customer in Customer.objects.all():
        days = sorted({
            local_date(d.closed_at or d.created_at)
            for d in Deal.objects.filter(contact__customer=customer, stage__outcome="won")
        })  # fmt: skip
        days = [d for d in days if d <= as_of]
        if not days:
            continue
        since = (as_of - days[-1]).days
        parts = {
            "purchase": 100.0 * p_alive.get(customer.id, 0.0),
            "recency": 100 if since <= 30 else 75 if since <= 90 else 50 if since <= 180
            else 25 if since <= 365 else 0,
        }  # fmt: skip
        rated = [
            r.csat_score for r in ChatRoom.objects.filter(chat_contact__customer=customer)
            if r.csat_score is not None
            and 0 <= (as_of - local_date(r.created_at)).days <= 179
        ]  # fmt: skip
        if rated:
            parts["service"] = 100.0 * sum(1 for s in rated if s >= 4) / len(rated)
        answers = [
            s for s in SurveyResponse.objects.filter(kind="nps")
            if (s.contact and s.contact.customer_id == customer.id)
            or (s.chat_contact and s.chat_contact.customer_id == customer.id)
        ]  # fmt: skip
        answers = [s for s in answers if 0 <= (as_of - local_date(s.created_at)).days < 365]
        if answers:
            latest = max(answers, key=lambda s: (s.created_at, s.id))
            parts["voice"] = 100 if latest.score >= 9 else 50 if latest.score >= 7 else 0
        total = sum(weights[k] * v for k, v in parts.items() if weights[k] > 0)
        weight = sum(weights[k] for k in parts if weights[k] > 0)
        value = Decimal(str(total / weight)).quantize(Decimal("1"), "ROUND_HALF_UP")
        out[customer.id] = int(value)
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_random_customers_equal_a_direct_computation(seed):
    rng = random.Random(seed)
    people = People()
    for _ in range(40):
        contact, chat = people.person()
        for _ in range(rng.choice([0, 1, 1, 2, 3, 5])):
            people.buy(contact, rng.randrange(0, 700))
        for _ in range(rng.randrange(0, 4)):
            people.room(chat, rng.randrange(0, 400), rng.choice([None, 1, 2, 3, 4, 5]))
        for _ in range(rng.randrange(0, 3)):
            by_chat = rng.random() < 0.5
            SurveyResponseFactory(
                contact=None if by_chat else contact, chat_contact=chat if by_chat else None,
                kind="nps", score=rng.randrange(0, 11),
                created_at=_at(rng.randrange(0, 500), rng.randrange(0, 24)),
            )  # fmt: skip
    insights_rebuild(trigger="test")
    fitted = CustomerValueFit.objects.get().fitted
    p_alive = {v.customer_id: v.p_alive for v in CustomerValue.objects.all()} if fitted else {}
    stored = {row.customer_id: row.health for row in CustomerHealth.objects.all()}
    assert stored == _direct(local_today(), WEIGHTS, p_alive)


def test_dashboard_band_links_list_the_same_count(client, db):
    # given today's scores stored by a rebuild, and a viewer of the dashboard and the list
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    _hand_world()
    insights_rebuild(trigger="test")
    user = UserFactory(is_staff=True)
    for codename in ("view_insights", "view_customer"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    # when
    html = client.get("/admin/insights/dashboard/", {"preset": "today"}).content.decode()
    section = html.split('id="section-health"')[1].split("</section>")[0]
    # then every band's number links to a list of exactly that many customers
    for band, count in (("healthy", 0), ("attention", 1), ("at_risk", 3)):
        link = f'href="/admin/customers/customer/?health={band}" data-band="{band}">{count}<'
        assert link in section, band
        listed = client.get("/admin/customers/customer/", {"health": band})
        assert listed.status_code == 200
        assert listed.context["cl"].result_count == count, band


def test_the_360_page_shows_the_score_and_its_components(client, db):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    c1, c2, _c3, _c4 = _hand_world()
    insights_rebuild(trigger="test")
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    client.force_login(user)
    html = client.get(f"/admin/insights/customer360/{_customer(c2)}/").content.decode()
    section = html.split('id="section-health360"')[1].split("</section>")[0]
    assert "29 · At risk" in section  # health 29: (30·50 + 15·66.67) / 85
    assert ">67<" in section  # service 66.67, shown whole
    assert ">50<" in section  # recency
    assert "—" in section  # no voice: the NPS of exactly 365 days ago is out


def _same(left: health.Scores, right: health.Scores) -> None:
    for field in ("ids", "purchase", "recency", "service", "voice", "health", "revenue_cents"):
        assert np.array_equal(getattr(left, field), getattr(right, field), equal_nan=True), field
    assert left.fitted == right.fitted


@pytest.mark.parametrize("seed", [4])
def test_both_dates_in_one_pass_equal_each_date_read_alone(seed):
    # given random customers with buying days, rated rooms and NPS answers over two years
    from insights.models import CustomerWonDay

    rng = random.Random(seed)
    people = People()
    for _ in range(40):
        contact, chat = people.person()
        for _ in range(rng.choice([0, 1, 2, 3, 5])):
            people.buy(contact, rng.randrange(0, 700), rng.choice(["100.00", "250.50", "75.25"]))
        for _ in range(rng.randrange(0, 5)):
            people.room(chat, rng.randrange(0, 700), rng.choice([None, 1, 2, 3, 4, 5]))
        for _ in range(rng.randrange(0, 4)):
            SurveyResponseFactory(
                contact=contact, chat_contact=None, kind="nps", score=rng.randrange(0, 11),
                created_at=_at(rng.randrange(0, 800), rng.randrange(0, 24)),
            )  # fmt: skip
    insights_rebuild(trigger="test")
    # as-of dates on every edge: a buying day at A, at A0 and just after it; a room or an NPS
    # answer just inside and just outside each of the four windows
    from datetime import date

    from insights.models import CustomerNpsDay, ServiceRoomFact

    def some(model):
        days = sorted(set(model.objects.values_list("day", flat=True)))
        return rng.sample(days, min(3, len(days)))

    ordinals = {local_today().toordinal(), local_today().toordinal() - 640}
    for d in some(CustomerWonDay):
        ordinals |= {d, d + 89, d + 90}
    for d in some(ServiceRoomFact):
        ordinals |= {d + 89, d + 90, d + 179, d + 180, d + 269, d + 270}
    for d in some(CustomerNpsDay):
        ordinals |= {d + 89, d + 90, d + 364, d + 365, d + 454, d + 455}
    for a in sorted(date.fromordinal(o) for o in ordinals):
        a0 = a - timedelta(days=health.BACKTEST_DAYS)
        # when both dates are read in one pass
        now, then, again = health.scores_now_and_then(as_of=a, weights=WEIGHTS)
        # then each equals its date read alone, and `again` marks who bought in (A0, A]
        _same(now, health.health_scores(as_of=a, weights=WEIGHTS))
        _same(then, health.health_scores(as_of=a0, weights=WEIGHTS))
        bought = set(
            CustomerWonDay.objects.filter(
                day__gt=a0.toordinal(), day__lte=a.toordinal()
            ).values_list("customer_id", flat=True)
        )
        assert then.ids[again].tolist() == sorted(bought & set(then.ids.tolist()))
        assert len(again) == len(then.ids)
