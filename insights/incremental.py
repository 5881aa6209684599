"""Incremental rebuild: recompute only the customers and days that the day's changes touched.

Design note
-----------
* One rebuild path: insights.rebuild runs the families of insights.families for a full and
  an incremental rebuild alike; this module holds the incremental scope (ChangeScope) and the
  take-off and add-back steps of the core, lifecycle and service families.
* What changed comes from ChangedRecord, which database triggers fill (insights.watched lists
  the tables and lays them): deals (and their items), chat rooms, stages, lost reasons,
  products, companies, survey answers, exchange rates, and the customers of contacts and chat
  contacts edited in anything but identity's own columns. Those customers are handed to identity as
  IdentityChange rows (changes_take), which re-resolves them and says which customers it
  re-resolved (ResolvedScope); contacts with new keys it finds itself (customers.identity).
* An exchange rate logs its currency (as a number, currency_code_sql): every deal in that
  currency is rewritten. An open deal in another currency takes the rate as of the rebuild's
  day, so the open ones whose rate as of today differs from the one they were converted at
  are rewritten too (a rate dated after the last rebuild has come into force).
* The rollups of insights.rollup are either per deal (DealFact), per customer (CustomerWonDay,
  CustomerStats) or sums over customers of a per-customer part (GapCell, RepeatCell, and
  DailySum's new-customer figures) or of a per-deal part (DailySum's deal values, revenue and
  lost deals). Every part of a customer depends only on that customer's deals, rooms and
  snapshot row, so with A = every customer whose records, deals or rooms changed:
    sum after = sum before - (A's parts, as the last rebuild counted them) + (A's parts now).
  "As the last rebuild counted them" needs the last rebuild's inputs: DealFact keeps each
  deal's customer, days and status, ServiceRoomFact each room's customer and day, and the
  customer rows are read before identity rewrites them (the before_write hook).
* A is taken before identity writes (the old customers of the changed deals and rooms, their
  current customers, and identity's re-resolved customers), then grows by the customers
  identity creates; no customer outside A can change, because identity touches only the
  customers it re-resolves.
* Product sales count distinct deals per product and day from the deal items, whose old rows
  are gone once edited; their days (old and new close days of the rewritten deals) are
  recomputed whole instead.
* The lifecycle rollups are per-customer parts too: LapseChain (each customer's chains) and
  RetentionCell (its cohort and months) get the same before/after treatment, with the parts
  counted in Python (chains come from insights.lifecycle.chain_rows) and merged by key.
* Service (insights.service.service_update): the facts of A's rooms and of the changed rooms
  are recomputed (FCR looks at a customer's other rooms), and the day groups of only the days
  where a fact row differs.
* Customer value (one model fitted to every customer) is refitted whole by its family,
  unless no customer's buying days or their revenue changed and the as-of day is the last
  fit's: it reads nothing else, so it would come out the same. The figure cache is warmed
  whole. docs/SCALING.md has why and what would change that.
* Exactness is checked by tests/insights/test_incremental.py: random edits, then every rollup
  table of an incremental rebuild compared with a full one's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.db import connection

from customers.models import Company, Customer, IdentityChange
from deals import rules as deal_rules
from deals.models import Deal

from . import lifecycle, rollup, service
from . import metric_keys as keys
from .engine.db import execute as _execute
from .models import ChangedRecord
from .rollup import (
    T_CHATCONTACT,
    T_CONTACT,
    T_FACT,
    T_GAP,
    T_OWNER,
    T_REPEAT,
    T_ROOM,
    T_ROOMFACT,
    T_STATS,
    T_SUM,
    T_WONDAY,
)

T_LOG = ChangedRecord._meta.db_table
T_DEAL = Deal._meta.db_table
T_CUSTOMERS = "insights_inc_customers"  # A: customers whose parts are recomputed
T_DEALS = "insights_inc_deals"  # deals whose DealFact row is rewritten
T_CHANGED_DEALS = "insights_inc_changed_deals"
T_CHANGED_ROOMS = "insights_inc_changed_rooms"
T_GAP_DELTA = "insights_inc_gap"
T_SUM_DELTA = "insights_inc_sum"
T_REPEAT_DELTA = "insights_inc_repeat"
T_PRODUCT_DAYS = "insights_inc_product_days"
T_NEW_CUSTOMERS = "insights_inc_new_customers"
T_REPEAT_NET = "insights_inc_repeat_net"
T_WON_DAYS_BEFORE = "insights_inc_won_days"
T_OWNER_DELTA = "insights_inc_owner"
TEMP_TABLES = {
    T_WON_DAYS_BEFORE: "customer_id BIGINT, day INTEGER, won_deals INTEGER, revenue_cents BIGINT",
    T_NEW_CUSTOMERS: "id BIGINT",
    T_REPEAT_NET: "a1 INTEGER, a2 INTEGER, n BIGINT",
    T_CUSTOMERS: "id BIGINT PRIMARY KEY",
    T_DEALS: "id BIGINT PRIMARY KEY",
    T_CHANGED_DEALS: "id BIGINT PRIMARY KEY",
    T_CHANGED_ROOMS: "id BIGINT PRIMARY KEY",
    T_GAP_DELTA: "metric VARCHAR(32), dim VARCHAR(255), prev INTEGER, day INTEGER, "
    "fs INTEGER, n BIGINT",
    T_SUM_DELTA: "metric VARCHAR(32), dim VARCHAR(255), day INTEGER, fs INTEGER, "
    "count BIGINT, amount NUMERIC, quantity BIGINT",
    T_REPEAT_DELTA: "a1 INTEGER, a2 INTEGER, n BIGINT",
    T_PRODUCT_DAYS: "day INTEGER PRIMARY KEY",
    T_OWNER_DELTA: "kind VARCHAR(8), owner_id BIGINT, day INTEGER, cycle_days INTEGER, "
    "deals BIGINT, amount NUMERIC",
}
CUSTOMERS = f"SELECT id FROM {T_CUSTOMERS}"
DEALS = f"SELECT id FROM {T_DEALS}"
# Past this many changed deals and rooms, the rebuild recomputes everything: the per-customer
# path reads each affected customer's history, which stops paying off well before this.
MAX_CHANGES_SHARE = 0.1


# Past this share of all customers changed (and at least MIN_CUSTOMERS_FOR_WHOLE_PASS), the
# families' whole passes are faster than taking each changed customer's parts off and adding
# them back. Measured at 1M people (docs/BENCHMARKS.md, "Round nine: following the changed
# customers"): following 1% / 10% / 26% of the customers took 60 / 134 / 214 s, the whole pass
# after the same 26% 260 s; the line through the three crosses it near 35%.
MAX_CUSTOMERS_SHARE = 0.4
MIN_CUSTOMERS_FOR_WHOLE_PASS = 10_000


@dataclass
class Changes:
    """The records changed since the last rebuild, by kind (ChangedRecord)."""

    ids: dict[str, set[int]] = field(default_factory=dict)
    rows: int = 0
    whole_table: bool = False  # a TRUNCATE, or more than a rebuild should follow one by one

    def of(self, kind: str) -> set[int]:
        return self.ids.get(kind, set())

    @property
    def empty(self) -> bool:
        return self.rows == 0


def changes_take(*, limit: int) -> Changes:
    """Take (delete and return) the change log's committed rows; inside the rebuild transaction.

    Rows committed after this statement starts stay for the next rebuild; a rebuild that
    fails rolls the DELETE back. Past `limit` rows only their number is kept (whole_table).
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {T_LOG}")
        count = int(cursor.fetchone()[0])
        if count == 0:
            return Changes()
        if count > limit:
            cursor.execute(f"DELETE FROM {T_LOG}")
            return Changes(rows=cursor.rowcount, whole_table=True)
        cursor.execute(f"DELETE FROM {T_LOG} RETURNING kind, record_id")
        taken = cursor.fetchall()
    changes = Changes(rows=len(taken))
    for kind, record_id in taken:
        if record_id is None:
            changes.whole_table = True
        else:
            changes.ids.setdefault(kind, set()).add(int(record_id))
    # Identity re-resolves these customers (their records' attributes changed), in this
    # transaction: a failed rebuild rolls these rows back with the DELETE above.
    IdentityChange.objects.bulk_create(
        [
            IdentityChange(customer_id=customer_id)
            for customer_id in sorted(changes.of(ChangedRecord.Kind.CUSTOMER))
        ],
        batch_size=1000,
    )
    return changes


