"""Customer service figures (METRICS.md S): rebuild of the service rollups and their reads.

Design note
-----------
* ServiceRoomFact holds one row per chat room, written once per rebuild: the local created
  day (ordinal, like every rollup), the chat contact's channel, the agent label (blank is
  `Unassigned`), the first response and resolution times in whole seconds (exact microsecond
  difference, integer division, so 9.4 s is 9), the CSAT score and the first-contact-
  resolution flag. Readers never touch chats_chatroom / chats_chatcontact.
* Why a per-room fact table and not per-day aggregates: nearest-rank percentiles are not
  additive, so an exact median over ANY period needs the individual durations of that period.
  A per-day sorted run (or a per-day histogram in whole seconds) would hold almost as many
  rows as rooms, because durations in seconds are nearly all distinct; the fact table is the
  same size, narrower than the raw tables (no text besides two short labels, no join), and
  indexed by day, so a period reads one contiguous index range. At 5,000,000 rooms over 18
  months a 30-day period holds about 275,000 rooms.
* Percentiles are computed in SQL, the same statement on SQLite and PostgreSQL: durations in
  whole seconds repeat, so each group's distinct values are counted (a hash aggregate, not a
  sort of the rooms), a running SUM over them in value order gives each value's rank range,
  and the values whose range covers the nearest ranks ceil(0.5 n) = (n + 1) / 2 and
  ceil(0.9 n) = (9 n + 9) / 10 (integer arithmetic) are kept. PostgreSQL's percentile_disc
  computes ceil(q * n) in floating point and is one off for some n (0.9 * 70 =
  63.000000000000007), so it is not used. Labels are partitioned with COLLATE "C" on
  PostgreSQL: a locale-aware text sort was most of the cost.
* Cost: one scan of the period's rows for all additive counts (all, channel, agent, bucket),
  and per duration column one aggregate + window per grouping (all, channel, agent, trend
  bucket). This grows with the rooms in the period. Presets up to WARM_MAX_DAYS (31) are
  warmed by the rebuild; longer presets and custom periods are computed on their first
  request and then cached until the next rebuild. At 5,000,000 rooms a first (uncached)
  request over months of rooms is expected to take longer than 300 ms; the upgrade path is a
  coarse per-day histogram of durations (day, group, log-bucket) to find the bucket holding
  rank k, then an exact ordered read of that bucket's rows only (index on bucket, day).
* First contact resolution needs, per resolved room, the earliest room of the same customer
  created after its resolved_at. It is computed once per room at rebuild with one window over
  the customer's events in time order (room openings and resolutions merged, newest first;
  at equal instants an opening sorts after the resolution, so a room opened exactly at
  resolved_at is not "after" it): the minimum opening time among the preceding rows. The
  window (resolved_at, resolved_at + 7 days] is then an integer comparison in microseconds.
  A chat contact without a customer yet (before the first snapshot) stands for itself.
* Survey responses are additive: SurveyDay counts them per local day, kind and score.
* Reads are cached in FigureCache (insights.queries._cached) under the run id, like every
  figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection

from chats.models import ChatContact, ChatRoom, SurveyResponse
from customers.models import Contact

from . import queries
from .comparison import comparison, previous_period
from .models import FigureCache, ServiceRoomFact, SurveyDay
from .periods import Period, buckets, resolve_granularity
from .rollup import _day, _execute, register_sqlite_functions, statistics_refresh

T_ROOM = ChatRoom._meta.db_table
T_CHATCONTACT = ChatContact._meta.db_table
T_SURVEY = SurveyResponse._meta.db_table
T_CONTACT = Contact._meta.db_table
T_FACT = ServiceRoomFact._meta.db_table
T_SURVEYDAY = SurveyDay._meta.db_table

UNASSIGNED = "Unassigned"
TOTAL = "''"  # the group expression of "all rooms": one group, no GROUP BY
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
HEADLINE_FIELDS: tuple[str, ...] = ROOM_FIELDS + SURVEY_FIELDS


# --- Rebuild ---------------------------------------------------------------------------------


def _sqlite_epoch_us(value: str | None) -> int | None:
    """Microseconds since 1970 of a UTC timestamp as Django stores it in SQLite (exact)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _epoch_us(column: str) -> str:
    if connection.vendor == "postgresql":
        # EXTRACT(EPOCH ...) is numeric (exact) on PostgreSQL 14+.
        return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"
    return f"w_us({column})"


def _register_sqlite_functions() -> None:
    if connection.vendor != "sqlite":
        return
    connection.ensure_connection()
    connection.connection.create_function("w_us", 1, _sqlite_epoch_us, deterministic=True)


