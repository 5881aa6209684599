"""Orchestration of a rebuild: lock, snapshot, rollups and cache in one transaction, recorded.

The rollups are written by the families of insights.families, the same ones in the same
order for a full and an incremental rebuild: full() for a full one; for an incremental one,
take_off() from identity's before_write hook and add_back() after identity. RebuildRun.timings
records "snapshot" (identity, and the families' take_off), one phase per family under its
name ("rollups", "lifecycle", "service", "customer_value", "health"), and in a full run the
finer phases of the core and lifecycle rollups ("clear", "deal_facts", ..., "retention_cells").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from chats.models import ChatContact
from customers.identity import ResolvedScope, snapshot_rebuild
from customers.models import Contact, Customer, CustomerAlias

from . import families, fanout, incremental, rollup
from .engine.db import rebuild_memory_set
from .engine.warm import figures_warm
from .locks import locked_transaction
from .models import FigureCache, RebuildRun
from .periods import PRESETS, local_today, preset_period

logger = logging.getLogger(__name__)

DEAD_RUN_ERROR = "the rebuild's process ended without finishing (its lock was free)"

Progress = Callable[[str, int, int], None]

SNAPSHOT_TABLES = tuple(
    model._meta.db_table for model in (Customer, CustomerAlias, Contact, ChatContact)
)
# The tables an incremental rebuild still rewrites whole: those of the families that do not
# follow changes, and the figure cache.
WHOLE_TABLES = families.tables_written(families.FAMILIES, whole_only=True) + (
    FigureCache._meta.db_table,
)
# Every table a full rebuild deletes and rewrites (or, for the records, updates).
REWRITTEN_TABLES = (
    SNAPSHOT_TABLES + families.tables_written(families.FAMILIES) + (FigureCache._meta.db_table,)
)
# Written into each run's rows: an incremental rebuild follows only a run whose rollups have
# the inputs it subtracts (format 2: ServiceRoomFact has each room's customer; 3: its
# service-level columns, METRICS.md §L; 4: DailySum's won_deals, §P's win rate).
ROLLUP_FORMAT = 4


def _preset_periods(today: date) -> list:
    periods = {}
    for name in PRESETS:
        period = preset_period(name, today)
        periods[(period.start, period.end)] = period
    return list(periods.values())


def rebuild_now() -> datetime:
    """The rebuild's now (METRICS.md §L); a function so that tests can set it."""
    return timezone.now()


