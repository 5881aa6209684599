"""Writes: rebuild every rollup of the metric engine from the raw tables and the snapshot.

Design note
-----------
* Rollups are written from the raw deal/chat tables and the customer snapshot inside the
  rebuild transaction (insights.rebuild): in full here, or for only the customers and days a
  day's changes touched (insights.incremental, through the `customers=` / `deals=` / `days=`
  subqueries these functions take). Reading a figure (insights.queries) only reads these
  rollups, never the raw CRM, chat or deal tables.
* A day is the local date of a timestamp in settings.TIME_ZONE, stored as its proleptic
  ordinal (an int). PostgreSQL computes it in SQL (`ts AT TIME ZONE tz`); SQLite has no time
  zones, so every SQLite connection gets a deterministic Python function `w_day`
  (insights.sqlite_functions, registered when the connection opens) that converts each
  stored UTC text timestamp exactly (23:30 UTC on 31 Jan is 1 Feb in
  Jakarta).
* Money is integer cents (line revenue 1/10000): sums are exact on both databases, and
  Decimals are made only when a figure is returned.
* Distinct customers over ANY range use "gap encoding" (GapCell). For a customer and a kind
  of event, take its distinct event days d1 < d2 < ... and emit
  (previous_day = d(i-1) or 0, day = di). The customers with an event in [s, e] are the rows
  with s <= day <= e and previous_day < s: exactly one per customer (its first event in the
  range). Rows are aggregated to (metric, dim, previous_day, day, first_seen_later) ->
  customers, so the table size depends on days, not customers. A running sum
  `running_customers` over previous_day within each day turns a read into one index seek per
  day of the range: sum over d in [s, e] of running_customers at the largest previous_day < s.
  Base(P) (first seen <= end) is implied for the counted row when first_seen <= day; the rare
  rows where the customer was first seen after the event keep that first-seen day in
  `first_seen_later` (else 0), are stored under metric_keys.seen_later(metric) and are read
  with the extra condition first_seen_later <= end. Exact.
  Metrics (insights/metric_keys.py): active (chat room or deal created), deal_created,
  won_created (won deal, by created day), won_closed (won deal, by close day), lost_closed
  (lost deal by close day, dim = reason label).
* Additive figures are per-day sums (DailySum): new customers (total = running sum), per source,
  company, country and city, deal values by created day (first_seen_later as above), revenue,
  lost deals per reason, products (distinct won deals, quantity, revenue).
* One-time vs repeat: per customer the close days of its first and second won deal
  (RepeatCell.first_won_day, second_won_day).
* RFM and the top-20% share need per-customer ranks: CustomerWonDay (customer, close day,
  won deals, revenue) is indexed by day and ranked in SQL with window functions.
* Every answer is cached in FigureCache (insights.engine.cache) under a key derived from the
  answer's shape, the time zone and the id of the run that built the rollups; each rebuild
  clears it and warms it after its commit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection

from chats.models import ChatContact, ChatRoom
from customers.models import Contact, Customer
from deals import rules as deal_rules
from deals.models import Deal, DealItem, ExchangeRate, LostReason, PipelineStage

from . import metric_keys as keys
from .engine import db
from .models import (
    CustomerStats,
    CustomerWonDay,
    DailySum,
    DealFact,
    GapCell,
    OwnerDaySum,
    RepeatCell,
    ServiceRoomFact,
)

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

T_DEAL = Deal._meta.db_table
T_STAGE = PipelineStage._meta.db_table
T_REASON = LostReason._meta.db_table
T_ITEM = DealItem._meta.db_table
T_RATE = ExchangeRate._meta.db_table
T_CONTACT = Contact._meta.db_table
T_CUSTOMER = Customer._meta.db_table
T_ROOM = ChatRoom._meta.db_table
T_CHATCONTACT = ChatContact._meta.db_table
T_FACT = DealFact._meta.db_table
T_GAP = GapCell._meta.db_table
T_SUM = DailySum._meta.db_table
T_REPEAT = RepeatCell._meta.db_table
T_WONDAY = CustomerWonDay._meta.db_table
T_STATS = CustomerStats._meta.db_table
T_ROOMFACT = ServiceRoomFact._meta.db_table
T_OWNER = OwnerDaySum._meta.db_table

# An incremental rebuild recomputes the days its changes touched; past this share of all days
# one pass over everything is faster than picking the days out (insights.incremental, service).
WHOLE_PASS_SHARE = 1 / 3

ROLLUP_MODELS = (
    DealFact,
    GapCell,
    DailySum,
    RepeatCell,
    CustomerWonDay,
    CustomerStats,
    OwnerDaySum,
)


# The vendor expressions and the statement runner live in the engine (insights.engine.db); the
# short local names keep this module's SQL readable.
_day = db.day_sql
_date_ordinal = db.date_ordinal_sql
_hundredths = db.hundredths_sql
_line_revenue_sum = db.line_revenue_sum_sql
_converted_cents = db.converted_cents_sql
_local_date = db.local_date_sql
_exact_sum = db.exact_sum_sql
_execute = db.execute
rate_sql = db.rate_sql
base_sql = db.base_sql
rate_params = db.rate_params


# --- Phases ----------------------------------------------------------------------------------


def statistics_refresh(*tables: str) -> None:
    """ANALYZE tables the rebuild has just rewritten (PostgreSQL; inside its transaction).

    The next phases join these tables, and the planner plans from their statistics. Autovacuum
    cannot see the rebuild's rows before it commits (and may be off), so without this the
    planner works from the previous rebuild's row counts, or from none: at 1M people it chose a
    nested loop over 5M chat rooms, expecting one chat contact with a customer. Sampling a
    table costs well under a second.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def rows_write(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Append rows to a rollup table: COPY on PostgreSQL (400,000 lapse-chain rows at 1M
    people took 24 s as multi-row INSERTs, 7 s with COPY); elsewhere INSERTs of 500 rows,
    under every database's parameter limit. Model instances would cost more than the SQL."""
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for begin in range(0, len(rows), 500):
            chunk = rows[begin : begin + 500]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([marks] * len(chunk))}",
                [value for row in chunk for value in row],
            )


