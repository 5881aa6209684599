"""Reads from replicas: which reads are routed, and which requests are pinned (CONTRACT §2)."""

import os
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.http import HttpResponse
from django.test import RequestFactory

from common import db_routing
from common.db_routing import ReplicaReadMiddleware, ReplicaRouter, read_alias, reading_from
from customers.models import Customer
from deals.models import Deal
from insights.models import RebuildRun

ROOT = Path(__file__).resolve().parents[2]


def test_figure_reads_go_to_the_pinned_replica_and_nothing_else_does():
    router = ReplicaRouter()
    with reading_from("replica_0"):
        assert router.db_for_read(RebuildRun) == "replica_0"
        assert router.db_for_read(Customer) == "replica_0"
        assert router.db_for_read(Deal) == "replica_0"
        # a session or user written a moment ago may not have reached the replica yet
        assert router.db_for_read(Session) is None
        assert router.db_for_read(get_user_model()) is None
        assert router.db_for_write(RebuildRun) == "default"
        assert read_alias() == "replica_0"
    # outside a pinned request (the rebuild, Celery, commands) every read is the primary's
    assert router.db_for_read(RebuildRun) is None
    assert read_alias() == "default"


def test_only_the_primary_is_migrated():
    router = ReplicaRouter()
    assert router.allow_migrate("default", "insights") is True
    assert router.allow_migrate("replica_0", "insights") is False


@pytest.fixture(autouse=True)
def _no_replica_transaction(monkeypatch):
    # The aliases named here exist only in these tests: the per-request transaction a real
    # replica gets (checked end to end by bench.replica) is left out.
    monkeypatch.setattr(db_routing.transaction, "atomic", lambda using=None: nullcontext())


def _seen_alias(path: str, method: str = "get") -> str:
    seen: list[str] = []

    def view(request):
        seen.append(read_alias())
        return HttpResponse("ok")

    request = getattr(RequestFactory(), method)(path)
    ReplicaReadMiddleware(view)(request)
    return seen[0]


@pytest.mark.parametrize(
    ("path", "method", "expected"),
    [
        ("/api/v1/insights/growth/?preset=last_30_days", "get", "replica_1"),
        ("/api/v1/customers/?search=ani", "get", "replica_1"),
        ("/admin/insights/dashboard/", "get", "replica_1"),
        ("/api/v1/insights/rfm/?segment_id=3", "get", "default"),  # temp tables: primary
        ("/api/v1/segments/", "get", "default"),
        ("/api/v1/customers/", "post", "default"),
        ("/admin/deals/deal/", "get", "default"),
        ("/admin/login/", "get", "default"),
    ],
)
def test_only_figure_reading_get_requests_are_pinned(settings, path, method, expected):
    settings.DATABASE_REPLICA_ALIASES = ["replica_1"]
    assert _seen_alias(path, method) == expected


def test_without_replicas_nothing_is_pinned(settings):
    settings.DATABASE_REPLICA_ALIASES = []
    assert _seen_alias("/api/v1/insights/growth/") == "default"


def test_requests_rotate_over_the_replicas(settings, monkeypatch):
    settings.DATABASE_REPLICA_ALIASES = ["replica_0", "replica_1"]
    monkeypatch.setattr(db_routing, "_rotation", iter(range(4)))
    seen = [_seen_alias("/api/v1/insights/growth/") for _ in range(4)]
    assert seen == ["replica_0", "replica_1", "replica_0", "replica_1"]


def test_the_pin_ends_with_the_request_even_when_the_view_raises(settings):
    settings.DATABASE_REPLICA_ALIASES = ["replica_0"]

    def view(request):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        ReplicaReadMiddleware(view)(RequestFactory().get("/api/v1/insights/growth/"))
    assert read_alias() == "default"


def _check(**env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DEBUG": "True", **env}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_replica_url_that_is_not_postgres_is_refused_at_start():
    result = _check(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/x",
        DATABASE_REPLICA_URLS="sqlite:///tmp/x.sqlite3",
    )
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URLS entry 1 is not a postgres:// URL" in result.stderr


def test_replicas_beside_sqlite_are_refused_at_start(tmp_path):
    result = _check(
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        DATABASE_REPLICA_URLS="postgres://postgres@127.0.0.1:5433/x",
    )
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URLS needs a postgres:// DATABASE_URL" in result.stderr
