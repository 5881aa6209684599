"""Customer service figures (METRICS.md S): rebuild of the service rollups and their reads.

Design note
-----------
* ServiceRoomFact holds one row per chat room, written once per rebuild: the local created
  day (ordinal, like every rollup), the chat contact's channel, the agent label (blank is
  `Unassigned`), the first response and resolution times in whole seconds (exact microsecond
  difference, integer division, so 9.4 s is 9), the CSAT score and the first-contact-
  resolution flag. Readers never touch chats_chatroom / chats_chatcontact.
* ServiceDayGroup, ServiceWeekGroup and ServiceMonthGroup hold, per local day, ISO week and
  month, for every room (`all`), each channel and each agent, the additive counts and every
  duration of those rooms packed as big-endian integers (4 bytes each, 8 when one is over
  2**31 - 1 seconds), sorted, with an index: the value at every INDEX_STEP-th position and
  the last. Why not per-day aggregates: nearest-rank percentiles are not additive, so an exact
  median over ANY period needs the individual durations of that period; a histogram in whole
  seconds would hold almost as many entries as rooms, because durations in seconds are nearly
  all distinct.
* A read covers the period with the fewest stored spans (its whole months, then the whole
  weeks of the rest, then days: a year is 12 to 25 spans, not 365), reads their counts and
  indexes, and finds each exact k-th value from the indexes and a few blocks of each run
  (insights.engine.ranks), read with substr in one query for every percentile of the payload:
  two round trips, about 2 x spans x INDEX_STEP values per percentile, whatever the number of
  rooms. The nearest ranks are ceil(0.5 n) and ceil(0.9 n) in integer arithmetic
  (PostgreSQL's percentile_disc computes ceil(q * n) in floating point and is one off for
  some n: 0.9 * 70 = 63.000000000000007). Before (round seven), a read joined every duration
  of the period's days and partitioned them: 0.4-1.2 s uncached past a week at 1,000,000
  people (docs/BENCHMARKS.md, round eight).
* The rebuild writes the three spans from one pass over the facts per day, channel and agent,
  sorting and indexing in numpy (PostgreSQL's ordered string_agg sorts every group apart: 30 s
  at 150,000 people); an incremental rebuild rewrites the months of the days it touched, with
  their days and weeks.
* First contact resolution needs, per resolved room, the earliest room of the same customer
  created after its resolved_at. It is computed once per room at rebuild with one window over
  the customer's events in time order (room openings and resolutions merged, newest first;
  at equal instants an opening sorts after the resolution, so a room opened exactly at
  resolved_at is not "after" it): the minimum opening time among the preceding rows. The
  window (resolved_at, resolved_at + 7 days] is then an integer comparison in microseconds.
  A chat contact without a customer yet (before the first snapshot) stands for itself.
* Survey responses are additive: SurveyDay counts them per local day, kind and score.
* Reads are cached in FigureCache (insights.engine.cache) under the run id, like every
  figure.
* Service levels (METRICS.md §L). "Now" is the rebuild's time, recorded as the run's finish
  (computed_at). The business calendar (chats.business_time) is written as a work table, one
  row per local day, so that the facts INSERT computes each room's business durations and the
  business time up to its opening with equi-joins, no loop. Each fact also carries its target
  (the channel's row, else the blank default) and its four statuses (target clock and calendar;
  met / breached / pending). Only a pending status can change with time alone: every rebuild,
  incremental included, recomputes the pending ones and their spans' groups. The groups sum
  the statuses; the `all` groups pack the business first responses like the others (§L
  gives their percentiles for every room, not per label). A change of
  targets, business hours, time zone or holidays changes `calendar_key`, stored in
  ServiceState with the backlog at now, and the next rebuild recomputes the service rollups
  whole. Survey answers naming a room are grouped per day and the room's channel and agent
  (SurveyRoomDay), rewritten every rebuild (a room's channel or agent may have changed).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone

from chats.business_time import BusinessCalendar, epoch_us, parse_business_hours
from chats.models import ChatContact, ChatRoom, Holiday, ServiceTarget, SurveyResponse
from customers.models import Contact

from . import rollup
from .engine import cache, db, numbers, ranks
from .models import (
    ServiceDayGroup,
    ServiceMonthGroup,
    ServiceRoomFact,
    ServiceState,
    ServiceWeekGroup,
    SurveyDay,
    SurveyRoomDay,
)
from .periods import Period, buckets, resolve_granularity
from .rollup import statistics_refresh

T_ROOM = ChatRoom._meta.db_table
T_CHATCONTACT = ChatContact._meta.db_table
T_SURVEY = SurveyResponse._meta.db_table
T_CONTACT = Contact._meta.db_table
T_FACT = ServiceRoomFact._meta.db_table
T_SURVEYDAY = SurveyDay._meta.db_table
T_DAYGROUP = ServiceDayGroup._meta.db_table
T_WEEKGROUP = ServiceWeekGroup._meta.db_table
T_MONTHGROUP = ServiceMonthGroup._meta.db_table
T_SURVEYROOM = SurveyRoomDay._meta.db_table
T_STATE = ServiceState._meta.db_table
T_TARGET = ServiceTarget._meta.db_table
T_CALENDAR = "insights_svc_calendar"

UNASSIGNED = "Unassigned"
FCR_WINDOW_US = 7 * 24 * 3600 * 1_000_000

# The figures of a group of rooms (a channel, an agent, all rooms), then the survey figures.
ROOM_FIELDS: tuple[str, ...] = (
    "rooms",
    "resolved_rooms",
    "resolution_pct",
    "median_first_response_s",
    "p90_first_response_s",
    "median_resolution_s",
    "p90_resolution_s",
    "rated_rooms",
    "csat_avg",
    "csat_pct",
    "fcr_pct",
)
SURVEY_FIELDS: tuple[str, ...] = ("nps_responses", "nps", "ces_responses", "ces_avg")
# METRICS.md §L: the target figures of a group of rooms (headline, channel and agent rows).
TARGET_FIELDS: tuple[str, ...] = (
    "first_response_met",
    "first_response_breached",
    "first_response_pending",
    "first_response_met_pct",
    "resolution_met",
    "resolution_breached",
    "resolution_pending",
    "resolution_met_pct",
)
LEVEL_FIELDS: tuple[str, ...] = TARGET_FIELDS + (
    "median_first_response_business_s",
    "p90_first_response_business_s",
)
# Compared with P' (METRICS.md section 4): every single-number field, §L's but open_rooms.
HEADLINE_FIELDS: tuple[str, ...] = ROOM_FIELDS + SURVEY_FIELDS + LEVEL_FIELDS


# --- Rebuild ---------------------------------------------------------------------------------


def epoch_us_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        # EXTRACT(EPOCH ...) is numeric (exact) on PostgreSQL 14+.
        return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"
    return f"w_us({column})"


CUSTOMER_INDEX = "serviceroomfact_customer"
BASE_COLUMNS = (
    "room_id, customer_id, day, channel, agent, first_response_s, resolution_s, csat, fcr, "
    "created_us, first_response_us, resolved_us, created_b_us, first_response_business_s, "
    "resolution_business_s, first_response_target_s, resolution_target_s, business"
)
STATUS_COLUMNS = (
    "first_response_status",
    "resolution_status",
    "first_response_cal_status",
    "resolution_cal_status",
)
FACT_COLUMNS = f"{BASE_COLUMNS}, {', '.join(STATUS_COLUMNS)}"

# A room's status toward a target (METRICS.md §L), stored in ServiceRoomFact.
MET, BREACHED, PENDING = 1, 2, 3
HOUR_US = 3600 * 1_000_000


# --- Service levels: business calendar, targets and now (METRICS.md §L) --------------------


@dataclass(frozen=True)
class Clock:
    """What the §L statuses are computed against: the rebuild's now (UTC microseconds), the
    business time from the calendar origin to now, and the key of the inputs they read."""

    now_us: int
    now_b_us: int
    key: str


def calendar_key() -> str:
    """A fingerprint of business hours, time zone, holidays and targets: when it changes, every
    room's business time and target may change, so the service rollups are rebuilt whole."""
    inputs = {
        "hours": parse_business_hours(settings.INSIGHTS_BUSINESS_HOURS),
        "tz": settings.TIME_ZONE,
        "holidays": [d.isoformat() for d in Holiday.objects.order_by("date")
                     .values_list("date", flat=True)],
        "targets": list(ServiceTarget.objects.order_by("channel").values_list(
            "channel", "first_response_s", "resolution_s", "clock")),
    }  # fmt: skip
    return hashlib.sha256(json.dumps(inputs, default=str).encode()).hexdigest()