def rollup_clear() -> None:
    """Delete every rollup row (inside the rebuild transaction; DELETE keeps readers unblocked)."""
    for model in ROLLUP_MODELS:
        _execute(f"DELETE FROM {model._meta.db_table}")


def rollup_deal_facts(*, deals: str = "") -> int:
    """One row per deal: customer, local created/close days, status (METRICS.md 3), cents, the
    pipeline's stage, win probability and local expected close day (METRICS.md §P), and the
    owner's user id (0: none, METRICS.md O).

    The value is in the base currency: a deal in another currency is converted at its rate
    (rate_sql) and a deal whose currency has no rate gets no row, so it is left out of every
    figure (deals.currency lists it). `deals`: a subquery of the deal ids to write (an
    incremental rebuild), else every deal.
    """
    status = deal_rules.status_sql(deal="d", stage="s")
    sql = f"""
        INSERT INTO {T_FACT} (deal_id, customer_id, first_seen_day, created_day, close_day,
                              status, amount_cents, reason, rate, stage_id, win_probability,
                              expected_close_day, owner_id)
        SELECT x.id, x.customer_id, x.fs, x.created_day, x.close_day, x.status,
               CASE WHEN x.base = 1 THEN {_hundredths("x.amount")}
                    ELSE {_converted_cents("x.amount", "x.rate")} END,
               x.reason, x.rate, x.stage_id, x.win_probability, x.expected_close_day, x.owner_id
        FROM (
            SELECT d.id, c.customer_id, {_date_ordinal("cu.first_seen_date")} AS fs,
                   {_day("d.created_at")} AS created_day,
                   {_day("COALESCE(d.closed_at, d.created_at)")} AS close_day,
                   {status} AS status, d.amount,
                   CASE WHEN s.outcome <> 'lost' THEN ''
                        WHEN r.name IS NULL OR TRIM(r.name) = '' THEN 'Unspecified'
                        ELSE r.name END AS reason,
                   CASE WHEN {base_sql(deal="d")} THEN 1 ELSE 0 END AS base,
                   CASE WHEN {base_sql(deal="d")} THEN NULL
                        ELSE {rate_sql(deal="d", status=status)} END AS rate,
                   s.id AS stage_id,
                   COALESCE(d.win_probability, s.default_win_probability) AS win_probability,
                   {_day("d.expected_close_at")} AS expected_close_day,
                   COALESCE(d.owner_id, 0) AS owner_id
            FROM {T_DEAL} d
            JOIN {T_STAGE} s ON s.id = d.stage_id
            LEFT JOIN {T_CONTACT} c ON c.id = d.contact_id
            LEFT JOIN {T_CUSTOMER} cu ON cu.id = c.customer_id
            LEFT JOIN {T_REASON} r ON r.id = d.lost_reason_id
            {f"WHERE d.id IN ({deals})" if deals else ""}
        ) x
        WHERE x.base = 1 OR x.rate IS NOT NULL
    """
    return _execute(sql)


