"""The rebuild: atomic, locked, idempotent, recorded; the command, task, schedule and admin."""

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from unittest.mock import patch

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from insights import queries, rollup
from insights.engine import cache
from insights.locks import _advisory_key, lock_file_path
from insights.models import (
    CustomerStats,
    CustomerWonDay,
    DailySum,
    DealFact,
    FigureCache,
    GapCell,
    LapseChain,
    RebuildRun,
    RepeatCell,
    RetentionCell,
)
from insights.rebuild import REWRITTEN_TABLES, insights_rebuild
from insights.tasks import ping, rebuild_insights
from tests.factories import UserFactory
from tests.insights.build import at, customer, deal, period, rebuild, room

pytestmark = pytest.mark.django_db
D = Decimal
TABLES = (
    DealFact, GapCell, DailySum, RepeatCell, CustomerWonDay, CustomerStats, LapseChain,
    RetentionCell,
)  # fmt: skip


def _tables() -> dict[str, list[tuple]]:
    result = {}
    for model in TABLES:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
        result[model.__name__] = sorted(model.objects.values_list(*fields), key=repr)
    return result


def _some_data():
    a = customer("2026-01-05")
    b = customer("2026-01-06")
    deal(a, created="2026-01-07", closed="2026-01-08", outcome="won", amount="120.00")
    deal(b, created="2026-01-09", closed="2026-01-10", outcome="lost", reason="Mahal")
    room(b, created="2026-01-11")
    return a, b


@pytest.mark.cache_warm
def test_rebuild_twice_gives_identical_tables_and_records_runs():
    # given
    _some_data()
    first = rebuild()
    tables = _tables()

    # when
    second = rebuild()

    # then
    assert _tables() == tables
    assert first.status == second.status == RebuildRun.Status.SUCCEEDED
    assert second.rows["deal_facts"] == 2 and second.rows["customer_stats"] == 2
    assert {"clear", "deal_facts", "gap_cells", "cache_after_commit"} <= set(second.timings)
    assert second.finished_at is not None and second.duration_seconds >= 0
    assert queries.computed_at() == second.finished_at


def test_customer_stats_are_all_time_totals():
    # given
    a, b = _some_data()
    deal(a, created="2026-02-01", closed="2026-02-02", outcome="won", amount="0.50")

    # when
    rebuild()

    # then
    stats = CustomerStats.objects.get(customer_id=a.customer_id)
    assert (stats.lifetime_revenue, stats.won_deals, stats.deals) == (D("120.50"), 2, 2)
    assert (stats.chat_rooms, stats.last_activity_at) == (0, at("2026-02-01"))
    other = CustomerStats.objects.get(customer_id=b.customer_id)
    assert (other.lifetime_revenue, other.won_deals, other.deals) == (D("0.00"), 0, 1)
    assert (other.chat_rooms, other.last_activity_at) == (1, at("2026-01-11"))


def test_crash_mid_rebuild_keeps_previous_results_and_records_failure():
    # given: a good rebuild, then new data and a phase that breaks
    a, _ = _some_data()
    good = rebuild()
    jan = period("2026-01-01", "2026-01-31")
    before = queries.revenue_kpis(period=jan)
    deal(a, created="2026-01-20", closed="2026-01-21", outcome="won", amount="1000.00")

    def broken() -> int:
        raise RuntimeError("disk full")

    phases = (*rollup.PHASES[:2], ("daily_sums", broken), *rollup.PHASES[3:])

    # when
    with patch.object(rollup, "PHASES", phases), pytest.raises(RuntimeError, match="disk full"):
        rebuild()

    # then
    failed = RebuildRun.objects.order_by("-id").first()
    assert failed.status == RebuildRun.Status.FAILED
    assert failed.error == "RuntimeError: disk full" and failed.finished_at is not None
    assert queries.computed_at() == good.finished_at
    assert queries.revenue_kpis(period=jan) == before
    assert DealFact.objects.count() == 2


