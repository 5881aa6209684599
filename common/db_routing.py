"""Reads from PostgreSQL streaming replicas (CONTRACT §2 `DATABASE_REPLICA_URLS`).

Only a request that reads figures is sent to a replica: the REST API's insights and customer
endpoints and the insights dashboards, for GET and HEAD. The request is pinned to ONE replica
for its whole length, so everything it reads (the current rebuild run, then that run's rollup
rows) comes from one database: a replica that has not replayed the latest run yet still holds
the previous run whole and serves it. Sessions, users, permissions, the cache table and every
write stay on the primary (their app labels are not routed), so a login that has not reached a
replica yet is never lost, and the rebuild, Celery and commands never read a replica.

Raw SQL of a read path takes its connection from `read_connection()`, which is the pinned
replica's inside such a request and the primary's everywhere else.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponseBase

# The apps whose tables a figure read touches; auth, sessions, axes, audit and the cache table
# are not among them.
ROUTED_APP_LABELS = frozenset({"insights", "customers", "deals", "chats"})

# The paths whose GET requests read figures (the dashboard and its drill-down lists).
READ_PATH_PREFIXES = ("/api/v1/insights/", "/api/v1/customers/", "/admin/insights/")

_pinned: ContextVar[str | None] = ContextVar("wawasan_read_alias", default=None)


def replica_aliases() -> list[str]:
    """The database aliases settings made from DATABASE_REPLICA_URLS, in their order."""
    return list(getattr(settings, "DATABASE_REPLICA_ALIASES", []))


def read_alias() -> str:
    """The alias a read of figures uses now: the pinned replica, else the primary."""
    return _pinned.get() or DEFAULT_DB_ALIAS


def read_connection() -> BaseDatabaseWrapper:
    return connections[read_alias()]


@contextmanager
def reading_from(alias: str | None) -> Iterator[None]:
    """Pin the reads of the block to `alias` (None: the primary)."""
    token = _pinned.set(alias)
    try:
        yield
    finally:
        _pinned.reset(token)


class ReplicaRouter:
    """Reads of figure tables go to the pinned replica; everything else to the primary."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        alias = _pinned.get()
        if alias and model._meta.app_label in ROUTED_APP_LABELS:  # type: ignore[attr-defined]
            return alias
        return None

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # A replica holds the primary's rows: objects from either may refer to each other.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


_rotation: Iterator[int] = itertools.count()


def choose_replica() -> str | None:
    aliases = replica_aliases()
    if not aliases:
        return None
    return aliases[next(_rotation) % len(aliases)]


class ReplicaReadMiddleware:
    """Pin a figure-reading GET request to one replica (round robin), for its whole length.

    It sits before CurrentRunMiddleware, so the run id a request reads comes from the replica
    that then serves that run's rows.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        alias = None
        if (
            request.method in ("GET", "HEAD")
            and request.path.startswith(READ_PATH_PREFIXES)
            # A saved segment's figures stage its members in a temporary table, which a hot
            # standby refuses: those requests read the primary.
            and not any(name.startswith("segment") for name in request.GET)
        ):
            alias = choose_replica()
        if alias is None:
            return self.get_response(request)
        # One transaction on the replica: the request reads one snapshot (REPEATABLE READ,
        # settings), so the run it reads cannot be replaced under it.
        with reading_from(alias), transaction.atomic(using=alias):
            return self.get_response(request)
