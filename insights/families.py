"""The rollup families of a rebuild: one protocol, one ordered registry, one runner.

Design note
-----------
* A rollup family is the set of tables one writer module rebuilds (insights.rollup's core
  rollups, insights.lifecycle, insights.service, insights.customer_value, insights.health).
  Every family implements RollupFamily. insights.rebuild runs FAMILIES in order, for a full
  rebuild (`full`) and for an incremental one (`take_off`, then `add_back`), through
  families_run and families_take_off: the two kinds of rebuild cannot drift, because there is
  no second list of what a rebuild writes.
* Order matters: a family reads the tables of the families before it (lifecycle reads the
  core's CustomerWonDay, health reads the customer value), never of those after it.
* Incremental rule (insights.incremental has the proof): every row is a sum over customers,
  or deals, of a part that depends only on that customer. take_off(scope) runs before
  identity rewrites any customer and takes A's parts off as the last rebuild counted them;
  add_back(scope, run) runs after it and adds A's parts as they are now. A family whose
  figures are not such sums (one model fitted to every customer) rewrites its tables whole
  in add_back: `follows_changes` False, and its tables are vacuumed after every run.
* Everything a family writes happens in the rebuild transaction, which records the
  RebuildRun in the same commit: readers switch to the new run in one step, and a failure
  anywhere leaves the previous run's rows.

Fan-out over workers (issue 34): full() is a sum of independent parts.
* A family that can be split says so with parts(scope, count): the customer shards
  (insights.fanout.Shard, `customer_id % count`) its work splits into for that scope, or none
  (it then runs whole, in the run's last step). part(shard, run) writes one shard's rows into
  the part's staged tables (`part_tables`, which shadow the live ones, insights.fanout), and
  parts_merge(union, run) replaces the live rows with the parts' in the run's last step.
* Built: the core rollups (deal facts, gap cells, daily sums, repeat cells, won days,
  customer stats, owner sums) and the lifecycle ones (lapse chains, retention cells) in
  customer shards, for a full rebuild. Per-customer tables get their final rows in the part;
  sums over customers get the shard's share, added up by the merge (the gap encoding is
  computed within each customer, so a shard's cells are exact on their own and shards add
  up); running sums and all-time totals are computed on the whole.
* Not split yet (they run whole in the last step, in the same commit): service, customer
  value and health, and every family of an incremental rebuild. The way for them is the
  same: per customer shard for the per-customer tables (ServiceRoomFact, CustomerHealth),
  per month for the day-grain ones (ServiceDayGroup, SurveyDay) and the week- and
  month-grain ServiceWeekGroup and ServiceMonthGroup, whole on the coordinator for what
  needs every customer at once (the customer value fit, from per-shard sufficient
  statistics).
* insights.rebuild runs the parts as a Celery chord (or in-process in order without a broker)
  and finish switches the readers under the rebuild lock in one commit: the rows of the
  families that run whole, the merged parts, the run's record, the staged tables dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Protocol

import numpy as np
from django.utils import timezone

from . import customer_value, forecast, health, incremental, lifecycle, rollup, service
from .fanout import Shard
from .incremental import ChangeScope
from .models import (
    CustomerHealth,
    CustomerNpsDay,
    CustomerValue,
    CustomerValueFit,
    CustomerValueSpend,
    CustomerValueTriple,
    ForecastBacktest,
    LapseChain,
    OpenPipelineDay,
    RetentionCell,
    ServiceDayGroup,
    ServiceMonthGroup,
    ServiceRoomFact,
    ServiceState,
    ServiceWeekGroup,
    SurveyDay,
    SurveyRoomDay,
)

Progress = Callable[[str, int, int], None]
# (table, columns) -> a subquery of every part's staged rows of that table (insights.fanout).
StagedUnion = Callable[[str, Sequence[str]], str]


@dataclass
class RunContext:
    """What a family gets from the rebuild it is part of."""

    clock: Callable[[], datetime]
    progress: Progress | None = None
    # Seconds per phase, recorded in RebuildRun.timings; a family may add finer phases.
    timings: dict[str, float] = field(default_factory=dict)

    @cached_property
    def now(self) -> datetime:
        """The rebuild's now (METRICS.md §L), read once when a family first needs it: the run
        records it as its finish (computed_at), so the figures read do not drift."""
        return self.clock()


class RollupFamily(Protocol):
    """The tables one writer rebuilds, and how, in a full and in an incremental rebuild.

    name: its phase in RebuildRun.timings and in the progress; unique.
    tables: every table it writes (a full rebuild deletes and rewrites them).
    follows_changes: False when add_back rewrites the tables whole.
    full(run): delete and rewrite every row; the rows written, by phase.
    take_off(scope): before identity writes; take A's parts off (or keep them in
        scope.before) as the last rebuild counted them.
    add_back(scope, run): after identity; add A's parts as they are now; the rows written.
    changed_unlogged(): an input the change log does not see changed since the last run (a
        rebuild that found nothing in the log still runs then).
    parts(scope, count): the shards its work for that scope (None: a full rebuild) splits
        into, each run by part(); none when it runs whole (full or add_back) in the last step.
    part_tables: the tables its parts write (staged, insights.fanout).
    part(shard, run): one shard's rows into the part's staged tables; the rows written.
    parts_merge(union, run): in the last step, replace its live rows with the parts'.
    """

    name: str
    tables: tuple[str, ...]
    follows_changes: bool

    def changed_unlogged(self) -> bool: ...

    def full(self, run: RunContext) -> dict[str, int]: ...

    def take_off(self, scope: ChangeScope) -> None: ...

    def add_back(self, scope: ChangeScope, run: RunContext) -> dict[str, int]: ...

    part_tables: tuple[str, ...]

    def parts(self, scope: ChangeScope | None, count: int) -> list[Shard]: ...

    def part(self, shard: Shard, run: RunContext) -> dict[str, int]: ...

    def parts_merge(self, union: StagedUnion, run: RunContext) -> dict[str, int]: ...


class WholeFamily:
    """A family whose work is not split: it runs whole (full or add_back) in the last step."""

    part_tables: tuple[str, ...] = ()

    def parts(self, scope: ChangeScope | None, count: int) -> list[Shard]:
        return []

    def part(self, shard: Shard, run: RunContext) -> dict[str, int]:
        raise NotImplementedError(f"{type(self).__name__} runs whole")

    def parts_merge(self, union: StagedUnion, run: RunContext) -> dict[str, int]:
        raise NotImplementedError(f"{type(self).__name__} runs whole")


def _tables(*models: type) -> tuple[str, ...]:
    return tuple(model._meta.db_table for model in models)  # type: ignore[attr-defined]


class CoreRollups:
    """insights.rollup: deal facts, gap cells, daily sums, repeat cells, won days, customer
    stats and owner sums. Its full run records one timing per table (rollup.PHASES)."""

    name = "rollups"
    tables = _tables(*rollup.ROLLUP_MODELS)
    follows_changes = True

    def changed_unlogged(self) -> bool:
        return False  # every input it reads is logged

    def full(self, run: RunContext) -> dict[str, int]:
        rows, timings = rollup.rollup_rebuild(progress=run.progress)
        run.timings.update(timings)
        return rows

    def take_off(self, scope: ChangeScope) -> None:
        incremental.rollups_take_off(scope)

    def add_back(self, scope: ChangeScope, run: RunContext) -> dict[str, int]:
        return incremental.rollups_add_back(scope)

    part_tables = tables

    def parts(self, scope: ChangeScope | None, count: int) -> list[Shard]:
        """Customer shards of a full rebuild; an incremental one runs whole (it is small)."""
        if scope is not None or count < 2:
            return []
        return [Shard(index, count) for index in range(count)]

    def part(self, shard: Shard, run: RunContext) -> dict[str, int]:
        rows, timings = rollup.rollup_part(
            customers=shard.customers, deals=shard.deals, progress=run.progress
        )
        run.timings.update(timings)
        return rows

    def parts_merge(self, union: StagedUnion, run: RunContext) -> dict[str, int]:
        return rollup.rollup_parts_merge(union)


class LifecycleRollups:
    """insights.lifecycle: lapse chains and retention cells, from the core's won days."""

    name = "lifecycle"
    tables = _tables(LapseChain, RetentionCell)
    follows_changes = True

    def changed_unlogged(self) -> bool:
        return False  # every input it reads is logged

    def full(self, run: RunContext) -> dict[str, int]:
        rows, timings = lifecycle.lifecycle_rollup_rebuild()
        run.timings.update(timings)
        return rows

    def take_off(self, scope: ChangeScope) -> None:
        incremental.lifecycle_take_off(scope)

    def add_back(self, scope: ChangeScope, run: RunContext) -> dict[str, int]:
        return incremental.lifecycle_add_back(scope)

    part_tables = tables

    def parts(self, scope: ChangeScope | None, count: int) -> list[Shard]:
        """Customer shards of a full rebuild, after the core's in the same part (it reads
        the part's won days)."""
        return CoreRollups().parts(scope, count)

    def part(self, shard: Shard, run: RunContext) -> dict[str, int]:
        rows, timings = lifecycle.lifecycle_rollup_rebuild(customers=shard.customers)
        run.timings.update(timings)
        return rows

    def parts_merge(self, union: StagedUnion, run: RunContext) -> dict[str, int]:
        return lifecycle.lifecycle_parts_merge(union)


