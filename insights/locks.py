"""The rebuild lock: two rebuilds never run at once.

PostgreSQL: a transaction-level advisory lock, released by commit or rollback, so it cannot go
stale. SQLite has no advisory locks: an flock() on a file next to the database (released when
the file is closed, also by the kernel when the process dies).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import connection, transaction


def _advisory_key(name: str) -> int:
    # A stable signed 32-bit key from the lock's name (crc32 is stable across processes).
    return zlib.crc32(name.encode()) - 2**31


def lock_file_path(name: str) -> Path:
    database = str(connection.settings_dict["NAME"])
    if (
        database
        and not database.startswith(("file:", ":memory:"))
        and "mode=memory" not in database
    ):
        return Path(f"{database}.{name}.lock")
    # An in-memory database lives in one process only: one lock file per process and name.
    digest = hashlib.sha1(f"{os.getpid()}:{database}".encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"wawasan-{digest}.{name}.lock"


@contextmanager
def insights_lock(*, name: str = "insights.rebuild", wait: bool = False) -> Iterator[bool]:
    """Yield True when the lock is held, False when another holder has it and wait is False.

    On PostgreSQL call it inside transaction.atomic(): the lock lasts until that transaction ends.
    """
    if connection.vendor == "postgresql":
        function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {function}(%s)", [_advisory_key(name)])
            row = cursor.fetchone()
        yield True if wait else bool(row[0])
        return
    path = lock_file_path(name)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


@contextmanager
def locked_transaction(*, name: str = "insights.rebuild", wait: bool = False) -> Iterator[bool]:
    """A transaction holding the lock; yields False (lock not taken) when another holds it.

    SQLite takes the file lock before BEGIN IMMEDIATE, so a second rebuild skips at once
    instead of waiting for the database write lock and failing with "database is locked".
    """
    if connection.vendor == "postgresql":
        with transaction.atomic(), insights_lock(name=name, wait=wait) as acquired:
            yield acquired
        return
    with insights_lock(name=name, wait=wait) as acquired:
        if not acquired:
            yield False
            return
        with transaction.atomic():
            yield True
