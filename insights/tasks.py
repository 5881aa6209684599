"""Celery wrappers only: the work is insights.rebuild.insights_rebuild."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .models import RebuildRun
from .rebuild import insights_rebuild


@shared_task(
    name="insights.rebuild",
    autoretry_for=(OperationalError,),
    # 5, 10, 20, 40, 80 s: a PostgreSQL restart takes seconds. Celery's default full jitter
    # drew the first countdowns from 0-1 s and 0-2 s, so all retries could land inside one
    # restart; one nightly task under a lock has no thundering herd for jitter to spread.
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=False,
    max_retries=5,
)
def rebuild_insights(trigger: str = "celery", full: bool = False) -> dict[str, object]:
    # OperationalError (connection lost, lock timeout) can heal; a bug in a phase cannot.
    run = insights_rebuild(trigger=trigger, full=full)
    return {"run_id": run.pk, "status": run.status}


# The trigger recorded on the runs that insights.freshness queues after edits.
AFTER_CHANGES_TRIGGER = "changes in the records"


@shared_task(name="insights.rebuild_after_changes", bind=True, max_retries=20)
def rebuild_after_changes(self, retry_in: int = 30) -> dict[str, object]:
    """The debounced rebuild of insights.freshness; while another rebuild holds the lock,
    try again in `retry_in` seconds (this run's changes may be newer than what it reads)."""
    run = insights_rebuild(trigger=AFTER_CHANGES_TRIGGER)
    if run.status == RebuildRun.Status.SKIPPED:
        raise self.retry(countdown=retry_in)
    return {"run_id": run.pk, "status": run.status}


@shared_task(name="insights.ping")
def ping() -> str:
    """A no-op round trip for worker health checks."""
    return "pong"
