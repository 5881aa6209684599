"""Hand-written answers of `insights.queries` for the dashboard's view tests.

The view tests pin what the page does with the figures (labels, drill-down links, money,
parameters); the engine's own tests pin the figures. Every call is recorded so a test can
check the page asked for the right period.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

from insights import customer_filters, customer_value, health, service
from insights import lifecycle as lc
from insights import queries as q
from insights.dashboards import owners as owners_dashboard
from insights.dashboards import service as service_dashboard
from insights.owners import OwnerRow, SalesByOwner, TeamRow
from insights.service import (
    HEADLINE_FIELDS,
    ROOM_FIELDS,
    TARGET_FIELDS,
    ServiceBucket,
    ServiceFigures,
    ServiceHeadline,
    ServiceRow,
)

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
            by_country=[q.LabelCount("ID", 100, "ID"), q.LabelCount("All others", 20, None)],
            by_city=[q.LabelCount("Jakarta", 80, "Jakarta"), q.LabelCount("Other", 40, "Other")],
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

    def product_buyers(self, *, product_ids, period):
        """Won deals and customers of each shown product (the drill-down's customers)."""
        self._record("product_buyers", product_ids=product_ids, period=period)
        return {1: (9, 7), 2: (4, 4)}

    def rfm_groups(self, *, period):
        self._record("rfm_groups", period=period)
        return [
            q.RfmGroupRow(name, 3 if name == "Champions" else 0, Decimal("4500000.00"))
            for name in q.RFM_GROUPS
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
            won_deals=15,
            avg_order_value=Decimal("2000000.00"),
            win_rate_pct=Decimal("75.00"),
            revenue_per_day=Decimal("1000000.00"),
            new_customers_per_day=Decimal("1.00"),
            hours_per_new_customer=Decimal("24.00"),
        )

    def buyer_lifecycle(self, *, period, granularity="auto", lost_after=90):
        self._record(
            "buyer_lifecycle", period=period, granularity=granularity, lost_after=lost_after
        )
        return lc.BuyerLifecycle(
            lost_after=lost_after,
            new_buyers=6,
            returning_buyers=4,
            lost_buyers=3,
            active_buyers_start=8,
            churned_buyers=2,
            buyer_churn_pct=Decimal("25.00"),
            buyer_retention_pct=Decimal("75.00"),
            trend=[
                lc.LifecycleBucket(date(2026, 1, 1), date(2026, 1, 31), 2, 1, 1),
                lc.LifecycleBucket(date(2026, 2, 1), date(2026, 2, 28), 4, 3, 2),
            ],
        )

    def cohort_retention(self, *, period, event="purchase"):
        self._record("cohort_retention", period=period, event=event)
        return lc.Retention(
            event=event,
            cohorts=[
                lc.Cohort("2026-01", 4, [4, 1], [Decimal("100.00"), Decimal("25.00")]),
                lc.Cohort("2026-02", 0, [0], [Decimal("0.00")]),
            ],
        )

    def computed_at(self):
        return COMPUTED_AT

    def service_headline(self, *, period):
        """What the comparison reads of P′: the fake full figures' compared headline."""
        self._record("service_headline", period=period)
        figures = self._service(period)
        return ServiceHeadline(**{name: getattr(figures, name) for name in HEADLINE_FIELDS})

    def service_figures(self, *, period, granularity="auto"):
        self._record("service_figures", period=period, granularity=granularity)
        return self._service(period)

    def _service(self, period):
        row = ServiceRow("WhatsApp", 40, 30, Decimal("75.00"), 125, 900, 7500, 86400, 20,
                         Decimal("4.25"), Decimal("85.00"), Decimal("60.00"))  # fmt: skip
        headline = {name: getattr(row, name) for name in ROOM_FIELDS + TARGET_FIELDS}
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
        )

    def install(self, monkeypatch) -> "FakeQueries":
        for name in (
            "growth_overview",
            "demographics",
            "sales_lifecycle",
            "lost_reasons",
            "top_products",
            "rfm_groups",
            "rfm_grid",
            "rfm_for_customers",
            "revenue_kpis",
            "computed_at",
        ):
            monkeypatch.setattr(q, name, getattr(self, name))
        monkeypatch.setattr(customer_value, "customer_value", self.customer_value)
        monkeypatch.setattr(customer_filters, "product_buyers", self.product_buyers)
        monkeypatch.setattr(health, "customer_health", self.customer_health)
        for name in ("buyer_lifecycle", "cohort_retention"):
            monkeypatch.setattr(lc, name, getattr(self, name))
        monkeypatch.setattr(service_dashboard, "service_figures", self.service_figures)
        monkeypatch.setattr(service, "service_figures", self.service_figures)
        monkeypatch.setattr(service, "service_headline", self.service_headline)
        monkeypatch.setattr(owners_dashboard, "sales_by_owner", self.sales_by_owner)
        return self

    def customer_health(self, *, period):
        """An insights/health/ payload with a backtest."""
        self.calls.append(("customer_health", {"period": period}))
        return {
            "as_of": period.end.isoformat(), "customers": 60, "avg_health": "52.25",
            "by_band": [
                {"band": "healthy", "customers": 20, "revenue": "5000000.00"},
                {"band": "attention", "customers": 25, "revenue": "3000000.00"},
                {"band": "at_risk", "customers": 15, "revenue": "1000000.00"},
            ],
            "backtest": {"as_of": period.end.isoformat(), "by_band": [
                {"band": "healthy", "customers": 18, "bought_pct": "61.11"},
                {"band": "attention", "customers": 20, "bought_pct": "30.00"},
                {"band": "at_risk", "customers": 10, "bought_pct": "10.00"},
            ]},
            "model_fitted": True,
        }  # fmt: skip

    def sales_by_owner(self, *, period, only_owner=None):
        self._record("sales_by_owner", period=period, only_owner=only_owner)
        row = OwnerRow("rina", 7, 3, Decimal("600.00"), 1, Decimal("75.00"), Decimal("200.00"),
                       10, 1, 2, Decimal("1010.01"), Decimal("305.01"), Decimal("1000.00"),
                       Decimal("60.00"))  # fmt: skip
        team = TeamRow(3, Decimal("600.00"), Decimal("1000.00"), Decimal("60.00"))
        return SalesByOwner(owners=[row], team=None if only_owner else team)

    def customer_value(self, *, period, horizon=365, model="mbgnbd"):
        """A fitted insights/customer-value payload (money in cents), with a passed holdout."""
        self.calls.append(("customer_value", {"period": period, "horizon": horizon}))
        return {
            "fitted": True, "model": model, "as_of": period.end.isoformat(), "horizon": horizon,
            "parameters": {"r": 0.243, "alpha": 30.9, "a": 0.793, "b": 2.426, "p": 6.25,
                           "q": 3.74, "gamma": 15.44},
            "log_likelihood": -18419.45, "customers": 2357,
            "predicted_revenue_cents": 12345678, "customers_at_risk": 321,
            "revenue_at_risk_cents": 4567800,
            "p_alive_histogram": [300, 120, 80, 60, 50, 40, 30, 20, 10, 1647],
            "p_alive_histogram_repeat": [100, 20, 30, 40, 50, 40, 30, 20, 10, 600],
            "reason": "",
            "holdout": {
                "actual_purchases": 1050, "expected_purchases": 1011.5,
                "by_x": [{"x": x, "customers": 10, "actual": 0.5, "expected": 0.45}
                         for x in ("0", "1", "2", "3", "4", "5", "6", "7+")],
            },
            "message": "",
        }  # fmt: skip