def business_calendar(*, first: date, last: date) -> BusinessCalendar:
    """The business calendar of settings and chats.Holiday over first..last (and the origin)."""
    return BusinessCalendar(
        schedule=parse_business_hours(settings.INSIGHTS_BUSINESS_HOURS),
        holidays=list(Holiday.objects.values_list("date", flat=True)),
        zone=ZoneInfo(settings.TIME_ZONE),
        first=first,
        last=last,
    )


def _calendar_write(now: datetime) -> Clock:
    """Write the business calendar of every room's local days (and now's) as a work table;
    returns the clock of this rebuild."""
    zone = ZoneInfo(settings.TIME_ZONE)
    bounds = ChatRoom.objects.aggregate(
        *(agg(name) for name in ("created_at", "first_response_at", "resolved_at")
          for agg in (Min, Max))
    )  # fmt: skip
    days = [now.astimezone(zone).date()] + [
        value.astimezone(zone).date() for value in bounds.values() if value is not None
    ]
    calendar = business_calendar(
        first=min(days) - timedelta(days=1), last=max(days) + timedelta(days=1)
    )
    db.execute(f"DROP TABLE IF EXISTS {T_CALENDAR}")
    columns = ", ".join(f"s{i} BIGINT, e{i} BIGINT" for i in range(calendar.width))
    db.execute(
        f"CREATE TEMP TABLE {T_CALENDAR} (day INTEGER PRIMARY KEY, before_us BIGINT, {columns})"
    )
    rows = calendar.rows()
    marks = ", ".join(["%s"] * len(rows[0]))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {T_CALENDAR} VALUES ({marks})", rows)
    return Clock(now_us=epoch_us(now), now_b_us=calendar.cumulative_us(now), key=calendar_key())


def _calendar_width() -> int:
    found = db.rows(f"SELECT * FROM {T_CALENDAR} LIMIT 1", {})
    return (len(found[0]) - 2) // 2 if found else 1


def _business_us(instant: str, day_row: str, width: int) -> str:
    """SQL for B(instant): business microseconds from the calendar origin, with `day_row` the
    calendar row of the instant's local day (chats.business_time); null when instant is."""
    overlaps = " + ".join(
        f"CASE WHEN {instant} <= {day_row}.s{i} THEN 0 "
        f"WHEN {instant} >= {day_row}.e{i} THEN {day_row}.e{i} - {day_row}.s{i} "
        f"ELSE {instant} - {day_row}.s{i} END"
        for i in range(width)
    )
    return f"({day_row}.before_us + {overlaps})"


def _status(at: str, duration: str, target: str, elapsed: str) -> str:
    """SQL for a room's status toward a target as of now (METRICS.md §L): met when it has the
    response at or before now within the target, breached when over it or when more than the
    target has passed with none yet, else pending; null without a target."""
    return (
        f"CASE WHEN {target} IS NULL THEN NULL "
        f"WHEN {at} IS NOT NULL AND {at} <= %(now_us)s "
        f"THEN CASE WHEN {duration} <= {target} THEN {MET} ELSE {BREACHED} END "
        f"WHEN {elapsed} > {target} THEN {BREACHED} ELSE {PENDING} END"
    )


def _statuses() -> list[str]:
    """The four status expressions over a fact row's columns, in STATUS_COLUMNS order."""
    calendar_elapsed = "((%(now_us)s - created_us) / 1000000)"
    business_elapsed = "((%(now_b_us)s - created_b_us) / 1000000)"
    elapsed = f"CASE WHEN business = 1 THEN {business_elapsed} ELSE {calendar_elapsed} END"
    own = "CASE WHEN business = 1 THEN {b} ELSE {c} END"
    return [
        _status("first_response_us", own.format(b="first_response_business_s",
                c="first_response_s"), "first_response_target_s", elapsed),
        _status("resolved_us", own.format(b="resolution_business_s", c="resolution_s"),
                "resolution_target_s", elapsed),
        _status("first_response_us", "first_response_s", "first_response_target_s",
                calendar_elapsed),
        _status("resolved_us", "resolution_s", "resolution_target_s", calendar_elapsed),
    ]  # fmt: skip


def _clock_params(clock: Clock) -> dict[str, int]:
    return {"now_us": clock.now_us, "now_b_us": clock.now_b_us}


def service_rollup_rooms(*, clock: Clock, rooms: str = "", into: str = T_FACT) -> int:
    """One ServiceRoomFact per chat room, FCR and §L included (call inside the rebuild
    transaction, after _calendar_write).

    `rooms`: a subquery of room ids to write (every room of each customer among them, since
    FCR looks at the customer's other rooms), else every room; `into`: the table written.
    """
    width = _calendar_width()
    pick = "CASE WHEN tc.id IS NOT NULL THEN tc.{0} ELSE td.{0} END"
    sql = f"""
        WITH r AS (
            SELECT rm.id AS id, COALESCE(cc.customer_id, -cc.id) AS who,
                   cc.customer_id AS customer_id,
                   {db.day_sql("rm.created_at")} AS day, cc.channel AS channel,
                   CASE WHEN TRIM(rm.agent) = '' THEN '{UNASSIGNED}' ELSE rm.agent END AS agent,
                   {epoch_us_sql("rm.created_at")} AS c_us,
                   {epoch_us_sql("rm.first_response_at")} AS f_us,
                   {epoch_us_sql("rm.resolved_at")} AS r_us,
                   {db.day_sql("rm.first_response_at")} AS f_day,
                   {db.day_sql("rm.resolved_at")} AS r_day,
                   rm.csat_score AS csat
            FROM {T_ROOM} rm JOIN {T_CHATCONTACT} cc ON cc.id = rm.chat_contact_id
            {f"WHERE rm.id IN ({rooms})" if rooms else ""}
        ),
        ev AS (
            SELECT who, c_us AS t, 0 AS typ, 0 AS id FROM r
            UNION ALL
            SELECT who, r_us AS t, 1 AS typ, id FROM r WHERE r_us IS NOT NULL
        ),
        nx AS (
            SELECT id, typ,
                   MIN(CASE WHEN typ = 0 THEN t END) OVER (
                       PARTITION BY who ORDER BY t DESC, typ DESC
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS next_open
            FROM ev
        ),
        facts AS (
            SELECT r.id AS room_id, r.customer_id AS customer_id, r.day AS day,
                   r.channel AS channel, r.agent AS agent,
                   (r.f_us - r.c_us) / 1000000 AS first_response_s,
                   (r.r_us - r.c_us) / 1000000 AS resolution_s, r.csat AS csat,
                   CASE WHEN r.r_us IS NULL THEN NULL
                        WHEN nx.next_open IS NOT NULL
                         AND nx.next_open <= r.r_us + {FCR_WINDOW_US} THEN 0
                        ELSE 1 END AS fcr,
                   r.c_us AS created_us, r.f_us AS first_response_us, r.r_us AS resolved_us,
                   {_business_us("r.c_us", "kc", width)} AS created_b_us,
                   ({_business_us("r.f_us", "kf", width)}
                    - {_business_us("r.c_us", "kc", width)}) / 1000000
                       AS first_response_business_s,
                   ({_business_us("r.r_us", "kr", width)}
                    - {_business_us("r.c_us", "kc", width)}) / 1000000
                       AS resolution_business_s,
                   {pick.format("first_response_s")} AS first_response_target_s,
                   {pick.format("resolution_s")} AS resolution_target_s,
                   CASE WHEN {pick.format("clock")} = 'business' THEN 1 ELSE 0 END AS business
            FROM r LEFT JOIN nx ON nx.id = r.id AND nx.typ = 1
            LEFT JOIN {T_CALENDAR} kc ON kc.day = r.day
            LEFT JOIN {T_CALENDAR} kf ON kf.day = r.f_day
            LEFT JOIN {T_CALENDAR} kr ON kr.day = r.r_day
            LEFT JOIN {T_TARGET} tc ON tc.channel = r.channel
            LEFT JOIN {T_TARGET} td ON td.channel = ''
        )
        INSERT INTO {into} ({FACT_COLUMNS})
        SELECT {BASE_COLUMNS}, {", ".join(_statuses())} FROM facts
    """
    return db.execute(sql, _clock_params(clock))


