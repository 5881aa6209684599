"""What the service levels (METRICS.md §L, issue 30) add to a full rebuild: an A/B on one data set.

Run on PostgreSQL after a full rebuild (it reads the chat rooms, chat contacts, surveys,
targets and holidays; each try runs in a transaction that is rolled back, so the rollups are
left as they were):

    DEBUG=True DATABASE_URL=postgres://... .venv/bin/python -m bench.service_levels_cost \
        --tries 2 --json bench/results/service-levels-cost.json

A is the service family of a full rebuild as it is (insights.service.service_rebuild). B is
the same family without §L: the room facts without the business calendar, the targets and
the statuses (the statement before 9e45901, with the §L columns left at their defaults), the
day, week and month groups without the status counts and the business-time runs, and none of
the calendar, the answers per room's channel and agent, and the backlog. A and B alternate,
so a change of load hits both; the growth is A - B, per step and in all.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import datetime
from typing import Any

import django

# The room facts before §L (9e45901's parent), into today's table: the §L columns keep their
# defaults (NOT NULL ones written as 0).
FACTS_WITHOUT_LEVELS = """
    WITH r AS (
        SELECT rm.id AS id, COALESCE(cc.customer_id, -cc.id) AS who,
               cc.customer_id AS customer_id, {day} AS day, cc.channel AS channel,
               CASE WHEN TRIM(rm.agent) = '' THEN '{unassigned}' ELSE rm.agent END AS agent,
               {c_us} AS c_us, {f_us} AS f_us, {r_us} AS r_us, rm.csat_score AS csat
        FROM {room} rm JOIN {chatcontact} cc ON cc.id = rm.chat_contact_id
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
    INSERT INTO {fact} (room_id, customer_id, day, channel, agent, first_response_s,
                        resolution_s, csat, fcr, created_us, created_b_us, business)
    SELECT r.id, r.customer_id, r.day, r.channel, r.agent,
           (r.f_us - r.c_us) / 1000000, (r.r_us - r.c_us) / 1000000, r.csat,
           CASE WHEN r.r_us IS NULL THEN NULL
                WHEN nx.next_open IS NOT NULL AND nx.next_open <= r.r_us + {window} THEN 0
                ELSE 1 END,
           0, 0, 0
    FROM r LEFT JOIN nx ON nx.id = r.id AND nx.typ = 1
"""


def _with_levels(now: datetime) -> dict[str, float]:
    from insights import service

    timings: dict[str, float] = {}
    service.service_rebuild(now=now, timings=timings)
    return timings


def _without_levels() -> dict[str, float]:
    from unittest import mock

    from insights import service
    from insights.engine import db

    timings: dict[str, float] = {}
    began = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal began
        timings[f"service_{name}"] = round(time.perf_counter() - began, 3)
        began = time.perf_counter()

    for table in (
        service.T_FACT,
        service.T_DAYGROUP,
        service.T_WEEKGROUP,
        service.T_MONTHGROUP,
        service.T_SURVEYDAY,
    ):
        db.execute(f"DELETE FROM {table}")
    lap("calendar")
    with service.customer_index_set_aside():
        db.execute(
            FACTS_WITHOUT_LEVELS.format(
                day=db.day_sql("rm.created_at"),
                unassigned=service.UNASSIGNED,
                c_us=service.epoch_us_sql("rm.created_at"),
                f_us=service.epoch_us_sql("rm.first_response_at"),
                r_us=service.epoch_us_sql("rm.resolved_at"),
                room=service.T_ROOM,
                chatcontact=service.T_CHATCONTACT,
                fact=service.T_FACT,
                window=service.FCR_WINDOW_US,
            )
        )
    lap("room_facts")
    # The groups without the status counts (zeros) and the business-time runs (empty).
    pack = service.pack_sql
    with (
        mock.patch.object(service, "status_sums_sql", lambda: ["0"] * len(service.STATUS_COUNTS)),
        mock.patch.object(
            service,
            "pack_sql",
            lambda column, width: (
                "''::bytea" if column == "first_response_business_s" else pack(column, width)
            ),
        ),
    ):
        service.service_rollup_groups()
    lap("groups")
    service.service_rollup_surveys()
    lap("surveys")
    service.statistics_refresh(
        service.T_FACT,
        service.T_DAYGROUP,
        service.T_WEEKGROUP,
        service.T_MONTHGROUP,
        service.T_SURVEYDAY,
    )
    lap("analyze")
    return timings


def measure(*, tries: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.measure import machine

    now = timezone.now()
    runs: dict[str, list[dict[str, float]]] = {"with": [], "without": []}
    for _ in range(tries):
        for variant in ("with", "without"):
            load = os.getloadavg()
            began = time.perf_counter()
            with transaction.atomic():
                steps = _with_levels(now) if variant == "with" else _without_levels()
                steps["total"] = round(time.perf_counter() - began, 3)
                transaction.set_rollback(True)
            steps["load_before"] = load[0]
            steps["load_after"] = os.getloadavg()[0]
            runs[variant].append(steps)
            print(variant, json.dumps(steps), flush=True)
        # The rolled-back rows leave dead tuples: vacuum so the next try starts alike.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE insights_serviceroomfact")
    medians = {
        variant: {
            name: round(statistics.median(run[name] for run in rows), 3)
            for name in rows[0]
            if not name.startswith("load")
        }
        for variant, rows in runs.items()
    }
    growth = round(medians["with"]["total"] - medians["without"]["total"], 3)
    print("median seconds", json.dumps(medians), "growth", growth, flush=True)
    return {"machine": machine(), "runs": runs, "medians": medians, "growth_s": growth}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=2)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    result = measure(tries=args.tries)
    if args.json_path:
        with open(args.json_path, "w") as handle:
            json.dump(result, handle, indent=1, default=str)


if __name__ == "__main__":
    main()