def service_rollup_rooms() -> int:
    """One ServiceRoomFact per chat room, FCR included (call inside the rebuild transaction)."""
    sql = f"""
        WITH r AS (
            SELECT rm.id AS id, COALESCE(cc.customer_id, -cc.id) AS who,
                   {_day("rm.created_at")} AS day, cc.channel AS channel,
                   CASE WHEN TRIM(rm.agent) = '' THEN '{UNASSIGNED}' ELSE rm.agent END AS agent,
                   {_epoch_us("rm.created_at")} AS c_us,
                   {_epoch_us("rm.first_response_at")} AS f_us,
                   {_epoch_us("rm.resolved_at")} AS r_us,
                   rm.csat_score AS csat
            FROM {T_ROOM} rm JOIN {T_CHATCONTACT} cc ON cc.id = rm.chat_contact_id
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
        )
        INSERT INTO {T_FACT} (room_id, day, channel, agent, first_response_s, resolution_s,
                              csat, fcr)
        SELECT r.id, r.day, r.channel, r.agent,
               (r.f_us - r.c_us) / 1000000, (r.r_us - r.c_us) / 1000000, r.csat,
               CASE WHEN r.r_us IS NULL THEN NULL
                    WHEN nx.next_open IS NOT NULL
                     AND nx.next_open <= r.r_us + {FCR_WINDOW_US} THEN 0
                    ELSE 1 END
        FROM r LEFT JOIN nx ON nx.id = r.id AND nx.typ = 1
    """
    return _execute(sql)


def service_rollup_surveys() -> int:
    sql = f"""
        INSERT INTO {T_SURVEYDAY} (day, kind, score, responses)
        SELECT d.day, d.kind, d.score, COUNT(*) FROM (
            SELECT {_day("created_at")} AS day, kind, score FROM {T_SURVEY}
        ) d
        GROUP BY d.day, d.kind, d.score
    """
    return _execute(sql)


def service_rebuild() -> dict[str, int]:
    """Delete and rebuild the service rollups; call inside the rebuild transaction."""
    _register_sqlite_functions()
    register_sqlite_functions()
    for table in (T_FACT, T_SURVEYDAY):
        _execute(f"DELETE FROM {table}")
    rows = {"service_rooms": service_rollup_rooms(), "service_surveys": service_rollup_surveys()}
    statistics_refresh(T_FACT, T_SURVEYDAY)
    return rows


# --- Reads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRow:
    """The room figures of METRICS.md S over one set of rooms (all, a channel or an agent)."""

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
    previous: dict[str, Any] = field(default_factory=dict)
    change_pct: dict[str, Decimal | None] = field(default_factory=dict)


def nearest_rank(n: int, numerator: int, denominator: int) -> int:
    """The 1-based position ceil(q x n) for q = numerator / denominator, in integers."""
    return (numerator * n + denominator - 1) // denominator


def _counts(bucket: str, where: str, params: dict[str, Any]) -> dict[str, dict[Any, list[int]]]:
    """Additive room counts for all, per channel, per agent and per trend bucket in one scan.

    [rooms, resolved, rated, csat_sum, csat_4_5, fcr] per label; index serviceroomfact_day.
    """
    sql = f"""
        SELECT channel, agent, {bucket} AS b, COUNT(*), COUNT(resolution_s), COUNT(csat),
               COALESCE(SUM(csat), 0), SUM(CASE WHEN csat >= 4 THEN 1 ELSE 0 END),
               SUM(CASE WHEN fcr = 1 THEN 1 ELSE 0 END)
        FROM {T_FACT} WHERE {where} GROUP BY 1, 2, 3
    """
    found: dict[str, dict[Any, list[int]]] = {TOTAL: {}, "channel": {}, "agent": {}, "b": {}}
    for channel, agent, bucket_index, *values in queries._rows(sql, params):
        numbers = [int(v or 0) for v in values]
        for group, label in ((TOTAL, ""), ("channel", channel), ("agent", agent),
                             ("b", bucket_index)):  # fmt: skip
            into = found[group].setdefault(label, [0] * len(numbers))
            for index, number in enumerate(numbers):
                into[index] += number
    return found


def _partition(group: str) -> str:
    """The window partition over the column `g` that holds `group`'s value."""
    if group == TOTAL:
        return ""
    if connection.vendor == "postgresql" and group in ("channel", "agent"):
        # Byte order: a locale-aware text sort was most of the cost (same partitions either way).
        return 'PARTITION BY g COLLATE "C"'
    return "PARTITION BY g"


