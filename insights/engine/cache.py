"""The figure cache: every figure's JSON payload, stored in FigureCache per rebuild run.

A key is `v<shape>|<time zone>|<run id>|<name>|<params...>`:
* <shape> is derived from the answer's shape (`shape_version`): the fields and types of the
  dataclass the payload is read into, or, for a payload that is itself the answer (a dict an
  endpoint returns as it is), the source of the function that builds it. Changing the answer
  changes every key of that figure, so a stale payload of an older shape is never read; there
  is no version number to bump by hand.
* <run id> is the last successful rebuild (read once per request, insights.current_run); a
  rebuild clears the table and warms the presets of its own run after its commit (`warming`).
* An uncached figure is computed by one process at a time (`computing`, PostgreSQL).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import hashlib
import inspect
import json
import logging
import time
import typing
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction

from ..current_run import latest_succeeded_run
from ..models import FigureCache

logger = logging.getLogger(__name__)

# How long a reader waits for another process computing the same figure before computing it
# too (a figure that slow is better served twice than not at all).
SINGLE_FLIGHT_WAIT_S = 20.0
SINGLE_FLIGHT_POLL_S = 0.1

# While a rebuild warms the cache, keys use the id of the run being committed ...
_run_override: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "insights_run_override", default=None
)
# ... and the payloads are collected here, for one bulk insert at the end.
_warm_collector: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "insights_warm_collector", default=None
)

# What a payload is read into: a dataclass (or TypedDict) type, or the function building it.
Shape = type | Callable[..., Any]


def _describe(shape: Any, seen: set[Any]) -> str:
    """A text of a type's structure: names and types of its fields, nested ones included."""
    is_record = isinstance(shape, type) and (
        dataclasses.is_dataclass(shape) or typing.is_typeddict(shape)
    )
    if is_record:
        if shape in seen:
            return shape.__qualname__
        seen.add(shape)
        hints = typing.get_type_hints(shape)
        names = (
            [f.name for f in dataclasses.fields(shape)]
            if dataclasses.is_dataclass(shape)
            else list(hints)
        )
        fields = ",".join(f"{name}:{_describe(hints[name], seen)}" for name in names)
        return f"{shape.__qualname__}({fields})"
    arguments = typing.get_args(shape)
    if arguments:
        origin = typing.get_origin(shape)
        inner = ",".join(_describe(argument, seen) for argument in arguments)
        return f"{getattr(origin, '__qualname__', repr(origin))}[{inner}]"
    return getattr(shape, "__qualname__", repr(shape))


@functools.cache
def shape_version(shape: Shape) -> str:
    """8 hex digits derived from what a payload is read into (see the module's docstring)."""
    if isinstance(shape, type):
        if not (dataclasses.is_dataclass(shape) or typing.is_typeddict(shape)):
            raise TypeError(f"a cached figure's shape is a dataclass, not {shape!r}")
        text = _describe(shape, set())
    else:
        try:
            text = inspect.getsource(shape)
        except OSError:  # installed without sources: the compiled body changes with it too
            code = shape.__code__
            text = code.co_code.hex() + repr(code.co_consts)
    return hashlib.blake2b(text.encode(), digest_size=4).hexdigest()


def run_id() -> int:
    """The run whose rollups are read: the one being warmed, else the last successful one."""
    override = _run_override.get()
    if override is not None:
        return override
    return latest_succeeded_run()[0]  # read once per request (insights.current_run)


def cache_key(name: str, *params: object, shape: Shape) -> str:
    parts = [f"v{shape_version(shape)}", settings.TIME_ZONE, str(run_id()), name]
    return "|".join([*parts, *map(str, params)])


@contextlib.contextmanager
def computing(key: str) -> Iterator[Any]:
    """One process computes an uncached figure at a time (PostgreSQL); yields the payload a
    waiter found stored meanwhile, else None (then the caller computes).

    At nine in the morning a whole team opens the same cold figure: eight readers computing a
    year of service percentiles at once ran past the web server's 30 s timeout, where one
    computing and seven reading its result answer in the time of one. A session advisory lock
    keyed by the cache key marks the computation; the others poll the cache (never block on
    the lock, so figures that compute others inside them cannot deadlock).
    """
    if connection.vendor != "postgresql":
        yield None
        return
    lock_id = int.from_bytes(
        hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        locked = cursor.fetchone()[0]
        deadline = time.monotonic() + SINGLE_FLIGHT_WAIT_S
        while not locked and time.monotonic() < deadline:
            time.sleep(SINGLE_FLIGHT_POLL_S)
            stored = FigureCache.objects.filter(key=key).values_list("payload", flat=True).first()
            if stored is not None:
                yield stored
                return
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
            locked = cursor.fetchone()[0]
    try:
        yield None
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


def cached(name: str, params: tuple, compute: Callable[[], Any], *, shape: Shape) -> Any:
    """The JSON payload of a figure: from FigureCache, or computed (`compute()`) and stored.

    `shape` is what the payload is read into (shape_version); `params` everything else the
    payload depends on (the period, options, an as-of date)."""
    key = cache_key(name, *params, shape=shape)
    collected = _warm_collector.get()
    if collected is not None:  # warming an empty cache: no lookup, one bulk insert at the end
        if key not in collected:
            collected[key] = json.loads(json.dumps(compute()))
        return collected[key]
    payload = FigureCache.objects.filter(key=key).values_list("payload", flat=True).first()
    if payload is not None:
        return payload
    with computing(key) as stored_meanwhile:
        if stored_meanwhile is not None:
            return stored_meanwhile
        payload = json.loads(json.dumps(compute()))  # the same shape as a cached one
    try:
        with transaction.atomic():
            FigureCache.objects.create(key=key, payload=payload)
    except (IntegrityError, DatabaseError) as error:
        # Another reader stored it first, or a rebuild holds the SQLite write lock: serve anyway.
        logger.info("figure cache not stored for %s: %s", key, error)
    return payload


@contextlib.contextmanager
def warming(run: int) -> Iterator[dict[str, Any]]:
    """Inside, every figure read is computed for run `run` and collected (no lookup); on a
    clean exit they are stored in one bulk insert. Yields the collected {key: payload}."""
    token = _run_override.set(run)
    collected: dict[str, Any] = {}
    collector_token = _warm_collector.set(collected)
    try:
        yield collected
    finally:
        _warm_collector.reset(collector_token)
        _run_override.reset(token)
    # A reader may have computed and stored a figure first (the run is already committed).
    FigureCache.objects.bulk_create(
        [FigureCache(key=key, payload=payload) for key, payload in collected.items()],
        batch_size=500,
        ignore_conflicts=True,
    )
