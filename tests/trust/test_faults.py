"""Faults: a rebuild killed or crashing anywhere leaves the previous results; the task retries."""

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from unittest.mock import patch

import pytest
from celery.exceptions import Retry
from django.db import OperationalError, connection

from customers.models import Customer
from insights import queries, rollup
from insights.models import DealFact, RebuildRun
from insights.periods import Period
from insights.rebuild import insights_rebuild
from insights.tasks import rebuild_insights
from tests.factories import ContactFactory, DealFactory, StageFactory
from tests.insights.build import at

ROOT = Path(__file__).resolve().parents[2]
YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))


def _served() -> dict[str, object]:
    """What readers see: the run they read, headline figures, the snapshot's ids."""
    growth = queries.growth_overview(period=YEAR)
    return {
        "computed_at": queries.computed_at(),
        "total": growth.total_customers,
        "new": growth.new_customers,
        "revenue": queries.revenue_kpis(period=YEAR),
        "customers": list(Customer.objects.order_by("id").values_list("id", flat=True)),
        "deal_facts": DealFact.objects.count(),
    }


def _small_world() -> None:
    won = StageFactory(name="Won", outcome="won", default_win_probability=100)
    for n in range(3):
        person = ContactFactory(email=f"p{n}@contoh.id", created_at=at(f"2026-01-0{n + 1}"))
        DealFactory(
            contact=person, stage=won, created_at=at("2026-01-05"), closed_at=at("2026-01-06")
        )


def _crash(*args, **kwargs):
    raise RuntimeError("power cut")


PHASES = ["snapshot", "clear", *(name for name, _ in rollup.PHASES)]


def _break(phase: str):
    """A patch that makes one phase of the rebuild raise."""
    if phase == "snapshot":
        return patch("insights.rebuild.snapshot_rebuild", _crash)
    if phase == "clear":
        return patch.object(rollup, "rollup_clear", _crash)
    phases = tuple((name, _crash if name == phase else fn) for name, fn in rollup.PHASES)
    return patch.object(rollup, "PHASES", phases)


@pytest.mark.django_db
@pytest.mark.parametrize("phase", PHASES)
def test_a_crash_in_any_phase_leaves_the_previous_results(phase):
    # given: a good rebuild, then a new person a completed rebuild would count
    _small_world()
    good = insights_rebuild(trigger="test")
    before = _served()
    ContactFactory(email="late@contoh.id", created_at=at("2026-02-01"))

    # when
    with _break(phase), pytest.raises(RuntimeError, match="power cut"):
        insights_rebuild(trigger="test", full=True)  # every phase runs

    # then: readers see exactly what they saw, and the next run completes
    assert before["total"] == 3 and before["computed_at"] == good.finished_at
    assert _served() == before
    assert RebuildRun.objects.order_by("-id").first().status == RebuildRun.Status.FAILED
    assert insights_rebuild(trigger="test").status == RebuildRun.Status.SUCCEEDED
    assert queries.growth_overview(period=YEAR).total_customers == 4


@pytest.mark.cache_warm
@pytest.mark.django_db
def test_a_crash_while_warming_the_cache_keeps_the_new_figures(caplog):
    # given: a good rebuild, then a new person
    _small_world()
    insights_rebuild(trigger="test")
    ContactFactory(email="late@contoh.id", created_at=at("2026-02-01"))

    # when: the warm-up after the commit breaks
    with patch("insights.rebuild.figures_warm", _crash):
        run = insights_rebuild(trigger="test")

    # then: the run stands, readers compute the new figures themselves, the log says why
    assert run.status == RebuildRun.Status.SUCCEEDED
    assert "figure_cache" not in run.rows
    assert "warming the figure cache" in caplog.text
    assert queries.growth_overview(period=YEAR).total_customers == 4


def _database_url() -> str:
    params = connection.settings_dict
    host = params["HOST"] or "127.0.0.1"
    port = params["PORT"] or 5432
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{auth}@{host}:{port}/{params['NAME']}"


APP_NAME = "wawasan-killed-rebuild"


def _sessions_gone(timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME]
            )
            if cursor.fetchone()[0] == 0:
                return True
            time.sleep(0.05)
    return False


