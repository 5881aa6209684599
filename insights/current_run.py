"""The rebuild whose figures are being read: the last successful run, read once per request.

Every cached figure's key holds that run's id and every response its finished_at
(`computed_at`); the dashboard asks for it once per figure. Inside a request passing through
CurrentRunMiddleware the first read is kept until the response leaves the middleware, so a
page reads one run row instead of one per figure, and all its figures come from the same run
even if a rebuild commits meanwhile. Outside it (commands, Celery, tests calling queries
directly) nothing is kept. A rebuild run saved in this process also drops what was kept.
"""

from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.db.models.signals import post_save
from django.http import HttpRequest, HttpResponseBase

from .models import RebuildRun

NO_RUN: tuple[int, datetime | None] = (0, None)

_kept: ContextVar[dict[str, tuple[int, datetime | None]] | None] = ContextVar(
    "insights_current_run", default=None
)


def latest_succeeded_run() -> tuple[int, datetime | None]:
    """(id, finished_at) of the last successful rebuild; (0, None) before the first."""
    kept = _kept.get()
    if kept is not None and "run" in kept:
        return kept["run"]
    row = (
        RebuildRun.objects.filter(status=RebuildRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .values_list("id", "finished_at")
        .first()
    )
    run = (row[0], row[1]) if row is not None else NO_RUN
    if kept is not None:
        kept["run"] = run
    return run


class CurrentRunMiddleware:
    """Keep the last successful run for the length of one request (try/finally: never longer)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        token = _kept.set({})
        try:
            return self.get_response(request)
        finally:
            _kept.reset(token)


def _run_saved(**kwargs: Any) -> None:
    kept = _kept.get()
    if kept is not None:
        kept.clear()


post_save.connect(_run_saved, sender=RebuildRun, dispatch_uid="insights.current_run.saved")
