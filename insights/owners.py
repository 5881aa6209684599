"""Reads: sales by owner (METRICS.md O), answered from the per-owner rollup and the targets.

Won and lost deals, the sales cycle and new buyers come from OwnerDaySum (insights.rollup),
the open pipeline from the forecast's own query over DealFact (insights.forecast), cached per
run like every figure; the targets are read from deals.SalesTarget at each request (a
manager edits them between rebuilds, and a month has one row per owner). Money is Decimal
quantised to 0.01 (half up).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.contrib.auth import get_user_model

from deals.models import SalesTarget

from . import forecast
from .engine import cache, db, numbers
from .models import OwnerDaySum
from .periods import Period

T_OWNER = OwnerDaySum._meta.db_table
UNASSIGNED = "Unassigned"
NO_OWNER = 0  # OwnerDaySum.owner_id of deals without an owner


@dataclass(frozen=True)
class OwnerRow:
    owner: str
    owner_id: int | None  # None: Unassigned
    won_deals: int
    revenue: Decimal
    lost_deals: int
    win_rate_pct: Decimal
    avg_won_value: Decimal
    median_cycle_days: int
    new_buyers: int
    open_deals: int
    open_value: Decimal
    weighted_value: Decimal
    target: Decimal | None
    attainment_pct: Decimal | None


@dataclass(frozen=True)
class TeamRow:
    won_deals: int
    revenue: Decimal
    target: Decimal | None
    attainment_pct: Decimal | None


@dataclass(frozen=True)
class SalesByOwner:
    owners: list[OwnerRow]
    team: TeamRow | None


@dataclass(frozen=True)
class Pipeline:
    """Open deals (METRICS.md P) and their values; weighted = value x probability / 100."""

    deals: int
    value: Decimal
    weighted_value: Decimal


@dataclass
class _Sums:
    won: int = 0
    revenue: int = 0  # cents
    lost: int = 0
    buyers: int = 0
    open: int = 0
    open_value: int = 0  # cents
    weighted: int = 0  # cents x percent
    cycles: dict[int, int] = field(default_factory=dict)  # cycle days -> won deals

    def merge(self, other: _Sums) -> None:
        """Add another id's sums (a deleted user's deals join Unassigned)."""
        self.won += other.won
        self.revenue += other.revenue
        self.lost += other.lost
        self.buyers += other.buyers
        self.open += other.open
        self.open_value += other.open_value
        self.weighted += other.weighted
        for days, n in other.cycles.items():
            self.cycles[days] = self.cycles.get(days, 0) + n

    def add(self, kind: str, cycle: int, deals: int, amount: int, weighted: int) -> None:
        if kind == "won":
            self.won += deals
            self.revenue += amount
            self.cycles[cycle] = self.cycles.get(cycle, 0) + deals
        elif kind == "lost":
            self.lost += deals
        elif kind == "buyer":
            self.buyers += deals
        elif kind == "open":
            self.open += deals
            self.open_value += amount
            self.weighted += weighted


# --- The open pipeline (METRICS.md P) ----------------------------------------------------------


def open_pipeline_rows(*, start_day: int, end_day: int) -> list[list[int]]:
    """[owner id, open deals, cents, cents x percent] of the open deals expected to close in
    [start_day, end_day] (proleptic ordinals), per owner (0: none): the forecast's query."""
    rows = forecast.open_pipeline_rows(start=start_day, end=end_day, by="owner_id")
    return [list(row) for row in rows]


def pipeline(*, start: date, end: date, owner_id: int | None = None) -> Pipeline:
    """Open deals expected to close in [start, end] (local dates), of one owner or of all."""
    rows = open_pipeline_rows(start_day=start.toordinal(), end_day=end.toordinal())
    if owner_id is not None:
        rows = [row for row in rows if row[0] == owner_id]
    cents = sum(row[2] for row in rows)
    weighted = sum(row[3] for row in rows)
    return Pipeline(
        deals=sum(row[1] for row in rows),
        value=numbers.money(cents),
        weighted_value=numbers.money(weighted, unit=10_000),
    )


# --- Targets ---------------------------------------------------------------------------------


def _month_share(month: date, period: Period) -> Fraction:
    """days(m ∩ P) / days(m) for the month starting on `month`."""
    last = calendar.monthrange(month.year, month.month)[1]
    start = max(month, period.start)
    end = min(month.replace(day=last), period.end)
    return Fraction(max((end - start).days + 1, 0), last)


def _rounded(cents: Fraction) -> Decimal:
    """A non-negative amount of cents rounded half up to a whole cent, as money."""
    whole = (2 * cents.numerator + cents.denominator) // (2 * cents.denominator)
    return numbers.money(whole)


def sales_targets(*, period: Period) -> tuple[dict[int, Decimal], Decimal | None]:
    """(each owner's target for P, the team's), METRICS.md O: the sum over the months of P of
    amount × days(m ∩ P) / days(m), rounded once. An owner without a row in any month of P is
    absent; the team's is None when no month has a row (its own, or else its owners')."""
    first = period.start.replace(day=1)
    rows = SalesTarget.objects.filter(month__gte=first, month__lte=period.end).values_list(
        "owner_id", "month", "amount"
    )
    owners: dict[int, Fraction] = defaultdict(Fraction)
    team_own: dict[date, Fraction] = {}
    owners_by_month: dict[date, Fraction] = defaultdict(Fraction)
    for owner_id, month, amount in rows:
        cents = Fraction(int(amount * 100))
        if owner_id is None:
            team_own[month] = cents
        else:
            owners[owner_id] += cents * _month_share(month, period)
            owners_by_month[month] += cents
    months = set(team_own) | set(owners_by_month)
    team = sum(
        (team_own.get(month, owners_by_month[month]) * _month_share(month, period)
         for month in months),
        Fraction(0),
    )  # fmt: skip
    return (
        {owner_id: _rounded(cents) for owner_id, cents in owners.items()},
        _rounded(team) if months else None,
    )