PENDING_ANY = " OR ".join(f"{column} = {PENDING}" for column in STATUS_COLUMNS)


def service_pending_refresh(*, clock: Clock, days_into: str | None = None) -> int:
    """Recompute the statuses that were pending at the last rebuild (the only ones that can
    change with time alone); with `days_into`, first record their days in that work table."""
    if days_into:
        db.execute(f"""
            INSERT INTO {days_into} (day) SELECT DISTINCT day FROM {T_FACT}
            WHERE ({PENDING_ANY}) AND day NOT IN (SELECT day FROM {days_into})
        """)  # fmt: skip
    assignments = ", ".join(
        f"{column} = {expression}"
        for column, expression in zip(STATUS_COLUMNS, _statuses(), strict=True)
    )
    return db.execute(
        f"UPDATE {T_FACT} SET {assignments} WHERE {PENDING_ANY}", _clock_params(clock)
    )


def service_state_write(*, clock: Clock) -> int:
    """The open rooms at now by age (METRICS.md §L: a bound belongs to the older bucket)."""
    db.execute(f"DELETE FROM {T_STATE}")
    age = "(%(now_us)s - created_us)"
    return db.execute(
        f"""
        INSERT INTO {T_STATE} (now_us, calendar_key, open_rooms, under_1h, from_1h_24h,
                               from_1d_7d, over_7d)
        SELECT %(now_us)s, %(key)s, COUNT(*),
               COALESCE(SUM(CASE WHEN {age} < {HOUR_US} THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN {age} >= {HOUR_US} AND {age} < {24 * HOUR_US}
                                 THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN {age} >= {24 * HOUR_US} AND {age} < {7 * 24 * HOUR_US}
                                 THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN {age} >= {7 * 24 * HOUR_US} THEN 1 ELSE 0 END), 0)
        FROM {T_FACT}
        WHERE created_us <= %(now_us)s AND (resolved_us IS NULL OR resolved_us > %(now_us)s)
        """,
        {**_clock_params(clock), "key": clock.key},
    )


def service_rollup_survey_rooms() -> int:
    """SurveyRoomDay: the answers that name their room, per day and the room's channel and
    agent (rewritten whole every rebuild: a room's channel or agent may have changed)."""
    db.execute(f"DELETE FROM {T_SURVEYROOM}")
    agent = f"CASE WHEN TRIM(rm.agent) = '' THEN '{UNASSIGNED}' ELSE rm.agent END"
    return db.execute(f"""
        INSERT INTO {T_SURVEYROOM} (day, dim, label, kind, score, responses)
        SELECT d.day, d.dim, d.label, d.kind, d.score, COUNT(*) FROM (
            SELECT {db.day_sql("s.created_at")} AS day, 'channel' AS dim, cc.channel AS label,
                   s.kind AS kind, s.score AS score
            FROM {T_SURVEY} s JOIN {T_ROOM} rm ON rm.id = s.chat_room_id
            JOIN {T_CHATCONTACT} cc ON cc.id = rm.chat_contact_id
            UNION ALL
            SELECT {db.day_sql("s.created_at")}, 'agent', {agent}, s.kind, s.score
            FROM {T_SURVEY} s JOIN {T_ROOM} rm ON rm.id = s.chat_room_id
        ) d
        GROUP BY d.day, d.dim, d.label, d.kind, d.score
    """)  # fmt: skip


def last_clock_key() -> str | None:
    return ServiceState.objects.values_list("calendar_key", flat=True).first()


def pack_sql(column: str, width: int) -> str:
    """SQL packing a group's non-null `column` values into bytes (empty when none)."""
    if connection.vendor == "postgresql":
        send = f"int4send(CAST({column} AS INTEGER))" if width == 4 else f"int8send({column})"
        return f"COALESCE(string_agg({send}, ''::bytea), ''::bytea)"
    return f"w_pack{width}({column})"


def _duration_width() -> int:
    """4 bytes per duration unless one needs more (over 68 years in seconds)."""
    bounds = db.rows(
        f"""SELECT MIN(first_response_s), MAX(first_response_s), MIN(resolution_s),
                   MAX(resolution_s) FROM {T_FACT}""",
        {},
    )[0]
    fits = all(value is None or -(2**31) <= value < 2**31 for value in bounds)
    return 4 if fits else 8


# ServiceDayGroup's status counts: (column, fact status column, status).
STATUS_COUNT_SOURCES: tuple[tuple[str, str, int], ...] = (
    ("first_response_met", "first_response_status", MET),
    ("first_response_breached", "first_response_status", BREACHED),
    ("first_response_pending", "first_response_status", PENDING),
    ("resolution_met", "resolution_status", MET),
    ("resolution_breached", "resolution_status", BREACHED),
    ("resolution_pending", "resolution_status", PENDING),
    ("first_response_cal_met", "first_response_cal_status", MET),
    ("first_response_cal_breached", "first_response_cal_status", BREACHED),
    ("resolution_cal_met", "resolution_cal_status", MET),
    ("resolution_cal_breached", "resolution_cal_status", BREACHED),
)
STATUS_COUNTS = tuple(column for column, _source, _status in STATUS_COUNT_SOURCES)


def status_sums_sql() -> list[str]:
    return [
        f"SUM(CASE WHEN {source} = {status} THEN 1 ELSE 0 END)"
        for _column, source, status in STATUS_COUNT_SOURCES
    ]


# Positions between two entries of a run's index: a selection reads about 2 x runs x step
# values, and the indexes of a period are 1/step of its durations (insights.engine.ranks).
INDEX_STEP = 64
GROUP_DIMS = ("all", "channel", "agent")
# A cell of the facts: one day, channel and agent. Its columns as _cells reads them.
CELL_COUNTS = ALL_COUNTS_SQL = (
    "COUNT(*)",
    "COUNT(resolution_s)",
    "COUNT(csat)",
    "COALESCE(SUM(csat), 0)",
    "SUM(CASE WHEN csat >= 4 THEN 1 ELSE 0 END)",
    "SUM(CASE WHEN fcr = 1 THEN 1 ELSE 0 END)",
)
GROUP_COLUMNS_WRITTEN = (
    "dim, label, rooms, resolved, rated, csat_sum, csat_high, fcr, "
    f"{', '.join(STATUS_COUNTS)}, width, step, first_response, resolution, "
    "first_response_business, first_response_index, resolution_index, "
    "first_response_business_index"
)


def _cells(where: str, width: int) -> Iterator[list[tuple]]:
    """The facts per day, channel and agent (the finest grain any group row needs), in day
    order, in chunks: the counts, then the durations packed unsorted."""
    sql = f"""
        SELECT day, channel, agent, {", ".join(CELL_COUNTS)}, {", ".join(status_sums_sql())},
               {pack_sql("first_response_s", width)}, {pack_sql("resolution_s", width)},
               {pack_sql("first_response_business_s", width)}
        FROM {T_FACT} {f"WHERE {where}" if where else ""}
        GROUP BY day, channel, agent ORDER BY day
    """
    if connection.vendor != "postgresql":
        yield db.rows(sql, {})
        return
    connection.ensure_connection()
    # Binary bytea (hex text doubles the bytes), read in chunks by a server-side cursor.
    with connection.connection.cursor(name="service_cells", binary=True) as cursor:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(2000):
            yield chunk