def currency_code_sql(column: str) -> str:
    """A currency code (trimmed, upper-cased) as the number the rate trigger logs (0016)."""
    code = f"UPPER(TRIM({column}))"
    if connection.vendor == "postgresql":
        chars = [f"ASCII(SUBSTR({code}, {i}, 1))" for i in (1, 2, 3)]
    else:
        chars = [f"COALESCE(UNICODE(SUBSTR({code}, {i}, 1)), 0)" for i in (1, 2, 3)]
    return f"({chars[0]} * 65536 + {chars[1]} * 256 + {chars[2]})"


def changes_limit() -> int:
    """How many logged changes an incremental rebuild follows one by one."""
    total = _rows_about(T_FACT) + _rows_about(T_ROOMFACT)
    return max(10_000, int(total * MAX_CHANGES_SHARE))


def _rows_about(table: str) -> int:
    """A table's rows for a threshold: PostgreSQL's planner estimate (no scan of millions of
    rows), counted where there is none (SQLite, or a table never analysed)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT GREATEST(reltuples, 0) FROM pg_class WHERE oid = %s::regclass", [table]
            )
            estimate = int(cursor.fetchone()[0])
            if estimate:
                return estimate
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return int(cursor.fetchone()[0])


def needs_full(changes: Changes) -> str:
    """Why these changes need a full rollup rebuild ('' when they do not)."""
    if changes.whole_table:
        return "a whole table changed"
    if _customers_deleted_outside_a_rebuild():
        # An erasure deletes the customer row itself: its first-seen day, source and company,
        # which the last rebuild counted, are gone, so its parts cannot be taken off.
        return "a customer was deleted outside a rebuild (an erasure)"
    companies = changes.of(ChangedRecord.Kind.COMPANY)
    if companies:
        # Deleting a company sets its customers' company to none without a trace; renames
        # change no rollup (they store company ids).
        existing = _count(
            f"SELECT COUNT(*) FROM {Company._meta.db_table} WHERE id IN ({_ids_sql(companies)})"
        )
        if existing < len(companies):
            return "a company was deleted"
    return ""


def too_many_customers(changed: int) -> str:
    """Why `changed` customers (scope A after identity) are better recomputed in one whole
    pass ('' when following them one by one is faster)."""
    if changed <= MIN_CUSTOMERS_FOR_WHOLE_PASS:
        return ""
    total = _rows_about(Customer._meta.db_table)
    if changed <= MAX_CUSTOMERS_SHARE * total:
        return ""
    return (
        f"{changed:,} customers changed, more than {MAX_CUSTOMERS_SHARE:.0%} of {total:,}: "
        "one whole pass is faster than following them"
    )


def _customers_deleted_outside_a_rebuild() -> bool:
    """Fewer customers now than the last rebuild counted (only rebuilds create customers)."""
    counted = _count(
        f"SELECT COALESCE(SUM(count), 0) FROM {T_SUM} WHERE metric = '{keys.NEW_CUSTOMERS}'"
    )
    return _count(f"SELECT COUNT(*) FROM {Customer._meta.db_table}") < counted


def _ids_sql(ids: Iterable[int]) -> str:
    return ", ".join(str(int(value)) for value in sorted(ids)) or "NULL"


def _count(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.fetchone()[0])


def _temp_tables_create() -> None:
    _temp_tables_drop()
    for table, columns in TEMP_TABLES.items():
        _execute(f"CREATE TEMP TABLE {table} ({columns})")


def _temp_tables_drop() -> None:
    for table in TEMP_TABLES:
        _execute(f"DROP TABLE IF EXISTS {table}")


def _ids_fill(table: str, ids: Iterable[int]) -> None:
    rows = [(int(value),) for value in ids]
    rollup.rows_write(table, ("id",), rows)
    _analyze(table)


def _analyze(table: str) -> None:
    """PostgreSQL never analyzes a temporary table by itself; without row counts it plans an
    IN over a few thousand ids as over none, or over millions."""
    if connection.vendor == "postgresql":
        _execute(f"ANALYZE {table}")


def _ids_add(table: str, select: str) -> int:
    """Add the ids `select` returns to an id table (once each)."""
    added = _execute(
        f"INSERT INTO {table} (id) SELECT DISTINCT x.id FROM ({select}) x "
        f"WHERE x.id IS NOT NULL AND x.id NOT IN (SELECT id FROM {table})"
    )
    _analyze(table)
    return added


class ChangeScope:
    """What an incremental rebuild recomputes: A (the customers whose parts change) and the
    changed deals and rooms, as work tables of the rebuild transaction.

    open() before identity runs; customers_before(old_ids) from identity's before_write hook,
    while the customers still hold what the last rebuild counted (then every family takes its
    parts off); customers_after(new_ids) once identity wrote (then every family adds them
    back); close() at the end, or when the rebuild goes another way (a full run, no change).
    The families (insights.families) read the subqueries below and keep their own "before"
    parts in `before`, under their name.
    """

    customers = CUSTOMERS  # a subquery of A's ids
    deals = DEALS  # the deals whose DealFact row is rewritten (filled by the core rollups)
    changed_deals = f"SELECT id FROM {T_CHANGED_DEALS}"
    changed_rooms = f"SELECT id FROM {T_CHANGED_ROOMS}"

    def __init__(self, changes: Changes) -> None:
        self.changes = changes
        self.before: dict[str, Any] = {}
        # Whether any customer's buying days or their revenue changed (the core rollups say):
        # the customer value model reads nothing else.
        self.buying_days_changed = True

    def open(self) -> None:
        if connection.vendor == "postgresql":
            # Every statement here looks up a few thousand customers, deals or rooms among
            # millions. With the stock cost settings the planner scanned whole tables instead
            # of probing their indexes (2.0 s against 0.9 s for the rooms of 12,000 customers
            # at 1M), and compiled JIT code for it. For this transaction only.
            _execute("SET LOCAL random_page_cost = 1.1")
            _execute("SET LOCAL jit = off")
        _temp_tables_create()
        _ids_fill(T_CHANGED_DEALS, self.changes.of(ChangedRecord.Kind.DEAL))
        _ids_fill(T_CHANGED_ROOMS, self.changes.of(ChangedRecord.Kind.ROOM))
        # A stage's outcome or a lost reason's label changes every deal that uses it.
        for kind, column in (
            (ChangedRecord.Kind.STAGE, "stage_id"),
            (ChangedRecord.Kind.REASON, "lost_reason_id"),
        ):
            if self.changes.of(kind):
                _ids_add(
                    T_CHANGED_DEALS,
                    f"SELECT id FROM {T_DEAL} WHERE {column} IN "
                    f"({_ids_sql(self.changes.of(kind))})",
                )
        # A new, edited or deleted exchange rate changes every deal in its currency.
        if self.changes.of(ChangedRecord.Kind.RATE):
            _ids_add(
                T_CHANGED_DEALS,
                f"SELECT id FROM {T_DEAL} WHERE {currency_code_sql('currency')} IN "
                f"({_ids_sql(self.changes.of(ChangedRecord.Kind.RATE))})",
            )
        # An open deal in another currency is converted at the rate as of today.
        status = deal_rules.status_sql(deal="d", stage="s")
        _ids_add(
            T_CHANGED_DEALS,
            f"SELECT f.deal_id AS id FROM {T_FACT} f JOIN {T_DEAL} d ON d.id = f.deal_id "
            f"JOIN {rollup.T_STAGE} s ON s.id = d.stage_id "
            f"WHERE f.status = '{deal_rules.OPEN}' AND f.rate IS NOT NULL "
            f"AND f.rate <> COALESCE({rollup.rate_sql(deal='d', status=status)}, 0)",
        )

    def customers_before(self, old_ids: np.ndarray) -> None:
        """A before any customer changes: identity's re-resolved customers, and those of the
        changed deals and rooms."""
        _ids_fill(T_CUSTOMERS, np.unique(old_ids).tolist())
        for select in (
            # The customers the last rebuild gave the changed deals and rooms...
            f"SELECT customer_id AS id FROM {T_FACT} WHERE deal_id IN "
            f"(SELECT id FROM {T_CHANGED_DEALS})",
            f"SELECT customer_id AS id FROM {T_ROOMFACT} WHERE room_id IN "
            f"(SELECT id FROM {T_CHANGED_ROOMS})",
            # ... and those they belong to now (a deal moved to another contact).
            f"SELECT c.customer_id AS id FROM {T_DEAL} d JOIN {T_CONTACT} c "
            f"ON c.id = d.contact_id WHERE d.id IN (SELECT id FROM {T_CHANGED_DEALS})",
            f"SELECT cc.customer_id AS id FROM {T_ROOM} r JOIN {T_CHATCONTACT} cc "
            f"ON cc.id = r.chat_contact_id WHERE r.id IN (SELECT id FROM {T_CHANGED_ROOMS})",
        ):
            _ids_add(T_CUSTOMERS, select)

    def customers_after(self, new_ids: np.ndarray) -> int:
        """A grows by the customers identity created; returns its size."""
        _ids_fill(T_NEW_CUSTOMERS, np.unique(new_ids).tolist())
        _ids_add(T_CUSTOMERS, f"SELECT id FROM {T_NEW_CUSTOMERS}")
        return _count(f"SELECT COUNT(*) FROM {T_CUSTOMERS}")

    def close(self) -> None:
        """Drop the work tables."""
        _temp_tables_drop()


# --- The core rollups (insights.rollup) -------------------------------------------------------


def rollups_take_off(scope: ChangeScope) -> None:
    """Take off A's gap cells, repeat cells and new-customer sums as the last rebuild counted
    them (into the delta tables, applied by rollups_add_back)."""
    _customer_parts(sign=-1, rooms_from_facts=True)


def rollups_add_back(scope: ChangeScope) -> dict[str, int]:
    """After identity: rewrite A's deals and per-customer rows, add A's parts back."""
    rows: dict[str, int] = {}
    _deal_facts_rewrite(rows)
    _customer_parts(sign=1, rooms_from_facts=False)
    _deltas_apply(rows)
    won_days = (
        f"SELECT customer_id, day, won_deals, revenue_cents FROM {T_WONDAY} "
        f"WHERE customer_id IN ({CUSTOMERS})"
    )
    _execute(f"INSERT INTO {T_WON_DAYS_BEFORE} {won_days}")
    _execute(f"DELETE FROM {T_WONDAY} WHERE customer_id IN ({CUSTOMERS})")
    rows["customer_won_days"] = rollup.rollup_customer_won_days(customers=CUSTOMERS)
    before = f"SELECT customer_id, day, won_deals, revenue_cents FROM {T_WON_DAYS_BEFORE}"
    scope.buying_days_changed = bool(
        _count(
            f"SELECT COUNT(*) FROM (SELECT * FROM ({before} EXCEPT {won_days}) gone "
            f"UNION ALL SELECT * FROM ({won_days} EXCEPT {before}) came) d"
        )
    )
    _execute(f"DELETE FROM {T_STATS} WHERE customer_id IN ({CUSTOMERS})")
    rows["customer_stats"] = rollup.rollup_customer_stats(customers=CUSTOMERS)
    return rows


# --- The lifecycle rollups (insights.lifecycle) ----------------------------------------------

LIFECYCLE = "lifecycle"  # its key in ChangeScope.before


def lifecycle_take_off(scope: ChangeScope) -> None:
    """A's lapse chains and retention cells as the last rebuild counted them."""
    scope.before[LIFECYCLE] = (
        lifecycle.lapse_chain_counts(customers=CUSTOMERS),
        lifecycle.retention_counts(customers=CUSTOMERS, rooms_from_facts=True),
    )


