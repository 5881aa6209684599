"""A real round trip: Redis broker, a `celery -A config worker` subprocess, the real task.

Runs when WAWASAN_TEST_REDIS_URL is set (e.g. redis://127.0.0.1:6379/13); skipped otherwise,
unless WAWASAN_REQUIRE_REDIS=1, which makes a missing Redis a failure (CI).
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import override_settings

from config.celery import app as celery_app
from deals.models import PipelineStage
from insights import freshness
from insights.models import DealFact, RebuildRun
from insights.tasks import ping, rebuild_insights
from tests.factories import ContactFactory, DealFactory, StageFactory

REDIS_URL = os.environ.get("WAWASAN_TEST_REDIS_URL", "")
ROOT = Path(settings.BASE_DIR)
CELERY = str(Path(sys.executable).with_name("celery"))

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        not REDIS_URL and os.environ.get("WAWASAN_REQUIRE_REDIS") != "1",
        reason="set WAWASAN_TEST_REDIS_URL to run the Celery + Redis round trip",
    ),
]


def _database_url(tmp: Path) -> str:
    """The worker's database: this test database on PostgreSQL, a migrated file on SQLite."""
    if connection.vendor == "postgresql":
        params = connection.settings_dict
        host = params["HOST"] or "127.0.0.1"
        port = params["PORT"] or 5432
        auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
        return f"postgres://{auth}@{host}:{port}/{params['NAME']}"
    # An in-memory test database cannot be shared with another process.
    url = f"sqlite:///{tmp / 'worker.sqlite3'}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, check=True, timeout=300,
    )  # fmt: skip
    return url


def _forget_connections() -> None:
    """Drop the app's cached result backend and broker pools so a changed conf takes effect.

    Earlier tests used the app in eager mode without a backend; Celery caches both per app.
    """
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _a_saved_deal_is_counted_by_the_debounced_rebuild() -> None:
    """A won deal saved (and committed) here queues insights.rebuild_after_changes through
    Redis; the worker's rebuild counts it (insights/freshness.py)."""
    with override_settings(INSIGHTS_REBUILD_AFTER_CHANGES_S=1):
        cache.delete(freshness.QUEUED_KEY)
        won = StageFactory(
            name="Won", outcome=PipelineStage.Outcome.WON, default_win_probability=100
        )
        deal = DealFactory(stage=won, contact=ContactFactory())
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = RebuildRun.objects.filter(trigger=freshness.TRIGGER).order_by("-pk").first()
        if run is not None and run.status != RebuildRun.Status.RUNNING:
            break
        time.sleep(0.5)
    assert run is not None and run.status == RebuildRun.Status.SUCCEEDED, run
    assert DealFact.objects.filter(deal_id=deal.pk, status="won").exists()


