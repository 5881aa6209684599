"""Issue 13 items 9 and 14: dead runs, "already running", and a broker that does not answer."""

import os
import time
from contextlib import contextmanager
from unittest.mock import patch

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse

from config.celery import app as celery_app
from insights.enqueue import Outcome, rebuild_request
from insights.locks import _advisory_key, lock_file_path
from insights.models import RebuildRun
from insights.rebuild import DEAD_RUN_ERROR
from tests.factories import UserFactory
from tests.insights.build import rebuild

pytestmark = pytest.mark.django_db
RUNS = "/admin/insights/rebuildrun/"


@contextmanager
def another_rebuild_running():
    """The rebuild lock held by another connection (PostgreSQL) or process (SQLite flock)."""
    if connection.vendor == "postgresql":
        import psycopg

        params = connection.get_connection_params()
        other = psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
        other.autocommit = True
        other.execute("SELECT pg_advisory_lock(%s)", [_advisory_key("insights.rebuild")])
        try:
            yield
        finally:
            other.close()
        return
    import fcntl

    descriptor = os.open(lock_file_path("insights.rebuild"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield
    finally:
        os.close(descriptor)


@pytest.fixture
def runner(client):
    user = UserFactory(username="runner", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_rebuildrun", "run_rebuild", "view_insights"])
    )
    client.force_login(user)
    return user


def test_a_killed_run_is_marked_failed_by_the_next_rebuild():
    # given: a run a SIGKILL left "running"; its lock died with the process
    dead = RebuildRun.objects.create(trigger="celery", status=RebuildRun.Status.RUNNING)

    # when
    run = rebuild()

    # then
    dead.refresh_from_db()
    assert run.status == RebuildRun.Status.SUCCEEDED
    assert (dead.status, dead.error) == (RebuildRun.Status.FAILED, DEAD_RUN_ERROR)
    assert dead.finished_at is not None


def test_the_runs_page_marks_a_dead_run_failed(client, runner):
    # given
    dead = RebuildRun.objects.create(trigger="celery", status=RebuildRun.Status.RUNNING)

    # when
    client.get(RUNS)

    # then
    dead.refresh_from_db()
    assert dead.status == RebuildRun.Status.FAILED


def test_a_run_whose_lock_is_held_is_not_marked_failed(client, runner):
    # given: a live rebuild (lock held) with its run "running"
    live = RebuildRun.objects.create(trigger="celery", status=RebuildRun.Status.RUNNING)

    # when
    with another_rebuild_running():
        client.get(RUNS)

    # then
    live.refresh_from_db()
    assert live.status == RebuildRun.Status.RUNNING


@pytest.mark.parametrize(
    "url",
    [reverse("admin:insights_rebuildrun_rebuild_now"), "/admin/insights/dashboard/recompute/"],
)
def test_rebuild_now_while_one_runs_says_already_running(client, runner, url):
    # when
    with another_rebuild_running():
        response = client.post(url, follow=True)

    # then: no success claimed, and no skipped run queued behind the live one
    html = response.content.decode()
    assert "A rebuild is already running" in html
    assert "Rebuild finished" not in html and "queued" not in html
    assert not RebuildRun.objects.exists()


def test_rebuild_now_without_a_broker_runs_and_says_so(client, runner):
    # when
    with patch("insights.rebuild.snapshot_rebuild", return_value={}):
        response = client.post(reverse("admin:insights_rebuildrun_rebuild_now"), follow=True)

    # then
    assert "Rebuild finished; the figures are current." in response.content.decode()
    assert RebuildRun.objects.get().status == RebuildRun.Status.SUCCEEDED


def _producer_pools_forget() -> None:
    celery_app.amqp._producer_pool = None
    celery_app._pool = None


def test_an_unreachable_broker_fails_within_2_seconds_with_a_clear_message(client, runner):
    # given: a real broker URL nobody listens on
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url="redis://127.0.0.1:9/0", task_always_eager=False)
    # The app keeps the producer pool of the broker it first published to (an earlier test's
    # eager tasks): forget it, so this publish goes to the new URL (the old pool stays open).
    _producer_pools_forget()
    try:
        # when
        started = time.monotonic()
        answer = rebuild_request(trigger="test")
        elapsed = time.monotonic() - started
        response = client.post(reverse("admin:insights_rebuildrun_rebuild_now"), follow=True)
    finally:
        celery_app.conf.update(**saved)
        _producer_pools_forget()

    # then
    assert answer.outcome == Outcome.UNREACHABLE
    assert elapsed < 2
    html = response.content.decode()
    assert "could not be queued" in html and "Retry limit exceeded" not in html
    assert not RebuildRun.objects.exists()