def insights_rebuild(
    *,
    trigger: str,
    full: bool = False,
    progress: Progress | None = None,
    wait: bool = False,
    parts_wait: bool = True,
) -> RebuildRun:
    """Rebuild snapshot, rollups and figure cache atomically; returns the recorded run.

    A second rebuild while one runs records status "skipped" (or waits when wait=True). On an
    error the transaction rolls back, the previous results stay, the run records "failed" and
    the error is re-raised.

    With settings.INSIGHTS_REBUILD_PARTS > 1 a full rebuild fans out (rebuild_parts_start):
    the snapshot commits first, the parts run on Celery workers and the last step switches
    the readers. parts_wait=False returns the run while it is still "running" (a Celery task
    must not wait for the chord it started); else this waits for the run to end.
    """
    run = RebuildRun.objects.create(trigger=trigger[:100], status=RebuildRun.Status.RUNNING)
    timings: dict[str, float] = {}
    shards: list = []
    try:
        with locked_transaction(wait=wait) as acquired:
            live = fanned_out_run_live(but=run.pk) if acquired else None
            if not acquired or live is not None:
                logger.info("insights rebuild skipped: another rebuild is running")
                run.status = RebuildRun.Status.SKIPPED
                run.finished_at = timezone.now()
                run.error = (
                    "another rebuild was running"
                    if live is None
                    else f"fanned-out rebuild {live} is running"
                )
                run.save(update_fields=["status", "finished_at", "error"])
                return run
            # Holding the lock: any other run still "running" was killed (SIGKILL) mid-way.
            dead_runs_fail(but=run.pk)
            rebuild_memory_set()
            started = time.monotonic()
            changes = incremental.changes_take(limit=incremental.changes_limit())
            why_full = _full_reason(full=full, changes=changes)
            # One orchestrator for both kinds of rebuild: every family of families.FAMILIES
            # runs full() without a scope, take_off() and add_back() with one.
            rollup_families = families.FAMILIES
            scope = None if why_full else incremental.ChangeScope(changes)
            if scope is not None:
                scope.open()
            resolved = ResolvedScope()
            snapshot_rows = snapshot_rebuild(
                full=full,
                progress=progress,
                scope=resolved,
                before_write=(
                    partial(families.families_take_off, rollup_families, scope) if scope else None
                ),
            )
            if scope is not None and resolved.full:
                scope.close()  # identity found too much changed and resolved everything
                scope, why_full = None, "identity resolved every record"
            timings["snapshot"] = round(time.monotonic() - started, 3)
            if (
                scope is not None
                and changes.empty
                and snapshot_rows["records"] == 0
                and _last_run_day() == local_today()
                and not any(family.changed_unlogged() for family in rollup_families)
            ):
                scope.close()
                return _unchanged(run, timings)

            rows: dict[str, int] = {}
            if scope is not None:
                rows["changed_customers"] = scope.customers_after(resolved.new_ids)
                why_full = incremental.too_many_customers(rows["changed_customers"])
                if why_full:
                    # The parts taken off during identity went to the scope's work tables
                    # only; every family's full pass rewrites its tables whole.
                    scope.close()
                    scope = None
            if scope is None:
                # The rollups join the snapshot and the records' new customer links.
                rollup.statistics_refresh(*SNAPSHOT_TABLES)
            if why_full:
                logger.info("insights rebuild %s recomputes everything: %s", run.pk, why_full)
            shards = families.families_parts(rollup_families, scope, fanout.parts_count())
            if shards:
                # A fanned-out run: the snapshot commits with this transaction; the rollups
                # and the run's success commit in rebuild_parts_finish.
                rows.update(_run_rows(scope=None, changes=changes, snapshot_rows=snapshot_rows))
                rows[FANOUT_KEY] = len(shards)
                run.rows = rows
                run.timings = timings
                run.save(update_fields=["rows", "timings"])
            else:
                context = families.RunContext(clock=rebuild_now, progress=progress, timings=timings)
                rows.update(families.families_run(rollup_families, context, scope))
                if scope is not None:
                    scope.close()
                rows.update(_run_rows(scope=scope, changes=changes, snapshot_rows=snapshot_rows))
                # Committed with the rollups: readers switch to the new run in one step.
                _run_succeed(run, rows=rows, timings=timings, now=context.now)
    except BaseException as error:
        RebuildRun.objects.filter(pk=run.pk).update(
            status=RebuildRun.Status.FAILED,
            finished_at=timezone.now(),
            timings=timings,
            error=f"{type(error).__name__}: {error}"[:10000],
        )
        run.refresh_from_db()
        logger.exception("insights rebuild %s failed", run.pk)
        raise
    if shards:
        return rebuild_parts_start(run, shards=len(shards), progress=progress, wait=parts_wait)
    if run.status == RebuildRun.Status.SUCCEEDED:
        _after_commit(run, progress=progress)
    return run


def _run_rows(
    *, scope: incremental.ChangeScope | None, changes: incremental.Changes, snapshot_rows: dict
) -> dict[str, int]:
    rows = {
        "rollup_format": ROLLUP_FORMAT,
        "incremental": int(scope is not None),
        "changed_records": changes.rows,
    }
    rows.update({f"snapshot_{key}": value for key, value in snapshot_rows.items()})
    return rows


