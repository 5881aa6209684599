"""Asking for a rebuild from a page: queue it, or say plainly why not (issue 13 items 9, 14).

"Rebuild now", "Recompute now" and an erasure's follow-up all ask here. The answer is one of
the RebuildRequest outcomes, each with a sentence the page shows as it is:
- RUNNING: a rebuild holds the lock, so a new one would only be skipped; nothing is queued;
- QUEUED: a worker will run it (a broker is configured);
- DONE / FAILED: no broker, so it ran in this request and finished, or failed;
- UNREACHABLE: the broker did not answer within BROKER_TIMEOUT_S; nothing was queued.
A run a killed process left "running" (its lock is free) is marked failed first.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from .locks import locked_transaction
from .models import RebuildRun
from .rebuild import dead_runs_fail

logger = logging.getLogger(__name__)

# A page waits at most this long for the broker to take the task (not 19 s of retries);
# settings.CELERY_BROKER_CONNECTION_TIMEOUT (1.5 s) keeps the broker's part within it.
BROKER_TIMEOUT_S = 2.0


class Outcome(enum.Enum):
    RUNNING = "running"
    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class RebuildRequest:
    outcome: Outcome
    message: str

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.QUEUED, Outcome.DONE)


def rebuild_runs_reap() -> int:
    """Mark failed the runs still "running" while nobody holds the rebuild lock; how many.

    A rebuild killed with SIGKILL never records its end, and its lock dies with it (an
    advisory lock with the connection, a flock with the process): a free lock and a running
    run therefore mean a dead run.
    """
    with locked_transaction(wait=False) as acquired:
        return dead_runs_fail() if acquired else 0


def rebuild_is_running() -> bool:
    """True while another rebuild holds the lock (dead runs are reaped on the way)."""
    with locked_transaction(wait=False) as acquired:
        if acquired:
            dead_runs_fail()
        return not acquired


def _eager() -> bool:
    from config.celery import app

    return bool(app.conf.task_always_eager)


def rebuild_request(*, trigger: str) -> RebuildRequest:
    """Queue a rebuild (or run it, without a broker) and say what happened."""
    from .tasks import rebuild_insights

    if rebuild_is_running():
        return RebuildRequest(
            Outcome.RUNNING,
            _("A rebuild is already running; the figures update when it finishes."),
        )
    if _eager():
        try:
            result = rebuild_insights.apply(kwargs={"trigger": trigger}, throw=True).get()
        except Exception as error:  # noqa: BLE001 - shown to the user, and logged
            logger.exception("rebuild requested by %s failed", trigger)
            return RebuildRequest(
                Outcome.FAILED,
                _("The rebuild failed: %(error)s") % {"error": f"{type(error).__name__}"},
            )
        if result.get("status") == RebuildRun.Status.SKIPPED:
            return RebuildRequest(
                Outcome.RUNNING,
                _("A rebuild is already running; the figures update when it finishes."),
            )
        return RebuildRequest(Outcome.DONE, _("Rebuild finished; the figures are current."))
    try:
        rebuild_insights.apply_async(
            kwargs={"trigger": trigger},
            retry=False,  # Celery's default publish retries held the page 19 s
        )
    except Exception:  # noqa: BLE001 - any broker error: nothing queued, said plainly, logged
        logger.exception("could not queue a rebuild for %s", trigger)
        return RebuildRequest(
            Outcome.UNREACHABLE,
            _(
                "The rebuild could not be queued: the task queue (%(broker)s) did not answer. "
                "The figures will update at the next scheduled rebuild."
            )
            % {"broker": _broker_name()},
        )
    return RebuildRequest(Outcome.QUEUED, _("Rebuild queued; the figures update when it finishes."))


def erasure_follow_up(sender: object, *, record: object, **kwargs: object) -> str:
    """After an erasure commits: queue a rebuild so the figures stop counting the person.

    Never runs or waits for the rebuild in the request (a running rebuild once held the erase
    request until the worker was killed). Without a broker the figures update at the next
    rebuild, and the message offers "Rebuild now".
    """
    link = format_html(
        '<a href="{}">{}</a>', reverse("admin:insights_rebuildrun_changelist"), _("Rebuild now")
    )
    if _eager():
        return format_html(
            "{} {}",
            _("The figures still count this person until the next rebuild."),
            link,
        )
    answer = rebuild_request(trigger=f"erasure of customer {getattr(record, 'customer_id', '')}")
    if answer.outcome == Outcome.QUEUED:
        return _("A rebuild is queued; the figures stop counting this person when it finishes.")
    if answer.outcome == Outcome.RUNNING:
        return format_html(
            "{} {}",
            _(
                "A rebuild is running and may still count this person; the figures drop them "
                "at the next rebuild, or use Rebuild now once it finishes."
            ),
            link,
        )
    return format_html("{} {}", answer.message, link)


def _broker_name() -> str:
    url = str(getattr(settings, "CELERY_BROKER_URL", "") or "")
    return url.split("://", 1)[0] or "broker"
