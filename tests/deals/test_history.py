"""The deal history (CONTRACT §1): every insert and every change of a deal's stage, win
probability, amount, currency or expected close date is recorded by the database itself."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from deals.models import Deal, DealChange
from tests.factories import DealFactory, StageFactory

pytestmark = pytest.mark.django_db


def _history(deal: Deal) -> list[tuple]:
    return list(
        DealChange.objects.filter(deal=deal)
        .order_by("changed_at", "id")
        .values_list("stage_name", "win_probability", "amount", "currency", "expected_close_at")
    )


def test_insert_is_the_first_record():
    before = timezone.now()
    deal = DealFactory(stage=StageFactory(name="Proposal"), win_probability=30, currency="IDR")
    [row] = DealChange.objects.filter(deal=deal)
    assert (row.stage_name, row.win_probability, row.amount, row.currency) == (
        "Proposal",
        30,
        Decimal("1000000.00"),
        "IDR",
    )
    assert row.expected_close_at is None
    assert row.source == DealChange.Source.RECORDED
    assert before.replace(microsecond=0) <= row.changed_at <= timezone.now()


def test_orm_save_records_each_tracked_change_and_nothing_else():
    deal = DealFactory(stage=StageFactory(name="Proposal"))
    deal.name = "renamed"
    deal.save()  # an untracked field: no row
    assert len(_history(deal)) == 1
    deal.stage = StageFactory(name="Negotiation", default_win_probability=70)
    deal.save()
    deal.win_probability = 80
    deal.save()
    deal.amount = Decimal("5.00")
    deal.save()
    deal.currency = "USD"
    deal.save()
    close = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    deal.expected_close_at = close
    deal.save()
    deal.expected_close_at = None
    deal.save()
    assert _history(deal) == [
        ("Proposal", None, Decimal("1000000.00"), "IDR", None),
        ("Negotiation", None, Decimal("1000000.00"), "IDR", None),
        ("Negotiation", 80, Decimal("1000000.00"), "IDR", None),
        ("Negotiation", 80, Decimal("5.00"), "IDR", None),
        ("Negotiation", 80, Decimal("5.00"), "USD", None),
        ("Negotiation", 80, Decimal("5.00"), "USD", close),
        ("Negotiation", 80, Decimal("5.00"), "USD", None),
    ]


def test_bulk_update_records_every_changed_deal():
    stage = StageFactory(name="Proposal")
    deals = [DealFactory(stage=stage) for _ in range(3)]
    won = StageFactory(name="Won", outcome="won", default_win_probability=100)
    changed = Deal.objects.filter(pk__in=[deals[0].pk, deals[1].pk]).update(stage=won)
    assert changed == 2
    assert [len(_history(deal)) for deal in deals] == [2, 2, 1]
    assert _history(deals[0])[-1][0] == "Won"
    # An update that changes nothing tracked records nothing.
    Deal.objects.filter(pk__in=[d.pk for d in deals]).update(name="same")
    assert [len(_history(deal)) for deal in deals] == [2, 2, 1]


def test_bulk_create_is_recorded():
    stage = StageFactory(name="Proposal")
    deals = Deal.objects.bulk_create(
        [
            Deal(external_id=f"b{i}", stage=stage, amount=Decimal(i), created_at=timezone.now())
            for i in range(3)
        ]
    )
    ids = [deal.pk for deal in Deal.objects.filter(external_id__in=["b0", "b1", "b2"])]
    assert len(deals) == 3
    assert DealChange.objects.filter(deal_id__in=ids).count() == 3


def test_raw_sql_update_is_recorded():
    deal = DealFactory(stage=StageFactory(name="Proposal"), win_probability=10)
    table = Deal._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET win_probability = 60 WHERE id = %s", [deal.pk])
        cursor.execute(f"UPDATE {table} SET win_probability = 60 WHERE id = %s", [deal.pk])
    assert [row[1] for row in _history(deal)] == [10, 60]


def test_history_keeps_the_stage_name_after_a_rename():
    stage = StageFactory(name="Proposal")
    deal = DealFactory(stage=stage)
    stage.name = "Offer"
    stage.save()
    assert _history(deal)[0][0] == "Proposal"


def test_deleting_a_deal_deletes_its_history():
    deal = DealFactory()
    pk = deal.pk
    deal.delete()
    assert not DealChange.objects.filter(deal_id=pk).exists()