class ServiceRollups(WholeFamily):
    """insights.service: room facts, day groups, survey days, as of the run's now."""

    name = "service"
    tables = _tables(
        ServiceRoomFact,
        ServiceDayGroup,
        ServiceWeekGroup,
        ServiceMonthGroup,
        SurveyDay,
        SurveyRoomDay,
        ServiceState,
    )
    follows_changes = True

    def changed_unlogged(self) -> bool:
        """Targets, business hours and holidays leave no change record: their key does."""
        return service.last_clock_key() != service.calendar_key()

    def full(self, run: RunContext) -> dict[str, int]:
        return service.service_rebuild(now=run.now, timings=run.timings)

    def take_off(self, scope: ChangeScope) -> None:
        """Nothing: add_back compares each room's old fact with its new one."""

    def add_back(self, scope: ChangeScope, run: RunContext) -> dict[str, int]:
        return incremental.service_add_back(scope, now=run.now)


class CustomerValueRollups(WholeFamily):
    """insights.customer_value: the model's inputs as of the days figures ask for most, and one
    model fitted to every customer; rewritten whole, or kept when its only inputs (the buying
    days and their revenue, the as-of day) are the same."""

    name = "customer_value"
    tables = _tables(CustomerValue, CustomerValueFit, CustomerValueTriple, CustomerValueSpend)
    follows_changes = False

    def changed_unlogged(self) -> bool:
        return False  # every input it reads is logged

    def full(self, run: RunContext) -> dict[str, int]:
        return {"customer_value": customer_value.customer_value_rebuild(timings=run.timings)}

    def take_off(self, scope: ChangeScope) -> None:
        """Nothing: the fit reads every customer."""

    def add_back(self, scope: ChangeScope, run: RunContext) -> dict[str, int]:
        if not scope.buying_days_changed and customer_value.fitted_today():
            return {"customer_value_kept": 1}  # same inputs, same fit: nothing to redo
        return self.full(run)