def _run_succeed(
    run: RebuildRun, *, rows: dict[str, int], timings: dict[str, float], now: datetime
) -> None:
    """Record the run as succeeded, in the transaction that wrote its rollups."""
    # The figures cached for the last run are of no use once this one commits.
    FigureCache.objects.all().delete()
    run.status = RebuildRun.Status.SUCCEEDED
    run.finished_at = now
    run.rows = rows
    # finished_at is the run's now, not its end: how long it took is kept here.
    timings["to_commit"] = round((timezone.now() - run.started_at).total_seconds(), 3)
    run.timings = timings
    run.save(update_fields=["status", "finished_at", "rows", "timings"])


def _after_commit(run: RebuildRun, *, progress: Progress | None = None) -> None:
    """Warm the committed run's figures and vacuum what it rewrote."""
    figures_cache_warm(run, progress=progress)
    vacuum_seconds = rewritten_tables_vacuum(
        WHOLE_TABLES if run.rows.get("incremental") else REWRITTEN_TABLES
    )
    if vacuum_seconds is not None:
        run.timings = {**run.timings, "vacuum_after_commit": vacuum_seconds}
        RebuildRun.objects.filter(pk=run.pk).update(timings=run.timings)


# --- A fanned-out full rebuild (issue 34) -----------------------------------------------------

# In a fanned-out run's rows: how many parts it has. A run with it that failed committed its
# snapshot (and took the change log) without rollups, so the next rebuild is a full one.
FANOUT_KEY = "fanout_parts"


def rebuild_parts_start(
    run: RebuildRun, *, shards: int, progress: Progress | None = None, wait: bool = True
) -> RebuildRun:
    """Run the parts of a fanned-out run and its last step: as a Celery chord on whatever
    workers are up, or here, in order, without a broker (and on SQLite, insights.fanout).

    In-process, a part that fails aborts the run (the previous run stays, whole) and the
    error is re-raised. Through Celery, the chord's error callback aborts it; with wait, this
    waits for the run to end (succeeded or failed), else it returns the run still running.
    """
    if fanout.parts_in_process():
        results = []
        try:
            for index in range(shards):
                results.append(rebuild_part(run.pk, index, shards, progress=progress))
            return rebuild_parts_finish(run.pk, results, progress=progress)
        except BaseException as error:
            rebuild_parts_abort(run.pk, error)
            raise
    from celery import chord, signature  # the worker's app is configured by Django's settings

    header = [
        signature("insights.rebuild_part", args=(run.pk, index, shards), immutable=True)
        for index in range(shards)
    ]
    body = signature("insights.rebuild_finish", kwargs={"run_id": run.pk})
    body.on_error(signature("insights.rebuild_abort", kwargs={"run_id": run.pk}))
    chord(header)(body)
    if not wait:
        return run
    return run_wait(run)


def run_wait(run: RebuildRun, *, poll_s: float = 0.5) -> RebuildRun:
    """Wait until a run is no longer running (its chord ended, or the timeout marked it)."""
    deadline = time.monotonic() + settings.INSIGHTS_REBUILD_PARTS_TIMEOUT_S
    while True:
        run.refresh_from_db()
        if run.status != RebuildRun.Status.RUNNING or time.monotonic() > deadline:
            return run
        time.sleep(poll_s)


def rebuild_part(
    run_id: int, index: int, count: int, *, progress: Progress | None = None
) -> dict[str, Any]:
    """One part of a fanned-out run, in its own transaction: every family that splits, for
    customer shard `index` of `count`, into the part's staged tables (insights.fanout).
    Returns what the last step records: the rows written and seconds taken."""
    started = time.monotonic()
    tables = families.part_tables(families.FAMILIES, count)
    with transaction.atomic():
        if not RebuildRun.objects.filter(pk=run_id, status=RebuildRun.Status.RUNNING).exists():
            return {"index": index, "skipped": 1}  # aborted (another part failed) or dead
        rebuild_memory_set()
        fanout.part_open(run_id, index, tables)
        context = families.RunContext(clock=rebuild_now, progress=progress)
        rows = families.families_part(families.FAMILIES, fanout.Shard(index, count), context)
        fanout.part_close(run_id, index, tables)
    return {
        "index": index,
        "rows": rows,
        "timings": context.timings,
        "seconds": round(time.monotonic() - started, 3),
    }