def gap_cells_select(metric: str, source: str) -> str:
    """SELECT (metric, dim, prev, day, fs, n): `source` (distinct rows dim, customer_id, day,
    fs) gap-encoded and counted. The previous day is found within each customer, so a source
    restricted to some customers gives exactly those customers' part of the cells."""
    assert metric.replace("_", "").isalnum()  # a code constant, inlined as a literal
    return f"""
        SELECT CASE WHEN g.fs = 0 THEN '{metric}' ELSE '{keys.seen_later(metric)}' END AS metric,
               g.dim, g.prev, g.day, g.fs, COUNT(*) AS n
        FROM (
            SELECT e.dim, e.day, CASE WHEN e.fs > e.day THEN e.fs ELSE 0 END AS fs,
                   LAG(e.day, 1, 0) OVER (PARTITION BY e.dim, e.customer_id
                                          ORDER BY e.day) AS prev
            FROM ({source}) e
        ) g
        GROUP BY g.dim, g.prev, g.day, g.fs
    """


def gap_sources(*, customers: str = "", rooms_from_facts: bool = False) -> list[tuple[str, str]]:
    """(metric, source) of every gap-encoded metric.

    `customers` restricts the sources to a subquery of customer ids. `rooms_from_facts` reads
    the rooms' activity days from ServiceRoomFact (the last rebuild's customers) instead of
    the chat rooms: an incremental rebuild subtracts what the last one counted.
    """
    scope = f" AND customer_id IN ({customers})" if customers else ""
    if rooms_from_facts:
        rooms = f"""SELECT customer_id, day FROM {T_ROOMFACT}
                    WHERE customer_id IS NOT NULL{scope}"""
    else:
        room_scope = f" AND cc.customer_id IN ({customers})" if customers else ""
        rooms = f"""SELECT cc.customer_id AS customer_id, {_day("r.created_at")} AS day
                    FROM {T_ROOM} r JOIN {T_CHATCONTACT} cc ON cc.id = r.chat_contact_id
                    WHERE cc.customer_id IS NOT NULL{room_scope}"""
    activity = f"""
        SELECT DISTINCT '' AS dim, a.customer_id, a.day, {_date_ordinal("cu.first_seen_date")} AS fs
        FROM (
            {rooms}
            UNION ALL
            SELECT customer_id, created_day FROM {T_FACT} WHERE customer_id IS NOT NULL{scope}
        ) a
        JOIN {T_CUSTOMER} cu ON cu.id = a.customer_id
    """
    created = f"""
        SELECT DISTINCT '' AS dim, customer_id, created_day AS day, first_seen_day AS fs
        FROM {T_FACT} WHERE customer_id IS NOT NULL{scope}
    """
    won_created = created + " AND status = 'won'"
    paid = f"""
        SELECT DISTINCT '' AS dim, customer_id, close_day AS day, 0 AS fs
        FROM {T_FACT} WHERE customer_id IS NOT NULL AND status = 'won'{scope}
    """
    lost = f"""
        SELECT DISTINCT reason AS dim, customer_id, close_day AS day, 0 AS fs
        FROM {T_FACT} WHERE customer_id IS NOT NULL AND status = 'lost'{scope}
    """
    return [
        (keys.ACTIVE, activity),
        (keys.DEAL_CREATED, created),
        (keys.WON_CREATED, won_created),
        (keys.WON_CLOSED, paid),
        (keys.LOST_CLOSED, lost),
    ]