class HealthRollups(WholeFamily):
    """insights.health: each customer's NPS days and health score. It reads the rooms, the
    answers and the customer value, so it is rewritten whole on every run that changed
    anything (a pass over per-customer tables)."""

    name = "health"
    tables = _tables(CustomerNpsDay, CustomerHealth)
    follows_changes = False

    def changed_unlogged(self) -> bool:
        return False  # every input it reads is logged

    def full(self, run: RunContext) -> dict[str, int]:
        return {
            "customer_nps_days": health.nps_days_rebuild(),
            "customer_health": health.customer_health_rebuild(),
        }

    def take_off(self, scope: ChangeScope) -> None:
        """Nothing: rewritten whole."""

    def add_back(self, scope: ChangeScope, run: RunContext) -> dict[str, int]:
        return self.full(run)


class ForecastRollups(WholeFamily):
    """insights.forecast: the open pipeline per expected close day, stage and owner, and the
    backtest of the run's day. A sum over the open deals and one model fit, so rewritten whole
    on every run that changed anything."""

    name = "forecast"
    tables = _tables(OpenPipelineDay, ForecastBacktest)
    follows_changes = False

    def changed_unlogged(self) -> bool:
        return False  # every input it reads is logged (a new day: readers compute their own)

    def full(self, run: RunContext) -> dict[str, int]:
        return {
            "open_pipeline_days": forecast.open_pipeline_rebuild(),
            "forecast_backtest": forecast.backtest_rebuild(timezone.localdate(run.now)),
        }

    def take_off(self, scope: ChangeScope) -> None:
        """Nothing: rewritten whole."""

    def add_back(self, scope: ChangeScope, run: RunContext) -> dict[str, int]:
        return self.full(run)


