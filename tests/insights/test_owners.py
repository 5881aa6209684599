"""Sales by owner (METRICS.md O) pinned by hand-computed cases, and against a direct
computation from the deals on random data."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from deals.models import Deal, SalesTarget
from insights import owners
from insights.owners import OwnerRow, TeamRow
from tests.factories import DealFactory, UserFactory
from tests.insights.build import at, customer, period, rebuild, stage

pytestmark = pytest.mark.django_db
D = Decimal


def sale(owner, contact=None, *, created, closed=None, outcome="won", amount="100.00",
         probability=None, expected=None, default=None) -> Deal:  # fmt: skip
    return DealFactory(
        owner=owner,
        contact=contact,
        stage=stage(outcome, default),
        amount=D(amount),
        created_at=at(created),
        closed_at=at(closed) if closed else None,
        win_probability=probability,
        expected_close_at=at(expected) if expected else None,
    )


def target(owner, month: str, amount: str) -> None:
    SalesTarget.objects.create(owner=owner, month=date.fromisoformat(f"{month}-01"), amount=amount)


def test_owners_unassigned_only_lost_new_buyers_pipeline_and_targets():
    # given: January 2026
    ana, budi = UserFactory(username="ana"), UserFactory(username="budi")
    c1, c2, c3 = (customer("2025-11-01") for _ in range(3))
    sale(ana, c1, created="2026-01-01", closed="2026-01-11", amount="300.00")  # cycle 10
    sale(ana, c2, created="2026-01-05", closed="2026-01-08", amount="100.00")  # cycle 3
    sale(budi, c2, created="2025-12-01", closed="2025-12-20")  # c2 bought before: not new
    sale(None, c3, created="2026-01-15", closed="2026-01-15", amount="50.00")  # c3's first
    sale(ana, c3, created="2025-12-01", closed="2026-01-30", amount="200.00")  # cycle 60
    sale(ana, None, created="2026-01-02", closed="2026-01-20", outcome="lost")  # no customer
    sale(ana, c1, created="2026-01-02", closed="2026-02-02")  # closed after P
    sale(budi, c1, created="2026-01-03", closed="2026-01-04", outcome="lost")
    sale(budi, None, created="2026-01-03", closed="2026-01-31", outcome="lost")
    # open: weights 30 (own) and 50 (the stage's); undated and February ones left out
    opened = {"created": "2026-01-02", "outcome": "open"}
    sale(ana, None, **opened, amount="1000.00", probability=30, expected="2026-01-20")
    sale(ana, c1, **opened, amount="10.01", default=50, expected="2026-01-25")
    sale(ana, c1, **opened, amount="999.00")
    sale(budi, c1, **opened, amount="999.00", expected="2026-02-01")
    target(ana, "2026-01", "1000.00")
    rebuild()

    # when
    figures = owners.sales_by_owner(period=period("2026-01-01", "2026-01-31"))

    # then: sorted by revenue desc; 305.005 weighted is rounded once, at the end
    assert figures.owners == [
        OwnerRow("ana", ana.pk, 3, D("600.00"), 1, D("75.00"), D("200.00"), 10, 1,
                 2, D("1010.01"), D("305.01"), D("1000.00"), D("60.00")),
        OwnerRow("Unassigned", None, 1, D("50.00"), 0, D("100.00"), D("50.00"), 0, 1,
                 0, D("0.00"), D("0.00"), None, None),
        OwnerRow("budi", budi.pk, 0, D("0.00"), 2, D("0.00"), D("0.00"), 0, 0,
                 0, D("0.00"), D("0.00"), None, None),
    ]  # fmt: skip
    # the team: every owner's deals; no team row for January, so the owners' rows sum
    assert figures.team == TeamRow(4, D("650.00"), D("1000.00"), D("65.00"))


def test_targets_start_mid_period_team_row_beside_owners_and_months_without_any():
    # given: P = 15 Jan - 14 Mar 2026: January counts 17/31, February whole, March 14/31
    ana, budi = UserFactory(username="ana"), UserFactory(username="budi")
    sale(ana, created="2026-02-01", closed="2026-02-03", amount="1400.00")
    sale(budi, created="2026-01-20", closed="2026-01-21", amount="3100.00")
    target(ana, "2026-02", "2800.00")  # ana's targets start in February
    target(budi, "2026-01", "3100.00")
    target(budi, "2026-03", "3100.00")
    target(None, "2026-02", "5000.00")  # the team's own February
    target(budi, "2026-05", "9999.00")  # outside P
    rebuild()

    # when
    figures = owners.sales_by_owner(period=period("2026-01-15", "2026-03-14"))

    # then: budi 3100 x 17/31 + 3100 x 14/31 = 3100; team: January from the owners (1700),
    # its own February (5000, not ana's 2800), March from the owners (1400)
    by_name = {row.owner: row for row in figures.owners}
    assert (by_name["ana"].target, by_name["ana"].attainment_pct) == (D("2800.00"), D("50.00"))
    assert (by_name["budi"].target, by_name["budi"].attainment_pct) == (D("3100.00"), D("100.00"))
    assert figures.team == TeamRow(2, D("4500.00"), D("8100.00"), D("55.56"))

    # a month without any target row: none for anyone, the team's included
    april = owners.sales_by_owner(period=period("2026-04-01", "2026-04-30"))
    assert april.owners == []
    assert april.team == TeamRow(0, D("0.00"), None, None)
    march = owners.sales_by_owner(period=period("2026-03-01", "2026-04-30"))
    assert march.team.target == D("3100.00")  # March's owner rows; April adds 0


def test_a_target_of_zero_gives_zero_attainment_and_prorating_rounds_once():
    # given: 100.00 a month; P = 22 Jan - 10 Feb is 100 x 10/31 + 100 x 10/28 = 67.9724...
    ana = UserFactory(username="ana")
    sale(ana, created="2026-01-23", closed="2026-01-23", amount="10.00")
    target(ana, "2026-01", "100.00")
    target(ana, "2026-02", "100.00")
    target(None, "2026-01", "0.00")
    target(None, "2026-02", "0.00")
    rebuild()

    # when
    figures = owners.sales_by_owner(period=period("2026-01-22", "2026-02-10"))

    # then
    assert figures.owners[0].target == D("67.97")
    assert figures.owners[0].attainment_pct == D("14.71")
    assert figures.team == TeamRow(1, D("10.00"), D("0.00"), D("0.00"))


def test_a_rep_gets_only_its_own_row_and_no_team():
    # given
    ana, budi = UserFactory(username="ana"), UserFactory(username="budi")
    sale(ana, created="2026-01-02", closed="2026-01-03")
    sale(budi, created="2026-01-02", closed="2026-01-03", amount="200.00")
    rebuild()
    p = period("2026-01-01", "2026-01-31")

    # when
    mine = owners.sales_by_owner(period=p, only_owner=budi.pk)
    nobody = owners.sales_by_owner(period=p, only_owner=UserFactory(username="citra").pk)

    # then
    assert [row.owner for row in mine.owners] == ["budi"] and mine.team is None
    assert nobody.owners == [] and nobody.team is None
    card = owners.owner_card(period=p, owner_id=ana.pk, name="ana")
    assert (card.won_deals, card.revenue) == (1, D("100.00"))


def test_pipeline_of_one_owner_by_expected_close():
    # given
    ana = UserFactory(username="ana")
    opened = {"created": "2026-01-02", "outcome": "open", "probability": 25}
    sale(ana, **opened, amount="100.00", expected="2026-03-05")
    sale(None, **opened, amount="100.00", expected="2026-03-05")
    rebuild()

    # when
    mine = owners.pipeline(start=date(2026, 3, 1), end=date(2026, 3, 31), owner_id=ana.pk)
    everyone = owners.pipeline(start=date(2026, 3, 1), end=date(2026, 3, 31))

    # then
    assert (mine.deals, mine.value, mine.weighted_value) == (1, D("100.00"), D("25.00"))
    assert (everyone.deals, everyone.value) == (2, D("200.00"))


# --- Random data: the rollup answers equal a direct computation -------------------------------


def _direct(p) -> dict[str, tuple]:
    """METRICS.md O computed from the deals themselves, money in cents."""
    deals = list(Deal.objects.select_related("stage", "owner", "contact"))

    def local(moment) -> date:
        return timezone.localdate(moment)

    def close(d: Deal) -> date:
        return local(d.closed_at or d.created_at)

    first_buy: dict[int, date] = {}
    for d in deals:
        if d.status == "won" and d.contact and d.contact.customer_id:
            key = d.contact.customer_id
            first_buy[key] = min(first_buy.get(key, close(d)), close(d))
    rows: dict[str, dict] = {}

    def row(d: Deal) -> dict:
        name = d.owner.username if d.owner else "Unassigned"
        return rows.setdefault(
            name,
            {
                "won": 0,
                "rev": 0,
                "lost": 0,
                "cycles": [],
                "buyers": set(),
                "open": 0,
                "value": 0,
                "weighted": 0,
            },  # fmt: skip
        )

    for d in deals:
        cents = int(d.amount * 100)
        if d.status == "won" and p.contains(close(d)):
            r = row(d)
            r["won"] += 1
            r["rev"] += cents
            r["cycles"].append((close(d) - local(d.created_at)).days)
            customer_id = d.contact.customer_id if d.contact else None
            if customer_id and first_buy[customer_id] == close(d):
                r["buyers"].add(customer_id)
        elif d.status == "lost" and p.contains(close(d)):
            row(d)["lost"] += 1
        elif d.status == "open" and d.expected_close_at and p.contains(local(d.expected_close_at)):
            r = row(d)
            r["open"] += 1
            r["value"] += cents
            r["weighted"] += cents * d.effective_win_probability
    result = {}
    for name, r in rows.items():
        cycles = sorted(r["cycles"])
        median = cycles[(len(cycles) + 1) // 2 - 1] if cycles else 0
        result[name] = (r["won"], r["rev"], r["lost"], median, len(r["buyers"]), r["open"],
                        r["value"], r["weighted"])  # fmt: skip
    return result


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollup_answers_equal_a_direct_computation_on_random_data(seed):
    # given
    rng = random.Random(seed)
    reps = [None, *(UserFactory(username=f"rep{n}") for n in range(4))]
    stages = [stage("open", 20), stage("open", 60), stage("won"), stage("lost")]
    people = [customer(f"2025-{rng.randrange(1, 13):02d}-01") for _ in range(8)]
    first = at("2025-06-01 00:30")
    for _ in range(80):
        created = first + timedelta(hours=rng.randrange(0, 24 * 300))
        DealFactory(
            owner=rng.choice(reps),
            contact=rng.choice([None, *people]),
            stage=rng.choice(stages),
            amount=D(rng.randrange(0, 10**6)) / 100,
            created_at=created,
            closed_at=rng.choice([None, created + timedelta(hours=rng.randrange(0, 24 * 90))]),
            win_probability=rng.choice([None, 5, 45, 100]),
            expected_close_at=rng.choice([None, created + timedelta(hours=rng.randrange(0, 3000))]),
        )
    rebuild()

    for _ in range(6):
        start = date(2025, 6, 1) + timedelta(days=rng.randrange(0, 300))
        p = period(start.isoformat(), (start + timedelta(days=rng.randrange(0, 120))).isoformat())

        # when
        figures = owners.sales_by_owner(period=p)

        # then
        got = {
            row.owner: (row.won_deals, int(row.revenue * 100), row.lost_deals,
                        row.median_cycle_days, row.new_buyers, row.open_deals,
                        int(row.open_value * 100), None)
            for row in figures.owners
        }  # fmt: skip
        expected = _direct(p)
        assert got == {name: (*values[:7], None) for name, values in expected.items()}
        for row in figures.owners:
            weighted = D(expected[row.owner][7]) / 10_000
            assert row.weighted_value == weighted.quantize(D("0.01"), rounding="ROUND_HALF_UP")
        revenues = [row.revenue for row in figures.owners]
        assert revenues == sorted(revenues, reverse=True)