def rollup_gap_cells() -> int:
    rows = 0
    for metric, source in gap_sources():
        rows += _execute(f"""
            INSERT INTO {T_GAP} (metric, dim, previous_day, day, first_seen_later, customers,
                                 running_customers)
            SELECT c.metric, c.dim, c.prev, c.day, c.fs, c.n,
                   SUM(c.n) OVER (PARTITION BY c.metric, c.dim, c.day ORDER BY c.prev, c.fs
                                  ROWS UNBOUNDED PRECEDING)
            FROM ({gap_cells_select(metric, source)}) c
        """)  # fmt: skip
    return rows


def customer_sums_selects(*, customers: str = "") -> list[str]:
    """SELECTs (metric, dim, day, fs, count, amount, quantity) of the per-customer sums: new
    customers in total and by source, company, country and city (optionally of some ids)."""
    first_seen = _date_ordinal("first_seen_date")
    source = "CASE WHEN TRIM(source) = '' THEN 'Other' ELSE source END"
    scope = f" WHERE id IN ({customers})" if customers else ""
    # Country and city: Customer stores "Other" itself when none applies (METRICS.md 2).
    return [
        f"""SELECT '{metric}', {dim}, {first_seen}, 0, COUNT(*), 0, 0
            FROM {T_CUSTOMER}{scope} GROUP BY {group}first_seen_date"""
        for metric, dim, group in (
            (keys.NEW_CUSTOMERS, "''", ""),
            (keys.NEW_BY_SOURCE, source, f"{source}, "),
            (keys.NEW_BY_COMPANY, "COALESCE(CAST(company_id AS TEXT), '')", "company_id, "),
            (keys.NEW_BY_COUNTRY, "country", "country, "),
            (keys.NEW_BY_CITY, "city", "city, "),
        )
    ]


def deal_sums_selects(*, deals: str = "") -> list[str]:
    """SELECTs (as above) of the per-deal sums: deal values by created day, won revenue, lost
    deals per reason and lost deals of customers (optionally of some deal ids)."""
    exception = "CASE WHEN first_seen_day > created_day THEN first_seen_day ELSE 0 END"
    scope = f" AND deal_id IN ({deals})" if deals else ""
    return [
        f"""SELECT '{keys.DEAL_VALUE_CREATED}', '', created_day, {exception}, COUNT(*),
                   SUM(amount_cents), 0
            FROM {T_FACT} WHERE customer_id IS NOT NULL{scope}
            GROUP BY created_day, {exception}""",
        f"""SELECT '{keys.WON_REVENUE}', '', close_day, 0, COUNT(*), SUM(amount_cents), 0
            FROM {T_FACT} WHERE customer_id IS NOT NULL AND status = 'won'{scope}
            GROUP BY close_day""",
        f"""SELECT '{keys.LOST_DEALS}', reason, close_day, 0, COUNT(*), 0, 0
            FROM {T_FACT} WHERE status = 'lost'{scope} GROUP BY reason, close_day""",
        # Won deals with or without a customer (§P's historical win rate, beside LOST_DEALS).
        f"""SELECT '{keys.WON_DEALS}', '', close_day, 0, COUNT(*), 0, 0
            FROM {T_FACT} WHERE status = 'won'{scope} GROUP BY close_day""",
        # Lost deals of customers per close day (the win rate of K and the lifecycle figures).
        f"""SELECT '{keys.LOST_DEALS_OF_CUSTOMERS}', '', close_day, 0, COUNT(*), 0, 0
            FROM {T_FACT} WHERE customer_id IS NOT NULL AND status = 'lost'{scope}
            GROUP BY close_day""",
    ]


