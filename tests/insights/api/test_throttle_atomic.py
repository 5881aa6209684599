"""Issue 27 item 19: the throttle's counter is atomic under concurrency.

700 requests at 600/minute from 4 threads let 674 through when each request read the
history, appended and wrote it back. The user throttle the API is configured with must let
exactly 600 through, whichever shared store holds the counter.
"""

import os
import threading
from types import SimpleNamespace
from unittest.mock import patch

import pytest
from django.core.cache import caches
from django.db import connection
from rest_framework.settings import api_settings

pytestmark = pytest.mark.django_db(transaction=True)

STORES = {
    "database": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "wawasan_cache",
    },
    "memory": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
if os.environ.get("WAWASAN_TEST_REDIS_URL"):
    STORES["redis"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["WAWASAN_TEST_REDIS_URL"],
    }


def _user_throttle_class():
    [user_class] = [c for c in api_settings.DEFAULT_THROTTLE_CLASSES if "User" in c.__name__]
    return type("SixHundred", (user_class,), {"rate": "600/minute"})


@pytest.mark.parametrize("store", sorted(STORES))
def test_700_requests_from_4_threads_at_600_a_minute_let_600_through(settings, store):
    if store == "database" and connection.vendor == "sqlite":
        pytest.skip("SQLite's shared in-memory test database locks whole tables across threads")
    settings.CACHES = {"default": {**STORES[store], "KEY_PREFIX": f"t{os.getpid()}"}}
    caches["default"].clear()
    throttle_class = _user_throttle_class()
    request = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=4242))
    allowed = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def worker() -> None:
        passed = 0
        start.wait()
        try:
            for _ in range(175):
                if throttle_class().allow_request(request, None):
                    passed += 1
        finally:
            connection.close()
        with lock:
            allowed.append(passed)

    # One moment for every request (mid-window, no earlier window): only the counter decides.
    with patch.object(throttle_class, "timer", lambda self: 1_000_000 * 60 + 30.0):
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sum(allowed) == 600, allowed
    caches["default"].clear()