def _group_rows_of(cells: list[tuple], width: int, step: int) -> list[list]:
    """The group rows (GROUP_COLUMNS_WRITTEN) of the cells of one span (from _sorted_cells):
    every room, each channel, each agent; each run sorted, with its index
    (insights.engine.ranks)."""
    stored = np.dtype(f">i{width}")
    counted = len(CELL_COUNTS) + len(STATUS_COUNTS)
    counts = np.array([cell[3 : 3 + counted] for cell in cells], dtype=np.int64)
    groups: dict[tuple[str, str], list[int]] = {}
    for number, cell in enumerate(cells):
        for key in (("all", ""), ("channel", cell[1]), ("agent", cell[2])):
            groups.setdefault(key, []).append(number)
    rows = []
    for (dim, label), members in sorted(groups.items()):
        runs: list[bytes] = []
        indexes: list[bytes] = []
        for duration in range(len(DURATIONS)):
            if duration == BUSINESS and dim != "all":
                # §L gives business-time percentiles for every room only, not per label.
                runs.append(b"")
                indexes.append(b"")
                continue
            values = np.sort(
                np.concatenate([cells[number][3 + counted + duration] for number in members]),
                kind="stable",  # timsort: it merges the cells' sorted runs
            )
            runs.append(values.astype(stored).tobytes())
            indexes.append(ranks.run_index(values, step).astype(stored).tobytes())
        rows.append([dim, label, *counts[members].sum(axis=0).tolist(), width, step, *runs,
                     *indexes])  # fmt: skip
    return rows


def _sorted_cells(cells: list[tuple], width: int) -> list[tuple]:
    """The cells with each packed run as a sorted array of native integers: the groups of a
    day or month then merge sorted runs."""
    stored, native = np.dtype(f">i{width}"), np.dtype(f"=i{width}")
    counted = 3 + len(CELL_COUNTS) + len(STATUS_COUNTS)
    return [
        (*cell[:counted], *(np.sort(np.frombuffer(bytes(blob), dtype=stored).astype(native))
                            for blob in cell[counted:]))
        for cell in cells
    ]  # fmt: skip


def _groups_insert(table: str, key: str, rows: list[list]) -> None:
    if not rows:
        return
    marks = ", ".join(["%s"] * len(rows[0]))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({key}, {GROUP_COLUMNS_WRITTEN}) VALUES ({marks})", rows
        )


# The spans a group row covers, with its table and the key of a day ordinal's span.
SPANS: tuple[tuple[str, str, Callable[[int], int]], ...] = (
    (T_DAYGROUP, "day", lambda day: day),
    (T_WEEKGROUP, "week", lambda day: week_of(day)),
    (T_MONTHGROUP, "month", lambda day: month_of(day)),
)
DAY, WEEK, MONTH = range(len(SPANS))


def service_rollup_groups(*, months: Sequence[int] | None = None, width: int | None = None) -> int:
    """ServiceDayGroup, ServiceWeekGroup and ServiceMonthGroup from one pass over the facts per
    day, channel and agent: of every span, or of `months` (year * 12 + month - 1) with every
    day and week of the days read (those months, widened to whole weeks; the caller deletes
    the rows of week_ranges(months) first).

    The runs are sorted here rather than in SQL: PostgreSQL sorts each group of an ordered
    string_agg apart, which took 30 s for the day and month groups at 150,000 people.
    """
    width = width or _duration_width()
    step = INDEX_STEP
    where = ""
    if months is not None:
        if not months:
            return 0
        where = " OR ".join(
            f"day BETWEEN {first} AND {last}" for first, last in week_ranges(months)
        )
    written = 0
    # The cells of the span being read, per kind of span; a span is written when the next
    # cell is past it (the cells come in day order).
    open_spans: list[list[tuple]] = [[] for _ in SPANS]

    def flush(kind: int) -> int:
        cells = open_spans[kind]
        table, key, span_of = SPANS[kind]
        if not cells:
            return 0
        span = span_of(int(cells[0][0]))
        open_spans[kind] = []
        if kind == MONTH and months is not None and span not in months:
            return 0  # a month only partly read (the days of a week across its edge)
        rows = [[span, *row] for row in _group_rows_of(cells, width, step)]
        _groups_insert(table, key, rows)
        return len(rows)

    for chunk in _cells(where, width):
        for cell in _sorted_cells(chunk, width):
            day = int(cell[0])
            for kind, (_table, _key, span_of) in enumerate(SPANS):
                cells = open_spans[kind]
                if cells and span_of(int(cells[0][0])) != span_of(day):
                    written += flush(kind)
                open_spans[kind].append(cell)
    return written + sum(flush(kind) for kind in range(len(SPANS)))


def week_of(day: int) -> int:
    """The day ordinal of the Monday of a day ordinal's ISO week."""
    return day - date.fromordinal(day).weekday()


def week_ranges(months: Sequence[int]) -> list[tuple[int, int]]:
    """The day ordinal ranges of `months` widened to whole weeks, overlapping ones merged."""
    ranges: list[tuple[int, int]] = []
    for first, last in month_day_ranges(months):
        first, last = week_of(first), week_of(last) + 6
        if ranges and ranges[-1][1] + 1 >= first:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], last))
        else:
            ranges.append((first, last))
    return ranges


def month_of(day: int) -> int:
    """year * 12 + month - 1 of a day ordinal."""
    value = date.fromordinal(day)
    return value.year * 12 + value.month - 1


def month_days(month: int) -> tuple[int, int]:
    """The first and last day ordinals of a month (year * 12 + month - 1)."""
    year, index = divmod(month, 12)
    first = date(year, index + 1, 1)
    following = date(year + (index == 11), (index + 1) % 12 + 1, 1)
    return first.toordinal(), following.toordinal() - 1


def month_day_ranges(months: Sequence[int]) -> list[tuple[int, int]]:
    """The day ordinal ranges of `months`, consecutive months merged."""
    ranges: list[tuple[int, int]] = []
    for month in sorted(set(months)):
        first, last = month_days(month)
        if ranges and ranges[-1][1] + 1 == first:
            ranges[-1] = (ranges[-1][0], last)
        else:
            ranges.append((first, last))
    return ranges


def service_rollup_surveys() -> int:
    sql = f"""
        INSERT INTO {T_SURVEYDAY} (day, kind, score, responses)
        SELECT d.day, d.kind, d.score, COUNT(*) FROM (
            SELECT {db.day_sql("created_at")} AS day, kind, score FROM {T_SURVEY}
        ) d
        GROUP BY d.day, d.kind, d.score
    """
    return db.execute(sql)


@contextmanager
def customer_index_set_aside() -> Iterator[None]:
    """Drop the facts' customer index while every room is written, build it once after.

    Kept up row by row, the index cost 25 s of 125 s at 5M rooms. Only the rebuild reads
    ServiceRoomFact (the incremental one, by customer), so the lock DROP INDEX takes until
    the commit blocks no reader. PostgreSQL only; the index is recreated from its own
    definition.
    """
    if connection.vendor != "postgresql":
        yield
        return
    found = db.rows(
        "SELECT indexdef FROM pg_indexes WHERE tablename = %(table)s AND indexname = %(index)s",
        {"table": T_FACT, "index": CUSTOMER_INDEX},
    )
    if found:
        db.execute(f"DROP INDEX {CUSTOMER_INDEX}")
    yield
    if found:
        db.execute(found[0][0])


def service_rebuild(
    *, now: datetime | None = None, timings: dict[str, float] | None = None
) -> dict[str, int]:
    """Delete and rebuild the service rollups as of `now` (the rebuild's time, METRICS.md §L);
    call inside the rebuild transaction. `timings` gets the seconds of each step (service_*),
    which RebuildRun.timings records (BENCHMARKS.md compares them with and without §L)."""
    steps = timings if timings is not None else {}
    began = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal began
        steps[f"service_{name}"] = round(time.perf_counter() - began, 3)
        began = time.perf_counter()

    clock = _calendar_write(now or timezone.now())
    for table in (T_FACT, T_DAYGROUP, T_WEEKGROUP, T_MONTHGROUP, T_SURVEYDAY):
        db.execute(f"DELETE FROM {table}")
    lap("calendar")
    with customer_index_set_aside():
        rows = {"service_rooms": service_rollup_rooms(clock=clock)}
    lap("room_facts")
    rows["service_groups"] = service_rollup_groups()
    lap("groups")
    rows["service_surveys"] = service_rollup_surveys()
    lap("surveys")
    rows["service_survey_rooms"] = service_rollup_survey_rooms()
    lap("survey_rooms")
    service_state_write(clock=clock)
    lap("backlog")
    db.execute(f"DROP TABLE {T_CALENDAR}")
    statistics_refresh(T_FACT, T_DAYGROUP, T_WEEKGROUP, T_MONTHGROUP, T_SURVEYDAY, T_SURVEYROOM)
    lap("analyze")
    return rows