# In the order they run: each reads only the tables of the families before it.
FAMILIES: tuple[RollupFamily, ...] = (
    CoreRollups(),
    LifecycleRollups(),
    ServiceRollups(),
    CustomerValueRollups(),
    HealthRollups(),
    ForecastRollups(),
)


def families_take_off(
    families: Sequence[RollupFamily], scope: ChangeScope, old_ids: np.ndarray
) -> None:
    """Identity's before_write hook of an incremental rebuild: find A, then every family
    takes A's parts off while the customers still hold what the last rebuild counted."""
    scope.customers_before(old_ids)
    for family in families:
        family.take_off(scope)


def families_run(
    families: Sequence[RollupFamily], run: RunContext, scope: ChangeScope | None
) -> dict[str, int]:
    """Every family in order: full() without a scope, else add_back(scope, run). Each
    family's seconds go to run.timings under its name; returns the rows written."""
    rows: dict[str, int] = {}
    for index, family in enumerate(families):
        if run.progress:
            run.progress(family.name, index, len(families))
        started = time.monotonic()
        rows.update(family.full(run) if scope is None else family.add_back(scope, run))
        run.timings[family.name] = round(time.monotonic() - started, 3)
    return rows


def tables_written(families: Sequence[RollupFamily], *, whole_only: bool = False) -> tuple:
    """The tables the families write (whole_only: those rewritten whole on every run)."""
    return tuple(
        table
        for family in families
        if not (whole_only and family.follows_changes)
        for table in family.tables
    )


def families_parts(
    families: Sequence[RollupFamily], scope: ChangeScope | None, count: int
) -> list[Shard]:
    """The shards a run splits into: those of the families that split (one shard list for
    all of them, so each part runs every split family for its shard, in order)."""
    shards = {(shard.index, shard.count) for f in families for shard in f.parts(scope, count)}
    return [Shard(index, total) for index, total in sorted(shards)]


def families_part(
    families: Sequence[RollupFamily], shard: Shard, run: RunContext
) -> dict[str, int]:
    """One part: every family that splits, in order, for one shard (in the part's staged
    tables); each family's seconds under its name in run.timings."""
    rows: dict[str, int] = {}
    for family in families:
        if any(own == shard for own in family.parts(None, shard.count)):
            started = time.monotonic()
            rows.update(family.part(shard, run))
            run.timings[family.name] = round(time.monotonic() - started, 3)
    return rows


def families_finish(
    families: Sequence[RollupFamily], run: RunContext, union: StagedUnion, count: int
) -> dict[str, int]:
    """The last step of a fanned-out full rebuild, in its one transaction: every family in
    order, merging its parts when it split, else running full(). Seconds per family go to
    run.timings as `<name>` (whole) or `<name>_merge`."""
    rows: dict[str, int] = {}
    for index, family in enumerate(families):
        if run.progress:
            run.progress(family.name, index, len(families))
        started = time.monotonic()
        if family.parts(None, count):
            rows.update(family.parts_merge(union, run))
            run.timings[f"{family.name}_merge"] = round(time.monotonic() - started, 3)
        else:
            rows.update(family.full(run))
            run.timings[family.name] = round(time.monotonic() - started, 3)
    return rows


def part_tables(families: Sequence[RollupFamily], count: int) -> tuple[str, ...]:
    """The tables the parts write (staged in each part)."""
    return tuple(t for f in families if f.parts(None, count) for t in f.part_tables)