def lifecycle_add_back(scope: ChangeScope) -> dict[str, int]:
    """A's chains and cells now (from the rewritten CustomerWonDay), merged by key."""
    chains_before, retention_before = scope.before.pop(LIFECYCLE)
    return {
        "lapse_chains": _counts_merge(
            lifecycle.T_CHAIN,
            lifecycle.CHAIN_COLUMNS,
            _difference(lifecycle.lapse_chain_counts(customers=CUSTOMERS), chains_before),
        ),
        "retention_cells": _counts_merge(
            lifecycle.T_RETENTION,
            ("event", "cohort", "months_after", "customers"),
            _difference(lifecycle.retention_counts(customers=CUSTOMERS), retention_before),
        ),
    }


# --- The service rollups (insights.service) ------------------------------------------------


def service_add_back(scope: ChangeScope, *, now: datetime) -> dict[str, int]:
    """The facts of A's rooms and the changed rooms, the days where one differs, as of `now`
    (the run's time). Nothing to take off first: service_update compares old and new facts."""
    return service.service_update(
        customers=CUSTOMERS,
        changed_rooms=scope.changed_rooms,
        surveys_changed=bool(scope.changes.of(ChangedRecord.Kind.SURVEY)),
        now=now,
    )


# --- Steps of the core rollups -------------------------------------------------------------------


