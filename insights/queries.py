"""Reads: one function per figure of METRICS.md section 4, answered from the rollups only.

Every function is keyword-only, takes an `insights.periods.Period` (closed range of local
dates in settings.TIME_ZONE) and returns small frozen dataclasses. Money, percentages and
averages are Decimal quantised to 0.01 (ROUND_HALF_UP); counts are int.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from .periods import Period

SEGMENTS: tuple[str, ...] = (
    "Champions",
    "Loyal Customers",
    "Potential Loyalists",
    "New Customers",
    "Promising",
    "Need Attention",
    "About To Sleep",
    "Can't Lose Them",
    "At Risk",
    "Hibernating",
)


@dataclass(frozen=True)
class GrowthBucket:
    start: date
    end: date
    total: int
    new: int
    inactive: int


@dataclass(frozen=True)
class Growth:
    total_customers: int
    new_customers: int
    monthly_avg_new_customers: Decimal
    inactive_customers: int
    monthly_avg_inactive_customers: Decimal
    trend: list[GrowthBucket]


@dataclass(frozen=True)
class LabelCount:
    label: str
    customers: int
    # The drill-down filter value: the source as written, or str(company_id); None for "Other".
    key: str | None


@dataclass(frozen=True)
class Demographics:
    by_source: list[LabelCount]
    by_company: list[LabelCount]


@dataclass(frozen=True)
class AssociationBucket:
    start: date
    end: date
    customers_with_deals: int
    total_customers: int
    pct: Decimal


@dataclass(frozen=True)
class SalesLifecycle:
    total_customers: int
    customers_with_deals: int
    deal_association_pct: Decimal
    customers_with_won_deals: int
    won_customers_pct: Decimal
    total_deal_size: Decimal
    avg_deal_size_per_customer: Decimal
    association_trend: list[AssociationBucket]


@dataclass(frozen=True)
class LostReasonRow:
    reason: str
    deals: int
    customers: int


@dataclass(frozen=True)
class ProductRow:
    product_id: int
    product: str
    won_deals: int
    quantity: Decimal
    revenue: Decimal


@dataclass(frozen=True)
class SegmentRow:
    segment: str
    customers: int
    revenue: Decimal


@dataclass(frozen=True)
class CustomerRfm:
    customer_id: int
    recency_days: int
    frequency: int
    monetary: Decimal
    r: int
    f: int
    m: int
    segment: str


@dataclass(frozen=True)
class RevenueKpis:
    revenue: Decimal
    paying_customers: int
    avg_revenue_per_customer: Decimal
    top_20pct_revenue_share: Decimal
    avg_lifetime_value: Decimal
    one_time_customers: int
    repeat_customers: int


def growth_overview(*, period: Period, granularity: str = "auto") -> Growth:
    raise NotImplementedError


def demographics(*, period: Period, scope: str = "all") -> Demographics:
    raise NotImplementedError


def sales_lifecycle(*, period: Period, granularity: str = "auto") -> SalesLifecycle:
    raise NotImplementedError


def lost_reasons(*, period: Period) -> list[LostReasonRow]:
    raise NotImplementedError


def top_products(*, period: Period, order: str = "frequency", limit: int = 10) -> list[ProductRow]:
    raise NotImplementedError


def rfm_segments(*, period: Period) -> list[SegmentRow]:
    raise NotImplementedError


def rfm_grid(*, period: Period) -> list[list[int]]:
    raise NotImplementedError


def rfm_for_customers(*, period: Period, customer_ids: Sequence[int]) -> dict[int, CustomerRfm]:
    raise NotImplementedError


def rfm_customer_ids(
    *, period: Period, segment: str | None = None, r: int | None = None, f: int | None = None
) -> list[int]:
    raise NotImplementedError


def revenue_kpis(*, period: Period) -> RevenueKpis:
    raise NotImplementedError


def computed_at() -> datetime | None:
    raise NotImplementedError
