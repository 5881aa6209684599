"""Load test: gunicorn serves the API from the configured database while a rebuild runs.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.loadtest [--requests 3000]
        [--seconds 60] [--concurrency 8] [--workers 2] [--port 8765] [--no-rebuild]

Everything stays on loopback and is bounded in requests and in time. Two phases with the
same request mix (the eight insights endpoints x five presets, plus the customers list):
"quiet", then "during rebuild" with `manage.py rebuild_insights --full` running in the
background. Prints requests/s, p50/p95 latency and errors per phase, and writes JSON to
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS = (
    "growth", "demographics", "sales", "lost-reasons", "top-products", "rfm", "revenue",
    "customer-value", "lifecycle", "retention", "service",
)  # fmt: skip
PRESETS = ("last_7_days", "last_30_days", "last_90_days", "this_year", "last_year")


def request_paths() -> list[str]:
    paths = [f"/api/v1/insights/{e}/?preset={p}" for e in ENDPOINTS for p in PRESETS]
    return [*paths, "/api/v1/customers/?page_size=50"]


def api_token() -> str:
    """A token of a user allowed to read insights (created once, reused)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(
        username="loadtest", defaults={"is_superuser": True, "is_staff": True}
    )
    return Token.objects.get_or_create(user=user)[0].key


def run_phase(
    *, port: int, token: str, requests: int, seconds: float, concurrency: int
) -> dict[str, float]:
    """Send up to `requests` requests over `concurrency` keep-alive connections, `seconds` max."""
    paths = request_paths()
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(requests))
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Token {token}", "Host": "127.0.0.1"}
        while time.monotonic() < deadline:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            started = time.perf_counter()
            try:
                conn.request("GET", paths[n % len(paths)], headers=headers)
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
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "loadtest.json"))
    args = parser.parse_args()

    token = api_token()
    env = {
        **os.environ,
        "DEBUG": "False",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "API_THROTTLE_RATE": "1000000/minute",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", str(args.workers),
         "--bind", f"127.0.0.1:{args.port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    results: dict[str, object] = {"database": os.environ.get("DATABASE_URL", "sqlite default")}
    try:
        wait_for_server(args.port)
        phase = dict(port=args.port, token=token, concurrency=args.concurrency)
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
    for name in ("quiet", "during_rebuild"):
        if name in results:
            print(name, json.dumps(results[name]))
    if "rebuild_exit_code" in results:
        print("rebuild exit code", results["rebuild_exit_code"])


if __name__ == "__main__":
    main()
