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
* Redis (settings.CACHES with CACHE_URL or a Redis broker): INCR. The database cache: the
  counter's cache row is locked (SELECT ... FOR UPDATE) for the read and write on PostgreSQL;
  SQLite writes one at a time per process, which a process lock reproduces.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router, transaction
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
        db = router.db_for_write(cache.cache_model_class)
        connection = connections[db]
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(cache._table)  # type: ignore[attr-defined]
            with transaction.atomic(using=db):
                cache.add(key, 0, timeout)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT cache_key FROM {table} WHERE cache_key = %s FOR UPDATE",
                        [cache.make_and_validate_key(key)],
                    )
                return _read_add_write(key, amount, timeout)
    with _LOCAL_LOCK:
        return _read_add_write(key, amount, timeout)


def _read_add_write(key: str, amount: int, timeout: int) -> int:
    cache = caches["default"]
    value = int(cache.get(key, 0)) + amount
    cache.set(key, value, timeout)
    return value


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
        previous = int(caches["default"].get(f"{self.key}:{window - 1}", 0))
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
