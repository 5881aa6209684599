"""The rollup answers equal a slow, direct reading of METRICS.md on random data and periods."""

import math
import random
from calendar import monthrange
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest

from chats.models import ChatRoom
from customers.models import Customer
from deals.models import Deal, DealItem, LostReason
from insights import queries
from insights.comparison import previous_period
from insights.models import Segment
from insights.periods import Period, buckets, local_date, local_today
from insights.segment_figures import segment_revenue_kpis, segment_rfm
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    CompanyFactory,
    ContactFactory,
    CustomerFactory,
    DealFactory,
    DealItemFactory,
    ProductFactory,
    UserFactory,
)
from tests.insights.build import rebuild, stage

pytestmark = pytest.mark.django_db
FIRST = datetime(2025, 12, 20, tzinfo=UTC)


def q(value) -> Decimal:
    with localcontext() as context:
        context.prec = 60
        return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def ratio(num, den, scale=1) -> Decimal:
    if not den:
        return Decimal("0.00")
    if isinstance(den, Fraction):
        num, den = num * den.denominator, den.numerator
    with localcontext() as context:
        context.prec = 60
        return q(Decimal(num) * scale / Decimal(den))


def moment(rng: random.Random) -> datetime:
    return FIRST + timedelta(minutes=rng.randrange(0, 80 * 24 * 60))


def build_random_data(rng: random.Random) -> None:
    companies = [CompanyFactory() for _ in range(3)]
    products = [ProductFactory(name=name) for name in ("b", "A", "c", "A")]
    reasons = [None, LostReason.objects.create(name=""), LostReason.objects.create(name="Mahal")]
    reasons.append(LostReason.objects.create(name="lambat"))
    stages = [stage("open"), stage("won"), stage("lost"), stage("open", 100), stage("lost", 100)]
    contacts = []
    for _ in range(14):
        first_seen = moment(rng)
        person = CustomerFactory(
            first_seen_at=first_seen,
            source=rng.choice(["Referral", "email", "", "WhatsApp"]),
            company=rng.choice([None, *companies]),
        )
        contacts.append(ContactFactory(customer=person, created_at=first_seen))
        if rng.random() < 0.6:
            chat = ChatContactFactory(customer=person, created_at=first_seen)
            for _ in range(rng.randrange(0, 3)):
                ChatRoomFactory(chat_contact=chat, created_at=moment(rng))
    for _ in range(40):
        created = moment(rng)
        closed = rng.choice([None, created + timedelta(hours=rng.randrange(0, 900))])
        made = DealFactory(
            contact=rng.choice([None, *contacts, *contacts]),
            stage=rng.choice(stages),
            win_probability=rng.choice([None, None, 100, 30]),
            amount=Decimal(rng.randrange(0, 100000)) / 100,
            created_at=created,
            closed_at=closed,
            lost_reason=rng.choice(reasons),
        )
        for _ in range(rng.randrange(0, 3)):
            DealItemFactory(
                deal=made,
                product=rng.choice(products),
                quantity=Decimal(rng.randrange(1, 500)) / 100,
                unit_price=Decimal(rng.randrange(1, 10000)) / 100,
            )