def test_a_second_rebuild_while_one_runs_is_skipped():
    # given: another process holds the rebuild lock
    _some_data()
    if connection.vendor == "postgresql":
        import psycopg

        params = connection.get_connection_params()
        other = psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
        other.autocommit = True
        other.execute("SELECT pg_advisory_lock(%s)", [_advisory_key("insights.rebuild")])
        release = other.close
    else:
        import fcntl

        descriptor = os.open(lock_file_path("insights.rebuild"), os.O_RDWR | os.O_CREAT)
        fcntl.flock(descriptor, fcntl.LOCK_EX)

        def release():
            os.close(descriptor)

    # when
    try:
        run = rebuild()
    finally:
        release()

    # then
    assert run.status == RebuildRun.Status.SKIPPED
    assert run.error == "another rebuild was running"
    assert DealFact.objects.count() == 0
    assert rebuild().status == RebuildRun.Status.SUCCEEDED


@pytest.mark.cache_warm
def test_figure_cache_is_warmed_for_presets_with_a_pinned_payload():
    # given
    a, _ = _some_data()

    # when
    with patch("insights.rebuild.local_today", return_value=date(2026, 2, 15)):
        run = rebuild()

    # then: last_month on 15 Feb is January
    # (the version part is derived from the answer's dataclass, insights.engine.cache)
    version = cache.shape_version(queries.RevenueKpis)
    key = f"v{version}|Asia/Jakarta|{run.pk}|revenue|2026-01-01|2026-01-31"
    assert FigureCache.objects.get(key=key).payload == {
        "revenue": 12000,
        "paying": 1,
        "top": 12000,
        "lifetime": 12000,
        "ever_paid": 1,
        "one_time": 1,
        "won": 1,
        "lost": 1,
        "new": 2,
        "days": 31,
    }
    assert queries.revenue_kpis(period=period("2026-01-01", "2026-01-31")).revenue == D("120.00")


def test_reading_a_cached_figure_takes_two_queries(django_assert_num_queries):
    # given
    _some_data()
    rebuild()
    jan = period("2026-01-01", "2026-01-31")
    queries.sales_lifecycle(period=jan)

    # when / then: the current run id, then the cached payload
    with django_assert_num_queries(2):
        queries.sales_lifecycle(period=jan)


def test_command_on_an_empty_database_succeeds(capsys):
    # when
    with patch("insights.rebuild.snapshot_rebuild", return_value={}):
        call_command("rebuild_insights")

    # then
    assert "succeeded" in capsys.readouterr().out
    assert RebuildRun.objects.get().status == RebuildRun.Status.SUCCEEDED


def test_command_fails_with_a_command_error_when_the_rebuild_fails():
    # given
    def broken(*, full, progress):
        raise RuntimeError("identity broke")

    # when / then
    with patch("insights.rebuild.snapshot_rebuild", broken), pytest.raises(CommandError):
        call_command("rebuild_insights", "--full")
    assert RebuildRun.objects.get().status == RebuildRun.Status.FAILED


def test_celery_tasks_run_the_rebuild():
    # when (no broker in tests: the task runs in-process)
    with patch("insights.rebuild.snapshot_rebuild", return_value={}):
        result = rebuild_insights.delay(trigger="test").get()

    # then
    run = RebuildRun.objects.get()
    assert result == {"run_id": run.pk, "status": "succeeded"}
    assert run.trigger == "test"
    assert ping.delay().get() == "pong"


def test_nightly_schedule_is_an_editable_periodic_task():
    task = PeriodicTask.objects.get(name="Nightly insights rebuild")
    assert task.task == "insights.rebuild" and task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("30", "1")
    assert str(task.crontab.timezone) == "Asia/Jakarta"