OWNER_COLUMNS = "(kind, owner_id, day, cycle_days, deals, amount)"


def owner_deal_sums_select(*, deals: str = "") -> str:
    """SELECT (kind, owner, day, cycle_days, deals, amount) of the per-owner deal sums
    (METRICS.md O), optionally of some deal ids: won deals per close day and cycle (close day
    - created day), lost deals per close day. Open deals are read from DealFact itself."""
    scope = f" AND deal_id IN ({deals})" if deals else ""
    cycle = "CASE WHEN status = 'won' THEN close_day - created_day ELSE 0 END"
    return f"""
        SELECT status, owner_id, close_day, {cycle}, COUNT(*), {_exact_sum("amount_cents")}
        FROM {T_FACT} WHERE status IN ('won', 'lost'){scope}
        GROUP BY status, owner_id, close_day, {cycle}
    """


def owner_buyers_select(*, customers: str = "") -> str:
    """SELECT (as above) of new buyers per owner: customers by their first buying day (their
    earliest won close day, METRICS.md G), once per owner of a won deal closed that day."""
    scope = f" AND customer_id IN ({customers})" if customers else ""
    return f"""
        SELECT 'buyer', b.owner_id, b.day, 0, COUNT(*), 0
        FROM (
            SELECT DISTINCT f.customer_id, f.owner_id, f.close_day AS day
            FROM {T_FACT} f
            JOIN (
                SELECT customer_id, MIN(close_day) AS first_day FROM {T_FACT}
                WHERE customer_id IS NOT NULL AND status = 'won'{scope}
                GROUP BY customer_id
            ) m ON m.customer_id = f.customer_id AND m.first_day = f.close_day
            WHERE f.status = 'won'
        ) b
        GROUP BY b.owner_id, b.day
    """


def rollup_owner_sums() -> int:
    """The per-owner grain of the deal facts (OwnerDaySum)."""
    return sum(
        _execute(f"INSERT INTO {T_OWNER} {OWNER_COLUMNS} {select}")
        for select in (owner_deal_sums_select(), owner_buyers_select())
    )


def product_sums_select(*, days: str = "") -> str:
    """SELECT (as above) of product sales per close day (optionally of some days).

    A product twice in one deal counts the deal once (COUNT DISTINCT) and sums its lines.
    """
    scope = f" AND f.close_day IN ({days})" if days else ""
    return f"""
        SELECT '{keys.PRODUCT_SALES}', CAST(i.product_id AS TEXT), f.close_day, 0,
               COUNT(DISTINCT i.deal_id),
               {_line_revenue_sum("i.quantity", "i.unit_price", "f.rate")},
               SUM({_hundredths("i.quantity")})
        FROM {T_ITEM} i JOIN {T_FACT} f ON f.deal_id = i.deal_id
        WHERE f.status = 'won'{scope} GROUP BY i.product_id, f.close_day
    """


SUM_COLUMNS = "(metric, dim, day, first_seen_later, count, amount, quantity)"


def rollup_daily_sums() -> int:
    columns = f"INSERT INTO {T_SUM} {SUM_COLUMNS}"
    statements = [*customer_sums_selects(), *deal_sums_selects(), product_sums_select()]
    rows = sum(_execute(f"{columns} {sql}") for sql in statements)
    return rows + _all_time_totals()


def _all_time_totals() -> int:
    """All-time totals per dim on day 0, after the daily rows they sum (keys.all_time)."""
    return sum(
        _execute(
            f"""INSERT INTO {T_SUM} {SUM_COLUMNS}
                SELECT '{keys.all_time(metric)}', dim, 0, 0, SUM(count), 0, 0
                FROM {T_SUM} WHERE metric = '{metric}' GROUP BY dim"""
        )
        for metric in keys.DEMOGRAPHIC_METRICS
    )