def rebuild_parts_finish(
    run_id: int, results: list[dict[str, Any]], *, progress: Progress | None = None
) -> RebuildRun:
    """The last step of a fanned-out run, under the rebuild lock, in one commit: the merged
    parts, the families that run whole, the run recorded as succeeded and its staged tables
    dropped. A run no longer running (aborted, or marked dead) only has its staged rows
    dropped. On an error the run is aborted and the error re-raised."""
    run = RebuildRun.objects.get(pk=run_id)
    try:
        with locked_transaction(wait=True):
            run.refresh_from_db()
            if run.status != RebuildRun.Status.RUNNING:
                fanout.stage_drop(run_id)
                return run
            rebuild_memory_set()
            count = int(run.rows[FANOUT_KEY])
            if any(result.get("skipped") for result in results) or len(results) != count:
                raise RuntimeError(f"{count} parts, of which {len(results)} returned rows")
            timings = dict(run.timings)
            started = time.monotonic()
            context = families.RunContext(clock=rebuild_now, progress=progress, timings=timings)
            rows = dict(run.rows)
            rows.update(
                families.families_finish(
                    families.FAMILIES,
                    context,
                    lambda table, columns: fanout.staged_union(run_id, count, table, columns),
                    count,
                )
            )
            fanout.stage_drop(run_id)
            # What the parts took: the slowest bounds the run on enough workers, the sum is
            # the work one worker would have done.
            seconds = [float(result["seconds"]) for result in results]
            timings["parts_slowest"] = max(seconds)
            timings["parts_sum"] = round(sum(seconds), 3)
            for result in results:
                for phase, value in result["timings"].items():
                    timings[f"part{result['index']}_{phase}"] = value
            timings["finish"] = round(time.monotonic() - started, 3)
            _run_succeed(run, rows=rows, timings=timings, now=context.now)
    except BaseException as error:
        rebuild_parts_abort(run_id, error)
        raise
    _after_commit(run, progress=progress)
    return run


def rebuild_parts_abort(run_id: int, error: BaseException | str | None = None) -> None:
    """A part (or the last step) failed: the run fails, its staged rows go, and the previous
    run's rows, which nothing touched, stay what readers read."""
    with transaction.atomic():
        failed = RebuildRun.objects.filter(pk=run_id, status=RebuildRun.Status.RUNNING).update(
            status=RebuildRun.Status.FAILED,
            finished_at=timezone.now(),
            error=(
                f"{type(error).__name__}: {error}"
                if isinstance(error, BaseException)
                else str(error or "a part failed")
            )[:10000],
        )
        fanout.stage_drop(run_id)
    if failed:
        logger.error("fanned-out insights rebuild %s failed: %s", run_id, error)


def fanned_out_run_live(*, but: int | None = None) -> int | None:
    """The id of a fanned-out run whose parts are still running (within the timeout)."""
    runs = RebuildRun.objects.filter(
        status=RebuildRun.Status.RUNNING,
        rows__has_key=FANOUT_KEY,
        started_at__gte=timezone.now()
        - timedelta(seconds=settings.INSIGHTS_REBUILD_PARTS_TIMEOUT_S),
    )
    if but is not None:
        runs = runs.exclude(pk=but)
    return runs.values_list("pk", flat=True).first()


