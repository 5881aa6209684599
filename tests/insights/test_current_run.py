"""insights.current_run: the last successful rebuild, read once per request."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from insights import queries
from insights.current_run import CurrentRunMiddleware, latest_succeeded_run
from insights.engine import cache
from insights.models import RebuildRun


def _run(status: str, finished: str | None) -> RebuildRun:
    moment = datetime.fromisoformat(finished).replace(tzinfo=UTC) if finished else None
    return RebuildRun.objects.create(status=status, finished_at=moment)


def _through_middleware(view) -> HttpResponse:
    """Run `view()` as the inside of a request passing through CurrentRunMiddleware."""
    return CurrentRunMiddleware(lambda request: view())(RequestFactory().get("/"))


@pytest.mark.django_db
def test_latest_run_is_the_last_finished_success():
    # given
    assert latest_succeeded_run() == (0, None)
    first = _run(RebuildRun.Status.SUCCEEDED, "2026-01-01 10:00")
    second = _run(RebuildRun.Status.SUCCEEDED, "2026-01-02 10:00")
    _run(RebuildRun.Status.FAILED, "2026-01-03 10:00")
    _run(RebuildRun.Status.RUNNING, None)
    # when / then
    assert first.pk != second.pk
    assert latest_succeeded_run() == (second.pk, second.finished_at)
    assert queries.computed_at() == second.finished_at


@pytest.mark.django_db
def test_outside_a_request_every_call_reads():
    # given
    _run(RebuildRun.Status.SUCCEEDED, "2026-01-01 10:00")
    # when
    with CaptureQueriesContext(connection) as captured:
        latest_succeeded_run()
        failed = RebuildRun.objects.filter(pk__gt=0).update(status=RebuildRun.Status.FAILED)
        after = latest_succeeded_run()
    # then: an update without save() is seen at once, because nothing was kept
    assert failed == 1
    assert after == (0, None)
    assert len(captured) == 3


@pytest.mark.django_db
def test_inside_a_request_the_run_is_read_once():
    # given
    run = _run(RebuildRun.Status.SUCCEEDED, "2026-01-01 10:00")
    seen = {}

    def view() -> HttpResponse:
        seen["keys"] = [cache.cache_key("growth", n, shape=queries.Growth) for n in range(5)]
        seen["stamp"] = queries.computed_at()
        return HttpResponse()

    # when
    with CaptureQueriesContext(connection) as captured:
        _through_middleware(view)
    # then
    assert len(captured) == 1
    assert all(f"|{run.pk}|growth|" in key for key in seen["keys"])
    assert seen["stamp"] == run.finished_at


@pytest.mark.django_db
def test_a_run_saved_during_the_request_is_read_again():
    # given
    _run(RebuildRun.Status.SUCCEEDED, "2026-01-01 10:00")
    seen = {}

    def view() -> HttpResponse:
        latest_succeeded_run()
        # a rebuild in this process (admin's Rebuild now, eager Celery) commits a run
        seen["newer"] = _run(RebuildRun.Status.SUCCEEDED, "2026-01-02 10:00")
        seen["after"] = latest_succeeded_run()
        return HttpResponse()

    # when
    _through_middleware(view)
    # then
    assert seen["after"] == (seen["newer"].pk, seen["newer"].finished_at)


@pytest.mark.django_db
def test_nothing_is_kept_after_the_request_even_when_it_fails():
    # given: a request read run 1, then raised
    run = _run(RebuildRun.Status.SUCCEEDED, "2026-01-01 10:00")

    def view() -> HttpResponse:
        assert latest_succeeded_run()[0] == run.pk
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        _through_middleware(view)
    # when: another process fails it (no save() here)
    RebuildRun.objects.filter(pk=run.pk).update(status=RebuildRun.Status.FAILED)
    # then
    assert latest_succeeded_run() == (0, None)
