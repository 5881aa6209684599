"""The pipeline's helpers for entering deals: a stage's typical cycle (METRICS.md §P).

The deal form suggests an expected close date from the stage's typical cycle, only as a
placeholder: what is stored is what the rep types.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from statistics import median_low

from django.db.models import Max, Min
from django.db.models.functions import Lower

from . import rules
from .models import DealChange, PipelineStage

# How far back won deals teach the typical cycle, and how many of them at most.
CYCLE_WINDOW_DAYS = 365
CYCLE_SAMPLE = 5000


def stage_cycle_days(*, now: datetime) -> dict[int, int]:
    """{stage id: median whole days from a won deal's entering that stage to its close}.

    Over the won deals closed in the CYCLE_WINDOW_DAYS before `now` (the latest CYCLE_SAMPLE
    of them); a deal enters a stage at its first history record in it (deals.DealChange).
    Stages no such deal passed through are left out.
    """
    since = now - timedelta(days=CYCLE_WINDOW_DAYS)
    entered = (
        DealChange.objects.filter(
            rules.won_q("deal__"), deal__closed_at__gte=since, deal__closed_at__lte=now
        )
        .exclude(stage_name="")
        .annotate(stage_key=Lower("stage_name"))
        .values("deal_id", "stage_key")
        .annotate(entered=Min("changed_at"), closed=Max("deal__closed_at"))
        .order_by("-closed")[:CYCLE_SAMPLE]
    )
    days: dict[str, list[int]] = {}
    for row in entered:
        span = (row["closed"] - row["entered"]).days
        if span >= 0:
            days.setdefault(row["stage_key"], []).append(span)
    stages = PipelineStage.objects.filter(outcome=rules.OPEN).values_list("id", "name")
    return {pk: median_low(days[name.lower()]) for pk, name in stages if name.lower() in days}


def expected_close_suggestions(*, now: datetime, today: date) -> dict[int, str]:
    """{stage id: today + the stage's typical cycle, as YYYY-MM-DD}: the form's placeholders."""
    return {
        pk: (today + timedelta(days=span)).isoformat()
        for pk, span in stage_cycle_days(now=now).items()
    }