def _customer_parts(*, sign: int, rooms_from_facts: bool) -> None:
    """Add (sign 1) or take off (-1) A's gap cells, repeat cells and new-customer sums."""
    for metric, source in rollup.gap_sources(
        customers=CUSTOMERS, rooms_from_facts=rooms_from_facts
    ):
        _execute(
            f"INSERT INTO {T_GAP_DELTA} (metric, dim, prev, day, fs, n) "
            f"SELECT c.metric, c.dim, c.prev, c.day, c.fs, {sign} * c.n "
            f"FROM ({rollup.gap_cells_select(metric, source)}) c"
        )
    _execute(
        f"INSERT INTO {T_REPEAT_DELTA} (a1, a2, n) SELECT r.c0, r.c1, {sign} * r.c2 FROM "
        f"({_named(rollup.repeat_cells_select(customers=CUSTOMERS), 3)}) r"
    )
    for select in rollup.customer_sums_selects(customers=CUSTOMERS):
        _sums_add(select, sign)
    _owner_sums_add(rollup.owner_buyers_select(customers=CUSTOMERS), sign)


def _owner_sums_add(select: str, sign: int) -> None:
    _execute(
        f"INSERT INTO {T_OWNER_DELTA} (kind, owner_id, day, cycle_days, deals, amount) "
        f"SELECT s.c0, s.c1, s.c2, s.c3, {sign} * s.c4, {sign} * s.c5 "
        f"FROM ({_named(select, 6)}) s"
    )