def _percentiles(
    group: str, column: str, where: str, params: dict[str, Any]
) -> dict[Any, tuple[int, int]]:
    """Per group, the nearest-rank 0.5 and 0.9 percentiles of `column` (non-null values)."""
    assert column in ("first_response_s", "resolution_s")
    partition = _partition(group)
    # Durations repeat (whole seconds): count each distinct value per group (a hash aggregate,
    # no sort of the rooms), then a running sum over the distinct values in order finds the
    # value whose run of equal durations covers rank k: cum - cnt < k <= cum.
    sql = f"""
        SELECT g, v, cum - cnt, cum, n FROM (
            SELECT g, v, cnt,
                   CAST(SUM(cnt) OVER ({partition} ORDER BY v ROWS UNBOUNDED PRECEDING)
                        AS BIGINT) AS cum,
                   CAST(SUM(cnt) OVER ({partition}) AS BIGINT) AS n
            FROM (
                SELECT {group} AS g, {column} AS v, COUNT(*) AS cnt
                FROM {T_FACT} WHERE {where} AND {column} IS NOT NULL
                GROUP BY 1, 2
            ) h
        ) x
        WHERE (cum - cnt < (n + 1) / 2 AND (n + 1) / 2 <= cum)
           OR (cum - cnt < (9 * n + 9) / 10 AND (9 * n + 9) / 10 <= cum)
    """
    found: dict[Any, list[tuple[int, int, int]]] = {}
    sizes: dict[Any, int] = {}
    for g, value, before, through, n in queries._rows(sql, params):
        found.setdefault(g, []).append((int(before), int(through), int(value)))
        sizes[g] = int(n)

    def at(g: Any, rank: int) -> int:
        return next(value for before, through, value in found[g] if before < rank <= through)

    return {
        g: (at(g, nearest_rank(n, 1, 2)), at(g, nearest_rank(n, 9, 10))) for g, n in sizes.items()
    }


def _room_rows(
    group: str,
    counts: dict[Any, list[int]],
    where: str,
    params: dict[str, Any],
    *,
    first_response: bool = True,
) -> list[list]:
    """[label, rooms, resolved, rated, csat_sum, csat_4_5, fcr, fr50, fr90, res50, res90].

    first_response=False leaves fr50 and fr90 at 0 (the trend shows resolution times only).
    """
    first = _percentiles(group, "first_response_s", where, params) if first_response else {}
    resolution = _percentiles(group, "resolution_s", where, params)
    if group == TOTAL:  # the percentile query names the single group ''
        first = {"": first.get("", (0, 0))}
        resolution = {"": resolution.get("", (0, 0))}
    return [
        [g, *values, *first.get(g, (0, 0)), *resolution.get(g, (0, 0))]
        for g, values in counts.items()
    ]


def _bucket_case(parts: Sequence[Period], params: dict[str, Any]) -> str:
    whens = []
    for index, part in enumerate(parts):
        params[f"b{index}"] = part.end.toordinal()
        whens.append(f"WHEN day <= %(b{index})s THEN {index}")
    return "CASE " + " ".join(whens) + " END"


def _service_payload(period: Period, granularity: str) -> dict[str, Any]:
    start, end = period.start.toordinal(), period.end.toordinal()
    params: dict[str, Any] = {"start": start, "end": end}
    where = "day BETWEEN %(start)s AND %(end)s"
    parts = buckets(period, granularity)
    bucket = _bucket_case(parts, params)
    counts = _counts(bucket, where, params)
    total = _room_rows(TOTAL, counts[TOTAL], where, params)
    channels = _room_rows("channel", counts["channel"], where, params)
    agents = _room_rows("agent", counts["agent"], where, params)
    trend_rows = {
        row[0]: row for row in _room_rows(bucket, counts["b"], where, params, first_response=False)
    }
    trend = [
        [part.start.isoformat(), part.end.isoformat(), *(
            [trend_rows[i][1], trend_rows[i][9]] if i in trend_rows else [0, 0]
        )]
        for i, part in enumerate(parts)
    ]  # fmt: skip
    surveys = queries._rows(
        f"""
        SELECT kind,
               COALESCE(SUM(responses), 0),
               COALESCE(SUM(CASE WHEN score >= 9 THEN responses ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN score <= 6 THEN responses ELSE 0 END), 0),
               COALESCE(SUM(score * responses), 0)
        FROM {T_SURVEYDAY} WHERE day BETWEEN %(start)s AND %(end)s GROUP BY kind
        """,
        {"start": start, "end": end},
    )
    return {
        "total": total[0] if total else ["", *([0] * 10)],
        "channels": channels,
        "agents": agents,
        "trend": trend,
        "surveys": {kind: [int(v) for v in values] for kind, *values in surveys},
    }