T_ROOMS_WORK = "insights_svc_rooms"
T_FACTS_WORK = "insights_svc_facts"
T_DAYS_WORK = "insights_svc_days"


def service_update(
    *, customers: str, changed_rooms: str, surveys_changed: bool, now: datetime | None = None
) -> dict[str, int]:
    """The service rollups after an incremental rebuild's changes (insights.incremental).

    Rewrites the facts of the changed rooms and of every room of the customers in `customers`
    (FCR depends on a customer's other rooms), and the statuses that were pending (METRICS.md
    §L: only those change with time), then the groups of only the months where a fact row
    differs (with their days and weeks); survey days whole when an answer changed (they are
    small). When the targets,
    business hours or holidays changed since the last rebuild, everything is rebuilt.
    """
    now = now or timezone.now()
    if last_clock_key() != calendar_key():
        return service_rebuild(now=now)
    clock = _calendar_write(now)
    for table in (T_ROOMS_WORK, T_FACTS_WORK, T_DAYS_WORK):
        db.execute(f"DROP TABLE IF EXISTS {table}")
    db.execute(f"CREATE TEMP TABLE {T_ROOMS_WORK} (id BIGINT PRIMARY KEY)")
    db.execute(f"CREATE TEMP TABLE {T_DAYS_WORK} (day INTEGER PRIMARY KEY)")
    db.execute(
        f"CREATE TEMP TABLE {T_FACTS_WORK} (room_id BIGINT, customer_id BIGINT, day INTEGER, "
        "channel VARCHAR(50), agent VARCHAR(150), first_response_s BIGINT, "
        "resolution_s BIGINT, csat SMALLINT, fcr SMALLINT, created_us BIGINT, "
        "first_response_us BIGINT, resolved_us BIGINT, created_b_us BIGINT, "
        "first_response_business_s BIGINT, resolution_business_s BIGINT, "
        "first_response_target_s BIGINT, resolution_target_s BIGINT, business SMALLINT, "
        "first_response_status SMALLINT, resolution_status SMALLINT, "
        "first_response_cal_status SMALLINT, resolution_cal_status SMALLINT)"
    )
    db.execute(f"""
        INSERT INTO {T_ROOMS_WORK} (id)
        SELECT room_id FROM {T_FACT} WHERE customer_id IN ({customers})
        UNION SELECT rm.id FROM {T_ROOM} rm JOIN {T_CHATCONTACT} cc ON cc.id = rm.chat_contact_id
              WHERE cc.customer_id IN ({customers})
        UNION SELECT id FROM ({changed_rooms}) changed
        UNION SELECT other.id FROM {T_ROOM} rm
              JOIN {T_CHATCONTACT} cc ON cc.id = rm.chat_contact_id AND cc.customer_id IS NULL
              JOIN {T_ROOM} other ON other.chat_contact_id = cc.id
              WHERE rm.id IN ({changed_rooms})
    """)  # fmt: skip
    rooms = f"SELECT id FROM {T_ROOMS_WORK}"
    rows = {"service_rooms": service_rollup_rooms(clock=clock, rooms=rooms, into=T_FACTS_WORK)}
    old = f"SELECT {FACT_COLUMNS} FROM {T_FACT} WHERE room_id IN ({rooms})"
    new = f"SELECT {FACT_COLUMNS} FROM {T_FACTS_WORK}"
    db.execute(f"""
        INSERT INTO {T_DAYS_WORK} (day)
        SELECT day FROM ({old} EXCEPT {new}) gone UNION SELECT day FROM ({new} EXCEPT {old}) came
    """)  # fmt: skip
    db.execute(f"DELETE FROM {T_FACT} WHERE room_id IN ({rooms})")
    db.execute(f"INSERT INTO {T_FACT} ({FACT_COLUMNS}) {new}")
    service_pending_refresh(clock=clock, days_into=T_DAYS_WORK)
    width = _duration_width()
    widths = db.rows(f"SELECT DISTINCT width FROM {T_DAYGROUP}", {})
    months = sorted(
        {month_of(int(day)) for (day,) in db.rows(f"SELECT day FROM {T_DAYS_WORK}", {})}
    )
    stored_months = db.scalar(f"SELECT COUNT(DISTINCT month) FROM {T_MONTHGROUP}", {})
    if (widths and [w for (w,) in widths] != [width]) or len(
        months
    ) > rollup.WHOLE_PASS_SHARE * stored_months:
        # A duration crossed 2**31 s (repack every day), or edits reached back over most
        # months: one pass over every fact then beats picking the months out of it.
        for table in (T_DAYGROUP, T_WEEKGROUP, T_MONTHGROUP):
            db.execute(f"DELETE FROM {table}")
        rows["service_groups"] = service_rollup_groups(width=width)
    else:
        # The months of the days touched are rewritten whole, with the days and weeks of one
        # pass over them widened to whole weeks: a month's runs are sorted over all its days.
        for first, last in week_ranges(months):
            db.execute(f"DELETE FROM {T_DAYGROUP} WHERE day BETWEEN {first} AND {last}")
            db.execute(f"DELETE FROM {T_WEEKGROUP} WHERE week BETWEEN {first} AND {last}")
        if months:
            listed = ", ".join(map(str, months))
            db.execute(f"DELETE FROM {T_MONTHGROUP} WHERE month IN ({listed})")
        rows["service_groups"] = service_rollup_groups(months=months, width=width)
    if surveys_changed:
        db.execute(f"DELETE FROM {T_SURVEYDAY}")
        rows["service_surveys"] = service_rollup_surveys()
    rows["service_survey_rooms"] = service_rollup_survey_rooms()
    service_state_write(clock=clock)
    for table in (T_ROOMS_WORK, T_FACTS_WORK, T_DAYS_WORK, T_CALENDAR):
        db.execute(f"DROP TABLE {table}")
    return rows


# --- Reads -----------------------------------------------------------------------------------

BACKLOG_BUCKETS: tuple[str, ...] = ("under_1h", "1h_24h", "1d_7d", "over_7d")


@dataclass(frozen=True)
class ServiceRow:
    """The room figures of METRICS.md S over one set of rooms (all, a channel or an agent),
    with §L's target figures and the survey answers that name one of its rooms."""

    label: str
    rooms: int
    resolved_rooms: int
    resolution_pct: Decimal
    median_first_response_s: int
    p90_first_response_s: int
    median_resolution_s: int
    p90_resolution_s: int
    rated_rooms: int
    csat_avg: Decimal
    csat_pct: Decimal
    fcr_pct: Decimal
    first_response_met: int = 0
    first_response_breached: int = 0
    first_response_pending: int = 0
    first_response_met_pct: Decimal = Decimal("0.00")
    resolution_met: int = 0
    resolution_breached: int = 0
    resolution_pending: int = 0
    resolution_met_pct: Decimal = Decimal("0.00")
    nps_responses: int = 0
    nps: Decimal = Decimal("0.00")
    ces_responses: int = 0
    ces_avg: Decimal = Decimal("0.00")
    # Not in the API: the met % the same targets give on the calendar clock, which the
    # dashboard shows beside a business-time target's.
    first_response_cal_met_pct: Decimal = Decimal("0.00")
    resolution_cal_met_pct: Decimal = Decimal("0.00")
    business_clock: bool = False


@dataclass(frozen=True)
class ServiceBucket:
    start: date
    end: date
    rooms: int
    median_resolution_s: int


