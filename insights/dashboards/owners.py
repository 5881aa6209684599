"""The dashboard's "Team" section and a sales rep's "My sales" page (METRICS.md O, P).

Figures come from insights.owners (the same functions as the API); this module shapes them
for templates/admin/insights/_owners.html and my_sales.html and adds the drill-downs: every
number opens the admin deal list filtered by owner, won / lost / open and the period (close
date for won and lost deals, expected close date for open ones), so the list counts what the
figure says. A user who may see only its own deals sees only its own row.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.admin_scoping import sees_all_records
from deals import rules
from deals.models import Deal

from ..figures import help_texts
from ..owners import OwnerRow, owner_card, pipeline, sales_by_owner
from ..periods import Period

OPEN_START, OPEN_END = date(1, 1, 2), date(9999, 12, 30)


def deal_list_url(
    *, status: str, period: Period, owner_id: int | None = None, scoped: bool = True,
    by: str = "closed",
) -> str:  # fmt: skip
    """The admin deal list of the deals a figure counts: `status` won / lost / closed / open,
    `by` "closed" (close date in P) or "expected" (expected close date in P); with `scoped`,
    only `owner_id`'s deals (None: deals without an owner)."""
    try:
        base = reverse("admin:deals_deal_changelist")
    except NoReverseMatch:
        base = "/admin/deals/deal/"
    filters = {"status": status}
    # Open-ended spans ("overdue", "later") leave their far bound out.
    if period.start > OPEN_START:
        filters[f"{by}_from"] = period.start.isoformat()
    if period.end < OPEN_END:
        filters[f"{by}_to"] = period.end.isoformat()
    if scoped:
        if owner_id is None:
            filters["owner__isnull"] = "True"
        else:
            filters["owner__id__exact"] = str(owner_id)
    return f"{base}?{urlencode(filters)}"


@dataclass(frozen=True)
class TeamRowView:
    row: OwnerRow
    won_url: str
    lost_url: str
    closed_url: str
    open_url: str
    revenue_width: Decimal  # % of the widest bar
    target_x: Decimal | None  # where the target line sits, % of the widest bar


def _pct_of(value: Decimal, scale: Decimal) -> Decimal:
    if scale <= 0:
        return Decimal("0")
    return (100 * value / scale).quantize(Decimal("0.1"))


def team_section(*, period: Period, user: Any) -> dict[str, Any]:
    """Context of the Team section: a row per owner with its links and its bar."""
    every = sees_all_records(user)
    figures = sales_by_owner(period=period, only_owner=None if every else user.pk)
    scale = max([Decimal("0"), *(max(r.revenue, r.target or Decimal("0")) for r in figures.owners)])

    def link(row: OwnerRow, status: str, by: str = "closed") -> str:
        return deal_list_url(
            status=status, period=period, owner_id=row.owner_id, scoped=every, by=by
        )

    rows = [
        TeamRowView(
            row=row,
            won_url=link(row, "won"),
            lost_url=link(row, "lost"),
            closed_url=link(row, "closed"),
            open_url=link(row, "open", by="expected"),
            revenue_width=_pct_of(row.revenue, scale),
            target_x=None if row.target is None else _pct_of(row.target, scale),
        )
        for row in figures.owners
    ]
    return {"team_rows": rows, "team": figures.team, "team_help": help_texts()}


# --- My sales ---------------------------------------------------------------------------------


def _month(day: date, shift: int = 0) -> Period:
    index = day.year * 12 + day.month - 1 + shift
    year, month = divmod(index, 12)
    first = date(year, month + 1, 1)
    return Period(first, first.replace(day=calendar.monthrange(year, month + 1)[1]))


OVERDUE_LIST = 50


def my_sales(*, user: Any, today: date) -> dict[str, Any]:
    """Context of "My sales": the user's card for this month beside the previous month's, its
    open pipeline by expected close month, and its overdue deals (expected close before today).
    """
    name = user.get_username()
    this, last = _month(today), _month(today, -1)
    cards = [owner_card(period=p, owner_id=user.pk, name=name) for p in (this, last)]
    months = [_month(today, shift) for shift in range(0, 4)]
    later = Period(_month(today, 4).start, OPEN_END)
    overdue_span = Period(OPEN_START, today - timedelta(days=1))
    every = sees_all_records(user)  # else the deal list shows only the user's deals anyway

    def link(status: str, p: Period, by: str = "closed") -> str:
        return deal_list_url(status=status, period=p, owner_id=user.pk, scoped=every, by=by)

    buckets = [
        {
            "period": p,
            "later": p is later,
            "pipeline": pipeline(start=p.start, end=p.end, owner_id=user.pk),
            "url": link("open", p, "expected"),
        }
        for p in (*months, later)
    ]
    overdue = pipeline(start=overdue_span.start, end=overdue_span.end, owner_id=user.pk)
    midnight = timezone.make_aware(datetime.combine(today, time.min))
    # The live list (the figures above are as of the last rebuild); index deal expected_close_at.
    overdue_deals = list(
        Deal.objects.filter(rules.open_q(), owner=user, expected_close_at__lt=midnight)
        .select_related("stage", "contact")
        .order_by("expected_close_at", "pk")[:OVERDUE_LIST]
    )
    return {
        "this_month": this,
        "last_month": last,
        "cards": [
            {
                "period": p,
                "row": card,
                "won_url": link("won", p),
                "lost_url": link("lost", p),
                "closed_url": link("closed", p),
                "open_url": link("open", p, "expected"),
            }
            for p, card in zip((this, last), cards, strict=True)
        ],
        "buckets": buckets,
        "overdue": overdue,
        "overdue_url": link("open", overdue_span, "expected"),
        "overdue_deals": overdue_deals,
        "overdue_more": len(overdue_deals) == OVERDUE_LIST,
    }