def _sums_add(select: str, sign: int) -> None:
    _execute(
        f"INSERT INTO {T_SUM_DELTA} (metric, dim, day, fs, count, amount, quantity) "
        f"SELECT s.c0, s.c1, s.c2, s.c3, {sign} * s.c4, {sign} * s.c5, {sign} * s.c6 "
        f"FROM ({_named(select, 7)}) s"
    )


def _deal_facts_rewrite(rows: dict[str, int]) -> None:
    """Rewrite the facts of A's deals and of the changed deals, with their per-deal sums."""
    for select in (
        f"SELECT deal_id AS id FROM {T_FACT} WHERE customer_id IN ({CUSTOMERS})",
        f"SELECT id FROM {T_CHANGED_DEALS}",
        f"SELECT d.id FROM {T_DEAL} d JOIN {T_CONTACT} c ON c.id = d.contact_id "
        f"WHERE c.customer_id IN ({CUSTOMERS})",
    ):
        _ids_add(T_DEALS, select)
    won_days = f"SELECT close_day AS id FROM {T_FACT} WHERE status = 'won' AND deal_id IN ({DEALS})"
    _ids_add_days(won_days)
    for select in rollup.deal_sums_selects(deals=DEALS):
        _sums_add(select, -1)
    _owner_sums_add(rollup.owner_deal_sums_select(deals=DEALS), -1)
    _execute(f"DELETE FROM {T_FACT} WHERE deal_id IN ({DEALS})")
    rows["deal_facts"] = rollup.rollup_deal_facts(deals=DEALS)
    for select in rollup.deal_sums_selects(deals=DEALS):
        _sums_add(select, 1)
    _owner_sums_add(rollup.owner_deal_sums_select(deals=DEALS), 1)
    _ids_add_days(won_days)