@dataclass(frozen=True)
class ServiceFigures:
    rooms: int
    resolved_rooms: int
    resolution_pct: Decimal
    median_first_response_s: int
    p90_first_response_s: int
    median_resolution_s: int
    p90_resolution_s: int
    rated_rooms: int
    csat_avg: Decimal
    csat_pct: Decimal
    fcr_pct: Decimal
    nps_responses: int
    nps: Decimal
    nps_promoters: int
    nps_passives: int
    nps_detractors: int
    ces_responses: int
    ces_avg: Decimal
    by_channel: list[ServiceRow]
    by_agent: list[ServiceRow]
    trend: list[ServiceBucket]
    first_response_met: int = 0
    first_response_breached: int = 0
    first_response_pending: int = 0
    first_response_met_pct: Decimal = Decimal("0.00")
    resolution_met: int = 0
    resolution_breached: int = 0
    resolution_pending: int = 0
    resolution_met_pct: Decimal = Decimal("0.00")
    median_first_response_business_s: int = 0
    p90_first_response_business_s: int = 0
    open_rooms: int = 0
    backlog_age: dict[str, int] = field(default_factory=dict)
    first_response_cal_met_pct: Decimal = Decimal("0.00")
    resolution_cal_met_pct: Decimal = Decimal("0.00")
    business_clock: bool = False
    now: datetime | None = None  # the rebuild's now the §L figures are as of


# What the comparison reads of P′ / P″ (service_headline): a dataclass of its own, so its
# cached payload (insights.engine.cache keys by the answer's shape) is never read as a
# ServiceFigures payload of a request whose P is that period.
@dataclass(frozen=True)
class ServiceHeadline:
    """The compared headline figures of ServiceFigures (HEADLINE_FIELDS), alone."""

    rooms: int
    resolved_rooms: int
    resolution_pct: Decimal
    median_first_response_s: int
    p90_first_response_s: int
    median_resolution_s: int
    p90_resolution_s: int
    rated_rooms: int
    csat_avg: Decimal
    csat_pct: Decimal
    fcr_pct: Decimal
    nps_responses: int
    nps: Decimal
    ces_responses: int
    ces_avg: Decimal
    first_response_met: int
    first_response_breached: int
    first_response_pending: int
    first_response_met_pct: Decimal
    resolution_met: int
    resolution_breached: int
    resolution_pending: int
    resolution_met_pct: Decimal
    median_first_response_business_s: int
    p90_first_response_business_s: int


def nearest_rank(n: int, numerator: int, denominator: int) -> int:
    """The 1-based position ceil(q x n) for q = numerator / denominator, in integers."""
    return (numerator * n + denominator - 1) // denominator


# The additive counts of a group, in the order of _Rooms.counts.
ROOM_COUNTS = ("rooms", "resolved", "rated", "csat_sum", "csat_high", "fcr")
ALL_COUNTS = ROOM_COUNTS + STATUS_COUNTS


# A group's durations, in the order of its runs: (column of the run rows, its index column).
DURATIONS: tuple[tuple[str, str], ...] = (
    ("first_response", "first_response_index"),
    ("resolution", "resolution_index"),
    ("first_response_business", "first_response_business_index"),
)
FIRST, RESOLUTION, BUSINESS = range(len(DURATIONS))
GROUP_TABLES = tuple(table for table, _key, _span_of in SPANS)


@dataclass(frozen=True)
class _Run:
    """One stored sorted run: which table and row, which duration, its width, length and
    index (insights.engine.ranks)."""

    table: int  # index into GROUP_TABLES
    row: int
    duration: int  # index into DURATIONS
    width: int
    step: int
    length: int
    index: np.ndarray


class _Rooms:
    """One group's rooms in a set of spans: the additive counts and the runs of durations."""

    __slots__ = ("counts", "runs")

    def __init__(self) -> None:
        self.counts = [0] * len(ALL_COUNTS)  # ROOM_COUNTS then STATUS_COUNTS
        self.runs: tuple[list[_Run], ...] = tuple([] for _ in DURATIONS)

    def add(self, counts: Sequence[int], runs: Sequence[_Run]) -> None:
        for index, number in enumerate(counts):
            self.counts[index] += number
        for run in runs:
            self.runs[run.duration].append(run)


class _Selections:
    """Every k-th value a payload needs, read together: one query for the index blocks of all
    of them (insights.engine.ranks), so a period costs two round trips whatever its length."""

    def __init__(self) -> None:
        self.picks: list[tuple[ranks.Pick, list[_Run]]] = []

    def percentiles(
        self, runs: list[_Run], quantiles: Sequence[tuple[int, int]] = ((1, 2), (9, 10))
    ) -> list[int]:
        """Placeholders for the nearest-rank values of `runs` at each quantile (numerator,
        denominator; METRICS.md S): an index into the picks, or -1 for no durations (0)."""
        n = sum(run.length for run in runs)
        if not n:
            return [-1] * len(quantiles)
        blocks = ranks.Runs(
            [run.index for run in runs], [run.length for run in runs], [run.step for run in runs]
        )
        placeholders = []
        for numerator, denominator in quantiles:
            self.picks.append((blocks.pick(nearest_rank(n, numerator, denominator)), runs))
            placeholders.append(len(self.picks) - 1)
        return placeholders

    def values(self) -> list[int]:
        """The k-th value of each pick, in order; the placeholder -1 (last) is 0."""
        columns: dict[str, list[int]] = {name: [] for name in ("t", "id", "c", "o", "l")}
        for pick, runs in self.picks:
            for piece in pick.slices:
                run = runs[piece.run]
                columns["t"].append(run.table)
                columns["id"].append(run.row)
                columns["c"].append(run.duration)
                columns["o"].append(piece.first * run.width + 1)
                columns["l"].append((piece.stop - piece.first) * run.width)
        read: list[bytes] = [b""] * len(columns["t"])
        if read:
            for number, blob in _slices_read(columns):
                read[number] = bytes(blob)
        answers, done = [], 0
        for pick, runs in self.picks:
            mine = read[done : done + len(pick.slices)]
            done += len(pick.slices)
            widths = [runs[piece.run].width for piece in pick.slices]
            if len(set(widths)) == 1:  # one rebuild's runs: decoded in one piece
                pieces = [np.frombuffer(b"".join(mine), dtype=f">i{widths[0]}")]
            else:
                pieces = [np.frombuffer(blob, dtype=f">i{width}")
                          for blob, width in zip(mine, widths, strict=True)]  # fmt: skip
            answers.append(ranks.picked_value(pick, [piece.astype(np.int64) for piece in pieces]))
        return [*answers, 0]


def _slices_read(columns: dict[str, list[int]]) -> list[tuple[int, bytes]]:
    """(number, bytes) of each slice, numbered in order: columns t (GROUP_TABLES index), id
    (row), c (DURATIONS index), o (first byte, 1-based), l (bytes)."""
    case = " ".join(f"WHEN {i} THEN g.{name}" for i, (name, _) in enumerate(DURATIONS))
    names = ("n", "t", "id", "c", "o", "l")
    numbered = {"n": list(range(len(columns["t"]))), **columns}
    params: dict[str, Any] = {}
    if connection.vendor == "postgresql":
        # Arrays as parameters: a VALUES list of thousands of rows took longer to plan.
        arrays = ", ".join(f"%({name})b::{'bigint' if name == 'id' else 'int'}[]" for name in names)
        keys = f"WITH k AS (SELECT * FROM unnest({arrays}) AS u({', '.join(names)}))"
        params = numbered
    else:
        # Integers only (formatted here), so the list is safe to write into the SQL.
        rows = zip(*(numbered[name] for name in names), strict=True)
        values = ", ".join(f"({', '.join(str(int(v)) for v in row)})" for row in rows)
        keys = f"WITH k({', '.join(names)}) AS (VALUES {values})"
    # substr of a stored run reads only the pages of its slice on PostgreSQL (the runs are
    # stored uncompressed, migration 0025).
    sql = keys + " UNION ALL ".join(
        f" SELECT k.n, substr(CASE k.c {case} END, k.o, k.l) FROM k "
        f"JOIN {table} g ON g.id = k.id WHERE k.t = {number}"
        for number, table in enumerate(GROUP_TABLES)
    )
    return [(int(n), blob) for n, blob in _binary_rows(sql, params)]


