"""The demo's pipeline: expected close dates (some overdue, some undated, most over the next
quarter) and a deal history the forecast's backtest can read."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F, Min

from deals import rules
from deals.models import Deal, DealChange
from demo.seed import demo_seed

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 15)
TZ = ZoneInfo("Asia/Jakarta")


def test_open_deals_have_a_believable_pipeline_and_every_deal_a_history():
    now = datetime.combine(TODAY, time(9, 0), tzinfo=TZ)
    counts = demo_seed(people=400, seed=1, today=TODAY, now=now)
    open_deals = Deal.objects.filter(rules.open_q())
    total = open_deals.count()
    start = datetime.combine(TODAY, time(0), tzinfo=TZ)
    undated = open_deals.filter(expected_close_at=None).count()
    overdue = open_deals.filter(expected_close_at__lt=start).count()
    quarter = open_deals.filter(
        expected_close_at__gte=start, expected_close_at__lt=start + timedelta(days=93)
    ).count()
    assert total > 20
    assert 0 < undated < total * 0.25
    assert 0 < overdue < total * 0.6
    assert quarter > total * 0.35
    assert undated + overdue + quarter == total
    # Decided deals have no expected close of their own.
    assert not Deal.objects.exclude(rules.open_q()).exclude(expected_close_at=None).exists()
    # Every deal's history starts when it was created; nothing is recorded after now.
    assert counts["deal_changes"] == DealChange.objects.count() > Deal.objects.count()
    firsts = Deal.objects.annotate(first=Min("history__changed_at"))
    assert not firsts.exclude(first=F("created_at")).exists()
    assert not DealChange.objects.filter(changed_at__gt=now).exists()
    # A won deal's last record is Won, at its close.
    won = Deal.objects.filter(stage__name="Won").first()
    last = DealChange.objects.filter(deal=won).order_by("changed_at", "id").last()
    assert (last.stage_name, last.changed_at) == ("Won", won.closed_at)