def _deltas_apply(rows: dict[str, int]) -> None:
    # All-time totals per dim follow their daily rows (keys.all_time).
    for metric in keys.DEMOGRAPHIC_METRICS:
        _execute(
            f"INSERT INTO {T_SUM_DELTA} (metric, dim, day, fs, count, amount, quantity) "
            f"SELECT '{keys.all_time(metric)}', dim, 0, 0, SUM(count), 0, 0 "
            f"FROM {T_SUM_DELTA} WHERE metric = '{metric}' GROUP BY dim"
        )
    rows["daily_sums"] = _upsert(
        T_SUM,
        "(metric, dim, day, first_seen_later, count, amount, quantity)",
        f"""SELECT metric, dim, day, fs, SUM(count), SUM(amount), SUM(quantity)
            FROM {T_SUM_DELTA} GROUP BY metric, dim, day, fs
            HAVING SUM(count) <> 0 OR SUM(amount) <> 0 OR SUM(quantity) <> 0""",
        conflict="(metric, dim, day, first_seen_later)",
        update="count = {t}.count + excluded.count, amount = {t}.amount + excluded.amount, "
        "quantity = {t}.quantity + excluded.quantity",
    )
    _execute(f"DELETE FROM {T_SUM} WHERE count = 0 AND amount = 0 AND quantity = 0")
    _product_days_recompute()

    rows["gap_cells"] = _upsert(
        T_GAP,
        "(metric, dim, previous_day, day, first_seen_later, customers, running_customers)",
        f"""SELECT metric, dim, prev, day, fs, SUM(n), 0 FROM {T_GAP_DELTA}
            GROUP BY metric, dim, prev, day, fs HAVING SUM(n) <> 0""",
        conflict="(metric, dim, day, previous_day, first_seen_later)",
        update="customers = {t}.customers + excluded.customers",
    )
    _execute(f"DELETE FROM {T_GAP} WHERE customers = 0")
    _running_customers_recompute()

    rows["repeat_cells"] = _repeat_apply()

    rows["owner_sums"] = _upsert(
        T_OWNER,
        rollup.OWNER_COLUMNS,
        f"""SELECT kind, owner_id, day, cycle_days, SUM(deals), SUM(amount)
            FROM {T_OWNER_DELTA} GROUP BY kind, owner_id, day, cycle_days
            HAVING SUM(deals) <> 0 OR SUM(amount) <> 0""",
        conflict="(kind, owner_id, day, cycle_days)",
        update="deals = {t}.deals + excluded.deals, amount = {t}.amount + excluded.amount",
    )
    _execute(f"DELETE FROM {T_OWNER} WHERE deals = 0 AND amount = 0")


