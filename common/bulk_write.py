"""Writing to most rows of a PostgreSQL table at once: its foreign keys set aside and back.

A statement that changes most of a large table queues one foreign-key check per row and key,
run at the commit; dropping the keys first and adding them back afterwards checks every
reference in one query per key. The import's bulk load (imports.fast) and identity's mass
write (customers.identity) both do it, with the table's plain indexes.
"""

from __future__ import annotations

from typing import Any


def deferred_checks_run(cursor: Any) -> None:
    """Run the foreign-key checks the transaction has queued so far (PostgreSQL refuses to
    ALTER a table with pending trigger events, and CREATE INDEX too), then defer again: every
    foreign key of the schema is DEFERRABLE INITIALLY DEFERRED (Django's)."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def foreign_keys_of(cursor: Any, table: str) -> list[tuple[str, str]]:
    """(name, definition) of each foreign key of `table`, as `ADD CONSTRAINT name definition`
    takes it back."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [table],
    )
    return [(name, definition) for name, definition in cursor.fetchall()]