def figures_cache_warm(run: RebuildRun, *, progress: Progress | None = None) -> None:
    """Compute and cache the preset figures of a committed run (its own transaction).

    After the commit, not before: readers switch to the new figures as soon as the rollups
    are written, and until a figure is warmed the first reader computes it (single-flight).
    At 1M people the warm-up is about a minute, which would otherwise hold every change back
    from the dashboards. It takes the rebuild lock, so it never runs beside another rebuild;
    when one has started meanwhile, it warms its own run and this one's warm-up is skipped.
    A warm-up that fails leaves correct, uncached figures, and says so in the log.
    INSIGHTS_CACHE_WARM off skips it (the test suite does, but for the tests of warming).
    """
    if not settings.INSIGHTS_CACHE_WARM:
        return
    if progress:
        progress("cache", 0, 1)
    started = time.monotonic()
    try:
        with locked_transaction(wait=False) as acquired:
            if not acquired:
                logger.info("figure cache of run %s not warmed: another rebuild runs", run.pk)
                return
            # Every registry section, as its entry in insights.figures says (engine.warm).
            cached = figures_warm(run_id=run.pk, periods=_preset_periods(local_today()))
    except Exception:
        logger.exception("warming the figure cache of run %s failed", run.pk)
        return
    run.rows = {**run.rows, "figure_cache": cached}
    run.timings = {**run.timings, "cache_after_commit": round(time.monotonic() - started, 3)}
    RebuildRun.objects.filter(pk=run.pk).update(rows=run.rows, timings=run.timings)


def _full_reason(*, full: bool, changes: incremental.Changes) -> str:
    """Why this rebuild recomputes every rollup ('' when it can follow the changes)."""
    if full:
        return "a full rebuild was asked for"
    last = (
        RebuildRun.objects.filter(status=RebuildRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .values_list("rows", flat=True)
        .first()
    )
    if not last or last.get("rollup_format") != ROLLUP_FORMAT:
        return "no earlier rebuild of this version to follow"
    last_succeeded = (
        RebuildRun.objects.filter(status=RebuildRun.Status.SUCCEEDED).order_by("-id").first()
    )
    if RebuildRun.objects.filter(
        status=RebuildRun.Status.FAILED,
        rows__has_key=FANOUT_KEY,
        id__gt=last_succeeded.pk if last_succeeded else 0,
    ).exists():
        return "a fanned-out rebuild failed after its snapshot committed"
    return incremental.needs_full(changes)


def _last_run_day() -> date | None:
    finished = (
        RebuildRun.objects.filter(status=RebuildRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .values_list("finished_at", flat=True)
        .first()
    )
    return timezone.localdate(finished) if finished else None


def _unchanged(run: RebuildRun, timings: dict[str, float]) -> RebuildRun:
    """Nothing changed since the last rebuild, today: its figures and cache stay current."""
    run.status = RebuildRun.Status.UNCHANGED
    run.finished_at = timezone.now()
    run.rows = {"changed_records": 0}
    run.timings = timings
    run.save(update_fields=["status", "finished_at", "rows", "timings"])
    return run


def rewritten_tables_vacuum(tables: tuple[str, ...] = REWRITTEN_TABLES) -> float | None:
    """VACUUM (ANALYZE) what the rebuild rewrote, after its commit (PostgreSQL); seconds taken.

    A rebuild deletes and rewrites about ten million rows at 1M people. Without a vacuum their
    old versions stay: where autovacuum is off (or behind), four rebuilds grew the rollup tables
    fourfold and made every phase's scans slower (a full rebuild went from 443 s to 533 s).
    VACUUM cannot run inside a transaction, so a rebuild called within one (a test, a caller's
    atomic block) leaves it to autovacuum. It runs after the commit: readers already see the
    new figures, and the rebuild lock is released (VACUUM and a next rebuild's writes do not
    block each other).
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    started = time.monotonic()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
    return round(time.monotonic() - started, 3)


def dead_runs_fail(*, but: int | None = None) -> int:
    """With the rebuild lock held: every other run still "running" is dead; mark it failed."""
    runs = RebuildRun.objects.filter(status=RebuildRun.Status.RUNNING)
    if but is not None:
        runs = runs.exclude(pk=but)
    live = fanned_out_run_live(but=but)
    if live is not None:
        runs = runs.exclude(pk=live)  # its parts run on workers, without the lock
    failed = runs.update(
        status=RebuildRun.Status.FAILED, finished_at=timezone.now(), error=DEAD_RUN_ERROR
    )
    # Staged rows of runs that ended without their last step (a worker died, a part was
    # still writing when its run was aborted).
    for name in fanout.stage_names():
        if fanout.stage_run_id(name) != live:
            fanout.stage_drop(fanout.stage_run_id(name))
    return failed