def _target_of(targets: dict[int, Decimal], owner_id: int | None) -> Decimal | None:
    return None if owner_id is None else targets.get(owner_id)


def _attainment(revenue: Decimal, target: Decimal | None) -> Decimal | None:
    if target is None:
        return None
    return numbers.ratio(int(revenue * 100), int(target * 100), scale=100)


# --- Sales by owner --------------------------------------------------------------------------


def _payload(period: Period) -> list[list[Any]]:
    """[kind, owner id, cycle days, deals, cents, cents x percent] of P: won and lost deals and
    new buyers from OwnerDaySum (index ownerdaysum_lookup), open deals by expected close day."""
    start, end = period.start.toordinal(), period.end.toordinal()
    rows = db.rows(
        f"""SELECT kind, owner_id, cycle_days, SUM(deals), SUM(amount)
            FROM {T_OWNER} WHERE day BETWEEN %(start)s AND %(end)s
            GROUP BY kind, owner_id, cycle_days ORDER BY kind, owner_id, cycle_days""",
        {"start": start, "end": end},
    )
    payload = [
        [kind, int(owner), int(cycle), int(n), int(amount), 0]
        for kind, owner, cycle, n, amount in rows
    ]
    payload += [
        ["open", owner, 0, n, cents, weighted]
        for owner, n, cents, weighted in open_pipeline_rows(start_day=start, end_day=end)
    ]
    return payload


def _median(cycles: dict[int, int]) -> int:
    """Nearest-rank median (METRICS.md S): the value at position ceil(n / 2); none: 0."""
    total = sum(cycles.values())
    if total == 0:
        return 0
    rank = (total + 1) // 2
    seen = 0
    for days in sorted(cycles):
        seen += cycles[days]
        if seen >= rank:
            return days
    return 0  # unreachable: the ranks add up to total


def owner_names(owner_ids: set[int]) -> dict[int, str]:
    """Usernames by user id; a deleted user's deals are Unassigned (its owner is set to none)."""
    names = dict(
        get_user_model()
        .objects.filter(pk__in=[pk for pk in owner_ids if pk != NO_OWNER])
        .values_list("pk", "username")
    )
    return {pk: names.get(pk, UNASSIGNED) for pk in owner_ids}


def _row(name: str, owner_id: int | None, sums: _Sums, target: Decimal | None) -> OwnerRow:
    revenue = numbers.money(sums.revenue)
    return OwnerRow(
        owner=name,
        owner_id=owner_id,
        won_deals=sums.won,
        revenue=revenue,
        lost_deals=sums.lost,
        win_rate_pct=numbers.ratio(sums.won, sums.won + sums.lost, scale=100),
        avg_won_value=numbers.ratio(sums.revenue, sums.won, unit=100),
        median_cycle_days=_median(sums.cycles),
        new_buyers=sums.buyers,
        open_deals=sums.open,
        open_value=numbers.money(sums.open_value),
        weighted_value=numbers.money(sums.weighted, unit=10_000),
        target=target,
        attainment_pct=_attainment(revenue, target),
    )


def _sums_by_owner(period: Period) -> dict[int, _Sums]:
    data = cache.cached(
        "owners", (period.start, period.end), lambda: _payload(period), shape=SalesByOwner
    )
    sums: dict[int, _Sums] = defaultdict(_Sums)
    for kind, owner_id, cycle, deals, amount, weighted in data:
        sums[owner_id].add(kind, cycle, deals, amount, weighted)
    return sums


def sales_by_owner(*, period: Period, only_owner: int | None = None) -> SalesByOwner:
    """METRICS.md O over the local-date period P (both ends included): a row per owner of any
    deal in the figures, sorted by revenue desc then owner, and the team row. With
    `only_owner` (a user who may see only its own deals): that user's row alone, no team."""
    by_id = _sums_by_owner(period)
    names = owner_names(set(by_id))
    merged: dict[str, _Sums] = defaultdict(_Sums)
    ids: dict[str, int | None] = {}
    for owner_id, sums in by_id.items():
        name = names[owner_id]
        ids[name] = None if name == UNASSIGNED else owner_id
        merged[name].merge(sums)
    targets, team_target = sales_targets(period=period)
    rows = [_row(name, ids[name], sums, _target_of(targets, ids[name])) for name, sums in
            merged.items()]  # fmt: skip
    rows.sort(key=lambda row: (-row.revenue, row.owner))
    if only_owner is not None:
        return SalesByOwner(owners=[row for row in rows if row.owner_id == only_owner], team=None)
    revenue = numbers.money(sum(sums.revenue for sums in merged.values()))
    team = TeamRow(
        won_deals=sum(sums.won for sums in merged.values()),
        revenue=revenue,
        target=team_target,
        attainment_pct=_attainment(revenue, team_target),
    )
    return SalesByOwner(owners=rows, team=team)


def owner_card(*, period: Period, owner_id: int, name: str) -> OwnerRow:
    """One owner's figures for P, zeros (and its target) when it has no deal in them."""
    for row in sales_by_owner(period=period, only_owner=owner_id).owners:
        return row
    target = sales_targets(period=period)[0].get(owner_id)
    return _row(name, owner_id, _Sums(), target)
