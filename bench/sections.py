"""Reads of this round's sections (issues 28-31) at scale: the API answer uncached and cached.

Run on PostgreSQL after `bench_insights` (or `seed_demo`) and a full `rebuild_insights`:

    DEBUG=True API_THROTTLE_RATE=1000000/minute DATABASE_URL=postgres://... \
        .venv/bin/python -m bench.sections \
        --repeats 30 --json bench/results/sections-1000000.json

Per endpoint and period: "uncached" is one request after the figure cache (FigureCache and the
Django cache) is emptied, so it includes whatever the answer computes from the rollups (for
health at an as-of date never computed, the two model fits); "cached" is `repeats` requests
after it, p50 and p95. Requests go through Django's test client as a logged-in manager, so
the times are the server's, without a network.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import timedelta
from typing import Any

import django

PRESETS_PAST = ("last_7_days", "last_30_days", "last_90_days", "this_year", "last_year")
PRESETS_NEXT = ("next_7_days", "next_30_days", "next_month", "next_quarter", "next_year")
# Endpoint, the query strings it is read with (issue 28: the Next presets; 29-31: the past).
CASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("forecast", tuple(f"preset={p}" for p in (*PRESETS_NEXT, "this_month"))),
    ("owners", tuple(f"preset={p}" for p in (*PRESETS_PAST, "this_month", "next_quarter"))),
    ("service", tuple(f"preset={p}" for p in PRESETS_PAST)),
    ("health", ("",)),
    ("customer-value", ("", "model=bgnbd")),
)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _cache_empty() -> None:
    from django.core.cache import cache

    from insights.models import FigureCache

    FigureCache.objects.all().delete()
    cache.clear()


def measure(
    *, repeats: int, as_of_days_ago: int = 45, endpoints: tuple[str, ...] = (), tries: int = 1
) -> dict[str, Any]:
    """`endpoints`: only these (default every one); `tries`: uncached requests per case, each
    after the cache is emptied (on a shared machine one try says little)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from bench.measure import machine
    from insights.periods import local_today

    user, _ = get_user_model().objects.update_or_create(
        username="bench-admin", defaults={"is_superuser": True, "is_staff": True, "is_active": True}
    )
    client = Client()
    client.force_login(user)
    # health/ at an as-of date no rebuild computed: two fits (A and A - 90) and their passes.
    # A is the period's end (METRICS.md Q), so the case names a period ending on it.
    today = local_today()
    as_of = today - timedelta(days=as_of_days_ago)
    cases = [*CASES, ("health", (f"start={as_of - timedelta(days=29)}&end={as_of}",))]
    rows: list[dict[str, Any]] = []
    for endpoint, queries in cases:
        if endpoints and endpoint not in endpoints:
            continue
        for query in queries:
            for _ in range(tries):
                _cache_empty()
                rows.append(_timed(client, endpoint, query, repeats))

    # A period no preset names, read after the figures a rebuild warms are there (the day's
    # backtest, the model's inputs): what a manager choosing custom dates waits for.
    def span(first: int, last: int) -> str:
        return f"start={today + timedelta(days=first)}&end={today + timedelta(days=last)}"

    custom = (
        ("forecast", "preset=next_30_days", (span(1, 45), span(10, 100), span(1, 200))),
        ("owners", "preset=last_30_days", (span(-120, -11), span(-300, -1))),
        ("service", "preset=last_30_days", (span(-120, -11), span(-300, -1), span(-45, -1))),
    )
    for endpoint, warm_query, queries in custom:
        if endpoints and endpoint not in endpoints:
            continue
        for query in queries:
            for _ in range(tries):
                _cache_empty()
                client.get(f"/api/v1/insights/{endpoint}/?{warm_query}", HTTP_ACCEPT_LANGUAGE="en")
                rows.append(_timed(client, endpoint, query, repeats, label="custom after warm-up"))
    return {"machine": machine(), "repeats": repeats, "rows": rows}


def _timed(client: Any, endpoint: str, query: str, repeats: int, label: str = "") -> dict:
    """One uncached request (whatever the cache holds now), then `repeats` cached ones."""
    url = f"/api/v1/insights/{endpoint}/?{query}"
    began = time.perf_counter()
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    uncached = (time.perf_counter() - began) * 1000
    row: dict[str, Any] = {"endpoint": endpoint, "query": query, "case": label}
    if response.status_code != 200:
        row["status"] = f"HTTP {response.status_code}: {response.content[:200]!r}"
        print(row)
        return row
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        times.append((time.perf_counter() - began) * 1000)
    row.update(
        uncached_ms=round(uncached, 1),
        cached_p50_ms=round(statistics.median(times), 2),
        cached_p95_ms=round(_percentile(times, 95), 2),
        load=os.getloadavg(),
    )
    print(
        f"{endpoint:15} {query:40} {label} uncached {uncached:9.1f} ms   cached p50 "
        f"{row['cached_p50_ms']:7.2f}  p95 {row['cached_p95_ms']:7.2f} ms  "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--json", dest="json_path")
    parser.add_argument("--endpoints", default="", help="comma-separated (default: every one)")
    parser.add_argument("--tries", type=int, default=1, help="uncached requests per case")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    # As a server process starts (config.wsgi): the first request of a run then measures the
    # request, not the imports; bench.first_request measures those apart.
    from config.process_warm import process_warm

    process_warm()
    result = measure(
        repeats=args.repeats,
        endpoints=tuple(e for e in args.endpoints.split(",") if e),
        tries=args.tries,
    )
    if args.json_path:
        with open(args.json_path, "w") as handle:
            json.dump(result, handle, indent=1, default=str)


if __name__ == "__main__":
    main()
