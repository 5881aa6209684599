"""Hand-written answers of `insights.queries` for the dashboard's view tests.

The view tests pin what the page does with the figures (labels, drill-down links, money,
parameters); the engine's own tests pin the figures. Every call is recorded so a test can
check the page asked for the right period.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

from insights import queries as q
from insights import service_dashboard
from insights.service import HEADLINE_FIELDS, ServiceBucket, ServiceFigures, ServiceRow

COMPUTED_AT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


class FakeQueries:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def _record(self, name: str, **kwargs) -> None:
        self.calls.append((name, kwargs))

    def growth_overview(self, *, period, granularity="auto"):
        self._record("growth_overview", period=period, granularity=granularity)
        return q.Growth(
            total_customers=120,
            new_customers=30,
            monthly_avg_new_customers=Decimal("15.00"),
            inactive_customers=70,
            monthly_avg_inactive_customers=Decimal("72.50"),
            trend=[
                q.GrowthBucket(date(2026, 1, 1), date(2026, 1, 31), 100, 10, 60),
                q.GrowthBucket(date(2026, 2, 1), date(2026, 2, 28), 120, 20, 70),
            ],
        )

    def demographics(self, *, period, scope="all"):
        self._record("demographics", period=period, scope=scope)
        return q.Demographics(
            by_source=[
                q.LabelCount("WhatsApp", 70, "WhatsApp"),
                q.LabelCount("Other", 30, None),
                q.LabelCount("Referral & Co", 20, "Referral & Co"),
            ],
            by_company=[q.LabelCount("Other", 100, None), q.LabelCount("PT Maju", 20, "7")],
        )

    def sales_lifecycle(self, *, period, granularity="auto"):
        self._record("sales_lifecycle", period=period, granularity=granularity)
        return q.SalesLifecycle(
            total_customers=120,
            customers_with_deals=48,
            deal_association_pct=Decimal("40.00"),
            customers_with_won_deals=12,
            won_customers_pct=Decimal("25.00"),
            total_deal_size=Decimal("30000000.00"),
            avg_deal_size_per_customer=Decimal("625000.00"),
            association_trend=[
                q.AssociationBucket(date(2026, 1, 1), date(2026, 1, 31), 30, 100, Decimal("30.00")),
                q.AssociationBucket(date(2026, 2, 1), date(2026, 2, 28), 48, 120, Decimal("40.00")),
            ],
        )

    def lost_reasons(self, *, period):
        self._record("lost_reasons", period=period)
        return [q.LostReasonRow("Harga terlalu tinggi", 5, 4), q.LostReasonRow("Unspecified", 2, 1)]

    def top_products(self, *, period, order="frequency", limit=10):
        self._record("top_products", period=period, order=order, limit=limit)
        return [
            q.ProductRow(1, "Paket Premium", 9, Decimal("12.00"), Decimal("18000000.00")),
            q.ProductRow(2, "Paket Dasar", 4, Decimal("4.50"), Decimal("2250000.50")),
        ]

    def rfm_segments(self, *, period):
        self._record("rfm_segments", period=period)
        return [
            q.SegmentRow(name, 3 if name == "Champions" else 0, Decimal("4500000.00"))
            for name in q.SEGMENTS
        ]

    def rfm_grid(self, *, period):
        self._record("rfm_grid", period=period)
        grid = [[0] * 5 for _ in range(5)]
        grid[4][4] = 3  # R5 F5
        grid[0][0] = 1  # R1 F1
        return grid

    def rfm_for_customers(self, *, period, customer_ids):
        self._record("rfm_for_customers", period=period, customer_ids=list(customer_ids))
        return {
            cid: q.CustomerRfm(cid, 4, 2, Decimal("2000000.00"), 5, 2, 4, "Potential Loyalists")
            for cid in customer_ids
        }

    def revenue_kpis(self, *, period):
        self._record("revenue_kpis", period=period)
        return q.RevenueKpis(
            revenue=Decimal("30000000.00"),
            paying_customers=12,
            avg_revenue_per_customer=Decimal("2500000.00"),
            top_20pct_revenue_share=Decimal("61.25"),
            avg_lifetime_value=Decimal("3100000.50"),
            one_time_customers=8,
            repeat_customers=4,
        )

    def computed_at(self):
        return COMPUTED_AT

    def service_figures(self, *, period, granularity="auto"):
        self._record("service_figures", period=period, granularity=granularity)
        row = ServiceRow("WhatsApp", 40, 30, Decimal("75.00"), 125, 900, 7500, 86400, 20,
                         Decimal("4.25"), Decimal("85.00"), Decimal("60.00"))  # fmt: skip
        headline = {name: getattr(row, name) for name in HEADLINE_FIELDS if hasattr(row, name)}
        return ServiceFigures(
            **headline,
            nps_responses=10,
            nps=Decimal("30.00"),
            nps_promoters=5,
            nps_passives=3,
            nps_detractors=2,
            ces_responses=4,
            ces_avg=Decimal("2.50"),
            by_channel=[row],
            by_agent=[ServiceRow("Unassigned", *list(row.__dict__.values())[1:])],
            trend=[ServiceBucket(period.start, period.end, 40, 7500)],
            previous={**headline, "rooms": 20},
            change_pct={name: None for name in HEADLINE_FIELDS} | {"rooms": Decimal("100.00")},
        )

    def install(self, monkeypatch) -> "FakeQueries":
        for name in (
            "growth_overview",
            "demographics",
            "sales_lifecycle",
            "lost_reasons",
            "top_products",
            "rfm_segments",
            "rfm_grid",
            "rfm_for_customers",
            "revenue_kpis",
            "computed_at",
        ):
            monkeypatch.setattr(q, name, getattr(self, name))
        monkeypatch.setattr(service_dashboard, "service_figures", self.service_figures)
        return self
