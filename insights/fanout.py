"""Where the parts of a fanned-out rebuild put their rows until the run switches readers.

Design note
-----------
* A fanned-out full rebuild (insights.rebuild, issue 34) splits the families that can be
  split (insights.families: `parts`) into customer shards (`customer_id % n`). Each part runs
  in its own transaction, on any worker, and writes its rows under the run id; the last step
  (finish) merges them into the live tables and records the run in one commit, under the
  rebuild lock. Readers read the live tables of the last succeeded run only, so until that
  commit they read the previous run, whole; a part that fails leaves it untouched.
* The staged tables shadow the live ones by name, so the families' SQL (which names the live
  tables) writes and reads the part's own rows without a second copy of every statement:
  - PostgreSQL: a schema per part, `insights_stage_<run>_<part>`, with an UNLOGGED copy of
    each table the part writes (staged rows are rebuilt on failure, never replayed), and
    `SET LOCAL search_path` putting it before the live schema for the part's transaction.
    The schemas are ordinary tables, so a part may run on any worker of the cluster.
  - SQLite: TEMP tables of the same names (the temp schema comes first in name lookup),
    renamed `insights_stage_<run>_<part>__<table>` when the part ends. They live in one
    connection, so on SQLite the parts always run in-process, one after another.
* A part's reads of a table it does not write go to the live table: the raw CRM, deal and
  chat tables and the snapshot, which the run's first step committed.
* Cleanup: finish drops the run's staged tables in its own commit; a failed part's
  transaction rolls its own back, and abort (or the next rebuild, for a run whose worker
  died) drops those of the parts that had finished.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import connection

from customers.models import Contact, Customer
from deals.models import Deal

from .engine.db import execute as _execute

STAGE_PREFIX = "insights_stage_"
T_CUSTOMER = Customer._meta.db_table
T_DEAL = Deal._meta.db_table
T_CONTACT = Contact._meta.db_table
# The search_path a part found, to set back when it ends (part_open -> part_close).
_search_path: dict[tuple[int, int], str] = {}


def parts_count() -> int:
    """How many parts a full rebuild is split into (settings.INSIGHTS_REBUILD_PARTS; 1: none)."""
    return max(1, int(getattr(settings, "INSIGHTS_REBUILD_PARTS", 1)))


def parts_in_process() -> bool:
    """Whether the parts run here, one after another: without a broker, and on SQLite (its
    staged tables are one connection's TEMP tables)."""
    # The Celery app's own setting (config.celery reads it from Django's), which a test or a
    # script may switch at run time.
    return bool(current_app.conf.task_always_eager) or connection.vendor != "postgresql"


@dataclass(frozen=True)
class Shard:
    """Part `index` of `count`: the customers with id % count = index, their deals, and (in
    part 0) the deals of no customer. Every customer and deal is in exactly one shard, so the
    shards' sums add up to the whole."""

    index: int
    count: int

    def _in_shard(self, value: str) -> str:
        # value % count, spelled without "%" (the statements are run with named parameters)
        # and without MOD() (not in every SQLite build); ids are never negative.
        return f"{value} - ({value} / {self.count}) * {self.count} = {self.index}"

    @property
    def customers(self) -> str:
        """A subquery of the shard's customer ids."""
        return f"SELECT id FROM {T_CUSTOMER} WHERE {self._in_shard('id')}"

    @property
    def deals(self) -> str:
        """A subquery of the shard's deal ids: by the customer of the deal's contact, as the
        deal facts store it (a deal of no customer counts as customer 0)."""
        return (
            f"SELECT d.id FROM {T_DEAL} d LEFT JOIN {T_CONTACT} c ON c.id = d.contact_id "
            f"WHERE {self._in_shard('COALESCE(c.customer_id, 0)')}"
        )


def _schema(run_id: int, index: int) -> str:
    return f"{STAGE_PREFIX}{int(run_id)}_{int(index)}"


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def part_open(run_id: int, index: int, tables: Sequence[str]) -> None:
    """Inside the part's transaction: empty staged copies of `tables` that shadow the live
    ones until the transaction ends (PostgreSQL) or part_close (SQLite)."""
    if connection.vendor == "postgresql":
        schema = _quote(_schema(run_id, index))
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            live = _quote(cursor.fetchone()[0])
            cursor.execute("SELECT current_setting('search_path')")
            _search_path[run_id, index] = cursor.fetchone()[0]
        _execute(f"CREATE SCHEMA {schema}")
        for table in tables:
            # Defaults and identity: the families' INSERTs leave the id to the table.
            _execute(
                f"CREATE UNLOGGED TABLE {schema}.{_quote(table)} "
                f"(LIKE {live}.{_quote(table)} INCLUDING DEFAULTS INCLUDING IDENTITY)"
            )
        _execute(f"SET LOCAL search_path TO {schema}, {live}")
        return
    for table in tables:
        # No constraints are copied: the id stays NULL, and the merge leaves it out.
        _execute(f"CREATE TEMP TABLE {_quote(table)} AS SELECT * FROM main.{_quote(table)} WHERE 0")


def part_close(run_id: int, index: int, tables: Sequence[str]) -> None:
    """Inside the part's transaction, after its writes: stop shadowing the live tables."""
    if connection.vendor == "postgresql":
        # SET LOCAL ends with the transaction, but not with a savepoint (a part run inside a
        # caller's transaction): set the caller's path back.
        path = _search_path.pop((run_id, index))
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('search_path', %s, true)", [path])
        return
    for table in tables:
        _execute(
            f"ALTER TABLE temp.{_quote(table)} RENAME TO "
            f"{_quote(f'{_schema(run_id, index)}__{table}')}"
        )


def staged(run_id: int, index: int, table: str) -> str:
    """The qualified name of part `index`'s staged copy of `table`."""
    if connection.vendor == "postgresql":
        return f"{_quote(_schema(run_id, index))}.{_quote(table)}"
    return f"temp.{_quote(f'{_schema(run_id, index)}__{table}')}"


def staged_union(run_id: int, count: int, table: str, columns: Sequence[str]) -> str:
    """A subquery of every part's staged rows of `table` (the given columns)."""
    names = ", ".join(columns)
    return " UNION ALL ".join(
        f"SELECT {names} FROM {staged(run_id, index, table)}" for index in range(count)
    )


def stage_names(run_id: int | None = None) -> list[str]:
    """The staged schemas (PostgreSQL) or tables (SQLite) of a run, or of every run."""
    prefix = STAGE_PREFIX if run_id is None else f"{STAGE_PREFIX}{int(run_id)}_"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nspname FROM pg_namespace")
        else:
            cursor.execute("SELECT name FROM sqlite_temp_master WHERE type = 'table'")
        names = [row[0] for row in cursor.fetchall()]
    return sorted(name for name in names if name.startswith(prefix))


def stage_drop(run_id: int | None = None) -> int:
    """Drop a run's staged rows (every run's when run_id is None); how many schemas or tables."""
    names = stage_names(run_id)
    for name in names:
        if connection.vendor == "postgresql":
            _execute(f"DROP SCHEMA IF EXISTS {_quote(name)} CASCADE")
        else:
            _execute(f"DROP TABLE IF EXISTS temp.{_quote(name)}")
    return len(names)


def stage_run_id(name: str) -> int:
    """The run a staged schema or table belongs to."""
    return int(name[len(STAGE_PREFIX) :].split("_", 1)[0])
