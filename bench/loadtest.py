"""Load test: gunicorn serves the API from the configured database while a rebuild runs.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.loadtest [--requests 3000]
        [--seconds 60] [--concurrency 8] [--workers 2] [--port 8765] [--no-rebuild]
        [--mix api|dashboard|both] [--as manager|superuser]

Everything stays on loopback and is bounded in requests and in time. Two phases with the
same request mix: "quiet", then "during rebuild" with `manage.py rebuild_insights --full`
running in the background. Mixes:
- api: every insights endpoint of ENDPOINTS x five presets, plus the customers list, with a
  token. Endpoints that answer 404 (not merged yet) are left out and listed as skipped.
- dashboard: the admin Customer Insights page for each preset, as a logged-in manager's
  browser loads it (session cookie; every figure is rendered into the page; static assets
  are left to the browser's cache).
- both: the two interleaved.
Requests are sent as a manager holding the insights permissions through a group (as the
Sales manager role does), or `--as superuser` (no permission queries, the issue-8 runs).
Prints requests/s, p50/p95 latency and errors per phase, and writes JSON to
bench/results/loadtest.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Insights endpoints and their extra query parameters: adding an endpoint is one line here.
ENDPOINTS: tuple[tuple[str, str], ...] = (
    ("growth", ""),
    ("demographics", ""),
    ("sales", ""),
    ("lost-reasons", ""),
    ("top-products", ""),
    ("rfm", ""),
    ("revenue", ""),
    ("lifecycle", ""),  # issue 14
    ("retention", ""),  # issue 14
    ("service", ""),  # issue 16
    ("customer-value", ""),  # issue 15
)
PRESETS = ("last_7_days", "last_30_days", "last_90_days", "this_year", "last_year")
CUSTOMERS_PAGE = "/api/v1/customers/?page_size=50"
DASHBOARD = "/admin/insights/dashboard/"
MIXES = ("api", "dashboard", "both")

# (path with query, credentials kind: "token" | "session")
Request = tuple[str, str]


def insights_path(endpoint: str, extra: str, preset: str) -> str:
    return f"/api/v1/insights/{endpoint}/?preset={preset}" + (f"&{extra}" if extra else "")


def api_requests(endpoints: Sequence[tuple[str, str]]) -> list[Request]:
    paths = [insights_path(e, extra, p) for e, extra in endpoints for p in PRESETS]
    return [(path, "token") for path in [*paths, CUSTOMERS_PAGE]]


def dashboard_requests() -> list[Request]:
    return [(f"{DASHBOARD}?preset={preset}", "session") for preset in PRESETS]


def request_mix(mix: str, endpoints: Sequence[tuple[str, str]]) -> list[Request]:
    if mix == "api":
        return api_requests(endpoints)
    if mix == "dashboard":
        return dashboard_requests()
    api, pages = api_requests(endpoints), dashboard_requests()
    # Interleaved: a page load for every few API reads, as a team mixing both would send.
    step = max(1, len(api) // len(pages))
    mixed: list[Request] = []
    for n, page in enumerate(pages):
        mixed += [*api[n * step : (n + 1) * step], page]
    return mixed + api[len(pages) * step :]


def credentials(kind: str) -> dict[str, str]:
    """Authorization and Cookie headers of the load-test user (created once, reused)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from rest_framework.authtoken.models import Token

    from .clients import manager_session_cookie, manager_user

    if kind == "superuser":
        from django.contrib.auth import get_user_model

        user, _ = get_user_model().objects.get_or_create(
            username="loadtest", defaults={"is_superuser": True, "is_staff": True}
        )
        cookie = manager_session_cookie(user=user)
    else:
        user = manager_user()
        cookie = manager_session_cookie(user=user)
    token = Token.objects.get_or_create(user=user)[0].key
    return {"token": f"Token {token}", "session": cookie}


def available_endpoints(*, port: int, headers: dict[str, dict[str, str]]) -> tuple[list, list]:
    """ENDPOINTS split into those the server answers and those it answers 404 (not merged)."""
    found, skipped = [], []
    for endpoint, extra in ENDPOINTS:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", insights_path(endpoint, extra, PRESETS[1]), headers=headers["token"])
        status = conn.getresponse().status
        conn.close()
        (skipped if status == 404 else found).append((endpoint, extra))
    return found, [endpoint for endpoint, _ in skipped]


def run_phase(
    *,
    port: int,
    mix: list[Request],
    headers: dict[str, dict[str, str]],
    requests: int,
    seconds: float,
    concurrency: int,
) -> dict[str, float]:
    """Send up to `requests` requests over `concurrency` keep-alive connections, `seconds` max."""
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(requests))
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            started = time.perf_counter()
            try:
                path, kind = mix[n % len(mix)]
                conn.request("GET", path, headers=headers[kind])
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                status = repr(error)
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    errors.append(str(status))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "requests": len(ordered),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "seconds": round(wall, 1),
        "rps": round(len(ordered) / wall, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "max_ms": round(1000 * ordered[-1], 1),
    }


def wait_for_server(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("HEAD", "/")
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer on 127.0.0.1:{port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-rebuild", action="store_true")
    parser.add_argument("--mix", choices=MIXES, default="api")
    parser.add_argument("--as", dest="who", choices=("manager", "superuser"), default="manager")
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "loadtest.json"))
    args = parser.parse_args()

    # The session is signed here and read by gunicorn: both must use the same key.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    secrets_of = credentials(args.who)
    headers = {
        "token": {"Authorization": secrets_of["token"], "Host": "127.0.0.1"},
        "session": {"Cookie": secrets_of["session"], "Host": "127.0.0.1"},
    }
    env = {
        **os.environ,
        "DEBUG": "False",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "API_THROTTLE_RATE": "1000000/minute",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", str(args.workers),
         "--bind", f"127.0.0.1:{args.port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    results: dict[str, object] = {
        "database": os.environ.get("DATABASE_URL", "sqlite default"),
        "mix": args.mix,
        "as": args.who,
        "workers": args.workers,
        "concurrency": args.concurrency,
    }
    try:
        wait_for_server(args.port)
        endpoints, results["skipped_endpoints"] = available_endpoints(
            port=args.port, headers=headers
        )
        mix = request_mix(args.mix, endpoints)
        results["distinct_requests"] = len(mix)
        phase = dict(port=args.port, mix=mix, headers=headers, concurrency=args.concurrency)
        run_phase(**phase, requests=200, seconds=10)  # warm-up: caches, connections
        results["quiet"] = run_phase(**phase, requests=args.requests, seconds=args.seconds)
        if not args.no_rebuild:
            rebuild = subprocess.Popen(
                [sys.executable, "manage.py", "rebuild_insights", "--full", "--wait"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            time.sleep(2)  # let it take its lock and start writing
            during = run_phase(**phase, requests=args.requests, seconds=args.seconds)
            during["rebuild_still_running_at_end"] = rebuild.poll() is None
            results["during_rebuild"] = during
            results["rebuild_exit_code"] = rebuild.wait(timeout=1800)
    finally:
        server.terminate()
        server.wait(timeout=30)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print("mix", args.mix, "as", args.who, "skipped (404):", results.get("skipped_endpoints"))
    for name in ("quiet", "during_rebuild"):
        if name in results:
            print(name, json.dumps(results[name]))
    if "rebuild_exit_code" in results:
        print("rebuild exit code", results["rebuild_exit_code"])


if __name__ == "__main__":
    main()