def repeat_cells_select(*, customers: str = "") -> str:
    """SELECT (first_won_day, second_won_day, customers), optionally of some customer ids."""
    scope = f" AND customer_id IN ({customers})" if customers else ""
    return f"""
        SELECT a1, a2, COUNT(*) FROM (
            SELECT customer_id,
                   MIN(CASE WHEN rn = 1 THEN close_day END) AS a1,
                   MIN(CASE WHEN rn = 2 THEN close_day END) AS a2
            FROM (
                SELECT customer_id, close_day,
                       ROW_NUMBER() OVER (PARTITION BY customer_id
                                          ORDER BY close_day, deal_id) AS rn
                FROM {T_FACT} WHERE customer_id IS NOT NULL AND status = 'won'{scope}
            ) w
            WHERE rn <= 2
            GROUP BY customer_id
        ) x
        GROUP BY a1, a2
    """


def rollup_repeat_cells() -> int:
    return _execute(
        f"INSERT INTO {T_REPEAT} (first_won_day, second_won_day, customers) {repeat_cells_select()}"
    )


def rollup_customer_won_days(*, customers: str = "") -> int:
    scope = f" AND customer_id IN ({customers})" if customers else ""
    sql = f"""
        INSERT INTO {T_WONDAY} (customer_id, day, won_deals, revenue_cents)
        SELECT customer_id, close_day, COUNT(*), SUM(amount_cents)
        FROM {T_FACT} WHERE customer_id IS NOT NULL AND status = 'won'{scope}
        GROUP BY customer_id, close_day
    """
    return _execute(sql)


def rollup_customer_stats(*, customers: str = "") -> int:
    """Per-customer all-time totals; last activity = latest chat room or deal created."""

    def scope(column: str) -> str:
        return f" AND {column} IN ({customers})" if customers else ""

    revenue = (
        "CAST(COALESCE(d.revenue, 0) AS NUMERIC) / 100"
        if connection.vendor == "postgresql"
        else "COALESCE(d.revenue, 0) / 100.0"
    )
    sql = f"""
        INSERT INTO {T_STATS} (customer_id, lifetime_revenue, won_deals, deals, chat_rooms,
                               last_purchase_day, last_activity_at)
        SELECT cu.id, {revenue}, COALESCE(d.won, 0), COALESCE(d.deals, 0),
               COALESCE(r.rooms, 0), COALESCE(d.last_won_day, 0),
               CASE WHEN r.last_at IS NULL THEN dl.last_at
                    WHEN dl.last_at IS NULL THEN r.last_at
                    WHEN r.last_at > dl.last_at THEN r.last_at
                    ELSE dl.last_at END
        FROM {T_CUSTOMER} cu
        LEFT JOIN (
            SELECT customer_id, COUNT(*) AS deals,
                   SUM(CASE WHEN status = 'won' THEN 1 ELSE 0 END) AS won,
                   SUM(CASE WHEN status = 'won' THEN amount_cents ELSE 0 END) AS revenue,
                   MAX(CASE WHEN status = 'won' THEN close_day END) AS last_won_day
            FROM {T_FACT} WHERE customer_id IS NOT NULL{scope("customer_id")} GROUP BY customer_id
        ) d ON d.customer_id = cu.id
        LEFT JOIN (
            SELECT c.customer_id, MAX(dd.created_at) AS last_at
            FROM {T_DEAL} dd JOIN {T_CONTACT} c ON c.id = dd.contact_id
            JOIN {T_FACT} df ON df.deal_id = dd.id  -- a deal without a rate does not exist
            WHERE c.customer_id IS NOT NULL{scope("c.customer_id")}
            GROUP BY c.customer_id
        ) dl ON dl.customer_id = cu.id
        LEFT JOIN (
            SELECT cc.customer_id, COUNT(*) AS rooms, MAX(rr.created_at) AS last_at
            FROM {T_ROOM} rr JOIN {T_CHATCONTACT} cc ON cc.id = rr.chat_contact_id
            WHERE cc.customer_id IS NOT NULL{scope("cc.customer_id")}
            GROUP BY cc.customer_id
        ) r ON r.customer_id = cu.id
        WHERE 1 = 1{scope("cu.id")}
    """
    return _execute(sql)


