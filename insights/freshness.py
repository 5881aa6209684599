"""Figures that follow the day's work: a rebuild queued after edits commit, debounced.

A rep who wins a deal at 10:00 should see it on the dashboard within a minute, not the next
morning. Every save or delete of a record the figures read (insights.watched: companies,
contacts, deals and their items, stages, products, lost reasons, exchange rates, chat
contacts, rooms, survey answers, match rules, service targets and holidays) asks, once its
transaction commits, for a rebuild in `INSIGHTS_REBUILD_AFTER_CHANGES_S` seconds (default 30;
0 turns it off):

* Debounced: the first change sets a cache key that lives as long as the delay and queues one
  task with that countdown; the changes of the next seconds find the key and queue nothing, so
  a burst of saves queues one run. After the key expires the next change queues the next run.
* Never two at once: the task takes the rebuild lock like every rebuild; when another rebuild
  holds it, the task tries again after the delay (a change committed after the running
  rebuild read the records must not wait for the nightly run).
* Only with a broker: without one (the embedded default) tasks run in the request, and a
  rebuild per save would make every admin save as slow as a rebuild. There the figures update
  at the scheduled rebuild or with "Rebuild now".
* The CSV importer writes in bulk (no model signals) and announces a load that created or
  updated rows with `imports.importer.records_imported`, which queues the same rebuild; a dry
  run rolls back, so it queues nothing. The rebuild's own writes queue nothing.

The rebuild it queues is the default incremental one (insights/incremental.py): identity
re-resolves only the records that changed, and the rollups recompute only the customers and
days those changes touch. At 1M people a saved won deal is counted about 45 s after the save
(the 30 s delay and a 15 s run; docs/BENCHMARKS.md, "Round five").
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

from imports.importer import records_imported

from .enqueue import _eager
from .tasks import AFTER_CHANGES_TRIGGER, rebuild_after_changes
from .watched import watched_models

logger = logging.getLogger(__name__)

# Every model of the one list of what the figures read (insights.watched, with the triggers).
WATCHED_MODELS: tuple[type[models.Model], ...] = watched_models()
QUEUED_KEY = "insights:rebuild-after-changes"
DEFAULT_DELAY_S = 30
TRIGGER = AFTER_CHANGES_TRIGGER


def delay_seconds() -> int:
    """Seconds between the first change and its rebuild; 0 when the feature is off."""
    return max(0, int(getattr(settings, "INSIGHTS_REBUILD_AFTER_CHANGES_S", DEFAULT_DELAY_S)))


def _broker_configured() -> bool:
    return not _eager()


def rebuild_soon() -> bool:
    """Queue one rebuild in delay_seconds() unless one is already queued; True when queued.

    Called after a commit, so it never raises: a broker that does not answer loses this
    run (the scheduled rebuild still comes) and is logged.
    """
    delay = delay_seconds()
    if not delay or not _broker_configured():
        return False
    if not cache.add(QUEUED_KEY, "queued", timeout=delay):
        return False  # a run is already queued for this burst of changes
    try:
        rebuild_after_changes.apply_async(kwargs={"retry_in": delay}, countdown=delay, retry=False)
    except Exception:  # noqa: BLE001 - after the commit nothing may fail; said in the log
        cache.delete(QUEUED_KEY)
        logger.exception("could not queue the rebuild after changes")
        return False
    return True


def _changed(sender: type[models.Model], *, raw: bool = False, **kwargs: object) -> None:
    if raw or not delay_seconds():  # loaddata writes fixtures as they are: nothing to follow
        return
    transaction.on_commit(rebuild_soon)


def _imported(sender: object, **kwargs: object) -> None:
    if delay_seconds():
        transaction.on_commit(rebuild_soon)


def changes_watch() -> None:
    """Connect the watched models' save and delete signals, and the importer's (from
    InsightsConfig.ready)."""
    records_imported.connect(_imported, dispatch_uid="insights.freshness.imported")
    for model in WATCHED_MODELS:
        uid = f"insights.freshness.{model._meta.label_lower}"
        post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}.delete")