def _cover(start: int, end: int) -> list[tuple[int, int]]:
    """The fewest stored spans that make up the days start..end: (SPANS index, key) of its
    whole months, then of the whole ISO weeks of what is left, then of the days left. A span
    costs a few index blocks per percentile (insights.engine.ranks), whatever its size."""
    first = month_of(start) + (month_days(month_of(start))[0] != start)
    last = month_of(end) - (month_days(month_of(end))[1] != end)
    spans = [(MONTH, month) for month in range(first, last + 1)]
    edges = (
        [(start, end)]
        if first > last
        else [(start, month_days(first)[0] - 1), (month_days(last)[1] + 1, end)]
    )
    for low, high in edges:
        monday = week_of(low) + (7 if week_of(low) < low else 0)  # the first whole week's
        sunday = week_of(high + 1) - 1  # the last whole week's
        if monday + 6 > sunday:
            spans += [(DAY, day) for day in range(low, high + 1)]
            continue
        spans += [(WEEK, week) for week in range(monday, sunday, 7)]
        spans += [(DAY, day) for day in (*range(low, monday), *range(sunday + 1, high + 1))]
    return spans


GROUP_COLUMNS = (
    "id, dim, label, rooms, resolved, rated, csat_sum, csat_high, fcr, "
    f"{', '.join(STATUS_COUNTS)}, width, step, "
    + ", ".join(f"length({name}), {index}" for name, index in DURATIONS)
)


def _group_rows(every: set[tuple[int, int]], whole: set[tuple[int, int]]) -> list[tuple]:
    """The group rows of the spans in `every` (each group) and of those in `whole` (every
    room's only): counts and indexes, not the runs. Keys are integers written into the SQL."""
    parts = []
    for kind, (table, key, _span_of) in enumerate(SPANS):
        mine = sorted(k for s, k in every if s == kind)
        only_all = sorted(k for s, k in whole - every if s == kind)
        if not mine and not only_all:
            continue
        condition = " OR ".join(
            [f"{key} IN ({', '.join(map(str, mine))})"] * bool(mine)
            + [f"(dim = 'all' AND {key} IN ({', '.join(map(str, only_all))}))"] * bool(only_all)
        )
        parts.append(f"SELECT {kind}, {key}, {GROUP_COLUMNS} FROM {table} WHERE {condition}")
    return _binary_rows(" UNION ALL ".join(parts), {}) if parts else []


def _room_row(label: Any, rooms: _Rooms, selections: _Selections, *, business: bool) -> list:
    """[label, rooms, resolved, rated, csat_sum, csat_4_5, fcr, fr50, fr90, res50, res90,
    *STATUS_COUNTS, business fr50, business fr90] with placeholders for the percentiles."""
    room_counts = rooms.counts[: len(ROOM_COUNTS)]
    status_counts = rooms.counts[len(ROOM_COUNTS) :]
    first = selections.percentiles(rooms.runs[FIRST])
    resolution = selections.percentiles(rooms.runs[RESOLUTION])
    in_business = selections.percentiles(rooms.runs[BUSINESS]) if business else [-1, -1]
    return [label, *room_counts, *first, *resolution, *status_counts, *in_business]


# Where the placeholders of a room row are (see _room_row).
PERCENTILE_COLUMNS = (7, 8, 9, 10, -2, -1)


def _binary_rows(sql: str, params: dict[str, Any]) -> list[tuple]:
    """Rows with bytea columns in PostgreSQL's binary format: a year of durations is tens of
    megabytes, and the default text format (hex) took 2.8x as long to fetch (BENCHMARKS.md)."""
    if connection.vendor != "postgresql":
        return db.rows(sql, params)
    import psycopg  # PostgreSQL only

    connection.ensure_connection()
    # Django's cursors bind on the client, which cannot ask for binary results.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        return cursor.fetchall()


SURVEY_SUMS = """
    COALESCE(SUM(responses), 0),
    COALESCE(SUM(CASE WHEN score >= 9 THEN responses ELSE 0 END), 0),
    COALESCE(SUM(CASE WHEN score <= 6 THEN responses ELSE 0 END), 0),
    COALESCE(SUM(score * responses), 0)
"""


def _clocks_used() -> bool:
    """Whether any service target uses business time (the dashboard then shows both clocks)."""
    return ServiceTarget.objects.filter(clock=ServiceTarget.Clock.BUSINESS).exists()


def _groups(rows: list[tuple]) -> Iterator[tuple[tuple[int, int], str, str, list[int], list[_Run]]]:
    """(span, dim, label, counts, runs) of each group row _group_rows read."""
    for kind, key, row, dim, label, *rest in rows:
        counts = [int(v) for v in rest[: len(ALL_COUNTS)]]
        width, step = int(rest[len(ALL_COUNTS)]), int(rest[len(ALL_COUNTS) + 1])
        indexed = rest[len(ALL_COUNTS) + 2 :]
        runs = [
            _Run(table=int(kind), row=int(row), duration=number, width=width, step=step,
                 length=int(indexed[2 * number]) // width,
                 index=np.frombuffer(bytes(indexed[2 * number + 1]), dtype=f">i{width}"))
            for number in range(len(DURATIONS))
        ]  # fmt: skip
        yield (int(kind), int(key)), dim, label, counts, runs


def _fill(row: list, values: list[int]) -> None:
    """Replace a room row's percentile placeholders (_room_row) by their values, in place."""
    for column in PERCENTILE_COLUMNS:
        row[column] = values[row[column]]


def _survey_sums(start: int, end: int) -> dict[str, list[int]]:
    """{kind: [responses, promoters, detractors, score sum]} of the answers of days start..end."""
    rows = db.rows(
        f"SELECT kind, {SURVEY_SUMS} FROM {T_SURVEYDAY} "
        "WHERE day BETWEEN %(start)s AND %(end)s GROUP BY kind",
        {"start": start, "end": end},
    )
    return {kind: [int(v) for v in sums] for kind, *sums in rows}


def _headline_payload(period: Period) -> dict[str, Any]:
    """What the comparison reads of a period (service_headline): the every-room (`all`) group
    rows of its spans only, no channel, agent or trend, no answers per label, no backlog."""
    start, end = period.start.toordinal(), period.end.toordinal()
    total = _Rooms()
    for _span, _dim, _label, counts, runs in _groups(_group_rows(set(), set(_cover(start, end)))):
        total.add(counts, runs)
    selections = _Selections()
    row = _room_row("", total, selections, business=True)
    _fill(row, selections.values())
    return {"total": row, "surveys": _survey_sums(start, end)}


def _service_payload(period: Period, granularity: str) -> dict[str, Any]:
    start, end = period.start.toordinal(), period.end.toordinal()
    parts = buckets(period, granularity)
    cover = set(_cover(start, end))
    # Each trend bucket from its own spans: its median resolution needs every room's runs of
    # exactly its days.
    bucket_of = {
        span: number
        for number, part in enumerate(parts)
        for span in _cover(part.start.toordinal(), part.end.toordinal())
    }
    total = _Rooms()
    groups: dict[str, dict[str, _Rooms]] = {"channel": {}, "agent": {}}
    by_bucket = [_Rooms() for _ in parts]
    for span, dim, label, counts, runs in _groups(_group_rows(cover, set(bucket_of))):
        if dim == "all":
            if span in cover:
                total.add(counts, runs)
            if span in bucket_of:
                by_bucket[bucket_of[span]].add(counts, [runs[RESOLUTION]])
        elif span in cover:
            groups[dim].setdefault(label, _Rooms()).add(counts, runs)
    selections = _Selections()
    trend: list[list[Any]] = []
    for part, rooms in zip(parts, by_bucket, strict=True):
        (median,) = selections.percentiles(rooms.runs[RESOLUTION], ((1, 2),))
        trend.append([part.start.isoformat(), part.end.isoformat(), rooms.counts[0], median])
    # Sorted by label: the stored payload must not depend on the order rows come in.
    rows = {
        "total": _room_row("", total, selections, business=True),
        "channels": [_room_row(label, groups["channel"][label], selections, business=False)
                     for label in sorted(groups["channel"])],
        "agents": [_room_row(label, groups["agent"][label], selections, business=False)
                   for label in sorted(groups["agent"])],
    }  # fmt: skip
    values = selections.values()
    for row in [rows["total"], *rows["channels"], *rows["agents"]]:
        _fill(row, values)
    for bucket in trend:
        bucket[3] = values[int(bucket[3])]
    bounds = {"start": start, "end": end}
    label_surveys: dict[str, dict[str, dict[str, list[int]]]] = {"channel": {}, "agent": {}}
    for dim, label, kind, *sums in db.rows(
        f"SELECT dim, label, kind, {SURVEY_SUMS} FROM {T_SURVEYROOM} "
        "WHERE day BETWEEN %(start)s AND %(end)s GROUP BY dim, label, kind",
        bounds,
    ):
        label_surveys[dim].setdefault(label, {})[kind] = [int(v) for v in sums]
    state = ServiceState.objects.values_list(
        "now_us", "open_rooms", "under_1h", "from_1h_24h", "from_1d_7d", "over_7d"
    ).first()
    return {
        **rows,
        "trend": trend,
        "surveys": _survey_sums(start, end),
        "label_surveys": label_surveys,
        "state": list(state) if state else None,
        "business_clock": _clocks_used(),
    }