def _row(values: Sequence[Any]) -> ServiceRow:
    label, rooms, resolved, rated, csat_sum, csat_high, fcr, fr50, fr90, res50, res90 = values
    return ServiceRow(
        label=str(label),
        rooms=rooms,
        resolved_rooms=resolved,
        resolution_pct=queries._div(resolved, rooms, scale=100),
        median_first_response_s=fr50,
        p90_first_response_s=fr90,
        median_resolution_s=res50,
        p90_resolution_s=res90,
        rated_rooms=rated,
        csat_avg=queries._div(csat_sum, rated),
        csat_pct=queries._div(csat_high, rated, scale=100),
        fcr_pct=queries._div(fcr, resolved, scale=100),
    )


def _sorted(rows: Sequence[Sequence[Any]]) -> list[ServiceRow]:
    # Rooms desc, then the label in code-point order (METRICS.md section 4).
    return [_row(values) for values in sorted(rows, key=lambda r: (-r[1], str(r[0])))]


def _figures(period: Period, granularity: str) -> ServiceFigures:
    data = queries._cached(
        "service",
        (period.start, period.end, granularity),
        lambda: _service_payload(period, granularity),
    )
    total = _row(data["total"])
    nps_n, promoters, detractors, _nps_sum = data["surveys"].get("nps", [0, 0, 0, 0])
    ces_n, _x, _y, ces_sum = data["surveys"].get("ces", [0, 0, 0, 0])
    room_figures = {name: getattr(total, name) for name in HEADLINE_FIELDS if hasattr(total, name)}
    return ServiceFigures(
        **room_figures,
        nps_responses=nps_n,
        nps=queries._div(promoters - detractors, nps_n, scale=100),
        nps_promoters=promoters,
        nps_passives=nps_n - promoters - detractors,
        nps_detractors=detractors,
        ces_responses=ces_n,
        ces_avg=queries._div(ces_sum, ces_n),
        by_channel=_sorted(data["channels"]),
        by_agent=_sorted(data["agents"]),
        trend=[ServiceBucket(date.fromisoformat(s), date.fromisoformat(e), n, med)
               for s, e, n, med in data["trend"]],
    )  # fmt: skip


def service_figures(*, period: Period, granularity: str = "auto") -> ServiceFigures:
    """METRICS.md S over rooms and survey responses created in the local-date period P.

    Durations are whole seconds; percentages and averages Decimal to 0.01 (half-up); headline
    figures carry `previous` (the same figures for P', METRICS.md section 1) and `change_pct`.
    """
    # Validates before touching the cache; "auto" and what it resolves to (the API asks
    # with the resolved one) must share one cache entry, or the rebuild warms the wrong one.
    granularity = resolve_granularity(period, granularity)
    current = _figures(period, granularity)
    before = _figures(previous_period(period), granularity)
    values = {name: getattr(current, name) for name in HEADLINE_FIELDS}
    previous_values = {name: getattr(before, name) for name in HEADLINE_FIELDS}
    previous, change = comparison(values, previous_values, HEADLINE_FIELDS)
    return ServiceFigures(**{**current.__dict__, "previous": previous, "change_pct": change})


# Presets longer than this many days (last_90_days, quarters, years) are computed on their
# first request instead of in the rebuild: their cost grows with the rooms in them, and warming
# them would dominate a rebuild at millions of rooms (about 275,000 rooms a month at 1M people).
# settings.INSIGHTS_SERVICE_WARM_MAX_DAYS overrides it.
WARM_MAX_DAYS = 31


def _warm_max_days() -> int:
    return int(getattr(settings, "INSIGHTS_SERVICE_WARM_MAX_DAYS", WARM_MAX_DAYS))


def service_warm(*, run_id: int, periods: Sequence[Period]) -> int:
    """Store the service figures of `periods` up to _warm_max_days() long (and their P')
    under `run_id`; returns the cache rows written."""
    token = queries._run_override.set(run_id)
    collected: dict[str, Any] = {}
    collector_token = queries._warm_collector.set(collected)
    try:
        for period in periods:
            if period.days <= _warm_max_days():
                service_figures(period=period)
    finally:
        queries._warm_collector.reset(collector_token)
        queries._run_override.reset(token)
    existing = set(
        FigureCache.objects.filter(key__in=list(collected)).values_list("key", flat=True)
    )
    FigureCache.objects.bulk_create(
        [FigureCache(key=k, payload=v) for k, v in collected.items() if k not in existing],
        batch_size=500,
    )
    return len(collected)