def _product_days_recompute() -> None:
    days = f"SELECT day FROM {T_PRODUCT_DAYS}"
    touched = _count(f"SELECT COUNT(*) FROM {T_PRODUCT_DAYS}")
    with_sales = _count(
        f"SELECT COUNT(DISTINCT day) FROM {T_SUM} WHERE metric = '{keys.PRODUCT_SALES}'"
    )
    if touched > rollup.WHOLE_PASS_SHARE * with_sales:
        # Most days: one pass over every won deal beats picking them out.
        _execute(f"DELETE FROM {T_SUM} WHERE metric = '{keys.PRODUCT_SALES}'")
        _execute(f"INSERT INTO {T_SUM} {rollup.SUM_COLUMNS} {rollup.product_sums_select()}")
        return
    _execute(f"DELETE FROM {T_SUM} WHERE metric = '{keys.PRODUCT_SALES}' AND day IN ({days})")
    _execute(f"INSERT INTO {T_SUM} {rollup.SUM_COLUMNS} {rollup.product_sums_select(days=days)}")


def _running_customers_recompute() -> None:
    """Running sums of the (metric, dim, day) groups whose cells changed."""
    _execute(f"""
        UPDATE {T_GAP} SET running_customers = w.running
        FROM (
            SELECT g.id, SUM(g.customers) OVER (
                       PARTITION BY g.metric, g.dim, g.day
                       ORDER BY g.previous_day, g.first_seen_later
                       ROWS UNBOUNDED PRECEDING) AS running
            FROM {T_GAP} g
            WHERE (g.metric, g.dim, g.day) IN (
                SELECT DISTINCT metric, dim, day FROM {T_GAP_DELTA})
        ) w
        WHERE {T_GAP}.id = w.id AND {T_GAP}.running_customers <> w.running
    """)  # fmt: skip