def _survey_figures(surveys: dict[str, list[int]]) -> dict[str, Any]:
    nps_n, promoters, detractors, _nps_sum = surveys.get("nps", [0, 0, 0, 0])
    ces_n, _x, _y, ces_sum = surveys.get("ces", [0, 0, 0, 0])
    return {
        "nps_responses": nps_n,
        "nps": numbers.ratio(promoters - detractors, nps_n, scale=100),
        "ces_responses": ces_n,
        "ces_avg": numbers.ratio(ces_sum, ces_n),
    }


def _level_figures(statuses: Sequence[int]) -> dict[str, Any]:
    """The target figures from the status counts (STATUS_COUNTS order)."""
    counts = dict(zip(STATUS_COUNTS, statuses, strict=True))
    figures: dict[str, Any] = {name: counts[name] for name in TARGET_FIELDS if name in counts}
    for kind in ("first_response", "resolution"):
        met, breached = counts[f"{kind}_met"], counts[f"{kind}_breached"]
        figures[f"{kind}_met_pct"] = numbers.ratio(met, met + breached, scale=100)
        cal_met, cal_breached = counts[f"{kind}_cal_met"], counts[f"{kind}_cal_breached"]
        figures[f"{kind}_cal_met_pct"] = numbers.ratio(cal_met, cal_met + cal_breached, scale=100)
    return figures


def _row(
    values: Sequence[Any], surveys: dict[str, list[int]] | None = None, business: bool = False
) -> ServiceRow:
    label, rooms, resolved, rated, csat_sum, csat_high, fcr, fr50, fr90, res50, res90 = values[:11]
    return ServiceRow(
        label=str(label),
        rooms=rooms,
        resolved_rooms=resolved,
        resolution_pct=numbers.ratio(resolved, rooms, scale=100),
        median_first_response_s=fr50,
        p90_first_response_s=fr90,
        median_resolution_s=res50,
        p90_resolution_s=res90,
        rated_rooms=rated,
        csat_avg=numbers.ratio(csat_sum, rated),
        csat_pct=numbers.ratio(csat_high, rated, scale=100),
        fcr_pct=numbers.ratio(fcr, resolved, scale=100),
        **_level_figures(values[11 : 11 + len(STATUS_COUNTS)]),
        **_survey_figures(surveys or {}),
        business_clock=business,
    )


EMPTY_ROW = [0] * (11 + len(STATUS_COUNTS) + 2)


def _sorted(
    rows: Sequence[Sequence[Any]], surveys: dict[str, dict[str, list[int]]], business: bool
) -> list[ServiceRow]:
    # A label with answers naming its rooms and no room in P gets a row of room figures 0.
    labelled = {str(values[0]): values for values in rows}
    for label in surveys:
        labelled.setdefault(label, [label, *EMPTY_ROW[1:]])
    # Rooms desc, then the label in code-point order (METRICS.md section 4).
    return [
        _row(values, surveys.get(str(values[0])), business)
        for values in sorted(labelled.values(), key=lambda r: (-r[1], str(r[0])))
    ]


def _every_room_figures(data: dict[str, Any]) -> dict[str, Any]:
    """The figures of every room of P from a payload's total row and survey sums: the full
    payload's (_service_payload) and the headline-only one's (_headline_payload) alike, so
    what the comparison reads of P′ cannot differ from what P′'s own page shows."""
    total = _row(data["total"])
    nps_n, promoters, detractors, _nps_sum = data["surveys"].get("nps", [0, 0, 0, 0])
    ces_n, _x, _y, ces_sum = data["surveys"].get("ces", [0, 0, 0, 0])
    level = TARGET_FIELDS + ("first_response_cal_met_pct", "resolution_cal_met_pct")
    return {
        **{name: getattr(total, name) for name in ROOM_FIELDS + level},
        "median_first_response_business_s": data["total"][-2],
        "p90_first_response_business_s": data["total"][-1],
        "nps_responses": nps_n,
        "nps": numbers.ratio(promoters - detractors, nps_n, scale=100),
        "nps_promoters": promoters,
        "nps_passives": nps_n - promoters - detractors,
        "nps_detractors": detractors,
        "ces_responses": ces_n,
        "ces_avg": numbers.ratio(ces_sum, ces_n),
    }


def _figures(period: Period, granularity: str) -> ServiceFigures:
    data = cache.cached(
        "service",
        (period.start, period.end, granularity),
        lambda: _service_payload(period, granularity),
        shape=ServiceFigures,
    )
    business = bool(data.get("business_clock"))
    state = data.get("state") or [None, 0, 0, 0, 0, 0]
    now_us, open_rooms, *ages = state
    return ServiceFigures(
        **_every_room_figures(data),
        open_rooms=open_rooms,
        backlog_age=dict(zip(BACKLOG_BUCKETS, ages, strict=True)),
        business_clock=business,
        now=None if now_us is None else datetime(1970, 1, 1, tzinfo=UTC)
        + timedelta(microseconds=now_us),
        by_channel=_sorted(data["channels"], data["label_surveys"]["channel"], business),
        by_agent=_sorted(data["agents"], data["label_surveys"]["agent"], business),
        trend=[ServiceBucket(date.fromisoformat(s), date.fromisoformat(e), n, med)
               for s, e, n, med in data["trend"]],
    )  # fmt: skip


def service_figures(*, period: Period, granularity: str = "auto") -> ServiceFigures:
    """METRICS.md S and §L over rooms and survey responses created in the local-date period P.

    Durations are whole seconds; percentages and averages Decimal to 0.01 (half-up). The
    §L statuses, open rooms and backlog are as of the rebuild's now (`computed_at`). The
    comparison with the previous period is insights.comparison's, as for every section.
    """
    # Validates before touching the cache; "auto" and what it resolves to (the API asks
    # with the resolved one) must share one cache entry, or the rebuild warms the wrong one.
    return _figures(period, resolve_granularity(period, granularity))


def service_headline(*, period: Period) -> ServiceHeadline:
    """The compared headline figures of the local-date period P alone: what the comparison
    (insights.comparison, the registry's compare_compute) reads of P′ or P″. Equal to those
    of service_figures for the same period, at about half a full payload's reads: the every-
    room groups of its spans only (no channel, agent, trend, answers per label or backlog),
    and one entry per period whatever the granularity."""
    data = cache.cached(
        "service_headline",
        (period.start, period.end),
        lambda: _headline_payload(period),
        shape=ServiceHeadline,
    )
    values = _every_room_figures(data)
    return ServiceHeadline(**{name: values[name] for name in HEADLINE_FIELDS})


# Presets up to this many days are warmed by the rebuild; longer ones are computed on their
# first request. A year of 3.7M rooms at 1M people took about 0.5 s before the sorted runs
# (0.2 s after, BENCHMARKS.md round eight); every preset (the longest is a leap year) is
# warmed; settings.INSIGHTS_SERVICE_WARM_MAX_DAYS lowers it where rooms are far more numerous.
WARM_MAX_DAYS = 366


def _warm_max_days() -> int:
    return int(getattr(settings, "INSIGHTS_SERVICE_WARM_MAX_DAYS", WARM_MAX_DAYS))


def service_warms(period: Period) -> bool:
    """Whether the rebuild warms the service figures of `period` (the registry's warm_if)."""
    return period.days <= _warm_max_days()