# What each phase writes, to refresh its statistics before the phases that read it.
PHASE_TABLES: dict[str, tuple[str, ...]] = {
    "deal_facts": (T_FACT,),
    "gap_cells": (T_GAP,),
    "daily_sums": (T_SUM,),
    "repeat_cells": (T_REPEAT,),
    "customer_won_days": (T_WONDAY,),
    "customer_stats": (T_STATS,),
    "owner_sums": (T_OWNER,),
}

PHASES: tuple[tuple[str, Callable[[], int]], ...] = (
    ("deal_facts", rollup_deal_facts),
    ("gap_cells", rollup_gap_cells),
    ("daily_sums", rollup_daily_sums),
    ("repeat_cells", rollup_repeat_cells),
    ("customer_won_days", rollup_customer_won_days),
    ("customer_stats", rollup_customer_stats),
    ("owner_sums", rollup_owner_sums),
)


def rollup_rebuild(*, progress: Progress | None = None) -> tuple[dict[str, int], dict[str, float]]:
    """Delete and rebuild every rollup; call inside a transaction. Returns (rows, timings)."""
    started = time.monotonic()
    rollup_clear()
    cleared = round(time.monotonic() - started, 3)
    rows, timings = _phases_run(PHASES, progress)
    if progress:
        progress("rollups", len(PHASES), len(PHASES))
    return rows, {"clear": cleared, **timings}


def _phases_run(
    phases: Sequence[tuple[str, Callable[[], int]]], progress: Progress | None
) -> tuple[dict[str, int], dict[str, float]]:
    """Run the phases in order, each with its tables' statistics refreshed after it: (rows,
    seconds) by phase. The one-transaction rebuild and each fanned-out part alike."""
    rows: dict[str, int] = {}
    timings: dict[str, float] = {}
    for index, (name, phase) in enumerate(phases):
        if progress:
            progress(name, index, len(phases))
        started = time.monotonic()
        rows[name] = phase()
        statistics_refresh(*PHASE_TABLES.get(name, ()))
        timings[name] = round(time.monotonic() - started, 3)
        logger.debug("insights rollup %s: %s rows in %.2fs", name, rows[name], timings[name])
    return rows, timings


# --- Parts of a fanned-out rebuild (insights.fanout) -------------------------------------------


def rollup_part(
    *, customers: str, deals: str, progress: Progress | None = None
) -> tuple[dict[str, int], dict[str, float]]:
    """One customer shard's rows of every core rollup, into the part's staged tables (which
    shadow the live ones, insights.fanout): `customers` and `deals` are the shard's subqueries.

    Per-deal and per-customer tables get their final rows. The sums over customers (gap
    cells, daily sums, repeat cells, owner sums) get the shard's part of each sum; every
    customer and deal is in one shard, so rollup_parts_merge adds the parts up to what
    rollup_rebuild writes. Reads of DealFact see only the shard's facts (the staged copy).
    """
    columns = f"INSERT INTO {T_SUM} {SUM_COLUMNS}"
    gap = (
        f"INSERT INTO {T_GAP} (metric, dim, previous_day, day, first_seen_later, customers, "
        "running_customers) SELECT c.metric, c.dim, c.prev, c.day, c.fs, c.n, 0 FROM ({}) c"
    )
    phases: tuple[tuple[str, Callable[[], int]], ...] = (
        ("deal_facts", lambda: rollup_deal_facts(deals=deals)),
        (
            "gap_cells",
            lambda: sum(
                _execute(gap.format(gap_cells_select(metric, source)))
                for metric, source in gap_sources(customers=customers)
            ),
        ),
        (
            "daily_sums",
            lambda: sum(
                _execute(f"{columns} {sql}")
                for sql in (
                    *customer_sums_selects(customers=customers),
                    *deal_sums_selects(),
                    product_sums_select(),
                )
            ),
        ),
        ("repeat_cells", rollup_repeat_cells),
        ("customer_won_days", rollup_customer_won_days),
        ("customer_stats", lambda: rollup_customer_stats(customers=customers)),
        ("owner_sums", rollup_owner_sums),
    )
    return _phases_run(phases, progress)


