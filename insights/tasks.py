"""Celery wrappers only: the work is insights.rebuild.insights_rebuild."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .models import RebuildRun
from .rebuild import (
    insights_rebuild,
    rebuild_part,
    rebuild_parts_abort,
    rebuild_parts_finish,
)


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
    # A fanned-out run returns while its parts run (a task must not wait for its own chord).
    run = insights_rebuild(trigger=trigger, full=full, parts_wait=False)
    return {"run_id": run.pk, "status": run.status}


# The trigger recorded on the runs that insights.freshness queues after edits.
AFTER_CHANGES_TRIGGER = "changes in the records"


@shared_task(name="insights.rebuild_after_changes", bind=True, max_retries=20)
def rebuild_after_changes(self, retry_in: int = 30) -> dict[str, object]:
    """The debounced rebuild of insights.freshness; while another rebuild holds the lock,
    try again in `retry_in` seconds (this run's changes may be newer than what it reads)."""
    run = insights_rebuild(trigger=AFTER_CHANGES_TRIGGER, parts_wait=False)
    if run.status == RebuildRun.Status.SKIPPED:
        raise self.retry(countdown=retry_in)
    return {"run_id": run.pk, "status": run.status}


# The parts of a fanned-out rebuild (insights.rebuild.rebuild_parts_start): a chord of
# rebuild_part, then rebuild_finish; rebuild_abort is the chord's error callback.


@shared_task(name="insights.rebuild_part")
def rebuild_part_task(run_id: int, index: int, count: int) -> dict[str, object]:
    return rebuild_part(run_id, index, count)


@shared_task(name="insights.rebuild_finish")
def rebuild_finish_task(results: list[dict[str, object]], run_id: int) -> dict[str, object]:
    run = rebuild_parts_finish(run_id, results)
    return {"run_id": run.pk, "status": run.status}


@shared_task(name="insights.rebuild_abort")
def rebuild_abort_task(*args: object, run_id: int) -> None:
    """Called with (request, exception, traceback) by Celery when a part or the last step
    failed."""
    error = next((arg for arg in args if isinstance(arg, BaseException)), None)
    rebuild_parts_abort(run_id, error or "a part of the chord failed")


@shared_task(name="insights.ping")
def ping() -> str:
    """A no-op round trip for worker health checks."""
    return "pong"
