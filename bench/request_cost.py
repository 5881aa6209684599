"""What one request costs before and around its own work, measured in-process (issue 20).

    DATABASE_URL=postgres://... .venv/bin/python -m bench.request_cost [--requests 300]
        [--customers] [--sql] [--json bench/results/request_cost.json]

Django's WSGI handler is called directly (no socket, no client library), exactly as gunicorn
calls it, with DEBUG off and the settings of bench/settings.py (the project's, plus the bare
views of bench/urls.py). Each case is warmed up, then timed over `--requests` sequential
requests; prints median / p95 microseconds and the SQL statements one request runs. Closing
each response fires request_finished, so connection handling (CONN_MAX_AGE) is included.

Cases, cheapest first: a plain Django view; a DRF view with no authentication; the same DRF
view with the API's authentication (token, then session), permission and throttle; the
cheapest cached insights endpoint; the customers list's first page; the dashboard page.
Needs a migrated database; the figures are those of the last rebuild (cold ones are computed
and cached during warm-up).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]

# (name, path with query, credentials: None | "token" | "session")
CASES: tuple[tuple[str, str, str | None], ...] = (
    ("django view, constant", "/bench/django/", None),
    ("DRF view, constant, no auth/permission/throttle", "/bench/drf-open/", None),
    ("DRF view, constant, token + permission, no throttle", "/bench/drf-unthrottled/", "token"),
    ("DRF view, constant, token + permission + throttle", "/bench/drf/", "token"),
    ("DRF view, constant, session + permission + throttle", "/bench/drf/", "session"),
    ("insights lost-reasons (cached), token", "/api/v1/insights/lost-reasons/", "token"),
    ("insights revenue (cached), token", "/api/v1/insights/revenue/", "token"),
    ("customers first page (50), token", "/api/v1/customers/?page_size=50", "token"),
    ("customers page, source filter, token", "/api/v1/customers/?source=Referral", "token"),
    ("dashboard page, session", "/admin/insights/dashboard/", "session"),
)


def customer_filter_cases() -> list[tuple[str, str, str | None]]:
    """The customers list's first page under each filter of CONTRACT.md section 4 (--customers).

    Values are taken from the data: the first customer's source, company, email and name, the
    last 30 days of first-seen dates, a high lifetime revenue, an RFM segment.
    """
    from django.utils import timezone

    from customers.models import Customer

    first = Customer.objects.select_related("company").order_by("id").first()
    if first is None:
        return []
    base = "/api/v1/customers/?page_size=50&"
    since = (timezone.localdate() - timedelta(days=30)).isoformat()
    email = first.primary_email
    filters = {
        "source": f"source={quote(first.source)}",
        "company": f"company={first.company_id or 'none'}",
        "first seen, 30 days": f"first_seen_from={since}",
        "has_deals=yes": "has_deals=yes",
        "has_deals=no": "has_deals=no",
        "revenue_min": "revenue_min=10000000",
        "RFM segment": "segment=Champions",
        "search, whole email": f"search={quote(email)}" if email else "",
        "search, part of a name": f"search={quote(first.display_name[:4])}",
    }
    return [
        (f"customers first page, {name}, token", base + query, "token")
        for name, query in filters.items()
        if query
    ]


def configure() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("DEBUG", "False")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
    os.environ.setdefault("API_THROTTLE_RATE", "1000000/minute")
    import django

    django.setup()


def caller(handler: Callable, path: str, headers: dict[str, str]) -> Callable[[], int]:
    """A function sending GET `path` through `handler` and returning the HTTP status."""
    path_info, _, query = path.partition("?")

    def call() -> int:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path_info,
            "QUERY_STRING": query,
            "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            **headers,
        }
        statuses: list[str] = []
        body = handler(environ, lambda status, _headers, exc_info=None: statuses.append(status))
        for _chunk in body:
            pass
        body.close()  # request_finished: what gunicorn triggers after each response
        return int(statuses[0][:3])

    return call


def measure(call: Callable[[], int], *, requests: int, warmup: int) -> dict[str, object]:
    from django.db import connection

    for _ in range(warmup):
        status = call()
    captured: list[str] = []

    def record(execute, sql, params, many, context):  # noqa: ANN001 - Django's wrapper protocol
        captured.append(sql)
        return execute(sql, params, many, context)

    # request_started clears connection.queries: a wrapper sees every statement of the request.
    with connection.execute_wrapper(record):
        status = call()
    samples = []
    for _ in range(requests):
        started = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return {
        "status": status,
        "queries": len(captured),
        "median_us": round(statistics.median(samples)),
        "p95_us": round(samples[int(0.95 * (len(samples) - 1))]),
        "mean_us": round(statistics.fmean(samples)),
        "sql": [" ".join(sql.split())[:160] for sql in captured],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--sql", action="store_true", help="print each case's statements")
    parser.add_argument(
        "--customers", action="store_true", help="add the customers list under each filter"
    )
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "request_cost.json"))
    args = parser.parse_args()

    configure()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    from .clients import manager_session_cookie, manager_token

    credentials = {
        None: {},
        "token": {"HTTP_AUTHORIZATION": f"Token {manager_token()}"},
        "session": {"HTTP_COOKIE": manager_session_cookie()},
    }
    handler = WSGIHandler()
    results: dict[str, object] = {
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE", 0),
        "requests_per_case": args.requests,
        "cases": {},
    }
    cases = [*CASES, *(customer_filter_cases() if args.customers else [])]
    print(f"{'case':<55} {'status':>6} {'queries':>7} {'median µs':>10} {'p95 µs':>9}")
    for name, path, who in cases:
        row = measure(
            caller(handler, path, credentials[who]), requests=args.requests, warmup=args.warmup
        )
        results["cases"][name] = row  # type: ignore[index]
        print(
            f"{name:<55} {row['status']:>6} {row['queries']:>7} "
            f"{row['median_us']:>10} {row['p95_us']:>9}"
        )
        if args.sql:
            for sql in row["sql"]:  # type: ignore[union-attr]
                print("    ", sql)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