def _repeat_apply() -> int:
    _execute(f"""
        INSERT INTO {T_REPEAT_NET} (a1, a2, n)
        SELECT a1, a2, SUM(n) FROM {T_REPEAT_DELTA} GROUP BY a1, a2 HAVING SUM(n) <> 0
    """)  # fmt: skip
    same = (
        f"{T_REPEAT}.first_won_day = t.a1 AND "
        f"COALESCE({T_REPEAT}.second_won_day, 0) = COALESCE(t.a2, 0)"
    )
    rows = _execute(
        f"UPDATE {T_REPEAT} SET customers = customers + t.n FROM {T_REPEAT_NET} t WHERE {same}"
    )
    rows += _execute(
        f"INSERT INTO {T_REPEAT} (first_won_day, second_won_day, customers) "
        f"SELECT t.a1, t.a2, t.n FROM {T_REPEAT_NET} t "
        f"WHERE NOT EXISTS (SELECT 1 FROM {T_REPEAT} WHERE {same})"
    )
    _execute(f"DELETE FROM {T_REPEAT} WHERE customers = 0")
    return rows


def _named(select: str, columns: int) -> str:
    """Wrap a SELECT so its columns are c0, c1...: its own expressions have no usable names."""
    names = ", ".join(f"c{index}" for index in range(columns))
    if connection.vendor == "postgresql":
        return f"SELECT * FROM ({select}) AS x ({names})"
    # SQLite has no column list on a derived table; a CTE's column list does the same.
    return f"WITH x ({names}) AS ({select}) SELECT * FROM x"


def _difference(after: Counter, before: Counter) -> dict[tuple, int]:
    """after - before per key, zeros left out (Counter's own minus drops negative counts)."""
    keys_ = set(after) | set(before)
    return {key: after[key] - before[key] for key in keys_ if after[key] != before[key]}


def _counts_merge(table: str, columns: tuple[str, ...], delta: dict[tuple, int]) -> int:
    """Add per-key deltas to a count table keyed by every column but the last, which counts."""
    if not delta:
        return 0
    *key_columns, count = columns
    work = "insights_inc_merge"
    _execute(f"DROP TABLE IF EXISTS {work}")
    types = ", ".join(f"{name} {'VARCHAR(32)' if name == 'event' else 'INTEGER'}"
                      for name in key_columns)  # fmt: skip
    _execute(f"CREATE TEMP TABLE {work} ({types}, n BIGINT)")
    rollup.rows_write(work, (*key_columns, "n"), [(*key, n) for key, n in delta.items()])
    same = " AND ".join(f"{table}.{name} = t.{name}" for name in key_columns)
    rows = _execute(f"UPDATE {table} SET {count} = {count} + t.n FROM {work} t WHERE {same}")
    rows += _execute(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(f't.{name}' for name in key_columns)}, t.n FROM {work} t "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {same})"
    )
    _execute(f"DELETE FROM {table} WHERE {count} = 0")
    _execute(f"DROP TABLE {work}")
    return rows


def _ids_add_days(select: str) -> None:
    _execute(
        f"INSERT INTO {T_PRODUCT_DAYS} (day) SELECT DISTINCT x.id FROM ({select}) x "
        f"WHERE x.id NOT IN (SELECT day FROM {T_PRODUCT_DAYS})"
    )


def _upsert(table: str, columns: str, select: str, *, conflict: str, update: str) -> int:
    """INSERT the rows of `select`, adding to the rows already there (same unique key)."""
    # SQLite needs a WHERE in an INSERT ... SELECT before ON CONFLICT (its parser's rule).
    return _execute(
        f"INSERT INTO {table} {columns} SELECT * FROM ({select}) u WHERE 1 = 1 "
        f"ON CONFLICT {conflict} DO UPDATE SET {update.format(t=table)}"
    )
