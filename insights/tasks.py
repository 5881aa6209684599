"""Celery wrappers only: the work is insights.rebuild.insights_rebuild."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .rebuild import insights_rebuild


@shared_task(
    name="insights.rebuild", autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3
)
def rebuild_insights(trigger: str = "celery", full: bool = False) -> dict[str, object]:
    # OperationalError (connection lost, lock timeout) can heal; a bug in a phase cannot.
    run = insights_rebuild(trigger=trigger, full=full)
    return {"run_id": run.pk, "status": run.status}


@shared_task(name="insights.ping")
def ping() -> str:
    """A no-op round trip for worker health checks."""
    return "pong"
