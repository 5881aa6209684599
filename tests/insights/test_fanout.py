"""A full rebuild fanned out over customer shards (issue 34, insights.fanout): the same rows as
the one-transaction rebuild, and all or nothing: a part that fails leaves the previous run
whole and no staged rows behind.

The parts run in-process here (no broker); tests/insights/test_celery_redis.py runs them as a
chord on a real worker.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from insights import families, fanout, rollup
from insights.current_run import latest_succeeded_run
from insights.models import CustomerStats, DealFact, GapCell, RebuildRun
from insights.rebuild import insights_rebuild
from insights.tasks import rebuild_abort_task
from tests.insights.test_incremental import World, everything

pytestmark = pytest.mark.django_db(transaction=True)


def _rollups() -> dict[str, object]:
    """Every rollup table, the service state and the cached figures (test_incremental)."""
    return everything()


@pytest.mark.parametrize("parts", [2, 4])
def test_a_fanned_out_full_rebuild_writes_what_one_transaction_writes(parts, settings):
    World(random.Random(21))
    single = insights_rebuild(trigger="test", full=True)
    assert "fanout_parts" not in single.rows  # the default: one transaction
    expected = _rollups()

    settings.INSIGHTS_REBUILD_PARTS = parts
    run = insights_rebuild(trigger="test", full=True)

    assert run.status == RebuildRun.Status.SUCCEEDED, run.error
    assert run.rows["fanout_parts"] == parts
    # Each part wrote only its customers: the deal facts of all parts add up to every deal.
    assert sum(run.timings[f"part{index}_deal_facts"] >= 0 for index in range(parts)) == parts
    assert run.rows["deal_facts"] == DealFact.objects.count() == single.rows["deal_facts"]
    assert _rollups() == expected
    assert latest_succeeded_run()[0] == run.pk
    assert fanout.stage_names() == []


def test_the_shards_split_customers_and_deals_once_each(settings):
    World(random.Random(22))
    insights_rebuild(trigger="test", full=True)

    def ids(sql: str) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return sorted(row[0] for row in cursor.fetchall())

    shards = [fanout.Shard(index, 3) for index in range(3)]
    customers = [ids(shard.customers) for shard in shards]
    deals = [ids(shard.deals) for shard in shards]
    assert sorted(sum(customers, [])) == ids("SELECT id FROM customers_customer")
    assert sorted(sum(deals, [])) == ids("SELECT id FROM deals_deal")
    assert all(customer % 3 == index for index, c in enumerate(customers) for customer in c)
    # A deal is in its customer's shard.
    facts = dict(DealFact.objects.values_list("deal_id", "customer_id"))
    for index, shard_deals in enumerate(deals):
        for deal in shard_deals:
            if facts.get(deal) is not None:
                assert facts[deal] % 3 == index


def _break_part(monkeypatch, index: int) -> None:
    """Part `index` writes its deal facts, then fails (its own transaction rolls back)."""
    real = rollup.rollup_customer_stats

    def broken(*, customers: str = "") -> int:
        real(customers=customers)
        if f"= {index}" in customers:
            raise RuntimeError(f"part {index} broke")
        return 0

    monkeypatch.setattr(rollup, "rollup_customer_stats", broken)


def _break_finish(monkeypatch) -> None:
    """The last step fails after merging the parts (a family that runs whole breaks)."""

    def broken(self, run):
        raise RuntimeError("health broke in the last step")

    monkeypatch.setattr(families.HealthRollups, "full", broken)


@pytest.mark.cache_warm  # the previous run's cached figures must stay too
@pytest.mark.parametrize("where", ["last part", "first part", "last step"])
def test_a_failed_part_leaves_the_previous_run_whole_and_nothing_staged(
    where, settings, monkeypatch
):
    world = World(random.Random(23))
    previous = insights_rebuild(trigger="test", full=True)
    before = _rollups()
    assert before["DealFact"] and before["FigureCache"]
    for _ in range(3):
        world.edit()  # the next run would write other rows

    settings.INSIGHTS_REBUILD_PARTS = 3
    if where == "last step":
        _break_finish(monkeypatch)
    else:
        _break_part(monkeypatch, 2 if where == "last part" else 0)
    with pytest.raises(RuntimeError, match="broke"):
        insights_rebuild(trigger="test", full=True)

    failed = RebuildRun.objects.order_by("-pk").first()
    assert failed.status == RebuildRun.Status.FAILED
    assert "broke" in failed.error
    # Readers: still the previous run, every table as it was, its cached figures too.
    assert latest_succeeded_run()[0] == previous.pk
    assert _rollups() == before
    assert fanout.stage_names() == []

    # The failed run committed its snapshot and took the change log: the next rebuild, even
    # one that was not asked to be full, recomputes everything, and lands where a
    # one-transaction full rebuild does.
    monkeypatch.undo()
    settings.INSIGHTS_REBUILD_PARTS = 3
    next_run = insights_rebuild(trigger="test")
    assert next_run.status == RebuildRun.Status.SUCCEEDED, next_run.error
    assert next_run.rows["incremental"] == 0 and next_run.rows["fanout_parts"] == 3
    after = _rollups()
    settings.INSIGHTS_REBUILD_PARTS = 1
    insights_rebuild(trigger="test", full=True)
    assert _rollups() == after
    assert after["DealFact"] != before["DealFact"]


def test_a_running_fan_out_holds_other_rebuilds_off_until_it_times_out(settings):
    World(random.Random(24))
    insights_rebuild(trigger="test", full=True)
    stats = CustomerStats.objects.count()
    # A fanned-out run whose parts are on workers (begun, not finished), with a part's rows.
    running = RebuildRun.objects.create(
        trigger="test", status=RebuildRun.Status.RUNNING, rows={"fanout_parts": 2}
    )
    with transaction.atomic():
        fanout.part_open(running.pk, 0, (GapCell._meta.db_table,))
        fanout.part_close(running.pk, 0, (GapCell._meta.db_table,))
    if fanout.parts_in_process() and fanout.stage_names(running.pk) == []:
        pytest.skip("SQLite keeps staged rows per connection")  # pragma: no cover

    skipped = insights_rebuild(trigger="test")

    assert skipped.status == RebuildRun.Status.SKIPPED
    assert str(running.pk) in skipped.error
    running.refresh_from_db()
    assert running.status == RebuildRun.Status.RUNNING
    assert fanout.stage_names(running.pk) != []

    # Past the timeout its worker is taken for dead: failed, staged rows dropped, and the
    # rebuild runs (a full one: the dead run's snapshot committed without rollups).
    RebuildRun.objects.filter(pk=running.pk).update(
        started_at=timezone.now() - timedelta(seconds=settings.INSIGHTS_REBUILD_PARTS_TIMEOUT_S + 1)
    )
    run = insights_rebuild(trigger="test")
    assert run.status == RebuildRun.Status.SUCCEEDED
    assert run.rows["incremental"] == 0
    running.refresh_from_db()
    assert running.status == RebuildRun.Status.FAILED
    assert fanout.stage_names() == []
    assert CustomerStats.objects.count() == stats


def test_the_chords_error_callback_fails_the_run_and_drops_its_staged_rows():
    running = RebuildRun.objects.create(
        trigger="test", status=RebuildRun.Status.RUNNING, rows={"fanout_parts": 2}
    )
    with transaction.atomic():
        fanout.part_open(running.pk, 0, (GapCell._meta.db_table,))
        fanout.part_close(running.pk, 0, (GapCell._meta.db_table,))
    assert fanout.stage_names(running.pk)

    # Celery calls an error callback that takes more than one argument with (request,
    # exception, traceback), in the worker that saw the part fail.
    rebuild_abort_task(object(), RuntimeError("part 1 broke"), None, run_id=running.pk)

    running.refresh_from_db()
    assert running.status == RebuildRun.Status.FAILED
    assert running.error == "RuntimeError: part 1 broke"
    assert fanout.stage_names() == []