def test_admin_rebuild_now_needs_the_permission(client):
    # given
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_rebuildrun"))
    runner = UserFactory(username="runner", is_staff=True)
    runner.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_rebuildrun", "run_rebuild"])
    )
    url = reverse("admin:insights_rebuildrun_rebuild_now")

    # when / then
    client.force_login(viewer)
    assert "Rebuild now" not in client.get(reverse("admin:insights_rebuildrun_changelist")).text
    assert client.post(url).status_code == 403
    assert not RebuildRun.objects.exists()

    client.force_login(runner)
    assert "Rebuild now" in client.get(reverse("admin:insights_rebuildrun_changelist")).text
    with patch("insights.rebuild.snapshot_rebuild", return_value={}):
        response = client.post(url)
    assert response.status_code == 302
    assert RebuildRun.objects.get().status == RebuildRun.Status.SUCCEEDED
    assert RebuildRun.objects.get().trigger == "admin: runner"


def test_a_missing_scipy_stops_the_rebuild_from_loading(tmp_path):
    # given a Python where scipy cannot be imported (identity resolution needs it)
    code = (
        "import sys; sys.modules['scipy'] = None\n"
        "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        "django.setup()\n"
        "import insights.rebuild\n"
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}

    # when the rebuild module is loaded
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )

    # then it fails at once, naming scipy, instead of skipping the snapshot and "succeeding"
    assert result.returncode == 1
    assert "ModuleNotFoundError" in result.stderr
    assert "scipy" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_after_its_commit_the_rebuild_vacuums_every_table_it_rewrote():
    # given: a customer with a deal (the rebuild rewrites rows in every table)
    deal(customer("2026-09-01"), created="2026-10-01", closed="2026-10-02", outcome="won")
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    # when: a rebuild outside any transaction (as the command and the task run it)
    with connection.execute_wrapper(record):
        run = insights_rebuild(trigger="test")
    # then
    assert run.status == RebuildRun.Status.SUCCEEDED
    vacuumed = [sql.split()[-1].strip('"') for sql in statements if sql.startswith("VACUUM")]
    if connection.vendor == "postgresql":
        assert sorted(vacuumed) == sorted(REWRITTEN_TABLES)
        assert "vacuum_after_commit" in RebuildRun.objects.get(pk=run.pk).timings
    else:  # SQLite rewrites pages in place: nothing to vacuum
        assert vacuumed == []


def test_a_rebuild_inside_a_transaction_leaves_the_vacuum_to_autovacuum():
    run = insights_rebuild(trigger="test")
    assert run.status == RebuildRun.Status.SUCCEEDED
    assert "vacuum_after_commit" not in run.timings


@pytest.mark.cache_warm
@pytest.mark.parametrize(
    ("endpoint", "preset", "payload"),
    [
        ("growth", "this_year", "insights.queries._growth_payload"),
        ("sales", "last_90_days", "insights.queries._sales_payload"),
        ("lifecycle", "this_year", "insights.lifecycle._lifecycle_payload"),
        ("service", "last_30_days", "insights.service._service_payload"),
    ],
)
def test_the_api_reads_the_figures_the_rebuild_warmed(endpoint, preset, payload):
    # given: a rebuild (it warms every preset with the default granularity, "auto")
    deal(customer("2026-01-05"), created="2026-02-01", closed="2026-02-02", outcome="won")
    rebuild()
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    client = APIClient()
    client.force_authenticate(user)
    # when: the API asks (with "auto" resolved to day, week or month) and nothing may compute
    with patch(payload, side_effect=AssertionError("computed: the warmed entry was missed")):
        response = client.get(f"/api/v1/insights/{endpoint}/", {"preset": preset})
    # then
    assert response.status_code == 200, response.content[:300]


def test_a_runs_duration_is_the_time_to_its_commit_not_its_now():
    # given: the run's now (the instant its figures are as of, METRICS.md §L) is read early;
    # here it is a fixed past instant, so finished_at says nothing of how long it ran
    _some_data()
    now = datetime(2026, 1, 1, tzinfo=UTC)

    # when
    with patch("insights.rebuild.rebuild_now", return_value=now):
        run = rebuild()

    # then
    assert run.finished_at == now
    assert 0 <= run.duration_seconds == run.timings["to_commit"]
    assert run.duration_seconds < 600
