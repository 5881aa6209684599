"""API throttles whose counter is one atomic increment, shared by every worker (issue 27 item 19).

DRF's stock throttle reads a request history from the cache, appends and writes it back: two
requests at once both read the same history and one of them is lost (700 requests at
600/minute from 4 threads let 674 through). Here each request increments a counter for the
current window in one atomic step, and the rate is checked on the value that step returned,
so no two requests can take the same place:

* The window is the rate's duration (a minute for "600/minute"). The requests of the last
  duration are estimated as this window's count plus the previous window's, weighted by the
  share of the previous window still inside the last duration (a sliding window without a
  history list). A refused request gives its place back.
* Redis (settings.CACHES with CACHE_URL or a Redis broker): INCR. The database cache: one
  INSERT ... ON CONFLICT DO UPDATE ... RETURNING on the cache table, whose row for a counter
  holds a plain number (PostgreSQL and SQLite alike); two queries a request, as before.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router
from django.utils import timezone
from rest_framework.throttling import (  # type: ignore[import-untyped]
    AnonRateThrottle,
    UserRateThrottle,
)

_LOCAL_LOCK = threading.Lock()


def counter_add(key: str, amount: int, *, timeout: int) -> int:
    """Add `amount` to the counter `key` (created at 0) in one atomic step; its new value."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        cache.add(key, 0, timeout)
        try:
            return int(cache.incr(key, amount))
        except ValueError:  # expired between add and incr: start again
            cache.add(key, 0, timeout)
            return int(cache.incr(key, amount))
    if isinstance(cache, DatabaseCache):
        return _database_add(cache, key, amount, timeout)
    with _LOCAL_LOCK:
        value = int(cache.get(key, 0)) + amount
        cache.set(key, value, timeout)
        return value


def counter_get(key: str) -> int:
    cache = caches["default"]
    if isinstance(cache, DatabaseCache):
        table, connection, now = _database(cache)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT value FROM {table} WHERE cache_key = %s AND expires > %s",
                [cache.make_and_validate_key(key), now],
            )
            row = cursor.fetchone()
        return int(row[0]) if row else 0
    return int(cache.get(key, 0))


def _database(cache: DatabaseCache) -> tuple[str, Any, Any]:
    connection = connections[router.db_for_write(cache.cache_model_class)]
    table = connection.ops.quote_name(cache._table)  # type: ignore[attr-defined]
    now = connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))
    return table, connection, now


def _database_add(cache: DatabaseCache, key: str, amount: int, timeout: int) -> int:
    """One upsert in the database cache's table: the counter's row holds a plain number (it is
    read by counter_get, never by cache.get), so the database adds to it atomically."""
    table, connection, now = _database(cache)
    expires = connection.ops.adapt_datetimefield_value(
        timezone.now().replace(microsecond=0) + timedelta(seconds=timeout)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s) "
            f"ON CONFLICT (cache_key) DO UPDATE SET "
            f"value = CASE WHEN {table}.expires <= %s THEN %s "
            f"ELSE CAST(CAST({table}.value AS INTEGER) + %s AS TEXT) END, "
            f"expires = CASE WHEN {table}.expires <= %s THEN %s ELSE {table}.expires END "
            f"RETURNING value",
            [cache.make_and_validate_key(key), str(amount), expires, now, str(amount), amount,
             now, expires],
        )  # fmt: skip
        return int(cursor.fetchone()[0])


class AtomicRateThrottleMixin:
    """allow_request/wait of SimpleRateThrottle over an atomic per-window counter."""

    rate: str | None
    num_requests: int
    duration: int
    key: str | None

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)  # type: ignore[attr-defined]
        if self.key is None:
            return True
        self.now = self.timer()  # type: ignore[attr-defined]
        window = int(self.now // self.duration)
        timeout = self.duration * 2 + 1
        current = counter_add(f"{self.key}:{window}", 1, timeout=timeout)
        previous = counter_get(f"{self.key}:{window - 1}")
        elapsed = (self.now - window * self.duration) / self.duration
        if previous * (1 - elapsed) + current <= self.num_requests:
            return True
        counter_add(f"{self.key}:{window}", -1, timeout=timeout)
        self.window_end = (window + 1) * self.duration
        return False

    def wait(self) -> float | None:
        end = getattr(self, "window_end", None)
        return None if end is None else max(end - self.now, 0)


class AtomicAnonRateThrottle(AtomicRateThrottleMixin, AnonRateThrottle):
    pass


class AtomicUserRateThrottle(AtomicRateThrottleMixin, UserRateThrottle):
    pass
