"""An uncached figure is computed by one process at a time (insights.engine.cache.computing)."""

import hashlib
import threading
import time
from dataclasses import dataclass

import pytest
from django.db import connection

from insights.engine import cache
from insights.models import FigureCache

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL advisory locks"),
]


@dataclass(frozen=True)
class Answer:  # what the test's figure would be read into (its cache key's shape)
    mine: int


def _lock_id(key: str) -> int:
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _another_process_computing(key: str, *, for_seconds: float, stores: bool) -> threading.Thread:
    """A thread (its own database session) holding the figure's lock, then storing it."""
    taken = threading.Event()

    def run() -> None:
        from django.db import connection as own

        with own.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_lock_id(key)])
            taken.set()
            time.sleep(for_seconds)
            if stores:
                FigureCache.objects.create(key=key, payload={"computed_by": "the other"})
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_id(key)])
        own.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert taken.wait(10)
    return thread


def test_a_reader_waits_for_the_computation_already_running_and_serves_its_result():
    key = cache.cache_key("single-flight", 1, shape=Answer)
    other = _another_process_computing(key, for_seconds=0.5, stores=True)
    computed = []
    # when
    payload = cache.cached(
        "single-flight", (1,), lambda: computed.append(1) or {"mine": 1}, shape=Answer
    )
    other.join()
    # then: the other's result, computed once
    assert payload == {"computed_by": "the other"}
    assert computed == []


def test_a_reader_computes_itself_when_the_other_takes_too_long(monkeypatch):
    monkeypatch.setattr(cache, "SINGLE_FLIGHT_WAIT_S", 0.3)
    key = cache.cache_key("single-flight", 2, shape=Answer)
    other = _another_process_computing(key, for_seconds=1.5, stores=False)
    started = time.monotonic()
    payload = cache.cached("single-flight", (2,), lambda: {"mine": 2}, shape=Answer)
    waited = time.monotonic() - started
    other.join()
    assert payload == {"mine": 2}
    assert waited < 1.4  # it did not wait for the other to finish
    assert FigureCache.objects.get(key=key).payload == {"mine": 2}


def test_the_lock_is_released_after_computing_even_on_an_error():
    key = cache.cache_key("single-flight", 3, shape=Answer)
    with pytest.raises(ZeroDivisionError):
        cache.cached("single-flight", (3,), lambda: 1 / 0, shape=Answer)
    # then: another session can take it (the same session would, held or not)
    free = []

    def probe() -> None:
        from django.db import connection as own

        with own.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_lock_id(key)])
            free.append(cursor.fetchone()[0])
            cursor.execute("SELECT pg_advisory_unlock_all()")
        own.close()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    assert free == [True]
