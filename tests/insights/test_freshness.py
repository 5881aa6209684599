"""A rebuild queued after edits commit, debounced (insights/freshness.py)."""

import io
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import transaction

from imports.importer import import_records
from insights import freshness, tasks
from insights.models import RebuildRun
from tests.factories import ChatRoomFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(settings):
    """A configured broker (tasks are queued, not run in the request) and a 30 s delay."""
    settings.INSIGHTS_REBUILD_AFTER_CHANGES_S = 30
    cache.delete(freshness.QUEUED_KEY)
    with (
        mock.patch.object(freshness, "_broker_configured", return_value=True),
        mock.patch.object(tasks.rebuild_after_changes, "apply_async") as apply_async,
    ):
        yield apply_async
    cache.delete(freshness.QUEUED_KEY)


def test_a_saved_deal_queues_one_rebuild_after_its_commit(
    broker, django_capture_on_commit_callbacks
):
    # given: a deal saved inside a transaction
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            DealFactory()
            # then: nothing is queued before the commit
            assert broker.call_count == 0
    # then: after it, one rebuild in 30 s
    broker.assert_called_once_with(kwargs={"retry_in": 30}, countdown=30, retry=False)


def test_a_burst_of_saves_queues_one_rebuild(broker, django_capture_on_commit_callbacks):
    # when: a contact, a deal and a room are saved in three transactions within the delay
    for factory in (ContactFactory, DealFactory, ChatRoomFactory):
        with django_capture_on_commit_callbacks(execute=True):
            factory()
    # then: one run for the burst
    assert broker.call_count == 1


def test_after_the_delay_the_next_change_queues_the_next_rebuild(
    broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deal = DealFactory()
    # when: the queued run's key has expired (its countdown is over) and the deal is deleted
    cache.delete(freshness.QUEUED_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        deal.delete()
    # then: a second run
    assert broker.call_count == 2


def test_a_rolled_back_change_queues_nothing(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            DealFactory()
            raise RuntimeError("the save failed")
    assert broker.call_count == 0


def test_off_with_zero_and_without_a_broker(settings, django_capture_on_commit_callbacks):
    cache.delete(freshness.QUEUED_KEY)
    with mock.patch.object(tasks.rebuild_after_changes, "apply_async") as apply_async:
        # without a broker (the embedded default: tasks run in the request)
        with django_capture_on_commit_callbacks(execute=True):
            DealFactory()
        # and with a broker but a delay of 0
        settings.INSIGHTS_REBUILD_AFTER_CHANGES_S = 0
        with (
            mock.patch.object(freshness, "_broker_configured", return_value=True),
            django_capture_on_commit_callbacks(execute=True),
        ):
            DealFactory()
    assert apply_async.call_count == 0


def test_an_unreachable_broker_loses_the_run_but_not_the_save(
    broker, django_capture_on_commit_callbacks, caplog
):
    broker.side_effect = ConnectionError("redis down")
    with django_capture_on_commit_callbacks(execute=True):
        DealFactory()
    # then: the save stands, the failure is logged, and the next change may queue again
    assert "could not queue the rebuild after changes" in caplog.text
    assert cache.get(freshness.QUEUED_KEY) is None


def test_the_task_retries_while_another_rebuild_holds_the_lock():
    skipped = RebuildRun(status=RebuildRun.Status.SKIPPED)
    with (
        mock.patch.object(tasks, "insights_rebuild", return_value=skipped) as rebuild,
        mock.patch.object(tasks.rebuild_after_changes, "retry", side_effect=RuntimeError) as retry,
        pytest.raises(RuntimeError),
    ):
        tasks.rebuild_after_changes.run(retry_in=45)
    # A fanned-out run returns while its chord runs (a task must not wait for its own parts).
    rebuild.assert_called_once_with(trigger=freshness.TRIGGER, parts_wait=False)
    retry.assert_called_once_with(countdown=45)


def test_the_task_runs_the_incremental_rebuild():
    run = tasks.rebuild_after_changes.apply().get()
    assert run["status"] == RebuildRun.Status.SUCCEEDED
    assert RebuildRun.objects.get(pk=run["run_id"]).trigger == freshness.TRIGGER


def test_a_csv_import_queues_the_rebuild_and_a_dry_run_does_not(
    broker, django_capture_on_commit_callbacks
):
    # given: a companies file (the importer writes in bulk: no model signals)
    def load() -> None:
        import_records(kind="companies", stream=io.StringIO("external_id,name\nc-1,Acme\n"))

    # when: a dry run (the import page's: a transaction rolled back)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            load()
            transaction.set_rollback(True)
    # then: nothing queued
    assert broker.call_count == 0
    # when: the real load
    with django_capture_on_commit_callbacks(execute=True):
        load()
    # then
    assert broker.call_count == 1
