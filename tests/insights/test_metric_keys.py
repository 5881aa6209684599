"""Rollup metric names: what the rebuild stores is what insights/metric_keys.py declares."""

import re
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction

from insights import metric_keys as keys
from insights.models import DailySum, GapCell, RepeatCell
from tests.factories import CompanyFactory, DealItemFactory
from tests.insights.build import customer, deal, rebuild, room

pytestmark = pytest.mark.django_db

INSIGHTS = Path(__file__).resolve().parents[2] / "insights"
# The abbreviations before issue 12, as SQL or Python string literals.
OLD_NAMES = ("act", "wond", "paid", "dval", "lostd", "src", "co", "rev", "prod")


def test_the_rebuild_stores_every_declared_metric_and_no_other():
    # given one customer with every kind of event, one first seen after a deal of theirs
    ani = customer("2026-01-05", source="Instagram", company=CompanyFactory())
    room(ani, created="2026-01-06")
    won = deal(ani, created="2026-01-07", closed="2026-01-09", outcome="won")
    DealItemFactory(deal=won)
    deal(ani, created="2026-01-08", closed="2026-01-10", outcome="lost", reason="Harga")
    late = customer("2026-02-01")
    deal(late, created="2026-01-20")

    # when
    rebuild()

    # then
    gap = set(GapCell.objects.values_list("metric", flat=True))
    sums = set(DailySum.objects.values_list("metric", flat=True))
    assert gap == {
        *keys.GAP_METRICS,
        keys.seen_later(keys.ACTIVE),
        keys.seen_later(keys.DEAL_CREATED),
    }
    assert sums == set(keys.SUM_METRICS)
    assert RepeatCell.objects.get().second_won_day is None


def test_the_grain_is_unique():
    # given a rebuilt day
    ani = customer("2026-01-05")
    deal(ani, created="2026-01-07")
    rebuild()
    row = DailySum.objects.get(metric=keys.NEW_CUSTOMERS)

    # when / then: a second row on the same grain is refused
    with pytest.raises(IntegrityError), transaction.atomic():
        DailySum.objects.create(metric=row.metric, dim=row.dim, day=row.day, count=1)


def test_repeat_cells_with_no_second_won_day_are_one_row():
    # given a customer with one won deal: (first day, NULL)
    RepeatCell.objects.create(first_won_day=739000, second_won_day=None, customers=1)

    # when / then: NULL is not distinct here (a second NULL row is the same grain)
    with pytest.raises(IntegrityError), transaction.atomic():
        RepeatCell.objects.create(first_won_day=739000, second_won_day=None, customers=1)
    RepeatCell.objects.create(first_won_day=739000, second_won_day=739001, customers=1)
    assert RepeatCell.objects.count() == 2


def test_no_insights_module_names_a_metric_by_its_old_abbreviation():
    # A branch written before the rename would read zeros from the renamed rows: fail loudly.
    old = "|".join(OLD_NAMES)
    pattern = re.compile(
        "|".join(
            (
                rf"metric\s*=\s*'({old})x?'",  # an SQL literal
                rf"_distinct(_many)?\(\s*['\"]({old})['\"]",  # a distinct-customer read
                rf"\(\s*['\"]({old})['\"],\s*\w+\s*\),?$",  # a (metric, source) pair
            )
        )
    )
    offenders = [
        f"{path.relative_to(INSIGHTS.parent)}:{n}: {line.strip()}"
        for path in INSIGHTS.rglob("*.py")
        if "migrations" not in path.parts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