class Direct:
    """METRICS.md section 4 read straight from the raw tables, in plain Python."""

    def __init__(self) -> None:
        self.customers = {c.pk: c for c in Customer.objects.all()}
        self.deals = []
        for deal in Deal.objects.select_related("stage", "lost_reason", "contact"):
            self.deals.append(
                {
                    "id": deal.pk,
                    "customer": deal.contact.customer_id if deal.contact else None,
                    "created": local_date(deal.created_at),
                    "close": local_date(deal.closed_at or deal.created_at),
                    "status": deal.status,
                    "amount": deal.amount,
                    "reason": deal.lost_reason.name
                    if deal.lost_reason and deal.lost_reason.name.strip()
                    else "Unspecified",
                }
            )
        self.rooms = [
            (room.chat_contact.customer_id, local_date(room.created_at))
            for room in ChatRoom.objects.select_related("chat_contact")
        ]
        self.items = list(DealItem.objects.select_related("product"))

    def base(self, end: date) -> set[int]:
        return {pk for pk, c in self.customers.items() if c.first_seen_date <= end}

    def inactive(self, p: Period) -> int:
        base = self.base(p.end)
        active = {c for c, day in self.rooms if p.contains(day)}
        active |= {d["customer"] for d in self.deals if p.contains(d["created"])}
        return len(base - active)

    def growth(self, p: Period):
        months = p.months()
        trend = [
            (b.start, b.end, len(self.base(b.end)),
             sum(1 for c in self.customers.values() if b.contains(c.first_seen_date)),
             self.inactive(b))
            for b in buckets(p)
        ]  # fmt: skip
        new = sum(1 for c in self.customers.values() if p.contains(c.first_seen_date))
        return (
            # M(P) fractional (METRICS.md 1): each month counts its share of days in P
            len(self.base(p.end)), new,
            ratio(new, sum(Fraction(m.days, monthrange(m.start.year, m.start.month)[1])
                           for m in months)),
            self.inactive(p),
            ratio(sum(self.inactive(m) for m in months), len(months)), trend,
        )  # fmt: skip

    def demographics(self, p: Period, scope: str):
        if scope == "all":
            people = [self.customers[pk] for pk in self.base(p.end)]
        else:
            people = [c for c in self.customers.values() if p.contains(c.first_seen_date)]
        sources = defaultdict(int)
        companies = defaultdict(int)
        for person in people:
            sources[person.source.strip() and person.source or "Other"] += 1
            companies[person.company.name if person.company else "Other"] += 1
        order = lambda counts: sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))  # noqa: E731
        return order(sources), order(companies)

    def sales(self, p: Period):
        base = self.base(p.end)
        in_p = [d for d in self.deals if p.contains(d["created"]) and d["customer"] in base]
        with_deals = len({d["customer"] for d in in_p})
        with_won = len({d["customer"] for d in in_p if d["status"] == "won"})
        size = sum((d["amount"] for d in in_p), Decimal(0))
        trend = []
        for b in buckets(p):
            b_base = self.base(b.end)
            n = len(
                {
                    d["customer"]
                    for d in self.deals
                    if b.contains(d["created"]) and d["customer"] in b_base
                }
            )
            trend.append((b.start, b.end, n, len(b_base), ratio(n, len(b_base), 100)))
        return (
            len(base), with_deals, ratio(with_deals, len(base), 100), with_won,
            ratio(with_won, with_deals, 100), q(size), ratio(size, with_deals), trend,
        )  # fmt: skip

    def lost(self, p: Period):
        deals = defaultdict(int)
        customers = defaultdict(set)
        for d in self.deals:
            if d["status"] == "lost" and p.contains(d["close"]):
                deals[d["reason"]] += 1
                if d["customer"] is not None:
                    customers[d["reason"]].add(d["customer"])
        rows = [(r, n, len(customers[r])) for r, n in deals.items()]
        return sorted(rows, key=lambda row: (-row[1], row[0]))

    def products(self, p: Period, order: str):
        won = {d["id"] for d in self.deals if d["status"] == "won" and p.contains(d["close"])}
        rows = defaultdict(lambda: [set(), Decimal(0), Decimal(0), ""])
        for item in self.items:
            if item.deal_id in won:
                row = rows[item.product_id]
                row[0].add(item.deal_id)
                row[1] += item.quantity
                row[2] += item.quantity * item.unit_price
                row[3] = item.product.name
        result = [(pid, r[3], len(r[0]), q(r[1]), r[2]) for pid, r in rows.items()]
        if order == "frequency":
            result.sort(key=lambda r: (-r[2], -r[4], r[1], r[0]))
        else:
            result.sort(key=lambda r: (-r[4], -r[2], r[1], r[0]))
        return [(pid, name, n, qty, q(rev)) for pid, name, n, qty, rev in result]

    def won_in(self, p: Period):
        return [
            d for d in self.deals
            if d["status"] == "won" and d["customer"] is not None and p.contains(d["close"])
        ]  # fmt: skip

    def rfm(self, p: Period):
        per = defaultdict(list)
        for d in self.won_in(p):
            per[d["customer"]].append(d)
        as_of = min(p.end, local_today())
        span = max(1, (as_of - p.start).days + 1)
        stats = {
            c: (
                max(0, (as_of - max(d["close"] for d in ds)).days),
                len(ds),
                sum(d["amount"] for d in ds),
            )
            for c, ds in per.items()
        }
        n = len(stats)
        repeaters = [c for c, s in stats.items() if s[1] >= 2]
        result = {}
        for c, (rec, freq, mon) in stats.items():
            r = 5 - min(4, 5 * rec // span)
            m = 1 + 5 * sum(1 for s in stats.values() if s[2] < mon) // n
            f = 1
            if freq >= 2:
                f = 2 + 4 * sum(1 for o in repeaters if stats[o][1] < freq) // len(repeaters)
            result[c] = (rec, freq, q(mon), r, f, m, queries.rfm_group(r=r, f=f))
        return result

    def revenue(self, p: Period, members: set[int] | None = None):
        won = [d for d in self.won_in(p) if members is None or d["customer"] in members]
        revenue = sum((d["amount"] for d in won), Decimal(0))
        per = defaultdict(Decimal)
        for d in won:
            per[d["customer"]] += d["amount"]
        paying = len(per)
        top = sum(sorted(per.values(), reverse=True)[: math.ceil(paying / 5)], Decimal(0))
        upto = [
            d
            for d in self.deals
            if d["status"] == "won"
            and d["customer"] is not None
            and d["close"] <= p.end
            and (members is None or d["customer"] in members)
        ]
        counts = defaultdict(int)
        for d in upto:
            counts[d["customer"]] += 1
        one_time = sum(1 for c in per if counts[c] == 1)
        return (
            q(revenue), paying, ratio(revenue, paying), ratio(top, revenue, 100),
            ratio(sum((d["amount"] for d in upto), Decimal(0)), len(counts)),
            one_time, paying - one_time,
        )  # fmt: skip


def random_periods(rng: random.Random) -> list[Period]:
    periods = [
        Period(date(2025, 12, 1), date(2026, 3, 31)),
        Period(date(2026, 1, 31), date(2026, 2, 1)),
    ]
    for _ in range(10):
        start = date(2025, 12, 15) + timedelta(days=rng.randrange(0, 90))
        periods.append(Period(start, start + timedelta(days=rng.choice([0, 3, 13, 40, 75]))))
    return periods


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_a_direct_computation(seed):
    # given
    rng = random.Random(seed)
    build_random_data(rng)
    assert rebuild().status == "succeeded"
    direct = Direct()
    owner = UserFactory()
    segments = [
        Segment.objects.create(name=source or "blank", owner=owner, filters={"source": source})
        for source in ("Referral", "WhatsApp")
    ]

    for p in random_periods(rng):
        # when
        growth = queries.growth_overview(period=p)
        sales = queries.sales_lifecycle(period=p)
        revenue = queries.revenue_kpis(period=p)
        rfm = queries.rfm_for_customers(period=p, customer_ids=list(direct.customers))

        # then
        assert (
            growth.total_customers, growth.new_customers, growth.monthly_avg_new_customers,
            growth.inactive_customers, growth.monthly_avg_inactive_customers,
            [(b.start, b.end, b.total, b.new, b.inactive) for b in growth.trend],
        ) == direct.growth(p), p  # fmt: skip
        for scope in ("all", "new"):
            result = queries.demographics(period=p, scope=scope)
            assert (
                [(r.label, r.customers) for r in result.by_source],
                [(r.label, r.customers) for r in result.by_company],
            ) == direct.demographics(p, scope), p
        assert (
            sales.total_customers, sales.customers_with_deals, sales.deal_association_pct,
            sales.customers_with_won_deals, sales.won_customers_pct, sales.total_deal_size,
            sales.avg_deal_size_per_customer,
            [(b.start, b.end, b.customers_with_deals, b.total_customers, b.pct)
             for b in sales.association_trend],
        ) == direct.sales(p), p  # fmt: skip
        lost = queries.lost_reasons(period=p)
        assert [(r.reason, r.deals, r.customers) for r in lost] == direct.lost(p), p
        for order in ("frequency", "revenue"):
            rows = queries.top_products(period=p, order=order, limit=100)
            assert [
                (r.product_id, r.product, r.won_deals, r.quantity, r.revenue) for r in rows
            ] == direct.products(p, order), p
        assert {
            c: (x.recency_days, x.frequency, x.monetary, x.r, x.f, x.m, x.segment)
            for c, x in rfm.items()
        } == direct.rfm(p), p
        assert (
            revenue.revenue, revenue.paying_customers, revenue.avg_revenue_per_customer,
            revenue.top_20pct_revenue_share, revenue.avg_lifetime_value,
            revenue.one_time_customers, revenue.repeat_customers,
        ) == direct.revenue(p), p  # fmt: skip
        for segment in segments:
            members = {
                pk for pk, c in direct.customers.items() if c.source == segment.filters["source"]
            }
            expected_rfm = defaultdict(lambda: [0, Decimal(0)])
            for c, x in direct.rfm(p).items():
                if c in members:
                    expected_rfm[x[6]][0] += 1
                    expected_rfm[x[6]][1] += x[2]
            rows = segment_rfm(segment=segment, period=p)
            assert {r.segment: [r.customers, r.revenue] for r in rows if r.customers} == dict(
                expected_rfm
            ), (p, segment.filters)
            # P first, then P' (computed in P's pass and served from the cache), as the API asks
            for asked in (p, previous_period(p)):
                kpis = segment_revenue_kpis(segment=segment, period=asked)
                assert (
                    kpis.revenue, kpis.paying_customers, kpis.avg_revenue_per_customer,
                    kpis.top_20pct_revenue_share, kpis.avg_lifetime_value,
                    kpis.one_time_customers, kpis.repeat_customers,
                ) == direct.revenue(asked, members), (asked, segment.filters)  # fmt: skip
                closed = [
                    d for d in direct.deals
                    if d["customer"] in members and asked.contains(d["close"])
                ]  # fmt: skip
                won = sum(1 for d in closed if d["status"] == "won")
                lost = sum(1 for d in closed if d["status"] == "lost")
                new = sum(1 for c in members if asked.contains(direct.customers[c].first_seen_date))
                assert (kpis.won_deals, kpis.win_rate_pct, kpis.new_customers_per_day) == (
                    won,
                    ratio(won, won + lost, 100),
                    ratio(new, asked.days),
                ), (asked, segment.filters)