def model_columns(model: Any) -> list[str]:
    """A rollup table's columns but a generated id (staged rows have none of their own)."""
    generated = ("AutoField", "BigAutoField", "SmallAutoField")
    return [
        field.column
        for field in model._meta.concrete_fields
        if not (field.primary_key and field.get_internal_type() in generated)
    ]


def rollup_parts_merge(union: Callable[[str, Sequence[str]], str]) -> dict[str, int]:
    """Replace every core rollup's rows with the parts' (inside the finish transaction).

    `union(table, columns)` is a subquery of every part's staged rows of a table. Per-deal and
    per-customer rows are copied; the parts of each sum are added up, the gap cells' running
    sums and the all-time totals computed from the whole, as rollup_rebuild does.
    """
    rollup_clear()
    rows: dict[str, int] = {}
    for model, name in (
        (DealFact, "deal_facts"),
        (CustomerWonDay, "customer_won_days"),
        (CustomerStats, "customer_stats"),
    ):
        table, names = model._meta.db_table, model_columns(model)
        listed = ", ".join(names)
        rows[name] = _execute(
            f"INSERT INTO {table} ({listed}) SELECT {listed} FROM ({union(table, names)}) u"
        )
    gap_key = ["metric", "dim", "previous_day", "day", "first_seen_later"]
    rows["gap_cells"] = _execute(f"""
        INSERT INTO {T_GAP} (metric, dim, previous_day, day, first_seen_later, customers,
                             running_customers)
        SELECT metric, dim, previous_day, day, first_seen_later, SUM(customers),
               SUM(SUM(customers)) OVER (PARTITION BY metric, dim, day
                                         ORDER BY previous_day, first_seen_later
                                         ROWS UNBOUNDED PRECEDING)
        FROM ({union(T_GAP, [*gap_key, "customers"])}) u
        GROUP BY metric, dim, previous_day, day, first_seen_later
    """)  # fmt: skip
    sum_key = ["metric", "dim", "day", "first_seen_later"]
    rows["daily_sums"] = _execute(f"""
        INSERT INTO {T_SUM} {SUM_COLUMNS}
        SELECT metric, dim, day, first_seen_later, SUM(count), SUM(amount), SUM(quantity)
        FROM ({union(T_SUM, [*sum_key, "count", "amount", "quantity"])}) u
        GROUP BY metric, dim, day, first_seen_later
    """)  # fmt: skip
    rows["daily_sums"] += _all_time_totals()
    repeat = ["first_won_day", "second_won_day"]
    rows["repeat_cells"] = _execute(f"""
        INSERT INTO {T_REPEAT} (first_won_day, second_won_day, customers)
        SELECT first_won_day, second_won_day, SUM(customers)
        FROM ({union(T_REPEAT, [*repeat, "customers"])}) u
        GROUP BY first_won_day, second_won_day
    """)  # fmt: skip
    owner = ["kind", "owner_id", "day", "cycle_days"]
    rows["owner_sums"] = _execute(f"""
        INSERT INTO {T_OWNER} {OWNER_COLUMNS}
        SELECT kind, owner_id, day, cycle_days, SUM(deals), SUM(amount)
        FROM ({union(T_OWNER, [*owner, "deals", "amount"])}) u
        GROUP BY kind, owner_id, day, cycle_days
    """)  # fmt: skip
    statistics_refresh(*(model._meta.db_table for model in ROLLUP_MODELS))
    return rows