@pytest.mark.django_db(transaction=True)
def test_rebuild_task_round_trip_through_redis_and_a_worker():
    assert REDIS_URL, "WAWASAN_REQUIRE_REDIS=1 but WAWASAN_TEST_REDIS_URL is not set"
    # given: a worker on the same settings module, broker and result backend
    tmp = Path(tempfile.mkdtemp(prefix="wawasan-celery-"))
    database_url = _database_url(tmp)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "INSIGHTS_REBUILD_AFTER_CHANGES_S": "1",
    }
    saved = {key: celery_app.conf[key] for key in ("broker_url", "result_backend")}
    saved_eager = celery_app.conf.task_always_eager
    celery_app.conf.update(broker_url=REDIS_URL, result_backend=REDIS_URL, task_always_eager=False)
    _forget_connections()
    celery_app.control.purge()  # leftovers of an earlier, interrupted run
    log = (tmp / "worker.log").open("w")
    worker = subprocess.Popen(
        [CELERY, "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        # when
        pong = ping.delay().get(timeout=90)
        result = rebuild_insights.delay(trigger="redis round trip").get(timeout=180)

        # then
        assert pong == "pong"
        assert result["status"] == "succeeded"
        if connection.vendor == "postgresql":
            run = RebuildRun.objects.get(pk=result["run_id"])
            assert (run.status, run.trigger) == ("succeeded", "redis round trip")
        else:
            import sqlite3

            with sqlite3.connect(tmp / "worker.sqlite3") as db:
                row = db.execute(
                    "SELECT status, trigger FROM insights_rebuildrun WHERE id = ?",
                    [result["run_id"]],
                ).fetchone()
            assert row == ("succeeded", "redis round trip")

        if connection.vendor == "postgresql":  # the worker shares this database
            _a_saved_deal_is_counted_by_the_debounced_rebuild()
    finally:
        celery_app.conf.update(task_always_eager=saved_eager, **saved)
        _forget_connections()
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()


@pytest.mark.django_db(transaction=True)
def test_a_fanned_out_rebuild_runs_its_parts_as_a_chord_on_workers(settings):
    """Issue 34: the coordinator (here) commits the snapshot and sends a chord of two parts
    and the last step to two Redis workers; the run they finish is the one-transaction one."""
    assert REDIS_URL, "WAWASAN_REQUIRE_REDIS=1 but WAWASAN_TEST_REDIS_URL is not set"
    if connection.vendor != "postgresql":
        pytest.skip("on SQLite the parts run in-process (insights.fanout); no worker needed")
    import random

    from insights import fanout
    from insights.rebuild import insights_rebuild
    from tests.insights.test_incremental import World, everything

    def rollups() -> dict[str, object]:
        # The figure cache is warmed after the commit, which is when the waiting ends.
        return {k: v for k, v in everything().items() if k != "FigureCache"}

    World(random.Random(31))
    assert insights_rebuild(trigger="one transaction", full=True).status == "succeeded"
    expected = rollups()

    tmp = Path(tempfile.mkdtemp(prefix="wawasan-celery-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(tmp),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "INSIGHTS_REBUILD_PARTS": "2",
        "INSIGHTS_REBUILD_AFTER_CHANGES_S": "0",
    }
    saved = {key: celery_app.conf[key] for key in ("broker_url", "result_backend")}
    saved_eager = celery_app.conf.task_always_eager
    celery_app.conf.update(broker_url=REDIS_URL, result_backend=REDIS_URL, task_always_eager=False)
    _forget_connections()
    celery_app.control.purge()
    logs = [(tmp / f"worker{n}.log").open("w") for n in range(2)]
    workers = [
        subprocess.Popen(
            [
                CELERY,
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "-n",
                f"fanout{n}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        for n, log in enumerate(logs)
    ]
    try:
        assert ping.delay().get(timeout=90) == "pong"
        settings.INSIGHTS_REBUILD_PARTS = 2
        # when: the coordinator here, the parts and the last step on the workers
        run = insights_rebuild(trigger="fan-out round trip", full=True)

        # then
        assert run.status == RebuildRun.Status.SUCCEEDED, (run.error, _tail(tmp))
        assert run.rows["fanout_parts"] == 2
        assert {"parts_slowest", "parts_sum", "finish"} <= set(run.timings)
        assert rollups() == expected
        assert fanout.stage_names() == []

        # The worker warms the run's figures after the commit, holding the rebuild lock (a
        # rebuild meanwhile would be skipped): wait for it.
        deadline = time.monotonic() + 120
        while "cache_after_commit" not in run.timings and time.monotonic() < deadline:
            time.sleep(0.5)
            run.refresh_from_db()
        assert run.rows["figure_cache"] > 0

        # and the nightly task's way: it returns while the chord runs on the workers
        result = rebuild_insights.delay(trigger="fan-out task", full=True).get(timeout=180)
        assert result["status"] in ("running", "succeeded")
        deadline = time.monotonic() + 180
        task_run = RebuildRun.objects.get(pk=result["run_id"])
        while task_run.status == RebuildRun.Status.RUNNING and time.monotonic() < deadline:
            time.sleep(0.5)
            task_run.refresh_from_db()
        assert task_run.status == RebuildRun.Status.SUCCEEDED, (task_run.error, _tail(tmp))
        assert task_run.rows["fanout_parts"] == 2
        assert rollups() == expected
    finally:
        celery_app.conf.update(task_always_eager=saved_eager, **saved)
        _forget_connections()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        for log in logs:
            log.close()


def _tail(tmp: Path) -> str:
    return "\n".join(path.read_text()[-2000:] for path in sorted(tmp.glob("worker*.log")))