def _wait_for_run_after(run_id: int, process: subprocess.Popen, timeout: float = 60) -> bool:
    """True once the subprocess has recorded its run (it is inside insights_rebuild)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if RebuildRun.objects.filter(pk__gt=run_id).exists():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_killed_at_random_points_leaves_the_previous_results():
    if connection.vendor != "postgresql":
        pytest.skip("another process needs the test database: PostgreSQL only")
    from bench.datagen import dataset_generate

    # given: data big enough for a rebuild to last a while, a good full rebuild, one more person
    dataset_generate(people=6000, seed=5, now=datetime(2026, 11, 20, 5, 0, tzinfo=UTC))
    good = insights_rebuild(trigger="test", full=True)
    before = _served()
    ContactFactory(external_id="late", email="late@contoh.id", created_at=at("2026-02-01"))
    # PGAPPNAME names the killed processes' server sessions, to wait for them to go.
    env = {**os.environ, "DATABASE_URL": _database_url(), "PGAPPNAME": APP_NAME}
    rng = random.Random(8)
    killed: list[int] = []
    late = 1

    # when: `manage.py rebuild_insights --full` is SIGKILLed at random points, several times
    for _attempt in range(6):
        last = RebuildRun.objects.order_by("-id").values_list("id", flat=True).first()
        process = subprocess.Popen(
            [sys.executable, "manage.py", "rebuild_insights", "--full"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        started = _wait_for_run_after(last, process)
        time.sleep(rng.uniform(0.05, 0.6 * good.duration_seconds))
        if not (started and process.poll() is None):
            # Finished first (a loaded machine): its results are the new "previous" ones.
            assert process.wait(timeout=120) == 0
            before = _served()
            late += 1
            ContactFactory(external_id=f"late{late}", created_at=at("2026-02-01"))
            continue
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=120)
        killed.append(RebuildRun.objects.order_by("-id").values_list("id", flat=True)[0])
        # then: the server notices the dead client and rolls its transaction back
        assert _sessions_gone(), "a killed rebuild's session outlived it by a minute"
        assert _served() == before
        if len(killed) == 3:
            break

    # then: the killed runs never succeeded, and the next rebuild runs at once and completes
    assert len(killed) >= 2, "the rebuilds kept finishing before the kill"
    statuses = set(RebuildRun.objects.filter(pk__in=killed).values_list("status", flat=True))
    assert RebuildRun.Status.SUCCEEDED not in statuses
    after = insights_rebuild(trigger="test")
    assert after.status == RebuildRun.Status.SUCCEEDED
    assert queries.growth_overview(period=YEAR).total_customers == before["total"] + 1


def test_the_task_retries_database_faults_with_back_off():
    # given: the database goes away under the rebuild
    fault = OperationalError("server closed the connection unexpectedly")

    # when
    with (
        patch("insights.tasks.insights_rebuild", side_effect=fault),
        patch.object(rebuild_insights, "retry", side_effect=Retry("again")) as retry,
        pytest.raises(Retry),
    ):
        rebuild_insights.run(trigger="test")

    # then: a retry with a back-off of 5 s (no jitter down to 0 s), at most 5 times
    retry.assert_called_once_with(exc=fault, countdown=5)
    assert rebuild_insights.max_retries == 5


def test_the_back_off_doubles_and_the_task_gives_up_loudly_after_five_retries():
    # given: a database that never comes back
    fault = OperationalError("gone")
    with patch("insights.tasks.insights_rebuild", side_effect=fault):
        # when: the fifth retry fails
        rebuild_insights.push_request(retries=4)
        try:
            with patch.object(rebuild_insights, "retry", side_effect=Retry("again")) as retry:
                with pytest.raises(Retry):
                    rebuild_insights.run(trigger="test")
        finally:
            rebuild_insights.pop_request()
        # when: the sixth attempt fails too
        rebuild_insights.push_request(retries=5)
        try:
            with pytest.raises(OperationalError, match="gone"):
                rebuild_insights.run(trigger="test")
        finally:
            rebuild_insights.pop_request()

    # then: 5 * 2**4 s before the last retry, then the error itself, not swallowed
    retry.assert_called_once_with(exc=fault, countdown=80)


def test_the_task_does_not_retry_a_bug():
    # given
    with (
        patch("insights.tasks.insights_rebuild", side_effect=ZeroDivisionError("bug")),
        patch.object(rebuild_insights, "retry") as retry,
        pytest.raises(ZeroDivisionError),
    ):
        # when
        rebuild_insights.run(trigger="test")

    # then
    retry.assert_not_called()
